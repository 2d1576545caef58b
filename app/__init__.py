"""Customer Segmentation Studio: the Dash app.

``create_app()`` builds the app; nothing heavy happens at import. The server-side
store and the background-job cache live in the data directory (see
:mod:`app.storage`: env ``SEGMENTATION_DATA_DIR``, default ``data/`` at the project
root). Bootstrap's stylesheet is not loaded from a CDN: the app must work offline,
so ``assets/style.css`` carries the few layout rules it needs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The stylesheet: ``assets/`` of the checkout, or where ``pip install .`` put it.
ASSETS = (
    ROOT / "assets"
    if (ROOT / "assets").is_dir()
    else Path(sys.prefix) / "share" / "segmentation-studio" / "assets"
)
TITLE = "Customer Segmentation Studio"


def create_app(data_dir: str | os.PathLike | None = None, first_screen: bool = True):
    """Build the Dash app.

    Parameters
    ----------
    data_dir : path-like, optional
        Server-side data directory; default ``SEGMENTATION_DATA_DIR`` or ``data/``.
    first_screen : bool
        Prepare the built-in sample now, in a background thread, so that pages
        open on it at once (:mod:`app.first_screen`).

    Returns
    -------
    dash.Dash
        With layout, callbacks, a :class:`app.jobs.JobManager` for background
        jobs (in ``<data_dir>/jobs``, files 0600; with ``REDIS_URL`` Dash's
        ``CeleryManager``: :func:`app.jobs.background_manager`) and the app-level
        ``on_error`` handler; ``.server`` is the Flask app for gunicorn, with
        the JSON API (:mod:`app.api`) under ``/api``, its saved runs in
        ``data_dir``.
    """
    import dash

    from app import auth, storage
    from app.api import register_api
    from app.callbacks import register_callbacks
    from app.callbacks.errors import handle_callback_error
    from app.guards import register_guards
    from app.jobs import (
        background_manager,
        import_models,
        start_jobs_from_a_clean_process,
    )
    from app.layout import serve_layout
    from app.upload_route import register_upload_route
    from segmentation.runs import RunStore

    import_models()

    directory = storage.data_dir(data_dir)
    storage.configure(directory)
    start_jobs_from_a_clean_process(directory)
    app = dash.Dash(
        __name__,
        title=TITLE,
        assets_folder=str(ASSETS),
        background_callback_manager=background_manager(directory),  # REDIS_URL: Celery
        on_error=handle_callback_error,
    )
    app.layout = serve_layout
    register_callbacks(app)
    register_api(app.server, lambda: RunStore(directory))
    register_upload_route(app.server)
    auth.register_auth(app, directory)  # log-in and API keys (app.auth)
    register_guards(app)
    _register_page_files(app)
    if first_screen:
        from app import first_screen as sample

        sample.start()
    return app


def _register_page_files(app) -> None:
    """Let this process serve the page's script and style files from the start.

    Dash learns which files of its component suites it may serve
    (``_dash-component-suites/...``) when it first renders the page, and
    answers 404 for them before. With several web processes (the server runs
    two, :mod:`app.gunicorn_conf`) a page rendered by one asks any of them for
    its scripts: a process that had not rendered a page yet left it on
    "Loading..." (seen right after a start). Rendering the page once here,
    without a request from anybody, registers them in every process.
    """
    with app.server.test_request_context("/"):
        app.index()
