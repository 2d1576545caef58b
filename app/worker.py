"""The Celery worker: ``celery -A app.worker worker --loglevel INFO --concurrency 2``.

Needs ``REDIS_URL`` (the broker, results and the API's job records), the same
value as the web processes. It runs two kinds of task:

- the runs of ``POST /api/runs`` (:func:`app.api_runs.run_job`), which save to
  the run store: shared between machines with ``DATABASE_URL`` (PostgreSQL),
  else the SQLite file under ``SEGMENTATION_DATA_DIR``;
- the app's background callbacks (parsing an upload, the k sweep) through
  Dash's ``CeleryManager``. The Dash app is built here as in the web process, so
  the worker knows the same callback tasks.

With ``REDIS_URL`` nothing a request needs is on one machine's disk: the
server-side store (uploads' bytes, prepared data, segmentations, view links:
:mod:`app.store_redis`), the files ``POST /upload`` stages for the loading job,
the API's job records and uploads, Dash's job results, and the session-signing
key (which also signs Dash's job handles) live in Redis; saved runs and
accounts in the database. So web processes and workers may each have their own
``SEGMENTATION_DATA_DIR`` (on other machines), as long as ``REDIS_URL`` and
``DATABASE_URL`` are the same. Without ``DATABASE_URL`` the run store is the
SQLite file of each data folder: then they must share one folder.
"""

from __future__ import annotations

from app import create_app
from app.jobs import celery_app as _celery_app

#: The Celery app (``-A app.worker`` finds it under this name).
celery_app = _celery_app()
#: The Dash app, built so that its background callbacks are tasks of ``celery_app``.
dash_app = create_app(first_screen=False)
