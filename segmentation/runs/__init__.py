"""Saved runs: a database of segmentations that survives restarts.

The command line (``--save``) and the app save a run; the JSON API loads it to
score new customers with the run's fitted models (DESIGN sections 8 and 11).

Database
    ``DATABASE_URL`` when it is set (PostgreSQL, ``postgresql+psycopg://...``;
    a plain ``postgresql://`` URL gets the psycopg 3 driver), else the SQLite
    file ``<data_dir>/segmentation.db`` (created 0600), where :func:`data_dir` is
    the environment variable ``SEGMENTATION_DATA_DIR``, or when it is unset
    ``data/`` at the project root (under the working directory for an installed
    package). The tables (:mod:`segmentation.runs.tables`: ``runs``,
    ``customer_segments``, ``run_models``, ``folder_imports``) are made and
    upgraded by Alembic migrations (``segmentation/runs/migrations``) when a
    store first opens; no ``alembic.ini`` is needed.
For BI tools
    ``customer_segments`` holds one row per customer per run (``run_id``,
    ``customer_id``, every column of the labelled customer CSV, typed), so
    Tableau or Power BI read a run's customers with
    ``SELECT * FROM customer_segments WHERE run_id = ...``.
A save
    is one transaction: the run's row, its models and its customers are all
    kept, or none. Saves hold a write lock (SQLite ``BEGIN IMMEDIATE``,
    PostgreSQL an advisory lock), so :meth:`RunStore.save_once` of two
    processes at once saves one run.
Runs of earlier versions
    were folders ``<data_dir>/runs/<run_id>/`` (``report.json``, ``model.pkl``,
    ``prepared.pkl``, ``customers.csv``). Each is imported once, under its own
    id, the first time a store opens the database (the folders are left in
    place); a damaged folder is imported as a damaged run.
Damage
    A run whose stored report is not a run report, whose model is missing, or
    that was imported from a damaged folder, is listed with ``damaged`` (the
    reason) and raises :class:`DamagedRunError` when loaded; finding, saving
    and scoring the newest run pass it by. A model whose bytes are found not to
    be a whole pickle when loaded is recorded as damage in its run's row
    (``status`` "damaged"); one naming a class this engine lacks is damaged for
    this process only (another version may read it).
Retention
    The newest ``max_runs`` runs are kept (default 50, environment variable
    ``SEGMENTATION_MAX_RUNS``); older ones are deleted on save.

The database is a trusted store: models (``run_models``) are pickles, and a
pickle runs code when it is loaded, so whoever can write the database can run
code in the app. skops (a format that loads only listed types) was tried: it
stores the scikit-learn estimators, but not the pandas tables our models hold
(``ValueTiers.profile_``, ``PurchaseStyle``'s bands and thresholds), so the
models cannot be stored in it without changing them. Give the database's write
access to the app only.

Files: ``_store`` (:class:`RunStore`), ``tables`` (the tables), ``_database``
(which database, engine, migrations, write lock), ``_rows`` (customer rows),
``_folders`` (importing old folders), ``_files`` (reading one old folder),
``_ids`` (names, ids, the data folder), ``_pickles`` (reading pickles saved by
older layouts of the engine).
"""

from __future__ import annotations

from pathlib import Path

from segmentation.errors import NotReopenableError, RunNotFoundError
from segmentation.runs._database import (
    ENV_DATABASE_URL,
    SQLITE_FILE,
    database_url,
    engine_for,
)
from segmentation.runs._files import DamagedRunError
from segmentation.runs._ids import (
    DEFAULT_DATA_DIR,
    ENV_DATA_DIR,
    ENV_MAX_RUNS,
    PREPARED_FILE,
    data_dir,
)
from segmentation.runs._pickles import load as load_pickle
from segmentation.runs._store import (
    RunStore,
    SavedRun,
    ShareNotFoundError,
    ShareRevokedError,
)

__all__ = [
    "DEFAULT_DATA_DIR",
    "ENV_DATABASE_URL",
    "ENV_DATA_DIR",
    "ENV_MAX_RUNS",
    "PREPARED_FILE",
    "SQLITE_FILE",
    "DamagedRunError",
    "NotReopenableError",
    "RunNotFoundError",
    "RunStore",
    "SavedRun",
    "ShareNotFoundError",
    "ShareRevokedError",
    "data_dir",
    "database_engine",
    "load_pickle",
]


def database_engine(root=None, url: str | None = None):
    """Return this process's engine of the run database, migrated to the newest.

    The same database and migrations as :class:`RunStore` (without importing old
    run folders): other tables of the product that live in it (the accounts,
    ``app.accounts``) open it here.

    Parameters
    ----------
    root : path-like, optional
        The data folder; default :func:`data_dir` (the SQLite file goes there).
    url : str, optional
        A SQLAlchemy URL; default ``$DATABASE_URL``, else SQLite in ``root``.

    Returns
    -------
    sqlalchemy.Engine

    Raises
    ------
    SegmentationError
        A URL that is not SQLite or PostgreSQL.
    sqlalchemy.exc.OperationalError
        When the database cannot be reached or written.
    """
    folder = Path(root) if root is not None else data_dir()
    return engine_for(database_url(folder, url))
