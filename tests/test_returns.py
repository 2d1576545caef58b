"""Returns, cancelled orders, summary rows and duplicates (DESIGN sections 4-5).

Each table is small enough to check on paper; the expected numbers are written
next to the rows they come from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.cleaning import clean_transactions
from segmentation.features import customer_features
from segmentation.reports import customers_csv

D1 = pd.Timestamp("2024-03-01 10:00")
D2 = pd.Timestamp("2024-03-05 09:00")
D3 = pd.Timestamp("2024-03-09 12:00")
COLUMNS = [
    "invoice_id",
    "customer_id",
    "invoice_date",
    "quantity",
    "unit_price",
    "stock_code",
]


def _lines(rows, columns=COLUMNS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def _features(lines, **clean):
    kept, returns, report = clean_transactions(lines, **clean)
    return customer_features(kept, returns), report


# fmt: off
UCI_LIKE = [
    ("1001",  "A", D1,  10, 2.0, "P1"),   # A buys 20
    ("1001",  "A", D1,   5, 4.0, "P2"),   # A buys 20 -> gross 40
    ("C1002", "A", D2,  -2, 2.0, "P1"),   # A returns 4 -> net 36, rate 4/40 = 0.1
    ("1003",  "B", D3,   1, 9.0, "P1"),   # B buys 9
    ("C1004", "B", D3,  -3, 9.0, "P1"),   # B returns 27 > 9 -> net 0, rate 1
    ("C1005", "C", D2,  -1, 5.0, "P1"),   # C only returns: not a customer
]
# fmt: on


def test_returns_offset_purchases_and_are_not_below_zero():
    features, report = _features(_lines(UCI_LIKE))
    assert features.index.tolist() == ["A", "B"]
    a, b = features.loc["A"], features.loc["B"]
    assert (a.gross_monetary, a.returned_value, a.monetary) == (40.0, 4.0, 36.0)
    assert a.return_rate == pytest.approx(0.1)
    assert a.frequency == 1  # the return invoice is not an order
    assert a.avg_order_value == 36.0
    assert (b.gross_monetary, b.returned_value, b.monetary) == (9.0, 27.0, 0.0)
    assert b.return_rate == 1.0
    assert report.counts["return"] == 3
    assert report.counts["kept"] == 3


def test_a_c_prefix_is_trusted_only_where_every_such_line_is_negative():
    _, report = _features(_lines(UCI_LIKE))
    assert (
        "invoice numbers of C and a digit (3 lines) are all negative"
        in (report.rules[0])
    )
    hex_ids = _lines(
        [
            ("c4a8e2f0", "A", D1, 1, 10.0, "P1"),  # a marketplace order, positive
            ("c91b0d33", "A", D2, 2, 5.0, "P2"),
            ("0f3a9c1e", "B", D2, 1, 8.0, "P1"),
        ]
    )
    features, report = _features(hex_ids)
    assert report.counts["kept"] == 3 and report.counts["return"] == 0
    assert features.loc["A", "monetary"] == 20.0  # 10 + 2 * 5
    assert "not a return mark here (2 of their lines are positive)" in report.rules[0]


def test_a_country_prefix_is_an_order():
    office = _lines(
        [
            ("CA-2016-152156", "CG-12520", D1, 2, 130.98, "P1"),  # 261.96
            ("CA-2016-152156", "CG-12520", D1, 3, 243.98, "P2"),  # 731.94
            ("US-2017-108966", "DV-13045", D2, 5, 191.5155, "P3"),  # 957.5775
        ]
    )
    features, report = _features(office)
    assert report.counts["return"] == 0 and report.counts["kept"] == 3
    assert features.loc["CG-12520", "monetary"] == pytest.approx(993.90)
    assert features.loc["CG-12520", "frequency"] == 1
    assert features.loc["DV-13045", "monetary"] == pytest.approx(957.5775)
    assert "C and a digit" not in report.rules[0]  # no such invoice at all


STATUS_COLUMNS = [*COLUMNS, "status"]
# fmt: off
WITH_STATUS = [
    ("1", "A", D1,  2, 10.0, "P1", "Complete"),    # A buys 20
    ("2", "A", D2,  1, 50.0, "P2", "Cancelled"),   # cancelled order: nothing
    ("3", "A", D3,  1,  8.0, "P3", "Returned"),    # bought and returned at once: 8/8
    ("4", "B", D2,  1, 30.0, "P1", "canceled"),    # B: only a cancelled order
    ("5", "C", D3,  4,  5.0, "P1", "Partially refunded"),  # a purchase: 20
    ("6", "C", D3, -1,  5.0, "P1", "Refunded"),    # C returns 5
]
# fmt: on


def test_a_status_cancels_an_order_or_marks_a_return():
    features, report = _features(_lines(WITH_STATUS, STATUS_COLUMNS))
    assert features.index.tolist() == ["A", "C"]  # B never bought
    a, c = features.loc["A"], features.loc["C"]
    assert (a.gross_monetary, a.returned_value, a.monetary) == (28.0, 8.0, 20.0)
    assert a.frequency == 1  # invoice 1 only
    assert (c.gross_monetary, c.returned_value, c.monetary) == (20.0, 5.0, 15.0)
    assert report.counts["cancelled_order"] == 2
    assert report.counts["return"] == 2
    assert any(r.startswith("cancelled orders:") for r in report.rules)


def test_summary_rows_are_their_own_bucket_whatever_else_they_lack():
    lines = _lines(
        [
            ("1", "A", D1, 1, 10.0, "P1"),
            ("Subtotal", None, None, 1, 10.0, None),
            (None, "Total", D3, 1, 10.0, None),
            ("Grand total:", None, D3, None, 10.0, None),
        ]
    )
    features, report = _features(lines)
    assert report.counts["summary_row"] == 3
    assert features.index.tolist() == ["A"]
    assert report.counts["kept"] == 1


def test_duplicates_are_whole_raw_rows_and_only_on_invoices():
    lines = _lines(
        [
            ("1", "A", D1, 1, 10.0, "P1"),
            ("1", "A", D1, 1, 10.0, "P1"),  # same mapped values, another item no.
            ("1", "A", D1, 1, 10.0, "P1"),  # the whole raw row repeated
        ]
    )
    raw = np.array([11, 12, 12], dtype=np.uint64)  # hashes of the raw rows
    features, report = _features(lines, row_hash=raw)
    assert report.counts["exact_duplicate"] == 1
    assert features.loc["A", "monetary"] == 20.0
    assert report.rules[-1].startswith("duplicates: a line repeating")
    # Switched off: all three are purchases.
    features, report = _features(lines, row_hash=raw, drop_duplicates=False)
    assert report.counts["exact_duplicate"] == 0
    assert features.loc["A", "monetary"] == 30.0
    assert "removal switched off" in report.rules[-1]
    # Without an invoice column identical lines are separate purchases.
    no_invoice = lines.drop(columns="invoice_id")
    features, report = _features(no_invoice, row_hash=np.array([7, 7, 7]))
    assert report.counts["exact_duplicate"] == 0
    assert features.loc["A", "monetary"] == 30.0
    assert "without an invoice column" in report.rules[-1]


def test_without_quantity_a_line_is_its_amount_or_one_unit():
    amounts = pd.DataFrame(
        {
            "invoice_id": ["1", "1", "2"],
            "customer_id": ["A", "A", "A"],
            "invoice_date": [D1, D1, D2],
            "amount": [11.77, 12.0, -2.0],  # the last line is a return
        }
    )
    features, _report = _features(amounts)
    a = features.loc["A"]
    assert (a.gross_monetary, a.returned_value) == (pytest.approx(23.77), 2.0)
    assert a.monetary == pytest.approx(21.77)
    assert np.isnan(a.avg_line_quantity) and np.isnan(a.avg_items_per_order)
    assert np.isnan(a.max_line_quantity)
    prices = amounts.rename(columns={"amount": "unit_price"}).iloc[:2]
    features, _ = _features(prices)
    assert features.loc["A", "monetary"] == pytest.approx(23.77)  # one unit a line


def test_money_keeps_its_cents_and_no_number_is_scientific():
    features, _ = _features(
        _lines(
            [
                ("1", "A", D1, 1_000, 2500.32, "P1"),  # 2,500,320.00
                ("2", "B", D1, 1, 12345.678, "P1"),  # 12,345.68
                ("3", "C", D1, 3, 0.1, "P1"),  # 0.30
                ("4", "D", D1, 3, 1.0, "P1"),  # D buys 3.00
                ("C5", "D", D1, -1, 1.0, "P1"),  # and returns 1.00: net 2.00
            ]
        )
    )
    customers = features.reset_index().assign(
        value_cluster=0,
        value_tier="Low",
        status="Active",
        persona="p",
        purchase_style="Regular",
        style_reason="",
        segment="Low · Regular",
        grid_label="g",
    )
    text = customers_csv(customers)
    header, *lines = text.splitlines()
    assert header.split(",") == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "gross_monetary",
        "returned_value",
        "tenure_days",
        "avg_order_value",
        "avg_items_per_order",
        "avg_line_quantity",
        "max_line_quantity",
        "distinct_products",
        "return_rate",
        "largest_order_ratio",
        "order_value_cv",
        "r_score",
        "f_score",
        "m_score",
        "rfm_segment",
        "value_cluster",
        "value_tier",
        "status",
        "persona",
        "purchase_style",
        "style_reason",
        "segment",
        "grid_label",
    ]
    rows = {line.split(",")[0]: line for line in lines}
    # id, recency 1 (Mar 1 -> as_of Mar 2), 1 order, net, gross, returned, tenure
    # 1, avg order value (money: 2 decimals), then units 1000 per order and line
    # and at most, 1 product, return rate 0, largest/median 1, cv 0 (up to 6
    # decimals, trailing zeros dropped)
    assert rows["A"].startswith(
        "A,1,1,2500320.00,2500320.00,0.00,1,2500320.00,1000,1000,1000,1,0,1,0,"
    )
    assert ",12345.68,12345.68,0.00,1,12345.68,1,1,1,1,0,1,0," in rows["B"]
    assert ",0.30,0.30,0.00,1,0.30,3,3,3,1,0,1,0," in rows["C"]
    # D: net 3 - 1 = 2.00, returned 1.00, rate 1 / 3 to 6 decimals
    assert rows["D"].startswith("D,1,1,2.00,3.00,1.00,1,2.00,3,3,3,1,0.333333,1,0,")
    assert ",Active," in rows["D"]
    assert "e+" not in text and "e-" not in text


def test_a_negative_quantity_with_a_positive_amount_is_deducted():
    """Only a status says "bought and returned at once", never the sign alone."""
    lines = pd.DataFrame(
        {
            "invoice_id": ["1", "2"],
            "customer_id": ["A", "A"],
            "invoice_date": [D1, D2],
            "quantity": [2.0, -1.0],
            "amount": [20.0, 10.0],  # the return's total is written positive
        }
    )
    features, _report = _features(lines)
    a = features.loc["A"]
    assert (a.gross_monetary, a.returned_value, a.monetary) == (20.0, 10.0, 10.0)


def test_a_return_line_repeated_whole_is_deducted_once():
    lines = _lines(
        [
            ("1", "A", D1, 10, 2.0, "P1"),  # buys 20
            ("C2", "A", D2, -2, 2.0, "P1"),  # returns 4
            ("C2", "A", D2, -2, 2.0, "P1"),  # the same line again: counted once
        ]
    )
    features, report = _features(lines)
    assert features.loc["A", "returned_value"] == 4.0
    assert features.loc["A", "monetary"] == 16.0
    assert report.counts["return"] == 2  # both lines are in the receipt
    assert "1 repeated return lines deducted once" in report.rules[0]


def test_the_run_report_says_how_the_file_was_read(tmp_path):
    import segmentation
    from segmentation.reports import run_report

    path = tmp_path / "lines.csv"
    rows = ["InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice"] + [
        f"{i},{c},03/0{d}/2011,1,{p}"
        for i, (c, d, p) in enumerate(
            [("A", 1, 2.0), ("A", 2, 3.0), ("B", 3, 4.0), ("C", 4, 9.0)]
        )
    ]
    path.write_text("\n".join(rows) + "\n")
    prepared = segmentation.prepare(
        path, day_first=True, drop_duplicates=False, diagnostics=False
    )
    report = run_report(prepared, segmentation.segment(prepared, 2))
    assert report["input"]["read"] == {
        "day_first": True,
        "drop_duplicates": False,
        "columns": None,
    }
