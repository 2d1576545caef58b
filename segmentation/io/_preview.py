"""A cheap look at the first rows of an export, for choosing columns by hand.

Private helper of :mod:`segmentation.io` (which re-exports
:func:`file_preview`).

When no column matches a synonym, the user chooses the columns by name; a few
data rows under each header make that choice easy ("which one holds the
dates?"). Only the start of the file is read: the first
:data:`SAMPLE_BYTES` of a CSV, the first :data:`SCAN_ROWS` rows of the first
sheet of a workbook (python-calamine). The header row is the first row whose
cells are the headers the engine reported, so title lines above it are skipped.
This is a display aid only: any reading problem gives no preview, never an error.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from segmentation.io._csv import decode  # the loader's own encoding choice

#: Bytes of a CSV read for the preview, rows scanned for the header, rows shown.
SAMPLE_BYTES = 64 * 1024
SCAN_ROWS = 40
PREVIEW_ROWS = 5
#: Longest text shown in a preview cell.
CELL_CHARS = 24
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
_DELIMITERS = ",;\t|"


def _csv_rows(data: bytes, headers: list[str]) -> list[list[str]]:
    """Rows of the CSV's start, split by the delimiter that yields ``headers``."""
    sample = data[:SAMPLE_BYTES]
    if len(data) > SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n")]  # no line (or character) cut
    lines = decode(sample, "preview")[0].splitlines()[:SCAN_ROWS]
    for delimiter in _DELIMITERS:
        rows = list(csv.reader(lines, delimiter=delimiter))
        if _header_row(rows, headers) is not None:
            return rows
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:10]), _DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(lines, dialect))


def _sheet_rows(data: bytes) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = book.get_sheet_by_index(0).to_python(nrows=SCAN_ROWS)
    return [["" if cell is None else str(cell) for cell in row] for row in rows]


def _header_row(rows: list[list[str]], headers: list[str]) -> int | None:
    """Index of the first row holding at least half of ``headers`` (or None)."""
    wanted = {h.strip() for h in headers if h.strip()}
    for i, row in enumerate(rows):
        if wanted and len(wanted & {c.strip() for c in row}) * 2 >= len(wanted):
            return i
    return None


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def file_preview(
    data: bytes, headers: list[str], n_rows: int = PREVIEW_ROWS
) -> pd.DataFrame | None:
    """Return the first data rows of an upload under its headers.

    Parameters
    ----------
    data : bytes
        The uploaded file (CSV text or an .xlsx/.xls workbook).
    headers : list of str
        The headers the engine read (``ColumnMappingError.headers``).
    n_rows : int, default 5
        Data rows to return at most.

    Returns
    -------
    pandas.DataFrame or None
        Columns ``headers``, at most ``n_rows`` rows of text cells (long texts
        cut to :data:`CELL_CHARS` characters); None when nothing could be read
        or no row of the file's start holds the headers.
    """
    try:
        workbook = data[:4] in _WORKBOOK_MAGIC
        rows = _sheet_rows(data) if workbook else _csv_rows(data, headers)
    except Exception:  # a preview must never break the form
        return None
    found = _header_row(rows, headers)
    if found is None:
        return None  # not read as the engine read it: show nothing rather than noise
    body = [row for row in rows[found + 1 :] if any(c.strip() for c in row)][:n_rows]
    if not body:
        return None
    width = len(headers)
    cells = [[_short(c) for c in (row + [""] * width)[:width]] for row in body]
    return pd.DataFrame(cells, columns=list(headers))
