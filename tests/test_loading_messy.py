"""Messy exports, built here from real rows of Online Retail I, and bad files.

Each case turns the same 61 real lines (every 9,000th line of the CSV, so dates
cover the whole year) into a differently messy file; the loader must give back
those lines, or refuse the file with a message that names the file/column/limit.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from segmentation.errors import (
    ColumnMappingError,
    InputFileError,
    LimitExceededError,
    SegmentationError,
)
from segmentation.io import Limits, load_transactions

N_LINES = 61  # rows 0, 9000, ..., 540000 of 541,909


@pytest.fixture(scope="session")
def base(retail_text) -> pd.DataFrame:
    """61 real lines, every field as text, exactly as in the CSV."""
    rows = retail_text.iloc[::9000].reset_index(drop=True)
    assert len(rows) == N_LINES
    return rows


def _csv(df: pd.DataFrame, sep=",", encoding="utf-8", **kwargs) -> bytes:
    return df.to_csv(index=False, sep=sep, **kwargs).encode(encoding)


def _xlsx(sheets: dict[str, list[list]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _excel_rows(df: pd.DataFrame, dates="datetime") -> list[list]:
    """Header + rows with Excel-native cells: numbers, and datetimes or serials."""
    when = pd.to_datetime(df["InvoiceDate"])
    if dates == "serial":  # days since 1899-12-30 (Excel's 1900 date system)
        when = (when - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
    else:
        when = when.dt.to_pydatetime()
    out = [list(df.columns)]
    for i, row in df.iterrows():
        cells = list(row)
        cells[3] = float(row["Quantity"])
        cells[4] = when[i]
        cells[5] = float(row["UnitPrice"])
        cells[6] = float(row["CustomerID"]) if row["CustomerID"] else None
        out.append(cells)
    return out


def _money_comma(values: pd.Series) -> pd.Series:
    return values.astype(float).map(
        lambda v: f"{v:,.2f} €".replace(".", "#").replace(",", ".").replace("#", ",")
    )


# --- builders: base rows -> (bytes, filename) -------------------------------------


def semicolon_decimal_comma_cp1252(df):
    messy = df.assign(
        UnitPrice=_money_comma(df["UnitPrice"]),
        Description=df["Description"].str.replace("HEART", "CŒUR CAFÉ", regex=False),
    )
    return _csv(messy, sep=";", encoding="cp1252"), "export_de.csv"


def utf16_tabs(df):
    return _csv(df, sep="\t", encoding="utf-16"), "export.tsv"


def utf8_bom(df):
    return _csv(df, encoding="utf-8-sig"), "bom.csv"


def pipes(df):
    return _csv(df, sep="|"), "pipes.csv"


def day_first(df):
    when = pd.to_datetime(df["InvoiceDate"]).dt.strftime("%d/%m/%Y %H:%M")
    return _csv(df.assign(InvoiceDate=when)), "dayfirst.csv"


def quoted_newlines(df):
    desc = df["Description"] + ', "big"\nsecond line'
    return _csv(df.assign(Description=desc)), "quoted.csv"


def title_rows_csv(df):
    return b"Sales export, all shops\nGenerated 2011-12-10\n\n" + _csv(df), "t.csv"


def excel_serials(df):
    return _xlsx({"Data": _excel_rows(df, dates="serial")}), "serials.xlsx"


def title_rows_xlsx(df):
    rows = [["Sales export"], ["All shops"], [], *_excel_rows(df)]
    return _xlsx({"Export": rows}), "title.xlsx"


def cover_sheet_first(df):
    cover = [["About this file"], ["Exported by the shop"], ["Contact: ops"]]
    notes = [["Note", "Value"], ["currency", "GBP"]]
    rows = _excel_rows(df)
    sheets = {"Cover": cover, "Data": rows[:31], "More": [rows[0], *rows[31:]],
              "Notes": notes}  # fmt: skip
    return _xlsx(sheets), "cover.xlsx"


def amount_not_price(df):
    total = df["Quantity"].astype(float) * df["UnitPrice"].astype(float)
    return _csv(df.drop(columns="UnitPrice").assign(Total=total)), "amount.csv"


def no_invoice_column(df):
    return _csv(df.drop(columns="InvoiceNo")), "noinvoice.csv"


def email_customers(df):
    email = "c" + df["CustomerID"].str.removesuffix(".0") + "@shop.example"
    return _csv(df.assign(CustomerID=email.where(df["CustomerID"] != ""))), "e.csv"


GERMAN = {"CustomerID": "Kundennummer", "Quantity": "Menge",
          "InvoiceDate": "Datum", "UnitPrice": "Einzelpreis"}  # fmt: skip
GERMAN_MAPPING = {"customer_id": "Kundennummer", "quantity": "Menge",
                  "invoice_date": "Datum", "unit_price": "Einzelpreis"}  # fmt: skip


def renamed_headers(df):
    return _csv(df.rename(columns=GERMAN)), "renamed.csv"


def duplicate_headers(df):
    dup = df.assign(Extra=df["UnitPrice"])
    text = dup.to_csv(index=False).replace(",Extra\n", ",UnitPrice\n", 1)
    return text.encode(), "dup.csv"


def pdf_as_xlsx(df):
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "x.xlsx"


def png_as_xlsx(df):
    return b"\x89PNG\r\n\x1a\n" + bytes(64), "x.xlsx"


def zip_without_workbook(df):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    return buf.getvalue(), "x.xlsx"


def corrupt_zip(df):
    return _xlsx({"Data": _excel_rows(df)})[:400], "cut.xlsx"


def encrypted_workbook(df):
    # An OLE2 container holding an "EncryptedPackage" stream, as Excel writes
    # password-protected .xlsx files.
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    return header + "EncryptedPackage".encode("utf-16-le") + bytes(64), "secret.xlsx"


def html_as_xls(df):
    return b"<!DOCTYPE html><html><table><tr><td>1</td></tr></table>", "report.xls"


def empty_csv(df):
    return b"", "empty.csv"


def header_only_csv(df):
    return _csv(df.iloc[:0]), "header.csv"


def plain_csv(df):
    return _csv(df), "plain.csv"


def plain_xlsx(df):
    return _xlsx({"Data": _excel_rows(df)}), "plain.xlsx"


def wide_csv(df):
    wide = df.assign(**{f"extra{i}": "x" for i in range(20)})
    return _csv(wide), "wide.csv"


CASES = [
    # (builder, load kwargs, expected lines or (error class, message fragment))
    (semicolon_decimal_comma_cp1252, {}, N_LINES),
    (utf16_tabs, {}, N_LINES),
    (utf8_bom, {}, N_LINES),
    (pipes, {}, N_LINES),
    (day_first, {}, N_LINES),
    (quoted_newlines, {}, N_LINES),
    (title_rows_csv, {}, N_LINES),
    (excel_serials, {}, N_LINES),
    (title_rows_xlsx, {}, N_LINES),
    (cover_sheet_first, {}, N_LINES),
    (amount_not_price, {}, N_LINES),
    (no_invoice_column, {}, N_LINES),
    (email_customers, {}, N_LINES),
    (renamed_headers, {"mapping": GERMAN_MAPPING}, N_LINES),
    (
        renamed_headers,
        {},
        N_LINES,  # German headers map by synonyms now
    ),
    (
        renamed_headers,
        {"mapping": {**GERMAN_MAPPING, "customer_id": "Kunde"}},
        (ColumnMappingError, "the file has no header 'Kunde'"),
    ),
    (duplicate_headers, {}, N_LINES),
    (pdf_as_xlsx, {}, (InputFileError, "x.xlsx is a PDF document, not a spreadsheet")),
    (png_as_xlsx, {}, (InputFileError, "x.xlsx is a PNG image")),
    (zip_without_workbook, {}, (InputFileError, "x.xlsx is a ZIP archive without")),
    (corrupt_zip, {}, (InputFileError, "cut.xlsx is a corrupt ZIP/Excel file")),
    (encrypted_workbook, {}, (InputFileError, "secret.xlsx is password-protected")),
    (html_as_xls, {}, (InputFileError, "report.xls is an HTML page")),
    (empty_csv, {}, (InputFileError, "empty.csv is empty (0 bytes)")),
    (header_only_csv, {}, (InputFileError, "header.csv has a header but no data")),
    (
        plain_csv,
        {"limits": Limits(max_bytes=1000)},
        (LimitExceededError, "over the limit max_bytes=1,000"),
    ),
    (
        plain_csv,
        {"limits": Limits(max_rows=60)},
        (LimitExceededError, "plain.csv has 61 rows, over the limit max_rows=60"),
    ),
    (
        wide_csv,
        {"limits": Limits(max_columns=20)},
        (LimitExceededError, "wide.csv has 28 columns, over the limit max_columns=20"),
    ),
    (
        plain_xlsx,
        {"limits": Limits(max_rows=60)},
        (
            LimitExceededError,
            "plain.xlsx: worksheet sheet1.xml declares 61 rows, over the limit "
            "max_rows=60",
        ),
    ),
    (
        plain_xlsx,
        {"limits": Limits(max_columns=5)},
        (LimitExceededError, "declares 8 columns, over the limit max_columns=5"),
    ),
]


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("build", "kwargs", "expected"),
    [pytest.param(*case, id=f"{case[0].__name__}-{i}") for i, case in enumerate(CASES)],
)
def test_messy_file(base, build, kwargs, expected):
    data, name = build(base)
    if isinstance(expected, int):
        table = load_transactions(data, filename=name, **kwargs)
        assert len(table.lines) == expected
        assert table.lines["invoice_id"].notna().all()
        return
    error, fragment = expected
    with pytest.raises(error) as info:
        load_transactions(data, filename=name, **kwargs)
    assert fragment in str(info.value)


def _load(build, base, **kwargs):
    data, name = build(base)
    return load_transactions(data, filename=name, **kwargs)


def _reference(base) -> pd.DataFrame:
    """The 61 lines typed independently of the loader."""
    return pd.DataFrame(
        {
            "quantity": base["Quantity"].astype(float),
            "unit_price": base["UnitPrice"].astype(float),
            "invoice_date": pd.to_datetime(base["InvoiceDate"]),
            "customer_id": base["CustomerID"].str.removesuffix(".0").replace("", None),
        }
    )


@pytest.mark.realdata
@pytest.mark.parametrize(
    "build",
    [semicolon_decimal_comma_cp1252, utf16_tabs, utf8_bom, pipes, title_rows_csv,
     quoted_newlines, duplicate_headers, excel_serials, title_rows_xlsx,
     cover_sheet_first, plain_xlsx],
)  # fmt: skip
def test_messy_values_survive(base, build):
    lines = _load(build, base).lines
    ref = _reference(base)
    np.testing.assert_allclose(lines["quantity"], ref["quantity"])
    np.testing.assert_allclose(lines["unit_price"], ref["unit_price"])
    assert (lines["invoice_date"] == ref["invoice_date"]).all()
    assert (
        lines["customer_id"].fillna("-").tolist()
        == ref["customer_id"].fillna("-").tolist()
    )
    assert lines["invoice_id"].tolist() == base["InvoiceNo"].tolist()
    assert lines["stock_code"].tolist() == base["StockCode"].tolist()


@pytest.mark.realdata
def test_cp1252_and_decimal_comma_are_reported(base):
    table = _load(semicolon_decimal_comma_cp1252, base)
    assert any("not UTF-8" in n and "1252" in n for n in table.notes), table.notes
    assert "numbers use a decimal comma" in table.notes
    assert table.lines["description"].str.contains("CŒUR CAFÉ").any()


@pytest.mark.realdata
def test_header_names_are_clean(base):
    assert _load(utf8_bom, base).headers[0] == "InvoiceNo"  # no BOM left
    headers = _load(duplicate_headers, base).headers
    assert (headers[5], headers[-1]) == ("UnitPrice", "UnitPrice.1")
    assert _load(duplicate_headers, base).mapping["unit_price"] == "UnitPrice"


@pytest.mark.realdata
def test_day_first_dates_are_read_from_the_data(base):
    table = _load(day_first, base)
    # The CSV's minutes survive, its seconds are all :00.
    assert (table.lines["invoice_date"] == _reference(base)["invoice_date"]).all()
    assert any("day-first" in n for n in table.notes)


@pytest.mark.realdata
def test_sheets_read_and_skipped(base):
    table = _load(cover_sheet_first, base)
    assert table.sheets_read == ["Data", "More"]
    assert table.sheets_skipped == ["Cover", "Notes"]
    assert _load(title_rows_xlsx, base).sheets_read == ["Export"]
    assert any("row 4" in n for n in _load(title_rows_xlsx, base).notes)


@pytest.mark.realdata
def test_amount_and_no_invoice_and_emails(base):
    amount = _load(amount_not_price, base)
    assert amount.mapping["amount"] == "Total"
    assert "unit_price" not in amount.lines
    expected = base["Quantity"].astype(float) * base["UnitPrice"].astype(float)
    np.testing.assert_allclose(amount.lines["amount"], expected)

    keyed = _load(no_invoice_column, base)
    first = keyed.lines.iloc[0]
    assert first["invoice_id"] == "17850|2010-12-01T08:26:00"  # row 0 of the CSV
    assert any("no invoice column" in n for n in keyed.notes)

    emails = _load(email_customers, base).lines["customer_id"]
    assert emails.iloc[0] == "c17850@shop.example"
    assert emails.isna().sum() == (base["CustomerID"] == "").sum()


# --- zip bombs: refused from the central directory, without inflating -------------


def _small_workbook() -> bytes:
    return _xlsx({"Data": [["CustomerID", "Date", "Qty", "Price"], [1, 45292, 1, 1]]})


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite the uncompressed size that the central directory declares."""
    entry = data.index(b"PK\x01\x02")
    while True:
        name_len = struct.unpack_from("<H", data, entry + 28)[0]
        name = data[entry + 46 : entry + 46 + name_len].decode()
        if name == member:
            return data[: entry + 24] + struct.pack("<I", size) + data[entry + 28 :]
        entry = data.index(b"PK\x01\x02", entry + 4)


def test_zip_bomb_by_declared_size_is_refused():
    bomb = _declare_size(_small_workbook(), "xl/worksheets/sheet1.xml", 0xF000_0000)
    assert len(bomb) < 2**20
    with pytest.raises(LimitExceededError) as info:
        load_transactions(bomb, filename="bomb.xlsx")
    assert "bomb.xlsx would inflate to" in str(info.value)
    assert "max_inflated_bytes=2,147,483,648" in str(info.value)


def test_zip_bomb_of_compressible_xml_is_refused_without_inflating_it():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zipfile.ZipFile(io.BytesIO(_small_workbook())) as small:
            for info in small.infolist():
                zf.writestr(info.filename, small.read(info))
        zf.writestr("xl/media/padding.xml", b"<a/>" * (16 * 2**20))  # 64 MiB
    bomb = buf.getvalue()
    assert len(bomb) < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceededError, match="max_inflated_bytes=33,554,432"):
            load_transactions(
                bomb, filename="b.xlsx", limits=Limits(max_inflated_bytes=2**25)
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Refused from the zip directory: nothing near the 64 MiB is ever inflated
    # (the bound is 200 MB of process memory; Python allocations stay
    # far under it).
    assert peak < 16 * 2**20


def test_ambiguous_headers_are_an_error_listing_both():
    data = b"Customer ID,customer_id,Date,Qty,Price\n1,1,2024-01-01,1,1\n"
    with pytest.raises(ColumnMappingError) as info:
        load_transactions(data, filename="amb.csv")
    assert "'Customer ID', 'customer_id'" in str(info.value)


def test_fake_xls_is_refused_in_words():
    data = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + "Workbook".encode("utf-16-le")
        + bytes(600)
    )
    with pytest.raises(InputFileError, match=r"old\.xls"):
        load_transactions(data, filename="old.xls")


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputFileError, match=r"nope\.csv"):
        load_transactions(tmp_path / "nope.csv")


def test_errors_are_segmentation_errors():
    for cls in (InputFileError, LimitExceededError, ColumnMappingError):
        assert issubclass(cls, SegmentationError)


SMALL_CSV_CASES = [
    # (bytes, filename, expected lines or (error class, message fragment))
    (b"CustomerID,Date,Qty,Price\r1,2024-01-01,1,2\r2,2024-01-02,1,2\r", "mac.csv", 2),
    (b"CustomerID,Date,Qty,Price,\n1,2024-01-01,1,2,\n", "trailing.csv", 1),
    (
        b"CustomerID,Date,Qty,Price\n1,2024-01-01,1,2,5\n3,2024-01-01,1,2\n",
        "long1.csv",
        (InputFileError, "long1.csv: the first data row has more fields"),
    ),
    (
        b"CustomerID,Date,Qty,Price\n3,2024-01-01,1,2\n1,2024-01-01,1,2,5\n",
        "long2.csv",
        (InputFileError, "Expected 4 fields in line 3, saw 5"),
    ),
    (b"\n\n\n", "blank.csv", (InputFileError, "blank.csv has no header row")),
    (
        b"a,b\n1,2\n",
        "ab.csv",
        (ColumnMappingError, "ab.csv: no column for customer_id, invoice_date"),
    ),
    (b"CustomerID,Date,Qty,Price\n,,,\n", "commas.csv", (InputFileError, "no data")),
]


@pytest.mark.parametrize(("data", "name", "expected"), SMALL_CSV_CASES)
def test_small_csv_cases(data, name, expected):
    if isinstance(expected, int):
        assert len(load_transactions(data, filename=name).lines) == expected
        return
    error, fragment = expected
    with pytest.raises(error) as info:
        load_transactions(data, filename=name)
    assert fragment in str(info.value)


def test_row_limit_counts_all_sheets():
    rows = [["CustomerID", "Date", "Qty", "Price"]] + [[1, "2024-01-01", 1, 2]] * 8
    data = _xlsx({"one": rows, "two": rows})  # 8 + 8 data rows
    assert len(load_transactions(data, filename="two.xlsx").lines) == 16
    with pytest.raises(LimitExceededError) as info:
        load_transactions(data, filename="two.xlsx", limits=Limits(max_rows=10))
    assert "sheets up to 'two' have 16 rows, over the limit max_rows=10" in str(
        info.value
    )


def test_a_title_line_with_a_comma_does_not_fix_the_delimiter():
    # The first line holds one candidate delimiter (",") but is a title: the
    # header below is semicolon-separated, and must still be found.
    data = (
        b"Sales report, March 2024\n"
        b"Invoice;Customer ID;Date;Qty;Price\n"
        b"1;a;2024-03-01;2;3,5\n"
        b"2;b;2024-03-02;1;10\n"
    )
    table = load_transactions(data, filename="title.csv")
    assert table.mapping["customer_id"] == "Customer ID"
    assert table.lines["quantity"].tolist() == [2.0, 1.0]
    assert table.lines["unit_price"].tolist() == [3.5, 10.0]
