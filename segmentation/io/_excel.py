"""Read workbook bytes (.xlsx, .xlsm, .xls) with fastexcel (Rust calamine).

Private helper of :mod:`segmentation.io`. Chooses the first sheet whose header
(on row 1, or found among the first 20 rows below title rows) gives the required
columns, then every later sheet with the same header; the rest are skipped.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field

import fastexcel
import pandas as pd
import pyarrow as pa

from segmentation import schema
from segmentation.errors import InputFileError, LimitExceededError
from segmentation.io._columns import map_columns, maps_required, unique_headers

#: Rows searched for the header (title and blank rows may come first).
HEADER_SEARCH_ROWS = 20
_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?"'
)
_HEAD_BYTES = 4096
_GENERATED = re.compile(r"^__UNNAMED__\d+$")
_READER_ERRORS = (fastexcel.FastExcelError, pa.ArrowException, OverflowError)


@dataclass
class RawSheet:
    """One sheet's rows with its own headers and mapping (canonical -> header)."""

    name: str
    frame: pd.DataFrame
    mapping: dict[str, str]


@dataclass
class RawWorkbook:
    """The sheets read, in workbook order, and what was skipped or assumed."""

    sheets: list[RawSheet]
    headers: list[str]
    sheets_skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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

    def find_header(self, idx: int, overrides) -> int | None:
        probe = self.load(idx, None, HEADER_SEARCH_ROWS)
        if probe is None:
            return None
        rows = self.to_pandas(probe, [str(i) for i in range(probe.width)])
        self.rows_so_far -= len(rows)
        for i, row in enumerate(rows.itertuples(index=False)):
            if maps_required(list(row), overrides):
                return i
        return None


def read_workbook(
    data: bytes,
    name: str,
    limits,
    overrides: Mapping[str, str] | None,
) -> RawWorkbook:
    """Read the data sheets of a workbook as raw frames (file's own headers).

    Raises
    ------
    InputFileError
        The reader cannot open the workbook or a sheet; every sheet is empty; the
        data sheets have a header but no rows.
    LimitExceededError
        A sheet has more columns than allowed, or the sheets more rows.
    ColumnMappingError
        No sheet has a header giving the required columns (the message lists the
        first non-empty sheet's headers).
    """
    reader = _Reader(data, name, limits)
    sheets: list[RawSheet] = []
    skipped: list[str] = []
    notes: list[str] = []
    first_headers: list[str] | None = None
    data_header: list[str] | None = None
    for idx, sheet_name in enumerate(reader.sheet_names):
        sheet = reader.load(idx, 0)
        headers = _headers(sheet) if sheet is not None else []
        if sheet is not None and not maps_required(headers, overrides):
            first_headers = first_headers or headers
            row = reader.find_header(idx, overrides)
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
        frame = reader.to_pandas(sheet, headers)[list(mapping.values())]
        sheets.append(RawSheet(sheet_name, frame.dropna(how="all"), mapping))
    if not sheets:
        if first_headers is None:
            raise InputFileError(f"{name} has no data: every sheet is empty")
        map_columns(first_headers, overrides, source_name=name)  # raises
        raise AssertionError("unreachable: map_columns accepted an unmapped header")
    if all(s.frame.empty for s in sheets):
        read = ", ".join(repr(s.name) for s in sheets)
        raise InputFileError(f"{name} has a header but no data rows (sheet {read})")
    if skipped:
        notes.append(f"sheets skipped (no matching header): {', '.join(skipped)}")
    return RawWorkbook(sheets, full_headers, skipped, notes)
