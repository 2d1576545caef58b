"""Background jobs: the process they run in, and what it imports once.

Dash runs each background callback (parsing, cleaning, the k sweep) in a
process of its own through ``dash.DiskcacheManager`` (DESIGN section 2). This
module sets up where those processes come from.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from pathlib import Path

import dash

from app import ids

#: The engine's model modules (scikit-learn, ~1.3 s to import). The engine imports
#: them on first use; the server imports them at start so that the first k change
#: or API call does not wait for them.
MODEL_MODULES = ("segmentation.models", "segmentation.labelling", "kneed")

#: Modules the job server imports once, so that each job starts in milliseconds.
JOB_PRELOAD = ["app.callbacks", "segmentation.pipeline", *MODEL_MODULES]


def import_models() -> None:
    """Import :data:`MODEL_MODULES` now, in this process.

    Raises
    ------
    ImportError
        A module cannot be imported.
    """
    for name in MODEL_MODULES:
        importlib.import_module(name)


def start_jobs_from_a_clean_process(directory: Path) -> None:
    """Make background jobs fork from a single-threaded server, not from gunicorn.

    Dash starts each background job with ``multiprocess.Process``, which forks
    the web worker by default. The worker runs callbacks in several threads that
    use pyarrow (pandas' string dtype); a fork taken while one of them holds an
    arrow lock leaves the job waiting for that lock forever (seen: a job stuck in
    ``ArrowStringArray._from_sequence``). The "forkserver" method forks jobs from
    a helper process that never ran a callback. Jobs find the data directory
    through the environment, which the helper inherits.

    Parameters
    ----------
    directory : pathlib.Path
        The server-side data directory (exported as ``SEGMENTATION_DATA_DIR``).
    """
    import multiprocess

    from app import storage

    os.environ[storage.ENV_DATA_DIR] = str(directory)
    multiprocess.set_forkserver_preload(JOB_PRELOAD)
    multiprocess.set_start_method("forkserver", force=True)


#: Seconds a job's record (its pid and start time) is kept in the job cache.
JOB_RECORD_SECONDS = 24 * 3600

#: Niceness added to a background job that does not load a dataset (the every-k
#: warm-up, the method comparison, customers over time, the PCA view...): the
#: 2 cores go first to the web process, which draws the first panels, and to
#: the job that reads the file the user is waiting for (its outputs include
#: :data:`LOADING_OUTPUT`). Measured on the 48 MB CSV: the warm-up job started
#: with the first panels and took the cores they needed.
BACKGROUND_NICENESS = 5
#: The output (component id) of the jobs that load a dataset: run at the
#: server's own priority.
LOADING_OUTPUT = ids.DATASET_STORE


def output_ids(context) -> set[str]:
    """Return the component ids a callback's ``context.outputs_list`` names.

    Parameters
    ----------
    context : mapping
        Dash's callback context as given to a background job (its
        ``outputs_list``: an output spec ``{"id", "property"}``, or a list of
        them, nested for pattern-matching outputs).

    Returns
    -------
    set of str
        String ids as they are; a pattern-matching id (a dict) as its ``type``.
    """
    found: set[str] = set()
    pending = [(context or {}).get("outputs_list") or []]
    while pending:
        item = pending.pop()
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, dict):
            ident = item.get("id")
            if isinstance(ident, dict):
                ident = ident.get("type")
            if ident is not None:
                found.add(str(ident))
    return found


def yields_to_the_panels(context) -> bool:
    """Whether a background job runs at a lower priority (:data:`BACKGROUND_NICENESS`).

    Every job but those that load a dataset (:data:`LOADING_OUTPUT` among its
    outputs) does: the loading job and the first panels come first.
    """
    return LOADING_OUTPUT not in output_ids(context)


_celery_apps: list = []


def celery_app():
    """Return this process's Celery app, on ``REDIS_URL`` (broker and results).

    Made once per process. It knows the API's run task
    (:data:`app.api_runs.TASK_NAME`); Dash adds one task per background
    callback when the Dash app is built with :func:`background_manager` (the
    worker, :mod:`app.worker`, builds it too, so both know the same tasks).

    Returns
    -------
    celery.Celery

    Raises
    ------
    RuntimeError
        ``REDIS_URL`` is unset.
    """
    from app import api_runs

    if not _celery_apps:
        url = api_runs.redis_url()
        if url is None:
            raise RuntimeError(f"{api_runs.ENV_REDIS_URL} is not set: no Celery")
        from celery import Celery

        app = Celery("segmentation", broker=url, backend=url)
        app.conf.update(
            task_serializer="json",
            result_serializer="json",
            accept_content=["json"],
            result_expires=JOB_RECORD_SECONDS,
            worker_prefetch_multiplier=1,  # a long run does not hold queued ones
            task_acks_late=True,
            broker_connection_retry_on_startup=True,
        )

        @app.task(name=api_runs.TASK_NAME, bind=True)
        def api_run(task, job_id: str, data_dir: str) -> str:
            return api_runs.run_job(job_id, data_dir, worker=task.request.hostname)

        _celery_apps.append(app)
    return _celery_apps[0]


class CeleryJobManager(dash.CeleryManager):
    """Dash's ``CeleryManager``, with answers about a job that agree.

    As in :class:`JobManager`: a page's poll asks "is the result there?" and
    then "is the job still running?"; a task that wrote its result and ended
    between the two questions looked cancelled, and its result was lost. Here
    the task's state is read *before* its result (a task writes its result,
    then ends), and the second answer is the one decided with the first.
    """

    def __init__(self, celery, cache_by=None, expire=None):
        super().__init__(celery, cache_by=cache_by, expire=expire)
        self._decided = threading.local()

    def get_result(self, key, job):
        """Return the task's result, deciding at once whether it still runs."""
        running = bool(super().job_running(job))
        result = super().get_result(key, job)
        if not hasattr(self._decided, "jobs"):
            self._decided.jobs = {}
        if job is not None:
            self._decided.jobs[str(job)] = running and result is self.UNDEFINED
        return result

    def job_running(self, job):
        """Whether the task runs: as decided by the last :meth:`get_result`, if any."""
        decided = getattr(self._decided, "jobs", {})
        if job is not None and str(job) in decided:
            return decided.pop(str(job))
        return bool(super().job_running(job))


def background_manager(directory: Path):
    """Return the Dash background-callback manager for this configuration.

    With ``REDIS_URL``: a :class:`CeleryJobManager` (Dash's ``CeleryManager``)
    on :func:`celery_app`, so the
    callbacks run on the workers of ``celery -A app.worker worker``. Their
    inputs and the prepared data they read are in the server-side store, in
    Redis too (:mod:`app.store_redis`), so web and worker processes need not
    share a data folder. Without it: a
    :class:`JobManager` in ``<directory>/jobs`` (processes of this machine).

    Parameters
    ----------
    directory : pathlib.Path
        The data dir.

    Returns
    -------
    CeleryJobManager or JobManager
    """
    from app import api_runs, storage

    if api_runs.redis_url() is not None:
        return CeleryJobManager(celery_app(), expire=JOB_RECORD_SECONDS)
    return JobManager(storage.private_cache(directory / "jobs"), directory)


def _job_record_key(pid: int) -> tuple:
    return ("segmentation-job", int(pid))


class JobManager(dash.DiskcacheManager):
    """Dash's ``DiskcacheManager``, with answers about a job that agree.

    Dash asks two questions when a page polls a job: "is its result there?"
    (:meth:`get_result`) and then "is it still running?" (:meth:`job_running`).
    A job that writes its result and exits between the two questions looked
    cancelled: the page stopped polling and the result was lost (3 times in
    ~100 under load). Here the second answer is decided with the first: the
    job's state is read *before* its result, so a job seen stopped has written
    everything it will write, and a job seen running is polled again.

    A job that stopped without a result (killed, or a server restart) is told
    apart from a full or read-only data folder: in that case the poll answers
    with the fault, naming the folder (:func:`app.storage.write_fault`), which
    the page's ``on_error`` handler shows.

    Jobs are known by their pid *and* start time (kept in the job cache), so
    a pid reused by another process after a restart is never taken for a job,
    and never killed by a cancel.

    Parameters
    ----------
    cache : diskcache.Cache
        Where results, progress and the job records live.
    data_dir : pathlib.Path
        The data folder checked when a job ends without a result.
    """

    def __init__(self, cache, data_dir: Path):
        super().__init__(cache)
        self.data_dir = Path(data_dir)
        self._decided = threading.local()

    # which process is one of our jobs ----------------------------------------
    def call_job_fn(self, key, job_fn, args, context):
        """Start the job (Dash's way); record its pid and start time.

        A job that does not load a dataset runs :data:`BACKGROUND_NICENESS`
        lower (:func:`yields_to_the_panels`).
        """
        import psutil

        pid = super().call_job_fn(key, job_fn, args, context)
        try:
            process = psutil.Process(pid)
            started = process.create_time()
        except psutil.NoSuchProcess:
            started = None  # already finished: nothing to kill, ever
        else:
            if yields_to_the_panels(context):
                with contextlib.suppress(psutil.Error):
                    process.nice(min(19, process.nice() + BACKGROUND_NICENESS))
        self.handle.set(_job_record_key(pid), started, expire=JOB_RECORD_SECONDS)
        return pid

    def _process(self, job):
        """Return the job's ``psutil.Process`` if it still runs, else None."""
        import psutil

        if job is None:
            return None
        try:
            pid = int(job)
        except (TypeError, ValueError):
            return None
        started = self.handle.get(_job_record_key(pid))
        if started is None:
            return None
        try:
            process = psutil.Process(pid)
            if abs(process.create_time() - started) > 0.01:
                return None  # the pid now belongs to another process
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
        except psutil.NoSuchProcess:
            return None
        return process

    def job_running(self, job):
        """Whether the job runs: as decided by the last :meth:`get_result`, if any."""
        decided = getattr(self._decided, "jobs", {})
        if job is not None and str(job) in decided:
            return decided.pop(str(job))
        return self._process(job) is not None

    def terminate_job(self, job):
        """Kill the job and its children, only if ``job`` is one of our jobs."""
        import psutil

        with self.handle.transact():
            process = self._process(job)
            if process is None:
                return
            try:
                children = process.children(recursive=True)
            except psutil.NoSuchProcess:
                children = []
            for proc in [*children, process]:
                try:
                    proc.kill()
                except psutil.NoSuchProcess:
                    pass
            try:
                process.wait(1)
            except (psutil.TimeoutExpired, psutil.NoSuchProcess):
                pass

    # results -------------------------------------------------------------------
    def get_result(self, key, job):
        """Return the job's result, deciding at once whether it still runs.

        The job's state is read first: a job seen stopped has written its
        result (if it wrote one), so reading the result after never misses
        it. A job that stopped without a result answers with the data
        folder's fault, if it has one.
        """
        running = self._process(job) is not None
        result = super().get_result(key, job)
        if not hasattr(self._decided, "jobs"):
            self._decided.jobs = {}
        if job is not None:
            self._decided.jobs[str(job)] = running and result is self.UNDEFINED
        if result is self.UNDEFINED and not running:
            from app import storage

            fault = storage.write_fault(self.data_dir)
            if fault is not None:
                return {
                    "background_callback_error": {
                        "msg": fault,
                        "tb": f"{storage.DataFolderError.__module__}."
                        f"{storage.DataFolderError.__name__}: {fault}",
                    }
                }
        return result
