"""Saved runs: a file-based store of segmentations that survives restarts.

The command line (``--save``) and the app save a run; the JSON API loads it to
score new customers with the run's fitted models (DESIGN section 8).

Location
    ``<data_dir>/runs/`` where :func:`data_dir` is the environment variable
    ``SEGMENTATION_DATA_DIR``, or ``data/`` under the current working directory
    when it is unset.
Layout
    ``runs/<run_id>/report.json`` (the run report of
    :func:`segmentation.outputs.run_report` plus ``id``, ``created`` and
    ``source``), ``customers.csv`` (the labelled customer CSV), ``model.pkl``
    (the pickled :class:`segmentation.pipeline.Segmentation`) and
    ``prepared.pkl`` (the pickled :class:`segmentation.pipeline.PreparedData`,
    so that the app can reopen the run's panels; runs saved before it was added
    have none and can still be scored). A run is written
    in a hidden temporary folder and renamed into place in one step, so a crash
    never leaves half a run.
Retention
    The newest ``max_runs`` runs are kept (default 50, environment variable
    ``SEGMENTATION_MAX_RUNS``); older ones are deleted on save.

``model.pkl`` and ``prepared.pkl`` are pickles: load runs only from a folder you
trust.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from segmentation import outputs, schema
from segmentation.errors import SegmentationError

if TYPE_CHECKING:
    from segmentation.pipeline import PreparedData, Segmentation

ENV_DATA_DIR = "SEGMENTATION_DATA_DIR"
ENV_MAX_RUNS = "SEGMENTATION_MAX_RUNS"
DEFAULT_MAX_RUNS = 50
#: Who saved a run.
SOURCES: tuple[str, ...] = ("cli", "app")
#: A run id: letters, digits, ``_`` and ``-`` only, so it can never leave the folder.
RUN_ID_PATTERN = re.compile(r"^[0-9A-Za-z_-]+$")
REPORT_FILE, CUSTOMERS_FILE, MODEL_FILE = "report.json", "customers.csv", "model.pkl"
PREPARED_FILE = "prepared.pkl"
#: Loaded runs kept in memory per store (a run holds its customer table).
MEMORY_RUNS = 8
#: Temporary folders older than this (seconds) are leftovers of a crash.
_STALE_SECONDS = 3600
_TEMP_PREFIX = ".tmp-"


class RunNotFoundError(SegmentationError, KeyError):
    """No saved run has this id (or the id is not a valid run id)."""


class NotReopenableError(SegmentationError):
    """A run saved without ``prepared.pkl``: it scores, but cannot be reopened."""


#: Where runs (and the app's store) live when ``SEGMENTATION_DATA_DIR`` is unset:
#: ``data/`` at the project root (git-ignored), whatever the working directory,
#: so that ``python -m segmentation ... --save`` and the app see the same runs.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def data_dir() -> Path:
    """Return ``$SEGMENTATION_DATA_DIR``, else :data:`DEFAULT_DATA_DIR`.

    Returns
    -------
    pathlib.Path
        Not created here.
    """
    return Path(os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR)


def check_run_id(run_id: object) -> str:
    """Return ``run_id`` if it is a valid run id, else raise RunNotFoundError.

    Raises
    ------
    RunNotFoundError
        For anything but a non-empty string of ``[0-9A-Za-z_-]`` (e.g. ``../x``).
    """
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise RunNotFoundError(f"{run_id!r} is not a valid run id", run_id=run_id)
    return run_id


def _max_runs(value: int | None) -> int:
    if value is None:
        text = os.environ.get(ENV_MAX_RUNS, str(DEFAULT_MAX_RUNS))
        try:
            value = int(text)
        except ValueError:
            raise SegmentationError(
                f"{ENV_MAX_RUNS} must be a whole number, got {text!r}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SegmentationError(f"max_runs must be a whole number >= 1, got {value!r}")
    return value


@dataclass
class SavedRun:
    """A run loaded from the store.

    Attributes
    ----------
    metadata : dict
        The run report (:func:`segmentation.outputs.run_report`) plus ``id``,
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
        self.max_runs = _max_runs(max_runs)
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
        self, prepared: PreparedData, segmentation: Segmentation, *, source="cli"
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
        created = datetime.now(UTC)
        base = f"{created:%Y%m%dT%H%M%S}-{prepared.sha256[:8]}-k{segmentation.k}"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._remove_stale_temps()
        temp = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=self.runs_dir))
        metadata = {
            "created": created.isoformat(timespec="microseconds"),
            "source": source,
            **outputs.run_report(prepared, segmentation),
        }
        try:
            self._write_model(temp, segmentation)
            _write_pickle(temp / PREPARED_FILE, prepared)
            run_id = self._move_into_place(temp, base, metadata)
        finally:
            shutil.rmtree(temp, ignore_errors=True)
        self._apply_retention()
        return run_id

    @staticmethod
    def _write_model(folder: Path, segmentation: Segmentation) -> None:
        csv = outputs.customers_csv(segmentation.customers)
        (folder / CUSTOMERS_FILE).write_text(csv, "utf-8")
        _write_pickle(folder / MODEL_FILE, segmentation)

    def _move_into_place(self, temp: Path, base: str, metadata: dict) -> str:
        """Rename the finished folder to a free id (a rename is atomic).

        The suffix follows the highest one in use, so an id is not reused while
        a run of the same second is still kept.
        """
        pattern = re.compile(rf"{re.escape(base)}(?:-(\d+))?")
        used = [
            int(m.group(1) or 1)
            for p in self.runs_dir.iterdir()
            if (m := pattern.fullmatch(p.name))
        ]
        for n in range(max(used, default=0) + 1, 10_000):
            run_id = base if n == 1 else f"{base}-{n}"
            report = json.dumps({"id": run_id, **metadata}, indent=2, default=str)
            (temp / REPORT_FILE).write_text(report, "utf-8")
            try:
                temp.rename(self.runs_dir / run_id)
            except OSError:  # taken meanwhile by another process
                continue
            return run_id
        raise SegmentationError(f"no free run id for {base} in {self.runs_dir}")

    def _remove_stale_temps(self) -> None:
        limit = time.time() - _STALE_SECONDS
        for folder in self.runs_dir.glob(f"{_TEMP_PREFIX}*"):
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)

    def _apply_retention(self) -> None:
        for entry in self._all_entries()[self.max_runs :]:
            self._delete(entry["id"])

    def _delete(self, run_id: str) -> None:
        """Rename away first, so that no reader ever sees half a run."""
        trash = self.runs_dir / f"{_TEMP_PREFIX}deleted-{run_id}"
        try:
            (self.runs_dir / run_id).rename(trash)
        except OSError:
            return  # already gone
        shutil.rmtree(trash, ignore_errors=True)
        with self._lock:
            self._memory.pop(run_id, None)
            self._entries.pop(run_id, None)

    # Reading -------------------------------------------------------------------------
    def _signature(self, run_id: str) -> tuple[int, int] | None:
        """Identify a saved run's files (inode, mtime); None when it is gone."""
        try:
            stat = (self.runs_dir / run_id / REPORT_FILE).stat()
        except OSError:
            return None
        return (stat.st_ino, stat.st_mtime_ns)

    def _entry(self, run_id: str) -> dict | None:
        """Return the list row of a run (cached while its files are unchanged)."""
        signature = self._signature(run_id)
        with self._lock:
            cached = self._entries.get(run_id)
        if signature is not None and cached and cached[0] == signature:
            return cached[1]
        try:
            report = json.loads((self.runs_dir / run_id / REPORT_FILE).read_text())
        except (OSError, ValueError):
            return None  # being deleted, or not a run
        entry = {
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
            "reopenable": (self.runs_dir / run_id / PREPARED_FILE).is_file(),
        }
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
            ``mapping`` (canonical column -> the file's header) and
            ``reopenable`` (the run has ``prepared.pkl``).
        """
        return self._all_entries()[: max(int(limit), 0)]

    def find(
        self, sha256: str, k: int, anomaly_share: float, seed: int, mapping: dict
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
        """
        share = round(float(anomaly_share), 4)
        for entry in self._all_entries():
            if (entry["sha256"] == sha256 and entry["k"] == int(k)
                    and entry["seed"] == int(seed)
                    and round(float(entry["anomaly_share"]), 4) == share
                    and entry["mapping"] == dict(mapping or {})):
                return entry["id"]
        return None

    def load_prepared(self, run_id: str) -> PreparedData:
        """Return the PreparedData saved with a run (to show its panels again).

        Raises
        ------
        RunNotFoundError
            For an unknown or invalid id.
        NotReopenableError
            The run was saved without ``prepared.pkl`` (an older version).
        SegmentationError
            When ``prepared.pkl`` cannot be read.
        """
        from segmentation.pipeline import PreparedData

        folder = self.runs_dir / check_run_id(run_id)
        if not (folder / REPORT_FILE).is_file():
            raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
        try:
            with (folder / PREPARED_FILE).open("rb") as handle:
                prepared = pickle.load(handle)
        except FileNotFoundError:
            raise NotReopenableError(
                f"run {run_id} was saved without its prepared data (by an older "
                "version), so the app cannot reopen it; the API still scores "
                "against it",
                run_id=run_id,
            ) from None
        except (pickle.UnpicklingError, EOFError, ImportError, AttributeError) as err:
            raise SegmentationError(
                f"run {run_id}: {PREPARED_FILE} cannot be read ({err})",
                run_id=run_id,
            ) from None
        if not isinstance(prepared, PreparedData):
            raise SegmentationError(f"run {run_id}: {PREPARED_FILE} is not prepared "
                                    "data", run_id=run_id)
        return prepared

    def latest_id(self) -> str | None:
        """Return the id of the newest run, or None when there is none."""
        entries = self._all_entries()
        return entries[0]["id"] if entries else None

    def load(self, run_id: str) -> SavedRun:
        """Return a saved run with its fitted models (cached in memory by id).

        Raises
        ------
        RunNotFoundError
            For an unknown or invalid id.
        SegmentationError
            When ``model.pkl`` cannot be read (e.g. saved by an incompatible
            version of the library); re-run the segmentation then.
        """
        folder = self.runs_dir / check_run_id(run_id)
        signature = self._signature(run_id)
        if signature is None:
            with self._lock:
                self._memory.pop(run_id, None)
            raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
        with self._lock:
            cached = self._memory.get(run_id)
            if cached and cached[0] == signature:
                self._memory.move_to_end(run_id)
                return cached[1]
        saved = self._read(folder, run_id)
        with self._lock:
            self._memory[run_id] = (signature, saved)
            self._memory.move_to_end(run_id)
            while len(self._memory) > MEMORY_RUNS:
                self._memory.popitem(last=False)
        return saved

    def _read(self, folder: Path, run_id: str) -> SavedRun:
        from segmentation.pipeline import Segmentation

        try:
            metadata = json.loads((folder / REPORT_FILE).read_text("utf-8"))
            with (folder / MODEL_FILE).open("rb") as handle:
                segmentation = pickle.load(handle)
        except FileNotFoundError:
            raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id) from None
        except (pickle.UnpicklingError, EOFError, ImportError, AttributeError) as err:
            raise SegmentationError(
                f"run {run_id}: {MODEL_FILE} cannot be read ({err}); "
                "segment the file again",
                run_id=run_id,
            ) from None
        if not isinstance(segmentation, Segmentation):
            raise SegmentationError(f"run {run_id}: {MODEL_FILE} is not a run")
        return SavedRun(metadata=metadata, segmentation=segmentation)

    def summary(self, run_id: str) -> dict:
        """Return a run's value clusters and value × style cells, JSON-ready.

        Returns
        -------
        dict
            ``run_id``, ``file``, ``created``, ``as_of``, ``k``, ``customers``;
            ``value_clusters``: one dict per value cluster (value_cluster,
            value_tier, persona, description, action, customers, revenue_share
            0..1, median_recency_days, median_frequency, median_monetary);
            ``grid``: one dict per non-empty cell of
            :func:`segmentation.outputs.grid_summary` plus its cluster's persona.

        Raises
        ------
        RunNotFoundError
            For an unknown or invalid id.
        """
        saved = self.load(run_id)
        seg, meta = saved.segmentation, saved.metadata
        return {
            "run_id": run_id,
            "file": meta["input"]["file"],
            "created": meta["created"],
            "as_of": meta["as_of"],
            "k": seg.k,
            "customers": len(seg.customers),
            "value_clusters": _records(_cluster_table(seg)),
            "grid": _records(_grid_table(seg)),
        }


def _write_pickle(path: Path, value: object) -> None:
    """Pickle ``value`` to ``path`` and flush it to disk (inside the temp folder)."""
    with path.open("wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.flush()
        os.fsync(handle.fileno())


def _persona_names(seg: Segmentation) -> pd.DataFrame:
    """persona, description, action per value_cluster (where the table has them)."""
    personas = seg.personas.loc[:, ~seg.personas.columns.duplicated()]
    wanted = [c for c in ("persona", "description", "action") if c in personas]
    return personas[wanted].rename_axis(schema.VALUE_CLUSTER)


def _cluster_table(seg: Segmentation) -> pd.DataFrame:
    customers = seg.customers
    total = customers[schema.MONETARY].sum()
    table = customers.groupby(schema.VALUE_CLUSTER).agg(
        value_tier=(schema.VALUE_TIER, "first"),
        customers=(schema.CUSTOMER_ID, "size"),
        revenue=(schema.MONETARY, "sum"),
        median_recency_days=(schema.RECENCY_DAYS, "median"),
        median_frequency=(schema.FREQUENCY, "median"),
        median_monetary=(schema.MONETARY, "median"),
    )
    table = table.assign(revenue_share=table["revenue"] / total if total else 0.0)
    table = table.drop(columns="revenue").join(_persona_names(seg))
    return table.reset_index()


def _grid_table(seg: Segmentation) -> pd.DataFrame:
    grid = outputs.grid_summary(seg.customers)
    persona = _persona_names(seg)[["persona"]].reset_index()
    return grid.merge(persona, on=schema.VALUE_CLUSTER, how="left")


def _plain(value: object) -> object:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and not math.isfinite(value):  # not JSON
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [
        {key: _plain(value) for key, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
