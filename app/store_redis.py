"""The server-side store and staged uploads in Redis, for web processes and workers.

With ``REDIS_URL`` set, :class:`app.storage.Store` keeps its entries (uploads'
bytes, prepared data, segmentations, over-time results, view links) in Redis
through :class:`RedisCache` instead of a :class:`diskcache.Cache` under
``SEGMENTATION_DATA_DIR``, and ``POST /upload`` stages files in Redis through
:class:`RedisStaging` instead of the local folder. So a file uploaded through
one web process is read by the Celery worker that prepares it and by every
other web process, on any machine, whatever each one's data folder.

Keys (all under ``SEGMENTATION_REDIS_PREFIX``, default ``segmentation:``)
    ``store:v:<key>`` -> the pickled value of the store key ``<key>`` (the
    key tuple's ``repr``, e.g. ``store:v:('upload', '9f86d0…')``), with a TTL;
    ``store:order`` (sorted set: key -> when last used), ``store:sizes`` (hash:
    key -> bytes), ``store:volume`` (the sum of the sizes), ``store:seq``
    (the use counter): the store's index.
    ``staged:<id>`` (the staged bytes), ``staged:<id>:meta`` (their JSON
    description), ``staged:<id>:partial`` (bytes still arriving) and
    ``staged:page:<token>`` (a page's last upload): all with
    :data:`app.upload_route.STAGED_SECONDS` as TTL.
Size
    The store's ``size_limit`` (``SEGMENTATION_STORE_BYTES``, default 2 GiB)
    bounds the sum of the pickled values' lengths. Each write (one Lua script,
    atomic across processes) stores the value and then evicts the least
    recently *used* entries (written, read or asked for, by any process) until
    the sum is
    under the limit, never the entry just written, so the guarantees of the
    disk store hold: the newest entry survives its own write, and a refused
    upload (never written) evicts nothing. An entry a page keeps reading goes
    last; a dataset no process read while more than the limit of newer data
    was used can still be evicted, and the page then says to upload it again,
    as with the disk store. Values read in a process's memory layer
    (:meth:`app.storage.Store._remember`) are not marked used in Redis. Redis's
    own memory (``maxmemory``) must hold the limit, the staged uploads (up to
    :data:`app.upload_route.UPLOAD_LIMIT_BYTES` each, one per page, for at
    most :data:`app.upload_route.STAGED_SECONDS`) and Celery's records, with
    ``maxmemory-policy noeviction`` (Redis's own eviction would drop entries
    out of this order; the index then counts them until they are pruned).
TTL
    Every value expires :data:`DEFAULT_TTL_SECONDS` (env
    ``SEGMENTATION_STORE_TTL_SECONDS``) after it was last used, so a store
    nobody uses empties itself; each use renews it. Expired entries leave
    the index at the next write (they are the least recently used).
Trust
    Values are pickles, as in the disk store: whoever can write to this Redis
    can run code in the web and worker processes. Use a Redis that only the
    app reaches (loopback or a private network, with a password in the URL).
    Scripts touch keys they do not declare, so Redis Cluster is not supported.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import json
import os
import pickle
import secrets
import time
import urllib.parse

from app import storage, upload_route
from segmentation.errors import SegmentationError
from segmentation.runs import load_pickle

ENV_PREFIX = "SEGMENTATION_REDIS_PREFIX"
DEFAULT_PREFIX = "segmentation:"
ENV_TTL = "SEGMENTATION_STORE_TTL_SECONDS"
#: A store entry nobody used for this long (30 days) expires.
DEFAULT_TTL_SECONDS = 30 * 24 * 3600
#: Types a store key (a tuple, nested) may hold: ``repr`` and
#: ``ast.literal_eval`` turn these into the same text and back.
_KEY_TYPES = (str, int, float, bool, type(None))

# Lua: ``remove(m)`` drops the entry ``m`` (its value and index rows);
# ``prune()`` drops the least recently used entries Redis has expired.
_REMOVE = """
local function remove(m)
  redis.call('DEL', vprefix .. m)
  local size = tonumber(redis.call('HGET', sizes, m) or '0')
  redis.call('HDEL', sizes, m)
  redis.call('ZREM', order, m)
  redis.call('DECRBY', volume, size)
end
local function prune()
  while true do
    local oldest = redis.call('ZRANGE', order, 0, 0)[1]
    if oldest == nil or redis.call('EXISTS', vprefix .. oldest) == 1 then return end
    remove(oldest)
  end
end
"""
_HEAD = """
local order, sizes, volume, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local vprefix = ARGV[1]
"""
#: ARGV: value prefix, member, payload, ttl, limit, only-if-new ("1"/"0").
#: Returns the evicted members, or false when only-if-new found the key.
_SET = (
    _HEAD
    + _REMOVE
    + """
local member, payload = ARGV[2], ARGV[3]
local ttl, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
prune()
if ARGV[6] == '1' and redis.call('EXISTS', vprefix .. member) == 1 then
  return false
end
local old = tonumber(redis.call('HGET', sizes, member) or '0')
redis.call('SET', vprefix .. member, payload, 'EX', ttl)
redis.call('HSET', sizes, member, #payload)
redis.call('INCRBY', volume, #payload - old)
redis.call('ZADD', order, redis.call('INCR', seq), member)
local evicted = {}
while tonumber(redis.call('GET', volume) or '0') > limit do
  local oldest = redis.call('ZRANGE', order, 0, 0)[1]
  if oldest == nil or oldest == member then break end
  remove(oldest)
  evicted[#evicted + 1] = oldest
end
return evicted
"""
)
#: ARGV: value prefix, member, ttl. Returns 1 (marking it used, TTL renewed)
#: when the member is stored, else 0.
_TOUCH = (
    _HEAD
    + """
local key = vprefix .. ARGV[2]
if redis.call('EXPIRE', key, tonumber(ARGV[3])) == 0 then return 0 end
redis.call('ZADD', order, 'XX', redis.call('INCR', seq), ARGV[2])
return 1
"""
)
#: ARGV: value prefix, member. Returns 1 when the member was stored.
_DELETE = (
    _HEAD
    + _REMOVE
    + """
local was = redis.call('EXISTS', vprefix .. ARGV[2])
remove(ARGV[2])
return was
"""
)
#: ARGV: value prefix. Forgets expired entries; returns the volume.
_PRUNE = (
    _HEAD
    + _REMOVE
    + """
prune()
return tonumber(redis.call('GET', volume) or '0')
"""
)

#: KEYS[1]: a page's last upload; ARGV[1]: an upload id. Deletes it if equal.
_FORGET = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""


def redis_url() -> str | None:
    """Return ``REDIS_URL`` as Celery and the API runs read it (:mod:`app.api_runs`)."""
    from app import api_runs

    return api_runs.redis_url()


def prefix(environ=None) -> str:
    """Return the prefix of every key the app writes (``SEGMENTATION_REDIS_PREFIX``)."""
    environ = os.environ if environ is None else environ
    return environ.get(ENV_PREFIX) or DEFAULT_PREFIX


def shown_url(url: str) -> str:
    """Return ``url`` without its password, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def encode_key(key: tuple) -> str:
    """Return the text of a store key: its ``repr``, checked to read back the same.

    Raises
    ------
    TypeError
        For a key that is not a tuple of str, int, float, bool, None and such
        tuples (naming the key).
    """

    def check(part) -> bool:
        if isinstance(part, tuple):
            return all(check(p) for p in part)
        return isinstance(part, _KEY_TYPES)

    if not isinstance(key, tuple) or not check(key):
        raise TypeError(
            f"store key {key!r} is not a tuple of str, int, float, bool or None"
        )
    return repr(key)


def decode_key(text: str | bytes) -> tuple:
    """Return the store key written by :func:`encode_key`."""
    if isinstance(text, bytes):
        text = text.decode()
    return ast.literal_eval(text)


_CLIENTS: dict = {}


def _client(url: str):
    """Return this process's client of ``url`` (one connection pool per URL).

    redis-py's pool notices a fork and opens new connections in the child.
    """
    if url not in _CLIENTS:
        import redis

        _CLIENTS[url] = redis.Redis.from_url(url)
    return _CLIENTS[url]


def _errors():
    import redis

    return redis.exceptions.RedisError


class RedisCache:
    """What :class:`app.storage.Store` uses of :class:`diskcache.Cache`, in Redis.

    Parameters
    ----------
    url : str
        The Redis URL (``redis://[:password@]host:port/db``).
    size_limit : int
        Bound in bytes on the sum of the pickled values (see the module
        docstring for the eviction order).
    namespace : str, optional
        Prefix of the keys; default ``<SEGMENTATION_REDIS_PREFIX>store:``.
    ttl_seconds : int, optional
        Seconds an entry lives after its last use; default
        ``SEGMENTATION_STORE_TTL_SECONDS`` or :data:`DEFAULT_TTL_SECONDS`.

    Raises
    ------
    app.storage.DataFolderError
        From every method, when Redis cannot be reached or refuses a command
        (the message names the URL without its password, and the cause).
    """

    def __init__(
        self,
        url: str,
        size_limit: int,
        namespace: str | None = None,
        ttl_seconds: int | None = None,
    ):
        self.url = url
        self.size_limit = int(size_limit)
        self.namespace = prefix() + "store:" if namespace is None else namespace
        ttl = ttl_seconds or int(os.environ.get(ENV_TTL, DEFAULT_TTL_SECONDS))
        if ttl <= 0:
            raise ValueError(f"{ENV_TTL} must be a positive number of seconds")
        self.ttl_seconds = int(ttl)
        self.redis = _client(url)
        names = ("order", "sizes", "volume", "seq")
        self._index = [self.namespace + name for name in names]
        self._values = self.namespace + "v:"
        self._set = self.redis.register_script(_SET)
        self._touch = self.redis.register_script(_TOUCH)
        self._delete = self.redis.register_script(_DELETE)
        self._prune = self.redis.register_script(_PRUNE)

    @contextlib.contextmanager
    def _calls(self, what: str):
        try:
            yield
        except _errors() as err:
            where = shown_url(self.url)
            raise storage.DataFolderError(
                f"Cannot {what} the shared store at {where}: {err}", path=where
            ) from None

    @contextlib.contextmanager
    def computing(self, name: str, lease_seconds: int = 900):
        """Hold the lock of one computation, across every machine.

        A Redis lock (redis-py's ``Lock``) named ``name`` (the store's hash of
        the key), with a lease: a holder that dies frees it after
        ``lease_seconds``, and a computation longer than that may be done twice
        (never wrongly). :meth:`app.storage.Store._computing` uses it instead of
        a lock file.
        """
        import redis

        lock = self.redis.lock(
            self.namespace + "computing:" + name, timeout=lease_seconds
        )
        with self._calls("lock"):
            lock.acquire()
        try:
            yield
        finally:
            with contextlib.suppress(redis.exceptions.LockError, _errors()):
                lock.release()

    # reading -----------------------------------------------------------------------
    def get(self, key: tuple, default=None):
        """Return the value of ``key`` (marked used, TTL renewed), or ``default``."""
        member = encode_key(key)
        with self._calls("read"):
            # one round trip; the payload does not pass through Lua (2x slower)
            pipe = self.redis.pipeline(transaction=True)
            pipe.get(self._values + member)
            self._touch(self._index, [self._values, member, self.ttl_seconds], pipe)
            payload, _ = pipe.execute()
        if payload is None:
            return default
        return load_pickle(io.BytesIO(payload))

    def __contains__(self, key: tuple) -> bool:
        """Whether ``key`` is stored; asking marks it used (and renews its TTL)."""
        with self._calls("read"):
            args = [self._values, encode_key(key), self.ttl_seconds]
            return bool(self._touch(self._index, args))

    def iterkeys(self):
        """Yield the stored keys, least recently used first."""
        with self._calls("read"):
            self._prune(self._index, [self._values])
            members = self.redis.zrange(self._index[0], 0, -1)
            pipe = self.redis.pipeline(transaction=False)
            for member in members:
                pipe.exists(self._values + member.decode())
            alive = pipe.execute()
        return iter([decode_key(m) for m, ok in zip(members, alive) if ok])

    def __iter__(self):
        return self.iterkeys()

    def __bool__(self) -> bool:
        return True  # a store, even empty (no round trip to count it)

    def __len__(self) -> int:
        return sum(1 for _ in self.iterkeys())

    def volume(self) -> int:
        """Return the sum in bytes of the stored (pickled) values."""
        with self._calls("read"):
            return int(self._prune(self._index, [self._values]))

    # writing -----------------------------------------------------------------------
    def _store(self, key: tuple, value, only_new: bool):
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        member = encode_key(key)
        args = [self._values, member, payload, self.ttl_seconds, self.size_limit]
        with self._calls("write to"):
            return self._set(self._index, [*args, "1" if only_new else "0"])

    def set(self, key: tuple, value) -> bool:
        """Store ``value``; evict the least recently used others while over limit."""
        self._store(key, value, only_new=False)
        return True

    def add(self, key: tuple, value) -> bool:
        """Store ``value`` only if ``key`` is not stored; return whether it was."""
        return self._store(key, value, only_new=True) is not None

    def delete(self, key: tuple) -> bool:
        """Remove ``key``; return whether it was stored."""
        with self._calls("write to"):
            return bool(self._delete(self._index, [self._values, encode_key(key)]))

    def clear(self) -> int:
        """Remove every entry of this store (its namespace); return how many keys."""
        removed = 0
        with self._calls("write to"):
            for name in self.redis.scan_iter(match=self.namespace + "*", count=500):
                removed += self.redis.delete(name)
        return removed


def shared_cache(size_limit: int) -> RedisCache | None:
    """Return the store's cache in Redis when ``REDIS_URL`` is set, else None.

    The hook of :class:`app.storage.Store`: without ``REDIS_URL`` the store
    stays a :class:`diskcache.Cache` in the data folder.
    """
    url = redis_url()
    return None if url is None else RedisCache(url, size_limit)


def shared_secret(name: str) -> bytes | None:
    """Return a secret every process of ``REDIS_URL`` shares, made once; else None.

    The session-signing key of the web processes (which also signs Dash's
    background-job handles): with ``REDIS_URL`` it lives in Redis as
    ``<prefix>secret:<name>`` (32 random bytes, no TTL), so a log-in or a job
    started through one web process is honoured by any other. Without
    ``REDIS_URL``: None (:func:`app.auth.secret_key` keeps it in the data folder).

    Raises
    ------
    app.storage.DataFolderError
        When Redis cannot be reached (names the URL without its password).
    """
    url = redis_url()
    if url is None:
        return None
    client, key = _client(url), prefix() + "secret:" + name
    try:
        client.set(key, secrets.token_hex(32), nx=True)
        return bytes.fromhex(client.get(key).decode())
    except _errors() as err:
        where = shown_url(url)
        raise storage.DataFolderError(
            f"Cannot read the shared secret at {where}: {err}", path=where
        ) from None


class RedisStaging:
    """:class:`app.upload_route.Staging` in Redis: uploads any process can take.

    The same methods (``receive``, ``take``, ``discard``, ``sweep``) and
    messages; the bytes stream to Redis in chunks of
    :data:`app.upload_route.CHUNK_BYTES` (``APPEND``), never whole in the web
    process's memory and never on its disk. Staged files expire after
    :data:`app.upload_route.STAGED_SECONDS`.

    Parameters
    ----------
    url : str
        The Redis URL.
    namespace : str, optional
        Prefix of the keys; default ``<SEGMENTATION_REDIS_PREFIX>staged:``.
    """

    directory = None  # nothing on the local disk

    def __init__(self, url: str, namespace: str | None = None):
        self.url = url
        self.namespace = prefix() + "staged:" if namespace is None else namespace
        self.redis = _client(url)

    def _keys(self, upload_id: str) -> tuple[str, str, str]:
        if not upload_route._UPLOAD_ID.match(upload_id or ""):
            raise SegmentationError(f"{upload_id!r} is not an upload id")
        base = self.namespace + upload_id
        return base, base + ":meta", base + ":partial"

    def _page_key(self, page: str) -> str:
        return self.namespace + "page:" + hashlib.sha256(page.encode()).hexdigest()

    def _forget(self, page_key: str, upload_id: str) -> None:
        """Drop the page's pointer if it still names ``upload_id`` (not a newer one)."""
        self.redis.eval(_FORGET, 1, page_key, upload_id)

    def _fault(self, err) -> storage.DataFolderError:
        where = shown_url(self.url)
        return storage.DataFolderError(
            f"Cannot stage the upload in the shared store at {where}: {err}",
            path=where,
        )

    def receive(
        self,
        stream,
        filename: str,
        page: str,
        browser: str | None = None,
        limit: int = upload_route.UPLOAD_LIMIT_BYTES,
    ) -> dict:
        """Stream ``stream`` to Redis; as :meth:`app.upload_route.Staging.receive`.

        Raises
        ------
        app.upload_route.UploadRefused
            413 when the body passes ``limit`` (what arrived is removed); 400
            when it is empty.
        app.storage.DataFolderError
            When Redis cannot be reached or refuses the bytes (names the URL).
        """
        ttl = upload_route.STAGED_SECONDS
        upload_id = secrets.token_urlsafe(24)
        data_key, meta_key, partial = self._keys(upload_id)
        digest, size = hashlib.sha256(), 0
        try:
            self.sweep(page)
            while chunk := stream.read(upload_route.CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise upload_route.UploadRefused(
                        413, upload_route.too_large(filename, None, limit)
                    )
                digest.update(chunk)
                pipe = self.redis.pipeline(transaction=False)
                pipe.append(partial, chunk)
                pipe.expire(partial, ttl)
                pipe.execute()
            if size == 0:
                raise upload_route.UploadRefused(400, f"{filename} is empty (0 bytes)")
            meta = {
                "filename": filename,
                "bytes": size,
                "sha256": digest.hexdigest(),
                "page": page,
                "browser": browser,
                "time": time.time(),
            }
            pipe = self.redis.pipeline(transaction=True)
            pipe.rename(partial, data_key)
            pipe.expire(data_key, ttl)
            pipe.set(meta_key, json.dumps(meta), ex=ttl)
            pipe.set(self._page_key(page), upload_id, ex=ttl)
            pipe.execute()
        except upload_route.UploadRefused:
            with contextlib.suppress(_errors()):
                self.discard(upload_id)
            raise
        except _errors() as err:
            with contextlib.suppress(_errors()):
                self.discard(upload_id)
            raise self._fault(err) from None
        return {
            "upload": upload_id,
            "filename": filename,
            "bytes": size,
            "sha256": meta["sha256"],
        }

    def take(self, upload_id: str, page: str) -> tuple[bytes, dict]:
        """Return a staged file's bytes and description, and remove it.

        As :meth:`app.upload_route.Staging.take`: only the page that sent it
        takes it, once (``GETDEL``: of two takers, one gets the bytes).

        Raises
        ------
        SegmentationError
            When the id is unknown, already taken, expired, or another page's.
        app.storage.DataFolderError
            When Redis cannot be reached.
        """
        data_key, meta_key, _ = self._keys(upload_id)
        gone = SegmentationError(
            "The uploaded file is no longer waiting on the server (taken "
            f"already, or older than {upload_route.STAGED_SECONDS // 60} minutes); "
            "please choose it again."
        )
        try:
            raw = self.redis.get(meta_key)
            try:
                meta = json.loads(raw) if raw is not None else None
            except ValueError:
                meta = None
            if meta is None or meta.get("page") != page:
                raise gone
            data = self.redis.getdel(data_key)
            self.redis.delete(meta_key)
            self._forget(self._page_key(page), upload_id)
        except _errors() as err:
            raise self._fault(err) from None
        if data is None:
            raise gone
        return data, meta

    def discard(self, upload_id: str) -> None:
        """Remove a staged file (nothing happens when it is not there)."""
        self.redis.delete(*self._keys(upload_id))

    def sweep(self, page: str | None = None, now: float | None = None) -> list[str]:
        """Remove ``page``'s earlier staged file; return the removed ids.

        Old files need no sweeping: Redis expires them after
        :data:`app.upload_route.STAGED_SECONDS`. ``now`` is accepted for the
        disk staging's signature and not used.
        """
        if page is None:
            return []
        earlier = self.redis.getdel(self._page_key(page))
        if earlier is None:
            return []
        upload_id = earlier.decode()
        self.discard(upload_id)
        return [upload_id]


def shared_staging() -> RedisStaging | None:
    """Return the staging in Redis when ``REDIS_URL`` is set, else None (local disk)."""
    url = redis_url()
    return None if url is None else RedisStaging(url)
