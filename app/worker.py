"""The Celery worker: ``celery -A app.worker worker --loglevel INFO --concurrency 2``.

Needs ``REDIS_URL`` (the broker, results and the API's job records), the same
value as the web processes. It runs two kinds of task:

- the runs of ``POST /api/runs`` (:func:`app.api_runs.run_job`), which save to
  the run store: shared between machines with ``DATABASE_URL`` (PostgreSQL),
  else the SQLite file under ``SEGMENTATION_DATA_DIR``;
- the app's background callbacks (parsing an upload, the k sweep) through
  Dash's ``CeleryManager``. The Dash app is built here as in the web process, so
  the worker knows the same callback tasks; their inputs and the prepared data
  they read are in the server-side store under ``SEGMENTATION_DATA_DIR``.

What still lives on local disk: the server-side store (uploads and prepared
data, :mod:`app.storage`) and, without ``DATABASE_URL``, the run store. Web and
worker processes must therefore share one ``SEGMENTATION_DATA_DIR``: on one
machine, or a shared file system between machines.
"""

from __future__ import annotations

from app import create_app
from app.jobs import celery_app as _celery_app

#: The Celery app (``-A app.worker`` finds it under this name).
celery_app = _celery_app()
#: The Dash app, built so that its background callbacks are tasks of ``celery_app``.
dash_app = create_app(first_screen=False)
