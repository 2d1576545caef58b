"""Where the API's rate limits and the log-in failure counts are kept.

:class:`app.auth.RateLimiter` (a token bucket per API key) and
:class:`app.auth.FailureLimiter` (failures per key in a sliding window) hold
no counts themselves: they ask one of these, so that every web process of a
server (and every server sharing one Redis) counts against one quota.

:class:`DiskLimits`
    A :class:`diskcache.Cache` (SQLite) in ``<data folder>/limits`` (folder
    0700, files 0600, :func:`app.storage.private_cache`): each
    read-modify-write runs in one SQLite write transaction
    (``Cache.transact``), so processes on one machine never lose each other's
    updates.
:class:`RedisLimits`
    With ``REDIS_URL``: Redis keys ``<SEGMENTATION_REDIS_PREFIX>limits:rate:<h>``
    (a hash: ``tokens``, ``then``) and ``...limits:failures:<h>`` (a sorted
    set of failure times), each changed by one Lua script (atomic).
:class:`MemoryLimits`
    This process's memory: for tests and a limiter built alone; a server with
    several processes must not use it (each would allow the whole quota).

Keys
    ``<h>`` is the SHA-256 of the limiter's key (:func:`slot`): API keys are
    secrets and are never written as they are; user names and addresses are
    hashed the same way.
Expiry
    A bucket is dropped ``seconds`` after its last request (it would be full
    again: the same as no bucket), a failure list ``seconds`` after its last
    failure (all have left the window); a list keeps at most ``failures``
    times (older ones cannot matter). The disk's expired entries are removed a
    few at each write (diskcache's culling), Redis's by its TTLs.
Clock
    Times are the limiter's clock (default ``time.time``, so that processes,
    and machines sharing one Redis, agree; machines need synchronised clocks).
    A clock that steps back never makes anyone wait longer than one period or
    window: the time since the last request counts as zero, and a wait is
    capped at the window.
Faults
    A folder that cannot be written raises :class:`app.storage.DataFolderError`
    naming it, an unreachable Redis the same naming the URL (without its
    password): the request fails instead of going unlimited.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import secrets
import sqlite3
import threading
from bisect import insort
from pathlib import Path

#: The store's folder in the data folder.
FOLDER = "limits"


def slot(kind: str, key: str) -> str:
    """Return the stored name of a limiter's key: ``kind:<sha256 of key>``."""
    return f"{kind}:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _take(state, requests: int, seconds: float, now: float):
    """Return ``(wait, new state)`` of a token bucket: state ``(tokens, then)``."""
    rate = requests / seconds
    tokens, then = state if state is not None else (float(requests), now)
    tokens = min(float(requests), tokens + max(0.0, now - then) * rate)
    if tokens >= 1:
        return 0.0, (tokens - 1, now)
    return (1 - tokens) / rate, (tokens, now)


def _recent(times, seconds: float, now: float) -> list[float]:
    """Return the failure times still in the window (sorted)."""
    return [t for t in (times or ()) if now - t < seconds]


def _wait(times, failures: int, seconds: float, now: float) -> float:
    """Seconds until fewer than ``failures`` of ``times`` are in the window."""
    times = _recent(times, seconds, now)
    if len(times) < failures:
        return 0.0
    return min(float(seconds), max(0.0, times[-failures] + seconds - now))


class _LocalLimits:
    """The counting rules over a key-value store with transactions."""

    def _transaction(self):
        raise NotImplementedError

    def _get(self, name: str, now: float):
        raise NotImplementedError

    def _set(self, name: str, value, ttl: float, now: float) -> None:
        raise NotImplementedError

    def _delete(self, name: str) -> None:
        raise NotImplementedError

    def take(self, name: str, requests: int, seconds: float, now: float) -> float:
        """Take a token from bucket ``name``; return 0 or the seconds until one is free.

        Parameters
        ----------
        name : str
            The bucket's stored name (:func:`slot`).
        requests : int
            Bucket size, >= 1.
        seconds : float
            Time to refill an empty bucket.
        now : float
            The limiter's clock, in seconds.
        """
        with self._transaction():
            wait, state = _take(self._get(name, now), requests, seconds, now)
            self._set(name, state, seconds, now)
        return wait

    def wait(self, names, failures: int, seconds: float, now: float) -> float:
        """Return 0, or the seconds until each name has < ``failures`` in the window."""
        with self._transaction():
            found = [self._get(name, now) for name in names]
        return max((_wait(t, failures, seconds, now) for t in found), default=0.0)

    def fail(self, names, failures: int, seconds: float, now: float) -> None:
        """Count one failure at ``now`` for each of ``names`` (keeping ``failures``)."""
        with self._transaction():
            found = [self._get(name, now) for name in names]
            self._count(names, found, failures, seconds, now)

    def _count(self, names, found, failures: int, seconds: float, now: float) -> None:
        """Add ``now`` to each name's failure times ``found`` (in a transaction)."""
        for name, times in zip(names, found, strict=True):
            times = _recent(times, seconds, now)
            insort(times, now)
            self._set(name, times[-failures:], seconds, now)

    def attempt(
        self, names, failures: int, seconds: float, now: float, member: str
    ) -> float:
        """As :meth:`wait`; when 0, also count a failure at ``now`` for each name.

        Both in one transaction, so that attempts racing each other are counted
        before any of them is checked: at most ``failures`` get through. An
        attempt that succeeds is taken back with :meth:`forgive`. ``member`` is
        for Redis (the failure's unique entry); here a failure is its time.
        """
        with self._transaction():
            found = [self._get(name, now) for name in names]
            wait = max((_wait(t, failures, seconds, now) for t in found), default=0.0)
            if wait == 0:
                self._count(names, found, failures, seconds, now)
        return wait

    def forgive(self, names, seconds: float, now: float, member: str) -> None:
        """Take back the failure :meth:`attempt` counted at ``now`` for each name."""
        with self._transaction():
            for name in names:
                times = list(self._get(name, now) or ())
                if now in times:
                    times.remove(now)
                    self._set(name, times, seconds, now)

    def clear(self, name: str) -> None:
        """Forget ``name``'s count."""
        with self._transaction():
            self._delete(name)


class MemoryLimits(_LocalLimits):
    """Counts in this process's memory (tests, one process; not for a server)."""

    #: Entries kept before the expired ones are dropped.
    MAX_KEYS = 10_000

    def __init__(self):
        self._data: dict[str, tuple[object, float]] = {}
        self._lock = threading.RLock()

    def _transaction(self):
        return self._lock

    def _get(self, name, now):
        value, until = self._data.get(name, (None, -math.inf))
        return value if now < until else None

    def _set(self, name, value, ttl, now):
        if len(self._data) > self.MAX_KEYS:
            for old in [n for n, (_, until) in self._data.items() if now >= until]:
                del self._data[old]
        self._data[name] = (value, now + ttl)

    def _delete(self, name):
        self._data.pop(name, None)


class DiskLimits(_LocalLimits):
    """Counts in a :class:`diskcache.Cache` (SQLite), shared by a machine's processes.

    Parameters
    ----------
    directory : path-like
        The cache's folder, e.g. ``<data folder>/limits`` (made 0700; files
        0600).

    Raises
    ------
    app.storage.DataFolderError
        When the folder cannot be made or written (here and from each method),
        naming it and the cause.
    """

    def __init__(self, directory):
        from app import storage

        self.directory = Path(directory)
        # "none": never evict a live count for space; expired ones still go
        self.cache = storage.private_cache(self.directory, eviction_policy="none")

    @contextlib.contextmanager
    def _transaction(self):
        import diskcache

        from app import storage

        try:
            with self.cache.transact():
                yield
        except (OSError, sqlite3.OperationalError, diskcache.Timeout) as err:
            fault = storage.folder_error(err, self.directory)
            raise fault or storage.DataFolderError(
                f"Cannot update the limits in {self.directory}: {err}",
                path=str(self.directory),
            ) from None

    def _get(self, name, now):
        return self.cache.get(name)

    def _set(self, name, value, ttl, now):
        self.cache.set(name, value, expire=ttl)

    def _delete(self, name):
        self.cache.delete(name)


_FLOAT = "string.format('%.17g', {})"
#: KEYS[1]: a bucket; ARGV: requests, seconds, now. Returns the wait (text).
_TAKE = f"""
local requests, seconds, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rate = requests / seconds
local state = redis.call('HMGET', KEYS[1], 'tokens', 'then')
local tokens = tonumber(state[1]) or requests
local last = tonumber(state[2]) or now
tokens = math.min(requests, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', {_FLOAT.format("tokens")},
  'then', {_FLOAT.format("now")})
redis.call('PEXPIRE', KEYS[1], math.ceil(seconds * 1000))
return {_FLOAT.format("wait")}
"""
#: The failure lists' scripts (KEYS: the lists; ARGV: failures, seconds, now,
#: and for a count a unique member) are made of these parts.
_FAILURE_ARGS = """
local failures, seconds, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
"""
#: Sets ``longest``: the longest wait of the lists.
_LONGEST = f"""
local longest = 0
for _, key in ipairs(KEYS) do
  local since = '(' .. {_FLOAT.format("now - seconds")}
  local times = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES')
  local n = #times / 2
  if n >= failures then
    local t = tonumber(times[2 * (n - failures + 1)])
    longest = math.max(longest, math.min(seconds, math.max(0, t + seconds - now)))
  end
end
"""
#: Counts a failure at ``now`` in each list.
_COUNT = f"""
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', {_FLOAT.format("now - seconds")})
  redis.call('ZADD', key, ARGV[3], ARGV[4])
  redis.call('ZREMRANGEBYRANK', key, 0, -(failures + 1))
  redis.call('PEXPIRE', key, math.ceil(seconds * 1000))
end
"""
_RETURN_LONGEST = f"return {_FLOAT.format('longest')}\n"
#: Returns the longest wait.
_WAIT = _FAILURE_ARGS + _LONGEST + _RETURN_LONGEST
#: Counts a failure.
_FAIL = _FAILURE_ARGS + _COUNT + "return 0\n"
#: Returns the wait; when it is 0, also counts a failure (one atomic step).
_ATTEMPT = (
    _FAILURE_ARGS
    + _LONGEST
    + "if longest > 0 then "
    + _RETURN_LONGEST
    + "end\n"
    + _COUNT
    + "return '0'\n"
)
#: KEYS: failure lists; ARGV: the member _ATTEMPT added.
_FORGIVE = """
for _, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
return 0
"""


class RedisLimits:
    """Counts in Redis, shared by every process and machine using ``url``.

    Parameters
    ----------
    url : str
        The Redis URL (``REDIS_URL``).
    namespace : str, optional
        Prefix of the keys; default ``<SEGMENTATION_REDIS_PREFIX>limits:``.

    Raises
    ------
    app.storage.DataFolderError
        From each method when Redis cannot be reached or refuses a command
        (naming the URL without its password).
    """

    def __init__(self, url: str, namespace: str | None = None):
        from app import store_redis

        self.url = url
        self.namespace = (
            store_redis.prefix() + "limits:" if namespace is None else namespace
        )
        self.redis = store_redis._client(url)
        self._take = self.redis.register_script(_TAKE)
        self._wait = self.redis.register_script(_WAIT)
        self._fail = self.redis.register_script(_FAIL)
        self._attempt = self.redis.register_script(_ATTEMPT)
        self._forgive = self.redis.register_script(_FORGIVE)

    @contextlib.contextmanager
    def _calls(self):
        from app import storage, store_redis

        try:
            yield
        except store_redis._errors() as err:
            where = store_redis.shown_url(self.url)
            raise storage.DataFolderError(
                f"Cannot update the limits at {where}: {err}", path=where
            ) from None

    def take(self, name: str, requests: int, seconds: float, now: float) -> float:
        """As :meth:`MemoryLimits.take`, in one Lua script."""
        with self._calls():
            answer = self._take([self.namespace + name], [requests, seconds, repr(now)])
        return float(answer)

    def wait(self, names, failures: int, seconds: float, now: float) -> float:
        """As :meth:`MemoryLimits.wait`, in one Lua script."""
        keys = [self.namespace + name for name in names]
        if not keys:
            return 0.0
        with self._calls():
            return float(self._wait(keys, [failures, seconds, repr(now)]))

    def fail(self, names, failures: int, seconds: float, now: float) -> None:
        """As :meth:`MemoryLimits.fail`, in one Lua script."""
        keys = [self.namespace + name for name in names]
        if keys:
            member = f"{now!r}:{secrets.token_hex(8)}"
            with self._calls():
                self._fail(keys, [failures, seconds, repr(now), member])

    def attempt(
        self, names, failures: int, seconds: float, now: float, member: str
    ) -> float:
        """As :meth:`MemoryLimits.attempt`, in one Lua script."""
        keys = [self.namespace + name for name in names]
        if not keys:
            return 0.0
        with self._calls():
            return float(self._attempt(keys, [failures, seconds, repr(now), member]))

    def forgive(self, names, seconds: float, now: float, member: str) -> None:
        """As :meth:`MemoryLimits.forgive`: remove ``member`` from each list."""
        keys = [self.namespace + name for name in names]
        if keys:
            with self._calls():
                self._forgive(keys, [member])

    def clear(self, name: str) -> None:
        """Forget ``name``'s count."""
        with self._calls():
            self.redis.delete(self.namespace + name)


def shared_limits(directory) -> DiskLimits | RedisLimits:
    """Return the limits every web process of the server shares.

    In Redis when ``REDIS_URL`` is set (:class:`RedisLimits`), else in
    ``<directory>/limits`` (:class:`DiskLimits`).

    Parameters
    ----------
    directory : path-like
        The data folder.
    """
    from app import store_redis

    url = store_redis.redis_url()
    if url is not None:
        return RedisLimits(url)
    return DiskLimits(Path(directory) / FOLDER)
