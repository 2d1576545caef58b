"""Server-side store: content-hash keys, prepare/segment called once, eviction."""

from __future__ import annotations

import hashlib
import os
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
