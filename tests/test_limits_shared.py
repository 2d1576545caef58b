"""The API's rate limit and the log-in failure counts are shared by web processes.

Two limiter objects on one data folder (or one Redis namespace) stand for two
web processes of one server: they must count against one quota. The clock is
one the tests move; expected waits are worked out by hand in the comments.

The Redis cases need ``SEGMENTATION_TEST_REDIS_URL`` (``.ci/run`` starts
Debian's ``redis-server`` on loopback and sets it) and are skipped without it,
as in ``tests/test_store_redis.py``; each writes under a namespace of its own
and removes it.

The last tests run real processes taking from one bucket and failing one key
at the same moment: the total allowed is the bucket, no update is lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import types
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import diskcache
import pytest

from app import create_app, limits, store_redis
from app.accounts import Accounts
from app.auth import FailureLimiter, RateLimiter
from app.limits import DiskLimits, RedisLimits, slot

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("SEGMENTATION_TEST_REDIS_URL")
NO_REDIS = pytest.mark.skipif(
    not REDIS_URL,
    reason="SEGMENTATION_TEST_REDIS_URL is unset: no Redis server to test the "
    "shared limits against (.ci/run starts one)",
)
BACKENDS = ["disk", pytest.param("redis", marks=NO_REDIS)]


class Clock:
    """Seconds that only move when told."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def namespace():
    name = f"test:{uuid.uuid4().hex[:12]}:limits:"
    yield name
    if REDIS_URL:
        client = store_redis._client(REDIS_URL)
        for key in client.scan_iter(match=name + "*"):
            client.delete(key)


@pytest.fixture(params=BACKENDS)
def shared(request, tmp_path, namespace):
    """Make a new limits object on one store, as each web process does."""
    if request.param == "disk":
        return lambda: DiskLimits(tmp_path / "limits")
    return lambda: RedisLimits(REDIS_URL, namespace=namespace)


def stored_failures(store, key: str) -> list[float]:
    """The failure times a store holds for a FailureLimiter key."""
    name = slot("failures", key)
    if isinstance(store, DiskLimits):
        return list(store.cache.get(name) or [])
    raw = store.redis.zrange(store.namespace + name, 0, -1, withscores=True)
    return [score for _, score in raw]


# failures ------------------------------------------------------------------------
def test_failures_split_across_two_processes_count_once(shared):
    clock = Clock()
    first = FailureLimiter(5, 60, clock, limits=shared())
    second = FailureLimiter(5, 60, clock, limits=shared())
    for limiter in (first, first, first, second, second):  # at 1000 .. 1004
        assert limiter.wait("name:carol") == 0
        limiter.fail("name:carol")
        clock.now += 1
    clock.now = 1004
    # five failures, the first at 1000: free when it leaves at 1060
    assert first.wait("name:carol") == pytest.approx(56)
    assert second.wait("name:carol") == pytest.approx(56)
    assert second.wait("name:dave", "address:10.0.0.2") == 0  # others are free
    assert second.wait("name:dave", "name:carol") == pytest.approx(56)


def test_failures_leave_the_window(shared):
    clock = Clock()
    first = FailureLimiter(5, 60, clock, limits=shared())
    second = FailureLimiter(5, 60, clock, limits=shared())
    for moment in (1000, 1001, 1002, 1003, 1004):
        clock.now = moment
        (first if moment % 2 else second).fail("address:10.0.0.1")
    clock.now = 1059.5
    assert first.wait("address:10.0.0.1") == pytest.approx(0.5)
    clock.now = 1060  # 1000 has left: four in the window
    assert first.wait("address:10.0.0.1") == 0
    second.fail("address:10.0.0.1")  # five again: 1001 .. 1004 and 1060
    assert first.wait("address:10.0.0.1") == pytest.approx(1001 + 60 - 1060)
    clock.now = 1200  # all have left
    assert second.wait("address:10.0.0.1") == 0


def test_a_clear_in_one_process_frees_the_name_in_the_other(shared):
    clock = Clock()
    first = FailureLimiter(5, 60, clock, limits=shared())
    second = FailureLimiter(5, 60, clock, limits=shared())
    for _ in range(5):
        first.fail("name:carol", "address:10.0.0.1")
    assert second.wait("name:carol") == pytest.approx(60)
    second.clear("name:carol")  # carol logged in through the second process
    assert first.wait("name:carol") == 0
    assert first.wait("address:10.0.0.1") == pytest.approx(60)  # not cleared
    for _ in range(4):
        first.fail("name:carol")
    assert second.wait("name:carol") == 0  # counting again from zero: four
    second.fail("name:carol")
    assert first.wait("name:carol") == pytest.approx(60)


def test_a_stored_list_keeps_the_last_failures_only(shared):
    clock = Clock()
    store = shared()
    limiter = FailureLimiter(3, 60, clock, limits=store)
    for moment in range(1000, 1008):  # eight failures, e.g. racing requests
        clock.now = moment
        limiter.fail("name:carol")
    assert stored_failures(store, "name:carol") == [1005, 1006, 1007]
    # fewer than 3 in the window once 1005 leaves it, at 1065
    assert limiter.wait("name:carol") == pytest.approx(1065 - 1007)


def test_a_clock_that_steps_back_waits_one_window_at_most(shared):
    clock = Clock(5000)
    limiter = FailureLimiter(2, 60, clock, limits=shared())
    limiter.fail("name:carol")
    limiter.fail("name:carol")
    clock.now = 100  # e.g. the wall clock was corrected by an hour and more
    assert limiter.wait("name:carol") == pytest.approx(60)


# rate ----------------------------------------------------------------------------
def test_a_bucket_is_drained_across_two_processes(shared):
    clock = Clock()
    # 3 at once, refilled over 30 s: one token every 10 s
    first = RateLimiter(3, 30, clock, limits=shared())
    second = RateLimiter(3, 30, clock, limits=shared())
    assert [first.take("k1"), second.take("k1"), first.take("k1")] == [0, 0, 0]
    assert second.take("k1") == pytest.approx(10)
    assert first.take("k1") == pytest.approx(10)  # a refusal takes nothing
    assert second.take("k2") == 0  # another key's bucket is full
    clock.now += 4  # 0.4 of a token: 0.6 missing, 6 s
    assert first.take("k1") == pytest.approx(6)
    clock.now += 6
    assert second.take("k1") == 0
    assert first.take("k1") == pytest.approx(10)
    clock.now += 100  # full again (3, not more)
    assert [second.take("k1") for _ in range(4)] == pytest.approx([0, 0, 0, 10])


def test_rate_and_failures_of_one_key_are_apart(shared):
    clock = Clock()
    store = shared()
    rate = RateLimiter(1, 60, clock, limits=store)
    failures = FailureLimiter(1, 60, clock, limits=store)
    failures.fail("same")
    assert rate.take("same") == 0
    assert failures.wait("same") == pytest.approx(60)
    assert rate.take("same") == pytest.approx(60)


def test_keys_are_stored_hashed(shared, namespace):
    """An API key is a secret: the store holds its SHA-256, not the key."""
    secret = "sk_" + uuid.uuid4().hex
    store = shared()
    RateLimiter(5, 60, Clock(), limits=store).take(secret)
    FailureLimiter(5, 60, Clock(), limits=store).fail("name:" + secret)
    if isinstance(store, DiskLimits):
        names = list(store.cache.iterkeys())
        files = b"".join(p.read_bytes() for p in store.directory.rglob("*.db*"))
        assert secret.encode() not in files
    else:
        names = [k.decode() for k in store.redis.scan_iter(match=namespace + "*")]
        names = [name.removeprefix(namespace) for name in names]
    assert sorted(names) == sorted(
        [slot("rate", secret), slot("failures", "name:" + secret)]
    )
    assert not any(secret in name for name in names)


# expiry --------------------------------------------------------------------------
def test_entries_expire_after_their_window(shared):
    store = shared()
    RateLimiter(10, 30, Clock(), limits=store).take("k1")
    FailureLimiter(5, 60, Clock(), limits=store).fail("name:carol")
    rate, failure = slot("rate", "k1"), slot("failures", "name:carol")
    if isinstance(store, DiskLimits):
        ends = [store.cache.get(n, expire_time=True)[1] for n in (rate, failure)]
        left = [end - time.time() for end in ends]
    else:
        left = [store.redis.pttl(store.namespace + n) / 1000 for n in (rate, failure)]
    # a full bucket after 30 s is no bucket; every failure leaves in 60 s
    assert 25 < left[0] <= 30
    assert 55 < left[1] <= 60


def test_expired_counts_leave_the_folder(tmp_path, monkeypatch):
    """diskcache drops expired entries a few at each write: the folder stays small."""
    wall = types.SimpleNamespace(time=lambda: 5000.0, sleep=time.sleep)
    monkeypatch.setattr(diskcache.core, "time", wall)
    store = DiskLimits(tmp_path / "limits")
    limiter = FailureLimiter(5, 60, Clock(), limits=store)
    for n in range(12):
        limiter.fail(f"address:10.0.0.{n}")
    assert len(store.cache) == 12
    wall.time = lambda: 5061.0  # all twelve have expired
    limiter.fail("address:10.0.1.1")
    limiter.fail("address:10.0.1.2")
    assert store.cache.expire() == 0  # nothing expired was left behind
    assert len(store.cache) == 2


# the server ----------------------------------------------------------------------
def test_two_apps_on_one_folder_share_both_limits(tmp_path, monkeypatch):
    """Two web processes of one server: create_app twice on its data folder."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("SEGMENTATION_REQUIRE_LOGIN", raising=False)
    monkeypatch.delenv("SEGMENTATION_ALLOW_ANONYMOUS", raising=False)
    monkeypatch.setenv("SEGMENTATION_API_RATE", "3/hour")
    accounts = Accounts(directory=tmp_path)
    accounts.add_user("carol", "carol's long password")
    key = accounts.create_key("carol")[1]
    first = create_app(tmp_path, first_screen=False).server.test_client()
    second = create_app(tmp_path, first_screen=False).server.test_client()
    assert (tmp_path / "limits").stat().st_mode & 0o777 == 0o700
    assert all(
        p.stat().st_mode & 0o777 == 0o600
        for p in (tmp_path / "limits").iterdir()
        if p.is_file()
    )

    def attempt(client, password):
        form = {"name": "carol", "password": password, "next": "/"}
        return client.post("/login", data=form).status_code

    assert [attempt(first, "wrong password") for _ in range(3)] == [401] * 3
    assert [attempt(second, "wrong password") for _ in range(2)] == [401] * 2
    assert attempt(first, "carol's long password") == 429
    assert attempt(second, "carol's long password") == 429

    auth = {"Authorization": f"Bearer {key}"}
    codes = [c.get("/api/runs", headers=auth).status_code for c in (first, second)]
    codes.append(first.get("/api/runs", headers=auth).status_code)
    answer = second.get("/api/runs", headers=auth)
    assert codes == [200, 200, 200]
    assert answer.status_code == 429
    # one request per 20 minutes: 1,200 s less the second or so the test took
    assert 1100 < int(answer.headers["Retry-After"]) <= 1200
    assert "rate limit of 3 requests per 3600 s" in answer.json["error"]


def test_the_server_keeps_limits_in_redis_with_redis_url(tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # never connected here
    monkeypatch.setenv("SEGMENTATION_REDIS_PREFIX", "shop-a:")
    found = limits.shared_limits(tmp_path)
    assert isinstance(found, RedisLimits)
    assert found.namespace == "shop-a:limits:"
    assert not (tmp_path / "limits").exists()
    monkeypatch.delenv("REDIS_URL")
    assert isinstance(limits.shared_limits(tmp_path), DiskLimits)


# real processes ------------------------------------------------------------------
_CHILD = """
import json, os, sys, time
from app.auth import FailureLimiter, RateLimiter
from app.limits import DiskLimits, RedisLimits

kind, where, namespace, go, tries = sys.argv[1:6]
store = DiskLimits(where) if kind == "disk" else RedisLimits(where, namespace=namespace)
clock = lambda: 1000.0  # no refill while they race: only lost updates would show
bucket = RateLimiter(50, 3600, clock, limits=store)
failures = FailureLimiter(1000, 3600, clock, limits=store)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
allowed = 0
for _ in range(int(tries)):
    allowed += bucket.take("shared key") == 0
    failures.fail("name:carol")
print(json.dumps({"allowed": allowed}), flush=True)
"""


@pytest.mark.parametrize("kind", BACKENDS)
def test_processes_racing_lose_no_update(kind, tmp_path, namespace):
    processes, tries = 3, 40  # 120 requests on a bucket of 50; 120 failures
    where = str(tmp_path / "limits") if kind == "disk" else REDIS_URL
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [kind, where, namespace, str(go), str(tries)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, *args],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for _ in range(processes)
    ]
    for child in children:
        assert child.stdout.readline().strip() == "ready"
    go.touch()  # all start at once
    allowed = 0
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        allowed += json.loads(out.strip().splitlines()[-1])["allowed"]
    assert allowed == 50
    store = DiskLimits(where) if kind == "disk" else RedisLimits(where, namespace)
    clock = Clock(1000.0)
    # 120 failures at 1000 s: a limit of 120 is reached, one of 121 is not
    assert FailureLimiter(120, 3600, clock, limits=store).wait("name:carol") == 3600
    assert FailureLimiter(121, 3600, clock, limits=store).wait("name:carol") == 0


# attempts: checked and counted in one step --------------------------------------
def test_attempts_are_counted_when_checked_and_a_success_is_taken_back(shared):
    clock = Clock(1000.0)
    store = shared()
    first = FailureLimiter(3, 60, clock, limits=store)
    second = FailureLimiter(3, 60, clock, limits=shared())
    tickets = []
    for moment in (1000.0, 1001.0, 1002.0):
        clock.now = moment
        wait, ticket = (first, second)[len(tickets) % 2].attempt("name:carol")
        assert wait == 0 and ticket is not None
        tickets.append(ticket)
    assert stored_failures(store, "name:carol") == [1000.0, 1001.0, 1002.0]
    clock.now = 1003.0
    # three in the window: wait until 1000 + 60; the refused attempt is not counted
    assert second.attempt("name:carol") == (pytest.approx(57.0), None)
    assert stored_failures(store, "name:carol") == [1000.0, 1001.0, 1002.0]
    first.forgive(tickets[1])  # the attempt at 1001 s had the right password
    assert stored_failures(store, "name:carol") == [1000.0, 1002.0]
    wait, ticket = second.attempt("name:carol", "address:10.0.0.1")
    assert wait == 0
    assert stored_failures(store, "name:carol") == [1000.0, 1002.0, 1003.0]
    assert stored_failures(store, "address:10.0.0.1") == [1003.0]
    second.forgive(ticket)  # taken back for every key it counted
    assert stored_failures(store, "name:carol") == [1000.0, 1002.0]
    assert stored_failures(store, "address:10.0.0.1") == []


def test_an_attempt_waits_for_its_most_held_key(shared):
    clock = Clock(1000.0)
    store = shared()
    limiter = FailureLimiter(2, 60, clock, limits=store)
    limiter.fail("address:10.0.0.1")
    clock.now = 1010.0
    limiter.fail("address:10.0.0.1")
    clock.now = 1020.0
    # the address holds two (from 1000 s): 1000 + 60 - 1020 = 40 s; the name none
    assert limiter.attempt("name:carol", "address:10.0.0.1") == (40.0, None)
    assert stored_failures(store, "name:carol") == []


@pytest.mark.parametrize("kind", BACKENDS)
def test_threads_attempting_at_once_get_the_limit_in_all(kind, tmp_path, namespace):
    tries, allowed = 16, 5
    barrier = threading.Barrier(tries)

    def one(n: int) -> float:
        store = (
            DiskLimits(tmp_path / "limits")
            if kind == "disk"
            else RedisLimits(REDIS_URL, namespace=namespace)
        )
        limiter = FailureLimiter(allowed, 60, limits=store)
        barrier.wait()
        return limiter.attempt("name:carol", f"address:10.0.0.{n}")[0]

    with ThreadPoolExecutor(tries) as pool:
        waits = list(pool.map(one, range(tries)))
    assert sum(wait == 0 for wait in waits) == allowed
