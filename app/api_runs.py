"""Runs through the API: ``POST /api/runs`` and the status of a pending run.

``POST /api/runs`` (multipart form)
    ``file`` (the export, as uploaded in the app), and optionally ``k`` (2..10,
    default 3), ``method`` (``kmeans``, ``gmm``, ``ward``, ``hdbscan``), ``as_of``
    (a date, YYYY-MM-DD) and ``mapping`` (a JSON object: canonical column -> the file's
    header). Answers 202 with ``{"run_id": "job-...", "status": "queued",
    "status_url": "/api/runs/job-..."}``; 400 for a bad field (named), 413 for a
    ``Content-Length`` over the upload limit (checked before the body is read).
``GET /api/runs/<job id>``
    ``{"run_id", "status", ...}``: ``queued``, ``running``, ``failed`` (with
    ``message``: the engine's words for a bad file), or ``done`` with the saved
    run's row as ``GET /api/runs/<id>`` lists it (``id`` is the saved run's id,
    for ``/summary``, ``/migration`` and ``POST /api/segment``).

Where the work runs
    Never in the request. Without ``REDIS_URL``: a process pool of the web
    process (``concurrent.futures``, started by ``forkserver`` so that a job
    never forks a web thread holding a lock; :data:`ENV_LOCAL_WORKERS`
    processes, default 1). With ``REDIS_URL``: a Celery task
    (:data:`TASK_NAME`) on the workers of ``celery -A app.worker worker``.
Where a job lives
    Its record (status, message, owner, file, settings, and which process ran
    it) and its upload: without ``REDIS_URL`` as files under
    ``<data dir>/api_runs/`` (0600; the upload is deleted when the job starts);
    with ``REDIS_URL`` in Redis (keys ``segmentation:api_run:<id>``, kept
    :data:`RECORD_SECONDS`; the upload ``...:upload``, deleted when the job
    starts), so any web process or worker reads them. The finished run goes to
    the run store (:class:`segmentation.runs.RunStore`): shared between
    machines only with ``DATABASE_URL``; without it the SQLite file under the
    data dir, which web and worker must then share (one machine, one
    ``SEGMENTATION_DATA_DIR``).
Owner
    The request's workspace (:func:`app.auth.workspace`: its user, or an
    anonymous browser's private workspace) owns the job and its run; another
    workspace's job answers 404 as an unknown one does.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import flask

from app.guards import RUN_FORM_BYTES
from segmentation.io import DEFAULT_LIMITS

#: The route (also :data:`app.guards.RUN_UPLOAD_PATH`).
PATH = "/api/runs"
#: Environment variable: processes of the local pool (no ``REDIS_URL``).
ENV_LOCAL_WORKERS = "SEGMENTATION_API_RUN_WORKERS"
#: Environment variable: the Redis of the Celery broker, results and job records.
ENV_REDIS_URL = "REDIS_URL"
#: The Celery task's name (registered by :func:`app.jobs.celery_app`).
TASK_NAME = "segmentation.api_run"
#: Seconds a job's record (and an unstarted upload) is kept in Redis.
RECORD_SECONDS = 7 * 24 * 3600
#: Largest file accepted (bytes): the engine's upload limit.
MAX_FILE_BYTES = DEFAULT_LIMITS.max_bytes
#: Largest request (bytes): the file plus the form's other fields and boundaries.
MAX_REQUEST_BYTES = MAX_FILE_BYTES + RUN_FORM_BYTES
STATUSES = ("queued", "running", "done", "failed")
_JOB_ID = re.compile(r"job-[0-9]{8}T[0-9]{6}-[0-9a-f]{8}")
_KEY = "segmentation:api_run:"
log = logging.getLogger(__name__)


def is_job_id(text: str) -> bool:
    """Whether ``text`` is a job id of ``POST /api/runs`` (``job-<UTC time>-<hex>``)."""
    return _JOB_ID.fullmatch(text) is not None


def new_job_id() -> str:
    """Return a new job id: ``job-<UTC YYYYmmddTHHMMSS>-<8 random hex>``."""
    return f"job-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"


def redis_url() -> str | None:
    """Return ``REDIS_URL``, or None when it is unset or empty."""
    return os.environ.get(ENV_REDIS_URL) or None


# Job records -------------------------------------------------------------------------
class JobRecords:
    """Where job records and their uploads live: files, or Redis.

    Parameters
    ----------
    directory : path-like
        The data dir; records go to ``<directory>/api_runs/`` when ``url`` is None.
    url : str, optional
        A Redis URL: records and uploads go to Redis instead.
    """

    def __init__(self, directory: str | os.PathLike, url: str | None = None):
        self.directory = Path(directory) / "api_runs"
        self.url = url
        self._redis = None
        if url is None:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    @classmethod
    def here(cls, directory: str | os.PathLike) -> JobRecords:
        """Return the records where this process keeps them (Redis or files)."""
        return cls(directory, redis_url())

    def _client(self):
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.url)
        return self._redis

    def _path(self, job_id: str, suffix: str) -> Path:
        if not is_job_id(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.directory / f"{job_id}{suffix}"

    def _write(self, path: Path, data: bytes) -> None:
        unique = f"{os.getpid()}.{threading.get_ident()}"
        temporary = path.with_name(f".{path.name}.{unique}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)

    def create(self, job_id: str, record: dict, upload: bytes) -> None:
        """Keep a new job's record and upload (the upload first)."""
        if self.url is None:
            self._write(self._path(job_id, ".upload"), upload)
            self._write(self._path(job_id, ".json"), json.dumps(record).encode())
            return
        client = self._client()
        client.set(_KEY + job_id + ":upload", upload, ex=RECORD_SECONDS)
        client.set(_KEY + job_id, json.dumps(record), ex=RECORD_SECONDS)

    def get(self, job_id: str) -> dict | None:
        """Return a job's record, or None for an unknown (or expired) job."""
        if not is_job_id(job_id):
            return None
        if self.url is None:
            try:
                return json.loads(self._path(job_id, ".json").read_bytes())
            except FileNotFoundError:
                return None
        raw = self._client().get(_KEY + job_id)
        return None if raw is None else json.loads(raw)

    def update(self, job_id: str, **fields) -> dict:
        """Merge ``fields`` into a job's record; return the record."""
        record = {**(self.get(job_id) or {}), **fields}
        if self.url is None:
            self._write(self._path(job_id, ".json"), json.dumps(record).encode())
        else:
            self._client().set(_KEY + job_id, json.dumps(record), ex=RECORD_SECONDS)
        return record

    def take_upload(self, job_id: str) -> bytes | None:
        """Return a job's upload and delete it (None when it is gone)."""
        if self.url is None:
            path = self._path(job_id, ".upload")
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                return None
            path.unlink(missing_ok=True)
            return data
        client = self._client()
        data = client.get(_KEY + job_id + ":upload")
        client.delete(_KEY + job_id + ":upload")
        return data


# The work ----------------------------------------------------------------------------
def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def run_job(job_id: str, data_dir: str, worker: str | None = None) -> str:
    """Run a queued job: read, clean, segment, save; keep the outcome in its record.

    Runs in a pool process or on a Celery worker, never in the web request.

    Parameters
    ----------
    job_id : str
        The job (:func:`new_job_id`).
    data_dir : str
        The data dir of the web process that took the job (the records' and,
        without ``DATABASE_URL``, the run store's folder).
    worker : str, optional
        The Celery worker's name, when run by Celery.

    Returns
    -------
    str
        The final status: ``"done"`` or ``"failed"``.
    """
    from segmentation import pipeline
    from segmentation.errors import SegmentationError
    from segmentation.runs import RunStore

    records = JobRecords.here(data_dir)
    record = records.get(job_id)
    if record is None:
        log.error("job %s: no record (expired, or another data dir)", job_id)
        return "failed"
    ran_by = {"hostname": socket.gethostname(), "pid": os.getpid()}
    if worker is not None:
        ran_by["worker"] = worker
    records.update(job_id, status="running", started=_now(), ran_by=ran_by)
    upload = records.take_upload(job_id)
    if upload is None:
        message = "the uploaded file is gone (the job was started twice, or expired)"
        records.update(job_id, status="failed", message=message, finished=_now())
        return "failed"
    settings = record["settings"]
    try:
        prepared = pipeline.prepare(
            upload,
            filename=record["file"],
            mapping=settings.get("mapping"),
            as_of=settings.get("as_of"),
            limits=DEFAULT_LIMITS,
        )
        result = pipeline.segment(
            prepared, settings["k"], method=settings["method"], with_stability=True
        )
        saved = RunStore(data_dir).save(
            prepared, result, source="app", owner=record.get("owner")
        )
    except SegmentationError as error:
        records.update(job_id, status="failed", message=str(error), finished=_now())
        return "failed"
    except Exception as error:  # the job's record must say it failed
        log.exception("job %s failed", job_id)
        message = f"internal error ({type(error).__name__}): {error}"
        records.update(job_id, status="failed", message=message, finished=_now())
        return "failed"
    records.update(
        job_id,
        status="done",
        saved_run_id=saved,
        customers=len(result.customers),
        finished=_now(),
    )
    return "done"


# Where jobs are sent -----------------------------------------------------------------
_pool_lock = threading.Lock()
_pools: dict[int, object] = {}


def _local_pool():
    """Return this process's pool (made on first use; forkserver, engine preloaded)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from app.jobs import MODEL_MODULES

    with _pool_lock:
        pool = _pools.get(os.getpid())
        if pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(
                ["app.api_runs", "segmentation.pipeline", *MODEL_MODULES]
            )
            workers = int(os.environ.get(ENV_LOCAL_WORKERS) or 1)
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
            atexit.register(pool.shutdown, wait=False, cancel_futures=True)
            _pools[os.getpid()] = pool
        return pool


def _send(job_id: str, directory: Path) -> None:
    """Start a job: a Celery task with ``REDIS_URL``, else the local pool."""
    if redis_url() is not None:
        from app.jobs import celery_app

        celery_app().send_task(TASK_NAME, args=[job_id, str(directory)])
        return
    future = _local_pool().submit(run_job, job_id, str(directory))

    def settle(done) -> None:
        error = done.exception()
        if error is not None:  # the pool process died: say so in the record
            records = JobRecords(directory)
            if (records.get(job_id) or {}).get("status") not in ("done", "failed"):
                records.update(
                    job_id,
                    status="failed",
                    message=f"the run's process stopped ({type(error).__name__}: "
                    f"{error})",
                    finished=_now(),
                )

    future.add_done_callback(settle)


# The routes --------------------------------------------------------------------------
def _form_settings(form) -> dict:
    """Check the form's optional fields; return the job's settings (400 naming one)."""
    from app.api import ApiError, _checked
    from app.openapi import RunForm
    from segmentation.settings import DEFAULT_K, DEFAULT_METHOD, K_RANGE, METHODS

    text = form.get("k", "").strip()
    if text and not re.fullmatch(r"[0-9]{1,2}", text):
        raise ApiError(400, f"k must be a whole number {K_RANGE[0]}..{K_RANGE[-1]}")
    k = int(text) if text else DEFAULT_K
    if k not in K_RANGE:
        raise ApiError(400, f"k must be {K_RANGE[0]}..{K_RANGE[-1]}, got {k}")
    method = form.get("method", "").strip() or DEFAULT_METHOD
    if method not in METHODS:
        known = ", ".join(METHODS)
        raise ApiError(400, f"method must be one of {known}, got {method!r}")
    as_of = form.get("as_of", "").strip() or None
    if as_of is not None and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", as_of):
        raise ApiError(400, f"as_of must be a date YYYY-MM-DD, got {as_of!r}")
    mapping = None
    if form.get("mapping", "").strip():
        try:
            mapping = json.loads(form["mapping"])
        except ValueError as error:
            raise ApiError(400, f"mapping is not valid JSON: {error}") from None
        if not isinstance(mapping, dict) or not all(
            isinstance(name, str) and isinstance(header, str)
            for name, header in mapping.items()
        ):
            raise ApiError(
                400, "mapping must be a JSON object of column name -> the file's header"
            )
    form_text = form.get("mapping") or None
    _checked(
        RunForm,
        {"file": b"", "k": k, "method": method, "as_of": as_of, "mapping": form_text},
    )
    return {"k": k, "method": method, "as_of": as_of, "mapping": mapping}


def register_api_runs(api: flask.Blueprint, data_dir: Callable[[], Path]) -> None:
    """Add ``POST /runs`` to the API's blueprint (its prefix ``/api``).

    Parameters
    ----------
    api : flask.Blueprint
        The blueprint of :func:`app.api.register_api` (its error handlers answer
        this route's errors as JSON).
    data_dir : callable
        Returns the data dir (job records without ``REDIS_URL``; the run
        store's folder): the API's run store's ``root``.
    """
    from app.api import ApiError
    from app.auth import workspace

    @api.post("/runs")
    def start_run():
        request = flask.request
        length = request.content_length
        if length is not None and length > MAX_REQUEST_BYTES:
            raise ApiError(
                413,
                f"the request is {length:,} bytes, over the limit of "
                f"{MAX_REQUEST_BYTES:,} (a file of at most {MAX_FILE_BYTES:,} bytes)",
            )
        request.max_content_length = MAX_REQUEST_BYTES
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ApiError(400, "file: send the export as the multipart field 'file'")
        settings = _form_settings(request.form)
        data = upload.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ApiError(
                413,
                f"file {upload.filename} is over the limit of {MAX_FILE_BYTES:,} bytes",
            )
        job_id = new_job_id()
        directory = data_dir()
        record = {
            "run_id": job_id,
            "status": "queued",
            "file": upload.filename,
            "bytes": len(data),
            "settings": settings,
            "owner": workspace(),
            "created": _now(),
        }
        JobRecords.here(directory).create(job_id, record, data)
        try:
            _send(job_id, directory)
        except Exception as error:
            JobRecords.here(directory).update(
                job_id, status="failed", message=f"could not start the run: {error}"
            )
            raise
        url = f"{PATH}/{job_id}"
        answer = {"run_id": job_id, "status": "queued", "status_url": url}
        return answer, 202, {"Location": url}


def _stopped_here(record: dict) -> bool:
    """Whether a running job of the local pool has lost its process (no Redis only)."""
    import psutil

    ran_by = record.get("ran_by") or {}
    return (
        record.get("status") == "running"
        and redis_url() is None
        and ran_by.get("hostname") == socket.gethostname()
        and not psutil.pid_exists(ran_by.get("pid", -1))
    )


def job_answer(directory: Path, job_id: str, listed) -> dict | None:
    """Return ``GET /api/runs/<job id>``'s answer; None for no job of the caller's.

    Parameters
    ----------
    directory : pathlib.Path
        The data dir.
    job_id : str
        The id ``POST /api/runs`` answered.
    listed : callable
        Saved run id -> its row as ``GET /api/runs/<id>`` lists it.

    Returns
    -------
    dict or None
        ``{"run_id", "status"}``, with ``message`` when failed and the saved
        run's row when done.
    """
    from app.auth import may_see

    records = JobRecords.here(directory)
    record = records.get(job_id)
    if record is None or not may_see(record.get("owner")):
        return None
    if _stopped_here(record):
        record = records.update(
            job_id,
            status="failed",
            message="the run's process stopped before it finished (the server "
            "was restarted, or the process was killed); start the run again",
            finished=_now(),
        )
    answer = {"run_id": job_id, "status": record["status"]}
    if record["status"] == "failed":
        answer["message"] = record.get("message")
    if record["status"] == "done":
        answer.update(listed(record["saved_run_id"]))
    return answer


def saved_run_id(directory: Path, job_id: str) -> str:
    """Return the id of the run a finished job saved.

    Parameters
    ----------
    directory : pathlib.Path
        The data dir.
    job_id : str
        The id ``POST /api/runs`` answered.

    Returns
    -------
    str
        The saved run's id (for ``/summary``, ``/migration``, ``POST /api/segment``).

    Raises
    ------
    segmentation.errors.RunNotFoundError
        No such job among the caller's (404).
    app.api.ApiError
        409 while the job is queued or running, or when it failed (its message).
    """
    from app.api import ApiError
    from app.auth import may_see
    from segmentation.errors import RunNotFoundError

    record = JobRecords.here(directory).get(job_id)
    if record is None or not may_see(record.get("owner")):
        raise RunNotFoundError(f"no run {job_id!r}", run_id=job_id)
    if record["status"] == "failed":
        raise ApiError(409, f"run {job_id} failed: {record.get('message')}")
    if record["status"] != "done":
        raise ApiError(
            409,
            f"run {job_id} is {record['status']}: its results are there once "
            f"GET {PATH}/{job_id} says done",
        )
    return record["saved_run_id"]
