"""Look inside a RunStore's database, damage it as a person or a fault would.

And :func:`backend`, the fixture that runs a test on SQLite and, when
``SEGMENTATION_TEST_POSTGRES_URL`` (or a PostgreSQL ``DATABASE_URL``) names a
server, on PostgreSQL too, each test in a schema of its own (dropped after).
``.ci/run`` starts Debian's postgresql on loopback and sets the variable.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, select, text, update

from segmentation.runs import _database
from segmentation.runs.tables import CustomerSegment, Run, RunModel

POSTGRES_URL = os.environ.get("SEGMENTATION_TEST_POSTGRES_URL") or (
    os.environ.get("DATABASE_URL", "")
    if os.environ.get("DATABASE_URL", "").startswith("postgres")
    else ""
)


def _postgres_schema_url(name: str) -> str:
    """Return the test server's URL with ``search_path`` set to schema ``name``."""
    url = _database.database_url(Path("."), POSTGRES_URL)
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path, monkeypatch):
    """Return the database URL of one backend, empty, for this test only.

    Also sets ``DATABASE_URL`` to it (the command line's RunStore() reads it).
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'segmentation.db'}"
        monkeypatch.setenv("DATABASE_URL", url)
        yield url
        return
    if not POSTGRES_URL:
        pytest.skip(
            "no PostgreSQL server: set SEGMENTATION_TEST_POSTGRES_URL "
            "(.ci/run starts one on loopback)"
        )
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_database.database_url(Path("."), POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    url = _postgres_schema_url(name)
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        yield url
    finally:
        for key in [k for k in _database._ENGINES if k[0] == url]:
            _database._ENGINES.pop(key).dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def count(store, table, run_id=None) -> int:
    """Return the rows of ``table`` (of one run when ``run_id`` is given)."""
    query = select(func.count()).select_from(table)
    if run_id is not None:
        query = query.where(table.run_id == run_id)
    with store.engine.connect() as connection:
        return connection.execute(query).scalar_one()


def run_ids(store, table=Run) -> list[str]:
    """Return the distinct run ids of ``table``, sorted."""
    with store.engine.connect() as connection:
        return sorted(connection.execute(select(table.run_id).distinct()).scalars())


def set_report(store, run_id: str, report) -> None:
    """Overwrite a run's stored report (e.g. ``{}``)."""
    with store.engine.begin() as connection:
        connection.execute(
            update(Run).where(Run.run_id == run_id).values(report=report)
        )


def set_model(store, run_id: str, part: str, data: bytes) -> None:
    """Overwrite a run's stored models ("segmentation") or prepared data."""
    with store.engine.begin() as connection:
        connection.execute(
            update(RunModel)
            .where(RunModel.run_id == run_id, RunModel.part == part)
            .values(data=data)
        )


def drop_model(store, run_id: str, part: str) -> None:
    """Delete a run's stored models ("segmentation") or prepared data."""
    with store.engine.begin() as connection:
        connection.execute(
            delete(RunModel).where(RunModel.run_id == run_id, RunModel.part == part)
        )


def drop_run(store, run_id: str) -> None:
    """Delete a run and everything of it (as another process's retention would)."""
    with store.engine.begin() as connection:
        for table in (CustomerSegment, RunModel, Run):
            connection.execute(delete(table).where(table.run_id == run_id))
