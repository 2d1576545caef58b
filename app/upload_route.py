"""``POST /upload``: a file streamed to disk, for the page that sent it.

The page's ``assets/upload.js`` sends the chosen file's bytes as the request
body (``Content-Type: application/octet-stream``), its name in the
``X-File-Name`` header (percent-encoded UTF-8) and the page's token
(:data:`app.layout.PAGE_TOKEN`) in ``X-Page-Token``, with upload progress
events for a progress bar in bytes. Nothing goes through a Dash callback as
base64 any more.

The route

1. refuses, before reading a byte: a declared ``Content-Length`` over the
   upload limit (413, :data:`UPLOAD_LIMIT_BYTES`, the engine's
   ``segmentation.io.DEFAULT_LIMITS.max_bytes``), a content type other than
   ``application/octet-stream``, a missing or unusable file name or page token,
   a file type the app does not read (400; each message says what was wrong);
2. streams the body to a private staging file (mode 0600 in
   ``<data_dir>/uploads``, 0700) in chunks of :data:`CHUNK_BYTES`, hashing as it
   goes, never holding the file in memory; a body that passes the limit while
   read (no ``Content-Length``) is dropped with 413;
3. answers 201 with ``{"upload", "filename", "bytes", "sha256"}``: ``upload``
   is a random id only this answer carries.

The page then starts the loading job on that id (:mod:`app.callbacks.upload`),
which takes the staged file back only for the same page token
(:meth:`Staging.take`), deletes it, and stores the bytes only if the engine
accepts them (:meth:`app.storage.Store.accept_upload`): nothing refused is
stored. Staged files nobody took are removed after :data:`STAGED_SECONDS`,
and a page's new upload replaces its earlier staged one.

The browser cookie
    :func:`register_upload_route` also gives each browser a random id in an
    ``HttpOnly`` cookie (:data:`BROWSER_COOKIE`), set on the page's answer.
    The links that reopen a view (:mod:`app.callbacks.view_url`) are tied to
    it: a link opens its dataset only in a browser that had that dataset on
    screen.

Owners
    Where requests have owners (accounts, or anonymous browsers' private
    workspaces), the upload's id and the file's sha256 are claimed for the
    sender's workspace (:mod:`app.ownership`): another workspace that sends
    them to the loading job is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import time
import urllib.parse
from pathlib import Path

import flask

from app import storage
from segmentation.errors import SegmentationError
from segmentation.io import DEFAULT_LIMITS

#: The route's path (also in ``assets/upload.js``).
UPLOAD_PATH = "/upload"
#: Largest file accepted (bytes): the engine's own limit, 200 MiB.
UPLOAD_LIMIT_BYTES = DEFAULT_LIMITS.max_bytes
#: Bytes read from the request and written to disk at a time.
CHUNK_BYTES = 1024 * 1024
CONTENT_TYPE = "application/octet-stream"
NAME_HEADER = "X-File-Name"
PAGE_HEADER = "X-Page-Token"
#: File types the reader knows (as the upload box offers them).
EXTENSIONS = (".csv", ".xlsx", ".xls", ".xlsm")
#: A staged file not taken by a job within this many seconds is removed.
STAGED_SECONDS = 3600
#: The browser's random id (32 hex digits), the key of its view links.
BROWSER_COOKIE = "segmentation_browser"
BROWSER_COOKIE_SECONDS = 365 * 24 * 3600
STAGING_FOLDER = "uploads"

_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def limit_words(limit: int = UPLOAD_LIMIT_BYTES) -> str:
    """Return the upload limit in words: ``200 MB (209,715,200 bytes)``."""
    return f"{limit // 2**20} MB ({limit:,} bytes)"


def too_large(name: str, size: int | None, limit: int = UPLOAD_LIMIT_BYTES) -> str:
    """Return the message for a file over the limit, naming the file and the limit."""
    what = f"The file {name}" if name else "The file"
    size_words = "" if size is None else f" ({size / 2**20:.1f} MB)"
    return (
        f"{what}{size_words} is larger than the upload limit of "
        f"{limit_words(limit)}; nothing was uploaded."
    )


class UploadRefused(Exception):
    """An upload the route does not take: ``status`` (400/411/413) and message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Staging:
    """Uploaded files waiting for their loading job, in a private folder.

    Parameters
    ----------
    directory : path-like
        The staging folder (made 0700; files 0600).

    Each upload is two files: ``<id>.bin`` (the bytes) and ``<id>.json``
    (``filename``, ``bytes``, ``sha256``, ``page``, ``browser``, ``time``).
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = storage.make_private(directory)

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        if not _UPLOAD_ID.match(upload_id or ""):
            raise SegmentationError(f"{upload_id!r} is not an upload id")
        return (
            self.directory / f"{upload_id}.bin",
            self.directory / f"{upload_id}.json",
        )

    def receive(
        self,
        stream,
        filename: str,
        page: str,
        browser: str | None = None,
        limit: int = UPLOAD_LIMIT_BYTES,
    ) -> dict:
        """Write ``stream`` to a staging file in chunks; return its description.

        Parameters
        ----------
        stream : file-like
            The request body (``read(n)`` until ``b""``).
        filename : str
            The file's name, for messages and the reader's format.
        page : str
            The page token of the page that sends it.
        browser : str, optional
            The browser's id (:data:`BROWSER_COOKIE`).
        limit : int
            Largest size in bytes.

        Returns
        -------
        dict
            ``{"upload", "filename", "bytes", "sha256"}``.

        Raises
        ------
        UploadRefused
            413 when the body passes ``limit`` (the partial file is removed);
            400 when it is empty.
        storage.DataFolderError
            When the staging folder cannot be written (names it and why).
        """
        self.sweep(page)
        upload_id = secrets.token_urlsafe(24)
        data_path, meta_path = self._paths(upload_id)
        digest, size = hashlib.sha256(), 0
        try:
            fd = os.open(data_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK_BYTES):
                    size += len(chunk)
                    if size > limit:
                        raise UploadRefused(413, too_large(filename, None, limit))
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise UploadRefused(400, f"{filename} is empty (0 bytes)")
            meta = {
                "filename": filename,
                "bytes": size,
                "sha256": digest.hexdigest(),
                "page": page,
                "browser": browser,
                "time": time.time(),
            }
            fd = os.open(meta_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(meta, out)
        except UploadRefused:
            self.discard(upload_id)
            raise
        except OSError as err:
            self.discard(upload_id)
            raise storage.folder_error(err, self.directory) or err from None
        return {
            "upload": upload_id,
            "filename": filename,
            "bytes": size,
            "sha256": meta["sha256"],
        }

    def take(self, upload_id: str, page: str) -> tuple[bytes, dict]:
        """Return a staged file's bytes and description, and remove it.

        Only the page that sent the file (same ``page`` token) can take it.

        Raises
        ------
        SegmentationError
            When the id is unknown, already taken, expired, or another page's
            (the message says to choose the file again).
        """
        data_path, meta_path = self._paths(upload_id)
        gone = SegmentationError(
            "The uploaded file is no longer waiting on the server (taken "
            f"already, or older than {STAGED_SECONDS // 60} minutes); please "
            "choose it again."
        )
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            raise gone from None
        if meta.get("page") != page:
            raise gone
        try:
            data = data_path.read_bytes()
        except OSError:
            raise gone from None
        finally:
            self.discard(upload_id)
        return data, meta

    def discard(self, upload_id: str) -> None:
        """Remove a staged file (nothing happens when it is not there)."""
        for path in self._paths(upload_id):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def sweep(self, page: str | None = None, now: float | None = None) -> list[str]:
        """Remove staged files older than :data:`STAGED_SECONDS`, and ``page``'s.

        A page's earlier upload is replaced by its new one: only the last file
        a page chose can be loaded. Returns the removed ids.
        """
        now = time.time() if now is None else now
        removed = []
        for meta_path in self.directory.glob("*.json"):
            upload_id = meta_path.stem
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                meta = {}
            old = now - float(meta.get("time", 0)) > STAGED_SECONDS
            if old or (page is not None and meta.get("page") == page):
                self.discard(upload_id)
                removed.append(upload_id)
        for data_path in self.directory.glob("*.bin"):  # left by a crash
            if not data_path.with_suffix(".json").exists():
                with contextlib.suppress(OSError):
                    if now - data_path.stat().st_mtime > STAGED_SECONDS:
                        data_path.unlink()
        return removed


def staging() -> Staging:
    """Return the staging folder next to the store (``<data_dir>/uploads``).

    With ``REDIS_URL``: the staging in Redis (:class:`app.store_redis.RedisStaging`),
    so a worker or web process on another machine takes the file.
    """
    from app import store_redis

    shared = store_redis.shared_staging()
    if shared is not None:
        return shared
    return Staging(storage.get_store().directory.parent / STAGING_FOLDER)


def file_name(header: str | None) -> str:
    """Return the file name sent in :data:`NAME_HEADER` (percent-encoded UTF-8).

    Raises
    ------
    UploadRefused
        400 when it is missing, empty after removing any folder part, or not a
        file type the reader knows.
    """
    if not header:
        raise UploadRefused(400, f"The upload has no file name ({NAME_HEADER}).")
    name = urllib.parse.unquote(header).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if not name:
        raise UploadRefused(400, f"The upload's file name {header!r} is empty.")
    if not name.lower().endswith(EXTENSIONS):
        raise UploadRefused(
            400,
            f"{name}: the app reads {' '.join(EXTENSIONS)} files; "
            "nothing was uploaded.",
        )
    return name


def check_request(request: flask.Request) -> tuple[str, str]:
    """Check an upload request before its body is read; return (file name, page).

    Raises
    ------
    UploadRefused
        413 for a declared ``Content-Length`` over the limit; 400 for another
        content type, a missing page token or file name, or an unknown type.
    """
    name = urllib.parse.unquote(request.headers.get(NAME_HEADER, "") or "")
    declared = request.content_length
    if declared is not None and declared > UPLOAD_LIMIT_BYTES:
        raise UploadRefused(413, too_large(name, declared))
    if request.mimetype != CONTENT_TYPE:
        raise UploadRefused(
            400,
            f"The upload must be sent as {CONTENT_TYPE}, not "
            f"{request.mimetype or 'no content type'}.",
        )
    page = request.headers.get(PAGE_HEADER, "")
    if not _TOKEN.match(page):
        raise UploadRefused(
            400, f"The upload has no page token ({PAGE_HEADER}): reload the page."
        )
    return file_name(request.headers.get(NAME_HEADER)), page


def receive_upload():
    """Serve ``POST /upload`` (see the module docstring)."""
    request = flask.request
    try:
        name, page = check_request(request)
        answer = staging().receive(
            request.stream, name, page, request.cookies.get(BROWSER_COOKIE)
        )
    except UploadRefused as refused:
        response = flask.jsonify(error=str(refused))
        response.status_code = refused.status
        if refused.status == 413:
            response.headers["Connection"] = "close"
        return response
    except storage.DataFolderError as err:
        return flask.jsonify(error=str(err)), 507
    from app import ownership  # the sender's workspace holds the file (and its id)

    ownership.claim(f"upload:{answer['upload']}")
    ownership.claim(answer["sha256"])
    return flask.jsonify(answer), 201


def browser_id(request: flask.Request | None = None) -> str | None:
    """Return the browser's id from its cookie (None when it has none)."""
    if request is None:
        if not flask.has_request_context():
            return None
        request = flask.request
    value = request.cookies.get(BROWSER_COOKIE, "")
    return value if _TOKEN.match(value) else None


def register_upload_route(server: flask.Flask) -> None:
    """Add ``POST /upload`` and the browser cookie to the Flask ``server``.

    Parameters
    ----------
    server : flask.Flask
        The Dash app's server.
    """
    server.add_url_rule(
        UPLOAD_PATH, "upload", receive_upload, methods=["POST"], strict_slashes=True
    )

    @server.after_request
    def give_browser_id(response: flask.Response) -> flask.Response:
        request = flask.request
        if (
            request.method == "GET"
            and response.mimetype == "text/html"
            and browser_id(request) is None
        ):
            response.set_cookie(
                BROWSER_COOKIE,
                secrets.token_hex(16),
                max_age=BROWSER_COOKIE_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure,
            )
        return response
