"""Customer Segmentation Studio: the Dash app.

``create_app()`` builds the app; nothing heavy happens at import. The server-side
store and the background-job cache live in the data directory (see
:mod:`app.storage`: env ``SEGMENTATION_DATA_DIR``, default ``data/`` at the project
root). Bootstrap's stylesheet is not loaded from a CDN: the app must work offline,
so ``assets/style.css`` carries the few layout rules it needs.
"""

from __future__ import annotations

import os
from pathlib import Path

from segmentation._warm_imports import MODEL_MODULES

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
TITLE = "Customer Segmentation Studio"


def create_app(data_dir: str | os.PathLike | None = None):
    """Build the Dash app.

    Parameters
    ----------
    data_dir : path-like, optional
        Server-side data directory; default ``SEGMENTATION_DATA_DIR`` or ``data/``.

    Returns
    -------
    dash.Dash
        With layout, callbacks, a ``DiskcacheManager`` for background jobs (in
        ``<data_dir>/jobs``) and the app-level ``on_error`` handler; ``.server`` is
        the Flask app for gunicorn, with the JSON API (:mod:`app.api`) under
        ``/api``, its saved runs in ``data_dir``.
    """
    import dash
    import diskcache

    from app import storage
    from app.api import register_api
    from app.callbacks import register_callbacks
    from app.callbacks.errors import handle_callback_error
    from app.layout import serve_layout
    from segmentation import _warm_imports
    from segmentation.runs import RunStore

    # The engine imports its models on first use; the server imports them now
    # so that the first k change or API call does not wait ~1.3 s for them.
    _warm_imports.import_now()

    directory = storage.data_dir(data_dir)
    storage.configure(directory)
    _start_jobs_from_a_clean_process(directory)
    jobs = diskcache.Cache(str(directory / "jobs"))
    app = dash.Dash(
        __name__,
        title=TITLE,
        assets_folder=str(ASSETS),
        background_callback_manager=dash.DiskcacheManager(jobs),
        on_error=handle_callback_error,
    )
    app.layout = serve_layout
    register_callbacks(app)
    register_api(app.server, lambda: RunStore(directory))
    return app


#: Modules the job server imports once, so that each job starts in milliseconds.
JOB_PRELOAD = ["app.callbacks", "segmentation.pipeline", *MODEL_MODULES]


def _start_jobs_from_a_clean_process(directory: Path) -> None:
    """Make background jobs fork from a single-threaded server, not from gunicorn.

    Dash starts each background job with ``multiprocess.Process``, which forks
    the web worker by default. The worker runs callbacks in several threads that
    use pyarrow (pandas' string dtype); a fork taken while one of them holds an
    arrow lock leaves the job waiting for that lock forever (seen: a job stuck in
    ``ArrowStringArray._from_sequence``). The "forkserver" method forks jobs from
    a helper process that never ran a callback. Jobs find the data directory
    through the environment, which the helper inherits.
    """
    import multiprocess

    from app import storage

    os.environ[storage.ENV_DATA_DIR] = str(directory)
    multiprocess.set_forkserver_preload(JOB_PRELOAD)
    multiprocess.set_start_method("forkserver", force=True)
