"""Server-side store: content-hash keys, prepare/segment called once, eviction."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app import storage
from segmentation import pipeline, runs
from segmentation.errors import SegmentationError


class Calls:
    """Counts calls and returns a fixed object (stands in for the engine)."""

    def __init__(self, result):
        self.result, self.count = result, 0

    def __call__(self, *args, **kwargs):
        self.count += 1
        return self.result


@pytest.fixture
def store(tmp_path):
    return storage.Store(tmp_path / "store")


def test_same_bytes_same_key(store):
    data = b"InvoiceNo,CustomerID\n1,2\n"
    first = store.put_upload(data, "a.csv")
    second = store.put_upload(data, "renamed.csv")
    assert first == second == hashlib.sha256(data).hexdigest()
    assert len(store.cache) == 1  # stored once
    assert store.put_upload(data + b"\n", "a.csv") != first


def test_second_prepare_reads_nothing(store, monkeypatch):
    fake = Calls({"prepared": True})
    monkeypatch.setattr(pipeline, "prepare", fake)
    sha = store.put_upload(b"x,y\n1,2\n", "tiny.csv")
    assert store.prepared(sha) == {"prepared": True}
    assert store.prepared(sha) == {"prepared": True}
    # a fresh Store on the same directory (another worker) finds it on disk
    other = storage.Store(store.directory)
    assert other.prepared(sha) == {"prepared": True}
    assert fake.count == 1


def test_mapping_is_part_of_the_prepared_key(store, monkeypatch):
    fake = Calls("p")
    monkeypatch.setattr(pipeline, "prepare", fake)
    sha = store.put_upload(b"a,b\n", "m.csv")
    store.prepared(sha)
    store.prepared(sha, mapping={"customer_id": "b"})
    assert fake.count == 2


def test_segmentation_cached_per_k_and_share(store, monkeypatch):
    monkeypatch.setattr(pipeline, "prepare", Calls("prepared"))
    styles = Calls("styles")
    monkeypatch.setattr(pipeline, "fit_styles", styles)
    fake = Calls("segmentation")
    monkeypatch.setattr(pipeline, "segment", fake)
    sha = store.put_upload(b"a,b\n", "m.csv")
    store.segmentation(sha, 3, 0.02)
    store.segmentation(sha, 3, 0.02)
    assert fake.count == 1
    store.segmentation(sha, 4, 0.02)
    assert styles.count == 1  # purchase styles do not depend on k
    store.segmentation(sha, 4, 0.05)
    assert fake.count == 3 and styles.count == 2


def test_missing_upload_says_so(store):
    with pytest.raises(SegmentationError, match="no longer on the server"):
        store.get_upload("0" * 64)


def test_eviction_keeps_the_store_bounded(tmp_path):
    limit = 2_000_000
    small = storage.Store(tmp_path / "small", size_limit=limit)
    blobs = [os.urandom(200_000) for _ in range(30)]  # 6 MB in all
    keys = [small.put_upload(blob, f"{i}.csv") for i, blob in enumerate(blobs)]
    assert small.cache.volume() <= limit
    assert ("upload", keys[0]) not in small.cache  # oldest evicted
    assert ("upload", keys[-1]) in small.cache  # newest kept


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(storage.ENV_DATA_DIR, str(tmp_path / "elsewhere"))
    assert storage.data_dir() == tmp_path / "elsewhere"
    assert storage.data_dir(tmp_path) == tmp_path
    monkeypatch.delenv(storage.ENV_DATA_DIR)
    # the app and the saved runs share one default folder: <project>/data
    assert storage.data_dir() == runs.DEFAULT_DATA_DIR
    assert runs.DEFAULT_DATA_DIR == Path(storage.__file__).resolve().parents[1] / "data"


class Slow:
    """Stands in for a computation of seconds: counts calls, sleeps, returns."""

    def __init__(self, result, seconds=0.5):
        self.result, self.seconds, self.count = result, seconds, 0
        self.lock = threading.Lock()

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.count += 1
        time.sleep(self.seconds)
        return self.result


def test_pages_asking_at_once_share_one_comparison(store, monkeypatch):
    """Eight threads ask for one comparison nobody has: it is computed once.

    Each page's background job used to compute it again (twenty times over
    in a 20-user load run).
    """
    monkeypatch.setattr(pipeline, "prepare", Calls("prepared"))
    slow = Slow("compared")
    monkeypatch.setattr(pipeline, "compare", slow)
    sha = store.put_upload(b"a,b\n", "m.csv")
    start = threading.Barrier(8)

    def ask():
        start.wait()
        return store.comparison(sha, 4)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: ask(), range(8)))
    assert answers == ["compared"] * 8
    assert slow.count == 1
    # nothing computed when not asked to, and another k is its own computation
    assert store.comparison(sha, 5, compute=False) is None
    assert store.comparison(sha, 5) == "compared" and slow.count == 2


def _segment_in_child(directory, sha, ready, out):
    """In a forked process: the segmentation at k = 3, or the error's name."""
    other = storage.Store(directory)
    ready.wait()
    try:
        out.put(other.segmentation(sha, 3, 0.02))
    except Exception as err:  # reported to the test
        out.put(type(err).__name__)


def test_processes_asking_at_once_share_one_segmentation(store, monkeypatch, tmp_path):
    """Two web or job processes on one data folder compute a key once."""
    monkeypatch.setattr(pipeline, "prepare", Calls("prepared"))
    monkeypatch.setattr(pipeline, "fit_styles", Calls("styles"))
    marks = tmp_path / "computed"
    marks.mkdir()

    def segment(*args, **kwargs):
        (marks / str(os.getpid())).touch()
        time.sleep(1.0)
        return "segmentation"

    monkeypatch.setattr(pipeline, "segment", segment)
    sha = store.put_upload(b"a,b\n", "m.csv")
    store.prepared(sha)  # the bytes prepared before, as after an upload
    context = multiprocessing.get_context("fork")
    ready, out = context.Event(), context.Queue()
    children = [
        context.Process(
            target=_segment_in_child, args=(store.directory, sha, ready, out)
        )
        for _ in range(3)
    ]
    for child in children:
        child.start()
    ready.set()
    answers = [out.get(timeout=60) for _ in children]
    for child in children:
        child.join(30)
    assert answers == ["segmentation"] * 3
    assert len(list(marks.iterdir())) == 1  # one process computed, two read it
