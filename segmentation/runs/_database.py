"""The run database: which one, its engine, its migrations, its write lock.

Private to :mod:`segmentation.runs`. ``DATABASE_URL`` names a database
(PostgreSQL: ``postgresql+psycopg://user:password@host/name``; a plain
``postgresql://`` or ``postgres://`` URL is read with the psycopg 3 driver);
without it, runs go to the SQLite file ``<data_dir>/segmentation.db``, created
0600.

Writes that must not interleave (a save's look-up then insert, retention, a
folder import, a migration) run in :func:`write_transaction`: SQLite's
``BEGIN IMMEDIATE`` (one writer at a time, others wait up to
:data:`LOCK_SECONDS`), PostgreSQL's transaction-scoped advisory lock
:data:`ADVISORY_LOCK`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from segmentation.errors import SegmentationError

ENV_DATABASE_URL = "DATABASE_URL"
#: The SQLite file in the data folder when ``DATABASE_URL`` is unset.
SQLITE_FILE = "segmentation.db"
#: How long a writer waits for another one (seconds).
LOCK_SECONDS = 120
#: Key of PostgreSQL's advisory lock of run writes (any fixed 64-bit number).
ADVISORY_LOCK = 0x5EC_0001
MIGRATIONS = Path(__file__).with_name("migrations")
#: Mode of the SQLite file (a run holds customers' data).
FILE_MODE = 0o600

_ENGINES: dict[tuple[str, int], Engine] = {}
_UPGRADED: set[tuple[str, int]] = set()
_GUARD = threading.Lock()


def database_url(root: Path, url: str | None = None) -> str:
    """Return the database URL: ``url``, ``$DATABASE_URL``, or SQLite in ``root``.

    Parameters
    ----------
    root : pathlib.Path
        The data folder (the SQLite file ``segmentation.db`` goes there).
    url : str, optional
        A SQLAlchemy URL; ``postgres://`` and ``postgresql://`` are given the
        psycopg 3 driver (``postgresql+psycopg://``).

    Raises
    ------
    SegmentationError
        For a URL SQLAlchemy cannot parse, or a database other than SQLite and
        PostgreSQL.
    """
    text_url = url or os.environ.get(ENV_DATABASE_URL) or ""
    if not text_url:
        return f"sqlite:///{Path(root) / SQLITE_FILE}"
    for plain in ("postgres://", "postgresql://"):
        if text_url.startswith(plain):
            text_url = "postgresql+psycopg://" + text_url[len(plain) :]
    try:
        parsed = make_url(text_url)
    except Exception as err:  # sqlalchemy.exc.ArgumentError
        raise SegmentationError(
            f"{ENV_DATABASE_URL} is not a database URL ({err})"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise SegmentationError(
            f"{ENV_DATABASE_URL} must name SQLite or PostgreSQL, got "
            f"{parsed.get_backend_name()!r}"
        )
    return text_url


def engine_for(url: str) -> Engine:
    """Return this process's engine of ``url``, its tables upgraded to the newest.

    One engine per URL and process (a forked worker makes its own, as pooled
    connections must not cross a fork). The Alembic migrations run on the first
    call of each process (:func:`upgrade`).
    """
    key = (url, os.getpid())
    with _GUARD:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = _make_engine(url)
        if key not in _UPGRADED:
            upgrade(engine)
            _UPGRADED.add(key)
    return engine


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
        _use_wal(path)
    engine = create_engine(url, connect_args={"timeout": LOCK_SECONDS})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # SQLAlchemy emits BEGIN itself (below), so that a write can say IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {LOCK_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        write = connection.get_execution_options().get("run_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _use_wal(path: Path) -> None:
    """Put the SQLite file ``path`` in write-ahead-log mode (readers never wait).

    The mode is kept in the file, so this is done once per process, before any
    pooled connection. Switching needs the file to itself, and SQLite answers
    "database is locked" at once (without its busy timeout) while another
    process holds it, for instance when two processes open a new file together
    and one migrates it: so this tries again until :data:`LOCK_SECONDS`.

    Raises
    ------
    sqlalchemy.exc.DBAPIError
        SQLite's error in SQLAlchemy's class of it (``OperationalError`` when
        the file stays locked for :data:`LOCK_SECONDS` or cannot be written,
        ``DatabaseError`` for a file that is not a database), as the engine's
        connections raise it.
    """
    deadline = time.monotonic() + LOCK_SECONDS
    connection = sqlite3.connect(path, timeout=LOCK_SECONDS, isolation_level=None)
    try:
        while True:
            try:
                if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    connection.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.Error as err:
                locked = "locked" in str(err) or "busy" in str(err)
                if not locked or time.monotonic() > deadline:
                    # as the engine's own connections raise it (same class)
                    raise DBAPIError.instance(
                        "PRAGMA journal_mode = WAL", None, err, sqlite3.Error
                    ) from err
                time.sleep(0.05)
    finally:
        connection.close()


@contextmanager
def write_transaction(engine: Engine):
    """Yield a connection in a transaction that holds the run-write lock.

    Commits on success, rolls back on an error. Other writers wait (up to
    :data:`LOCK_SECONDS` on SQLite; PostgreSQL waits for the lock's holder to
    commit); readers never wait.
    """
    with engine.connect() as connection:
        connection = connection.execution_options(run_write=True)
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK}
                )
            yield connection


def alembic_config(connection: Connection) -> Config:
    """Return the Alembic configuration of the run tables, made in code (no ini)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Upgrade the run tables to the newest migration (``alembic upgrade head``).

    Runs under the write lock, so two processes starting at once migrate once.
    """
    with write_transaction(engine) as connection:
        command.upgrade(alembic_config(connection), "head")
