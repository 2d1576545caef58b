"""Saved runs: ids, tables, listing, loading after a restart, retention, safety."""

from __future__ import annotations

import json
import pickle
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import segmentation
from segmentation import runs, schema, settings
from segmentation.__main__ import main
from segmentation.cleaning import CleaningReport, LineReason
from segmentation.errors import SegmentationError
from segmentation.runs import RunNotFoundError, RunStore, SavedRun
from segmentation.runs.tables import CustomerSegment, Run, RunModel
from tests import run_db

SHA = "ab12cd34" + "0" * 56


def tiny_features() -> pd.DataFrame:
    """Twelve customers in two obvious groups (index customer_id).

    High H1..H6: recency 2..7 days, 20..30 orders, 5,000..10,000 spent.
    Low  L1..L6: recency 300..350 days, 1-2 orders, 50..100 spent.
    """
    recency = [2, 3, 4, 5, 6, 7, 300, 310, 320, 330, 340, 350]
    frequency = [20, 22, 24, 26, 28, 30, 1, 1, 1, 2, 2, 2]
    monetary = [5000, 6000, 7000, 8000, 9000, 10000, 50, 60, 70, 80, 90, 100]
    high = [True] * 6 + [False] * 6
    ids = [f"H{i}" for i in range(1, 7)] + [f"L{i}" for i in range(1, 7)]
    table = pd.DataFrame(
        {
            schema.RECENCY_DAYS: recency,
            schema.FREQUENCY: frequency,
            schema.MONETARY: [float(m) for m in monetary],
            schema.GROSS_MONETARY: [float(m) for m in monetary],
            schema.RETURNED_VALUE: [0.0] * 12,
            schema.TENURE_DAYS: [r + 100 for r in recency],
            schema.AVG_ORDER_VALUE: [m / f for m, f in zip(monetary, frequency)],
            schema.AVG_ITEMS_PER_ORDER: [10.0 + i for i in range(12)],
            schema.AVG_LINE_QUANTITY: [2.0 + (i % 3) for i in range(12)],
            schema.MAX_LINE_QUANTITY: [5 + i for i in range(12)],
            schema.DISTINCT_PRODUCTS: [3 + i for i in range(12)],
            schema.RETURN_RATE: [0.0] * 12,
            schema.LARGEST_ORDER_RATIO: [1.0 + 0.1 * (i % 4) for i in range(12)],
            schema.ORDER_VALUE_CV: [0.1 * (i % 5) for i in range(12)],
            schema.R_SCORE: [5 if h else 1 for h in high],
            schema.F_SCORE: [5 if h else 1 for h in high],
            schema.M_SCORE: [5 if h else 1 for h in high],
            schema.RFM_SEGMENT: ["Champions" if h else "Hibernating" for h in high],
        },
        index=pd.Index(ids, name=schema.CUSTOMER_ID),
    )
    return table.loc[:, list(schema.FEATURE_COLUMNS)]


def tiny_prepared(sha256: str = SHA) -> segmentation.PreparedData:
    n = 12
    counts = {str(r): 0 for r in LineReason} | {str(LineReason.KEPT): n}
    return segmentation.PreparedData(
        source_name="tiny.csv",
        sha256=sha256,
        file_format="csv",
        mapping={schema.CUSTOMER_ID: "Customer"},
        report=CleaningReport(rows_in=n, counts=counts),
        as_of=pd.Timestamp("2011-12-10"),
        features=tiny_features(),
    )


@pytest.fixture(scope="module")
def tiny_run():
    prepared = tiny_prepared()
    return prepared, segmentation.segment(prepared, 2, seed=0, anomaly_share=0.1)


#: Tests taking ``store`` run on SQLite, and on PostgreSQL when a server is named
#: (tests/run_db.py); ``RunStore(tmp_path)`` in them opens the same database.
backend = run_db.backend


@pytest.fixture
def store(tmp_path, backend):
    return RunStore(tmp_path, max_runs=5)


class _Frozen(datetime):
    """``datetime.now`` fixed to one second."""

    @classmethod
    def now(cls, tz=None):
        return cls(2026, 11, 21, 9, 30, 12, tzinfo=UTC)


# Location ---------------------------------------------------------------------------
def test_data_dir_env_then_project_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(runs.ENV_DATA_DIR, str(tmp_path / "elsewhere"))
    assert runs.data_dir() == tmp_path / "elsewhere"
    assert RunStore().runs_dir == tmp_path / "elsewhere" / "runs"
    monkeypatch.delenv(runs.ENV_DATA_DIR)
    monkeypatch.chdir(tmp_path)  # the working directory does not matter
    project = Path(__file__).resolve().parents[1]  # the checkout: tests/..
    assert runs.data_dir() == project / "data"


# Saving -----------------------------------------------------------------------------
def test_save_writes_the_run_its_models_and_customers(store, tiny_run):
    prepared, seg = tiny_run
    run_id = store.save(prepared, seg, source="app")
    assert re.fullmatch(r"\d{8}T\d{6}-ab12cd34-k2", run_id)
    assert run_db.run_ids(store) == [run_id]
    with Session(store.engine) as session:
        row = session.get(Run, run_id)
        parts = session.scalars(select(RunModel.part)).all()
    assert (row.source, row.k, row.source_file) == ("app", 2, "tiny.csv")
    assert row.customers == 12
    assert (row.content_sha256, row.seed, row.anomaly_share) == (SHA, 0, 0.1)
    assert row.status == "saved" and row.owner is None
    report = row.report
    assert report["id"] == run_id
    assert report["source"] == "app"
    assert report["settings"]["k"] == 2
    assert report["input"]["file"] == "tiny.csv"
    assert report["customers"] == 12
    assert sorted(parts) == ["prepared", "segmentation"]
    assert run_db.count(store, CustomerSegment, run_id) == 12
    assert not store.runs_dir.exists()  # no folder any more


def test_same_second_gives_distinct_sortable_ids(store, tiny_run, monkeypatch):
    monkeypatch.setattr("segmentation.runs._store.datetime", _Frozen)
    prepared, seg = tiny_run
    first = store.save(prepared, seg)
    second = store.save(prepared, seg)
    third = store.save(prepared, seg)
    assert first == "20261121T093012-ab12cd34-k2"
    assert (second, third) == (f"{first}-2", f"{first}-3")
    assert store.load(second).metadata["id"] == second
    assert [r["id"] for r in store.list()] == [third, second, first]


def test_unknown_source_is_refused(store, tiny_run):
    with pytest.raises(SegmentationError, match="source must be one of"):
        store.save(*tiny_run, source="web")


def test_a_crash_while_saving_leaves_no_half_run(store, tiny_run, monkeypatch):
    def broken_rows(*args, **kwargs):
        raise OSError("disk full")

    # the run's row and models are inserted, then its customers fail
    monkeypatch.setattr("segmentation.runs._store.customer_rows", broken_rows)
    with pytest.raises(OSError, match="disk full"):
        store.save(*tiny_run)
    for table in (Run, RunModel, CustomerSegment):
        assert run_db.count(store, table) == 0, table
    assert store.list() == []
    assert store.latest_id() is None


# Listing and loading ----------------------------------------------------------------
def test_list_newest_first_with_limit(store, tiny_run):
    prepared, seg = tiny_run
    other = tiny_prepared(sha256="ff" * 32)
    ids = [store.save(prepared, seg), store.save(other, seg), store.save(prepared, seg)]
    listed = store.list()
    assert [r["id"] for r in listed] == ids[::-1]
    assert store.latest_id() == ids[-1]
    assert listed[1] == {
        "id": ids[1],
        "file": "tiny.csv",
        "created": listed[1]["created"],
        "k": 2,
        "customers": 12,
        "sha256": "ff" * 32,
        "source": "cli",
        "anomaly_share": 0.1,
        "seed": 0,
        "mapping": {schema.CUSTOMER_ID: "Customer"},
        "reopenable": True,
        "owner": None,
    }
    created = datetime.fromisoformat(listed[1]["created"])
    assert created.tzinfo is not None
    assert [r["id"] for r in store.list(limit=2)] == ids[:0:-1]


def test_empty_store(store):
    assert store.list() == []
    assert store.latest_id() is None


def test_load_gives_the_models_and_caches(store, tiny_run):
    prepared, seg = tiny_run
    run_id = store.save(prepared, seg)
    saved = store.load(run_id)
    assert isinstance(saved, SavedRun)
    assert saved.run_id == run_id
    assert saved.metadata["created"] and saved.metadata["as_of"] == "2011-12-10"
    pd.testing.assert_frame_equal(saved.segmentation.customers, seg.customers)
    assert store.load(run_id) is saved  # served from memory


def test_restart_loads_and_scores_identically(tmp_path, tiny_run):
    prepared, seg = tiny_run
    run_id = RunStore(tmp_path).save(prepared, seg)
    reopened = RunStore(tmp_path)  # a new process would see only the folder
    assert reopened.latest_id() == run_id
    records = tiny_features().reset_index(drop=True)
    again = segmentation.score(reopened.load(run_id).segmentation, records)
    pd.testing.assert_frame_equal(again, segmentation.score(seg, records))
    # H* (rows 0-5) are the high tier, L* the low one
    assert again[schema.VALUE_CLUSTER].tolist() == [1] * 6 + [0] * 6


@pytest.mark.parametrize(
    "bad_id",
    ["../etc", "..", "a/b", "/etc/passwd", "", "a b", "run.json", "x\x00", 5, None],
)
def test_crafted_ids_never_leave_the_folder(store, tiny_run, bad_id):
    store.save(*tiny_run)
    with pytest.raises(RunNotFoundError, match="not a valid run id"):
        store.load(bad_id)
    with pytest.raises(RunNotFoundError):
        store.summary(bad_id)


def test_unknown_id(store):
    with pytest.raises(RunNotFoundError, match="no saved run '20200101T000000-x-k3'"):
        store.load("20200101T000000-x-k3")


def test_run_not_found_is_a_key_error_and_pickles():
    error = RunNotFoundError("no saved run 'x'", run_id="x")
    assert isinstance(error, KeyError) and isinstance(error, SegmentationError)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is RunNotFoundError
    assert str(again) == "no saved run 'x'" and again.run_id == "x"


def test_unreadable_model_is_explained(store, tiny_run):
    run_id = store.save(*tiny_run)
    run_db.set_model(store, run_id, "segmentation", b"not a pickle")
    with pytest.raises(SegmentationError, match=r"stored model cannot be read"):
        RunStore(store.root).load(run_id)


def test_deleted_run_is_not_served_from_memory(store, tiny_run):
    run_id = store.save(*tiny_run)
    store.load(run_id)
    run_db.drop_run(store, run_id)  # e.g. by another process's retention
    with pytest.raises(RunNotFoundError):
        store.load(run_id)


# Retention --------------------------------------------------------------------------
def test_retention_keeps_the_newest(tmp_path, tiny_run):
    store = RunStore(tmp_path, max_runs=2)
    ids = [store.save(*tiny_run) for _ in range(4)]
    assert len(set(ids)) == 4  # no id is reused after a deletion
    assert [r["id"] for r in store.list()] == [ids[3], ids[2]]
    for table in (Run, RunModel, CustomerSegment):
        assert run_db.run_ids(store, table) == sorted(ids[2:]), table
    with pytest.raises(RunNotFoundError):
        store.load(ids[0])


def test_retention_from_the_environment(tmp_path, tiny_run, monkeypatch):
    monkeypatch.setenv(runs.ENV_MAX_RUNS, "1")
    store = RunStore(tmp_path)
    assert store.max_runs == 1
    store.save(*tiny_run)
    last = store.save(*tiny_run)
    assert [r["id"] for r in store.list()] == [last]
    monkeypatch.delenv(runs.ENV_MAX_RUNS)
    assert RunStore(tmp_path).max_runs == settings.DEFAULT_MAX_RUNS == 50


@pytest.mark.parametrize(
    ("env", "arg", "fragment"),
    [
        ("ten", None, "SEGMENTATION_MAX_RUNS must be a whole number, got 'ten'"),
        ("0", None, "max_runs must be a whole number >= 1, got 0"),
        (None, -3, "got -3"),
        (None, True, "got True"),
    ],
)
def test_bad_max_runs(tmp_path, monkeypatch, env, arg, fragment):
    if env is not None:
        monkeypatch.setenv(runs.ENV_MAX_RUNS, env)
    with pytest.raises(SegmentationError, match=re.escape(fragment)):
        RunStore(tmp_path, max_runs=arg)


# Summary ----------------------------------------------------------------------------
def test_summary_by_hand(store, tiny_run):
    run_id = store.save(*tiny_run)
    summary = store.summary(run_id)
    assert summary["run_id"] == run_id and summary["k"] == 2
    assert summary["customers"] == 12 and summary["file"] == "tiny.csv"
    low, high = summary["value_clusters"]
    # revenue: high 5,000+...+10,000 = 45,000; low 50+...+100 = 450; total 45,450
    assert (low["value_cluster"], high["value_cluster"]) == (0, 1)
    assert low["customers"] == high["customers"] == 6
    assert high["revenue_share"] == pytest.approx(45_000 / 45_450)
    assert low["revenue_share"] == pytest.approx(450 / 45_450)
    # medians: high recency (4+5)/2, frequency (24+26)/2, monetary (7,000+8,000)/2
    assert (high["median_recency_days"], high["median_frequency"]) == (4.5, 25)
    assert high["median_monetary"] == 7_500
    # low: recency (320+330)/2, frequency (1+2)/2, monetary (70+80)/2
    assert (low["median_recency_days"], low["median_frequency"]) == (325, 1.5)
    assert low["median_monetary"] == 75
    assert (low["value_tier"], high["value_tier"]) == ("Low", "High")
    assert set(low) == {
        "value_cluster",
        "value_tier",
        "customers",
        "revenue_share",
        "median_recency_days",
        "median_frequency",
        "median_monetary",
    }  # the persona moved to the tier x status rows
    json.dumps(summary, allow_nan=False)  # plain JSON


def test_summary_personas_by_hand(store, tiny_run):
    personas = store.summary(store.save(*tiny_run))["personas"]
    # Status (usual gap = (tenure - recency) / (frequency - 1) = 100 / (f - 1),
    # as tenure = recency + 100; at least 7 days): H1..H6 gaps 100/19..100/29,
    # all under 7, so 7; recency 2..7 <= 2 gaps: Active. L4..L6 (2 orders) gap
    # 100, recency 330..350 = 3.3..3.5 gaps: Cooling (<= 4). L1..L3 (1 order)
    # take the population's gap, the median of the 9 repeat customers' gaps
    # (100/19, 100/21, 100/23, 4, 100/27, 100/29, 100, 100, 100) = 100/21 =
    # 4.76, raised to 7: recency 300..320 is over 40 gaps: Lapsed.
    # Groups in (value_cluster, status) order; names by the rules on their
    # median R and F: bottom Cooling with R 1 <= 4 "Drifting", bottom Lapsed
    # with R 1 <= 3 "Gone quiet", top Active with R 5 >= 4, F 5 >= 4 "Stars".
    assert [
        (p["value_cluster"], p["status"], p["value_tier"], p["persona"])
        for p in personas
    ] == [
        (0, "Cooling", "Low", "Drifting"),
        (0, "Lapsed", "Low", "Gone quiet"),
        (1, "Active", "High", "Stars"),
    ]
    cooling, lapsed, active = personas
    assert [p["customers"] for p in personas] == [3, 3, 6]
    # revenue: L4..L6 80 + 90 + 100 = 270, L1..L3 50 + 60 + 70 = 180, H 45,000
    assert cooling["revenue_share"] == pytest.approx(270 / 45_450)
    assert lapsed["revenue_share"] == pytest.approx(180 / 45_450)
    assert active["revenue_share"] == pytest.approx(45_000 / 45_450)
    # medians: L4..L6 recency 340, 2 orders, 90 spent; L1..L3 310, 1, 60;
    # H: (4 + 5) / 2 = 4.5 days, (24 + 26) / 2 = 25 orders, 7,500
    assert [
        (p["median_recency_days"], p["median_frequency"], p["median_monetary"])
        for p in personas
    ] == [(340, 2, 90), (310, 1, 60), (4.5, 25, 7_500)]
    assert [(p["median_r_score"], p["median_f_score"]) for p in personas] == [
        (1, 1),
        (1, 1),
        (5, 5),
    ]
    assert (
        "340 days" in cooling["description"] and "2 orders" in (cooling["description"])
    )
    assert "310 days" in lapsed["description"] and "1 order," in lapsed["description"]
    for row in personas:
        assert row["description"] and row["action"]


def test_summary_grid_matches_plain_pandas(store, tiny_run):
    customers = tiny_run[1].customers
    grid = store.summary(store.save(*tiny_run))["grid"]
    expected = customers.groupby([schema.VALUE_CLUSTER, schema.PURCHASE_STYLE]).size()
    got = {(c["value_cluster"], c["purchase_style"]): c["customers"] for c in grid}
    assert got == expected.to_dict()
    assert sum(c["revenue_share"] for c in grid) == pytest.approx(1.0)
    for cell in grid:
        in_cell = customers[
            (customers[schema.VALUE_CLUSTER] == cell["value_cluster"])
            & (customers[schema.PURCHASE_STYLE] == cell["purchase_style"])
        ]
        assert cell["median_monetary"] == in_cell[schema.MONETARY].median()
        assert cell["grid_label"] == in_cell[schema.GRID_LABEL].iloc[0]
        assert cell["value_tier"] == in_cell[schema.VALUE_TIER].iloc[0]
        assert "persona" not in cell  # personas are tier x status, not per cell


# Command line -----------------------------------------------------------------------
def test_cli_save_prints_the_run_id_last(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(runs.ENV_DATA_DIR, str(tmp_path))
    assert main(["--sample", "-k", "3", "--save"]) == 0
    out = capsys.readouterr().out.splitlines()
    run_id = out[-1]
    assert RunStore(tmp_path).latest_id() == run_id
    saved = RunStore(tmp_path).load(run_id)
    assert saved.metadata["source"] == "cli"
    assert saved.metadata["input"]["file"] == segmentation.SAMPLE_NAME
    assert saved.segmentation.k == 3


# Finding a run and reopening its prepared data ------------------------------------
def test_find_matches_data_and_every_setting(store, tiny_run):
    prepared, seg = tiny_run
    assert store.find(SHA, 2, 0.1, 0, prepared.mapping) is None  # nothing saved yet
    run_id = store.save(prepared, seg, source="app")
    assert store.find(SHA, 2, 0.1, 0, dict(prepared.mapping)) == run_id
    assert store.find(SHA, 2, 0.10000001, 0, prepared.mapping) == run_id  # 4 decimals
    other_mapping = {schema.CUSTOMER_ID: "Client"}
    for args in [
        ("ff" + SHA[2:], 2, 0.1, 0, prepared.mapping),  # other file
        (SHA, 3, 0.1, 0, prepared.mapping),  # other k
        (SHA, 2, 0.05, 0, prepared.mapping),  # other anomaly share
        (SHA, 2, 0.1, 1, prepared.mapping),  # other seed
        (SHA, 2, 0.1, 0, other_mapping),  # other columns
    ]:
        assert store.find(*args) is None, args


def test_find_returns_the_newest_of_equal_runs(store, tiny_run, monkeypatch):
    monkeypatch.setattr("segmentation.runs._store.datetime", _Frozen)
    prepared, seg = tiny_run
    store.save(prepared, seg)
    newer = store.save(prepared, seg)
    assert store.find(SHA, 2, 0.1, 0, prepared.mapping) == newer


def test_list_tells_settings_and_reopenable(store, tiny_run):
    prepared, seg = tiny_run
    run_id = store.save(prepared, seg)
    (entry,) = store.list()
    assert (entry["id"], entry["anomaly_share"], entry["seed"]) == (run_id, 0.1, 0)
    assert entry["mapping"] == {schema.CUSTOMER_ID: "Customer"}
    assert entry["reopenable"] is True


def test_load_prepared_after_a_restart(tmp_path, tiny_run):
    prepared, seg = tiny_run
    run_id = RunStore(tmp_path).save(prepared, seg)
    again = RunStore(tmp_path).load_prepared(run_id)
    assert isinstance(again, segmentation.PreparedData)
    assert (again.sha256, again.source_name, again.mapping) == (
        SHA,
        "tiny.csv",
        prepared.mapping,
    )
    pd.testing.assert_frame_equal(again.features, prepared.features)


def test_old_run_without_prepared_data_scores_but_cannot_reopen(store, tiny_run):
    prepared, seg = tiny_run
    run_id = store.save(prepared, seg)
    run_db.drop_model(store, run_id, "prepared")  # as saved before
    fresh = RunStore(store.root)
    assert fresh.list()[0]["reopenable"] is False
    with pytest.raises(runs.NotReopenableError, match=r"cannot reopen.*API still"):
        fresh.load_prepared(run_id)
    records = tiny_features().reset_index(drop=True)
    assert len(segmentation.score(fresh.load(run_id).segmentation, records)) == 12


@pytest.mark.parametrize(
    ("run_id", "error", "fragment"),
    [
        ("../x", RunNotFoundError, "not a valid run id"),
        ("20990101T000000-00000000-k2", RunNotFoundError, "no saved run"),
    ],
)
def test_load_prepared_of_unknown_ids(store, run_id, error, fragment):
    with pytest.raises(error, match=fragment):
        store.load_prepared(run_id)


def test_load_prepared_of_a_damaged_file(store, tiny_run):
    prepared, seg = tiny_run
    run_id = store.save(prepared, seg)
    run_db.set_model(store, run_id, "prepared", b"not a pickle")
    with pytest.raises(SegmentationError, match=r"prepared data cannot be read"):
        store.load_prepared(run_id)
