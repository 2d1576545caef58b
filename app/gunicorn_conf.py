"""gunicorn settings of the app's server, for the Procfile and ``python -m app``.

Procfile: ``gunicorn -c app/gunicorn_conf.py app.asgi:application --bind ...``;
``python -m app`` (:mod:`app.__main__`) loads the same settings and binds
127.0.0.1. Why this server (README, "Running it"): gunicorn's own ``asgi`` worker
reads every request in an asyncio event loop, so slow clients hold connections,
not threads; :mod:`app.front` answers the health check in that loop, refuses
over-large bodies before reading them and hands whole requests to the app's
threads (``SEGMENTATION_WEB_THREADS``, default 4).

This file is read as a plain Python file by gunicorn (not imported as part of the
``app`` package): it imports nothing from the app at the top; ``on_starting``
imports :mod:`app.first_screen` (standard library only) in the master process.
"""

import os
import sys
import time

#: Files the server writes (uploads, saved runs, job results, the job-signing
#: secret) are readable by the server's user only: 0600 files, 0700 folders.
PRIVATE_UMASK = 0o077

worker_class = "asgi"
#: Web processes (``WEB_CONCURRENCY``, gunicorn's own variable; default 2: on
#: 2 cores one process is saturated by 20 users, two meet the k-change target;
#: ``benchmarks/README.md``).
#: Each has its own threads and in-memory results; they share the data folder
#: (or Redis), where background jobs, results and their locks live.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
#: Connections one worker holds open at once (slow ones included).
worker_connections = 1000
#: The event loop beats every second; a worker silent this long is restarted.
#: Also how long a request body may make no progress before it is dropped.
timeout = 180
graceful_timeout = 30
keepalive = 5
asgi_loop = "asyncio"
asgi_lifespan = "auto"
umask = PRIVATE_UMASK
#: No runtime control socket (one per user by default): servers started side by
#: side, as the tests do, would share it, and nobody manages this one at run time.
control_socket_disable = True
#: Request line and headers: gunicorn's defaults, stated (bodies: app.front).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190


def on_starting(server) -> None:
    """Set the process umask, then prepare the built-in sample, before listening.

    gunicorn's ``umask`` setting only applies to its own sockets and temporary
    files; the worker, its background-job processes and every file they write
    inherit the process umask set here.

    The sample's first screen is prepared here, in a process of its own
    (:func:`app.first_screen.prepare_before_serving`), before gunicorn binds
    its address: the web processes are forked from this one with the sample's
    panels, so a page opened as soon as the server answers shows them at
    once. ``SEGMENTATION_FIRST_SCREEN=0`` skips it (the pages then prepare the
    sample themselves).
    """
    os.umask(PRIVATE_UMASK)
    if os.environ.get("SEGMENTATION_FIRST_SCREEN", "1") == "0":
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:  # gunicorn reads this file before the app's path
        sys.path.insert(0, root)
    from app import first_screen

    started = time.monotonic()
    server.log.info("Preparing the built-in sample before listening")
    if first_screen.prepare_before_serving():
        seconds = time.monotonic() - started
        server.log.info("The built-in sample is ready (%.1f s)", seconds)
    else:
        server.log.warning("The built-in sample is not ready: pages will prepare it")
