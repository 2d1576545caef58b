"""A saved run's folder on disk: written atomically, read, deleted.

Private to :mod:`segmentation.runs` (the layout is in its docstring). A run is
written in a hidden temporary folder and renamed into place in one step; it is
deleted by renaming it away first, so that no reader ever sees half a run.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import tempfile
import time
from pathlib import Path

from segmentation import reports
from segmentation.errors import NotReopenableError, RunNotFoundError, SegmentationError
from segmentation.results import PreparedData, Segmentation
from segmentation.runs import _pickles
from segmentation.runs._ids import (
    CUSTOMERS_FILE,
    MODEL_FILE,
    PREPARED_FILE,
    REPORT_FILE,
)

#: Temporary folders older than this (seconds) are leftovers of a crash.
STALE_SECONDS = 3600
TEMP_PREFIX = ".tmp-"
#: What a pickle that cannot be read raises (bad bytes, or classes since renamed).
_UNREADABLE = (pickle.UnpicklingError, EOFError, ImportError, AttributeError)


def new_temp_folder(runs_dir: Path) -> Path:
    """Remove crash leftovers, then create and return a hidden temporary folder."""
    limit = time.time() - STALE_SECONDS
    for folder in runs_dir.glob(f"{TEMP_PREFIX}*"):
        if folder.is_dir() and folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=runs_dir))


def write_run_files(
    folder: Path, prepared: PreparedData, segmentation: Segmentation
) -> None:
    """Write ``customers.csv``, ``model.pkl`` and ``prepared.pkl`` into ``folder``."""
    csv = reports.customers_csv(segmentation.customers)
    (folder / CUSTOMERS_FILE).write_text(csv, "utf-8")
    _write_pickle(folder / MODEL_FILE, segmentation)
    _write_pickle(folder / PREPARED_FILE, prepared)


def _write_pickle(path: Path, value: object) -> None:
    """Pickle ``value`` to ``path`` and flush it to disk (inside the temp folder)."""
    with path.open("wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.flush()
        os.fsync(handle.fileno())


def move_into_place(runs_dir: Path, temp: Path, base: str, metadata: dict) -> str:
    """Write ``report.json``, rename the folder to a free id (atomic); return it.

    The suffix follows the highest one in use, so an id is not reused while
    a run of the same second is still kept.

    Raises
    ------
    SegmentationError
        When ids ``base`` to ``base-9999`` are all taken.
    """
    pattern = re.compile(rf"{re.escape(base)}(?:-(\d+))?")
    used = [
        int(m.group(1) or 1)
        for p in runs_dir.iterdir()
        if (m := pattern.fullmatch(p.name))
    ]
    for n in range(max(used, default=0) + 1, 10_000):
        run_id = base if n == 1 else f"{base}-{n}"
        report = json.dumps({"id": run_id, **metadata}, indent=2, default=str)
        (temp / REPORT_FILE).write_text(report, "utf-8")
        try:
            temp.rename(runs_dir / run_id)
        except OSError:  # taken meanwhile by another process
            continue
        return run_id
    raise SegmentationError(f"no free run id for {base} in {runs_dir}")


def delete_run_folder(runs_dir: Path, run_id: str) -> bool:
    """Rename a run away, then remove it; False when it was already gone."""
    trash = runs_dir / f"{TEMP_PREFIX}deleted-{run_id}"
    try:
        (runs_dir / run_id).rename(trash)
    except OSError:
        return False
    shutil.rmtree(trash, ignore_errors=True)
    return True


def report_signature(folder: Path) -> tuple[int, int] | None:
    """Identify a saved run's files (inode, mtime); None when it is gone."""
    try:
        stat = (folder / REPORT_FILE).stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns)


def read_entry(folder: Path) -> dict | None:
    """Return the list row of the run in ``folder``; None when it is not a run.

    Keys as :meth:`segmentation.runs.RunStore.list` describes.
    """
    try:
        report = json.loads((folder / REPORT_FILE).read_text())
    except (OSError, ValueError):
        return None  # being deleted, or not a run
    return {
        "id": folder.name,
        "file": report["input"]["file"],
        "created": report["created"],
        "k": report["settings"]["k"],
        "customers": report["customers"],
        "sha256": report["input"]["sha256"],
        "source": report.get("source"),
        "anomaly_share": report["settings"]["anomaly_share"],
        "seed": report["settings"]["seed"],
        "mapping": report.get("mapping") or {},
        "reopenable": (folder / PREPARED_FILE).is_file(),
    }


def read_run(folder: Path, run_id: str) -> tuple[dict, Segmentation]:
    """Return a run's ``report.json`` and its unpickled ``model.pkl``.

    Raises
    ------
    RunNotFoundError
        When either file is missing.
    SegmentationError
        When ``model.pkl`` cannot be read or does not hold a Segmentation.
    """
    try:
        metadata = json.loads((folder / REPORT_FILE).read_text("utf-8"))
        segmentation = _read_pickle(
            folder / MODEL_FILE, run_id, "; segment the file again"
        )
    except FileNotFoundError:
        raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id) from None
    if not isinstance(segmentation, Segmentation):
        raise SegmentationError(f"run {run_id}: {MODEL_FILE} is not a run")
    return metadata, segmentation


def read_prepared(folder: Path, run_id: str) -> PreparedData:
    """Return the unpickled ``prepared.pkl`` of the run in ``folder``.

    Raises
    ------
    RunNotFoundError
        When the run has no ``report.json``.
    NotReopenableError
        The run was saved without ``prepared.pkl`` (an older version).
    SegmentationError
        When ``prepared.pkl`` cannot be read or does not hold PreparedData.
    """
    if not (folder / REPORT_FILE).is_file():
        raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
    try:
        prepared = _read_pickle(folder / PREPARED_FILE, run_id)
    except FileNotFoundError:
        raise NotReopenableError(
            f"run {run_id} was saved without its prepared data (by an older "
            "version), so the app cannot reopen it; the API still scores "
            "against it",
            run_id=run_id,
        ) from None
    if not isinstance(prepared, PreparedData):
        raise SegmentationError(
            f"run {run_id}: {PREPARED_FILE} is not prepared data", run_id=run_id
        )
    return prepared


def _read_pickle(path: Path, run_id: str, advice: str = "") -> object:
    """Unpickle ``path``; FileNotFoundError is left to the caller."""
    try:
        with path.open("rb") as handle:
            return _pickles.load(handle)
    except _UNREADABLE as err:
        raise SegmentationError(
            f"run {run_id}: {path.name} cannot be read ({err}){advice}",
            run_id=run_id,
        ) from None
