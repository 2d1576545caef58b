"""Cleaning: every line in exactly one bucket, with a receipt that adds up."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation import schema
from segmentation.cleaning import (
    FLAG_DESCRIPTIONS,
    NON_PRODUCT_CODES,
    REASON_DESCRIPTIONS,
    CleaningReport,
    LineReason,
    classify_lines,
    clean_transactions,
)
from segmentation.errors import ColumnMappingError

NA = pd.NA
NAN = np.nan
D = pd.Timestamp("2024-01-01 10:00")

# fmt: off
# row: invoice,  customer, date,  qty,  price, code             -> expected bucket
ROWS = [
    ("1001",  "A",   D,      2.0,  3.0,  "P1"),            # 0 kept, total 2*3 = 6
    ("1001",  "A",   D,      2.0,  3.0,  "P1"),            # 1 exact_duplicate of 0
    ("C1002", NA,    D,     -1.0,  3.0,  "P1"),            # 2 missing id (wins over C)
    ("1003",  "  ",  D,      1.0,  3.0,  "P1"),            # 3 missing id (blank)
    ("1004",  "B",   pd.NaT, 1.0,  3.0,  "P1"),            # 4 unparseable_date
    ("1005",  "B",   D,      NAN,  3.0,  "P1"),            # 5 non_numeric
    ("C1006", "B",   D,     -1.0,  3.0,  "P1"),            # 6 cancellation, |-1*3|=3
    ("1007",  "B",   D,     -2.0,  1.5,  "P2"),            # 7 cancellation: 3
    ("C1008", "B",   D,     -1.0, 10.0,  "D"),             # 8 cancellation (discount)
    ("1009",  "B",   D,      1.0,  0.0,  "P1"),            # 9 non_positive_price
    ("A1010", "B",   D,      1.0, -5.0,  "B"),             # 10 non_positive (bad debt)
    ("1011",  "B",   D,      0.0,  2.0,  "P1"),            # 11 non_positive (qty 0)
    ("1012",  "B",   D,      1.0,  5.0,  "post"),          # 12 non_product (any case)
    ("1013",  "B",   D,      1.0,  5.0,  "gift_0001_20"),  # 13 non_product (prefix)
    ("1014",  "B",   D,      1.0,  5.0,  "DCGS0003"),      # 14 kept, total 5
    ("1009",  "B",   D,      1.0,  0.0,  "P1"),            # 15 copy of 9: non_positive
]
# fmt: on
EXPECTED_COUNTS = {
    "missing_customer_id": 2,  # rows 2, 3
    "unparseable_date": 1,  # row 4
    "non_numeric_quantity_or_price": 1,  # row 5
    "cancellation": 3,  # rows 6, 7, 8
    "non_positive_price": 4,  # rows 9, 10, 11, 15
    "non_product_code": 2,  # rows 12, 13
    "exact_duplicate": 1,  # row 1 (row 15 left earlier, at non_positive_price)
    "kept": 2,  # rows 0, 14
}
EXPECTED_FLAGS = {
    "missing_customer_id": 2,  # 2, 3
    "unparseable_date": 1,  # 4
    "non_numeric_quantity_or_price": 1,  # 5
    "cancellation": 4,  # 2, 6, 7, 8
    "cancellation_invoice": 3,  # C1002, C1006, C1008
    "negative_quantity": 4,  # 2, 6, 7, 8
    "zero_quantity": 1,  # 11
    "zero_price": 2,  # 9, 15
    "negative_price": 1,  # 10
    "adjustment_invoice": 1,  # A1010
    "non_product_code": 4,  # D, B, post, gift_
    "exact_duplicate": 2,  # 1 (copy of 0), 15 (copy of 9)
}


def lines_table(rows=ROWS) -> pd.DataFrame:
    columns = list(zip(*rows, strict=True)) if rows else [()] * 6
    invoice, customer, date, qty, price, code = columns
    return pd.DataFrame(
        {
            schema.INVOICE_ID: pd.array(invoice, dtype="str"),
            schema.CUSTOMER_ID: pd.array(customer, dtype="str"),
            schema.INVOICE_DATE: pd.to_datetime(pd.Series(date, dtype=object)),
            schema.QUANTITY: np.array(qty, dtype=float),
            schema.UNIT_PRICE: np.array(price, dtype=float),
            schema.STOCK_CODE: pd.array(code, dtype="str"),
        }
    )


@pytest.fixture
def cleaned():
    return clean_transactions(lines_table())


def test_every_line_lands_in_the_bucket_worked_out_by_hand(cleaned):
    _, _, report = cleaned
    assert report.counts == EXPECTED_COUNTS
    assert list(report.counts) == [str(r) for r in LineReason]
    assert report.rows_in == 16 == sum(report.counts.values())
    assert (report.kept, report.dropped) == (2, 14)


def test_flags_count_every_condition_over_the_whole_input(cleaned):
    assert cleaned[2].flagged == EXPECTED_FLAGS
    assert list(cleaned[2].flagged) == list(FLAG_DESCRIPTIONS)


def test_kept_lines_carry_line_total_and_keep_their_row_numbers(cleaned):
    kept, _, _ = cleaned
    assert kept.index.tolist() == [0, 14]
    assert kept[schema.LINE_TOTAL].tolist() == [6.0, 5.0]  # 2*3, 1*5
    assert list(kept.columns) == [*lines_table().columns, schema.LINE_TOTAL]


def test_cancellations_are_positive_and_leave_out_non_products(cleaned):
    _, cancellations, _ = cleaned
    # rows 6 and 7; row 8 (a cancelled discount, code D) is not a returned product
    assert cancellations.index.tolist() == [6, 7]
    assert cancellations[schema.LINE_TOTAL].tolist() == [3.0, 3.0]  # |-1*3|, |-2*1.5|


def test_classify_lines_names_each_line_bucket():
    reasons = classify_lines(lines_table())
    assert reasons.tolist()[:6] == [
        "kept",
        "exact_duplicate",
        "missing_customer_id",
        "missing_customer_id",
        "unparseable_date",
        "non_numeric_quantity_or_price",
    ]
    assert reasons.value_counts().to_dict() == EXPECTED_COUNTS


def test_input_is_not_modified():
    lines = lines_table()
    before = lines.copy()
    clean_transactions(lines)
    pd.testing.assert_frame_equal(lines, before)


def test_examples_show_the_first_lines_of_each_dropped_reason(cleaned):
    examples = cleaned[2].examples
    by_reason = {}
    for example in examples:
        by_reason.setdefault(example["reason"], []).append(example["row"])
    assert by_reason == {
        "missing_customer_id": [2, 3],
        "unparseable_date": [4],
        "non_numeric_quantity_or_price": [5],
        "cancellation": [6, 7, 8],
        "non_positive_price": [9, 10, 11],  # at most 3 (row 15 left out)
        "non_product_code": [12, 13],
        "exact_duplicate": [1],
    }
    assert examples[0] == {
        "reason": "missing_customer_id",
        "row": 2,
        "invoice_id": "C1002",
        "stock_code": "P1",
        "quantity": -1.0,
        "unit_price": 3.0,
        "customer_id": None,
    }


def test_report_round_trips_through_json_and_pickle(cleaned):
    report = cleaned[2]
    data = json.loads(json.dumps(report.to_dict()))
    assert data["kept"] == 2 and data["dropped"] == 14
    assert CleaningReport.from_dict(data) == report
    assert pickle.loads(pickle.dumps(report)) == report


def test_receipt_table_in_bucket_order(cleaned):
    frame = cleaned[2].to_frame()
    assert list(frame.columns) == ["reason", "lines", "share_pct", "description"]
    assert frame["reason"].tolist() == [str(r) for r in LineReason]
    assert frame["lines"].tolist() == list(EXPECTED_COUNTS.values())
    assert frame["share_pct"].iloc[-1] == pytest.approx(12.5)  # 2 kept of 16
    assert frame["share_pct"].sum() == pytest.approx(100.0)
    assert frame["description"].tolist() == [REASON_DESCRIPTIONS[r] for r in LineReason]


def test_report_refuses_counts_that_do_not_add_up():
    counts = dict.fromkeys(map(str, LineReason), 0)
    with pytest.raises(ValueError, match="sum to 0, not rows_in=3"):
        CleaningReport(rows_in=3, counts=counts)
    with pytest.raises(ValueError, match="every LineReason"):
        CleaningReport(rows_in=0, counts={"kept": 0})


def test_file_with_amount_and_no_price_uses_amount_as_line_total():
    lines = pd.DataFrame(
        {
            schema.INVOICE_ID: ["1", "2", "3", "C4"],
            schema.CUSTOMER_ID: ["A", "A", "A", "A"],
            schema.INVOICE_DATE: pd.to_datetime(["2024-01-01"] * 4),
            schema.QUANTITY: [2.0, 1.0, 1.0, -1.0],
            schema.AMOUNT: [9.5, 0.0, NAN, -4.0],
        }
    )
    kept, cancellations, report = clean_transactions(lines)
    assert kept[schema.LINE_TOTAL].tolist() == [9.5]  # the amount, not 2 * 9.5
    assert report.counts["non_positive_price"] == 1  # amount 0
    assert report.counts["non_numeric_quantity_or_price"] == 1  # amount NaN
    # no stock codes: every cancellation counts, as a positive value
    assert cancellations[schema.LINE_TOTAL].tolist() == [4.0]
    assert report.counts["non_product_code"] == 0
    assert report.examples[0]["amount"] is None  # NaN shown as null


def test_dates_given_as_text_are_read_and_bad_ones_dropped():
    lines = (
        lines_table()
        .iloc[[0, 14]]
        .assign(**{schema.INVOICE_DATE: ["2024-01-05 10:00", "n/a"]})
    )
    kept, _, report = clean_transactions(lines)
    assert report.counts["unparseable_date"] == 1
    assert kept[schema.INVOICE_DATE].tolist() == [pd.Timestamp("2024-01-05 10:00")]


def test_empty_input_gives_an_empty_receipt():
    kept, cancellations, report = clean_transactions(lines_table().iloc[:0])
    assert kept.empty and cancellations.empty
    assert report.rows_in == 0 and set(report.counts.values()) == {0}
    assert report.to_frame()["share_pct"].tolist() == [0.0] * len(LineReason)


@pytest.mark.parametrize(
    ("dropped", "fragment"),
    [
        ([schema.CUSTOMER_ID], "customer_id missing"),
        ([schema.INVOICE_DATE], "invoice_date missing"),
        ([schema.QUANTITY], "quantity missing"),
        ([schema.UNIT_PRICE], "unit_price or amount missing"),
    ],
)
def test_missing_columns_are_named(dropped, fragment):
    with pytest.raises(ColumnMappingError, match=fragment) as caught:
        clean_transactions(lines_table().drop(columns=dropped))
    assert "columns present: invoice_id" in str(caught.value)
    assert caught.value.missing


def test_non_product_codes_are_the_documented_list():
    assert {"POST", "DOT", "M", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE"} <= (
        NON_PRODUCT_CODES
    )
    assert {"CRUK", "PADS", "B"} <= NON_PRODUCT_CODES
    assert not any(code.startswith("DCGS") for code in NON_PRODUCT_CODES)


line_rows = st.tuples(
    st.sampled_from(["1", "2", "C3", "A4"]),
    st.sampled_from(["A", "B", "", None]),
    st.sampled_from([D, pd.NaT]),
    st.sampled_from([-1.0, 0.0, 1.0, 2.0, NAN]),
    st.sampled_from([-1.0, 0.0, 2.5, NAN]),
    st.sampled_from(["P1", "P2", "POST", "m"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(line_rows, max_size=25))
def test_any_table_splits_into_buckets_that_add_up(rows):
    lines = lines_table(rows)
    kept, cancellations, report = clean_transactions(lines)
    assert sum(report.counts.values()) == len(rows)
    assert len(kept) == report.kept
    assert len(cancellations) <= report.counts["cancellation"]
    assert (kept[schema.LINE_TOTAL] > 0).all()
    assert (cancellations[schema.LINE_TOTAL] >= 0).all()
    assert not kept.duplicated(subset=list(lines.columns)).any()


# --- the real export (Online Retail I) ----------------------------------------
README_NON_PRODUCT = ["POST", "DOT", "M", "m", "C2", "D", "S", "BANK CHARGES"]
README_NON_PRODUCT += ["AMAZONFEE", "CRUK", "PADS", "B"]


@pytest.fixture(scope="session")
def retail_lines(retail_loaded):
    return retail_loaded.lines


@pytest.fixture(scope="session")
def retail_cleaned(retail_lines):
    """``(kept, cancellations, report)`` of Online Retail I."""
    return clean_transactions(retail_lines)


@pytest.mark.realdata
def test_real_receipt_matches_the_known_counts(retail_cleaned):
    _, _, report = retail_cleaned
    assert report.rows_in == 541_909 == sum(report.counts.values())
    assert report.counts["missing_customer_id"] == 135_080
    assert report.flagged["missing_customer_id"] == 135_080
    assert report.flagged["cancellation_invoice"] == 9_288
    assert report.flagged["negative_quantity"] == 10_624
    assert report.flagged["zero_price"] == 2_515
    assert report.flagged["exact_duplicate"] == 5_268
    assert report.flagged["adjustment_invoice"] == 3  # the bad-debt lines
    # README: POST 1,256 + DOT 710 + M/m 572 + C2 144 + D 77 + S 63 + BANK CHARGES
    # 37 + AMAZONFEE 34 + CRUK 16 + PADS 4 + B 3 + gift vouchers 34 = 2,950
    assert report.flagged["non_product_code"] == 2_950


@pytest.mark.realdata
def test_real_kept_lines_are_the_classic_cleaning_minus_non_products(
    retail_lines, retail_cleaned
):
    kept, cancellations, _ = retail_cleaned
    # the classic cleaning, in plain pandas
    raw = retail_lines
    classic = raw[
        raw[schema.CUSTOMER_ID].notna()
        & ~raw[schema.INVOICE_ID].str.startswith("C")
        & (raw[schema.QUANTITY] > 0)
        & (raw[schema.UNIT_PRICE] > 0)
    ].drop_duplicates()
    assert len(classic) == 392_692
    assert classic[schema.CUSTOMER_ID].nunique() == 4_338
    code = classic[schema.STOCK_CODE]
    product = ~(code.isin(README_NON_PRODUCT) | code.str.startswith("gift_0001_"))
    assert kept.index.equals(classic.index[product.to_numpy()])
    assert set(kept[schema.CUSTOMER_ID]) == set(classic.loc[product, "customer_id"])
    expected_total = classic[schema.QUANTITY] * classic[schema.UNIT_PRICE]
    assert kept[schema.LINE_TOTAL].sum() == pytest.approx(expected_total[product].sum())
    # cancellations: C-invoice or negative-quantity product lines with a customer
    canc = raw[
        raw[schema.CUSTOMER_ID].notna()
        & (raw[schema.INVOICE_ID].str.startswith("C") | (raw[schema.QUANTITY] < 0))
    ]
    canc = canc[~canc[schema.STOCK_CODE].isin(README_NON_PRODUCT)]
    assert cancellations.index.equals(canc.index)
    assert (cancellations[schema.LINE_TOTAL] >= 0).all()
