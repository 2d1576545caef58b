"""What every HTTP answer of the app carries: size limit, headers, no versions, 404s.

:func:`register_guards` adds to the Dash app's Flask server:

- **request size limits** (:func:`body_limit`): ``MAX_CONTENT_LENGTH`` is the
  upload limit (``segmentation.io.DEFAULT_LIMITS.max_bytes``, 200 MiB), the body
  of ``POST /upload`` (:mod:`app.upload_route`: the file's bytes as they are);
  every other route (Dash callbacks' JSON, the API) takes at most
  :data:`REQUEST_BODY_BYTES`. The server's front (:mod:`app.front`) refuses a
  larger body with the same 413 before reading it;
- **headers** (:data:`SECURITY_HEADERS` and a Content-Security-Policy built from
  the page's inline-script hashes, :func:`content_security_policy`);
- **no versions on the page**: the Dash config's version fields are emptied and
  the version in each script URL's cache-busting token is replaced by an opaque
  one, the same in every process of a server (:func:`file_token_salt`; the
  files are served as before: Dash strips any token);
- **404s**: a JSON ``{"error": ...}`` for an unknown path under ``/api`` (the Dash
  page would otherwise answer it with 200), and 404 rather than 500 for an
  unknown ``/_dash-component-suites/...`` file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import flask
from dash.exceptions import DependencyException
from werkzeug.exceptions import HTTPException

from app.upload_route import UPLOAD_PATH
from segmentation.io import DEFAULT_LIMITS

#: Largest file a user may upload (bytes): the engine's own limit, the body of
#: ``POST /upload``.
UPLOAD_LIMIT_BYTES = DEFAULT_LIMITS.max_bytes
#: ``POST /api/runs`` (:mod:`app.api_runs`): a file as large as an upload, in a
#: multipart form whose other fields and boundaries take at most
#: :data:`RUN_FORM_BYTES` more.
RUN_UPLOAD_PATH = "/api/runs"
RUN_FORM_BYTES = 64 * 1024
#: Largest body on every other route (bytes): a Dash callback's JSON (inputs
#: and state: ids, a selection of at most 10,000 scatter points, about 2 MB)
#: or an API request (at most 4 MiB, :mod:`app.api`).
REQUEST_BODY_BYTES = 16 * 2**20
#: The words of a 413 from ``POST /upload``.
TOO_LARGE_MESSAGE = (
    f"The file is larger than the upload limit of {UPLOAD_LIMIT_BYTES // 2**20} MB "
    f"({UPLOAD_LIMIT_BYTES:,} bytes); nothing was uploaded."
)

#: Headers on every answer (with the app's CSP, see content_security_policy).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
}

_API = "/api"
_CONFIG = re.compile(
    r'(<script id="_dash-config" type="application/json">)(.*?)(</script>)', re.S
)
#: Dash's cache-busting token in a file name: ``.v<version>m<mtime>.``.
_FINGERPRINT = re.compile(r"(/_dash-component-suites/[^\"'\s]*?\.)v[\w-]+m([0-9]+)\.")
_FAVICON_VERSION = re.compile(r"(_favicon\.ico)\?v=[^\"'\s]*")
_VERSION_KEYS = ("dash_version", "python_version", "plotly_version", "ddk_version")


def content_security_policy(script_hashes: list[str]) -> str:
    """Return the page's Content-Security-Policy.

    Parameters
    ----------
    script_hashes : list of str
        CSP hash sources (``'sha256-...'``) of the page's inline scripts, as
        ``dash.Dash.csp_hashes()`` returns them (the renderer start-up and the
        clientside callbacks).

    Returns
    -------
    str
        Scripts only from this server or with those hashes; ``'unsafe-eval'``
        because plotly's WebGL traces (the customer scatter) compile their
        shaders' code with ``new Function``; inline styles, which plotly and
        React set on elements; images and fonts also from ``data:`` and
        ``blob:`` URLs (plotly's image export, Bootstrap's icons); no plugins;
        framed only by this site (``frame-ancestors 'self'``).
    """
    sources = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes, "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in sources.items())


def file_token_salt(secret_key: bytes | str | None) -> bytes:
    """Return the salt of the page's file tokens (:func:`hide_versions`).

    Derived from the server's signing key (shared by its web processes, and by
    servers sharing one Redis, :func:`app.auth.secret_key`), so that every
    process names the page's files alike: a browser whose pages come from
    either process then reuses the files it has (and their compiled code)
    instead of fetching each under two names, as a random salt per process
    made it do. The names stay the same across restarts, too.

    Raises
    ------
    ValueError
        Without a signing key (:func:`register_guards` runs after the log-in
        set-up, which gives the server its key).
    """
    if not secret_key:
        raise ValueError("the server has no signing key to derive file tokens from")
    key = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)
    return hmac.new(key, b"segmentation: page file tokens", hashlib.sha256).digest()


def hide_versions(html: str, salt: bytes) -> str:
    """Remove library versions from the Dash page's HTML.

    Parameters
    ----------
    html : str
        The page as Dash renders it.
    salt : bytes
        Secret mixed into the tokens that replace the versions in file URLs, so
        that a token cannot be matched against the tokens of known versions.

    Returns
    -------
    str
        The page with the config's ``dash_version``, ``python_version``,
        ``plotly_version`` and ``ddk_version`` set to null (the version check is
        switched off: it only runs in debug mode), and each ``.v<version>m<mtime>.``
        file token and the favicon's ``?v=<version>`` replaced by a digest. The
        third-party file names that carry their own version (``react@18.3.1``)
        are left: they are the names Dash serves them under.
    """

    def token(text: str) -> str:
        return hashlib.sha256(salt + text.encode()).hexdigest()[:12]

    def config(match: re.Match) -> str:
        values = json.loads(match.group(2))
        for key in _VERSION_KEYS:
            values[key] = None
        values["dash_version_url"] = None
        values["disable_version_check"] = True
        text = json.dumps(values, separators=(",", ":")).replace("</", "<\\/")
        return match.group(1) + text + match.group(3)

    html = _CONFIG.sub(config, html, count=1)
    html = _FINGERPRINT.sub(
        lambda m: f"{m.group(1)}v{token(m.group(0))}m{m.group(2)}.", html
    )
    return _FAVICON_VERSION.sub(lambda m: f"{m.group(1)}?v={token(m.group(0))}", html)


def body_limit(path: str) -> int:
    """Return the largest request body accepted at ``path``, in bytes.

    Parameters
    ----------
    path : str
        The request's path.

    Returns
    -------
    int
        :data:`UPLOAD_LIMIT_BYTES` for ``POST /upload`` (plus
        :data:`RUN_FORM_BYTES` for ``POST /api/runs``), else
        :data:`REQUEST_BODY_BYTES`.
    """
    if path == RUN_UPLOAD_PATH:
        return UPLOAD_LIMIT_BYTES + RUN_FORM_BYTES
    return UPLOAD_LIMIT_BYTES if path == UPLOAD_PATH else REQUEST_BODY_BYTES


def too_large_message(path: str) -> str:
    """Return the 413's words for a request to ``path``.

    Parameters
    ----------
    path : str
        The request's path.

    Returns
    -------
    str
        :data:`TOO_LARGE_MESSAGE` for the upload route, otherwise the route's
        body limit in bytes.
    """
    if path == UPLOAD_PATH:
        return TOO_LARGE_MESSAGE
    return f"The request body is over the limit of {body_limit(path):,} bytes."


def register_guards(app) -> None:
    """Add the request limit, headers, version hiding and 404s to ``app.server``.

    Parameters
    ----------
    app : dash.Dash
        The app, after its callbacks and ``/api`` routes are registered (the
        page's CSP hashes its inline scripts on the first page request).
    """
    server: flask.Flask = app.server
    server.config["MAX_CONTENT_LENGTH"] = UPLOAD_LIMIT_BYTES
    salt = file_token_salt(server.secret_key)
    policy: list[str] = []  # built on the first answer, all callbacks known

    @server.before_request
    def limit_and_route():
        request = flask.request
        path = request.path
        request.max_content_length = body_limit(path)
        if not (path == _API or path.startswith(_API + "/")) or _is_api(request):
            return None
        allowed = _api_methods(path)
        if allowed:
            message = f"{request.method} is not allowed at {path}: use {allowed}"
            return flask.jsonify(error=message), 405, {"Allow": allowed}
        return flask.jsonify(error=f"no API route at {path}"), 404

    @server.after_request
    def add_headers(response: flask.Response) -> flask.Response:
        page = response.mimetype == "text/html" and not response.direct_passthrough
        if page and response.status_code == 200:
            response.set_data(hide_versions(response.get_data(as_text=True), salt))
        if not policy:
            policy.append(content_security_policy(list(app.csp_hashes())))
        response.headers.update(SECURITY_HEADERS)
        response.headers["Content-Security-Policy"] = policy[0]
        return response

    @server.errorhandler(DependencyException)
    def unknown_component_file(error: DependencyException):
        return f"Not found: {flask.request.path}", 404, {"Content-Type": "text/plain"}

    @server.errorhandler(413)
    def too_large(error: HTTPException):
        return flask.jsonify(error=too_large_message(flask.request.path)), 413


def _is_api(request: flask.Request) -> bool:
    """Whether the request was routed to one of the ``/api`` routes."""
    rule = request.url_rule
    return rule is not None and rule.rule.startswith(_API + "/")


def _api_methods(path: str) -> str:
    """Return the methods of the ``/api`` route at ``path`` (``""``: no route)."""
    adapter = flask.current_app.url_map.bind("localhost")
    methods = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if rule.rule.startswith(_API + "/"):
            methods.append(method)
    return ", ".join(methods)
