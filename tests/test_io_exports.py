"""The reader on other shops' export layouts (tests/data/exports, see its README).

Each file is loaded with no overrides (except ``columns=`` for the headerless log
and ``day_first=True`` for ambiguous_dates.csv, which the data cannot settle):
the mapping, the number of lines, the notes announced, ids kept as the user sees
them, YYYYMMDD dates checked against the files' own lines, the whole-row hash
that tells exact duplicates, other customer-key columns, and the rows a workbook
reader skips. Then small hand-made files for each new rule, and a table of bad
inputs with the message each one gets.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from segmentation.errors import ColumnMappingError
from segmentation.io import LoadedTable, load_transactions, map_columns
from tests import exports_reference as reference

EXPORTS = Path(__file__).resolve().parent / "data" / "exports"
LOG_COLUMNS = ["customer_id", "invoice_date", "quantity", "amount"]

UCI_MAPPING = {
    "invoice_id": "InvoiceNo",
    "customer_id": "CustomerID",
    "invoice_date": "InvoiceDate",
    "quantity": "Quantity",
    "unit_price": "UnitPrice",
    "stock_code": "StockCode",
    "description": "Description",
    "country": "Country",
}
LOG_MAPPING = {
    "customer_id": "customer_id",
    "invoice_date": "invoice_date",
    "quantity": "quantity",
    "amount": "amount",
}

# file -> (load keywords, expected mapping, lines read: README "Expected counts")
FILES = {
    "office_prefixed_ids.csv": (
        {},
        {
            "invoice_id": "Order ID",
            "customer_id": "Customer ID",
            "invoice_date": "Order Date",
            "quantity": "Quantity",
            "amount": "Sales",
            "stock_code": "Product ID",
        },
        97,
    ),
    "hex_order_ids.csv": (
        {},
        {
            "invoice_id": "order_id",
            # The exact synonym wins; customer_unique_id is reported as a
            # candidate for the pipeline's one-order warning (see below).
            "customer_id": "customer_id",
            "invoice_date": "order_purchase_timestamp",
            "unit_price": "price",
            "stock_code": "product_id",
            "status": "order_status",
        },
        224,
    ),
    "yyyymmdd_log.txt": ({"columns": LOG_COLUMNS}, LOG_MAPPING, 150),
    "yyyymmdd_header.csv": ({}, {**LOG_MAPPING, "invoice_date": "date"}, 150),
    "status_column.csv": ({}, {**UCI_MAPPING, "status": "Status"}, 119),
    "german_headers.csv": (
        {},
        {
            "invoice_id": "Rechnungsnr",
            "customer_id": "Kundennummer",
            "invoice_date": "Rechnungsdatum",
            "quantity": "Menge",
            "unit_price": "Einzelpreis",
            "stock_code": "Artikelnr",
            "description": "Bezeichnung",
            "country": "Land",
        },
        220,
    ),
    "footer_rows.csv": ({}, UCI_MAPPING, 97),
    "footer_rows.xlsx": ({}, UCI_MAPPING, 113),
    "ambiguous_dates.csv": ({"day_first": True}, UCI_MAPPING, 135),
    "leading_zeros.xlsx": ({}, UCI_MAPPING, 129),
    "uci_returns.csv": ({}, UCI_MAPPING, 132),
    "dd_mm_yyyy_dashes.csv": ({}, UCI_MAPPING, 118),
}


@pytest.fixture(scope="module")
def tables() -> dict[str, LoadedTable]:
    return {
        name: load_transactions(EXPORTS / name, **kwargs)
        for name, (kwargs, _, _) in FILES.items()
    }


def _csv(text: str, name: str = "t.csv", **kwargs) -> LoadedTable:
    return load_transactions(text.encode("utf-8"), filename=name, **kwargs)


def _xlsx(rows: list[list], formats: dict[int, str] | None = None) -> bytes:
    """A one-sheet workbook; ``formats`` sets a column's number format (0-based)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for col, fmt in (formats or {}).items():
        for (cell,) in ws.iter_rows(min_row=2, min_col=col + 1, max_col=col + 1):
            cell.number_format = fmt
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- every export: mapping, lines, invariants ---------------------------------------


@pytest.mark.parametrize("name", list(FILES))
def test_export_mapping_and_line_count(tables, name):
    _, mapping, n_lines = FILES[name]
    table = tables[name]
    assert table.mapping == mapping
    assert len(table.lines) == n_lines
    assert table.row_hash is not None
    assert table.row_hash.shape == (n_lines,)
    assert table.row_hash.dtype == np.uint64
    assert table.has_invoice_column == ("invoice_id" in mapping)
    assert table.lines["invoice_id"].notna().all()
    assert not any("UTC" in note for note in table.notes), table.notes


@pytest.mark.parametrize("name", list(FILES))
def test_lines_match_the_independent_reference(tables, name):
    """Every value the reference reads (plain pandas/openpyxl) is what we read."""
    ref = reference.LOADERS[name]()
    lines = tables[name].lines
    assert len(lines) == len(ref)
    if name != "hex_order_ids.csv":  # the reference reads customer_unique_id
        assert lines["customer_id"].fillna("").tolist() == ref["customer_id"].tolist()
    assert (
        lines["invoice_date"].fillna(pd.Timestamp(0))
        == ref["invoice_date"].fillna(pd.Timestamp(0))
    ).all()
    for column in ("quantity", "unit_price", "amount"):
        assert (column in lines) == (column in ref), column
        if column in ref:
            np.testing.assert_allclose(lines[column], ref[column], err_msg=column)
    if "invoice_id" in ref:
        given = ref["invoice_id"] != ""
        assert (lines.loc[given, "invoice_id"] == ref.loc[given, "invoice_id"]).all()
    if "stock_code" in ref:
        assert lines["stock_code"].fillna("").tolist() == ref["stock_code"].tolist()
    if "status" in ref:
        assert lines["status"].str.lower().tolist() == ref["status"].tolist()


def test_no_quantity_is_announced_and_not_invented(tables):
    table = tables["hex_order_ids.csv"]
    assert "quantity" not in table.lines
    assert (
        "no quantity column: every line counts as one unit (quantity-based "
        "behaviour features are left empty)"
    ) in table.notes


def test_amount_without_quantity_is_announced():
    table = _csv(
        "Order ID,Order Date,Customer ID,Sales\n"
        "A-1,2024-03-01,c1,10.50\n"
        "A-2,2024-03-02,c2,4.00\n"
    )
    assert table.mapping["amount"] == "Sales"
    assert "quantity" not in table.lines
    assert (
        "no quantity column: line totals come from Sales; quantity-based "
        "behaviour features are left empty"
    ) in table.notes
    np.testing.assert_array_equal(table.lines["amount"], [10.5, 4.0])


def test_status_is_stripped_text(tables):
    status = tables["status_column.csv"].lines["status"]
    assert set(status) == {"Complete", "Cancelled", "Refunded", "Returned"}
    hex_status = tables["hex_order_ids.csv"].lines["status"]
    assert set(hex_status) == {"delivered", "canceled"}
    table = _csv(
        "customer_id,date,price,Fulfillment Status\nc,2024-01-01,1, shipped \n"
    )
    assert table.mapping["status"] == "Fulfillment Status"
    assert table.lines["status"].tolist() == ["shipped"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Order ID", "Order Date", "Customer ID", "Sales", "Quantity", "Status"],
            {"invoice_id": "Order ID", "invoice_date": "Order Date",
             "customer_id": "Customer ID", "amount": "Sales",
             "quantity": "Quantity", "status": "Status"},
        ),
        (
            ["order_id", "order_purchase_timestamp", "customer_id", "price",
             "order_status"],
            {"invoice_id": "order_id", "invoice_date": "order_purchase_timestamp",
             "customer_id": "customer_id", "unit_price": "price",
             "status": "order_status"},
        ),
        (
            ["Date", "Customer ID", "Amount", "financial_status"],
            {"invoice_date": "Date", "customer_id": "Customer ID",
             "amount": "Amount", "status": "financial_status"},
        ),
        (
            ["Customer ID", "Date", "Amount", "Order Status"],
            {"invoice_date": "Date", "customer_id": "Customer ID",
             "amount": "Amount", "status": "Order Status"},
        ),
    ],
)  # fmt: skip
def test_common_headers_map_without_overrides(headers, expected):
    assert map_columns(headers) == expected


# --- dates ---------------------------------------------------------------------------


# Lines of the files, read by eye: (file line, customer, date, quantity, amount).
LOG_LINES = [
    (1, "00001", "2010-12-14", 2.0, 15.90),  # 00001 20101214 2 15.90
    (12, "00001", "2011-01-21", -1.0, -39.95),  # 00001 20110121 -1 -39.95
    (75, "00007", "2011-09-26", 96.0, 177.60),  # 00007 20110926 96 177.60
    (128, "00012", "2011-04-14", -58.0, -49.30),  # 00012 20110414 -58 -49.30
    (150, "00014", "2011-06-01", 4.0, 31.80),  # 00014 20110601 4 31.80
]


@pytest.mark.parametrize("name", ["yyyymmdd_log.txt", "yyyymmdd_header.csv"])
def test_yyyymmdd_dates_and_zero_padded_ids(tables, name):
    lines = tables[name].lines
    for line, customer, date, quantity, amount in LOG_LINES:
        row = lines.iloc[line - 1]
        assert row["customer_id"] == customer
        assert row["invoice_date"] == pd.Timestamp(date)
        assert row["quantity"] == quantity
        assert row["amount"] == pytest.approx(amount)
    assert sorted(lines["customer_id"].unique()) == [f"{i:05d}" for i in range(1, 15)]
    header = FILES[name][1]["invoice_date"]
    assert (
        f"{header}: 8-digit numbers read as YYYYMMDD dates (20101214 = 2010-12-14)"
        in tables[name].notes
    )
    assert "no invoice column: orders are keyed by customer|time" in tables[name].notes


def test_log_and_header_csv_give_the_same_lines(tables):
    pd.testing.assert_frame_equal(
        tables["yyyymmdd_log.txt"].lines, tables["yyyymmdd_header.csv"].lines
    )
    assert tables["yyyymmdd_log.txt"].notes[:2] == [
        "columns are separated by spaces",
        "no header row: columns read as customer_id, invoice_date, quantity, "
        "amount, as given",
    ]


@pytest.mark.parametrize(
    ("values", "expected", "note"),
    [
        # integers too, and empty cells stay empty
        (["19970101", "20101214", ""], ["1997-01-01", "2010-12-14", None], "YYYYMMDD"),
        # 20101332 is no date: the column is not YYYYMMDD (and no date at all)
        (["20101214", "20101332"], [None, None], None),
        # a serial among them: not every value is 8 digits, serials still read
        (["20101214", "45292"], [None, "2024-01-01"], "serial"),
        # 8 digits outside 1900..2100
        (["18991231", "21010101"], [None, None], None),
    ],
)
def test_yyyymmdd_only_when_every_value_is_one(values, expected, note):
    body = "".join(f"c{i},{v},1\n" for i, v in enumerate(values))
    table = _csv("customer_id,date,amount\n" + body)
    got = table.lines["invoice_date"].tolist()
    assert got == [pd.Timestamp(e) if e else pd.NaT for e in expected]
    if note:
        assert any(note in n for n in table.notes), table.notes


def test_yyyymmdd_integers_in_a_workbook():
    data = _xlsx(
        [["Customer", "Date", "Amount"], ["a", 19970101, 1.5], ["b", 20101214, 2]]
    )
    table = load_transactions(data, filename="ints.xlsx")
    assert table.lines["invoice_date"].tolist() == [
        pd.Timestamp("1997-01-01"),
        pd.Timestamp("2010-12-14"),
    ]


def test_dd_mm_yyyy_with_a_date_only_value_is_not_time_zone_aware():
    # Cause of the false "converted to UTC" note: the offset pattern [+-]hhmm at
    # the end of a value matched the "-2010" of a date-only "02-12-2010".
    table = _csv(
        "customer_id,date,amount\n"
        "a,02-12-2010 15:00,1\n"
        "b,13-12-2010,1\n"
        "c,14-12-2010 09:30,1\n"
    )
    assert table.lines["invoice_date"].tolist() == [
        pd.Timestamp("2010-12-02 15:00"),
        pd.Timestamp("2010-12-13"),
        pd.Timestamp("2010-12-14 09:30"),
    ]
    assert not any("UTC" in n for n in table.notes), table.notes


def test_dd_mm_yyyy_dashes_is_day_first_from_the_data(tables):
    table = tables["dd_mm_yyyy_dashes.csv"]
    assert (
        "InvoiceDate: read as day/month (DD/MM/YYYY, day-first): the data shows a "
        "day above 12 in '13-12-2010 09:57'"
    ) in table.notes
    first = table.lines.iloc[0]  # 536777 ... 02-12-2010 15:00
    assert first["invoice_date"] == pd.Timestamp("2010-12-02 15:00")


def test_order_decided_from_the_data_is_said_with_its_reason(tables):
    assert (
        "Order Date: read as month/day (MM/DD/YYYY, month-first): the data shows a "
        "day above 12 in '12/21/2010'"
    ) in tables["office_prefixed_ids.csv"].notes


AMBIGUOUS_NOTE = (
    "InvoiceDate: every day and month is 12 or less, so the order cannot be told "
    "from the data; read as month/day (MM/DD/YYYY). Pass --day-first (the app: "
    "'Dates are day-first') if that is wrong"
)


def test_ambiguous_dates_say_so_and_day_first_reads_them(tables):
    guessed = load_transactions(EXPORTS / "ambiguous_dates.csv")
    assert AMBIGUOUS_NOTE in guessed.notes
    asked = tables["ambiguous_dates.csv"]
    assert "InvoiceDate: read dates as day/month (DD/MM/YYYY), as asked" in asked.notes
    assert AMBIGUOUS_NOTE not in asked.notes
    # 537461 ... 07/12/2010 10:06 is 7 December 2010 (README), not 12 July.
    lines = asked.lines
    when = lines.loc[lines["invoice_id"] == "537461", "invoice_date"].iloc[0]
    assert when == pd.Timestamp("2010-12-07 10:06")
    assert lines["invoice_date"].max().normalize() == pd.Timestamp("2011-12-02")
    assert guessed.lines["invoice_date"].min() == pd.Timestamp("2010-01-12 15:45")


def test_forced_order_leaves_values_of_the_other_order_unread():
    table = _csv(
        "customer_id,date,amount\na,03/04/2011,1\nb,03/25/2011,1\n", day_first=True
    )
    assert table.lines["invoice_date"].tolist() == [pd.Timestamp("2011-04-03"), pd.NaT]
    assert "date: read dates as day/month (DD/MM/YYYY), as asked" in table.notes
    assert (
        "date: 1 value such as '03/25/2011' fits only the other order and is left "
        "unread (not a date)"
    ) in table.notes
    month_first = _csv("customer_id,date,amount\na,03/04/2011,1\n", day_first=False)
    assert month_first.lines["invoice_date"].iloc[0] == pd.Timestamp("2011-03-04")
    assert "date: read dates as month/day (MM/DD/YYYY), as asked" in month_first.notes


# --- headerless and space-separated files -------------------------------------------


def test_headerless_log_is_refused_in_words():
    with pytest.raises(ColumnMappingError) as info:
        load_transactions(EXPORTS / "yyyymmdd_log.txt")
    err = info.value
    assert str(err) == (
        "yyyymmdd_log.txt has no header row: its first line '00001 20101214 2 15.90' "
        "is data (4 columns). Add a header line, or pass --columns "
        "customer_id,invoice_date,quantity,amount (one canonical name per column, "
        "in order)"
    )
    assert err.headers == []  # data values are not headers
    assert err.first_line == "00001 20101214 2 15.90"


def test_columns_can_skip_a_column_and_be_one_string(tables):
    table = load_transactions(
        EXPORTS / "yyyymmdd_log.txt", columns="customer_id,invoice_date,-,amount"
    )
    assert table.mapping == {
        "customer_id": "customer_id",
        "invoice_date": "invoice_date",
        "amount": "amount",
    }
    assert table.headers == ["customer_id", "invoice_date", "column_3", "amount"]
    assert "quantity" not in table.lines
    assert (
        "no header row: columns read as customer_id, invoice_date, -, amount, as given"
        in table.notes
    )
    # A skipped column is still part of the whole row (header names are not).
    np.testing.assert_array_equal(table.row_hash, tables["yyyymmdd_log.txt"].row_hash)


def test_space_separated_file_with_a_header():
    table = _csv(
        "customer_id  date      quantity  amount\n"
        "00001        19970101  1         11.77\n"
        "00002        19970112  2         24.50\n",
        name="log.txt",
    )
    assert table.lines["customer_id"].tolist() == ["00001", "00002"]
    assert table.lines["invoice_date"].tolist() == [
        pd.Timestamp("1997-01-01"),
        pd.Timestamp("1997-01-12"),
    ]
    assert "columns are separated by spaces" in table.notes


def test_headerless_comma_file_with_columns():
    text = "00001,19970101,1,11.77\n00002,19970112,2,24.50\n"
    table = _csv(text, columns=LOG_COLUMNS)
    assert len(table.lines) == 2
    assert table.lines["customer_id"].tolist() == ["00001", "00002"]


def test_headerless_workbook_with_and_without_columns():
    data = _xlsx([["00001", 19970101, 1, 11.77], ["00002", 19970112, 2, 24.5]])
    with pytest.raises(ColumnMappingError, match="has no header row") as info:
        load_transactions(data, filename="log.xlsx")
    assert info.value.headers == []
    table = load_transactions(data, filename="log.xlsx", columns=LOG_COLUMNS)
    assert table.lines["customer_id"].tolist() == ["00001", "00002"]
    assert table.lines["invoice_date"].iloc[1] == pd.Timestamp("1997-01-12")
    assert len(table.row_hash) == 2


# --- whole-row identity ---------------------------------------------------------------


def test_row_hash_tells_whole_row_repeats_from_position_pairs(tables):
    table = tables["german_headers.csv"]
    raw = pd.read_csv(EXPORTS / "german_headers.csv", sep=";", dtype=str)
    hashes = pd.Series(table.row_hash)
    # The 2 rows repeated whole at the end (README) hash like their originals:
    # 570007 position 3 (file line 152) and 569513 position 5.
    assert hashes[218] == hashes[150]
    assert raw.iloc[218].tolist() == raw.iloc[150].tolist()
    assert hashes.duplicated().sum() == 2
    assert (hashes.duplicated(keep=False) == raw.duplicated(keep=False)).all()
    # 13 pairs identical in every mapped column differ in Positionsnr: not equal.
    same_mapped = table.lines.duplicated(keep=False) & ~raw.duplicated(keep=False)
    assert same_mapped.sum() == 26
    assert not hashes[same_mapped].duplicated().any()


def test_row_hash_of_marketplace_units(tables):
    # Units of one product in one order differ only by order_item_id.
    table = tables["hex_order_ids.csv"]
    assert table.lines.duplicated().sum() > 0
    assert not pd.Series(table.row_hash).duplicated().any()


def test_row_hash_is_the_same_for_the_same_row_in_two_sheets():
    wb = openpyxl.Workbook()
    one = wb.active
    one.title = "one"
    two = wb.create_sheet("two")
    header = ["Customer", "Date", "Price", "Note"]
    one.append(header)
    one.append(["a", "2024-01-01", 1, "x"])
    two.append(header)
    two.append(["a", "2024-01-01", 1.0, "x"])
    two.append(["a", "2024-01-01", 1.5, "x"])
    buf = io.BytesIO()
    wb.save(buf)
    table = load_transactions(buf.getvalue(), filename="two.xlsx")
    assert table.sheets_read == ["one", "two"]
    assert table.row_hash[0] == table.row_hash[1] != table.row_hash[2]


# --- other customer keys ------------------------------------------------------------


def test_customer_key_candidates(tables):
    hex_table = tables["hex_order_ids.csv"]
    # customer_unique_id: 13 customers; order_item_id names an item, not a buyer.
    assert hex_table.customer_key_candidates == {"customer_unique_id": 13}
    assert hex_table.lines["customer_id"].nunique() == 30  # one per order
    assert tables["office_prefixed_ids.csv"].customer_key_candidates == {
        "Customer Name": 15
    }
    assert tables["german_headers.csv"].customer_key_candidates == {}
    assert tables["uci_returns.csv"].customer_key_candidates == {}


def test_customer_key_candidates_by_name():
    table = _csv(
        "Order ID,Date,Customer ID,Price,User Id,Email,Paid,Row ID\n"
        "1,2024-01-01,c1,1,u1,a@x,yes,1\n"
        "2,2024-01-02,c2,1,u1,a@x,no,2\n"
        "3,2024-01-03,c3,1,,A@x ,no,3\n"
    )
    assert table.customer_key_candidates == {"User Id": 1, "Email": 2}


# --- workbooks: padded ids, skipped rows ---------------------------------------------


def test_leading_zeros_from_the_number_format(tables):
    table = tables["leading_zeros.xlsx"]
    assert sorted(table.lines["customer_id"].unique()) == [
        "00067", "00189", "00288", "02730", "02839", "02899", "02906", "02967",
        "03055", "03081", "03093", "03122",
    ]  # fmt: skip
    assert (
        "CustomerID: zero-padded to 5 digits as the workbook's number format shows them"
    ) in table.notes
    # The other id columns carry no such format and are left alone.
    assert table.lines["invoice_id"].str.fullmatch(r"5\d{5}").all()


def test_zero_padding_needs_an_all_zero_format():
    rows = [["Customer", "Date", "Price"], [42, "2024-01-01", 1], [7, "2024-01-02", 1]]
    padded = load_transactions(_xlsx(rows, {0: "000000"}), filename="p.xlsx")
    assert padded.lines["customer_id"].tolist() == ["000042", "000007"]
    for fmt in ("0", "0.00", "General", '"C"0000'):
        plain = load_transactions(_xlsx(rows, {0: fmt}), filename="p.xlsx")
        assert plain.lines["customer_id"].tolist() == ["42", "7"], fmt
        assert not any("zero-padded" in n for n in plain.notes)


def test_workbook_blank_and_formula_rows_are_counted(tables):
    table = tables["footer_rows.xlsx"]
    assert table.skipped_rows == {"blank_row": 1, "formula_without_value": 3}
    assert "1 blank row skipped (not invoice lines)" in table.notes
    assert (
        "3 rows hold formulas without a saved result (the workbook was written by a "
        "program that does not calculate them): those cells are read as empty; "
        "open and save the file in Excel or LibreOffice to keep their values"
    ) in table.notes
    # The footers are lines (cleaning calls them summary rows); their formula
    # cells are empty.
    footer = table.lines.iloc[-3:]
    assert footer["quantity"].isna().all()
    assert footer["unit_price"].isna().all()
    assert tables["leading_zeros.xlsx"].skipped_rows == {}


def test_csv_blank_rows_are_counted():
    table = _csv(
        "customer_id,date,price,note\na,2024-01-01,1,\n,,,\n,,,only a note\n"
        "b,2024-01-02,2,\n"
    )
    assert len(table.lines) == 2
    assert table.skipped_rows == {"blank_row": 1, "no_value_in_used_columns": 1}
    assert "1 blank row skipped (not invoice lines)" in table.notes
    assert "1 rows with no value in any used column skipped" in table.notes


# --- bad input: (bytes, filename, load keywords, message) ---------------------------

BAD_INPUTS = [
    (
        b"1,2024-01-01,3,4.5\n2,2024-01-02,1,2\n",
        "nohead.csv",
        {},
        "nohead.csv has no header row: its first line '1,2024-01-01,3,4.5' is data "
        "(4 columns). Add a header line, or pass --columns",
    ),
    (
        b"1,2024-01-01,3,4.5\n",
        "c.csv",
        {"columns": ["customer_id", "date", "quantity", "amount"]},
        "c.csv: columns names an unknown column 'date'; choose among invoice_id,",
    ),
    (
        b"1,2024-01-01,3,4.5\n",
        "c.csv",
        {"columns": ["customer_id", "invoice_date", "amount"]},
        "c.csv: 3 column names given but the file has 4 columns; give one name per "
        "column, in order (- to skip one)",
    ),
    (
        b"1,2024-01-01,3,4.5\n",
        "c.csv",
        {"columns": ["customer_id", "invoice_date", "amount", "amount"]},
        "c.csv: columns names 'amount' twice; name each column once",
    ),
    (
        b"1,2024-01-01,3,4.5\n",
        "c.csv",
        {"columns": ["customer_id", "invoice_date", "quantity", "-"]},
        "c.csv: no column for unit_price (or amount); headers are: customer_id, "
        "invoice_date, quantity, column_4",
    ),
    (
        b"customer_id,invoice_date,quantity,amount\n1,2024-01-01,3,4.5\n",
        "h.csv",
        {"columns": LOG_COLUMNS},
        "h.csv: column names were given (--columns) but the first line "
        "'customer_id,invoice_date,quantity,amount' is a header; leave out --columns",
    ),
    (
        b"Customer,Date,Quantity\na,2024-01-01,1\n",
        "noprice.csv",
        {},
        "noprice.csv: no column for unit_price (or amount); headers are: Customer, "
        "Date, Quantity",
    ),
    (
        b"Order ID,Date,Sales\n1,2024-01-01,3\n",
        "nocust.csv",
        {},
        "nocust.csv: no column for customer_id; headers are: Order ID, Date, Sales",
    ),
]


@pytest.mark.parametrize(("data", "name", "kwargs", "message"), BAD_INPUTS)
def test_bad_input_messages(data, name, kwargs, message):
    with pytest.raises(ColumnMappingError) as info:
        load_transactions(data, filename=name, **kwargs)
    assert str(info.value).startswith(message), str(info.value)
