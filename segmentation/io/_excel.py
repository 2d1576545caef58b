"""Read workbook bytes (.xlsx, .xlsm, .xls) with fastexcel (Rust calamine).

Private helper of :mod:`segmentation.io`. Chooses the first sheet whose header
(on row 1, or found among the first 20 rows below title rows) gives the required
columns, then every later sheet with the same header; the rest are skipped.
What the workbook's own parts tell beside the reader (formulas without a saved
value, zero-padded id formats, the declared dimensions) is read by
:mod:`segmentation.io._excel_checks`. :func:`read_workbook` runs in a child
process under a memory cap (:mod:`segmentation.io._isolated`), after
:mod:`segmentation.io._sheet_scan` has refused a sheet past the cell limits.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import fastexcel
import pandas as pd
import pyarrow as pa

from segmentation import schema
from segmentation.errors import ColumnMappingError, InputFileError
from segmentation.io._columns import (
    headers_from_columns,
    looks_like_data,
    map_columns,
    maps_required,
    named_columns_note,
    no_header_error,
    unique_headers,
)
from segmentation.io._excel_checks import (
    HEADER_SEARCH_ROWS,
    _add_padding,
    _has_zero_format,
    _limit,
    saved_by_excel,
    scan_formulas,
)
from segmentation.io._rows import skip_empty_rows

_GENERATED = re.compile(r"^__UNNAMED__\d+$")
_READER_ERRORS = (fastexcel.FastExcelError, pa.ArrowException, OverflowError)


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

    def __init__(self, data: bytes, name: str, limits, progress=None) -> None:
        self.name, self.limits, self.rows_so_far = name, limits, 0
        self.progress = progress
        try:
            self.book = fastexcel.read_excel(data)
            self.sheet_names = list(self.book.sheet_names)
        except _READER_ERRORS as exc:
            raise InputFileError(f"{name} cannot be read as a workbook: {exc}") from exc

    def load(self, idx: int, header_row: int | None, n_rows: int | None = None):
        if n_rows is None and self.progress is not None:  # a whole-sheet parse
            sheet = self.sheet_names[idx]
            self.progress(f"Parsing sheet {sheet!r}", idx / len(self.sheet_names))
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


def read_workbook(
    data: bytes,
    name: str,
    limits,
    overrides: Mapping[str, str] | None,
    columns: Sequence[str] | str | None = None,
    progress: Callable[[str, float], None] | None = None,
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
    progress : callable, optional
        ``progress(step, fraction)`` before each whole-sheet parse (the long
        part of reading a workbook), fraction 0..1 over the sheets.

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
    reader = _Reader(data, name, limits, progress)
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
