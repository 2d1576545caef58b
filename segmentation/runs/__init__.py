"""Saved runs: a file-based store of segmentations that survives restarts.

The command line (``--save``) and the app save a run; the JSON API loads it to
score new customers with the run's fitted models (DESIGN section 8).

Location
    ``<data_dir>/runs/`` where :func:`data_dir` is the environment variable
    ``SEGMENTATION_DATA_DIR``, or when it is unset ``data/`` at the project root
    (under the working directory for an installed package).
Layout
    ``runs/<run_id>/report.json`` (the run report of
    :func:`segmentation.reports.run_report` plus ``id``, ``created`` and
    ``source``), ``customers.csv`` (the labelled customer CSV), ``model.pkl``
    (the pickled :class:`segmentation.results.Segmentation`) and
    ``prepared.pkl`` (the pickled :class:`segmentation.results.PreparedData`,
    so that the app can reopen the run's panels; runs saved before it was added
    have none and can still be scored). A run is written
    in a hidden temporary folder and renamed into place in one step, so a crash
    never leaves half a run.
Damage
    A run whose ``report.json`` or ``model.pkl`` is missing or unusable is
    listed with ``damaged`` (the reason) and raises :class:`DamagedRunError`
    when loaded; finding, saving and scoring the newest run pass it by.
Privacy
    Run files are written 0600 (the lock file too).
Retention
    The newest ``max_runs`` runs are kept (default 50, environment variable
    ``SEGMENTATION_MAX_RUNS``); older ones are deleted on save.

``model.pkl`` and ``prepared.pkl`` are pickles: load runs only from a folder you
trust.

Files: ``_store`` (:class:`RunStore`), ``_files`` (one run's folder, written
atomically), ``_ids`` (names, ids, the data folder), ``_pickles`` (reading pickles
saved by older layouts of the engine).
"""

from __future__ import annotations

from segmentation.errors import NotReopenableError, RunNotFoundError
from segmentation.runs._files import DamagedRunError
from segmentation.runs._ids import (
    DEFAULT_DATA_DIR,
    ENV_DATA_DIR,
    ENV_MAX_RUNS,
    PREPARED_FILE,
    data_dir,
)
from segmentation.runs._pickles import load as load_pickle
from segmentation.runs._store import RunStore, SavedRun

__all__ = [
    "DEFAULT_DATA_DIR",
    "ENV_DATA_DIR",
    "ENV_MAX_RUNS",
    "PREPARED_FILE",
    "DamagedRunError",
    "NotReopenableError",
    "RunNotFoundError",
    "RunStore",
    "SavedRun",
    "data_dir",
    "load_pickle",
]
