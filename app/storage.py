"""Server-side store of uploads, prepared data and segmentations.

Large data never goes to the browser (DESIGN section 2): the browser holds the
dataset id (the sha256 of the uploaded bytes) and small choices; everything else
lives here, on disk, in a :class:`diskcache.Cache`.

Location
    The environment variable ``SEGMENTATION_DATA_DIR``; when unset, ``data/`` at
    the project root (git-ignored). The store uses ``<dir>/store``; the background
    callback manager uses ``<dir>/jobs``. With ``REDIS_URL`` the store is in
    Redis instead, shared by every web process and worker (:mod:`app.store_redis`).
Privacy
    The folder is created ``0700`` (a looser existing folder is tightened at
    start) and every file the store and the job cache write is ``0600``:
    uploads, results and the job-signing secret are the users' and the
    server's only (:func:`make_private`, :func:`private_cache`).
Faults
    A folder that cannot be written fails the start with a message naming it
    (:func:`configure`); a write that fails later (disk full, read-only, no
    permission) raises :class:`DataFolderError` naming the path
    (:func:`write_fault` tells what is wrong with the folder).
Refused uploads
    An upload is stored only once the engine accepted it (or asks for its
    column mapping): a file refused by a limit or as unreadable never enters the
    store, so it evicts nothing (:meth:`Store.ingest`). Eviction removes the
    oldest *stored* entries; a dataset a page shows can still be evicted by
    enough newer accepted uploads, and the page then says to upload it again.
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
    anomaly_share, seed, *read, *method)`` -> the pickled
    :class:`segmentation.Segmentation` (``method`` is :func:`method_key`: empty
    for k-means, so keys written before methods existed still answer);
    ``("comparison", sha256, mapping, k, seed, *read)`` -> the
    :class:`segmentation.models.MethodComparison` of the four methods at k.
    ``("over-time", sha256, mapping, days, *read)`` -> the PreparedData with the
    lifetime models and the earlier date's features, and ``("over-time",
    sha256, mapping, days, k, anomaly_share, seed, method, *read)`` -> its
    Segmentation (``days``: ``(("compare_days", N), ("holdout_days", H))``,
    :meth:`Store.over_time`).
    ``("view", token)`` -> a link's dataset store and the browser it was made
    on; ``("seen", sha256, browser)`` -> the browser had that dataset on screen
    (:meth:`Store.mint_view`, :meth:`Store.open_view`); ``("link-secret",)``;
    ``("owner", name, workspace)`` -> the workspace holds that dataset, upload
    or job (:meth:`Store.claim`, :mod:`app.ownership`).
    ``read`` holds how the bytes were read (:func:`read_key`: the date order and
    the duplicate policy); it is empty for the defaults, so keys written before
    these settings existed still answer.

A few recently used results are also kept in memory, so that the callbacks that
answer one k change share one :func:`segmentation.segmentation.segment` call.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import io
import json
import os
import secrets
import sqlite3
import stat
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import diskcache
import filelock

import segmentation
from segmentation import runs, settings
from segmentation.errors import ColumnMappingError, SegmentationError
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


#: Modes of the data folder (and every folder the app makes in it) and its files.
FOLDER_MODE = 0o700
FILE_MODE = 0o600

#: errno -> what the user is told about a write that failed with it.
_FAULTS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the folder is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
#: SQLite's messages (no errno) -> the same words.
_SQLITE_FAULTS = {
    "database or disk is full": "the disk is full",
    "readonly database": "the folder is read-only",
    "unable to open database file": "permission denied",
    "disk i/o error": "the disk failed to write",
}


class DataFolderError(SegmentationError):
    """The data folder cannot be written: the disk is full, read-only, or locked.

    The message names the path and the cause, e.g. ``Cannot write to
    /srv/data/store: the disk is full``; ``details["path"]`` is the path.
    """


def fault_of(err: BaseException) -> str | None:
    """Return what is wrong in words when ``err`` is a failed write, else None.

    Parameters
    ----------
    err : BaseException
        An ``OSError`` (by errno) or a ``sqlite3.OperationalError`` (by message).

    Returns
    -------
    str or None
        E.g. "the disk is full", "the folder is read-only", "permission denied".
    """
    if isinstance(err, OSError):
        return _FAULTS.get(err.errno)
    if isinstance(err, sqlite3.OperationalError):
        text = str(err).lower()
        return next((w for m, w in _SQLITE_FAULTS.items() if m in text), None)
    return None


def folder_error(err: BaseException, path) -> DataFolderError | None:
    """Return a :class:`DataFolderError` naming ``path`` for a failed write, or None.

    ``err.filename`` (an ``OSError``'s own path) is named when it has one.
    """
    fault = fault_of(err)
    if fault is None:
        return None
    where = getattr(err, "filename", None) or path
    return DataFolderError(f"Cannot write to {where}: {fault}", path=str(where))


def write_fault(directory: str | os.PathLike) -> str | None:
    """Try writing a small file in ``directory``; return the fault in words, or None.

    Returns
    -------
    str or None
        ``Cannot write to <directory>: <cause>`` when the folder cannot be
        written (missing, full, read-only, no permission), None when it can.
    """
    try:
        with tempfile.TemporaryFile(dir=directory) as probe:
            probe.write(b"\0" * 4096)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as err:
        fault = fault_of(err) or (err.strerror or str(err)).lower()
        return f"Cannot write to {directory}: {fault}"
    return None


def make_private(directory: str | os.PathLike) -> Path:
    """Create ``directory`` (mode 0700), or take a looser one's group/other bits.

    Raises
    ------
    DataFolderError
        When the folder cannot be created or written (naming it and why).
    """
    path = Path(directory)
    try:
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(FOLDER_MODE)
    except OSError as err:
        raise folder_error(err, path) or DataFolderError(
            f"Cannot use the data folder {path}: {err.strerror or err}", path=str(path)
        ) from None
    fault = write_fault(path)
    if fault is not None:
        raise DataFolderError(
            f"{fault} (the data folder; set {ENV_DATA_DIR} to a writable folder)",
            path=str(path),
        )
    return path


def _chmod_files(directory: Path, pattern: str = "cache.db*") -> None:
    for path in directory.glob(pattern):
        with contextlib.suppress(OSError):
            path.chmod(FILE_MODE)


class _PrivateDisk(diskcache.Disk):
    """diskcache's storage, writing each value file 0600."""

    def store(self, value, read, key=diskcache.core.UNKNOWN):
        """Store ``value`` as diskcache does; a file written for it is made 0600."""
        size, mode, filename, db_value = super().store(value, read, key=key)
        if filename:
            os.chmod(os.path.join(self._directory, filename), FILE_MODE)
        return size, mode, filename, db_value


def private_cache(directory: str | os.PathLike, **settings) -> diskcache.Cache:
    """Return a :class:`diskcache.Cache` in a 0700 folder, its files 0600.

    Used for the background jobs' cache (results, progress and Dash's
    job-signing secret). ``settings`` go to :class:`diskcache.Cache`; the disk
    is a private one unless ``disk`` is given.

    Raises
    ------
    DataFolderError
        When the folder cannot be created or written.
    """
    path = make_private(directory)
    settings.setdefault("disk", _PrivateDisk)
    try:
        cache = diskcache.Cache(str(path), **settings)
    except (OSError, sqlite3.OperationalError) as err:
        raise folder_error(err, path) or DataFolderError(
            f"Cannot open the cache in {path}: {err}", path=str(path)
        ) from None
    _chmod_files(path)
    return cache


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


def method_key(method: str | None = None) -> tuple:
    """Return the part of a segmentation's store key that names its method.

    Parameters
    ----------
    method : str or None
        One of :data:`segmentation.settings.METHODS`; None is the default,
        k-means.

    Returns
    -------
    tuple
        ``()`` for k-means (the keys' shape before methods existed), else
        ``(("method", method),)``.

    Raises
    ------
    SegmentationError
        For a method not in :data:`segmentation.settings.METHODS` (named, with
        the choices).
    """
    method = settings.DEFAULT_METHOD if method is None else method
    if method not in settings.METHODS:
        raise SegmentationError(
            f"unknown clustering method {method!r}; choose one of "
            f"{', '.join(settings.METHODS)}"
        )
    return () if method == settings.DEFAULT_METHOD else (("method", method),)


class _RenamingDisk(_PrivateDisk):
    """diskcache's storage, reading pickles that name classes by an older path.

    Entries written before the engine's modules moved (e.g.
    ``segmentation.pipeline.PreparedData``) unpickle through
    :func:`segmentation.runs.load_pickle`, as saved runs do. Files are 0600.
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
        Where the cache lives (created 0700 when missing).
    size_limit : int, optional
        Bound in bytes; oldest entries are evicted beyond it.

    Raises
    ------
    DataFolderError
        When the folder cannot be created or written (naming it and why).
    """

    def __init__(self, directory: str | os.PathLike, size_limit: int | None = None):
        limit = size_limit or int(os.environ.get(ENV_SIZE_LIMIT, DEFAULT_SIZE_LIMIT))
        self.directory = Path(directory)
        self.size_limit = limit
        from app import store_redis

        self.cache = store_redis.shared_cache(limit)  # with REDIS_URL: in Redis
        if self.cache is None:
            self.cache = private_cache(
                self.directory,
                size_limit=limit,
                eviction_policy=EVICTION_POLICY,
                cull_limit=0,
                disk=_RenamingDisk,
            )
        self._memory: OrderedDict[tuple, object] = OrderedDict()
        self._memory_lock = threading.Lock()

    # uploads -------------------------------------------------------------------
    def put_upload(self, data: bytes, filename: str, sha: str | None = None) -> str:
        """Store uploaded bytes once; return their dataset id (sha256).

        ``sha`` is :func:`content_id` of ``data`` when the caller has it
        already (hashing 48 MB takes ~0.1 s).
        """
        sha = content_id(data) if sha is None else sha
        key = ("upload", sha)
        if key not in self.cache:
            self._set(key, {"filename": filename, "data": data})
        return sha

    def accept_upload(
        self,
        data: bytes,
        filename: str,
        progress=None,
        *,
        day_first: bool | None = None,
        drop_duplicates: bool = True,
        sha: str | None = None,
    ) -> str:
        """Prepare new bytes and store them only if the engine accepts them.

        Bytes already stored are not read again. New bytes are prepared
        first; they are stored (with their PreparedData) when that works, or
        when the engine asks for their column mapping (the form needs them).
        A file refused (a limit, an unreadable file, no customers) is never
        written, so it evicts nothing.

        ``sha`` is :func:`content_id` of ``data`` when the caller has it (the
        upload route hashes the bytes as they arrive): the bytes are then not
        hashed again, here nor by the reader.

        Returns
        -------
        str
            The dataset id (sha256).

        Raises
        ------
        SegmentationError
            From :func:`segmentation.prepare` (``ColumnMappingError`` after
            storing the bytes).
        """
        sha = content_id(data) if sha is None else sha
        if ("upload", sha) in self.cache:
            return sha
        try:
            prepared = segmentation.prepare(
                data,
                filename=filename,
                day_first=day_first,
                drop_duplicates=drop_duplicates,
                progress=progress,
                sha256=sha,
            )
        except ColumnMappingError:
            self.put_upload(data, filename, sha)
            raise
        self.put_upload(data, filename, sha)
        read = read_key(day_first, drop_duplicates)
        key = ("prepared", sha, _mapping_key(None), *read)
        self._set(key, prepared)
        self._keep(key, prepared)
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

    # links that reopen a view ------------------------------------------------------
    def _link_secret(self) -> bytes:
        """Return the store's secret for view links (made once, random)."""
        self.cache.add(("link-secret",), secrets.token_bytes(32))
        secret = self.cache.get(("link-secret",))
        if secret is None:  # evicted between the two calls: make another
            secret = secrets.token_bytes(32)
            self._set(("link-secret",), secret)
        return secret

    def mint_view(self, dataset: dict, browser: str, public: bool = False) -> str:
        """Return the link token of a dataset on one browser's screen.

        Parameters
        ----------
        dataset : dict
            The browser's dataset store (``id``, ``filename``, ``mapping``,
            read settings).
        browser : str
            The browser's id (its cookie, :mod:`app.upload_route`).
        public : bool, default False
            True for the built-in sample: its link opens in any browser.

        Returns
        -------
        str
            32 hex digits, the same for the same browser and dataset; it does
            not reveal the dataset id. The browser is also noted as one that
            had the dataset (:meth:`open_view` lets it open other links to it).
        """
        text = json.dumps([browser, dataset], sort_keys=True).encode()
        token = hmac.new(self._link_secret(), text, hashlib.sha256).hexdigest()[:32]
        if ("view", token) not in self.cache:
            self._set(
                ("view", token),
                {"dataset": dict(dataset), "browser": browser, "public": public},
            )
        if ("seen", dataset["id"], browser) not in self.cache:
            self._set(("seen", dataset["id"], browser), True)
        return token

    def open_view(self, token: str, browser: str | None, owns=None) -> dict:
        """Return the dataset store a link token stands for, for this browser.

        The link opens when the browser is the one it was made on, or one that
        had the same dataset on screen, or when it is the built-in sample's.
        ``owns`` (a callable of the dataset id), when given, decides instead
        of the browser: the link opens where the workspace holds the dataset.

        Raises
        ------
        SegmentationError
            When the token is unknown (never made, or evicted) or the browser
            never had the dataset; the message says so without naming the
            dataset.
        """
        view = self.cache.get(("view", str(token)))
        if view is None:
            raise SegmentationError(
                "The link's dataset is no longer on the server (or the link is "
                "damaged): please upload the file again."
            )
        dataset = view["dataset"]
        mine = browser is not None and (
            view["browser"] == browser or ("seen", dataset["id"], browser) in self.cache
        )
        if owns is not None:
            mine = bool(owns(dataset["id"]))
        if owns is not None and not (mine or view.get("public")):
            raise SegmentationError(
                "The link opens a dataset that is not in your workspace (another "
                "user's or another browser's): upload the file here to see it."
            )
        if not (mine or view.get("public")):
            raise SegmentationError(
                "The link opens a dataset uploaded in another browser: it opens "
                "only where that file was loaded. Upload the file here to see it."
            )
        return dict(dataset)

    # who holds what (app.ownership) -------------------------------------------------
    def claim(self, name: str, workspace: str) -> None:
        """Note that ``workspace`` holds the dataset, upload or job ``name``."""
        if ("owner", name, workspace) not in self.cache:
            self._set(("owner", name, workspace), True)

    def claimed(self, name: str, workspace: str) -> bool:
        """Whether ``workspace`` holds ``name`` (:meth:`claim`)."""
        return ("owner", name, workspace) in self.cache

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

        def compute():
            upload = self.get_upload(sha)
            return segmentation.prepare(
                upload["data"],
                filename=upload["filename"],
                mapping=mapping,
                day_first=day_first,
                drop_duplicates=drop_duplicates,
                progress=progress,
                sha256=sha,  # the key of the stored bytes: not hashed again
            )

        return self._once(key, compute)

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

        def compute():
            prepared = self.prepared(
                sha, mapping, day_first=day_first, drop_duplicates=drop_duplicates
            )
            return segmentation.fit_styles(prepared, anomaly_share=share, seed=seed)

        return self._once(key, compute)

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
        method: str | None = None,
    ) -> Segmentation:
        """Return the Segmentation of (dataset, k, anomaly share, seed, method), cached.

        ``method`` is the value tiers' clustering (one of
        ``segmentation.settings.METHODS``; None: k-means), part of the key
        (:func:`method_key`).
        """
        share = round(float(anomaly_share), 4)
        read = {"day_first": day_first, "drop_duplicates": drop_duplicates}
        mkey = _mapping_key(mapping)
        how = method_key(method)
        key = (
            "segmentation",
            sha,
            mkey,
            int(k),
            share,
            int(seed),
            *read_key(**read),
            *how,
        )

        def compute():
            return segmentation.segment(
                self.prepared(sha, mapping, **read),
                int(k),
                seed=seed,
                anomaly_share=share,
                style_model=self.fit_styles(sha, share, mapping, seed, **read),
                method=method or settings.DEFAULT_METHOD,
            )

        # concurrent callbacks and jobs share one computation
        return self._once(key, compute)

    def comparison(
        self,
        sha: str,
        k: int,
        mapping=None,
        seed: int = SEED,
        *,
        day_first: bool | None = None,
        drop_duplicates: bool = True,
        compute: bool = True,
    ):
        """Return the four methods compared at k (``segmentation.pipeline.compare``).

        Cached per (dataset, mapping, k, seed, read settings): it refits every
        method several times (seconds), so the app computes it in a background
        job and once. ``compute=False`` returns the cached comparison or None
        (never computes): the app answers from it without starting a job.

        Returns
        -------
        segmentation.models.MethodComparison or None
        """
        read = {"day_first": day_first, "drop_duplicates": drop_duplicates}
        key = ("comparison", sha, _mapping_key(mapping), int(k), int(seed))
        key = (*key, *read_key(**read))
        cached = self._remember(key) or self.cache.get(key)
        if cached is None and not compute:
            return None

        def run():
            from segmentation.pipeline import compare

            return compare(self.prepared(sha, mapping, **read), int(k), seed=seed)

        return self._once(key, run)

    # customers over time -------------------------------------------------------------
    def over_time(
        self,
        sha: str,
        k: int,
        anomaly_share: float,
        mapping=None,
        seed: int = SEED,
        *,
        compare_days: int,
        holdout_days: int | None = None,
        method: str = settings.DEFAULT_METHOD,
        day_first: bool | None = None,
        drop_duplicates: bool = True,
        compute: bool = True,
    ) -> Segmentation | None:
        """Return the Segmentation with lifetime columns and migration, cached.

        The upload is prepared again with the lifetime models
        (:class:`segmentation.lifetime.LifetimeSettings`, ``holdout_days``) and
        the features at ``as_of - compare_days`` (no k sweep: the panels'
        PreparedData has it), once per (upload, mapping, days, read settings);
        then segmented at k with the dataset's purchase styles (the same
        features, so the same tiers as the panels'). ``compute=False`` returns
        None instead of computing (a plain callback must not wait for it).
        """
        from segmentation.lifetime import LifetimeSettings

        share = round(float(anomaly_share), 4)
        read = {"day_first": day_first, "drop_duplicates": drop_duplicates}
        holdout_days = int(holdout_days) if holdout_days else None  # 0: no check
        days = (("compare_days", int(compare_days)), ("holdout_days", holdout_days))
        mkey = _mapping_key(mapping)
        key = ("over-time", sha, mkey, days, int(k), share, int(seed), str(method))
        key = (*key, *read_key(**read))
        cached = self._remember(key) or self.cache.get(key)
        if cached is not None or not compute:
            return None if cached is None else self._keep(key, cached)
        pkey = ("over-time", sha, mkey, days, *read_key(**read))

        def prepare_again():
            upload = self.get_upload(sha)
            return segmentation.prepare(
                upload["data"],
                filename=upload["filename"],
                mapping=mapping,
                diagnostics=False,
                lifetime=LifetimeSettings(holdout_days=holdout_days),
                compare_days=int(compare_days),
                sha256=sha,
                **read,
            )

        def segment():
            return segmentation.segment(
                self._once(pkey, prepare_again),
                int(k),
                seed=seed,
                anomaly_share=share,
                style_model=self.fit_styles(sha, share, mapping, seed, **read),
                method=method,
            )

        return self._once(key, segment)

    def put_run(self, prepared: PreparedData, segmentation: Segmentation) -> dict:
        """Store a saved run's PreparedData and Segmentation (to reopen it).

        They go under the run's sha256 and resolved column mapping, so the
        panels read them without the upload's bytes. Returns the dataset store
        (``{"id", "filename", "mapping", "method"}``) that points at them: a
        saved run names its method (k-means for runs saved before methods
        existed), so the page shows it as it was saved.
        """
        sha, mapping = prepared.sha256, dict(prepared.mapping)
        mkey, seed = _mapping_key(mapping), int(segmentation.seed)
        share = round(float(segmentation.anomaly_share), 4)
        method = getattr(segmentation, "method", None) or settings.DEFAULT_METHOD
        self._set(("prepared", sha, mkey), prepared)
        self._set(("styles", sha, mkey, share, seed), segmentation.style_model)
        self._set(
            (
                "segmentation",
                sha,
                mkey,
                int(segmentation.k),
                share,
                seed,
                *method_key(method),
            ),
            segmentation,
        )
        return {
            "id": sha,
            "filename": prepared.source_name,
            "mapping": mapping,
            "method": method,
        }

    def _set(self, key: tuple, value) -> None:
        """Store ``value``, then evict the oldest other entries while over limit.

        Raises
        ------
        DataFolderError
            When the write fails for want of space or permission (names the
            store's folder and the cause).
        """
        try:
            self.cache.set(key, value)
            while self.cache.volume() > self.size_limit:
                oldest = next(iter(self.cache), None)  # rowid order: oldest first
                if oldest is None or oldest == key:
                    break
                self.cache.delete(oldest)
        except (OSError, sqlite3.OperationalError) as err:
            raise folder_error(err, self.directory) or err from None

    # one computation per key ----------------------------------------------------------
    def _computing(self, key: tuple):
        """Return the lock that one computation of ``key`` holds, across processes.

        Twenty pages asking at once for a result nobody has yet (the method
        comparison at a k, a file's over-time view) each ran it in a job of its
        own: the same seconds of work twenty times over on two cores, and 9 GB
        in a 20-user load run. A computation now holds this lock (a file under
        ``<store>/locks`` named by a hash of the key; ``flock`` locks are
        released by the system if the holder dies), and whoever waited reads
        the result the first one stored. Lock files are empty and stay. With
        the store in Redis the lock is Redis's
        (:meth:`app.store_redis.RedisCache.computing`).
        """
        digest = hashlib.blake2b(repr(key).encode(), digest_size=20).hexdigest()
        shared = getattr(self.cache, "computing", None)
        if shared is not None:  # the store in Redis: a lock every machine sees
            return shared(digest)
        folder = self.directory / "locks"
        folder.mkdir(mode=0o700, exist_ok=True)
        return filelock.FileLock(folder / f"{digest}.lock", mode=0o600)

    def _once(self, key: tuple, compute):
        """Return the cached value of ``key``, else ``compute()`` it once and store it.

        While another thread or process computes the same key, this waits for
        it and returns its result instead of computing again (:meth:`_computing`).
        """
        cached = self._remember(key) or self.cache.get(key)
        if cached is None:
            with self._computing(key):
                cached = self._remember(key) or self.cache.get(key)
                if cached is None:
                    cached = compute()
                    self._set(key, cached)
        return self._keep(key, cached)

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
    """Create the process-wide store in ``data_dir(directory)/store``.

    The data folder is made private first (:func:`make_private`).

    Raises
    ------
    DataFolderError
        When the data folder cannot be created or written: the message names
        the folder and the cause (read-only, full, permission denied).
    """
    global _STORE
    root = make_private(data_dir(directory))
    _STORE = Store(root / "store", size_limit=size_limit)
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
