"""The selected-customers table, plurals, plain labels and the currency setting.

Callbacks are called as functions on the built-in sample (398 customers); the
expected customers and counts are worked out here from the raw lines with plain
pandas, not from the app.
"""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

import segmentation
from app import create_app, glossary, storage, theme
from app.callbacks import currency, selection, upload
from app.callbacks.common import current_segmentation
from app.components import controls, personas, selected
from app.components.money import money
from segmentation import schema
from tests.dash_text import text_of

ANOMALY_PCT = 2


@pytest.fixture(scope="module")
def sample():
    return segmentation.load_sample()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, sample):
    create_app(tmp_path_factory.mktemp("app"))  # configures the storage
    storage.configure(tmp_path_factory.mktemp("data"))
    return upload.ingest(sample, segmentation.SAMPLE_NAME)[0]


@pytest.fixture(scope="module")
def orders_by_hand(sample) -> pd.Series:
    """Orders per customer from the raw lines: distinct invoices not "C…"."""
    raw = pd.read_csv(io.BytesIO(sample))
    bought = raw["CustomerID"].notna() & ~raw["InvoiceNo"].astype(str).str.startswith(
        "C"
    )
    lines = raw[bought]
    return lines.groupby(lines["CustomerID"].astype(int))["InvoiceNo"].nunique()


# --- the table holds every selected customer --------------------------------------


def test_rows_of_a_box_are_every_customer_inside(dataset, orders_by_hand):
    # the scatter's box: 10 orders or more, any spend (log axes: 0.01 .. 1e9)
    chosen = {"region": {"box": {"x": [10, 10_000], "y": [0.01, 1e9]}}}
    summary, rows, count = selection.render_selection(dataset, 3, ANOMALY_PCT, chosen)
    expected = {str(c) for c in orders_by_hand[orders_by_hand >= 10].index}
    assert len(expected) > selected.PAGE_SIZE  # more than one page
    assert {row["id"] for row in rows} == expected  # all of them, not 25
    assert len(rows) == len(expected)
    assert count == f"25 of {len(expected):,} customers shown"
    assert f"{len(expected):,} of 398 customers" in text_of(summary)
    spent = [row["spent"] for row in rows]
    assert spent == sorted(spent, reverse=True)  # highest spend first
    assert all(orders_by_hand[int(row["id"])] == row["orders"] for row in rows)


def test_rows_of_thirty_chosen_customers(dataset, orders_by_hand):
    chosen_ids = [str(c) for c in sorted(orders_by_hand.index)[:30]]
    _, rows, count = selection.render_selection(
        dataset, 3, ANOMALY_PCT, {"customer_ids": chosen_ids}
    )
    assert sorted(row["id"] for row in rows) == chosen_ids
    assert count == "25 of 30 customers shown"
    assert set(rows[0]) == {"i", *selected.FIELDS.values()}
    # i: the customer's position among the customers, which the browser's
    # per-k tier and persona columns (k_table) are in
    customers = current_segmentation(dataset, 3, ANOMALY_PCT).customers
    ids_in_order = customers[schema.CUSTOMER_ID].astype(str).tolist()
    assert all(ids_in_order[row["i"]] == row["id"] for row in rows)


def test_k_table_codes_each_customers_tier_and_persona():
    customers = pd.DataFrame(
        {
            schema.CUSTOMER_ID: ["a", "b", "c", "d"],
            schema.VALUE_TIER: ["High", "Low", "High", None],
            schema.PERSONA: ["Champions", "Hibernating", "At risk", "Champions"],
        }
    )
    table = selected.k_table(customers)
    assert set(table) == {"tier", "persona"}
    assert table["tier"] == {"names": ["High", "Low", ""], "codes": [0, 1, 0, 2]}
    assert table["persona"] == {
        "names": ["Champions", "Hibernating", "At risk"],
        "codes": [0, 1, 2, 0],
    }


def test_tier_and_persona_columns_read_the_browsers_k():
    defs = {c["field"]: c for c in selected.column_defs()}
    for field in ("tier", "persona"):
        assert defs[field]["valueGetter"] == {
            "function": f"segmentationAtK(params, '{field}')"
        }
    assert "valueGetter" not in defs["spent"]


def test_no_selection_lists_everyone(dataset):
    _, rows, count = selection.render_selection(dataset, 3, ANOMALY_PCT, None)
    assert len(rows) == 398
    assert count == "25 of 398 customers shown"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((25, 1704, 1704), "25 of 1,704 customers shown"),
        ((12, 12, 12), "12 customers selected"),
        ((1, 1, 1), "1 customer selected"),
        ((0, 0, 0), "0 customers selected"),
        ((25, 1704, 1704, 50), "25 of 1,704 customers shown (rows 51–75)"),
        ((4, 4, 1704), "4 of 4 customers shown, filtered from 1,704"),
        ((1, 1, 30), "1 of 1 customer shown, filtered from 30"),
        (
            (25, 20_000, 25_000),
            "25 of 20,000 customers shown; the table holds the 20,000 highest "
            "spenders of 25,000 selected",
        ),
    ],
)
def test_count_line(args, expected):
    assert selected.count_line(*args) == expected


def test_columns_have_plain_names_help_and_money_format():
    defs = {c["field"]: c for c in selected.column_defs("£")}
    assert [c["headerName"] for c in selected.column_defs()] == [
        "Customer",
        "Value tier",
        "Status",
        "Persona",
        "Purchase style",
        "Days since last order",
        "Orders",
        "Total spent",
        "Why this style",
    ]
    assert all("_" not in c["headerName"] for c in defs.values())
    assert (
        defs["recency"]["headerTooltip"] == glossary.FEATURE_HELP[schema.RECENCY_DAYS]
    )
    assert "segmentationMoney(params.value, '£')" in str(defs["spent"])
    assert defs["spent"]["useValueFormatterForExport"] is False  # plain numbers
    assert defs["orders"]["filter"] == "agNumberColumnFilter"


# --- words and units ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "noun", "expected"),
    [
        (0, "order", "0 orders"),
        (1, "order", "1 order"),
        (2, "order", "2 orders"),
        (0, "day", "0 days"),
        (1, "day", "1 day"),
        (2, "day", "2 days"),
        (1.4, "order", "1 order"),  # a median of 1.4 orders reads as 1
        (1704, "customer", "1,704 customers"),
    ],
)
def test_plurals(value, noun, expected):
    assert theme.fmt_count(value, noun) == expected


def test_cards_say_one_order_not_one_orders(dataset):
    seg = storage.get_store().segmentation(dataset["id"], 3, ANOMALY_PCT / 100)
    text = " ".join(
        card["size"] + " " + card["medians"]
        for card in personas.persona_card_data(seg.customers, None)
    )
    low = seg.customers[seg.customers[schema.VALUE_CLUSTER] == 0]
    assert low[schema.FREQUENCY].median() == 1  # the low tier: one order
    assert "1 order," in text
    assert not re.search(r"\b1 (orders|days|customers)\b", text)
    assert "cluster" not in text


@pytest.mark.parametrize(
    ("column", "label"),
    [
        (schema.RECENCY_DAYS, "Days since last order"),
        (schema.MONETARY, "Total spent"),
        (schema.FREQUENCY, "Orders"),
        (schema.AVG_ORDER_VALUE, "Average order value"),
        ("first_seen", "First seen"),  # unknown: spaces and a capital
    ],
)
def test_display_names(column, label):
    assert glossary.display_name(column) == label


def test_summary_of_a_card_names_its_tier_not_a_cluster_number(dataset):
    seg = storage.get_store().segmentation(dataset["id"], 3, ANOMALY_PCT / 100)
    top = int(seg.customers[schema.VALUE_CLUSTER].max())
    summary, _, _ = selection.render_selection(
        dataset, 3, ANOMALY_PCT, {"cluster": top}
    )
    text = text_of(summary)
    assert "High value tier (persona card)" in text
    assert "cluster" not in text


# --- the currency setting ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mapping", "expected"),
    [
        (segmentation.SAMPLE_NAME, {}, "£"),  # UCI: prices in sterling
        ("shop.csv", {schema.UNIT_PRICE: "UnitPrice"}, None),
        ("shop.csv", {schema.UNIT_PRICE: "Price (EUR)"}, "€"),
        ("shop.csv", {schema.UNIT_PRICE: "Preis €"}, "€"),
        ("shop.csv", {schema.AMOUNT: "Total USD"}, "$"),
        ("shop.csv", {schema.LINE_TOTAL: "Line total (£)"}, "£"),
        ("shop.csv", {schema.UNIT_PRICE: "Price EUR", schema.AMOUNT: "USD"}, None),
        ("shop.csv", {schema.CUSTOMER_ID: "Customer USD"}, None),  # not money
        ("shop.csv", None, None),
    ],
)
def test_file_currency(name, mapping, expected):
    assert currency.file_currency(name, mapping) == expected


def test_currency_choice_resolves(dataset):
    symbol, options = currency.resolve_currency(controls.CURRENCY_FROM_FILE, dataset)
    assert symbol == "£"
    assert options[0]["label"] == "As in the file (£)"
    assert currency.resolve_currency("$", dataset)[0] == "$"
    assert currency.resolve_currency("€", dataset)[0] == "€"
    assert currency.resolve_currency(controls.CURRENCY_NONE, dataset)[0] == ""
    assert currency.resolve_currency(controls.CURRENCY_FROM_FILE, None) == (
        "",
        controls.currency_options(None),
    )


def test_currency_switch_changes_money_strings():
    assert theme.fmt_money(1234.5, currency="£") == "£1,234"
    assert theme.fmt_money(1234.5, currency="$") == "$1,234"
    assert theme.fmt_money(-5, currency="€") == "-€5"
    assert theme.fmt_money(1234.5, currency="") == "1,234"
    assert theme.money_axis_title(currency="€") == "Spend (€, log scale)"
    assert selection.table_columns("$") != selection.table_columns("£")
    assert "'$'" in str(selection.table_columns("$"))
    # the page's amounts carry no symbol in the HTML: CSS draws the chosen one
    assert money(1234.5).to_plotly_json()["props"] == {
        "children": "1,234",
        "className": "money",
    }
    negative = money(-5).children
    assert negative[0] == "-" and negative[1].children == "5"
    with pytest.raises(ValueError, match="currency 'X'"):
        selected.column_defs("X")
