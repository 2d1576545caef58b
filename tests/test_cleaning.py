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
    ("C1006", "B",   D,     -1.0,  3.0,  "P1"),            # 6 return, |-1*3| = 3
    ("1007",  "B",   D,     -2.0,  1.5,  "P2"),            # 7 return (no C): 3
    ("C1008", "B",   D,     -1.0, 10.0,  "D"),             # 8 return (a discount)
    ("1009",  "B",   D,      1.0,  0.0,  "P1"),            # 9 non_positive_price
    ("A1010", "B",   D,      1.0, -5.0,  "B"),             # 10 non_positive (bad debt)
    ("1011",  "B",   D,      0.0,  2.0,  "P1"),            # 11 non_positive (qty 0)
    ("1012",  "B",   D,      1.0,  5.0,  "post"),          # 12 non_product (any case)
    ("1013",  "B",   D,      1.0,  5.0,  "gift_0001_20"),  # 13 non_product (prefix)
    ("1014",  "B",   D,      1.0,  5.0,  "DCGS0003"),      # 14 kept, total 5
    ("1009",  "B",   D,      1.0,  0.0,  "P1"),            # 15 copy of 9: non_positive
    ("Subtotal", NA, pd.NaT, NAN, 61.0,  ""),              # 16 summary_row (first test)
]
# fmt: on
# The C-prefix lines (rows 2, 6, 8) are all negative, so the prefix is proven; it
# adds no line here: every one of them is negative already.
EXPECTED_COUNTS = {  # in bucket order
    "summary_row": 1,  # row 16 (it also lacks id, date and quantity: first wins)
    "missing_customer_id": 2,  # rows 2, 3
    "unparseable_date": 1,  # row 4
    "non_numeric_quantity_or_price": 1,  # row 5
    "return": 3,  # rows 6, 7, 8
    "cancelled_order": 0,  # no status column
    "non_positive_price": 4,  # rows 9, 10, 11, 15
    "non_product_code": 2,  # rows 12, 13
    "exact_duplicate": 1,  # row 1 (row 15 left earlier, at non_positive_price)
    "kept": 2,  # rows 0, 14
}  # 1 + 2 + 1 + 1 + 3 + 0 + 4 + 2 + 1 + 2 = 17 lines
EXPECTED_FLAGS = {  # over the whole input, in FLAG_DESCRIPTIONS order
    "summary_row": 1,  # 16
    "missing_customer_id": 3,  # 2, 3, 16
    "unparseable_date": 2,  # 4, 16
    "non_numeric_quantity_or_price": 2,  # 5, 16
    "return": 4,  # 2, 6, 7, 8 (negative quantities; the C lines 2, 6, 8 among them)
    "return_prefix_invoice": 3,  # C1002, C1006, C1008
    "negative_quantity": 4,  # 2, 6, 7, 8
    "negative_amount": 0,  # no amount column
    "status_returned": 0,  # no status column
    "status_cancelled": 0,
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
    assert list(report.counts) == [str(r) for r in LineReason] == list(EXPECTED_COUNTS)
    assert report.rows_in == 17 == sum(report.counts.values())
    assert (report.kept, report.dropped) == (2, 15)


def test_the_receipt_names_the_rules_it_used(cleaned):
    rules = cleaned[2].rules
    # no status column: returns are negative lines, and the 3 C-prefix lines
    # (rows 2, 6, 8) are all negative, so the prefix is trusted
    assert len(rules) == 2
    assert rules[0].startswith("returns: a negative quantity;")
    assert "refunded" not in rules[0]  # no status column to read
    assert "C and a digit (3 lines) are all negative" in rules[0]
    # an invoice column: duplicates are removed
    assert rules[1].startswith("duplicates: a line repeating an earlier one")


def test_flags_count_every_condition_over_the_whole_input(cleaned):
    assert cleaned[2].flagged == EXPECTED_FLAGS
    assert list(cleaned[2].flagged) == list(FLAG_DESCRIPTIONS)


def test_kept_lines_carry_line_total_and_keep_their_row_numbers(cleaned):
    kept, _, _ = cleaned
    assert kept.index.tolist() == [0, 14]
    assert kept[schema.LINE_TOTAL].tolist() == [6.0, 5.0]  # 2*3, 1*5
    assert list(kept.columns) == [*lines_table().columns, schema.LINE_TOTAL]


def test_returns_are_positive_and_leave_out_non_products(cleaned):
    _, returns, _ = cleaned
    # rows 6 and 7; row 8 (a returned discount, code D) is not a returned product
    assert returns.index.tolist() == [6, 7]
    assert returns[schema.LINE_TOTAL].tolist() == [3.0, 3.0]  # |-1*3|, |-2*1.5|
    # both are negative lines, not purchases returned at once (no status)
    assert returns[schema.RETURNED_PURCHASE].tolist() == [False, False]
    assert list(returns.columns) == [
        *lines_table().columns,
        schema.LINE_TOTAL,
        schema.RETURNED_PURCHASE,
    ]


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
        "summary_row": [16],
        "missing_customer_id": [2, 3],
        "unparseable_date": [4],
        "non_numeric_quantity_or_price": [5],
        "return": [6, 7, 8],
        "non_positive_price": [9, 10, 11],  # at most 3 (row 15 left out)
        "non_product_code": [12, 13],
        "exact_duplicate": [1],
    }
    assert list(by_reason) == [r for r in EXPECTED_COUNTS if r in by_reason]
    assert examples[0] == {
        "reason": "summary_row",
        "row": 16,
        "invoice_id": "Subtotal",
        "stock_code": "",
        "quantity": None,  # NaN shown as null
        "unit_price": 61.0,
        "customer_id": None,
    }
    assert examples[1] == {
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
    assert data["kept"] == 2 and data["dropped"] == 15
    assert data["rules"] == report.rules and len(data["rules"]) == 2
    assert CleaningReport.from_dict(data) == report
    assert pickle.loads(pickle.dumps(report)) == report


def test_receipt_table_in_bucket_order(cleaned):
    frame = cleaned[2].to_frame()
    assert list(frame.columns) == ["reason", "lines", "share_pct", "description"]
    assert frame["reason"].tolist() == [str(r) for r in LineReason]
    assert frame["lines"].tolist() == list(EXPECTED_COUNTS.values())
    assert frame["share_pct"].iloc[-1] == pytest.approx(100 * 2 / 17)  # 11.76 %
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
            schema.INVOICE_ID: ["1", "2", "3", "C4", "5"],
            schema.CUSTOMER_ID: ["A", "A", "A", "A", "A"],
            schema.INVOICE_DATE: pd.to_datetime(["2024-01-01"] * 5),
            schema.QUANTITY: [2.0, 1.0, 1.0, -1.0, 1.0],
            schema.AMOUNT: [9.5, 0.0, NAN, -4.0, -3.0],
        }
    )
    kept, returns, report = clean_transactions(lines)
    assert kept[schema.LINE_TOTAL].tolist() == [9.5]  # the amount, not 2 * 9.5
    assert report.counts["non_positive_price"] == 1  # amount 0
    assert report.counts["non_numeric_quantity_or_price"] == 1  # amount NaN
    # C4 (quantity -1, amount -4) and 5 (a positive quantity, amount -3): a
    # negative line total is a return too
    assert report.counts["return"] == 2
    assert (report.flagged["negative_quantity"], report.flagged["negative_amount"]) == (
        1,  # C4
        2,  # C4 (-4), 5 (-3)
    )
    # no stock codes: every return counts, as a positive value
    assert returns[schema.LINE_TOTAL].tolist() == [4.0, 3.0]
    assert returns.index.tolist() == [3, 4]
    assert report.counts["non_product_code"] == 0
    assert report.examples[0]["amount"] is None  # NaN shown as null
    assert "a negative quantity or a negative line total" in report.rules[0]


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
        ([schema.UNIT_PRICE], "unit_price or amount missing"),
        ([schema.QUANTITY, schema.UNIT_PRICE], "unit_price or amount missing"),
    ],
)
def test_missing_columns_are_named(dropped, fragment):
    with pytest.raises(ColumnMappingError, match=fragment) as caught:
        clean_transactions(lines_table().drop(columns=dropped))
    assert "columns present: invoice_id" in str(caught.value)
    assert caught.value.missing


def test_quantity_is_optional_and_a_line_is_then_one_unit():
    assert schema.REQUIRED_COLUMNS == (schema.CUSTOMER_ID, schema.INVOICE_DATE)
    lines = lines_table().drop(columns=schema.QUANTITY)
    kept, returns, report = clean_transactions(lines)
    # Without quantities no line is negative: rows 5 (its quantity was NaN), 7
    # and 11 (quantity 0) become purchases of one unit. The C-prefix lines (2, 6,
    # 8) are positive now, so the prefix is not proven: C1006 is a purchase too.
    assert report.counts == {
        "summary_row": 1,  # 16
        "missing_customer_id": 2,  # 2, 3
        "unparseable_date": 1,  # 4
        "non_numeric_quantity_or_price": 0,
        "return": 0,
        "cancelled_order": 0,
        "non_positive_price": 3,  # 9 and 15 (price 0), 10 (price -5)
        "non_product_code": 3,  # 8 (D), 12 (post), 13 (gift_)
        "exact_duplicate": 1,  # 1, a copy of 0
        "kept": 6,  # 0, 5, 6, 7, 11, 14
    }  # 1 + 2 + 1 + 3 + 3 + 1 + 6 = 17
    assert kept.index.tolist() == [0, 5, 6, 7, 11, 14]
    # one unit at the unit price: 3, 3, 3, 1.5, 2, 5
    assert kept[schema.LINE_TOTAL].tolist() == [3.0, 3.0, 3.0, 1.5, 2.0, 5.0]
    assert schema.QUANTITY not in kept.columns
    assert returns.empty
    assert (
        "(3 lines) are not a return mark here (3 of their lines are positive)"
        in (report.rules[0])
    )


# fmt: off
STATUS_ROWS = [  # invoice, qty, price, code, status -> bucket
    ("1", 1.0, 5.0, "P1",   "Cancelled"),           # 0 cancelled_order
    ("2", -1.0, 5.0, "P1",  "Cancelled"),           # 1 return: tested first
    ("3", 1.0, 5.0, "P1",   "Refunded"),            # 2 return, bought and returned
    ("4", 1.0, 0.0, "P1",   "voided"),              # 3 cancelled_order (before price)
    ("5", 1.0, 5.0, "POST", "Returned"),            # 4 return, not a product
    ("6", 2.0, 5.0, "P2",   "Partially refunded"),  # 5 kept: "partially" marks nothing
    ("7", 1.0, 5.0, "P3",   "Complete"),            # 6 kept
]
# fmt: on


def test_a_status_column_makes_returns_and_cancelled_orders():
    invoice, qty, price, code, status = zip(*STATUS_ROWS, strict=True)
    lines = pd.DataFrame(
        {
            schema.INVOICE_ID: list(invoice),
            schema.CUSTOMER_ID: ["A"] * len(invoice),
            schema.INVOICE_DATE: [D] * len(invoice),
            schema.QUANTITY: list(qty),
            schema.UNIT_PRICE: list(price),
            schema.STOCK_CODE: list(code),
            schema.STATUS: list(status),
        }
    )
    kept, returns, report = clean_transactions(lines)
    assert classify_lines(lines).tolist() == [
        "cancelled_order",
        "return",
        "return",
        "cancelled_order",
        "return",
        "kept",
        "kept",
    ]
    assert (report.counts["return"], report.counts["cancelled_order"]) == (3, 2)
    assert report.flagged["status_returned"] == 2  # rows 2 (Refunded), 4 (Returned)
    assert report.flagged["status_cancelled"] == 3  # rows 0, 1 (Cancelled), 3
    assert report.flagged["negative_quantity"] == 1  # row 1
    assert kept[schema.LINE_TOTAL].tolist() == [10.0, 5.0]  # 2 * 5, 1 * 5
    # the POST line (row 4) is left out of the returned products
    assert returns.index.tolist() == [1, 2]
    assert returns[schema.LINE_TOTAL].tolist() == [5.0, 5.0]  # |-1 * 5|, 1 * 5
    # row 1 is a negative line; row 2 a positive line whose status says refunded
    assert returns[schema.RETURNED_PURCHASE].tolist() == [False, True]
    assert "a status saying refunded or returned" in report.rules[0]
    assert any(rule.startswith("cancelled orders:") for rule in report.rules)


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
    kept, returns, report = clean_transactions(lines)
    assert sum(report.counts.values()) == len(rows)
    assert len(kept) == report.kept
    assert len(returns) <= report.counts["return"]
    assert (kept[schema.LINE_TOTAL] > 0).all()
    assert (returns[schema.LINE_TOTAL] >= 0).all()
    # no status column: every return is a line whose quantity was negative
    assert (returns[schema.QUANTITY] < 0).all()
    assert not kept.duplicated(subset=list(lines.columns)).any()


# --- the real export (Online Retail I) ----------------------------------------
README_NON_PRODUCT = ["POST", "DOT", "M", "m", "C2", "D", "S", "BANK CHARGES"]
README_NON_PRODUCT += ["AMAZONFEE", "CRUK", "PADS", "B"]


@pytest.fixture(scope="session")
def retail_lines(retail_loaded):
    return retail_loaded.lines


#: Online Retail I's buckets, worked out from README.md's published facts (the
#: plain-pandas count below checks each one on the CSV's text):
#: 541,909 lines - 135,080 without a customer id = 406,829 with one;
#: every C-invoice line is negative (9,288 lines, all quantities < 0), so the
#: prefix agrees and adds nothing: the returns are the 8,905 negative lines with
#: a customer (of the 10,624 negative lines, 1,719 have no customer id);
#: 40 price-0 lines with a customer (2,515 price 0 in all; the 3 bad-debt lines
#: have no customer id); 406,829 - 8,905 - 40 = 397,884 left;
#: the classic cleaning keeps 392,692 lines, 1,542 of them non-products, so
#: 392,692 - 1,542 = 391,150 are kept here; the 1,547 non-product lines are those
#: 1,542 plus 5 that repeat one of them; 397,884 - 1,547 - 391,150 = 5,187
#: exact duplicates among the products (the classic 5,192 minus those 5).
#: The counts did not change with the rename "cancellation" -> "return".
REAL_COUNTS = {
    "summary_row": 0,
    "missing_customer_id": 135_080,
    "unparseable_date": 0,
    "non_numeric_quantity_or_price": 0,
    "return": 8_905,
    "cancelled_order": 0,
    "non_positive_price": 40,
    "non_product_code": 1_547,
    "exact_duplicate": 5_187,
    "kept": 391_150,
}
#: The customers left: the classic cleaning's 4,338 minus 4 whose only kept lines
#: were non-products (counted in plain pandas in test_features.py).
REAL_CUSTOMERS = 4_334


def plain_pandas_buckets(text: pd.DataFrame) -> dict[str, int]:
    """Online Retail I's buckets in DESIGN section 4's order, from the CSV's text.

    Nothing of ``segmentation`` is involved: each bucket takes the lines still
    open that meet its condition, as the first rule that applies wins.
    """
    quantity = text["Quantity"].astype("int64")
    price = text["UnitPrice"].astype("float64")
    code = text["StockCode"]
    summary = pd.Series(False, index=text.index)
    for column in ("InvoiceNo", "CustomerID", "StockCode", "Description"):
        cell = text[column].str.strip().str.lower().str.rstrip(":")
        summary |= cell.isin({"total", "subtotal", "sub total", "grand total"})
    c_prefix = text["InvoiceNo"].str.match(r"^[Cc]\d")
    proven = bool((quantity[c_prefix] < 0).all())
    tests = {
        "summary_row": summary,
        "missing_customer_id": text["CustomerID"].str.strip() == "",
        "unparseable_date": pd.to_datetime(text["InvoiceDate"]).isna(),
        "non_numeric_quantity_or_price": pd.Series(False, index=text.index),
        "return": (quantity < 0) | (c_prefix & proven),
        "cancelled_order": pd.Series(False, index=text.index),  # no status column
        "non_positive_price": (price <= 0) | (quantity == 0),
        "non_product_code": code.isin(README_NON_PRODUCT)
        | code.str.startswith("gift_0001_"),
    }
    counts, open_ = {}, pd.Series(True, index=text.index)
    for name, applies in tests.items():
        counts[name] = int((open_ & applies).sum())
        open_ &= ~applies
    repeated = text[open_].duplicated()  # every column of the file
    counts["exact_duplicate"] = int(repeated.sum())
    counts["kept"] = int(open_.sum()) - counts["exact_duplicate"]
    return counts


@pytest.fixture(scope="session")
def retail_cleaned(retail_lines):
    """``(kept, returns, report)`` of Online Retail I."""
    return clean_transactions(retail_lines)


@pytest.mark.realdata
def test_real_receipt_matches_the_known_counts(retail_cleaned, retail_text):
    _, _, report = retail_cleaned
    assert report.rows_in == 541_909 == sum(report.counts.values())
    assert report.counts == REAL_COUNTS
    assert plain_pandas_buckets(retail_text) == REAL_COUNTS
    assert report.flagged["missing_customer_id"] == 135_080
    assert report.flagged["return_prefix_invoice"] == 9_288
    assert report.flagged["negative_quantity"] == 10_624
    # every negative line is a return: 10,624 (the C lines all among them)
    assert report.flagged["return"] == 10_624
    assert report.flagged["negative_amount"] == 0  # no amount column
    assert report.flagged["summary_row"] == 0
    assert report.flagged["status_returned"] == report.flagged["status_cancelled"] == 0
    assert report.flagged["zero_price"] == 2_515
    assert report.flagged["exact_duplicate"] == 5_268
    assert report.flagged["adjustment_invoice"] == 3  # the bad-debt lines
    # README: POST 1,256 + DOT 710 + M/m 572 + C2 144 + D 77 + S 63 + BANK CHARGES
    # 37 + AMAZONFEE 34 + CRUK 16 + PADS 4 + B 3 + gift vouchers 34 = 2,950
    assert report.flagged["non_product_code"] == 2_950
    assert "C and a digit (9,288 lines) are all negative" in report.rules[0]


@pytest.mark.realdata
def test_real_kept_lines_are_the_classic_cleaning_minus_non_products(
    retail_lines, retail_cleaned
):
    kept, returns, _ = retail_cleaned
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
    assert len(classic) - product.sum() == 1_542  # non-products the classic keeps
    assert kept.index.equals(classic.index[product.to_numpy()])
    assert set(kept[schema.CUSTOMER_ID]) == set(classic.loc[product, "customer_id"])
    assert kept[schema.CUSTOMER_ID].nunique() == REAL_CUSTOMERS
    expected_total = classic[schema.QUANTITY] * classic[schema.UNIT_PRICE]
    assert kept[schema.LINE_TOTAL].sum() == pytest.approx(expected_total[product].sum())
    # returns: C-invoice or negative-quantity product lines with a customer
    back = raw[
        raw[schema.CUSTOMER_ID].notna()
        & (raw[schema.INVOICE_ID].str.startswith("C") | (raw[schema.QUANTITY] < 0))
    ]
    back = back[~back[schema.STOCK_CODE].isin(README_NON_PRODUCT)]
    back = back[~back.duplicated()]  # a repeated return line is deducted once
    assert len(back) == 8_539 - 33
    assert returns.index.equals(back.index)
    value = (back[schema.QUANTITY] * back[schema.UNIT_PRICE]).abs()
    assert returns[schema.LINE_TOTAL].to_numpy() == pytest.approx(value.to_numpy())
    assert (returns[schema.LINE_TOTAL] >= 0).all()
    assert not returns[schema.RETURNED_PURCHASE].any()  # no status column
