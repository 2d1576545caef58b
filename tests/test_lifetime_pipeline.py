"""The lifetime models in the engine: order definitions, guardrails, columns,
report, command line and scoring (issue 14)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segmentation import pipeline, reports, schema
from segmentation.__main__ import main
from segmentation.errors import SegmentationError
from segmentation.lifetime import LifetimeSettings, fit_lifetime, order_summary
from segmentation.scoring import score

LIFETIME_COLUMNS = [
    "p_alive",
    "expected_orders_90d",
    "expected_spend_per_order",
    "clv_365d",
]


def _lines(rows, invoices=True) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["invoice_id", "customer_id", "when", "total"])
    lines = pd.DataFrame(
        {
            "customer_id": frame["customer_id"],
            "invoice_date": pd.to_datetime(frame["when"]),
            "line_total": frame["total"].astype(float),
        }
    )
    return lines.assign(invoice_id=frame["invoice_id"]) if invoices else lines


ROWS = [
    # invoice, customer, time, line value
    ("1", "A", "2024-01-01 09:00", 10.0),
    ("1", "A", "2024-01-01 09:00", 5.0),  # same invoice: one order of 15
    ("2", "A", "2024-01-01 15:00", 20.0),  # another invoice the same day
    ("3", "A", "2024-01-11 10:00", 40.0),
    ("4", "B", "2024-01-05 12:00", 7.0),
    ("5", "C", "2024-01-20 08:00", 3.0),  # on/after the end: left out
]


def test_summary_with_invoices_counts_each_invoice():
    summary = order_summary(_lines(ROWS), pd.Timestamp("2024-01-20"))
    assert summary.index.tolist() == ["A", "B"]
    a, b = summary.loc["A"], summary.loc["B"]
    # A: 3 invoices -> 2 repeat orders; days 1 Jan .. 11 Jan; T to 20 Jan
    assert (a["x"], a["t_x"], a["T"]) == (2, 10.0, 19.0)
    assert a["m_x"] == pytest.approx((20 + 40) / 2)  # repeat orders: not the first
    assert (b["x"], b["t_x"], b["T"]) == (0, 0.0, 15.0) and np.isnan(b["m_x"])


def test_summary_without_invoices_counts_a_day_once():
    summary = order_summary(_lines(ROWS, invoices=False), pd.Timestamp("2024-01-20"))
    a = summary.loc["A"]
    # 1 Jan 09:00 and 15:00 are one order of 35; 11 Jan another
    assert (a["x"], a["t_x"], a["T"], a["m_x"]) == (1, 10.0, 19.0, 40.0)


def test_too_few_repeat_customers_leave_the_columns_empty_and_say_why():
    result = fit_lifetime(_lines(ROWS), pd.Timestamp("2024-01-20"))
    # C bought on as_of's own day (recency 0): that day is kept
    assert result.withheld == (
        "1 of 3 customers have a repeat order; the lifetime models need at least 200"
    )
    assert result.customers.columns.tolist() == LIFETIME_COLUMNS
    assert result.customers.isna().all().all()
    assert result.report["bgnbd"] is None and result.report["fitted"] is False


def test_too_short_a_history_is_withheld_even_with_repeat_customers():
    settings = LifetimeSettings(min_repeat_customers=1)
    result = fit_lifetime(_lines(ROWS), pd.Timestamp("2024-01-20"), settings)
    assert result.withheld == (
        "20 days of history; the lifetime models need at least 180"
    )


def test_horizons_name_the_columns():
    settings = LifetimeSettings(orders_horizon_days=30, clv_horizon_days=730)
    assert settings.columns == (
        "p_alive",
        "expected_orders_30d",
        "expected_spend_per_order",
        "clv_730d",
    )


@pytest.fixture(scope="module")
def retail_run(retail_csv):
    prepared = pipeline.prepare(
        retail_csv, diagnostics=False, lifetime=LifetimeSettings(holdout_days=90)
    )
    return prepared, pipeline.segment(prepared, 3)


@pytest.mark.realdata
def test_online_retail_i_gets_lifetime_columns_in_range(retail_run):
    _, result = retail_run
    customers = result.customers
    assert customers.columns.tolist()[-4:] == LIFETIME_COLUMNS
    assert customers[LIFETIME_COLUMNS].notna().all().all()
    assert customers["p_alive"].between(0, 1).all()
    assert (customers[LIFETIME_COLUMNS[1:]] >= 0).all().all()
    # 4,338 customers of the classic cleaning less the 4 whose spend is all
    # non-product codes (tests/test_cleaning.REAL_CUSTOMERS)
    assert len(customers) == 4_334
    # A one-order customer cannot have dropped out yet in the BG/NBD
    one_order = customers[customers[schema.FREQUENCY] == 1]
    assert (one_order["p_alive"] == 1.0).all()
    # Among repeat buyers with the same history length, a longer silence
    # lowers p_alive: the least recent of the frequent buyers are least alive.
    frequent = customers[customers[schema.FREQUENCY] >= 10]
    quiet = frequent[schema.RECENCY_DAYS] > 180
    assert (
        frequent.loc[quiet, "p_alive"].max() < frequent.loc[~quiet, "p_alive"].median()
    )


@pytest.mark.realdata
def test_online_retail_i_report_and_csv(retail_run):
    prepared, result = retail_run
    report = reports.run_report(prepared, result)["lifetime"]
    assert report["time_unit"] == "days" and report["converged"] is True
    assert set(report["bgnbd"]) >= {"r", "alpha", "a", "b"}
    assert set(report["gamma_gamma"]) >= {"p", "q", "v"}
    assert report["monthly_discount_rate"] == 0.01
    assert report["horizons"] == {"expected_orders_days": 90, "clv_days": 365}
    holdout = report["holdout"]
    assert holdout["days"] == 90 and holdout["calibration_end"] == "2011-09-11"
    assert holdout["predicted_orders"] > 0 and holdout["actual_orders"] > 0
    json.dumps(report)  # JSON-ready as it is
    text = pd.read_csv(
        pd.io.common.StringIO(reports.customers_csv(result.customers)), dtype=str
    )
    assert text.columns.tolist()[-4:] == LIFETIME_COLUMNS
    assert text["clv_365d"].str.fullmatch(r"\d+\.\d{2}").all()  # money: cents


@pytest.mark.realdata
def test_scoring_a_known_customer_repeats_their_p_alive(retail_run):
    _, result = retail_run
    row = result.customers.set_index(schema.CUSTOMER_ID).loc["12347"]
    fields = {c: float(row[c]) for c in schema.RFM_COLUMNS}
    scored = score(result, [{**fields, schema.TENURE_DAYS: float(row["tenure_days"])}])
    assert scored["p_alive"].iloc[0] == pytest.approx(row["p_alive"], rel=1e-12)
    assert scored["expected_orders_90d"].iloc[0] == pytest.approx(
        row["expected_orders_90d"], rel=1e-12
    )
    without = score(result, [fields])
    assert without[LIFETIME_COLUMNS].isna().all().all()


@pytest.mark.realdata
def test_scoring_refuses_a_tenure_shorter_than_recency(retail_run):
    _, result = retail_run
    record = {"recency_days": 30, "frequency": 2, "monetary": 50, "tenure_days": 10}
    with pytest.raises(
        SegmentationError, match=r"customers\[0\]: tenure_days must be >= recency_days"
    ):
        score(result, [record])


@pytest.mark.realdata
def test_cli_on_the_tiny_head_file_explains_why_there_are_no_numbers(
    retail_ii_head, tmp_path, capsys
):
    csv, report = tmp_path / "c.csv", tmp_path / "r.json"
    code = main([str(retail_ii_head), "-o", str(csv), "--report", str(report)])
    assert code == 0
    err = capsys.readouterr().err
    assert "lifetime: no numbers: 8 of 50 customers have a repeat order" in err
    lifetime = json.loads(report.read_text())["lifetime"]
    assert lifetime["withheld"].startswith("8 of 50 customers have a repeat order")
    customers = pd.read_csv(csv, keep_default_na=False, dtype=str)
    assert (customers[LIFETIME_COLUMNS] == "").all().all()


@pytest.mark.realdata
def test_cli_no_lifetime_writes_no_lifetime(retail_ii_head, tmp_path):
    csv, report = tmp_path / "c.csv", tmp_path / "r.json"
    assert (
        main(
            [
                str(retail_ii_head),
                "--no-lifetime",
                "-o",
                str(csv),
                "--report",
                str(report),
            ]
        )
        == 0
    )
    assert "lifetime" not in json.loads(report.read_text())
    assert list(pd.read_csv(csv).columns) == list(schema.OUTPUT_COLUMNS)


@pytest.mark.parametrize("bad", ["0", "-3", "ninety"])
def test_cli_refuses_a_bad_holdout(bad, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--sample", "--holdout-days", bad])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument --holdout-days: takes a whole number")
    assert err.count("\n") == 1
