"""The server-side store and staged uploads in Redis (:mod:`app.store_redis`).

Needs a Redis server: ``SEGMENTATION_TEST_REDIS_URL`` (``.ci/run`` starts
Debian's ``redis-server`` on loopback and sets it); skipped without one. Each
test writes under a namespace of its own and removes it.

The last test runs two web processes and a Celery worker, each with its own
``SEGMENTATION_DATA_DIR`` and the same ``REDIS_URL`` and ``DATABASE_URL``: a
file uploaded through web A is read back through web B.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pickle
import shlex
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app import storage, store_redis, upload_route
from segmentation.errors import SegmentationError
from tests.dash_pages import Page, upload_body, wait_until_up
from tests.procfile_server import free_port, procfile_line

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("SEGMENTATION_TEST_REDIS_URL")
STARTUP_SECONDS = 120
FINISH_SECONDS = 300

pytestmark = pytest.mark.skipif(
    not REDIS_URL,
    reason="SEGMENTATION_TEST_REDIS_URL is unset: no Redis server to test the "
    "shared store against (.ci/run starts one)",
)


def _size(value) -> int:
    """The bytes a value counts for: its pickle, as the store writes it."""
    return len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


@pytest.fixture
def namespace():
    name = f"test:{uuid.uuid4().hex[:12]}:"
    yield name
    client = store_redis._client(REDIS_URL)
    for key in client.scan_iter(match=name + "*"):
        client.delete(key)


def _cache(namespace: str, limit: int, **kwargs) -> store_redis.RedisCache:
    return store_redis.RedisCache(
        REDIS_URL, size_limit=limit, namespace=namespace + "store:", **kwargs
    )


# the cache ------------------------------------------------------------------------
def test_values_come_back_as_stored_and_keys_as_tuples(namespace):
    cache = _cache(namespace, 10**6)
    key = ("prepared", "ab" * 32, (("amount", "Price"),), ("day_first", None), 0.05)
    value = {"filename": "a.csv", "data": b"\x00\x01 bytes", "share": 0.05}
    cache.set(key, value)
    assert cache.get(key) == value
    assert key in cache
    assert ("prepared", "cd" * 32) not in cache
    assert cache.get(("prepared", "cd" * 32)) is None
    assert cache.get(("prepared", "cd" * 32), "absent") == "absent"
    assert list(cache) == [key]
    assert len(cache) == 1
    assert cache.volume() == _size(value)


def test_a_second_cache_on_the_same_redis_sees_the_entries(namespace):
    first, second = _cache(namespace, 10**6), _cache(namespace, 10**6)
    first.set(("upload", "1"), b"one")
    assert second.get(("upload", "1")) == b"one"
    other = store_redis.RedisCache(REDIS_URL, 10**6, namespace=namespace + "other:")
    assert ("upload", "1") not in other  # another namespace, another store


def test_the_least_recently_used_entry_is_evicted_first(namespace):
    value = b"x" * 1000
    limit = 3 * _size(value)  # three entries fit, not four
    cache = _cache(namespace, limit)
    for name in ("a", "b", "c"):
        cache.set((name,), value)
    assert cache.volume() == limit
    cache.get(("a",))  # a is used: b is now the least recently used
    cache.set(("d",), value)
    assert list(cache) == [("c",), ("a",), ("d",)]
    assert cache.volume() == limit
    cache.set(("c",), value)  # written again: used now
    cache.set(("e",), value)
    assert list(cache) == [("d",), ("c",), ("e",)]


def test_asking_whether_an_entry_is_stored_marks_it_used(namespace):
    value = b"y" * 500
    cache = _cache(namespace, 2 * _size(value))
    cache.set(("a",), value)
    cache.set(("b",), value)
    assert ("a",) in cache
    cache.set(("c",), value)
    assert list(cache) == [("a",), ("c",)]


def test_an_entry_over_the_limit_is_kept_alone_and_evicts_the_rest(namespace):
    small, big = b"s" * 100, b"B" * 5000
    cache = _cache(namespace, 3 * _size(small))
    cache.set(("one",), small)
    cache.set(("two",), small)
    cache.set(("big",), big)  # never the entry just written
    assert list(cache) == [("big",)]
    assert cache.volume() == _size(big)
    cache.set(("three",), small)  # the big one is now the oldest
    assert list(cache) == [("three",)]
    assert cache.volume() == _size(small)


def test_the_store_never_passes_its_limit_through_store_set(namespace, monkeypatch):
    """The store's own loop (``Store._set``) and the script agree on the bound."""
    value = b"v" * 2000
    limit = 2 * _size({"filename": "f.csv", "data": value}) + 10
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv(store_redis.ENV_PREFIX, namespace)
    store = storage.Store(Path("/nonexistent/never-made"), size_limit=limit)
    assert isinstance(store.cache, store_redis.RedisCache)
    shas = [store.put_upload(value + bytes([i]), f"{i}.csv") for i in range(4)]
    assert store.cache.volume() <= limit
    assert [key[1] for key in store.cache] == shas[2:]
    with pytest.raises(SegmentationError, match="no longer on the server"):
        store.get_upload(shas[0])
    assert store.get_upload(shas[3]) == {"filename": "3.csv", "data": value + b"\x03"}
    assert not Path("/nonexistent").exists()  # nothing on the local disk


def test_a_view_link_made_by_one_process_opens_in_another(
    namespace, monkeypatch, tmp_path
):
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv(store_redis.ENV_PREFIX, namespace)
    web_a = storage.Store(tmp_path / "a" / "store")
    web_b = storage.Store(tmp_path / "b" / "store")
    sha = web_a.put_upload(b"Invoice,Customer ID\n1,2\n", "shop.csv")
    dataset = {"id": sha, "filename": "shop.csv", "mapping": {}}
    token = web_a.mint_view(dataset, "c" * 32)
    assert web_b.mint_view(dataset, "c" * 32) == token  # one link secret
    assert web_b.open_view(token, "c" * 32) == dataset
    with pytest.raises(SegmentationError, match="uploaded in another browser"):
        web_b.open_view(token, "d" * 32)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_add_keeps_the_first_value(namespace):
    cache = _cache(namespace, 10**6)
    assert cache.add(("link-secret",), b"first") is True
    assert cache.add(("link-secret",), b"second") is False
    assert cache.get(("link-secret",)) == b"first"
    assert cache.volume() == _size(b"first")


def test_delete_and_clear(namespace):
    cache = _cache(namespace, 10**6)
    cache.set(("a",), 1)
    cache.set(("b",), 2)
    assert cache.delete(("a",)) is True
    assert cache.delete(("a",)) is False
    assert list(cache) == [("b",)]
    assert cache.volume() == _size(2)
    assert cache.clear() > 0
    assert list(cache) == [] and cache.volume() == 0


def test_entries_have_a_ttl_renewed_by_use_and_expired_ones_leave_the_index(
    namespace,
):
    cache = _cache(namespace, 10**6, ttl_seconds=3600)
    cache.set(("a",), b"a")
    cache.set(("b",), b"b")
    client = store_redis._client(REDIS_URL)
    value_key = namespace + "store:v:" + repr(("a",))
    assert 3500 < client.ttl(value_key) <= 3600
    client.expire(value_key, 100)
    cache.get(("a",))
    assert client.ttl(value_key) > 3500  # renewed by the read
    client.delete(namespace + "store:v:" + repr(("b",)))  # as Redis expires it
    assert cache.volume() == _size(b"a")
    assert list(cache) == [("a",)]


def test_keys_that_do_not_read_back_are_refused(namespace):
    cache = _cache(namespace, 10**6)
    with pytest.raises(TypeError, match=r"store key \('a', \[1\]\) is not a tuple"):
        cache.set(("a", [1]), 1)
    with pytest.raises(TypeError, match="store key 'a' is not a tuple"):
        cache.get("a")


def test_an_unreachable_redis_is_named_without_its_password():
    port = free_port()
    cache = store_redis.RedisCache(f"redis://:hunter2@127.0.0.1:{port}/0", 10**6)
    with pytest.raises(storage.DataFolderError) as caught:
        cache.set(("a",), 1)
    message = str(caught.value)
    assert message.startswith(
        f"Cannot write to the shared store at redis://:***@127.0.0.1:{port}/0: "
    )
    assert "hunter2" not in message
    with pytest.raises(storage.DataFolderError, match="Cannot read the shared store"):
        cache.get(("a",))


def test_without_redis_url_the_store_stays_on_disk(tmp_path, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    store = storage.Store(tmp_path / "store")
    assert not isinstance(store.cache, store_redis.RedisCache)
    assert (tmp_path / "store" / "cache.db").exists()
    assert store_redis.shared_staging() is None  # upload_route.staging(): the folder


def test_the_session_secret_is_shared_through_redis(monkeypatch, namespace):
    monkeypatch.setenv(store_redis.ENV_PREFIX, namespace)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert store_redis.shared_secret("flask_secret_key") is None
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    first = store_redis.shared_secret("flask_secret_key")
    assert len(first) == 32
    assert store_redis.shared_secret("flask_secret_key") == first  # made once
    assert store_redis.shared_secret("other") != first


# staged uploads ----------------------------------------------------------------------
PAGE, OTHER_PAGE = "a" * 32, "b" * 32


def _staging(namespace: str) -> store_redis.RedisStaging:
    return store_redis.RedisStaging(REDIS_URL, namespace=namespace + "staged:")


def _keys(namespace: str) -> list[str]:
    client = store_redis._client(REDIS_URL)
    return sorted(k.decode() for k in client.scan_iter(match=namespace + "*"))


def test_a_staged_upload_is_taken_once_by_its_page(namespace, monkeypatch):
    monkeypatch.setattr(upload_route, "CHUNK_BYTES", 7)  # several APPENDs
    data = b"Invoice,Customer ID\n1,17850\n2,13047\n"
    staging = _staging(namespace)
    answer = staging.receive(io.BytesIO(data), "shop.csv", PAGE, browser="c" * 32)
    assert answer["filename"] == "shop.csv"
    assert answer["bytes"] == len(data) == 20 + 8 + 8
    assert answer["sha256"] == hashlib.sha256(data).hexdigest()
    with pytest.raises(SegmentationError, match="no longer waiting"):
        _staging(namespace).take(answer["upload"], OTHER_PAGE)
    taken, meta = _staging(namespace).take(answer["upload"], PAGE)  # any process
    assert taken == data
    assert (meta["filename"], meta["bytes"], meta["browser"]) == (
        "shop.csv",
        36,
        "c" * 32,
    )
    with pytest.raises(SegmentationError, match="taken already"):
        staging.take(answer["upload"], PAGE)
    assert _keys(namespace) == []  # nothing left behind


def test_staged_uploads_expire_after_the_staging_time(namespace):
    staging = _staging(namespace)
    answer = staging.receive(io.BytesIO(b"x,y\n1,2\n"), "a.csv", PAGE)
    client = store_redis._client(REDIS_URL)
    for key in _keys(namespace):
        assert 0 < client.ttl(key) <= upload_route.STAGED_SECONDS, key
    assert namespace + "staged:" + answer["upload"] in _keys(namespace)


def test_a_pages_new_upload_replaces_its_earlier_one(namespace):
    staging = _staging(namespace)
    first = staging.receive(io.BytesIO(b"first"), "a.csv", PAGE)
    other = staging.receive(io.BytesIO(b"other page"), "b.csv", OTHER_PAGE)
    second = staging.receive(io.BytesIO(b"second"), "a.csv", PAGE)
    with pytest.raises(SegmentationError, match="no longer waiting"):
        staging.take(first["upload"], PAGE)
    assert staging.take(second["upload"], PAGE)[0] == b"second"
    assert staging.take(other["upload"], OTHER_PAGE)[0] == b"other page"


@pytest.mark.parametrize(
    ("body", "limit", "status", "message"),
    [
        (b"x" * 11, 10, 413, "The file big.csv is larger than the upload limit of"),
        (b"", 10, 400, "big.csv is empty (0 bytes)"),
    ],
)
def test_a_refused_upload_leaves_nothing(namespace, body, limit, status, message):
    staging = _staging(namespace)
    with pytest.raises(upload_route.UploadRefused) as refused:
        staging.receive(io.BytesIO(body), "big.csv", PAGE, limit=limit)
    assert refused.value.status == status
    assert str(refused.value).startswith(message)
    assert _keys(namespace) == []


def test_an_unknown_upload_id_is_refused(namespace):
    with pytest.raises(SegmentationError, match="is not an upload id"):
        _staging(namespace).take("../../etc/passwd", PAGE)


def test_with_redis_url_the_route_stages_in_redis(monkeypatch, namespace):
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv(store_redis.ENV_PREFIX, namespace)
    staging = upload_route.staging()
    assert isinstance(staging, store_redis.RedisStaging)
    assert staging.namespace == namespace + "staged:"


# two web processes and a worker, each with its own data folder ---------------------
def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _shared_database(root: Path):
    """Yield the database URL the three processes share, then drop it.

    A fresh PostgreSQL schema with ``SEGMENTATION_TEST_POSTGRES_URL`` (CI),
    else one SQLite file that every process opens by the same path.
    """
    from sqlalchemy import create_engine, text

    from segmentation.runs import _database
    from tests import run_db

    if not run_db.POSTGRES_URL:
        yield f"sqlite:///{root / 'shared-runs.db'}"
        return
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_database.database_url(Path("."), run_db.POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield run_db._postgres_schema_url(name)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def machines(tmp_path_factory):
    """Web A, web B and a worker: three data folders, one Redis, one database."""
    root = tmp_path_factory.mktemp("machines")
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    # a Redis database of its own: its own Celery queue too
    url = urllib.parse.urlsplit(REDIS_URL)._replace(path="/2").geturl()
    databases = _shared_database(root)
    database = next(databases)
    base_env = {
        **os.environ,
        "REDIS_URL": url,
        "DATABASE_URL": database,
        store_redis.ENV_PREFIX: prefix,
        "PYTHONPATH": str(ROOT),
    }
    dirs = {name: root / name for name in ("web-a", "web-b", "worker")}
    logs = {name: root / f"{name}.log" for name in dirs}
    processes = {}
    worker_words = shlex.split(procfile_line("worker"))
    worker_cmd = [str(Path(sys.executable).parent / "celery"), *worker_words[1:]]
    worker_cmd += ["-n", f"store-{uuid.uuid4().hex[:8]}@%h"]
    ports = {"web-a": free_port(), "web-b": free_port()}
    try:
        for name, folder in dirs.items():
            env = {**base_env, "SEGMENTATION_DATA_DIR": str(folder)}
            if name == "worker":
                cmd = worker_cmd
            else:
                cmd = [sys.executable, "-m", "app"]
                env["PORT"] = str(ports[name])
            with logs[name].open("wb") as log:
                processes[name] = subprocess.Popen(
                    cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
        deadline = time.monotonic() + STARTUP_SECONDS
        while " ready." not in logs["worker"].read_text(errors="replace"):
            if processes["worker"].poll() is not None or time.monotonic() > deadline:
                pytest.fail("the worker did not start:\n" + logs["worker"].read_text())
            time.sleep(0.5)
        bases = {}
        for name, port in ports.items():
            bases[name] = f"http://127.0.0.1:{port}"
            try:
                wait_until_up(bases[name], STARTUP_SECONDS)
            except AssertionError:
                pytest.fail(f"{name} did not start:\n" + logs[name].read_text())
        yield {"base": bases, "dirs": dirs, "logs": logs, "url": url, "prefix": prefix}
    finally:
        for process in processes.values():
            _stop(process)
        client = store_redis._client(url)
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
        databases.close()  # drops the PostgreSQL schema, if one was made


def _update(base: str, output_part: str, inputs: dict, state: dict | None = None):
    """Call the plain (not background) callback of ``output_part`` as the renderer.

    ``inputs`` name the inputs that fire it (the first is the trigger); its
    other inputs and states take ``state``'s values, else the layout's.
    """
    page = Page(base)
    found = [
        c
        for c in page.callbacks
        if output_part in c["output"]
        and not c.get("background")
        and not c.get("clientside_function")
        and set(inputs) <= {f"{d['id']}.{d['property']}" for d in c["inputs"]}
    ]
    assert len(found) == 1, [c["output"] for c in found]
    callback = found[0]
    given = {**inputs, **(state or {})}
    outputs = [
        {"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]}
        for o in callback["output"].strip(".").split("...")
    ]
    body = {
        "output": callback["output"],
        "outputs": outputs,
        "inputs": page._values(callback["inputs"], given),
        "state": page._values(callback["state"], given),
        "changedPropIds": list(inputs)[:1],
    }
    request = urllib.request.Request(
        f"{base}/_dash-update-component",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=FINISH_SECONDS) as response:
        return json.loads(response.read())["response"]


def test_a_file_uploaded_through_web_a_is_shown_by_web_b(machines, retail_ii_head):
    a, b = machines["base"]["web-a"], machines["base"]["web-b"]
    page = Page(a)
    body = upload_body(page, retail_ii_head)  # POST /upload to web A
    # the file is staged in Redis, not in web A's folder
    assert not list((machines["dirs"]["web-a"] / "uploads").glob("*.bin"))
    # the upload job starts through web A, runs on the worker, and is polled
    # through web B (the renderer may reach any web process)
    handles = page.start(body)
    page.base = b
    deadline, result = time.monotonic() + FINISH_SECONDS, None
    while result is None and time.monotonic() < deadline:
        time.sleep(0.5)
        status, answer = page.poll_once(body, handles)
        assert status != 204, "the job was lost"
        if answer is not None and "response" in answer:
            result = answer["response"]
    assert result is not None, "the upload job did not end"
    dataset = result["dataset-store"]["data"]
    assert dataset["filename"] == "online_retail_II_head.xlsx"
    assert dataset["id"] == hashlib.sha256(retail_ii_head.read_bytes()).hexdigest()

    # web B never saw the file: it reads the prepared data from Redis
    shown = _update(b, "dataset-title.children", {"dataset-store.data": dataset})
    assert shown["dataset-title"]["children"] == "Dataset: online_retail_II_head.xlsx"
    assert "998" in json.dumps(shown["cleaning-receipt"]["children"])  # lines read
    panels = _update(
        b,
        "persona-cards-data.data",
        {"panels-request.data": int(time.time() * 1000)},
        {"dataset-store.data": dataset, "k-slider.value": 3},
    )
    cards = json.dumps(panels["persona-cards-data"]["data"])
    assert panels["customer-scatter"]["figure"]["data"], "no points on web B"
    assert "upload the file again" not in cards
    # nothing of the store on any local disk; the worker's log names the job
    for folder in machines["dirs"].values():
        assert not (folder / "store").exists(), folder
    log = machines["logs"]["worker"].read_text(errors="replace")
    assert "succeeded" in log and "background_callback_" in log, log[-3000:]


def test_one_computation_of_a_key_across_stores(namespace, tmp_path, monkeypatch):
    """Two stores on one Redis (two machines) compute a key once.

    The second waits on the Redis lock and reads the first one's result.
    """
    from segmentation import pipeline

    count = []

    def compare(*args, **kwargs):
        count.append(1)
        time.sleep(0.5)
        return "compared"

    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv(store_redis.ENV_PREFIX, namespace)
    monkeypatch.setattr(pipeline, "prepare", lambda *a, **k: "prepared")
    monkeypatch.setattr(pipeline, "compare", compare)
    one = storage.Store(tmp_path / "one" / "store")
    two = storage.Store(tmp_path / "two" / "store")
    sha = one.put_upload(b"a,b\n1,2\n", "m.csv")
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda s: s.comparison(sha, 4), (one, two)))
    assert answers == ["compared", "compared"]
    assert len(count) == 1
    for folder in ("one", "two"):
        assert not (tmp_path / folder / "store" / "locks").exists()
