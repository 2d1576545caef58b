"""The command line on the real Online Retail exports (issue: engine and CLI).

Facts checked here come from ../shared/data/README.md (UCI's published counts),
not from this code's own output.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import segmentation
from segmentation import schema
from segmentation.__main__ import main
from tests.test_cleaning import REAL_COUNTS, REAL_CUSTOMERS

pytestmark = pytest.mark.realdata

ROWS_ONLINE_RETAIL_I = 541_909
MISSING_CUSTOMER_ID = 135_080
C_PREFIX_INVOICE_LINES = 9_288  # "9,288 lines on cancellation invoices"


def _run_cli(path, out_dir, *extra):
    csv, report = out_dir / f"{path.stem}.csv", out_dir / f"{path.stem}.json"
    code = main([str(path), "-k", "3", "-o", str(csv), "--report", str(report), *extra])
    assert code == 0
    customers = pd.read_csv(csv, dtype={schema.CUSTOMER_ID: str}, keep_default_na=False)
    return customers, json.loads(report.read_text())


@pytest.fixture(scope="session")
def cli_out(tmp_path_factory):
    """Where the command line writes its files."""
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="session")
def cli_runs(retail_csv, retail_xlsx, cli_out):
    return {
        "csv": _run_cli(retail_csv, cli_out),
        "xlsx": _run_cli(retail_xlsx, cli_out),
    }


def test_the_file_written_is_the_engines_customers_table(cli_runs, cli_out, retail_csv):
    # byte for byte: what lets the app's download be checked against the engine
    # (tests/test_app_callbacks.py) rather than by running the command line again;
    # the command line fits the lifetime models by default, so the engine does too
    from segmentation.lifetime import LifetimeSettings

    written = (cli_out / "online_retail_I.csv").read_text(encoding="utf-8")
    prepared = segmentation.prepare(retail_csv, lifetime=LifetimeSettings())
    run = segmentation.segment(prepared, 3)
    assert written == segmentation.customers_csv(run.customers)


def test_xlsx_and_csv_give_the_same_customers_features_and_labels(cli_runs):
    from_csv, _ = cli_runs["csv"]
    from_xlsx, _ = cli_runs["xlsx"]
    assert len(from_csv) == len(from_xlsx)
    pd.testing.assert_frame_equal(from_csv, from_xlsx)


def test_report_counts_add_up_and_match_the_published_facts(cli_runs):
    for _, report in cli_runs.values():
        cleaning = report["cleaning"]
        assert cleaning["rows_in"] == ROWS_ONLINE_RETAIL_I
        assert sum(cleaning["counts"].values()) == ROWS_ONLINE_RETAIL_I
        assert cleaning["counts"]["missing_customer_id"] == MISSING_CUSTOMER_ID
        assert cleaning["flagged"]["return_prefix_invoice"] == C_PREFIX_INVOICE_LINES
        assert cleaning["flagged"]["negative_quantity"] == 10_624
        assert cleaning["flagged"]["exact_duplicate"] == 5_268
        # every bucket, worked out from the README's facts in test_cleaning.py
        assert cleaning["counts"] == REAL_COUNTS
        assert cleaning["kept"] == REAL_COUNTS["kept"] == 391_150
        assert cleaning["dropped"] == ROWS_ONLINE_RETAIL_I - 391_150  # 150,759
        # the C prefix is proven (all 9,288 such lines are negative), and the
        # file has an invoice column, so duplicates were removed
        assert "(9,288 lines) are all negative" in cleaning["rules"][0]
        assert cleaning["rules"][-1].startswith("duplicates: a line repeating")
        # README: the classic cleaning leaves 4,338 customers; we also drop
        # non-product codes (postage, fees): 4 postage-only buyers go.
        assert report["customers"] == REAL_CUSTOMERS == 4_338 - 4


def test_k3_tiers_are_low_mid_high_in_increasing_median_monetary(cli_runs):
    customers, report = cli_runs["csv"]
    medians = customers.groupby(schema.VALUE_CLUSTER)[schema.MONETARY].median()
    assert np.all(np.diff(medians.to_numpy()) > 0)
    # DESIGN 6: a higher tier never has a lower median frequency either
    frequency = customers.groupby(schema.VALUE_CLUSTER)[schema.FREQUENCY].median()
    assert np.all(np.diff(frequency.to_numpy()) >= 0)
    tiers = customers.groupby(schema.VALUE_CLUSTER)[schema.VALUE_TIER].first()
    assert tiers.tolist() == ["Low", "Mid", "High"]
    assert [c["value_tier"] for c in report["value_clusters"]] == ["Low", "Mid", "High"]
    sizes = customers[schema.VALUE_CLUSTER].value_counts().sort_index()
    assert [c["customers"] for c in report["value_clusters"]] == sizes.tolist()


def test_the_csv_has_the_output_columns_and_money_to_the_cent(cli_out):
    text = pd.read_csv(
        cli_out / "online_retail_I.csv", dtype=str, keep_default_na=False
    ).set_index(schema.CUSTOMER_ID)
    lifetime = [
        "p_alive",
        "expected_orders_90d",
        "expected_spend_per_order",
        "clv_365d",
    ]
    assert [schema.CUSTOMER_ID, *text.columns] == [*schema.OUTPUT_COLUMNS, *lifetime]
    for column in schema.MONEY_COLUMNS:
        assert text[column].str.fullmatch(r"\d+\.\d{2}").all(), column
    # 16446: gross 1.65 + 1.25 + 80,995 x 2.08 = 168,472.50, returned 80,995 x
    # 2.08 = 168,469.60, net 2.90 over 2 orders = 1.45 an order
    row = text.loc["16446"]
    assert (row[schema.GROSS_MONETARY], row[schema.RETURNED_VALUE]) == (
        "168472.50",
        "168469.60",
    )
    assert (row[schema.MONETARY], row[schema.AVG_ORDER_VALUE]) == ("2.90", "1.45")
    assert not text.apply(lambda c: c.str.contains(r"\de[+-]\d")).any().any()
    assert set(text[schema.CUSTOMER_STATUS]) == {"Active", "Cooling", "Lapsed"}


def test_report_personas_are_the_tier_status_groups(cli_runs):
    customers, report = cli_runs["csv"]
    groups = customers.groupby([schema.VALUE_CLUSTER, schema.CUSTOMER_STATUS]).size()
    got = {
        (p["value_cluster"], p["status"]): p["customers"] for p in report["personas"]
    }
    assert got == groups.to_dict()
    total = customers[schema.MONETARY].sum()
    for row in report["personas"]:
        mine = customers[
            (customers[schema.VALUE_CLUSTER] == row["value_cluster"])
            & (customers[schema.CUSTOMER_STATUS] == row["status"])
        ]
        assert row["value_tier"] == ("Low", "Mid", "High")[row["value_cluster"]]
        assert set(mine[schema.PERSONA]) == {row["persona"]}
        assert row["description"] and row["action"]
        assert row["median_frequency"] == mine[schema.FREQUENCY].median()
        assert row["median_r_score"] == mine[schema.R_SCORE].median()
        assert row["revenue_share"] == pytest.approx(
            mine[schema.MONETARY].sum() / total
        )
    assert "persona" not in report["grid"][0]  # the grid is value x style only


def test_style_shares_on_online_retail(cli_runs):
    customers, _ = cli_runs["csv"]
    share = customers[schema.PURCHASE_STYLE].value_counts(normalize=True)
    assert abs(share[schema.ANOMALY] - 0.02) <= 0.01
    assert 0.03 <= share[schema.BULK] <= 0.30
    flagged = customers[schema.PURCHASE_STYLE] != schema.REGULAR
    assert (customers.loc[flagged, schema.STYLE_REASON].str.len() > 0).all()
    assert (customers.loc[~flagged, schema.STYLE_REASON] == "").all()


def test_segment_and_grid_label_columns_follow_the_labels(cli_runs):
    customers, _ = cli_runs["csv"]
    expected = customers[schema.VALUE_TIER] + " · " + customers[schema.PURCHASE_STYLE]
    assert (customers[schema.SEGMENT] == expected).all()
    top_bulk = customers[
        (customers[schema.VALUE_TIER] == "High")
        & (customers[schema.PURCHASE_STYLE] == schema.BULK)
    ]
    assert (top_bulk[schema.GRID_LABEL] == "Key accounts").all()


def test_report_is_enough_to_reproduce_the_run(cli_runs):
    _, report = cli_runs["xlsx"]
    assert report["input"]["file"] == "online_retail_I.xlsx"
    assert len(report["input"]["sha256"]) == 64
    assert report["settings"] == {"k": 3, "seed": 0, "anomaly_share": 0.02}
    assert report["as_of"] == "2011-12-10"
    assert report["mapping"]["customer_id"] == "CustomerID"
    assert [row["k"] for row in report["diagnostics"]["table"]] == list(range(2, 11))
    assert 2 <= report["diagnostics"]["recommended_k"] <= 10
    assert report["diagnostics"]["rule"]
    for row in report["diagnostics"]["table"]:  # stability measured for every k
        assert 0.0 <= row["stability"] <= 1.0, row
    assert 0.0 <= report["stability"] <= 1.0
    assert set(report["versions"]) >= {"python", "pandas", "scikit-learn"}
