"""Migration: tiers and statuses at as_of - N days by the same fitted rules (issue 14).

The hand-computed table: six customers whose orders are placed so that their
value tier (k=2, two groups far apart) and status (Active / Cooling / Lapsed,
DESIGN section 6) at both dates can be worked out on paper; the expectations
below are those workings, not the code's output. Then Online Retail I at 90 days,
whose moves must add up, the command line, and the API.
"""

from __future__ import annotations

import json

import flask
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

import segmentation
from app.api import register_api
from segmentation import reports, schema
from segmentation.__main__ import main
from segmentation.errors import SegmentationError
from segmentation.migration import EarlierFeatures, earlier_features, migrate
from segmentation.runs import RunStore
from segmentation.runs.tables import Run
from tests import run_db

NOT_YET = "Not yet a customer"

# One line per order (one unit at this price); C-invoices are returns.
# as_of = 2024-07-01 (the day after the last purchase, 30 June); N = 30, so the
# earlier date is 2024-06-01 and only lines dated before it count there.
ORDERS = {
    # C1: weekly in May, one order on 29 June; returns 100 on 10 June (after the
    # cut, so not deducted at the earlier date)
    "C1": [
        *[("2024-05-01", 200), ("2024-05-08", 200), ("2024-05-15", 200)],
        *[("2024-05-22", 200), ("2024-06-29", 200), ("2024-06-10", -100)],
    ],
    # C2: weekly 22 April .. 20 May; returns 50 on 25 May (before the cut)
    "C2": [
        *[("2024-04-22", 200), ("2024-04-29", 200), ("2024-05-06", 200)],
        *[("2024-05-13", 200), ("2024-05-20", 200), ("2024-05-25", -50)],
    ],
    # C3: one small order in March, then four big ones in June
    "C3": [
        *[("2024-03-01", 10), ("2024-06-10", 250), ("2024-06-15", 250)],
        *[("2024-06-20", 250), ("2024-06-25", 250)],
    ],
    # C4: first order after the cut
    "C4": [("2024-06-30", 10)],
    # C5: one order in January
    "C5": [("2024-01-15", 12)],
    # C6: 1 April and 5 June
    "C6": [("2024-04-01", 15), ("2024-06-05", 15)],
}


def _csv() -> bytes:
    rows = ["InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID"]
    invoice = 1000
    for customer, orders in ORDERS.items():
        for day, value in orders:
            invoice += 1
            number = f"C{invoice}" if value < 0 else str(invoice)
            quantity = -1 if value < 0 else 1
            rows.append(f"{number},P1,{quantity},{day} 10:00,{abs(value)},{customer}")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def six():
    prepared = segmentation.prepare(
        _csv(), filename="six.csv", diagnostics=False, compare_days=30
    )
    result = segmentation.segment(prepared, 2, seed=0, anomaly_share=0.2)
    return prepared, result


def test_earlier_features_use_only_the_lines_before_the_cut(six):
    prepared, _ = six
    earlier = prepared.earlier
    assert (earlier.days, earlier.as_of) == (30, pd.Timestamp("2024-06-01"))
    f = earlier.features
    assert f.index.tolist() == ["C1", "C2", "C3", "C5", "C6"]  # C4 not yet
    # C1: 4 orders of 200 in May; the June return is after the cut
    assert f.loc["C1", [schema.FREQUENCY, schema.MONETARY]].tolist() == [4, 800]
    # last order 22 May -> 10 days to 1 June; first 1 May -> 31 days
    assert f.loc["C1", schema.RECENCY_DAYS] == 10
    assert f.loc["C1", schema.TENURE_DAYS] == 31
    # C2: the return of 25 May is before the cut: 1000 - 50
    assert f.loc["C2", schema.MONETARY] == 950
    assert f.loc["C3", [schema.FREQUENCY, schema.MONETARY]].tolist() == [1, 10]
    assert f.loc["C6", schema.RECENCY_DAYS] == 61  # 1 April -> 1 June


# Worked by hand. Later date (1 July): High = C1 (5 orders, 900), C2 (5, 950),
# C3 (5, 1010); Low = C4 (1, 10), C5 (1, 12), C6 (2, 30). The usual gap of the
# repeat customers: C1 (61-2)/4 = 14.75, C2 (70-42)/4 = 7, C3 (122-6)/4 = 29,
# C6 (91-26)/1 = 65 -> the one-order gap is their median, 21.875 days.
# Status = recency / gap: <= 2 Active, <= 4 Cooling, else Lapsed.
#   later:   C1 2/14.75 A, C2 42/7 = 6 L, C3 6/29 A, C4 1/21.875 A,
#            C5 168/21.875 L, C6 26/65 A.
#   earlier: C1 10/((31-10)/3 = 7) A, C2 12/((40-12)/4 = 7) A,
#            C3 92/21.875 = 4.2 L, C5 138/21.875 L, C6 (one order then)
#            61/21.875 = 2.8 C; C4 not yet a customer.
# Tiers earlier by the same centres: C1 (4, 800) High, C2 (5, 950) High,
# C3 (1, 10) Low, C5 (1, 12) Low, C6 (1, 15) Low.
EXPECTED = pd.DataFrame(
    {
        "value_tier": ["High", "High", "High", "Low", "Low", "Low"],
        "status": ["Active", "Lapsed", "Active", "Active", "Lapsed", "Active"],
        "value_tier_before": ["High", "High", "Low", NOT_YET, "Low", "Low"],
        "status_before": ["Active", "Active", "Lapsed", NOT_YET, "Lapsed", "Cooling"],
    },
    index=pd.Index(["C1", "C2", "C3", "C4", "C5", "C6"], name="customer_id"),
)
TIER_MOVES = [
    {"from": NOT_YET, "to": "Low", "direction": "in", "customers": 1, "revenue": 10},
    {"from": "Low", "to": "Low", "direction": "same", "customers": 2, "revenue": 42},
    {"from": "Low", "to": "High", "direction": "up", "customers": 1, "revenue": 1010},
    {
        "from": "High",
        "to": "High",
        "direction": "same",
        "customers": 2,
        "revenue": 1850,
    },
]
STATUS_MOVES = [
    ("Not yet a customer", "Active", "in", 1, 10),
    ("Lapsed", "Lapsed", "same", 1, 12),
    ("Lapsed", "Active", "up", 1, 1010),
    ("Cooling", "Active", "up", 1, 30),
    ("Active", "Lapsed", "down", 1, 950),
    ("Active", "Active", "same", 1, 900),
]


def test_hand_computed_tiers_and_statuses_at_both_dates(six):
    _, result = six
    customers = result.customers.set_index(schema.CUSTOMER_ID)
    assert result.status_model.population_gap_days_ == pytest.approx(21.875)
    pd.testing.assert_frame_equal(
        customers[EXPECTED.columns], EXPECTED, check_dtype=False
    )
    # the two columns come last, after the labels
    assert customers.columns.tolist()[-2:] == ["value_tier_before", "status_before"]


def test_hand_computed_moves(six):
    _, result = six
    report = result.migration.report
    assert (report["as_of"], report["compared_as_of"]) == ("2024-07-01", "2024-06-01")
    assert (report["customers"], report["customers_before"]) == (6, 5)
    assert report["new_customers"] == 1
    assert report["moves"] == TIER_MOVES
    assert [
        (m["from"], m["to"], m["direction"], m["customers"], m["revenue"])
        for m in report["status_moves"]
    ] == STATUS_MOVES
    assert report["tier_directions"] == {
        "in": {"customers": 1, "revenue": 10},
        "up": {"customers": 1, "revenue": 1010},
        "same": {"customers": 4, "revenue": 1892},
        "down": {"customers": 0, "revenue": 0},
        "unranked": {"customers": 0, "revenue": 0},
    }
    assert report["status_directions"]["down"] == {"customers": 1, "revenue": 950}
    assert report["revenue"] == 900 + 950 + 1010 + 10 + 12 + 30


def test_run_report_csv_and_saved_run_carry_the_migration(six, tmp_path):
    prepared, result = six
    report = reports.run_report(prepared, result)
    assert report["migration"] == result.migration.report
    json.dumps(report)  # JSON-ready as it is
    text = reports.customers_csv(result.customers)
    header, c4 = text.splitlines()[0], text.splitlines()[4]
    assert header.endswith(",value_tier_before,status_before")
    assert c4.startswith("C4,") and c4.endswith(f",{NOT_YET},{NOT_YET}")
    store = RunStore(tmp_path)
    run_id = store.save(prepared, result, source="cli")
    with store.engine.connect() as connection:
        saved = connection.execute(
            select(Run.report).where(Run.run_id == run_id)
        ).scalar_one()
    assert saved["migration"] == result.migration.report
    loaded = store.load(run_id).segmentation.customers
    assert (
        loaded["value_tier_before"].tolist() == EXPECTED["value_tier_before"].tolist()
    )


def test_no_migration_unless_asked():
    plain = segmentation.prepare(_csv(), filename="six.csv", diagnostics=False)
    assert plain.earlier is None
    result = segmentation.segment(plain, 2, seed=0, anomaly_share=0.2)
    assert result.migration is None
    assert "value_tier_before" not in result.customers.columns
    assert "migration" not in reports.run_report(plain, result)


def test_a_date_before_every_line_makes_everyone_new():
    prepared = segmentation.prepare(
        _csv(), filename="six.csv", diagnostics=False, compare_days=400
    )
    assert prepared.earlier.features.empty
    result = segmentation.segment(prepared, 2, seed=0, anomaly_share=0.2)
    report = result.migration.report
    assert (report["customers_before"], report["new_customers"]) == (0, 6)
    assert {(m["from"], m["direction"]) for m in report["moves"]} == {(NOT_YET, "in")}
    assert (result.customers["status_before"] == NOT_YET).all()


@pytest.mark.parametrize("days", [0, -5, 1.5, True, "30"])
def test_compare_days_must_be_a_whole_number_of_days(days):
    with pytest.raises(SegmentationError, match="compare_days must be a whole number"):
        segmentation.prepare(
            _csv(), filename="six.csv", diagnostics=False, compare_days=days
        )


def test_a_customer_only_at_the_earlier_date_is_refused(six):
    prepared, result = six
    earlier = prepared.earlier
    extra = earlier.features.iloc[:1].rename(index={"C1": "Z9"})
    stray = EarlierFeatures(
        earlier.days, earlier.as_of, pd.concat([earlier.features, extra])
    )
    with pytest.raises(SegmentationError, match=r"1 customers of 2024-06-01 .*'Z9'"):
        migrate(
            result.customers,
            stray,
            result.value_model,
            result.status_model,
            as_of=prepared.as_of,
        )


class _AllLow:
    """A value model whose ``predict`` says Low for everyone (not what it fitted)."""

    tier_names_ = ("Low", "High")

    def predict(self, X):
        return np.zeros(len(X), dtype=int)


def test_an_unchanged_customer_keeps_the_runs_own_tier(six):
    """Ward's and HDBSCAN's tiers are memberships that predict may not repeat."""
    prepared, result = six
    customers = result.customers.copy()
    c5 = customers[schema.CUSTOMER_ID] == "C5"
    customers.loc[c5, [schema.VALUE_CLUSTER, schema.VALUE_TIER]] = [-1, "Unclustered"]
    moved = migrate(
        customers,
        prepared.earlier,
        _AllLow(),
        result.status_model,
        as_of=prepared.as_of,
    )
    before = moved.before[schema.VALUE_TIER_BEFORE]
    # C2 (5 orders, 950 at both dates) keeps High; C5 (1, 12) stays Unclustered;
    # C1 (4, 800 -> 5, 900) and C6 changed: placed by predict (Low)
    assert before.to_dict() == {
        "C1": "Low",
        "C2": "High",
        "C3": "Low",
        "C4": NOT_YET,
        "C5": "Unclustered",
        "C6": "Low",
    }
    directions = {(m["from"], m["to"]): m["direction"] for m in moved.report["moves"]}
    assert directions[("Unclustered", "Unclustered")] == "same"
    assert directions[("Low", "High")] == "up"  # C1 and C3
    assert directions[("High", "High")] == "same"  # C2


@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_cli_rejects_bad_compare_days(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--sample", "--compare-days", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument --compare-days: takes a whole number")
    assert err.count("\n") == 1


# Online Retail I, 90 days --------------------------------------------------------
@pytest.fixture(scope="module")
def retail_90(retail_csv):
    prepared = segmentation.prepare(retail_csv, diagnostics=False, compare_days=90)
    return prepared, segmentation.segment(prepared, 3, seed=0)


@pytest.mark.realdata
def test_online_retail_moves_add_up(retail_90):
    prepared, result = retail_90
    customers, report = result.customers, result.migration.report
    assert report["compared_as_of"] == "2011-09-11"  # as_of 2011-12-10 - 90 days
    assert customers[schema.CUSTOMER_ID].is_unique
    assert len(customers) == len(prepared.features) == report["customers"]
    for key in ("moves", "status_moves"):
        moves = report[key]
        pairs = [(m["from"], m["to"]) for m in moves]
        assert len(pairs) == len(set(pairs))  # every pair once
        assert sum(m["customers"] for m in moves) == len(customers)
        total = customers[schema.MONETARY].sum()
        assert sum(m["revenue"] for m in moves) == pytest.approx(total, abs=0.01 * 20)
        # and each pair counts exactly the customers with those two labels
        column = "value_tier" if key == "moves" else "status"
        counted = customers.groupby([f"{column}_before", column]).size()
        assert {p: m["customers"] for p, m in zip(pairs, moves)} == counted.to_dict()


@pytest.mark.realdata
def test_online_retail_new_customers_are_those_first_seen_in_the_last_90_days(
    retail_90,
):
    _, result = retail_90
    c = result.customers
    # first purchase on or after 11 Sep 2011 <=> tenure_days <= 90 at 10 Dec
    new = c[schema.TENURE_DAYS] <= 90
    assert ((c["value_tier_before"] == NOT_YET) == new).all()
    assert ((c["status_before"] == NOT_YET) == new).all()
    assert result.migration.report["new_customers"] == int(new.sum())


@pytest.mark.realdata
@pytest.mark.parametrize("method", ["kmeans", "ward", "hdbscan"])
def test_online_retail_quiet_customers_keep_their_tier(retail_90, method):
    """No order and no return since the cut: same orders and spend -> same tier;
    90 days less since the last order -> a status at least as current as now."""
    prepared, result = retail_90
    if method != "kmeans":
        result = segmentation.segment(prepared, 3, seed=0, method=method)
    c = result.customers
    quiet = c[(c[schema.RECENCY_DAYS] > 90) & (c[schema.RETURNED_VALUE] == 0)]
    assert len(quiet) > 1000
    assert (quiet["value_tier_before"] == quiet["value_tier"]).all()
    rank = {"Active": 0, "Cooling": 1, "Lapsed": 2}
    before = quiet["status_before"].map(rank)
    assert (before <= quiet["status"].map(rank)).all()


@pytest.mark.realdata
def test_cli_writes_the_migration_and_the_columns(retail_csv, tmp_path, capsys):
    report, out = tmp_path / "r.json", tmp_path / "c.csv"
    code = main(
        [
            *[str(retail_csv), "-k", "3", "--compare-days", "90"],
            *["--report", str(report), "-o", str(out)],
        ]
    )
    assert code == 0
    migration = json.loads(report.read_text())["migration"]
    assert (migration["days"], migration["compared_as_of"]) == (90, "2011-09-11")
    assert sum(m["customers"] for m in migration["moves"]) == migration["customers"]
    customers = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert customers.columns.tolist()[-2:] == ["value_tier_before", "status_before"]
    assert (customers["value_tier_before"] == NOT_YET).sum() == migration[
        "new_customers"
    ]
    err = capsys.readouterr().err
    assert "migration: 2011-09-11 (90 days before) -> 2011-12-10" in err


# The API -------------------------------------------------------------------------
def _client(store) -> flask.testing.FlaskClient:
    server = flask.Flask(__name__)
    register_api(server, store_factory=lambda: store)
    return server.test_client()


def test_api_serves_a_saved_runs_migration(six, tmp_path):
    prepared, result = six
    store = RunStore(tmp_path / "data")
    with_moves = store.save(prepared, result, source="cli")
    plain_prepared = segmentation.prepare(_csv(), filename="six.csv", diagnostics=False)
    plain = store.save(
        plain_prepared,
        segmentation.segment(plain_prepared, 2, seed=0, anomaly_share=0.2),
        source="cli",
    )
    client = _client(store)

    answer = client.get(f"/api/runs/{with_moves}/migration")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["run_id"] == with_moves
    assert body["moves"] == TIER_MOVES
    assert body["status_directions"]["down"] == {"customers": 1, "revenue": 950}

    none = client.get(f"/api/runs/{plain}/migration")
    assert none.status_code == 404
    assert none.get_json()["error"] == (
        f"saved run {plain} has no migration: it was made without comparing "
        "dates; run it again with --compare-days N (the command line) to have one"
    )
    unknown = client.get("/api/runs/20990101T000000-00000000-k2/migration")
    assert unknown.status_code == 404
    assert "no saved run" in unknown.get_json()["error"]

    run_db.drop_model(store, with_moves, "segmentation")
    damaged = client.get(f"/api/runs/{with_moves}/migration")
    assert damaged.status_code == 409
    assert f"saved run {with_moves} is damaged" in damaged.get_json()["error"]


def test_earlier_features_of_lines_without_returns():
    lines = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B"],
            "invoice_date": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-25"]),
            "line_total": [5.0, 7.0, 3.0],
        }
    )
    earlier = earlier_features(lines, None, pd.Timestamp("2024-02-01"), 10)
    assert earlier.as_of == pd.Timestamp("2024-01-22")
    assert earlier.features.index.tolist() == ["A"]
    assert earlier.features.loc["A", schema.MONETARY] == 12.0
    assert earlier.features.loc["A", schema.RECENCY_DAYS] == 2
