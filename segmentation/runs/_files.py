"""A saved run's folder on disk: written atomically, read, deleted.

Private to :mod:`segmentation.runs` (the layout is in its docstring). A run is
written in a hidden temporary folder and renamed into place in one step; it is
deleted by renaming it away first, so that no reader ever sees half a run.
Files are written 0600 (a run holds customers' data).

A run folder whose ``report.json`` is missing, not JSON or not a run report, or
whose ``model.pkl`` is missing or unreadable, is *damaged* (a disk fault, or
someone's hand): it is listed as such (:func:`read_entry`) and loading it raises
:class:`DamagedRunError`; no other run is affected.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import tempfile
import time
from datetime import UTC, datetime
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
UNREADABLE = (
    pickle.UnpicklingError,
    EOFError,
    ImportError,
    AttributeError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
)
#: Mode of every file of a run.
FILE_MODE = 0o600


class DamagedRunError(SegmentationError):
    """A saved run's files are damaged: ``report.json`` or ``model.pkl`` unusable.

    ``details``: ``run_id`` and ``reason`` (e.g. "report.json is not a run
    report (no 'input')"). Made by :func:`damaged`. The API answers 409.
    """


def damaged(run_id: str, reason: str) -> DamagedRunError:
    """Return the :class:`DamagedRunError` of run ``run_id``, for ``reason``."""
    return DamagedRunError(
        f"saved run {run_id} is damaged: {reason}; it cannot be used (delete its "
        "folder, or save the run again)",
        run_id=run_id,
        reason=reason,
    )


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
    with _private_file(folder / CUSTOMERS_FILE) as handle:
        handle.write(csv.encode("utf-8"))
    _write_pickle(folder / MODEL_FILE, segmentation)
    _write_pickle(folder / PREPARED_FILE, prepared)


def _private_file(path: Path):
    """Open a new file for writing (binary), readable by its owner only (0600)."""
    return os.fdopen(
        os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE), "wb"
    )


def _write_pickle(path: Path, value: object) -> None:
    """Pickle ``value`` to ``path`` and flush it to disk (inside the temp folder)."""
    with _private_file(path) as handle:
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
        with _private_file(temp / REPORT_FILE) as handle:
            handle.write(report.encode("utf-8"))
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


def _created_of(folder: Path) -> str:
    """Return when a run was made: from its id (``YYYYmmddTHHMMSS-...``) or folder."""
    try:
        when = datetime.strptime(folder.name[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        try:
            when = datetime.fromtimestamp(folder.stat().st_mtime, UTC)
        except OSError:
            when = datetime.fromtimestamp(0, UTC)
    return when.isoformat(timespec="microseconds")


def damaged_entry(folder: Path, reason: str) -> dict:
    """Return the list row of a damaged run: its id, created, ``damaged`` reason.

    The other keys of a row are None (``mapping`` is ``{}``), ``reopenable``
    False.
    """
    return {
        "id": folder.name,
        "file": None,
        "created": _created_of(folder),
        "k": None,
        "customers": None,
        "sha256": None,
        "source": None,
        "anomaly_share": None,
        "seed": None,
        "mapping": {},
        "reopenable": False,
        "damaged": reason,
    }


def _report(folder: Path) -> dict:
    """Return a run's ``report.json`` checked to be a run report.

    Raises
    ------
    FileNotFoundError
        When the folder has no ``report.json`` (or is gone).
    DamagedRunError
        When it cannot be read, is not JSON, or lacks a field a run needs.
    """
    path = folder / REPORT_FILE
    try:
        report = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise
    except OSError as err:
        reason = f"{REPORT_FILE} cannot be read ({err.strerror or err})"
        raise damaged(folder.name, reason) from None
    except ValueError as err:  # also UnicodeDecodeError
        reason = f"{REPORT_FILE} is not valid JSON ({err})"
        raise damaged(folder.name, reason) from None
    reason = report_problem(report, REPORT_FILE)
    if reason is not None:
        raise damaged(folder.name, reason)
    return report


def report_problem(report: object, name: str) -> str | None:
    """Return why ``report`` is not a run report (``name`` starts the reason), or None.

    A run report has ``input.file``, ``input.sha256``, ``created``, ``as_of``,
    whole ``settings.k`` and ``settings.seed``, a number ``settings.anomaly_share``
    and a whole ``customers``.
    """
    try:
        checks = (
            report["input"]["file"],
            report["input"]["sha256"],
            report["created"],
            report["as_of"],
            int(report["settings"]["k"]),
            int(report["settings"]["seed"]),
            float(report["settings"]["anomaly_share"]),
            int(report["customers"]),
        )
    except KeyError as err:
        return f"{name} is not a run report (no {err})"
    except (TypeError, ValueError) as err:
        return f"{name} is not a run report ({err})"
    del checks
    return None


def read_entry(folder: Path) -> dict | None:
    """Return the list row of the run in ``folder``; None when it is gone.

    Keys as :meth:`segmentation.runs.RunStore.list` describes; a damaged run
    (:func:`damaged_entry`) has ``damaged``, the reason in words.
    """
    try:
        report = _report(folder)
    except FileNotFoundError:
        if not folder.is_dir():
            return None  # deleted meanwhile
        return damaged_entry(folder, f"{REPORT_FILE} is missing")
    except DamagedRunError as err:
        return damaged_entry(folder, err.details["reason"])
    if not (folder / MODEL_FILE).is_file():
        return {**damaged_entry(folder, f"{MODEL_FILE} is missing"), **_owner(report)}
    return {
        **listed_run(folder.name, report, (folder / PREPARED_FILE).is_file()),
        **_owner(report),
    }


def listed_run(run_id: str, report: dict, reopenable: bool) -> dict:
    """Return a sound run's row of ``RunStore.list`` from its run report.

    The one shape of a listed run, for runs in the database and in folders:
    ``id``, ``file``, ``created``, ``k``, ``customers``, ``sha256``, ``source``,
    ``anomaly_share``, ``seed``, ``mapping`` and ``reopenable`` (the prepared
    data was saved with it). The caller adds ``owner``.
    """
    return {
        "id": run_id,
        "file": report["input"]["file"],
        "created": report["created"],
        "k": report["settings"]["k"],
        "customers": report["customers"],
        "sha256": report["input"]["sha256"],
        "source": report.get("source"),
        "anomaly_share": report["settings"]["anomaly_share"],
        "seed": report["settings"]["seed"],
        "mapping": report.get("mapping") or {},
        "reopenable": reopenable,
    }


def _owner(report: dict) -> dict:
    """Return ``{"owner": name}`` for a run a user saved; ``{}`` otherwise."""
    owner = report.get("owner")
    return {"owner": owner} if owner is not None else {}


def read_run(folder: Path, run_id: str) -> tuple[dict, Segmentation]:
    """Return a run's ``report.json`` and its unpickled ``model.pkl``.

    Raises
    ------
    RunNotFoundError
        When the run's folder is gone.
    DamagedRunError
        When ``report.json`` or ``model.pkl`` is missing, unreadable, or not
        what a run holds.
    """
    try:
        metadata = _report(folder)
    except FileNotFoundError:
        if not folder.is_dir():
            raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id) from None
        raise damaged(run_id, f"{REPORT_FILE} is missing") from None
    try:
        segmentation = _read_pickle(folder / MODEL_FILE, run_id)
    except FileNotFoundError:
        if not folder.is_dir():
            raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id) from None
        raise damaged(run_id, f"{MODEL_FILE} is missing") from None
    except SegmentationError as err:
        raise damaged(run_id, err.details["reason"]) from None
    if not isinstance(segmentation, Segmentation):
        raise damaged(run_id, f"{MODEL_FILE} does not hold a segmentation")
    return metadata, segmentation


def read_prepared(folder: Path, run_id: str) -> PreparedData:
    """Return the unpickled ``prepared.pkl`` of the run in ``folder``.

    Raises
    ------
    RunNotFoundError
        When the run's folder is gone.
    DamagedRunError
        When the run has no ``report.json``.
    NotReopenableError
        The run was saved without ``prepared.pkl`` (an older version).
    SegmentationError
        When ``prepared.pkl`` cannot be read or does not hold PreparedData.
    """
    if not folder.is_dir():
        raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
    if not (folder / REPORT_FILE).is_file():
        raise damaged(run_id, f"{REPORT_FILE} is missing")
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


def _read_pickle(path: Path, run_id: str) -> object:
    """Unpickle ``path``; FileNotFoundError is left to the caller.

    Raises
    ------
    SegmentationError
        When the bytes cannot be unpickled (damaged, or saved by an
        incompatible version); ``details["reason"]`` says which file and why.
    """
    try:
        with path.open("rb") as handle:
            return _pickles.load(handle)
    except UNREADABLE as err:
        reason = f"{path.name} cannot be read ({type(err).__name__}: {err})"
        raise SegmentationError(
            f"run {run_id}: {reason}; segment the file again",
            run_id=run_id,
            reason=reason,
        ) from None
