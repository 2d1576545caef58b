"""Loader: column mapping, typing of hand-made tables, and the real exports."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from segmentation.errors import ColumnMappingError
from segmentation.io import (
    DEFAULT_LIMITS,
    FILE_FORMATS,
    Limits,
    LoadedTable,
    load_transactions,
    map_columns,
)

# --- map_columns ---

UCI_I = [
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
    "CustomerID", "Country",
]  # fmt: skip
UCI_II = [
    "Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
    "Customer ID", "Country",
]  # fmt: skip


def test_map_columns_uci_headers():
    assert map_columns(UCI_I) == {
        "invoice_id": "InvoiceNo",
        "customer_id": "CustomerID",
        "invoice_date": "InvoiceDate",
        "quantity": "Quantity",
        "unit_price": "UnitPrice",
        "stock_code": "StockCode",
        "description": "Description",
        "country": "Country",
    }
    mapping = map_columns(UCI_II)
    assert mapping["unit_price"] == "Price"
    assert mapping["customer_id"] == "Customer ID"


def test_map_columns_is_case_space_underscore_insensitive():
    headers = [" customer_id ", "ORDER DATE", "qty", "Line_Total"]
    assert map_columns(headers) == {
        "customer_id": " customer_id ",
        "invoice_date": "ORDER DATE",
        "quantity": "qty",
        "amount": "Line_Total",
    }


def test_map_columns_prefers_earlier_synonym():
    # "Customer ID" (synonym 0, customerid) beats "Customer Email" (synonym 6).
    headers = ["Customer Email", "Customer ID", "Date", "Qty", "Price"]
    assert map_columns(headers)["customer_id"] == "Customer ID"


def test_map_columns_overrides_win_and_free_their_header():
    headers = ["Kundennummer", "Datum", "Menge", "Preis", "Customer"]
    mapping = map_columns(
        headers,
        {
            "customer_id": "Kundennummer",
            "invoice_date": "Datum",
            "quantity": "Menge",
            "unit_price": "preis",  # normalised match
        },
    )
    assert mapping == {
        "customer_id": "Kundennummer",
        "invoice_date": "Datum",
        "quantity": "Menge",
        "unit_price": "Preis",
    }


MAPPING_ERRORS = [
    # (headers, overrides, message fragment, missing)
    (
        ["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice"],
        None,
        "f.csv: no column for customer_id; headers are: InvoiceNo, Quantity",
        ["customer_id"],
    ),
    (
        ["CustomerID", "InvoiceDate", "Quantity"],
        None,
        "no column for unit_price (or amount)",
        ["unit_price"],
    ),
    (
        ["Customer ID", "customer_id", "Date", "Qty", "Price"],
        None,
        "'Customer ID', 'customer_id' could all be customer_id",
        ["customer_id"],
    ),
    (
        UCI_I,
        {"customer_id": "Kundennummer"},
        "customer_id='Kundennummer': the file has no header 'Kundennummer'",
        ["customer_id"],
    ),
    (UCI_I, {"client": "CustomerID"}, "unknown column 'client'", []),
]


@pytest.mark.parametrize(
    ("headers", "overrides", "fragment", "missing"), MAPPING_ERRORS
)
def test_map_columns_errors(headers, overrides, fragment, missing):
    with pytest.raises(ColumnMappingError) as info:
        map_columns(headers, overrides, source_name="f.csv")
    assert fragment in str(info.value)
    assert info.value.headers == [str(h) for h in headers]
    assert info.value.missing == missing


# --- typing, on tiny tables checked by hand ---


def _csv(text: str, **kwargs) -> LoadedTable:
    return load_transactions(text.encode("utf-8"), filename="t.csv", **kwargs)


def test_csv_typing_by_hand():
    table = _csv(
        "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
        "C536379,D,-1,2010-12-01 09:41:00,27.50,,United Kingdom\n"
        "536380,22086,x,not a date,£1.25,17809,NA\n"
    )
    lines = table.lines
    assert list(lines.columns) == [
        "invoice_id", "customer_id", "invoice_date", "quantity", "unit_price",
        "stock_code", "country",
    ]  # fmt: skip
    assert isinstance(lines.index, pd.RangeIndex)
    assert lines["invoice_id"].tolist() == ["536365", "C536379", "536380"]
    assert lines["customer_id"].iloc[0] == "17850"  # "17850.0" loses ".0"
    assert pd.isna(lines["customer_id"].iloc[1])  # blank -> missing
    assert lines["customer_id"].iloc[2] == "17809"
    assert lines["stock_code"].tolist() == ["85123A", "D", "22086"]
    # "x" is not a number -> NaN (cleaning counts it); "£1.25" -> 1.25.
    np.testing.assert_array_equal(lines["quantity"], [6.0, -1.0, np.nan])
    np.testing.assert_array_equal(lines["unit_price"], [2.55, 27.5, 1.25])
    assert lines["invoice_date"].iloc[1] == pd.Timestamp("2010-12-01 09:41:00")
    assert pd.isna(lines["invoice_date"].iloc[2])  # never guessed
    assert lines["country"].iloc[2] == "NA"  # Namibia, not a missing value
    assert lines["quantity"].dtype == "float64"
    assert pd.api.types.is_datetime64_dtype(lines["invoice_date"])
    assert table.file_format == "csv"
    assert table.source_name == "t.csv"
    assert table.mapping["unit_price"] == "UnitPrice"


def test_sha256_is_of_the_bytes():
    import hashlib

    data = b"CustomerID,InvoiceDate,Quantity,Price\n1,2024-01-02,1,2\n"
    table = load_transactions(data, filename="h.csv")
    assert table.sha256 == hashlib.sha256(data).hexdigest()
    assert table.source_name == "h.csv"


def test_no_invoice_column_keys_orders_by_customer_and_time():
    table = _csv(
        "Customer,Date,Qty,Price\n"
        "a@x.org,2024-03-01 10:00:00,1,2\n"
        "a@x.org,2024-03-01 10:00:00,2,3\n"
        " B@y.org ,2024-03-02 11:30:00,1,1\n"
    )
    assert table.lines["invoice_id"].tolist() == [
        "a@x.org|2024-03-01T10:00:00",
        "a@x.org|2024-03-01T10:00:00",
        "B@y.org|2024-03-02T11:30:00",
    ]
    assert any("no invoice column" in n for n in table.notes)


@pytest.mark.parametrize(
    ("dates", "expected", "note"),
    [
        # 13/01 can only be day-first -> 01/02 is 1 February.
        (["13/01/2024", "01/02/2024"], ["2024-01-13", "2024-02-01"], "day-first"),
        # 01/13 can only be month-first -> 02/01 is 1 February.
        (["01/13/2024", "02/01/2024"], ["2024-01-13", "2024-02-01"], "month-first"),
        # Nothing above 12: ambiguous, month-first assumed and said.
        (["01/02/2024", "03/04/2024"], ["2024-01-02", "2024-03-04"], "cannot be told"),
        # Excel serials: 45292 = 2024-01-01 (days since 1899-12-30); .5 = noon.
        (["45292", "45293.5"], ["2024-01-01", "2024-01-02 12:00"], "serial"),
        # Time zones: converted to UTC, then naive.
        (
            ["2024-01-01T10:00:00+02:00", "2024-01-01T10:00:00Z"],
            ["2024-01-01 08:00", "2024-01-01 10:00"],
            "UTC",
        ),
        (["2024-01-01", "someday"], ["2024-01-01", None], None),
    ],
)
def test_date_reading(dates, expected, note):
    body = "".join(f"c{i},{d},1,1\n" for i, d in enumerate(dates))
    table = _csv("customer_id,invoice_date,quantity,unit_price\n" + body)
    got = table.lines["invoice_date"]
    assert got.tolist() == [pd.Timestamp(e) if e else pd.NaT for e in expected]
    if note:
        assert any(note in n for n in table.notes), table.notes


def test_excel_cell_types_by_hand():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["InvoiceNo", "StockCode", "Qty", "InvoiceDate", "Price", "Customer"])
    when = pd.Timestamp("2010-12-01 08:26").to_pydatetime()
    ws.append([536365, 85123, 6, when, 2.55, 17850.0])
    ws.append(["C536379", "85123A", "n/a", 40513.5, "3,5", "x@y.z"])
    buf = io.BytesIO()
    wb.save(buf)
    table = load_transactions(buf.getvalue(), filename="cells.xlsx")
    lines = table.lines
    assert lines["invoice_id"].tolist() == ["536365", "C536379"]
    assert lines["stock_code"].tolist() == ["85123", "85123A"]
    assert lines["customer_id"].tolist() == ["17850", "x@y.z"]
    np.testing.assert_array_equal(lines["quantity"], [6.0, np.nan])
    # 40513.5 = 2010-12-01 12:00 (40513 days after 1899-12-30, plus half a day)
    assert lines["invoice_date"].tolist() == [
        pd.Timestamp("2010-12-01 08:26"),
        pd.Timestamp("2010-12-01 12:00"),
    ]
    assert table.file_format == "xlsx"
    assert table.sheets_read == ["Sheet"]


def test_limits_defaults_are_documented_values():
    assert DEFAULT_LIMITS == Limits(200 * 2**20, 10_000_000, 200, 2 * 2**30)
    assert set(FILE_FORMATS) >= {"csv", "xlsx", "xls"}


# --- the real exports ---


# Read once per session (tests/conftest.py): retail_loaded, retail_xlsx_loaded,
# and retail_text, the file read by plain pandas.


def _check_online_retail_i(lines: pd.DataFrame) -> None:
    # Facts from ../shared/data/README.md.
    assert len(lines) == 541_909
    assert lines["invoice_id"].nunique() == 25_900
    assert lines["customer_id"].nunique() == 4_372
    assert lines["customer_id"].isna().sum() == 135_080
    assert lines["country"].nunique() == 38
    assert lines["invoice_id"].str.startswith("C").sum() == 9_288
    assert lines["invoice_id"].str.startswith("A").sum() == 3
    assert (lines["quantity"] < 0).sum() == 10_624
    assert (lines["unit_price"] == 0).sum() == 2_515
    assert lines["invoice_date"].isna().sum() == 0
    assert lines["invoice_date"].min() == pd.Timestamp("2010-12-01 08:26:00")
    stock = lines["stock_code"].value_counts()
    assert stock["POST"] == 1_256
    assert stock["DOT"] == 710
    for code in ("85123A", "71053", "22423"):
        assert code in stock.index
    assert {"536365", "C536379"} <= set(lines["invoice_id"])
    assert lines.loc[0, "customer_id"] == "17850"


@pytest.mark.realdata
def test_online_retail_i_csv(retail_loaded):
    table = retail_loaded
    _check_online_retail_i(table.lines)
    assert table.file_format == "csv"
    assert table.mapping["invoice_id"] == "InvoiceNo"
    assert table.headers == UCI_I


@pytest.mark.realdata
def test_online_retail_i_xlsx(retail_xlsx_loaded):
    table = retail_xlsx_loaded
    _check_online_retail_i(table.lines)
    assert table.file_format == "xlsx"
    assert table.sheets_read == ["Online Retail"]
    assert table.sheets_skipped == []


@pytest.mark.realdata
def test_online_retail_i_csv_and_xlsx_agree(retail_loaded, retail_xlsx_loaded):
    from_csv, from_xlsx = retail_loaded.lines, retail_xlsx_loaded.lines
    assert sorted(from_csv.columns) == sorted(from_xlsx.columns)
    pd.testing.assert_frame_equal(
        from_csv.sort_index(axis=1), from_xlsx.sort_index(axis=1), check_exact=False
    )


@pytest.mark.realdata
def test_online_retail_i_matches_plain_pandas(retail_text, retail_loaded):
    # Independent reading: every field as text, the ids compared after removing ".0".
    plain = retail_text
    lines = retail_loaded.lines
    assert (lines["invoice_id"] == plain["InvoiceNo"]).all()
    assert (lines["stock_code"] == plain["StockCode"]).all()
    ids = plain["CustomerID"].str.removesuffix(".0").replace("", np.nan)
    pd.testing.assert_series_equal(lines["customer_id"], ids, check_names=False)
    np.testing.assert_allclose(lines["unit_price"], plain["UnitPrice"].astype(float))


@pytest.mark.realdata
def test_online_retail_ii_sample_reads_both_sheets(retail_ii_sample):
    table = load_transactions(retail_ii_sample)
    assert table.sheets_read == ["Year 2009-2010", "Year 2010-2011"]
    assert len(table.lines) == 14_269 + 20_497
    assert table.mapping["unit_price"] == "Price"
    assert table.mapping["customer_id"] == "Customer ID"
    assert table.mapping["invoice_id"] == "Invoice"
    # Sheet order is kept: the first 14,269 lines are 2009-2010 ones.
    first = table.lines["invoice_date"].iloc[:14_269]
    assert first.max() < pd.Timestamp("2010-12-10")
    assert isinstance(table.lines.index, pd.RangeIndex)


@pytest.mark.realdata
def test_online_retail_ii_head(retail_ii_head):
    table = load_transactions(retail_ii_head.read_bytes(), filename="head.xlsx")
    assert len(table.lines) == 998
    assert table.source_name == "head.xlsx"
    assert table.lines["invoice_id"].iloc[0] == "489434"
