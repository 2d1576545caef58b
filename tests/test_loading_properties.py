"""Property tests: whatever the bytes, load or raise a SegmentationError."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentation.errors import SegmentationError
from segmentation.io import Limits, LoadedTable, load_transactions

SETTINGS = settings(
    max_examples=200,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
)
CANONICAL_DTYPES = {"quantity": "float64", "unit_price": "float64", "amount": "float64"}


def _load_or_refuse(data: bytes, filename: str, **kwargs) -> LoadedTable | None:
    try:
        table = load_transactions(data, filename=filename, **kwargs)
    except SegmentationError as exc:
        assert str(exc)  # a message in words
        return None
    lines = table.lines
    assert isinstance(lines.index, pd.RangeIndex)
    assert lines["invoice_id"].notna().all()
    for column, dtype in CANONICAL_DTYPES.items():
        if column in lines:
            assert lines[column].dtype == dtype
    assert pd.api.types.is_datetime64_dtype(lines["invoice_date"])
    return table


def _workbook() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Invoice", "Customer ID", "InvoiceDate", "Quantity", "Price"])
    ws.append([489434, 13085.0, 40148.3, 12, 6.95])
    ws.append(["C489449", "", "2009-12-01 10:33", -12, "2,10"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


WORKBOOK = _workbook()
MAGICS = [b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xef\xbb\xbf",
          b"\xff\xfe", b"%PDF"]  # fmt: skip


@SETTINGS
@given(
    prefix=st.sampled_from(MAGICS),
    body=st.binary(max_size=2000),
    filename=st.sampled_from(["x.csv", "x.xlsx", "x.xls", "x"]),
)
def test_arbitrary_bytes_load_or_raise_segmentation_error(prefix, body, filename):
    _load_or_refuse(prefix + body, filename)


@SETTINGS
@given(
    flips=st.lists(
        st.tuples(st.integers(0, len(WORKBOOK) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    ),
    cut=st.one_of(st.none(), st.integers(0, len(WORKBOOK))),
)
def test_damaged_workbooks_load_or_raise_segmentation_error(flips, cut):
    data = bytearray(WORKBOOK)
    for at, value in flips:
        data[at] = value
    _load_or_refuse(bytes(data[:cut]), "damaged.xlsx")


HEADERS = ["InvoiceNo", "Customer ID", "customer", "Date", "InvoiceDate", "Qty",
           "Quantity", "Price", "Total", "Country", "Kunde", "", "Price"]  # fmt: skip
CELL = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    st.text(alphabet="0123456789.,-+ €£$/:CTZe", max_size=12),
    st.sampled_from(["17850.0", "2010-12-01 08:26:00", "13/01/2024", "45292", "N/A",
                     "1.234,50", '"quoted, field"', "a\nb", "nan", "inf"]),
)  # fmt: skip


@SETTINGS
@given(
    header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8),
    rows=st.lists(st.lists(CELL, max_size=9), max_size=12),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    max_rows=st.integers(1, 20),
)
def test_small_csv_texts_load_or_raise_segmentation_error(
    header, rows, sep, encoding, max_rows
):
    text = "\n".join(sep.join(r) for r in [header, *rows])
    data = text.encode(encoding, errors="replace")
    table = _load_or_refuse(data, "small.csv", limits=Limits(max_rows=max_rows))
    if table is not None:
        assert len(table.lines) <= max_rows
