"""Who may use the app: a log-in page, sessions, API keys, rate limits, exposure.

:func:`register_auth` adds to the Dash app's Flask server:

When login is required
    When any account exists (:mod:`app.accounts`), or
    ``SEGMENTATION_REQUIRE_LOGIN=1``, or the server listens on an address other
    than loopback (unless ``SEGMENTATION_ALLOW_ANONYMOUS=1``). The answer is
    read at each request, so ``python -m app users add`` takes effect at once.
    Without any of these (``python -m app`` on 127.0.0.1 with no account) the
    app is open, as before.
Every route needs a session or a key
    A browser logs in at ``/login`` (a signed session cookie: HttpOnly,
    SameSite=Lax; the signing key is ``flask_secret_key`` in the data folder,
    0600, made once); a program sends ``Authorization: Bearer KEY``. Without
    either, pages redirect to ``/login?next=...`` and everything else (``/api/*``,
    Dash's ``/_dash-*`` requests, ``POST /upload``) answers 401 with a JSON
    ``{"error": ...}`` and ``WWW-Authenticate: Bearer``. A key that is unknown or
    revoked is refused with 401 wherever it is sent. Open to all:
    :data:`OPEN_PATHS` (the log-in page, the health check, the API's contract
    and docs).
Rate limit
    Requests made with an API key are limited per key by a token bucket:
    ``SEGMENTATION_API_RATE`` (default :data:`DEFAULT_RATE`, ``N/second``,
    ``N/minute`` or ``N/hour``): a burst of N, then one request per period/N.
    Over it: 429 with ``Retry-After`` (whole seconds). The buckets are shared
    by every web process of the server (:mod:`app.gunicorn_conf` may run
    several), so a key gets the rate once, not once per process: in the data
    folder (``limits/``, SQLite through diskcache), or in Redis with
    ``REDIS_URL``, then shared by every server using it (:mod:`app.limits`).
Exposure check
    :func:`check_exposure` refuses to build the app when the process listens
    on an address other than loopback (read from the process's own listening
    sockets, :func:`listening_addresses`: gunicorn has bound them before it
    loads the app in its worker, whatever ``--bind`` said) while no account
    exists, ``SEGMENTATION_REQUIRE_LOGIN`` is not set and
    ``SEGMENTATION_ALLOW_ANONYMOUS=1`` does not say so: gunicorn's worker then
    fails to boot and gunicorn stops with the message in its log.

Log-in attempts
    Failed log-ins are counted per user name and per client address
    (:class:`FailureLimiter`): after :data:`LOGIN_FAILURES` failures within
    :data:`LOGIN_WINDOW_SECONDS`, further attempts for that name or from that
    address answer 429 with ``Retry-After`` (whole seconds) and the wait in
    words on the log-in page, without checking the password, until the oldest
    failure leaves the window. Each attempt is counted when it is checked, in
    one step (:meth:`FailureLimiter.attempt`), so attempts sent together cannot
    all pass the check; a successful one is taken back and clears its name's
    count.
    The counts are shared by every web process (as the API's buckets are,
    :mod:`app.limits`), so several processes allow :data:`LOGIN_FAILURES` in
    all, not each. The address is the connection's (``request.remote_addr``):
    behind a proxy that is the proxy's, so the per-name limit is the one that
    holds there.

Workspaces: whose uploads and runs
    :func:`workspace` names the owner of what this request uploads, saves and
    may see: the logged-in user (or the key's); with
    ``SEGMENTATION_ALLOW_ANONYMOUS=1`` and nobody logged in, a private
    workspace per browser (``anon:`` and a random id kept in the signed session
    cookie; user names cannot contain ``:``); None for the local workspace
    (``python -m app`` on loopback without accounts), where everything is
    seen as before accounts existed. :func:`may_see` says whether a run of
    some owner is this request's to see; :mod:`app.ownership` applies the same
    rule to uploads, datasets, view links and background jobs.
"""

from __future__ import annotations

import dataclasses
import html
import ipaddress
import math
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

import flask

from app.accounts import Accounts
from app.limits import MemoryLimits, shared_limits, slot

ENV_REQUIRE_LOGIN = "SEGMENTATION_REQUIRE_LOGIN"
ENV_ALLOW_ANONYMOUS = "SEGMENTATION_ALLOW_ANONYMOUS"
ENV_API_RATE = "SEGMENTATION_API_RATE"
#: Requests per key: a burst of 120, then 2 a second.
DEFAULT_RATE = "120/minute"
#: The session-signing key, in the data folder.
SECRET_FILE = "flask_secret_key"
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
#: Paths that answer without a session or key.
OPEN_PATHS = frozenset(
    {LOGIN_PATH, LOGOUT_PATH, "/api/health", "/api/openapi.json", "/api/docs"}
)
#: Failed log-ins allowed per user name and per client address in the window.
LOGIN_FAILURES = 5
LOGIN_WINDOW_SECONDS = 60
#: The owner of an anonymous browser's workspace starts with this.
ANONYMOUS_PREFIX = "anon:"
#: The session key of an anonymous browser's workspace id.
WORKSPACE_KEY = "workspace"
#: The owner of nothing: a request that must log in first sees no run.
_NOBODY = "\x00nobody"
_EXTENSION = "segmentation_auth"
_PERIODS = {"second": 1, "minute": 60, "hour": 3600}
_TRUE = {"1", "true", "yes", "on"}


class ExposedWithoutAccountsError(RuntimeError):
    """The server listens beyond loopback and nobody would have to log in."""


def _flag(name: str, environ=None) -> bool:
    environ = os.environ if environ is None else environ
    return environ.get(name, "").strip().lower() in _TRUE


def parse_rate(text: str) -> tuple[int, int]:
    """Return ``(requests, seconds)`` of a rate such as ``"120/minute"``.

    Raises
    ------
    ValueError
        Naming ``SEGMENTATION_API_RATE`` and the accepted forms.
    """
    match = re.fullmatch(r"\s*([0-9]{1,6})\s*/\s*(second|minute|hour)\s*", text)
    if not match or int(match[1]) < 1:
        raise ValueError(
            f"{ENV_API_RATE}={text!r} is not a rate: use N/second, N/minute or "
            "N/hour with N >= 1"
        )
    return int(match[1]), _PERIODS[match[2]]


class RateLimiter:
    """A token bucket per key: ``requests`` at once, refilled over ``seconds``.

    Parameters
    ----------
    requests : int
        Bucket size (the burst), >= 1.
    seconds : float
        Time to refill an empty bucket.
    clock : callable, default time.time
        Seconds, for tests (wall time: processes and machines agree on it).
    limits : app.limits.DiskLimits or app.limits.RedisLimits, optional
        Where the buckets are kept; the server's are shared by its processes
        (:func:`app.limits.shared_limits`). Default: this process's memory
        (:class:`app.limits.MemoryLimits`, for tests).
    """

    def __init__(self, requests: int, seconds: float, clock=time.time, limits=None):
        self.requests = requests
        self.seconds = seconds
        self.clock = clock
        self.limits = limits if limits is not None else MemoryLimits()

    def take(self, key: str) -> float:
        """Take one request for ``key``; return 0, or the seconds until one is free.

        Raises
        ------
        app.storage.DataFolderError
            When the shared limits cannot be read or written.
        """
        name = slot("rate", key)
        return self.limits.take(name, self.requests, self.seconds, self.clock())


class FailureLimiter:
    """Failed attempts per key in a sliding window: ``failures`` per ``seconds``.

    Parameters
    ----------
    failures : int
        Failures allowed in the window; the next attempt waits.
    seconds : float
        The window.
    clock : callable, default time.time
        Seconds, for tests (wall time: processes and machines agree on it).
    limits : app.limits.DiskLimits or app.limits.RedisLimits, optional
        Where the failures are kept; the server's are shared by its processes
        (:func:`app.limits.shared_limits`). Default: this process's memory
        (:class:`app.limits.MemoryLimits`, for tests).
    """

    def __init__(self, failures: int, seconds: float, clock=time.time, limits=None):
        self.failures = failures
        self.seconds = seconds
        self.clock = clock
        self.limits = limits if limits is not None else MemoryLimits()

    def wait(self, *keys: str) -> float:
        """Return 0, or the seconds until every key may try again.

        A key may try again once fewer than ``failures`` of its failures are
        in the window (with exactly ``failures``: when the oldest leaves it).
        """
        names = [slot("failures", key) for key in keys]
        return self.limits.wait(names, self.failures, self.seconds, self.clock())

    def fail(self, *keys: str) -> None:
        """Count one failure for each key."""
        names = [slot("failures", key) for key in keys]
        self.limits.fail(names, self.failures, self.seconds, self.clock())

    def attempt(self, *keys: str) -> tuple[float, Attempt | None]:
        """Check and count an attempt in one step: ``(wait, attempt)``.

        With a wait of 0 the attempt is counted as a failure for each key at
        once, before the password is checked, so that attempts arriving
        together (threads, processes) cannot all pass the check before any is
        counted; :meth:`forgive` takes a successful one back. With a wait, the
        attempt is neither allowed nor counted (``attempt`` is None).
        """
        names = [slot("failures", key) for key in keys]
        now = self.clock()
        member = f"{now!r}:{secrets.token_hex(8)}"
        wait = self.limits.attempt(names, self.failures, self.seconds, now, member)
        return (wait, None) if wait > 0 else (0.0, Attempt(names, now, member))

    def forgive(self, attempt: Attempt) -> None:
        """Take back the failure :meth:`attempt` counted (the attempt succeeded)."""
        self.limits.forgive(attempt.names, self.seconds, attempt.now, attempt.member)

    def clear(self, key: str) -> None:
        """Forget a key's failures (after a successful attempt)."""
        self.limits.clear(slot("failures", key))


@dataclasses.dataclass(frozen=True)
class Attempt:
    """An attempt :meth:`FailureLimiter.attempt` counted (names, time, entry)."""

    names: list[str]
    now: float
    member: str


def listening_addresses() -> list[str]:
    """Return the IP addresses this process listens on (TCP), e.g. ``["0.0.0.0"]``.

    Read from the process's own sockets (``psutil``); empty when it listens on
    none (the Flask test client) or they cannot be read.
    """
    import psutil

    try:
        connections = psutil.Process().net_connections(kind="inet")
    except (psutil.Error, OSError):
        return []
    return sorted(
        {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN and c.laddr}
    )


def is_loopback(address: str) -> bool:
    """Return whether an IP address reaches only this machine.

    ``"127.0.0.1"``, ``"::1"`` and ``"::ffff:127.0.0.1"`` do; ``"0.0.0.0"`` and
    ``"::"`` (every address) do not.
    """
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def check_exposure(
    addresses: Iterable[str], has_accounts: bool, environ=None
) -> list[str]:
    """Refuse an open app on a network address; return the non-loopback addresses.

    Parameters
    ----------
    addresses : iterable of str
        Where the server listens (:func:`listening_addresses`).
    has_accounts : bool
        Whether any account exists.
    environ : mapping, optional
        Default ``os.environ`` (``SEGMENTATION_REQUIRE_LOGIN``,
        ``SEGMENTATION_ALLOW_ANONYMOUS``).

    Raises
    ------
    ExposedWithoutAccountsError
        Listening beyond loopback with no account, login not required, and
        anonymous use not allowed; the message says the three ways out.
    """
    exposed = [a for a in addresses if not is_loopback(a)]
    if (
        exposed
        and not has_accounts
        and not _flag(ENV_REQUIRE_LOGIN, environ)
        and not _flag(ENV_ALLOW_ANONYMOUS, environ)
    ):
        raise ExposedWithoutAccountsError(
            f"refusing to serve on {', '.join(exposed)} (reachable from other "
            "machines) with no account: anyone could read every upload and run. "
            "Add one with 'python -m app users add NAME', or bind 127.0.0.1, or "
            f"set {ENV_ALLOW_ANONYMOUS}=1 to serve without log-in anyway"
        )
    return exposed


def secret_key(directory: str | os.PathLike) -> bytes:
    """Return the session-signing key of a data folder, made once (file 0600).

    Two processes starting at once agree: the file is written under a temporary
    name and linked into place, and the loser reads the winner's.
    """
    path = Path(directory) / SECRET_FILE
    if not path.exists():
        temp = path.with_name(f".{SECRET_FILE}.{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    return bytes.fromhex(path.read_text().strip())


class Auth:
    """The accounts, limiters and exposure of one server (``server.extensions``).

    ``logins`` counts failed log-ins (default: in this process's memory;
    :func:`register_auth` gives the one its processes share).
    """

    def __init__(
        self,
        accounts: Accounts,
        limiter: RateLimiter,
        exposed: list[str],
        logins: FailureLimiter | None = None,
    ):
        self.accounts = accounts
        self.limiter = limiter
        self.exposed = exposed
        self.logins = (
            logins
            if logins is not None
            else FailureLimiter(LOGIN_FAILURES, LOGIN_WINDOW_SECONDS)
        )

    def login_required(self) -> bool:
        """Whether every request (but :data:`OPEN_PATHS`) needs a session or key."""
        return (
            _flag(ENV_REQUIRE_LOGIN)
            or bool(self.exposed and not _flag(ENV_ALLOW_ANONYMOUS))
            or self.accounts.has_users()
        )

    def anonymous_workspaces(self) -> bool:
        """Whether each browser gets a private workspace (no log-in, served for others).

        ``SEGMENTATION_ALLOW_ANONYMOUS=1`` while log-in is not required: the
        flag means "served for others without accounts", so it holds on any
        address (also behind a proxy on loopback).
        """
        return _flag(ENV_ALLOW_ANONYMOUS) and not self.login_required()


def _auth() -> Auth | None:
    return flask.current_app.extensions.get(_EXTENSION)


def current_user() -> str | None:
    """Return the user of this request (session or API key); None when anonymous."""
    if not flask.has_request_context():
        return None
    return flask.g.get("segmentation_user")


def login_is_required() -> bool:
    """Whether this request's server requires a session or key now.

    :meth:`Auth.login_required`; False outside a request and without
    :func:`register_auth`.
    """
    found = _auth() if flask.has_request_context() else None
    return found is not None and found.login_required()


def workspace() -> str | None:
    """Return the owner of this request's uploads and runs; None: the local workspace.

    The logged-in user (session or API key); else, when each browser has a
    private workspace (:meth:`Auth.anonymous_workspaces`), ``anon:<id>`` of
    this browser's signed session cookie (made on its first request); else,
    where log-in is required, an owner of nothing; else None: the local
    workspace, where everything is seen (no :func:`register_auth`, or
    ``python -m app`` on loopback without accounts).
    """
    if not flask.has_request_context():
        return None
    user = current_user()
    if user is not None:
        return user
    if "segmentation_workspace" not in flask.g:  # once a request (a database read)
        flask.g.segmentation_workspace = _anonymous_workspace()
    return flask.g.segmentation_workspace


def _anonymous_workspace() -> str | None:
    auth = _auth()
    if auth is None:
        return None
    if auth.login_required():
        return _NOBODY
    if auth.anonymous_workspaces():
        return ANONYMOUS_PREFIX + _browser_workspace()
    return None


def _browser_workspace() -> str:
    """Return this browser's anonymous workspace id (signed cookie), made once."""
    found = flask.session.get(WORKSPACE_KEY)
    if isinstance(found, str) and re.fullmatch(r"[0-9a-f]{32}", found):
        return found
    made = secrets.token_hex(16)
    flask.session[WORKSPACE_KEY] = made
    flask.session.permanent = True  # kept across browser restarts (31 days)
    return made


def may_see(owner: str | None) -> bool:
    """Whether this request may see a run saved by ``owner``.

    A user (or an anonymous browser) sees their own runs only. In the local
    workspace (:func:`workspace` None) every run is seen, as before accounts
    existed.
    """
    mine = workspace()
    return mine is None or owner == mine


def _bearer(request: flask.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def _unauthorized(message: str) -> flask.Response:
    response = flask.jsonify(error=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="segmentation"'
    return response


def _wants_page(request: flask.Request) -> bool:
    path = request.path
    return request.method in ("GET", "HEAD") and not (
        path.startswith("/api/") or path.startswith("/_dash-") or path == "/upload"
    )


def _safe_next(target: str | None) -> str:
    """Return a local path to go to after log-in (never another site)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return "/"
    if target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_page(message: str = "", name: str = "", target: str = "/") -> str:
    """Return the log-in page's HTML (no script; styles inline)."""
    note = (
        f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · Customer Segmentation Studio</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f7f9; margin: 0; }}
main {{ max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem;
  border: 1px solid #d8dce2; border-radius: 8px; }}
h1 {{ font-size: 1.3rem; margin-top: 0; }}
label {{ display: block; margin: 1rem 0 .3rem; }}
input {{ width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }}
button {{ margin-top: 1.5rem; padding: .55rem 1.2rem; font-size: 1rem; }}
.error {{ color: #a4161a; }}
</style></head>
<body><main>
<h1>Customer Segmentation Studio</h1>
<p>Log in to see your uploads and runs.</p>
{note}
<form method="post" action="{LOGIN_PATH}">
<input type="hidden" name="next" value="{html.escape(target)}">
<label for="name">User name</label>
<input id="name" name="name" autocomplete="username" required
 value="{html.escape(name)}">
<label for="password">Password</label>
<input id="password" name="password" type="password"
 autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>
</main></body></html>"""


def register_auth(
    app,
    directory: str | os.PathLike,
    accounts: Accounts | None = None,
    addresses: Callable[[], list[str]] = listening_addresses,
) -> Auth:
    """Require log-in or an API key on every route when accounts exist.

    Also: the log-in page's failure limit (:class:`FailureLimiter`; it and
    the API's rate limit keep their counts where every web process shares
    them, :func:`app.limits.shared_limits`), an
    anonymous browser's workspace cookie (:func:`workspace`), and the checks
    that keep each workspace's uploads, datasets, view links and jobs its own
    (:func:`app.ownership.register_ownership`, run after the log-in check).

    Parameters
    ----------
    app : dash.Dash or flask.Flask
        The app (its ``.server``) or a Flask server.
    directory : path-like
        The data folder: the session key's file, the limits' counts
        (``limits/``, unless ``REDIS_URL``), and the accounts database unless
        ``DATABASE_URL`` says otherwise.
    accounts : Accounts, optional
        Default ``Accounts(directory=directory)``.
    addresses : callable, default listening_addresses
        Where the server listens, for :func:`check_exposure`.

    Returns
    -------
    Auth

    Raises
    ------
    ExposedWithoutAccountsError
        See :func:`check_exposure`.
    ValueError
        ``SEGMENTATION_API_RATE`` is not a rate.
    app.storage.DataFolderError
        The limits' folder cannot be made or written, or Redis cannot be
        reached (named in the message).
    """
    server: flask.Flask = getattr(app, "server", app)
    accounts = accounts if accounts is not None else Accounts(directory=directory)
    exposed = check_exposure(addresses(), accounts.has_users())
    rate = parse_rate(os.environ.get(ENV_API_RATE, DEFAULT_RATE))
    limits = shared_limits(directory)  # every web process counts against one quota
    limiter = RateLimiter(*rate, limits=limits)
    logins = FailureLimiter(LOGIN_FAILURES, LOGIN_WINDOW_SECONDS, limits=limits)
    auth = Auth(accounts, limiter, exposed, logins)
    server.extensions[_EXTENSION] = auth
    from app.store_redis import shared_secret  # with REDIS_URL: every process's

    server.secret_key = shared_secret(SECRET_FILE) or secret_key(directory)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")

    @server.before_request
    def require_login():
        request = flask.request
        key = _bearer(request)
        if key is not None:
            user = accounts.user_for_key(key) if key else None
            if user is None:
                return _unauthorized("the API key is unknown or revoked")
            wait = limiter.take(key)
            if wait > 0:
                response = flask.jsonify(
                    error=f"over the rate limit of {limiter.requests} requests per "
                    f"{limiter.seconds:g} s for this key; retry after "
                    f"{math.ceil(wait)} s"
                )
                response.status_code = 429
                response.headers["Retry-After"] = str(math.ceil(wait))
                return response
            flask.g.segmentation_user = user
            return None
        user = flask.session.get("user")
        if user is not None:
            if accounts.user_exists(user):
                flask.g.segmentation_user = user
                return None
            flask.session.clear()  # the account was removed
        if not auth.login_required():
            if auth.anonymous_workspaces():
                _browser_workspace()  # on the page's answer, before its callbacks
            return None
        if request.path in OPEN_PATHS:
            return None
        if _wants_page(request):
            target = request.full_path if request.query_string else request.path
            return flask.redirect(f"{LOGIN_PATH}?{_query(next=target)}", code=303)
        return _unauthorized(
            "log in first, or send an API key as 'Authorization: Bearer KEY' "
            "(python -m app keys create NAME)"
        )

    @server.route(LOGIN_PATH, methods=["GET", "POST"])
    def login():
        request = flask.request
        if request.method == "GET":
            target = _safe_next(request.args.get("next"))
            return login_page(target=target)
        name = request.form.get("name", "")
        password = request.form.get("password", "")
        target = _safe_next(request.form.get("next"))
        keys = (f"name:{name.lower()}", f"address:{request.remote_addr or ''}")
        wait, attempt = auth.logins.attempt(*keys)  # counted as a failure until...
        if wait > 0:
            return too_many_logins(wait, name, target)
        if not accounts.verify_password(name, password):
            page = login_page("Unknown user name or wrong password.", name, target)
            return page, 401
        auth.logins.forgive(attempt)  # ...it succeeds
        auth.logins.clear(keys[0])
        flask.session.clear()
        flask.session["user"] = name
        return flask.redirect(target, code=303)

    @server.route(LOGOUT_PATH, methods=["GET", "POST"])
    def logout():
        flask.session.clear()
        return flask.redirect(LOGIN_PATH, code=303)

    from app import ownership  # after require_login: it reads the request's user

    ownership.register_ownership(server)
    return auth


def too_many_logins(wait: float, name: str = "", target: str = "/") -> flask.Response:
    """Return the 429 log-in page: too many failures, and how long to wait.

    Parameters
    ----------
    wait : float
        Seconds until the next attempt is checked (rounded up in the words and
        in ``Retry-After``).
    """
    seconds = max(1, math.ceil(wait))
    message = (
        f"Too many failed log-ins for this user name or from this address "
        f"({LOGIN_FAILURES} within {LOGIN_WINDOW_SECONDS} seconds). Try again in "
        f"{seconds} second{'s' if seconds != 1 else ''}."
    )
    response = flask.make_response(login_page(message, name, target), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


def _query(**params: str) -> str:
    from urllib.parse import urlencode

    return urlencode(params)
