"""What a workbook's own parts say and its reader does not: limits, formulas, formats.

Private helper of :mod:`segmentation.io`. Reads the parts of a zip workbook
directly (never a whole sheet through the reader):

* :func:`check_declared_dimensions` – refuse a worksheet whose declared
  ``<dimension>`` is over the limits, before anything big is inflated (the
  cells really there are found by :mod:`segmentation.io._sheet_scan`);
* :func:`scan_formulas` – count the rows holding formulas without a saved
  result (a reader sees them as blank rows), skipped for a workbook Excel saved
  (:func:`saved_by_excel`);
* :func:`_add_padding` – the width of numeric id columns that the workbook
  shows with a zero-padded number format (``00000``).

:func:`segmentation.io._excel.read_workbook` runs the last two;
:mod:`segmentation.io._format` the first.
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import threading
import zipfile
import zlib
from typing import TYPE_CHECKING

import pandas as pd

from segmentation import schema
from segmentation.errors import LimitExceededError
from segmentation.io._columns import unique_headers

if TYPE_CHECKING:
    from segmentation.io._excel import RawSheet

#: Rows searched for the header (title and blank rows may come first), by the
#: reader and by the number-format check.
HEADER_SEARCH_ROWS = 20
_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?"'
)
_HEAD_BYTES = 4096
#: Numeric cells below the header whose number format is checked for zero
#: padding (``00000``); all must agree.
FORMAT_SAMPLE_ROWS = 20
_ID_COLUMNS = (schema.INVOICE_ID, schema.CUSTOMER_ID, schema.STOCK_CODE)
_ZERO_FORMAT = re.compile(rb'formatCode="0{2,}"')
_SCAN_CHUNK = 4 * 2**20
_EXCEL_APP = re.compile(rb"<Application>Microsoft (?:Macintosh )?Excel</Application>")
#: A row larger than this ends the formula scan (no answer rather than memory).
_SCAN_MAX_ROW_BYTES = 64 * 2**20
_REL = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_ROW = re.compile(rb"<row\b[^>]*>(.*?)</row>", re.S)
_CELL = re.compile(rb"<c\b[^>]*?(?:/>|>.*?</c>)", re.S)
_FORMULA = re.compile(rb"<f[\s>/]")
_VALUE = re.compile(rb"<v>[^<]+</v>")
#: A formula element followed by no value (``</c>``, ``<v/>`` or ``<v></v>``).
_NO_VALUE = re.compile(rb"(?:</f>|<f\b[^>]*/>)\s*(?:</c>|<v\s*/>|<v></v>)")


def _limit(name: str, where: str, value: int, limit: str, allowed: int):
    noun = "columns" if limit == "max_columns" else "rows"
    return LimitExceededError(
        f"{name}: {where} {value:,} {noun}, over the limit {limit}={allowed:,}",
        limit=limit,
        value=value,
    )


def check_declared_dimensions(zf: zipfile.ZipFile, name: str, limits) -> None:
    """Refuse a worksheet whose declared ``<dimension>`` is over the limits.

    Reads only the first few kilobytes of each worksheet part (the dimension
    element comes first), so nothing big is inflated.
    """
    for info in zf.infolist():
        part = info.filename
        if not (part.startswith("xl/worksheets/") and part.endswith(".xml")):
            continue
        with zf.open(info) as stream:
            match = _DIMENSION.search(stream.read(_HEAD_BYTES))
        if match is None:
            continue
        last_col, last_row = match.group(3) or match.group(1), match.group(4)
        rows = int(last_row or match.group(2))
        # lazy: openpyxl costs ~0.2 s to import and is needed only here
        from openpyxl.utils.cell import column_index_from_string

        columns = column_index_from_string(last_col.decode())
        where = f"worksheet {part.rsplit('/', 1)[-1]} declares"
        if columns > limits.max_columns:
            raise _limit(name, where, columns, "max_columns", limits.max_columns)
        if rows - 1 > limits.max_rows:
            raise _limit(name, where, rows - 1, "max_rows", limits.max_rows)
        if rows * columns > limits.max_cells:
            raise LimitExceededError(
                f"{name}: {where} {rows:,} rows x {columns:,} columns = "
                f"{rows * columns:,} cells, over the limit "
                f"max_cells={limits.max_cells:,}",
                limit="max_cells",
                value=rows * columns,
            )


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its worksheet part (``xl/worksheets/sheet1.xml``)."""
    book = zf.read("xl/workbook.xml")
    rels = zf.read("xl/_rels/workbook.xml.rels")
    targets = {}
    for attrs in _REL.findall(rels):
        attr = dict(_ATTR.findall(attrs))
        if b"Id" in attr and b"Target" in attr:
            target = html.unescape(attr[b"Target"].decode())
            target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            targets[attr[b"Id"].decode()] = posixpath.normpath(target)
    parts = {}
    for attrs in _SHEET.findall(book):
        attr = dict(_ATTR.findall(attrs))
        rid = next((v for k, v in attr.items() if k.endswith(b":id")), None)
        if b"name" in attr and rid is not None and rid.decode() in targets:
            parts[html.unescape(attr[b"name"].decode())] = targets[rid.decode()]
    return parts


def _formula_rows(zf: zipfile.ZipFile, part: str, stop: threading.Event):
    """Count rows holding formulas without a saved result, streaming the part.

    Returns ``(rows, formula_only_rows)``: rows with at least one formula cell
    whose ``<v>`` is missing or empty, and those of them in which no other
    cell has a value (a reader sees them as blank rows); None when ``stop`` is
    set or a single row is larger than :data:`_SCAN_MAX_ROW_BYTES`.
    """
    rows = formula_only = 0
    carry = b""
    with zf.open(part) as stream:
        while chunk := stream.read(_SCAN_CHUNK):
            if stop.is_set():
                return None
            text = carry + chunk
            cut = text.rfind(b"</row>") + len(b"</row>")
            done, carry = (text[:cut], text[cut:]) if cut > 5 else (b"", text)
            if len(carry) > _SCAN_MAX_ROW_BYTES:
                return None
            if not _NO_VALUE.search(done):
                continue
            for row in _ROW.finditer(done):
                cells = _CELL.findall(row.group(1))
                if not any(_FORMULA.search(c) and not _VALUE.search(c) for c in cells):
                    continue
                rows += 1
                formula_only += not any(_VALUE.search(c) or b"<is>" in c for c in cells)
    return rows, formula_only


def saved_by_excel(data: bytes) -> bool:
    """Whether ``docProps/app.xml`` names Microsoft Excel as the writer.

    Excel saves the result of every formula with it, so such a workbook has no
    formula without a value and the scan is skipped. Libraries that write
    formulas without results (openpyxl: "Microsoft Excel Compatible /
    Openpyxl") name themselves, and an unknown writer is scanned.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            with zf.open("docProps/app.xml") as stream:
                head = stream.read(_HEAD_BYTES)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error):
        return False
    return bool(_EXCEL_APP.search(head))


def scan_formulas(data: bytes, stop: threading.Event) -> dict[str, tuple[int, int]]:
    """Sheet name -> :func:`_formula_rows` for every worksheet of a zip workbook.

    Reads the whole sheet XML (about 0.6 s for Online Retail I's 190 MB), so
    :func:`read_workbook` runs it in a thread beside the reader, sets ``stop``
    when it no longer needs the answer, and skips it for a workbook Excel
    saved (:func:`saved_by_excel`). Returns ``{}`` for anything
    unreadable (the reader reports the damage), and leaves out a sheet it
    gave up on.
    """
    out = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name, part in _sheet_parts(zf).items():
                counts = _formula_rows(zf, part, stop)
                if counts is not None:
                    out[name] = counts
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error):
        return {}
    return out


def _has_zero_format(data: bytes) -> bool:
    """Whether the workbook's styles define an all-zero number format (``00000``)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            styles = zf.read("xl/styles.xml")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error):
        return False
    return bool(_ZERO_FORMAT.search(styles))


def _add_padding(data: bytes, sheets: list[RawSheet], notes: list[str]) -> None:
    """Set ``pad_widths`` of each sheet's zero-formatted numeric id columns."""
    # lazy: openpyxl is needed only for a workbook with a "00000"-like format
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a display refinement: never fail a readable file on it
        return
    try:
        for sheet in sheets:
            ids = [h for c, h in sheet.mapping.items() if c in _ID_COLUMNS]
            try:
                sheet.pad_widths = _padding(book, sheet.name, sheet.frame, ids)
            except Exception:  # as above
                continue
            for header, width in sheet.pad_widths.items():
                notes.append(
                    f"{header}: zero-padded to {width} digits as the workbook's "
                    "number format shows them"
                )
    finally:
        book.close()


def _padding(book, sheet_name: str, frame: pd.DataFrame, headers) -> dict[str, int]:
    """Header -> width for numeric id columns shown with a ``00000`` format.

    Reads only the number formats of the first data cells (openpyxl, read-only
    mode): the header row is found by its texts, then up to
    :data:`FORMAT_SAMPLE_ROWS` numeric cells below it must all carry one
    all-zero format.
    """
    ws = book[sheet_name]
    wanted = [
        h
        for h in headers
        if pd.api.types.is_numeric_dtype(frame[h])
        and not pd.api.types.is_bool_dtype(frame[h])
    ]
    if not wanted:
        return {}
    where: dict[str, int] = {}
    formats: dict[str, set[str]] = {h: set() for h in wanted}
    seen = dict.fromkeys(wanted, 0)
    limit = HEADER_SEARCH_ROWS + FORMAT_SAMPLE_ROWS + 1
    for row in ws.iter_rows(max_row=limit):
        if not where:
            names = unique_headers(getattr(c, "value", None) for c in row)
            if all(h in names for h in wanted):
                where = {h: names.index(h) for h in wanted}
            continue
        for h, col in where.items():
            cell = row[col] if col < len(row) else None
            value = getattr(cell, "value", None)
            if isinstance(value, int | float) and not isinstance(value, bool):
                formats[h].add(str(getattr(cell, "number_format", "")))
                seen[h] += 1
        if all(n >= FORMAT_SAMPLE_ROWS for n in seen.values()):
            break
    out = {}
    for h in where:
        if len(formats[h]) == 1:
            fmt = next(iter(formats[h]))
            if re.fullmatch(r"0{2,}", fmt):
                out[h] = len(fmt)
    return out
