"""Runs in a real database: tables, customer rows, migrations, old folders, Postgres.

Every test taking ``backend`` runs on SQLite (a file in a temporary folder) and,
when ``SEGMENTATION_TEST_POSTGRES_URL`` (or ``DATABASE_URL``) names a PostgreSQL
server, on PostgreSQL too, each test in a schema of its own (dropped after).
``.ci/run`` starts Debian's postgresql on loopback and sets the variable.
"""

from __future__ import annotations

import csv
import io
import json
import math
import multiprocessing
import pickle
import shutil
import sqlite3
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy.exc
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, select, text
from sqlalchemy.orm import Session

import segmentation
from segmentation import reports, schema
from segmentation.__main__ import main
from segmentation.errors import SegmentationError
from segmentation.runs import DamagedRunError, RunStore, _database, _store
from segmentation.runs import _files as folder_files
from segmentation.runs._rows import customer_rows
from segmentation.runs.tables import (
    VERSION_TABLE,
    Base,
    CustomerSegment,
    FolderImport,
    Run,
    RunModel,
)
from tests import run_db
from tests.test_runs import tiny_features, tiny_prepared

#: Each test taking it runs on SQLite, and on PostgreSQL when a server is named.
backend = run_db.backend
OLD = Path(__file__).parent / "data" / "old_layout_run"
OLD_ID = "20261126T135838-6f5d0fac-k3"


@pytest.fixture(scope="module")
def tiny_seg():
    return segmentation.segment(tiny_prepared(), 2, seed=0, anomaly_share=0.1)


def _store_of(tmp_path, url, **kwargs) -> RunStore:
    return RunStore(tmp_path / "data", database_url=url, **kwargs)


def _head() -> str:
    """The newest migration of the run database (its script folder's head)."""
    return ScriptDirectory(str(_database.MIGRATIONS)).get_current_head()


def _declared() -> MetaData:
    """Every table the run database's migrations make: the runs' and the accounts'."""
    from app.accounts import METADATA as ACCOUNTS

    declared = MetaData()
    for table in [*Base.metadata.tables.values(), *ACCOUNTS.tables.values()]:
        table.to_metadata(declared)
    return declared


# The tables -------------------------------------------------------------------------
def test_migrations_make_exactly_the_declared_tables(backend, tmp_path):
    store = _store_of(tmp_path, backend)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE}
        )
        assert context.get_current_revision() == _head() == "0003"
        assert compare_metadata(context, _declared()) == []


def test_save_fills_the_three_tables_and_a_restart_reads_them(
    backend, tmp_path, tiny_seg
):
    store = _store_of(tmp_path, backend)
    run_id = store.save(tiny_prepared(), tiny_seg, source="app", owner="ana")
    again = _store_of(tmp_path, backend)  # another process sees the same rows
    (entry,) = again.list()
    assert (entry["id"], entry["owner"], entry["k"], entry["customers"]) == (
        run_id,
        "ana",
        2,
        12,
    )
    assert again.load(run_id).metadata["owner"] == "ana"
    with Session(again.engine) as session:
        row = session.get(Run, run_id)
        assert (row.status, row.method, row.as_of.isoformat()) == (
            "saved",
            "kmeans",
            "2011-12-10",
        )
        assert row.created_at.replace(tzinfo=UTC) <= datetime.now(UTC)
        parts = session.scalars(select(RunModel.part).order_by(RunModel.part)).all()
        assert parts == ["prepared", "segmentation"]
        high = session.get(CustomerSegment, (run_id, "H1"))
        low = session.get(CustomerSegment, (run_id, "L1"))
    # H1 and L1 by hand (tests/test_runs.py, tiny_features and the persona test):
    # H1 bought 20 times for 5,000, last 2 days ago: High, Active, "Stars";
    # L1 once for 50, 300 days ago: Low, Lapsed, "Gone quiet".
    assert (high.recency_days, high.frequency, high.monetary) == (2, 20, 5000.0)
    assert (high.value_tier, high.status, high.persona) == ("High", "Active", "Stars")
    assert (high.r_score, high.rfm_segment, high.value_cluster) == (5, "Champions", 1)
    assert (low.recency_days, low.frequency, low.monetary) == (300, 1, 50.0)
    assert (low.value_tier, low.status, low.persona) == ("Low", "Lapsed", "Gone quiet")
    assert low.p_alive is None and low.clv_days is None  # no lifetime numbers here
    # a save_once of another account is another run; of the same account, found
    assert store.save_once(tiny_prepared(), tiny_seg, owner="ana") == (run_id, False)
    other, created = store.save_once(tiny_prepared(), tiny_seg, owner="ben")
    assert created and other != run_id


def test_customer_rows_of_lifetime_and_migration_columns():
    customers = pd.DataFrame(
        {
            **{c: [1, 2] for c in schema.OUTPUT_COLUMNS},
            schema.CUSTOMER_ID: [17850, "A-2"],
            schema.VALUE_TIER: ["High", None],
            schema.MONETARY: [12.5, float("nan")],
            schema.P_ALIVE: [0.25, float("nan")],
            "expected_orders_30d": [1.5, 0.0],
            schema.EXPECTED_SPEND_PER_ORDER: [40.0, float("nan")],
            "clv_180d": [55.55, float("nan")],
            schema.VALUE_TIER_BEFORE: ["Low", schema.NOT_YET_A_CUSTOMER],
            schema.STATUS_BEFORE: ["Active", schema.NOT_YET_A_CUSTOMER],
        }
    )
    first, second = customer_rows("r1", customers)
    assert first["run_id"] == "r1" and first["customer_id"] == "17850"  # as text
    assert (first["monetary"], second["monetary"]) == (12.5, None)  # NaN is NULL
    assert (first["value_tier"], second["value_tier"]) == ("High", None)
    assert (first["expected_orders"], first["expected_orders_days"]) == (1.5, 30)
    assert (first["clv"], first["clv_days"], second["clv"]) == (55.55, 180, None)
    assert (first["p_alive"], second["expected_spend_per_order"]) == (0.25, None)
    assert second["value_tier_before"] == "Not yet a customer"
    assert set(first) == {c.name for c in CustomerSegment.__table__.columns}


def _written(value, column: str) -> str:
    """Write a database value as the labelled customer CSV writes it."""
    if value is None:
        return ""
    if isinstance(value, float):
        if schema.is_money_column(column):
            return f"{value:.2f}"
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def test_customer_segments_equal_the_csv_the_cli_writes(backend, tmp_path, capsys):
    out = tmp_path / "customers.csv"
    args = ["--sample", "-k", "3", "--compare-days", "90", "--save", "-o", str(out)]
    assert main([*args, "-q"]) == 0
    run_id = capsys.readouterr().out.splitlines()[-1]
    written = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    store = RunStore(tmp_path, database_url=backend)
    assert store.entry(run_id)["customers"] == len(written) == 398
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(CustomerSegment).where(CustomerSegment.run_id == run_id)
        ).mappings()
        stored = {row["customer_id"]: dict(row) for row in rows}
    assert len(stored) == len(written)
    assert {"p_alive", "expected_orders_90d", "clv_365d"} <= set(written[0])
    assert {"value_tier_before", "status_before"} <= set(written[0])
    for line in written:
        row = stored[line[schema.CUSTOMER_ID]]
        for column, value in line.items():
            name = {"expected_orders_90d": "expected_orders", "clv_365d": "clv"}.get(
                column, column
            )
            assert _written(row[name], column) == value, (line["customer_id"], column)
        assert (row["expected_orders_days"], row["clv_days"]) == (90, 365)


# Transactions and concurrency --------------------------------------------------------
def test_a_failed_save_leaves_nothing(backend, tmp_path, tiny_seg, monkeypatch):
    store = _store_of(tmp_path, backend)
    kept = store.save(tiny_prepared(), tiny_seg)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("segmentation.runs._store.customer_rows", broken)
    with pytest.raises(OSError, match="disk full"):
        store.save(tiny_prepared(), tiny_seg)
    for table in (Run, RunModel, CustomerSegment):
        assert run_db.run_ids(store, table) == [kept], table


def _open_fresh(root, url, barrier, results) -> None:
    barrier.wait()  # both open the empty database together: both migrate it
    store = RunStore(root, database_url=url)
    results.put((store.list(), store.latest_id()))


def test_two_processes_opening_a_new_database_at_once_migrate_it_once(
    backend, tmp_path
):
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    root = str(tmp_path / "data")
    workers = [
        context.Process(target=_open_fresh, args=(root, backend, barrier, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    answers = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert answers == [([], None), ([], None)]
    assert [w.exitcode for w in workers] == [0, 0]
    with _store_of(tmp_path, backend).engine.connect() as connection:
        versions = connection.execute(text(f"SELECT * FROM {VERSION_TABLE}")).all()
    assert versions == [(_head(),)]


def test_a_new_sqlite_file_another_process_is_writing_opens_once_it_is_free(
    tmp_path,
):
    # SQLite refuses the switch to write-ahead logging at once, without its busy
    # timeout, while another connection holds the file: two processes opening a
    # new database together failed with "database is locked".
    path = tmp_path / "data" / _database.SQLITE_FILE
    path.parent.mkdir()
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE elsewhere (i INTEGER)")
    freed = threading.Timer(0.5, other.execute, args=("COMMIT",))
    freed.start()
    try:
        store = RunStore(tmp_path / "data", database_url=f"sqlite:///{path}")
        assert store.list() == []
    finally:
        freed.join()
        other.close()
    with store.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"


def _save_runs(root, url, barrier, results, once, count) -> None:
    prepared = tiny_prepared()
    seg = segmentation.segment(prepared, 2, seed=0, anomaly_share=0.1)
    store = RunStore(root, max_runs=4, database_url=url)
    store.list()  # open (migrate) before the race, as a running app has
    barrier.wait()
    if once:
        results.put([store.save_once(prepared, seg, source="app")])
    else:
        results.put([store.save(prepared, seg) for _ in range(count)])


def _race(tmp_path, url, once, count=1):
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(
            target=_save_runs,
            args=(str(tmp_path / "data"), url, barrier, results, once, count),
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    answers = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return answers


def test_two_processes_saving_the_same_run_at_once_get_one(backend, tmp_path):
    [(first, made_first)], [(second, made_second)] = _race(tmp_path, backend, True)
    assert first == second
    assert sorted([made_first, made_second]) == [False, True]
    assert run_db.run_ids(_store_of(tmp_path, backend)) == [first]


def test_two_processes_saving_many_runs_keep_the_newest_four(backend, tmp_path):
    one, two = _race(tmp_path, backend, False, count=3)
    assert len(set(one + two)) == 6  # six distinct ids
    store = _store_of(tmp_path, backend, max_runs=4)
    kept = [entry["id"] for entry in store.list()]
    assert len(kept) == 4 and set(kept) <= set(one + two)
    for table in (RunModel, CustomerSegment):
        assert run_db.run_ids(store, table) == sorted(kept), table
    assert run_db.count(store, CustomerSegment) == 4 * 12


# Damage ---------------------------------------------------------------------------
def test_damaged_rows_are_listed_and_refused(backend, tmp_path, tiny_seg):
    store = _store_of(tmp_path, backend)
    good = store.save(tiny_prepared(), tiny_seg)
    empty = store.save(tiny_prepared(), tiny_seg)
    broken = store.save(tiny_prepared(), tiny_seg)
    run_db.set_report(store, empty, {})
    run_db.set_model(store, broken, "segmentation", b"\x80\x05junk")
    listed = {entry["id"]: entry for entry in _store_of(tmp_path, backend).list()}
    assert listed[empty]["damaged"] == (
        "the stored report is not a run report (no 'input')"
    )
    assert "damaged" not in listed[broken]  # unreadable bytes show when loaded
    with pytest.raises(DamagedRunError, match=f"saved run {empty} is damaged"):
        store.load(empty)
    with pytest.raises(DamagedRunError, match="the stored model cannot be read"):
        store.load(broken)
    # then it is damaged for every process: listed so, passed by, refused
    again = _store_of(tmp_path, backend)
    (row,) = [e for e in again.list() if e["id"] == broken]
    assert row["damaged"].startswith("the stored model cannot be read (Unpickling")
    assert row["k"] is None
    with pytest.raises(DamagedRunError, match="the stored model cannot be read"):
        again.load(broken)
    assert again.latest_id() == good and again.load(good).segmentation.k == 2


def test_a_model_naming_a_missing_class_is_damaged_in_that_process_only(
    backend, tmp_path, tiny_seg
):
    store = _store_of(tmp_path, backend)
    run_id = store.save(tiny_prepared(), tiny_seg)
    # a pickle of a class this engine does not have (e.g. saved by a newer one)
    future = pickle.dumps(tiny_seg).replace(
        b"segmentation.results", b"segmentation.futures"
    )
    run_db.set_model(store, run_id, "segmentation", future)
    with pytest.raises(DamagedRunError, match="ModuleNotFoundError"):
        store.load(run_id)
    (row,) = store.list()
    assert row["damaged"].startswith("the stored model cannot be read (ModuleNot")
    assert store.latest_id() is None
    (elsewhere,) = _store_of(tmp_path, backend).list()  # the row is unchanged
    assert "damaged" not in elsewhere and elsewhere["k"] == 2


# Runs saved as folders by earlier versions -----------------------------------------
def _save_as_folder(runs_dir: Path, prepared, seg, source="cli") -> str:
    """Save a run exactly as the folder store of earlier versions did."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    base = f"{created:%Y%m%dT%H%M%S}-{prepared.sha256[:8]}-k{seg.k}"
    temp = folder_files.new_temp_folder(runs_dir)
    metadata = {
        "created": created.isoformat(timespec="microseconds"),
        "source": source,
        **reports.run_report(prepared, seg),
    }
    try:
        folder_files.write_run_files(temp, prepared, seg)
        return folder_files.move_into_place(runs_dir, temp, base, metadata)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _forget_imports() -> None:
    """Make the next RunStore look at the folders again, as a new process would."""
    _store._IMPORTED.clear()


def test_a_folder_saved_by_the_previous_store_opens_after_the_upgrade(
    backend, tmp_path
):
    prepared = tiny_prepared()
    seg = segmentation.segment(prepared, 3, seed=0, anomaly_share=0.1)
    run_id = _save_as_folder(tmp_path / "data" / "runs", prepared, seg)
    folder_csv = (tmp_path / "data" / "runs" / run_id / "customers.csv").read_text()
    store = _store_of(tmp_path, backend)
    (entry,) = store.list()
    assert (entry["id"], entry["k"], entry["customers"]) == (run_id, 3, 12)
    assert entry["reopenable"] is True and entry["owner"] is None
    saved = store.load(run_id)
    pd.testing.assert_frame_equal(saved.segmentation.customers, seg.customers)
    records = tiny_features().reset_index(drop=True)
    pd.testing.assert_frame_equal(
        segmentation.score(saved.segmentation, records),
        segmentation.score(seg, records),
    )
    pd.testing.assert_frame_equal(
        store.load_prepared(run_id).features, prepared.features
    )
    assert run_db.count(store, CustomerSegment, run_id) == 12
    with store.engine.connect() as connection:
        stored = connection.execute(
            select(CustomerSegment).where(CustomerSegment.run_id == run_id)
        ).mappings()
        by_id = {row["customer_id"]: row for row in stored}
    for line in csv.DictReader(io.StringIO(folder_csv)):
        row = by_id[line["customer_id"]]
        assert all(_written(row[c], c) == v for c, v in line.items()), line
    # once: a second start imports nothing, even after the run is deleted
    _forget_imports()
    assert [e["id"] for e in _store_of(tmp_path, backend).list()] == [run_id]
    run_db.drop_run(store, run_id)
    _forget_imports()
    assert _store_of(tmp_path, backend).list() == []
    assert (tmp_path / "data" / "runs" / run_id).is_dir()  # the folder is left


def test_the_old_layout_fixture_is_imported_with_its_customers(backend, tmp_path):
    shutil.copytree(OLD / "runs", tmp_path / "data" / "runs")
    store = _store_of(tmp_path, backend)
    (entry,) = store.list()
    assert (entry["id"], entry["k"], entry["customers"]) == (OLD_ID, 3, 398)
    assert run_db.count(store, CustomerSegment, OLD_ID) == 398
    with store.engine.connect() as connection:
        result = connection.execute(select(FolderImport.result)).scalar_one()
        # the old layout had no gross_monetary, status...: NULL, not guessed
        nulls = connection.execute(
            select(CustomerSegment.status, CustomerSegment.gross_monetary).distinct()
        ).all()
    assert result == "imported" and nulls == [(None, None)]
    assert store.load(OLD_ID).segmentation.k == 3


def _truncate(folder):
    report = folder / "report.json"
    report.write_text(report.read_text()[:100])


#: Damage done to a folder before the upgrade -> the reason it is imported with.
FOLDER_DAMAGES = {
    "empty report": (
        lambda f: (f / "report.json").write_text("{}"),
        "report.json is not a run report (no 'input')",
    ),
    "truncated report": (_truncate, "report.json is not valid JSON"),
    "no report": (lambda f: (f / "report.json").unlink(), "report.json is missing"),
    "no model": (lambda f: (f / "model.pkl").unlink(), "model.pkl is missing"),
    "model not a pickle": (
        lambda f: (f / "model.pkl").write_bytes(b"not a pickle"),
        "model.pkl cannot be read (UnpicklingError",
    ),
}


@pytest.mark.parametrize("damage", FOLDER_DAMAGES)
def test_a_damaged_folder_is_imported_as_damaged(backend, tmp_path, tiny_seg, damage):
    runs_dir = tmp_path / "data" / "runs"
    good = _save_as_folder(runs_dir, tiny_prepared(), tiny_seg)
    other = segmentation.segment(tiny_prepared(), 3, seed=0, anomaly_share=0.1)
    bad = _save_as_folder(runs_dir, tiny_prepared(), other)
    harm, reason = FOLDER_DAMAGES[damage]
    harm(runs_dir / bad)
    store = _store_of(tmp_path, backend)
    listed = {entry["id"]: entry for entry in store.list()}
    assert set(listed) == {good, bad}
    assert listed[bad]["damaged"].startswith(reason)
    assert listed[bad]["created"][:19] == (
        f"{bad[0:4]}-{bad[4:6]}-{bad[6:8]}T{bad[9:11]}:{bad[11:13]}:{bad[13:15]}"
    )
    assert "damaged" not in listed[good]
    with pytest.raises(DamagedRunError, match=f"saved run {bad} is damaged"):
        store.load(bad)
    assert store.latest_id() == good
    assert run_db.count(store, CustomerSegment, bad) == 0
    assert run_db.count(store, CustomerSegment, good) == 12
    with store.engine.connect() as connection:
        results = dict(
            connection.execute(select(FolderImport.run_id, FolderImport.result)).all()
        )
    assert results == {
        good: "imported",
        bad: f"imported as damaged: {listed[bad]['damaged']}",
    }


# Which database --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example/runs", "postgresql+psycopg://u:p@db.example/runs"),
        ("postgresql://u@127.0.0.1:5433/x", "postgresql+psycopg://u@127.0.0.1:5433/x"),
        ("postgresql+psycopg://u@h/x", "postgresql+psycopg://u@h/x"),
        ("sqlite:////srv/runs.db", "sqlite:////srv/runs.db"),
    ],
)
def test_database_urls(given, expected):
    assert _database.database_url(Path("/data"), given) == expected


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("mysql://u@h/x", "must name SQLite or PostgreSQL, got 'mysql'"),
        ("not a url", "DATABASE_URL is not a database URL"),
    ],
)
def test_bad_database_urls(given, fragment):
    with pytest.raises(SegmentationError, match=fragment):
        RunStore(Path("/data"), database_url=given)


def test_default_is_a_private_sqlite_file_in_the_data_folder(
    tmp_path, monkeypatch, tiny_seg
):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    store = RunStore(tmp_path / "data")
    assert store.url == f"sqlite:///{tmp_path / 'data' / 'segmentation.db'}"
    assert store.location == str(tmp_path / "data" / "segmentation.db")
    store.save(tiny_prepared(), tiny_seg)
    files = list((tmp_path / "data").iterdir())
    assert {p.name for p in files} >= {"segmentation.db"}
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {"0o600"}


def test_a_report_nan_is_stored_as_null(backend, tmp_path, tiny_seg):
    assert _store.json_ready({"a": [1.5, float("nan")], "b": math.inf}) == {
        "a": [1.5, None],
        "b": None,
    }
    store = _store_of(tmp_path, backend)
    run_id = store.save(tiny_prepared(), tiny_seg)
    report = store.load(run_id).metadata
    json.dumps(report, allow_nan=False)  # plain JSON on both databases


def test_a_data_file_that_is_not_a_database_is_named_by_sqlalchemy(tmp_path):
    path = tmp_path / "data" / _database.SQLITE_FILE
    path.parent.mkdir()
    path.write_bytes(b"not a database, but a file of its own " * 200)
    store = RunStore(tmp_path / "data", database_url=f"sqlite:///{path}")
    with pytest.raises(sqlalchemy.exc.DatabaseError, match="file is not a database"):
        store.list()
