"""Server-side store of uploads, prepared data and segmentations.

Large data never goes to the browser (DESIGN section 2): the browser holds the
dataset id (the sha256 of the uploaded bytes) and small choices; everything else
lives here, on disk, in a :class:`diskcache.Cache`.

Location
    The environment variable ``SEGMENTATION_DATA_DIR``; when unset, ``data/`` at
    the project root (git-ignored). The store uses ``<dir>/store``; the background
    callback manager uses ``<dir>/jobs``.
Size
    ``size_limit`` bytes (default 2 GiB, env ``SEGMENTATION_STORE_BYTES``); after
    each write, the oldest stored entries are evicted one by one until the store
    is under its limit, never the entry just written. (diskcache's own culling
    removes ten entries at a time, which can include the newest one.)
Keys
    ``("upload", sha256)`` -> bytes; ``("mapping", sha256)`` -> the column
    mapping a user chose for that file (reused when it is uploaded again);
    ``("prepared", sha256, mapping, *read)`` -> the
    pickled :class:`segmentation.PreparedData`;
    ``("styles", sha256, mapping, anomaly_share, seed, *read)`` -> the fitted
    purchase styles (independent of k); ``("segmentation", sha256, mapping, k,
    anomaly_share, seed, *read)`` -> the pickled :class:`segmentation.Segmentation`.
    ``read`` holds how the bytes were read (:func:`read_key`: the date order and
    the duplicate policy); it is empty for the defaults, so keys written before
    these settings existed still answer.

A few recently used results are also kept in memory, so that the callbacks that
answer one k change share one :func:`segmentation.segmentation.segment` call.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import diskcache

import segmentation
from segmentation import runs, settings
from segmentation.errors import SegmentationError
from segmentation.results import PreparedData, Segmentation

if TYPE_CHECKING:
    from segmentation.models import PurchaseStyle
from segmentation.runs import RunStore, load_pickle

#: The data directory is the engine's (runs live there too): one env variable
#: and one default, defined in :mod:`segmentation.runs`.
ENV_DATA_DIR = runs.ENV_DATA_DIR
ENV_SIZE_LIMIT = "SEGMENTATION_STORE_BYTES"
DEFAULT_SIZE_LIMIT = 2 * 1024**3
EVICTION_POLICY = "least-recently-stored"
MEMORY_ITEMS = 8
SEED = settings.DEFAULT_SEED


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Return the data directory: ``explicit``, else the env variable, else default."""
    return Path(explicit) if explicit else runs.data_dir()


def content_id(data: bytes) -> str:
    """Return the dataset id of some bytes: their sha256 as 64 hex digits."""
    return hashlib.sha256(data).hexdigest()


def _mapping_key(mapping: dict[str, str] | None) -> tuple:
    return tuple(sorted((mapping or {}).items()))


def read_key(day_first: bool | None = None, drop_duplicates: bool = True) -> tuple:
    """Return the part of a store key that says how an upload was read.

    Parameters
    ----------
    day_first : bool or None, default None
        ``segmentation.prepare``'s date order: None decides from the data.
    drop_duplicates : bool, default True
        Whether exact duplicate lines are counted once.

    Returns
    -------
    tuple
        ``()`` for the defaults (the keys' shape before these settings), else
        ``(("day_first", day_first), ("drop_duplicates", drop_duplicates))``.
    """
    if day_first is None and drop_duplicates:
        return ()
    return (("day_first", day_first), ("drop_duplicates", bool(drop_duplicates)))


class _RenamingDisk(diskcache.Disk):
    """diskcache's storage, reading pickles that name classes by an older path.

    Entries written before the engine's modules moved (e.g.
    ``segmentation.pipeline.PreparedData``) unpickle through
    :func:`segmentation.runs.load_pickle`, as saved runs do.
    """

    def fetch(self, mode, filename, value, read):
        """Return a stored value; pickles go through the engine's rename table."""
        if mode != diskcache.core.MODE_PICKLE:
            return super().fetch(mode, filename, value, read)
        if value is None:
            with open(os.path.join(self._directory, filename), "rb") as reader:
                return load_pickle(reader)
        return load_pickle(io.BytesIO(value))


class Store:
    """Uploads, PreparedData and Segmentation results keyed by content hash.

    Parameters
    ----------
    directory : path-like
        Where the cache lives (created when missing).
    size_limit : int, optional
        Bound in bytes; oldest entries are evicted beyond it.
    """

    def __init__(self, directory: str | os.PathLike, size_limit: int | None = None):
        limit = size_limit or int(os.environ.get(ENV_SIZE_LIMIT, DEFAULT_SIZE_LIMIT))
        self.directory = Path(directory)
        self.size_limit = limit
        self.cache = diskcache.Cache(
            str(self.directory),
            size_limit=limit,
            eviction_policy=EVICTION_POLICY,
            cull_limit=0,
            disk=_RenamingDisk,
        )
        self._memory: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()
        self._memory_lock = threading.Lock()

    # uploads -------------------------------------------------------------------
    def put_upload(self, data: bytes, filename: str) -> str:
        """Store uploaded bytes once; return their dataset id (sha256)."""
        sha = content_id(data)
        key = ("upload", sha)
        if key not in self.cache:
            self._set(key, {"filename": filename, "data": data})
        return sha

    def get_upload(self, sha: str) -> dict:
        """Return ``{"filename", "data"}`` of an upload, or raise SegmentationError."""
        entry = self.cache.get(("upload", sha))
        if entry is None:
            raise SegmentationError(
                f"dataset {sha[:12]} is no longer on the server (evicted or never "
                "uploaded); please upload the file again"
            )
        return entry

    # column mappings chosen by users ----------------------------------------------
    def remember_mapping(self, sha: str, mapping: dict[str, str]) -> None:
        """Remember the column mapping a user chose for the file ``sha``."""
        if mapping:
            self._set(("mapping", sha), dict(mapping))

    def mapping_for(self, sha: str) -> dict[str, str] | None:
        """Return the mapping remembered for the file ``sha``, or None."""
        return self.cache.get(("mapping", sha))

    # prepared data ---------------------------------------------------------------
    def prepared(
        self,
        sha: str,
        mapping=None,
        progress=None,
        *,
        day_first: bool | None = None,
        drop_duplicates: bool = True,
    ) -> PreparedData:
        """Return the PreparedData of an upload, calling ``prepare`` only once.

        Once per (upload, mapping, ``day_first``, ``drop_duplicates``): the last
        two are passed to :func:`segmentation.prepare` (see :func:`read_key`).
        """
        read = read_key(day_first, drop_duplicates)
        key = ("prepared", sha, _mapping_key(mapping), *read)
        cached = self._remember(key) or self.cache.get(key)
        if cached is None:
            upload = self.get_upload(sha)
            cached = segmentation.prepare(
                upload["data"],
                filename=upload["filename"],
                mapping=mapping,
                day_first=day_first,
                drop_duplicates=drop_duplicates,
                progress=progress,
            )
            self._set(key, cached)
        return self._keep(key, cached)

    # purchase styles and segmentations ----------------------------------------------
    def fit_styles(
        self,
        sha: str,
        anomaly_share: float,
        mapping=None,
        seed: int = SEED,
        *,
        day_first: bool | None = None,
        drop_duplicates: bool = True,
    ) -> PurchaseStyle:
        """Fit a dataset's purchase styles once; return them (cached after).

        Styles do not depend on k, so every k of a dataset shares them.
        """
        share = round(float(anomaly_share), 4)
        read = read_key(day_first, drop_duplicates)
        key = ("styles", sha, _mapping_key(mapping), share, int(seed), *read)
        cached = self._remember(key) or self.cache.get(key)
        if cached is None:
            prepared = self.prepared(
                sha, mapping, day_first=day_first, drop_duplicates=drop_duplicates
            )
            cached = segmentation.fit_styles(prepared, anomaly_share=share, seed=seed)
            self._set(key, cached)
        return self._keep(key, cached)

    def segmentation(
        self,
        sha: str,
        k: int,
        anomaly_share: float,
        mapping=None,
        seed: int = SEED,
        *,
        day_first: bool | None = None,
        drop_duplicates: bool = True,
    ) -> Segmentation:
        """Return the Segmentation for (dataset, k, anomaly share, seed), cached."""
        share = round(float(anomaly_share), 4)
        read = {"day_first": day_first, "drop_duplicates": drop_duplicates}
        mkey = _mapping_key(mapping)
        key = ("segmentation", sha, mkey, int(k), share, int(seed), *read_key(**read))
        with self._lock:  # concurrent panel callbacks share one computation
            cached = self._remember(key) or self.cache.get(key)
            if cached is None:
                cached = segmentation.segment(
                    self.prepared(sha, mapping, **read),
                    int(k),
                    seed=seed,
                    anomaly_share=share,
                    style_model=self.fit_styles(sha, share, mapping, seed, **read),
                )
                self._set(key, cached)
            return self._keep(key, cached)

    def put_run(self, prepared: PreparedData, segmentation: Segmentation) -> dict:
        """Store a saved run's PreparedData and Segmentation (to reopen it).

        They go under the run's sha256 and resolved column mapping, so the
        panels read them without the upload's bytes. Returns the dataset store
        (``{"id", "filename", "mapping"}``) that points at them.
        """
        sha, mapping = prepared.sha256, dict(prepared.mapping)
        mkey, seed = _mapping_key(mapping), int(segmentation.seed)
        share = round(float(segmentation.anomaly_share), 4)
        self._set(("prepared", sha, mkey), prepared)
        self._set(("styles", sha, mkey, share, seed), segmentation.style_model)
        self._set(
            ("segmentation", sha, mkey, int(segmentation.k), share, seed), segmentation
        )
        return {"id": sha, "filename": prepared.source_name, "mapping": mapping}

    def _set(self, key: tuple, value) -> None:
        """Store ``value``, then evict the oldest other entries while over limit."""
        self.cache.set(key, value)
        while self.cache.volume() > self.size_limit:
            oldest = next(iter(self.cache), None)  # rowid order: oldest first
            if oldest is None or oldest == key:
                break
            self.cache.delete(oldest)

    # in-memory LRU ------------------------------------------------------------------
    def _remember(self, key: tuple):
        with self._memory_lock:
            value = self._memory.get(key)
            if value is not None:
                self._memory.move_to_end(key)
            return value

    def _keep(self, key: tuple, value):
        with self._memory_lock:
            self._memory[key] = value
            self._memory.move_to_end(key)
            while len(self._memory) > MEMORY_ITEMS:
                self._memory.popitem(last=False)
        return value


_STORE: Store | None = None
_RUNS: RunStore | None = None


def configure(directory: str | os.PathLike | None = None, size_limit=None) -> Store:
    """Create the process-wide store in ``data_dir(directory)/store``."""
    global _STORE
    _STORE = Store(data_dir(directory) / "store", size_limit=size_limit)
    return _STORE


def get_store() -> Store:
    """Return the process-wide store (configured from the environment if needed)."""
    return _STORE if _STORE is not None else configure()


def run_store() -> RunStore:
    """Return the saved runs of the store's data directory (as the API sees them)."""
    global _RUNS
    root = get_store().directory.parent
    if _RUNS is None or _RUNS.root != root:
        _RUNS = RunStore(root)
    return _RUNS
