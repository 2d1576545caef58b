"""The saved-run store: :class:`RunStore` (tables: :mod:`segmentation.runs.tables`)."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import pickle
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, exists, insert, select, update
from sqlalchemy.engine import make_url

from segmentation import reports
from segmentation.errors import NotReopenableError, RunNotFoundError, SegmentationError
from segmentation.results import PreparedData, Segmentation
from segmentation.runs import _database, _folders, _pickles
from segmentation.runs._files import (
    UNREADABLE,
    DamagedRunError,
    listed_run,
    report_problem,
)
from segmentation.runs._ids import SOURCES, check_run_id, data_dir, parse_max_runs
from segmentation.runs._rows import customer_rows
from segmentation.runs.tables import (
    CustomerSegment,
    FolderImport,
    Run,
    RunModel,
    RunShare,
)

__all__ = [
    "MEMORY_RUNS",
    "DamagedRunError",
    "RunStore",
    "SavedRun",
    "ShareNotFoundError",
    "ShareRevokedError",
]

#: Loaded runs kept in memory per store (a run holds its customer table).
MEMORY_RUNS = 8
#: ``run_models.part`` of the fitted models and of the prepared data.
MODEL_PART, PREPARED_PART = "segmentation", "prepared"
#: ``runs.status``.
SAVED, DAMAGED = "saved", "damaged"
#: ``run_models.format``: a pickle (protocol 5), read through
#: :func:`segmentation.runs.load_pickle`.
PICKLE = "pickle"
#: What a stored report is called in a damaged run's reason.
STORED_REPORT = "the stored report"

#: Random bytes of a share link's token (its text is URL-safe base64, 43 chars).
SHARE_TOKEN_BYTES = 32

_IMPORTED: set[tuple[str, str, int]] = set()
_IMPORT_GUARD = threading.Lock()


@dataclass
class SavedRun:
    """A run loaded from the store.

    Attributes
    ----------
    metadata : dict
        The run report (:func:`segmentation.reports.run_report`) plus ``id``,
        ``created`` (ISO 8601, UTC) and ``source`` ("cli" or "app"), and
        ``owner`` when an account saved it.
    segmentation : Segmentation
        The labelled customers and the fitted models.
    """

    metadata: dict
    segmentation: Segmentation

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.metadata["id"]


def damaged(run_id: str, reason: str) -> DamagedRunError:
    """Return the :class:`DamagedRunError` of a stored run, for ``reason``."""
    return DamagedRunError(
        f"saved run {run_id} is damaged: {reason}; it cannot be used (save the "
        "run again)",
        run_id=run_id,
        reason=reason,
    )


def json_ready(value):
    """Return ``value`` as plain JSON: non-finite numbers None, other types text.

    PostgreSQL's JSON refuses NaN, so a report's NaN is stored as null.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json_ready(json.loads(json.dumps(value, default=str)))


def encode(value: object) -> bytes:
    """Return the stored bytes of a Segmentation or PreparedData (a pickle)."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def decode(data: bytes, what: str) -> object:
    """Unpickle stored bytes (old class paths too).

    Raises
    ------
    SegmentationError
        When they cannot be read; ``details["reason"]`` names ``what``, and
        ``details["broken"]`` is True when the bytes are not a whole pickle
        (rather than naming a class this version of the engine lacks).
    """
    try:
        return _pickles.load(io.BytesIO(data))
    except UNREADABLE as err:
        reason = f"{what} cannot be read ({type(err).__name__}: {err})"
        broken = isinstance(err, pickle.UnpicklingError | EOFError)
        raise SegmentationError(reason, reason=reason, broken=broken) from None


def run_values(run_id: str, report: dict, created: datetime, **extra) -> dict:
    """Return the ``runs`` row of a run report (a sound one; see report_problem)."""
    settings = report["settings"]
    return {
        "run_id": run_id,
        "created_at": created,
        "source": report.get("source"),
        "owner": report.get("owner"),
        "source_file": report["input"]["file"],
        "content_sha256": report["input"]["sha256"],
        "k": int(settings["k"]),
        "method": report.get("method") or settings.get("method"),
        "as_of": date.fromisoformat(str(report["as_of"])[:10]),
        "seed": int(settings["seed"]),
        "anomaly_share": float(settings["anomaly_share"]),
        "customers": int(report["customers"]),
        "settings": json_ready(settings),
        "mapping": json_ready(report.get("mapping") or {}),
        "report": json_ready(report),
        "status": SAVED,
        "damaged_reason": None,
        **extra,
    }


def _utc(when: datetime) -> datetime:
    """SQLite gives back naive datetimes: they are UTC."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class RunStore:
    """Saved runs in the run database; see :mod:`segmentation.runs`.

    Parameters
    ----------
    root : path-like, optional
        The data folder; default :func:`data_dir`. Holds the SQLite file
        ``segmentation.db`` (when no database URL is given) and the ``runs/``
        folders of earlier versions, imported when the store first opens.
    max_runs : int, optional
        Runs kept (newest first); default ``$SEGMENTATION_MAX_RUNS`` or 50.
    database_url : str, optional
        A SQLAlchemy URL; default ``$DATABASE_URL``, else SQLite in ``root``.

    Raises
    ------
    SegmentationError
        For a ``max_runs`` (or environment value) that is not a whole number
        >= 1, or a database URL that is not SQLite or PostgreSQL.

    Notes
    -----
    The database opens (and its tables are migrated, and old run folders
    imported) on first use, not here.
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        max_runs=None,
        *,
        database_url: str | None = None,
    ):
        self.root = Path(root) if root is not None else data_dir()
        self.max_runs = parse_max_runs(max_runs)
        self.url = _database.database_url(self.root, database_url)
        self._engine: Engine | None = None
        self._memory: OrderedDict[str, SavedRun] = OrderedDict()
        # run id -> why its model cannot be read by this process (a class the
        # engine here lacks: another process may read it, so not recorded)
        self._unreadable: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def runs_dir(self) -> Path:
        """The folder where earlier versions saved runs (imported on first use)."""
        return self.root / "runs"

    @property
    def location(self) -> str:
        """Where runs are kept: the SQLite file, or the URL (no password)."""
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            return str(url.database)
        return url.render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, tables migrated and old folders imported.

        Raises
        ------
        sqlalchemy.exc.OperationalError
            When the database cannot be reached or written.
        """
        if self._engine is None:
            engine = _database.engine_for(self.url)
            key = (self.url, str(self.runs_dir.resolve()), os.getpid())
            with _IMPORT_GUARD:
                if key not in _IMPORTED:
                    _folders.import_folders(engine, self.runs_dir)
                    _IMPORTED.add(key)
            self._engine = engine
        return self._engine

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
            The account the run belongs to (``runs.owner``, and ``owner`` in
            its metadata); None for the local workspace.

        Returns
        -------
        str
            ``<UTC time YYYYmmddTHHMMSS>-<first 8 hex of the file's sha256>-k<k>``,
            with ``-2``, ``-3``... appended when that id already exists.

        Raises
        ------
        SegmentationError
            For an unknown ``source``.
        sqlalchemy.exc.SQLAlchemyError
            When the database cannot be written (nothing of the run is kept).
        """
        return self._save(prepared, segmentation, source, owner, once=False)[0]

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
        share, seed, owner). The look-up and the save are one transaction holding the
        write lock, so two processes (two app workers, or the app and the
        command line) that save the same run at once get one run.

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
        SegmentationError, sqlalchemy.exc.SQLAlchemyError
            As :meth:`save`.
        """
        return self._save(prepared, segmentation, source, owner, once=True)

    def _save(self, prepared, segmentation, source, owner, *, once) -> tuple[str, bool]:
        if source not in SOURCES:
            raise SegmentationError(f"source must be one of {SOURCES}, got {source!r}")
        created = datetime.now(UTC)
        base = f"{created:%Y%m%dT%H%M%S}-{prepared.sha256[:8]}-k{segmentation.k}"
        report = {
            "created": created.isoformat(timespec="microseconds"),
            "source": source,
            **({"owner": owner} if owner is not None else {}),
            **reports.run_report(prepared, segmentation),
        }
        models = {MODEL_PART: encode(segmentation), PREPARED_PART: encode(prepared)}
        engine = self.engine
        with _database.write_transaction(engine) as connection:
            if once:
                found = self._find(
                    connection,
                    prepared.sha256,
                    segmentation.k,
                    segmentation.anomaly_share,
                    segmentation.seed,
                    prepared.mapping,
                    owner,
                )
                if found is not None:
                    return found, False
            run_id = _free_id(connection, base)
            values = run_values(
                run_id,
                {"id": run_id, **report},
                created,
                method=getattr(segmentation, "method", None),
            )
            connection.execute(insert(Run), [values])
            connection.execute(
                insert(RunModel),
                [
                    {"run_id": run_id, "part": part, "format": PICKLE, "data": data}
                    for part, data in models.items()
                ],
            )
            rows = customer_rows(run_id, segmentation.customers)
            if rows:
                connection.execute(insert(CustomerSegment), rows)
            removed = self._apply_retention(connection)
        with self._lock:
            for old in removed:
                self._memory.pop(old, None)
        return run_id, True

    def _apply_retention(self, connection) -> list[str]:
        """Delete the runs beyond ``max_runs`` (newest kept); return their ids."""
        old = (
            connection.execute(
                select(Run.run_id)
                .order_by(Run.created_at.desc(), Run.run_id.desc())
                .offset(self.max_runs)
            )
            .scalars()
            .all()
        )
        if old:
            for table in (CustomerSegment, RunModel, RunShare, Run):
                connection.execute(delete(table).where(table.run_id.in_(old)))
        return list(old)

    # Reading -------------------------------------------------------------------------
    def _entries(self, connection, *where) -> list[dict]:
        """Return list rows (newest first) of the runs matching ``where``."""
        has = (
            exists()
            .where(RunModel.run_id == Run.run_id)
            .where(RunModel.part == MODEL_PART)
        )
        has_prepared = (
            exists()
            .where(RunModel.run_id == Run.run_id)
            .where(RunModel.part == PREPARED_PART)
        )
        query = (
            select(
                Run.run_id,
                Run.created_at,
                Run.status,
                Run.damaged_reason,
                Run.report,
                Run.owner,
                has.label("has_model"),
                has_prepared.label("has_prepared"),
            )
            .where(*where)
            .order_by(Run.created_at.desc(), Run.run_id.desc())
        )
        entries = [_entry(row) for row in connection.execute(query)]
        with self._lock:
            unreadable = dict(self._unreadable)
        return [
            _damaged_entry(e["id"], e["created"], e["owner"], unreadable[e["id"]])
            if e["id"] in unreadable and not e.get("damaged")
            else e
            for e in entries
        ]

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
            ``reopenable`` (the run has its prepared data), ``owner`` (the
            account that saved it, None for the local workspace). A damaged run (its
            stored report not a run report, its models missing, or imported
            damaged from a folder) is listed too, with ``damaged`` (the reason
            in words), its ``created``, and None for what its report would have
            said.
        """
        with self.engine.connect() as connection:
            return self._entries(connection)[: max(int(limit), 0)]

    def _find(
        self, connection, sha256, k, anomaly_share, seed, mapping, owner
    ) -> str | None:
        share = round(float(anomaly_share), 4)
        same_owner = Run.owner.is_(None) if owner is None else Run.owner == owner
        same_file = Run.content_sha256 == sha256
        for entry in self._entries(connection, same_file, same_owner):
            if entry.get("damaged"):
                continue
            if (
                entry["sha256"] == sha256
                and entry["k"] == int(k)
                and entry["seed"] == int(seed)
                and round(float(entry["anomaly_share"]), 4) == share
                and entry["mapping"] == dict(mapping or {})
            ):
                return entry["id"]
        return None

    def find(
        self,
        sha256: str,
        k: int,
        anomaly_share: float,
        seed: int,
        mapping: dict,
        owner: str | None = None,
    ) -> str | None:
        """Return the newest run of these data and settings (and owner), or None.

        Reads only the reports of the runs of the same file (an indexed look-up).

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
            Only runs of this account (None: of the local workspace).
        """
        with self.engine.connect() as connection:
            return self._find(
                connection, sha256, k, anomaly_share, seed, mapping, owner
            )

    def latest_id(self) -> str | None:
        """Return the id of the newest run that is not damaged, or None."""
        with self.engine.connect() as connection:
            entries = self._entries(connection)
        return next((e["id"] for e in entries if not e.get("damaged")), None)

    def entry(self, run_id: str) -> dict:
        """Return one run's list row (as :meth:`list` gives it).

        Raises
        ------
        RunNotFoundError
            For an unknown or invalid id.
        DamagedRunError
            When the run is damaged (the reason in the message).
        """
        check_run_id(run_id)
        with self.engine.connect() as connection:
            found = self._entries(connection, Run.run_id == run_id)
        if not found:
            raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
        if found[0].get("damaged"):
            raise damaged(run_id, found[0]["damaged"])
        return found[0]

    def _model(self, run_id: str, part: str) -> bytes | None:
        with self.engine.connect() as connection:
            return connection.execute(
                select(RunModel.data).where(
                    RunModel.run_id == run_id, RunModel.part == part
                )
            ).scalar()

    def load_prepared(self, run_id: str) -> PreparedData:
        """Return the PreparedData saved with a run (to show its panels again).

        Raises
        ------
        RunNotFoundError
            For an unknown or invalid id.
        NotReopenableError
            The run was saved without its prepared data (an older version).
        DamagedRunError
            When the run is damaged.
        SegmentationError
            When the prepared data cannot be read.
        """
        self.entry(run_id)
        data = self._model(run_id, PREPARED_PART)
        if data is None:
            raise NotReopenableError(
                f"run {run_id} was saved without its prepared data (by an older "
                "version), so the app cannot reopen it; the API still scores "
                "against it",
                run_id=run_id,
            )
        try:
            prepared = decode(data, "the prepared data")
        except SegmentationError as err:
            raise SegmentationError(
                f"run {run_id}: {err.details['reason']}; segment the file again",
                run_id=run_id,
                reason=err.details["reason"],
            ) from None
        if not isinstance(prepared, PreparedData):
            raise SegmentationError(
                f"run {run_id}: the stored prepared data is not prepared data",
                run_id=run_id,
            )
        return prepared

    def load(self, run_id: str) -> SavedRun:
        """Return a saved run with its fitted models (cached in memory by id).

        Parameters
        ----------
        run_id : str
            A run id of :meth:`list`.

        Returns
        -------
        SavedRun
            ``metadata`` (the run report as a dict) and ``segmentation`` (the
            unpickled :class:`segmentation.Segmentation`, whose models score
            new customers). Runs saved by an older layout of the engine are
            read through :func:`segmentation.runs.load_pickle`.

        Raises
        ------
        RunNotFoundError
            For an unknown or invalid id (or one deleted meanwhile).
        DamagedRunError
            When its report or models are missing, damaged, or cannot be read
            (e.g. saved by an incompatible version of the library); re-run the
            segmentation then.
        """
        try:
            self.entry(run_id)  # unknown or damaged: raises
        except SegmentationError:
            with self._lock:
                self._memory.pop(run_id, None)
            raise
        with self._lock:
            cached = self._memory.get(run_id)
            if cached is not None:
                self._memory.move_to_end(run_id)
                return cached
        with self.engine.connect() as connection:
            metadata = connection.execute(
                select(Run.report).where(Run.run_id == run_id)
            ).scalar()
        data = self._model(run_id, MODEL_PART)
        if metadata is None or data is None:
            raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
        try:
            segmentation = decode(data, "the stored model")
        except SegmentationError as err:
            raise self._found_damaged(
                run_id, err.details["reason"], keep=err.details["broken"]
            ) from None
        if not isinstance(segmentation, Segmentation):
            raise self._found_damaged(
                run_id, "the stored model is not a segmentation", keep=True
            )
        saved = SavedRun(metadata=metadata, segmentation=segmentation)
        with self._lock:
            self._memory[run_id] = saved
            self._memory.move_to_end(run_id)
            while len(self._memory) > MEMORY_RUNS:
                self._memory.popitem(last=False)
        return saved

    def _found_damaged(self, run_id: str, reason: str, *, keep: bool):
        """Note a run's unreadable model so it is listed damaged; return the error.

        Bytes that are not a whole pickle (``keep``) are damage for every
        process: the run's row says so (``status`` "damaged"). A model naming a
        class this process's engine lacks is damaged here only.
        """
        if keep:
            with _database.write_transaction(self.engine) as connection:
                connection.execute(
                    update(Run)
                    .where(Run.run_id == run_id, Run.status == SAVED)
                    .values(status=DAMAGED, damaged_reason=reason)
                )
        else:
            with self._lock:
                self._unreadable[run_id] = reason
        return damaged(run_id, reason)

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

    # Share links ---------------------------------------------------------------------
    def share(self, run_id: str, by: str | None = None) -> str:
        """Make a read-only share link of a run; return its token (shown once).

        Parameters
        ----------
        run_id : str
            A run of :meth:`list` (not damaged).
        by : str, optional
            Who made the link (``run_shares.created_by``).

        Returns
        -------
        str
            43 URL-safe characters (32 random bytes). Only its SHA-256 is
            stored: the token cannot be read back, and a lost one is replaced
            by a new link.

        Raises
        ------
        RunNotFoundError
            For an unknown or invalid id.
        DamagedRunError
            When the run is damaged.
        """
        self.entry(run_id)
        token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
        with _database.write_transaction(self.engine) as connection:
            connection.execute(
                insert(RunShare),
                [
                    {
                        "run_id": run_id,
                        "token_sha256": share_digest(token),
                        "created_at": datetime.now(UTC),
                        "created_by": by,
                        "revoked_at": None,
                    }
                ],
            )
        return token

    def revoke_shares(self, run_id: str) -> int:
        """Revoke every share link of a run; return how many were open.

        Raises
        ------
        RunNotFoundError
            For an invalid id.
        """
        check_run_id(run_id)
        with _database.write_transaction(self.engine) as connection:
            done = connection.execute(
                update(RunShare)
                .where(RunShare.run_id == run_id, RunShare.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return int(done.rowcount or 0)

    def open_shares(self, run_id: str) -> int:
        """Return how many share links of a run open it (not revoked)."""
        check_run_id(run_id)
        with self.engine.connect() as connection:
            found = connection.execute(
                select(RunShare.id).where(
                    RunShare.run_id == run_id, RunShare.revoked_at.is_(None)
                )
            )
            return len(found.all())

    def shared_run(self, token: str) -> str:
        """Return the id of the run a share link's token opens.

        Raises
        ------
        ShareNotFoundError
            For a token no link has (or whose run was removed).
        ShareRevokedError
            For a link that was revoked (the message says when).
        """
        if not isinstance(token, str) or not re.fullmatch(
            r"[A-Za-z0-9_-]{20,100}", token
        ):
            raise ShareNotFoundError("no share link with this token")
        with self.engine.connect() as connection:
            row = connection.execute(
                select(RunShare.run_id, RunShare.revoked_at).where(
                    RunShare.token_sha256 == share_digest(token)
                )
            ).first()
        if row is None:
            raise ShareNotFoundError("no share link with this token")
        if row.revoked_at is not None:
            when = _utc(row.revoked_at).isoformat(timespec="seconds")
            raise ShareRevokedError(
                f"this share link was revoked on {when} (UTC): ask its owner for "
                "a new one",
            )
        return row.run_id


class ShareNotFoundError(RunNotFoundError):
    """A share link's token that opens no run (never made, or its run removed)."""


class ShareRevokedError(ShareNotFoundError):
    """A share link that was revoked: it opens nothing any more."""


def share_digest(token: str) -> str:
    """Return the stored form of a share token: its SHA-256 as 64 hex digits."""
    return hashlib.sha256(token.encode()).hexdigest()


def _free_id(connection, base: str) -> str:
    """Return ``base``, or ``base-N`` after the highest suffix in use.

    Raises
    ------
    SegmentationError
        When ids ``base`` to ``base-9999`` are all taken.
    """
    pattern = re.compile(rf"{re.escape(base)}(?:-(\d+))?")
    taken = connection.execute(
        select(Run.run_id).where(Run.run_id.startswith(base, autoescape=True))
    ).scalars()
    imported = connection.execute(
        select(FolderImport.run_id).where(
            FolderImport.run_id.startswith(base, autoescape=True)
        )
    ).scalars()
    used = [
        int(m.group(1) or 1)
        for name in [*taken, *imported]
        if (m := pattern.fullmatch(name))
    ]
    n = max(used, default=0) + 1
    if n >= 10_000:
        raise SegmentationError(f"no free run id for {base}")
    return base if n == 1 else f"{base}-{n}"


def _damaged_entry(run_id: str, created: str, owner: str | None, reason: str) -> dict:
    """Return the list row of a damaged run: None for what its report would say."""
    return {
        "id": run_id,
        "file": None,
        "created": created,
        "k": None,
        "customers": None,
        "sha256": None,
        "source": None,
        "anomaly_share": None,
        "seed": None,
        "mapping": {},
        "reopenable": False,
        "owner": owner,
        "damaged": reason or "damaged",
    }


def _entry(row) -> dict:
    """Return the list row of a ``runs`` row (and whether its models exist)."""
    report = row.report
    reason = row.damaged_reason if row.status == DAMAGED else None
    if reason is None:
        reason = report_problem(report, STORED_REPORT)
    if reason is None and not row.has_model:
        reason = "the stored model is missing"
    if reason is not None:
        created = _utc(row.created_at).isoformat(timespec="microseconds")
        return _damaged_entry(row.run_id, created, row.owner, reason)
    return {
        **listed_run(row.run_id, report, bool(row.has_prepared)),
        "owner": row.owner,
    }
