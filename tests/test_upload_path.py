"""The loading job's path: an upload is hashed once by the store, and stored whole."""

from __future__ import annotations

import hashlib

import pytest

import segmentation
from app import storage


@pytest.fixture
def store(tmp_path):
    return storage.Store(tmp_path / "store")


def test_an_accepted_upload_is_hashed_once_and_stored_under_its_sha256(
    store, monkeypatch
):
    data = segmentation.load_sample()
    calls = []
    real = storage.content_id

    def counted(value):
        calls.append(len(value))
        return real(value)

    monkeypatch.setattr(storage, "content_id", counted)
    sha = store.accept_upload(data, segmentation.SAMPLE_NAME)
    assert sha == hashlib.sha256(data).hexdigest()
    assert calls == [len(data)]  # put_upload took the sha accept_upload had
    assert store.get_upload(sha) == {"filename": segmentation.SAMPLE_NAME, "data": data}


def test_put_upload_without_a_sha_hashes_the_bytes(store):
    data = b"InvoiceNo,CustomerID\n1,2\n"
    assert store.put_upload(data, "a.csv") == hashlib.sha256(data).hexdigest()


def test_a_known_sha256_reaches_the_prepared_data_without_hashing_again(
    store, monkeypatch
):
    """The route's sha256 goes through the store and the reader, unchanged."""
    from segmentation.io import _loading

    data = segmentation.load_sample()
    sha = hashlib.sha256(data).hexdigest()

    def no_hashing(*args):
        raise AssertionError("the bytes were hashed again")

    monkeypatch.setattr(storage, "content_id", no_hashing)
    monkeypatch.setattr(_loading.hashlib, "sha256", no_hashing)
    assert store.accept_upload(data, segmentation.SAMPLE_NAME, sha=sha) == sha
    assert store.prepared(sha).sha256 == sha
    # another read setting prepares the stored bytes again, under the same key
    again = store.prepared(sha, drop_duplicates=False)
    assert again.sha256 == sha
    assert again.report.to_dict() != store.prepared(sha).report.to_dict()


def test_the_reader_hashes_when_no_sha256_is_given():
    from segmentation.io import load_transactions

    data = segmentation.load_sample()
    loaded = load_transactions(data, filename=segmentation.SAMPLE_NAME)
    assert loaded.sha256 == hashlib.sha256(data).hexdigest()
