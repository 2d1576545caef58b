"""Whose uploads, datasets, view links and background jobs: one workspace's each.

A page holds ids, not data (DESIGN section 2): the dataset id (the sha256 of
the file's bytes) in its dataset store, a staged upload's id, a view link's
token, a background job's handle. Any of them can be sent again by hand, or
guessed (the sha256 of a published export is anyone's to compute). When
requests have owners (:func:`app.auth.workspace` is not None: accounts, a
required log-in, or an anonymous browser's private workspace), each id is
tied to the workspace that received it, and another workspace's is refused:

Claims (:func:`claim`, kept in the store, :meth:`app.storage.Store.claim`)
    ``POST /upload`` claims the staged upload's id and the file's sha256 for
    the workspace that sent the bytes (:mod:`app.upload_route`); reopening a
    saved run claims its dataset (:mod:`app.callbacks.runs`); starting a
    background job claims its handle (``cacheKey``, :func:`_note_job`). The
    built-in sample is everyone's. Having sent the bytes is the only way to
    hold a dataset: knowing its sha256 is not. Claims live in the store and
    are evicted with its oldest entries (as the data they guard are): a page
    whose claim was evicted is refused and asked to upload the file again.
Checks (:func:`check_callback`, before every Dash callback)
    Every dataset id in a callback's inputs and state (a ``{"id": <64 hex>}``
    or ``{"dataset": <64 hex>}`` anywhere in their values: the dataset store,
    the waiting mapping's, the view store's, a warm or comparison request's,
    the comparison's and the what-if's stores), every staged upload id
    (``{"upload": ...}``), and the handle of a job's poll (``?cacheKey=``)
    must be the workspace's. Otherwise the callback answers 403 with
    ``{"error": ...}`` saying so, without computing anything; the page and the
    server carry on.
View links (``?view=``, :mod:`app.callbacks.view_url`)
    Open only in a workspace that holds their dataset: a link replayed in
    another browser (or by another user in the same browser) is refused with a
    message and the page shows the sample.

In the local workspace (``python -m app`` on loopback, no accounts) nothing is
checked, as before accounts existed.
"""

from __future__ import annotations

import functools
import json
import re

import flask

from app import auth, storage

#: The Dash callback route (after any path prefix).
CALLBACK_PATH = "/_dash-update-component"
#: Largest answer read for a job handle (a job's first answer is a few hundred bytes).
_HANDLE_ANSWER_BYTES = 16 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{22,64}")
#: Words of the refusal (the same whatever was refused: nothing is revealed).
REFUSED = (
    "This page sent a dataset, upload or job that is not in your workspace "
    "(another user's or another browser's, or one the server no longer keeps); "
    "nothing was read. Reload the page and upload the file again."
)


@functools.cache
def sample_id() -> str:
    """Return the dataset id of the built-in sample (everyone's)."""
    import segmentation

    return storage.content_id(segmentation.load_sample())


def claim(name: str, workspace: str | None = None) -> None:
    """Note that this request's workspace holds a dataset, upload or job ``name``.

    Parameters
    ----------
    name : str
        A dataset id (sha256), a staged upload's id, or a job's handle.
    workspace : str, optional
        Default :func:`app.auth.workspace`; nothing is noted in the local
        workspace (None).
    """
    workspace = auth.workspace() if workspace is None else workspace
    if workspace is not None and name:
        storage.get_store().claim(str(name), workspace)


def owns(name: str, workspace: str | None = None) -> bool:
    """Whether this request's workspace holds ``name`` (always in the local one).

    The built-in sample is everyone's.
    """
    workspace = auth.workspace() if workspace is None else workspace
    if workspace is None or name == sample_id():
        return True
    return storage.get_store().claimed(str(name), workspace)


def sent_ids(value, found: dict | None = None, depth: int = 0) -> dict:
    """Return the dataset and upload ids anywhere in a callback input's value.

    Parameters
    ----------
    value : object
        JSON: an input's or state's ``value``.

    Returns
    -------
    dict
        ``{"datasets": set of sha256, "uploads": set of upload ids}``: the
        string values of keys ``id`` and ``dataset`` that are 64 hex digits
        (a dataset store; the comparison's and the what-if's stores name
        their dataset so), and of keys ``upload`` that look like an upload id.
    """
    found = {"datasets": set(), "uploads": set()} if found is None else found
    if depth > 40:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                if key in ("id", "dataset") and _SHA256.fullmatch(item):
                    found["datasets"].add(item)
                elif key == "upload" and _UPLOAD_ID.fullmatch(item):
                    found["uploads"].add(item)
            else:
                sent_ids(item, found, depth + 1)
    elif isinstance(value, list):
        for item in value:
            sent_ids(item, found, depth + 1)
    return found


def _values(entries) -> list:
    """Return the ``value`` of each input or state entry (lists: pattern-matching)."""
    values = []
    for entry in entries or []:
        if isinstance(entry, list):
            values.extend(_values(entry))
        elif isinstance(entry, dict):
            values.append(entry.get("value"))
    return values


def check_callback(body: dict, workspace: str, handle: str | None = None) -> bool:
    """Whether a Dash callback request sends only the workspace's ids.

    Parameters
    ----------
    body : dict
        The request's JSON (``inputs``, ``state``).
    workspace : str
        :func:`app.auth.workspace` of the request.
    handle : str, optional
        The ``cacheKey`` of a background job's poll.
    """
    if handle is not None and not owns(f"job:{handle}", workspace):
        return False
    found = {"datasets": set(), "uploads": set()}
    for value in _values(body.get("inputs")) + _values(body.get("state")):
        sent_ids(value, found)
    return all(owns(sha, workspace) for sha in found["datasets"]) and all(
        owns(f"upload:{u}", workspace) for u in found["uploads"]
    )


def _is_callback(request: flask.Request) -> bool:
    return request.method == "POST" and request.path.endswith(CALLBACK_PATH)


def _refused() -> flask.Response:
    response = flask.jsonify(error=REFUSED)
    response.status_code = 403
    return response


def _note_job(response: flask.Response) -> None:
    """Claim a background job's handle for the workspace that started it."""
    if response.status_code != 200 or response.mimetype != "application/json":
        return
    if (response.content_length or 0) > _HANDLE_ANSWER_BYTES:
        return
    try:
        answer = json.loads(response.get_data())
    except ValueError:
        return
    if isinstance(answer, dict) and isinstance(answer.get("cacheKey"), str):
        claim(f"job:{answer['cacheKey']}")


def register_ownership(server: flask.Flask) -> None:
    """Check every Dash callback's ids against the request's workspace.

    Called by :func:`app.auth.register_auth` after its own hook (which sets
    the request's user).
    """

    @server.before_request
    def refuse_foreign_ids():
        request = flask.request
        if not _is_callback(request):
            return None
        workspace = auth.workspace()
        if workspace is None:
            return None
        body = request.get_json(silent=True, cache=True)
        handle = request.args.get("cacheKey")
        if not isinstance(body, dict) or not check_callback(body, workspace, handle):
            return _refused()
        return None

    @server.after_request
    def note_jobs(response: flask.Response) -> flask.Response:
        request = flask.request
        if (
            _is_callback(request)
            and "cacheKey" not in request.args
            and auth.workspace() is not None
        ):
            _note_job(response)
        return response
