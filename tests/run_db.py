"""Look inside a RunStore's database, and damage it as a person or a fault would."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from segmentation.runs.tables import CustomerSegment, Run, RunModel


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
