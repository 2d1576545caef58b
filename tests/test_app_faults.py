"""Faults named with their path; refused uploads not stored; jobs' answers agree.

Disk full and read-only folders are simulated (the tests run as root, for whom
``chmod`` does not stop a write): the write raises the ``OSError`` or the
SQLite error the system would raise.
"""

from __future__ import annotations

import errno
import sqlite3
import stat
import subprocess
import tempfile
from contextvars import copy_context

import diskcache
import pandas as pd
import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import BackgroundCallbackError

import segmentation
from app import create_app, ids, storage
from app.callbacks import errors, upload
from app.jobs import JobManager
from segmentation.errors import InputFileError
from segmentation.reports import customers_csv, escape_formulas

BACKGROUND = "An error occurred inside a background callback: {msg}\n{tb}"


@pytest.fixture
def store(tmp_path):
    configured = storage.configure(tmp_path)
    yield configured
    storage.configure(tmp_path)


# Disk full ----------------------------------------------------------------------------
def test_disk_full_in_the_store_names_the_folder(store, monkeypatch):
    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store.cache, "set", full)
    with pytest.raises(storage.DataFolderError) as caught:
        upload.ingest(segmentation.load_sample(), "sample.csv")
    assert str(caught.value) == f"Cannot write to {store.directory}: the disk is full"


def test_disk_full_writing_a_value_file_names_the_file(store, monkeypatch):
    path = store.directory / "ab" / "cd" / "0123.val"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(store.cache, "set", full)
    with pytest.raises(storage.DataFolderError, match="the disk is full") as caught:
        store.remember_mapping("f" * 64, {"customer_id": "Customer"})
    assert str(caught.value) == f"Cannot write to {path}: the disk is full"


def test_the_upload_job_says_the_disk_is_full(store, monkeypatch):
    """The job's own answer: "Failed: ..." in the status and the error alert."""

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.cache, "set", full)

    def call():
        trigger = {"prop_id": f"{ids.SAMPLE_BUTTON}.n_clicks", "value": 1}
        context_value.set(AttributeDict(triggered_inputs=[trigger]))
        return upload.load_dataset(
            lambda value: None, None, 1, None, None, [], [], None
        )

    dataset, message, is_open, status, *_ = copy_context().run(call)
    expected = f"Cannot write to {store.directory}: the disk is full"
    assert (message, is_open, status) == (expected, True, f"Failed: {expected}")
    assert dataset is no_update


@pytest.mark.parametrize(
    ("err", "said"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/srv/d/x"),
            "the disk is full",
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/srv/d/x"),
            "the folder is read-only",
        ),
        (OSError(errno.EACCES, "Permission denied", "/srv/d/x"), "permission denied"),
        (
            OSError(errno.EDQUOT, "Disk quota exceeded", "/srv/d/x"),
            "the disk quota is used up",
        ),
    ],
)
def test_callback_errors_name_the_path_and_cause(store, err, said):
    assert errors.error_message(err) == f"Cannot write to /srv/d/x: {said}"


def test_sqlite_errors_name_the_data_folder(store):
    err = sqlite3.OperationalError("attempt to write a readonly database")
    folder = store.directory.parent
    assert (
        errors.error_message(err)
        == f"Cannot write to {folder}: the folder is read-only"
    )


def test_a_job_s_data_folder_error_is_shown_not_a_generic_message(store):
    msg = "Cannot write to /srv/d/store: the disk is full"
    tb = (
        'Traceback (most recent call last):\n  File "x"\n'
        f"app.storage.DataFolderError: {msg}\n"
    )
    shown = errors.error_message(
        BackgroundCallbackError(BACKGROUND.format(msg=msg, tb=tb))
    )
    assert shown == msg


def test_a_job_s_bug_stays_generic(store):
    tb = "Traceback (most recent call last):\nKeyError: 'x'\n"
    err = BackgroundCallbackError(BACKGROUND.format(msg="'x'", tb=tb))
    assert errors.error_message(err) == errors.GENERIC_MESSAGE


# The job manager ----------------------------------------------------------------------
@pytest.fixture
def manager(tmp_path):
    cache = diskcache.Cache(str(tmp_path / "jobs"))
    yield JobManager(cache, tmp_path)
    cache.close()


def _job(manager, command=("sleep", "30")):
    """A real process recorded as a job, as ``call_job_fn`` records one."""
    process = subprocess.Popen(list(command))
    manager.call_job_fn = None  # not used: record by hand below
    import psutil

    started = psutil.Process(process.pid).create_time()
    manager.handle.set(("segmentation-job", process.pid), started)
    return process


def test_a_job_that_finishes_between_the_two_questions_is_polled_again(manager):
    """Result read, then the job writes it and exits, then "running?" is asked."""
    process = _job(manager)
    key = "k" * 64
    try:
        assert manager.get_result(key, str(process.pid)) is manager.UNDEFINED
        process.kill()  # the job wrote its result and exited meanwhile
        process.wait()
        manager.handle.set(key, ["the result"])
        # Dash's DiskcacheManager answered False here: the page gave up.
        assert manager.job_running(str(process.pid)) is True
        assert manager.get_result(key, str(process.pid)) == ["the result"]
        assert manager.job_running(str(process.pid)) is False
    finally:
        process.kill()
        process.wait()


def test_a_finished_job_s_result_wins_over_its_end(manager):
    process = _job(manager, ("true",))
    process.wait()
    key = "r" * 64
    manager.handle.set(key, ["done"])
    assert manager.get_result(key, str(process.pid)) == ["done"]
    assert manager.job_running(str(process.pid)) is False


def test_a_reused_pid_is_not_a_job_and_is_not_killed(manager):
    process = subprocess.Popen(["sleep", "30"])
    try:
        manager.handle.set(("segmentation-job", process.pid), 12345.0)  # other start
        assert manager.job_running(str(process.pid)) is False
        manager.terminate_job(str(process.pid))
        assert process.poll() is None  # still running
    finally:
        process.kill()
        process.wait()


def test_cancel_kills_a_running_job(manager):
    process = _job(manager)
    manager.terminate_job(str(process.pid))
    process.wait(timeout=10)  # "sleep 30" ended: killed (and reaped by psutil)


def test_a_job_gone_without_result_on_a_full_disk_names_the_folder(
    manager, monkeypatch
):
    process = _job(manager, ("true",))
    process.wait()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    result = manager.get_result("g" * 64, str(process.pid))
    error = result["background_callback_error"]
    expected = f"Cannot write to {manager.data_dir}: the disk is full"
    assert error["msg"] == expected
    shown = errors.error_message(BackgroundCallbackError(BACKGROUND.format(**error)))
    assert shown == expected


def test_a_job_gone_without_result_otherwise_is_no_result(manager):
    process = _job(manager, ("true",))
    process.wait()
    assert manager.get_result("h" * 64, str(process.pid)) is manager.UNDEFINED
    assert manager.job_running(str(process.pid)) is False


# Read-only data folder ----------------------------------------------------------------
def test_read_only_folder_fails_the_start_naming_it(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()

    def read_only(*args, dir=None, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(dir))

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(storage.DataFolderError) as caught:
        create_app(folder)
    assert str(caught.value).startswith(
        f"Cannot write to {folder}: the folder is read-only (the data folder; set "
        "SEGMENTATION_DATA_DIR to a writable folder)"
    )


def test_a_missing_folder_that_cannot_be_made_is_named(tmp_path, monkeypatch):
    folder = tmp_path / "ro" / "data"

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(type(folder), "mkdir", read_only)
    with pytest.raises(storage.DataFolderError) as caught:
        storage.configure(folder)
    assert str(caught.value) == f"Cannot write to {folder}: the folder is read-only"


# Private files ------------------------------------------------------------------------
def test_data_folder_is_made_0700_and_tightened(tmp_path):
    fresh = tmp_path / "fresh"
    storage.make_private(fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    storage.make_private(loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700


def test_store_and_run_files_are_0600(tmp_path):
    storage.configure(tmp_path)
    try:
        dataset, _ = upload.ingest(segmentation.load_sample(), "sample.csv")
        from app.callbacks import runs

        runs.save_current(dataset, 3, 2)
        files = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert any(p.suffix == ".val" for p in files)  # large values: own files
        assert any(p.name == "segmentation.db" for p in files)  # the saved run
        loose = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
        loose = {p: m for p, m in loose.items() if int(m, 8) & 0o077}
        assert loose == {}
        assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    finally:
        storage.configure(tmp_path)


# Refused uploads are not stored -------------------------------------------------------
def test_a_refused_upload_is_not_stored_and_evicts_nothing(store):
    kept = upload.ingest(segmentation.load_sample(), "sample.csv")[0]["id"]
    before = sorted(map(str, store.cache.iterkeys()))
    junk = bytes(range(256)) * 400  # binary, named .csv
    with pytest.raises(InputFileError):
        upload.ingest(junk, "junk.csv")
    assert ("upload", storage.content_id(junk)) not in store.cache
    assert sorted(map(str, store.cache.iterkeys())) == before
    assert ("upload", kept) in store.cache


def test_an_upload_waiting_for_its_columns_is_stored(store):
    data = b"a,b,c\n1,2,3\n4,5,6\n"
    with pytest.raises(segmentation.ColumnMappingError):
        upload.ingest(data, "odd.csv")
    assert store.get_upload(storage.content_id(data))["data"] == data


# Full-width formula characters --------------------------------------------------------
@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('\uff1dHYPERLINK("x")', '\'\uff1dHYPERLINK("x")'),
        ("\uff0b1", "'\uff0b1"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
        ("=1+1", "'=1+1"),
        ("A\uff1d1", "A\uff1d1"),
        ("12345", "12345"),
    ],
)
def test_full_width_formula_characters_are_escaped(cell, written):
    frame = pd.DataFrame({"customer_id": [cell], "n": [1]})
    assert escape_formulas(frame)["customer_id"].tolist() == [written]


def test_customers_csv_escapes_a_full_width_equals_id():
    from tests.test_runs import tiny_prepared

    seg = segmentation.segment(tiny_prepared(), 2, seed=0, anomaly_share=0.1)
    customers = seg.customers.copy()
    customers["customer_id"] = customers["customer_id"].astype(str)
    customers.loc[0, "customer_id"] = "\uff1dcmd|' /C calc'!A0"
    lines = customers_csv(customers).splitlines()
    assert lines[1].startswith("\"'\uff1dcmd|' /C calc'!A0\",") or lines[1].startswith(
        "'\uff1dcmd|' /C calc'!A0,"
    )
