"""Bytes or a path -> canonical, typed invoice lines and the column mapping used.

Every format quirk lives in this package (DESIGN section 3): the format from the
file's bytes (``_format``), CSV dialects, encodings and space-separated logs
(``_csv``), workbooks (``_excel``, parsed in a capped child process by
``_isolated`` after ``_sheet_scan`` streamed their sheets for the cells they
hold), their declared size, zero-padded id formats and rows a reader skips
(``_excel_checks``), header synonyms, the mapping and
files without a header row (``_columns``), typing of every column (``_dtypes``;
numbers in ``_numbers``, dates in ``_dates``), whole-row facts: row hashes,
skipped rows, other customer keys (``_rows``), and the first rows shown to a
user who maps columns (``_preview``). The rest of the engine sees only
:func:`load_transactions`.
"""

from __future__ import annotations

from segmentation.io._columns import map_columns
from segmentation.io._loading import (
    COMMAND_LINE_LIMITS,
    DEFAULT_LIMITS,
    FILE_FORMATS,
    WORKBOOK_EXTENSIONS,
    Limits,
    LoadedTable,
    load_transactions,
)
from segmentation.io._preview import file_preview

__all__ = [
    "COMMAND_LINE_LIMITS",
    "DEFAULT_LIMITS",
    "FILE_FORMATS",
    "WORKBOOK_EXTENSIONS",
    "Limits",
    "LoadedTable",
    "file_preview",
    "load_transactions",
    "map_columns",
]
