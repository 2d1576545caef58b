"""The server's front: an ASGI app that keeps slow clients off the WSGI threads.

gunicorn's ``asgi`` worker (:mod:`app.gunicorn_conf`) reads requests in one
asyncio event loop, so a client that sends its headers or its body slowly holds a
connection, never a thread. :class:`BufferedFront` then, still in the loop:

1. answers ``GET /api/health`` itself (the same JSON as :mod:`app.api`), so the
   health check never waits behind the app's threads;
2. refuses a body whose ``Content-Length`` is over the route's limit
   (:func:`app.guards.body_limit`) with 413 before reading it, and counts a
   body sent without a length (chunked), refusing it once it passes the limit;
3. reads the whole body into a spooled file (memory up to :data:`SPOOL_BYTES`,
   then an anonymous temporary file, mode 0600, deleted when closed: a 200 MB
   upload does not sit in memory), then hands the request to a WSGI thread
   (`a2wsgi <https://pypi.org/project/a2wsgi/>`_'s ``WSGIMiddleware``: a pool
   of :data:`WSGI_THREADS` threads running the Dash/Flask app) with that file
   as its input; the thread joins the app's answer and hands it back in one
   piece, so a client that reads slowly does not hold it either.

Every answer gets a ``Server`` header without software or version, and the
headers of :data:`app.guards.SECURITY_HEADERS` where the app did not set them.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable

from a2wsgi import WSGIMiddleware

import segmentation
from app.guards import SECURITY_HEADERS, body_limit, too_large_message

#: Threads that run the Dash/Flask app (env ``SEGMENTATION_WEB_THREADS``).
WSGI_THREADS = int(os.environ.get("SEGMENTATION_WEB_THREADS", "4"))
HEALTH_PATH = "/api/health"
#: A request body is held in memory up to this size, on disk beyond it.
SPOOL_BYTES = 2**20
#: After a 413, the refused body is read and dropped for at most this long, so
#: that the client, still sending, gets the answer rather than a reset.
DRAIN_SECONDS = 5.0
SERVER_NAME = "segmentation-studio"
#: The policy of the answers the front writes itself (JSON, nothing to run).
FRONT_CSP = "default-src 'none'; frame-ancestors 'self'"
_BODY = "app.front.body"

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class BufferedFront:
    """ASGI application in front of a WSGI app (see the module docstring).

    Parameters
    ----------
    wsgi_app : callable
        The WSGI application (the Dash app's Flask ``server``).
    threads : int, default :data:`WSGI_THREADS`
        Threads that run ``wsgi_app``.
    limit : callable, default :func:`app.guards.body_limit`
        The largest body, in bytes, for a request path.
    """

    def __init__(
        self,
        wsgi_app,
        threads: int = WSGI_THREADS,
        limit: Callable[[str], int] = body_limit,
    ):
        self.threads = threads
        self.limit = limit
        self.wsgi = WSGIMiddleware(_with_spooled_body(wsgi_app), workers=threads)
        self._health = json.dumps(
            {"status": "ok", "version": segmentation.__version__}
        ).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope (lifespan and websocket go to a2wsgi)."""
        if scope["type"] != "http":
            await self.wsgi(scope, receive, send)
            return
        send = _with_headers(send)
        method, path = scope["method"], scope["path"]
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            await _answer(send, 200, self._health, head=method == "HEAD")
            return
        limit = self.limit(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, receive, too_large_message(path))
            return
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        try:
            size = await _read_body(receive, spool, limit)
        except OSError as error:  # the temporary folder is full or unwritable
            spool.close()
            message = f"The server could not hold the request body: {error}"
            await _answer(send, 503, _error(message))
            return
        if size is None:  # the client left before its body was complete
            spool.close()
            return
        if size > limit:
            spool.close()
            await _refuse(send, receive, too_large_message(path))
            return
        spool.seek(0)
        extensions = {**(scope.get("extensions") or {}), _BODY: (spool, size)}
        await self.wsgi({**scope, "extensions": extensions}, _no_more(receive), send)


async def _read_body(receive: Receive, spool, limit: int) -> int | None:
    """Copy the request body into ``spool``; return its size (None: client left).

    Stops at the first chunk that takes the size past ``limit`` (the size
    returned is then over it).
    """
    size = 0
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            return None
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > limit:
            return size
        spool.write(chunk)
        if not event.get("more_body", False):
            return size


async def _refuse(send: Send, receive: Receive, message: str) -> None:
    """Answer 413, then drop what the client still sends for a few seconds."""
    await _answer(send, 413, _error(message), close=True)
    deadline = time.monotonic() + DRAIN_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = await asyncio.wait_for(receive(), timeout=left)
        except TimeoutError:
            return
        if event["type"] != "http.request" or not event.get("more_body"):
            return


def _no_more(receive: Receive) -> Receive:
    """Say once that the body is complete, then wait for the client as before."""
    said = False

    async def next_event() -> dict:
        nonlocal said
        if not said:
            said = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await receive()

    return next_event


def _with_spooled_body(wsgi_app):
    """Wrap ``wsgi_app``: it reads the spooled body and answers in one piece.

    The answer is joined in the app's thread (the app's answers are in memory
    already: pages, JSON, small files), so the thread hands it over in one
    message and is free at once: a client that reads slowly, or leaves, holds
    the connection, not the thread (a2wsgi's thread would otherwise wait for
    the event loop to send each piece, and for good once its queue of 10
    pieces is full and the client has gone).
    """

    def app(environ, start_response):
        spool, size = environ["asgi.scope"]["extensions"].pop(_BODY)
        environ["wsgi.input"] = spool
        environ["CONTENT_LENGTH"] = str(size)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        try:
            result = wsgi_app(environ, start_response)
            try:
                answer = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        finally:
            spool.close()
        return [answer]

    return app


def _content_length(scope: Scope) -> int | None:
    """Return the declared ``Content-Length`` (gunicorn checked its syntax)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value)
    return None


def _with_headers(send: Send) -> Send:
    """Add the ``Server`` header and any missing security header to the answer."""
    extra = {
        "server": SERVER_NAME,
        **{name.lower(): value for name, value in SECURITY_HEADERS.items()},
        "content-security-policy": FRONT_CSP,
    }

    async def send_with_headers(event: dict) -> None:
        if event["type"] == "http.response.start":
            headers = list(event.get("headers", []))
            present = {name.lower() for name, _ in headers}
            headers += [
                (name.encode(), value.encode())
                for name, value in extra.items()
                if name.encode() not in present
            ]
            event = {**event, "headers": headers}
        await send(event)

    return send_with_headers


def _error(message: str) -> bytes:
    """Return the JSON ``{"error": message}`` as bytes."""
    return json.dumps({"error": message}).encode()


async def _answer(
    send: Send, status: int, body: bytes, head: bool = False, close: bool = False
) -> None:
    """Send a whole JSON answer."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
