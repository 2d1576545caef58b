"""Read workbook bytes (.xlsx, .xlsm, .xls) with fastexcel (Rust calamine).

Private helper of :mod:`segmentation.io`. Chooses the first sheet whose header
(on row 1, or found among the first 20 rows below title rows) gives the required
columns, then every later sheet with the same header; the rest are skipped.
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import threading
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import fastexcel
import pandas as pd
import pyarrow as pa

from segmentation import schema
from segmentation.errors import ColumnMappingError, InputFileError, LimitExceededError
from segmentation.io._columns import (
    headers_from_columns,
    looks_like_data,
    map_columns,
    maps_required,
    named_columns_note,
    no_header_error,
    unique_headers,
)
from segmentation.io._rows import skip_empty_rows

#: Rows searched for the header (title and blank rows may come first).
HEADER_SEARCH_ROWS = 20
_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?"'
)
_HEAD_BYTES = 4096
_GENERATED = re.compile(r"^__UNNAMED__\d+$")
_READER_ERRORS = (fastexcel.FastExcelError, pa.ArrowException, OverflowError)
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


@dataclass
class RawSheet:
    """One sheet's rows with its own headers and mapping (canonical -> header).

    ``frame`` holds every column of the sheet; ``pad_widths`` maps a numeric id
    column's header to the width its ``00000``-like number format shows;
    ``skipped`` counts the rows left out (or read with empty cells) by reason.
    """

    name: str
    frame: pd.DataFrame
    mapping: dict[str, str]
    pad_widths: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class RawWorkbook:
    """The sheets read, in workbook order, and what was skipped or assumed."""

    sheets: list[RawSheet]
    headers: list[str]
    sheets_skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped_rows: dict[str, int] = field(default_factory=dict)


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


def _headers(sheet) -> list[str]:
    """Return the sheet's headers: blanks as "", duplicates as "Price.1"."""
    names: list[str] = []
    for column in sheet.available_columns():
        header = column.name
        if column.column_name_from == "generated" and _GENERATED.match(header):
            header = ""
        base, _, suffix = header.rpartition("_")
        if base in names and suffix.isdigit():
            header = f"{base}.{suffix}"
        names.append(header)
    return unique_headers(names)


class _Reader:
    """fastexcel reader with the sheet-level limits applied before conversion."""

    def __init__(self, data: bytes, name: str, limits) -> None:
        self.name, self.limits, self.rows_so_far = name, limits, 0
        try:
            self.book = fastexcel.read_excel(data)
            self.sheet_names = list(self.book.sheet_names)
        except _READER_ERRORS as exc:
            raise InputFileError(f"{name} cannot be read as a workbook: {exc}") from exc

    def load(self, idx: int, header_row: int | None, n_rows: int | None = None):
        try:
            sheet = self.book.load_sheet(
                idx,
                header_row=header_row,
                n_rows=n_rows,
                skip_rows=0 if header_row is None else None,
                schema_sample_rows=None,
                skip_whitespace_tail_rows=True,
                whitespace_as_null=True,
            )
        except _READER_ERRORS as exc:
            sheet_name = self.sheet_names[idx]
            raise InputFileError(
                f"{self.name}: sheet {sheet_name!r} cannot be read: {exc}"
            ) from exc
        if sheet.width == 0:
            return None
        where = f"sheet {self.sheet_names[idx]!r} has"
        if sheet.width > self.limits.max_columns:
            raise _limit(
                self.name,
                where,
                sheet.width,
                "max_columns",
                self.limits.max_columns,
            )
        if n_rows is None and self.rows_so_far + sheet.height > self.limits.max_rows:
            raise _limit(
                self.name,
                f"sheets up to {self.sheet_names[idx]!r} have",
                self.rows_so_far + sheet.height,
                "max_rows",
                self.limits.max_rows,
            )
        return sheet

    def to_pandas(self, sheet, headers: list[str]) -> pd.DataFrame:
        try:
            frame = sheet.to_pandas()
        except _READER_ERRORS as exc:
            raise InputFileError(
                f"{self.name}: sheet {sheet.name!r} cannot be read: {exc}"
            ) from exc
        self.rows_so_far += len(frame)
        return frame.set_axis(headers, axis="columns")

    def find_header(self, idx: int, overrides) -> tuple[int | None, list]:
        """Return the header row among the first rows (or None) and the first row.

        The first row is the first non-blank row's cells, as typed by the
        reader (to tell a sheet without a header row).
        """
        probe = self.load(idx, None, HEADER_SEARCH_ROWS)
        if probe is None:
            return None, []
        rows = self.to_pandas(probe, [str(i) for i in range(probe.width)])
        self.rows_so_far -= len(rows)
        first: list = []
        for i, row in enumerate(rows.itertuples(index=False)):
            cells = list(row)
            if not first and any(c == c and c is not None for c in cells):
                first = cells
            if maps_required(cells, overrides):
                return i, first
        return None, first


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


def read_workbook(
    data: bytes,
    name: str,
    limits,
    overrides: Mapping[str, str] | None,
    columns: Sequence[str] | str | None = None,
) -> RawWorkbook:
    """Read the data sheets of a workbook as raw frames (file's own headers).

    Parameters
    ----------
    data : bytes
        The workbook (.xlsx, .xlsm or .xls).
    name : str
        File name for messages.
    limits : Limits
        Row and column limits.
    overrides : mapping of str to str, optional
        Canonical column -> header, winning over the synonyms.
    columns : sequence of str, or str, optional
        For sheets without a header row: one canonical name per column; every
        non-empty sheet of that width is read from its first row.

    Returns
    -------
    RawWorkbook
        Every column of each sheet read (rows with no value in a used column
        left out and counted), the zero-padding widths of numeric id columns,
        and the rows skipped by reason (``blank_row``, ``formula_without_value``).

    Raises
    ------
    InputFileError
        The reader cannot open the workbook or a sheet; every sheet is empty; the
        data sheets have a header but no rows.
    LimitExceededError
        A sheet has more columns than allowed, or the sheets more rows.
    ColumnMappingError
        No sheet has a header giving the required columns (the message lists the
        first non-empty sheet's headers); the first sheet's first row is data
        and ``columns`` is not given; ``columns`` does not fit.
    """
    reader = _Reader(data, name, limits)
    is_zip = data[:4] == b"PK\x03\x04"
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        scan = is_zip and not saved_by_excel(data)
        formulas = pool.submit(scan_formulas, data, stop) if scan else None
        try:
            sheets, skipped, notes, full_headers = (
                _named_sheets(reader, name, overrides, columns)
                if columns is not None
                else _headed_sheets(reader, name, overrides)
            )
        except BaseException:
            stop.set()  # an error is on its way: do not wait for the scan
            raise
        formula_rows = formulas.result() if formulas is not None else {}
    if all(s.frame.empty for s in sheets):
        read = ", ".join(repr(s.name) for s in sheets)
        raise InputFileError(f"{name} has a header but no data rows (sheet {read})")
    if skipped:
        notes.append(f"sheets skipped (no matching header): {', '.join(skipped)}")
    counts: dict[str, int] = {}
    for sheet in sheets:
        rows, formula_only = formula_rows.get(sheet.name, (0, 0))
        if rows:
            sheet.skipped["formula_without_value"] = rows
            blank = sheet.skipped.get("blank_row", 0) - formula_only
            if blank > 0:
                sheet.skipped["blank_row"] = blank
            else:
                sheet.skipped.pop("blank_row", None)
        for reason, n in sheet.skipped.items():
            counts[reason] = counts.get(reason, 0) + n
    if is_zip and _has_zero_format(data):
        _add_padding(data, sheets, notes)
    return RawWorkbook(sheets, full_headers, skipped, notes, counts)


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


def _cell_text(cell) -> str:
    """Return a cell as a message shows it: blank if empty, 19970101 not 19970101.0."""
    if cell is None or (not isinstance(cell, str) and pd.isna(cell)):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _headed_sheets(reader: _Reader, name: str, overrides):
    """Sheets with a header row: the first that maps, then those like it."""
    sheets: list[RawSheet] = []
    skipped: list[str] = []
    notes: list[str] = []
    first_headers: list[str] | None = None
    first_row: list = []
    data_header: list[str] | None = None
    full_headers: list[str] = []
    for idx, sheet_name in enumerate(reader.sheet_names):
        sheet = reader.load(idx, 0)
        headers = _headers(sheet) if sheet is not None else []
        if sheet is not None and not maps_required(headers, overrides):
            first_headers = first_headers or headers
            row, probe_first = reader.find_header(idx, overrides)
            first_row = first_row or probe_first
            sheet = reader.load(idx, row) if row is not None else None
            headers = _headers(sheet) if sheet is not None else []
            if row:
                notes.append(f"sheet {sheet_name!r}: header found on row {row + 1}")
        normalized = [schema.normalize_header(h) for h in headers]
        if sheet is None or (data_header is not None and normalized != data_header):
            skipped.append(sheet_name)
            continue
        if data_header is None:
            data_header, full_headers = normalized, headers
        mapping = map_columns(headers, overrides, source_name=name)
        frame, counts = skip_empty_rows(
            reader.to_pandas(sheet, headers), list(mapping.values())
        )
        sheets.append(RawSheet(sheet_name, frame, mapping, skipped=counts))
    if not sheets:
        if first_headers is None:
            raise InputFileError(f"{name} has no data: every sheet is empty")
        if looks_like_data(first_row):
            line = ", ".join(_cell_text(c) for c in first_row)
            raise no_header_error(name, line, len(first_row))
        map_columns(first_headers, overrides, source_name=name)  # raises
        raise AssertionError("unreachable: map_columns accepted an unmapped header")
    return sheets, skipped, notes, full_headers


def _named_sheets(reader: _Reader, name: str, overrides, columns):
    """Sheets without a header row, their columns named by ``columns``."""
    sheets: list[RawSheet] = []
    skipped: list[str] = []
    headers: list[str] | None = None
    mapping: dict[str, str] = {}
    for idx, sheet_name in enumerate(reader.sheet_names):
        sheet = reader.load(idx, None)
        if sheet is None or (headers is not None and sheet.width != len(headers)):
            skipped.append(sheet_name)
            continue
        frame = reader.to_pandas(sheet, [str(i) for i in range(sheet.width)])
        if headers is None:
            first = next(
                (
                    list(r)
                    for r in frame.itertuples(index=False)
                    if any(_cell_text(c) for c in r)
                ),
                [],
            )
            if maps_required(first) and not looks_like_data(first):
                raise ColumnMappingError(
                    f"{name}: column names were given (--columns) but sheet "
                    f"{sheet_name!r} has a header row; leave out --columns (use "
                    "--map canonical=Header to choose columns)",
                    headers=unique_headers(first),
                    missing=[],
                )
            headers, named = headers_from_columns(columns, sheet.width, name)
            mapping = map_columns(
                headers, {**named, **(overrides or {})}, source_name=name
            )
        frame, counts = skip_empty_rows(
            frame.set_axis(headers, axis="columns"), list(mapping.values())
        )
        sheets.append(RawSheet(sheet_name, frame, mapping, skipped=counts))
    if headers is None:
        raise InputFileError(f"{name} has no data: every sheet is empty")
    return (
        sheets,
        skipped,
        [named_columns_note(headers)],
        headers,
    )
