"""The saved-run store: :class:`RunStore` (layout in :mod:`segmentation.runs`)."""

from __future__ import annotations

import os
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock

from segmentation import reports
from segmentation.errors import RunNotFoundError, SegmentationError
from segmentation.results import PreparedData, Segmentation
from segmentation.runs import _files as _run_files
from segmentation.runs._files import DamagedRunError
from segmentation.runs._ids import (
    MODEL_FILE,
    REPORT_FILE,
    RUN_ID_PATTERN,
    SOURCES,
    check_run_id,
    data_dir,
    parse_max_runs,
)

__all__ = ["MEMORY_RUNS", "DamagedRunError", "RunStore", "SavedRun"]

#: Loaded runs kept in memory per store (a run holds its customer table).
MEMORY_RUNS = 8
#: The lock file every save holds (in the data folder, beside ``runs/``), and how
#: long a save waits for it.
SAVE_LOCK_FILE = "runs.lock"
SAVE_LOCK_SECONDS = 120


@dataclass
class SavedRun:
    """A run loaded from the store.

    Attributes
    ----------
    metadata : dict
        The run report (:func:`segmentation.reports.run_report`) plus ``id``,
        ``created`` (ISO 8601, UTC) and ``source`` ("cli" or "app").
    segmentation : Segmentation
        The labelled customers and the fitted models.
    """

    metadata: dict
    segmentation: Segmentation

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.metadata["id"]


class RunStore:
    """Saved runs under ``<root>/runs``; see the module docstring for the layout.

    Parameters
    ----------
    root : path-like, optional
        The data folder; default :func:`data_dir`. Created on the first save.
    max_runs : int, optional
        Runs kept (newest first); default ``$SEGMENTATION_MAX_RUNS`` or 50.

    Raises
    ------
    SegmentationError
        For a ``max_runs`` (or environment value) that is not a whole number >= 1.
    """

    def __init__(self, root: str | os.PathLike | None = None, max_runs=None):
        self.root = Path(root) if root is not None else data_dir()
        self.max_runs = parse_max_runs(max_runs)
        # run id -> (signature of report.json, value): runs are immutable, but an
        # id may be deleted by retention in another process.
        self._memory: OrderedDict[str, tuple[tuple, SavedRun]] = OrderedDict()
        self._entries: dict[str, tuple[tuple, dict]] = {}
        self._lock = threading.Lock()

    @property
    def runs_dir(self) -> Path:
        """The folder holding one sub-folder per run."""
        return self.root / "runs"

    # Saving --------------------------------------------------------------------------
    def save(
        self,
        prepared: PreparedData,
        segmentation: Segmentation,
        *,
        source="cli",
        owner: str | None = None,
    ) -> str:
        """Save a run and return its id; delete runs beyond ``max_runs``.

        Parameters
        ----------
        prepared : PreparedData
            What :func:`segmentation.pipeline.prepare` returned.
        segmentation : Segmentation
            What :func:`segmentation.pipeline.segment` returned for it.
        source : {"cli", "app"}
            Who saves the run.
        owner : str, optional
            The user the run belongs to (``owner`` in its report); None for the
            local workspace.

        Returns
        -------
        str
            ``<UTC time YYYYmmddTHHMMSS>-<first 8 hex of the file's sha256>-k<k>``,
            with ``-2``, ``-3``... appended when that id already exists.

        Raises
        ------
        SegmentationError
            For an unknown ``source``.
        OSError
            When the folder cannot be written.
        """
        if source not in SOURCES:
            raise SegmentationError(f"source must be one of {SOURCES}, got {source!r}")
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        with self._save_lock():
            return self._save(prepared, segmentation, source, owner)

    def save_once(
        self,
        prepared: PreparedData,
        segmentation: Segmentation,
        *,
        source="app",
        owner: str | None = None,
    ) -> tuple[str, bool]:
        """Save a run unless one of the same data and settings is saved already.

        "The same" is :meth:`find`'s test (sha256, column mapping, k, anomaly
        share, seed) among ``owner``'s runs. The look-up and the save hold one
        file lock, so two
        processes (two app workers, or the app and the command line) that save
        the same run at once get one run.

        Parameters
        ----------
        prepared, segmentation, source, owner
            As :meth:`save`.

        Returns
        -------
        run_id : str
        created : bool
            False when an existing run's id is returned.

        Raises
        ------
        SegmentationError, OSError
            As :meth:`save`.
        """
        if source not in SOURCES:
            raise SegmentationError(f"source must be one of {SOURCES}, got {source!r}")
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        with self._save_lock():
            found = self.find(
                prepared.sha256,
                segmentation.k,
                segmentation.anomaly_share,
                segmentation.seed,
                prepared.mapping,
                owner=owner,
            )
            if found is not None:
                return found, False
            return self._save(prepared, segmentation, source, owner), True

    def _save_lock(self) -> FileLock:
        """Return the lock every save holds, across threads and processes (a file)."""
        return FileLock(
            self.root / SAVE_LOCK_FILE,
            timeout=SAVE_LOCK_SECONDS,
            mode=_run_files.FILE_MODE,
        )

    def _save(
        self, prepared: PreparedData, segmentation: Segmentation, source, owner=None
    ) -> str:
        created = datetime.now(UTC)
        base = f"{created:%Y%m%dT%H%M%S}-{prepared.sha256[:8]}-k{segmentation.k}"
        temp = _run_files.new_temp_folder(self.runs_dir)
        metadata = {
            "created": created.isoformat(timespec="microseconds"),
            "source": source,
            **({"owner": owner} if owner is not None else {}),
            **reports.run_report(prepared, segmentation),
        }
        try:
            _run_files.write_run_files(temp, prepared, segmentation)
            run_id = _run_files.move_into_place(self.runs_dir, temp, base, metadata)
        finally:
            shutil.rmtree(temp, ignore_errors=True)
        self._apply_retention()
        return run_id

    def _apply_retention(self) -> None:
        for entry in self._all_entries()[self.max_runs :]:
            if _run_files.delete_run_folder(self.runs_dir, entry["id"]):
                with self._lock:
                    self._memory.pop(entry["id"], None)
                    self._entries.pop(entry["id"], None)

    # Reading -------------------------------------------------------------------------
    def _entry(self, run_id: str) -> dict | None:
        """Return the list row of a run (cached while its files are unchanged)."""
        folder = self.runs_dir / run_id
        signature = _run_files.report_signature(folder)
        with self._lock:
            cached = self._entries.get(run_id)
        if signature is not None and cached and cached[0] == signature:
            if cached[1].get("damaged") or (folder / MODEL_FILE).is_file():
                return cached[1]
        entry = _run_files.read_entry(folder)
        if entry is not None:
            with self._lock:
                self._entries[run_id] = (signature, entry)
        return entry

    def _all_entries(self) -> list[dict]:
        if not self.runs_dir.is_dir():
            return []
        ids = [
            p.name for p in self.runs_dir.iterdir() if RUN_ID_PATTERN.fullmatch(p.name)
        ]
        entries = [e for e in map(self._entry, ids) if e is not None]
        return sorted(entries, key=lambda e: (e["created"], e["id"]), reverse=True)

    def list(self, limit: int = 20) -> list[dict]:
        """Return the newest runs first.

        Parameters
        ----------
        limit : int, default 20
            At most this many runs.

        Returns
        -------
        list of dict
            Keys ``id``, ``file``, ``created`` (ISO 8601, UTC), ``k``,
            ``customers``, ``sha256``, ``source``, ``anomaly_share``, ``seed``,
            ``mapping`` (canonical column -> the file's header),
            ``reopenable`` (the run has ``prepared.pkl``); ``owner`` (the user
            who saved it) when a user saved it. A damaged run (its
            ``report.json`` or ``model.pkl`` missing or unusable) is listed
            too, with ``damaged`` (the reason in words), its ``created`` from
            its id, and None for what its report would have said.
        """
        return self._all_entries()[: max(int(limit), 0)]

    def find(
        self,
        sha256: str,
        k: int,
        anomaly_share: float,
        seed: int,
        mapping: dict,
        owner: str | None = None,
    ) -> str | None:
        """Return the newest run of these data and settings, or None.

        Reads only the runs' ``report.json`` (cached while unchanged), so it is
        cheap enough to call before every save.

        Parameters
        ----------
        sha256 : str
            The input file's content hash (``PreparedData.sha256``).
        k, seed : int
            Value tiers and random seed (``Segmentation.k``, ``.seed``).
        anomaly_share : float
            Compared to 4 decimals, as the app's store keys it.
        mapping : dict of str to str
            The resolved column mapping (``PreparedData.mapping``).
        owner : str, optional
            Only this user's runs (None: the local workspace's).
        """
        share = round(float(anomaly_share), 4)
        for entry in self._all_entries():
            if entry.get("damaged"):
                continue
            if (
                entry["sha256"] == sha256
                and entry["k"] == int(k)
                and entry["seed"] == int(seed)
                and round(float(entry["anomaly_share"]), 4) == share
                and entry["mapping"] == dict(mapping or {})
                and entry.get("owner") == owner
            ):
                return entry["id"]
        return None

    def latest_id(self) -> str | None:
        """Return the id of the newest run that is not damaged, or None."""
        usable = (e["id"] for e in self._all_entries() if not e.get("damaged"))
        return next(usable, None)

    def entry(self, run_id: str) -> dict:
        """Return one run's list row (as :meth:`list` gives it).

        Raises
        ------
        RunNotFoundError
            For an unknown or invalid id.
        DamagedRunError
            When the run is damaged (the reason in the message).
        """
        folder = self.runs_dir / check_run_id(run_id)
        entry = self._entry(run_id) if folder.is_dir() else None
        if entry is None:
            raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
        if entry.get("damaged"):
            raise _run_files.damaged(run_id, entry["damaged"])
        return entry

    def load_prepared(self, run_id: str) -> PreparedData:
        """Return the PreparedData saved with a run (to show its panels again).

        Raises
        ------
        RunNotFoundError
            For an unknown or invalid id.
        NotReopenableError
            The run was saved without ``prepared.pkl`` (an older version).
        DamagedRunError
            When the run has no ``report.json``.
        SegmentationError
            When ``prepared.pkl`` cannot be read.
        """
        return _run_files.read_prepared(self.runs_dir / check_run_id(run_id), run_id)

    def load(self, run_id: str) -> SavedRun:
        """Return a saved run with its fitted models (cached in memory by id).

        Parameters
        ----------
        run_id : str
            A run id of :meth:`list`.

        Returns
        -------
        SavedRun
            ``metadata`` (the run's ``report.json`` as a dict) and
            ``segmentation`` (the unpickled :class:`segmentation.Segmentation`,
            whose models score new customers). Runs saved by an older layout of
            the engine are read through :func:`segmentation.runs.load_pickle`.

        Raises
        ------
        RunNotFoundError
            For an unknown or invalid id.
        DamagedRunError
            When ``report.json`` or ``model.pkl`` is missing, damaged, or cannot
            be read (e.g. saved by an incompatible version of the library);
            re-run the segmentation then.
        """
        folder = self.runs_dir / check_run_id(run_id)
        signature = _run_files.report_signature(folder)
        if signature is None:
            with self._lock:
                self._memory.pop(run_id, None)
            if folder.is_dir():
                raise _run_files.damaged(run_id, f"{REPORT_FILE} is missing")
            raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
        with self._lock:
            cached = self._memory.get(run_id)
            if cached and cached[0] == signature:
                self._memory.move_to_end(run_id)
                return cached[1]
        metadata, segmentation = _run_files.read_run(folder, run_id)
        saved = SavedRun(metadata=metadata, segmentation=segmentation)
        with self._lock:
            self._memory[run_id] = (signature, saved)
            self._memory.move_to_end(run_id)
            while len(self._memory) > MEMORY_RUNS:
                self._memory.popitem(last=False)
        return saved

    def summary(self, run_id: str) -> dict:
        """Return the JSON-ready summary of a saved run (what the API serves).

        Parameters
        ----------
        run_id : str
            A run id of :meth:`list`.

        Returns
        -------
        dict
            :func:`segmentation.reports.run_summary`: ``run_id``, ``file``,
            ``created``, ``as_of``, ``k``, ``customers``, one dict per value
            cluster (``value_clusters``) and per non-empty value × style cell
            (``grid``).

        Raises
        ------
        RunNotFoundError
            For an unknown or invalid id.
        DamagedRunError
            When the run is damaged.
        """
        saved = self.load(run_id)
        return reports.run_summary(run_id, saved.metadata, saved.segmentation)
