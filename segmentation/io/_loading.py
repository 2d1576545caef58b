"""Read a retail export (bytes or path) into canonical, typed invoice lines.

Every format quirk lives in :mod:`segmentation.io` (this module and its private
helpers); later steps
see only the canonical columns of :mod:`segmentation.schema` with these dtypes:

============== ===================================================================
column         dtype and meaning
============== ===================================================================
invoice_id     str (pandas string); never missing (customer + timestamp key when
               the file has no invoice column, and a note says so)
customer_id    str; ``<NA>`` where empty. Numeric ids lose a ``.0`` ("17850.0" and
               17850.0 both give "17850"); text ids (emails) are stripped.
invoice_date   datetime64, tz-naive; ``NaT`` where missing or unparseable
quantity       float64; ``NaN`` where missing or not a number (present when the
               file has a quantity column: without one, a note says how line
               values are read, and no quantity is invented)
unit_price     float64 (present when the file has a price column)
amount         float64 (present when the file has a line-total column)
stock_code,    str (present when the file has them); numeric codes as integers
description,   in text ("85123", not "85123.0"); a workbook's number shown with
country        a zero-padded format (``00000``) keeps its zeros ("00042")
status         str, stripped (present when the file has a status column)
============== ===================================================================

Text columns use pandas' default ``str`` dtype (missing = NaN, which ``isna()``
reports); dates are ``datetime64[us]``. The index is a ``RangeIndex``: line ``i``
is the i-th data line read, sheets in workbook order.

Steps of :func:`load_transactions`: (1) size limit, before reading a path;
(2) sha256; (3) format from magic bytes (then the extension); (4) for a zip
workbook, the inflated-size limit from the central directory and the declared
sheet dimensions, the inflation ratio, then every worksheet streamed for its
largest row and column and its cells (``max_cells``); (5) read every column
(fastexcel for workbooks, in a child process capped by ``max_parse_memory``
and ``max_parse_seconds``; pyarrow or pandas' C parser for CSV), find the
header (or name the columns of a file without one), map the columns; (6) hash
each whole row and count the distinct values of other customer-like columns;
(7) type every mapped column.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation import schema
from segmentation.errors import InputFileError, LimitExceededError
from segmentation.io._columns import customer_key_headers
from segmentation.io._csv import read_csv_bytes
from segmentation.io._dtypes import NUMBER_COLUMNS, factorize_text, to_canonical
from segmentation.io._format import detect_format, scan_workbook
from segmentation.io._isolated import read_workbook_isolated
from segmentation.io._numbers import detect_decimal
from segmentation.io._rows import (
    SKIP_REASONS,
    distinct_values,
    row_hash,
    skipped_row_notes,
)

__all__ = [
    "COMMAND_LINE_LIMITS",
    "DEFAULT_LIMITS",
    "FILE_FORMATS",
    "WORKBOOK_EXTENSIONS",
    "Limits",
    "LoadedTable",
    "load_transactions",
]

#: Values of :attr:`LoadedTable.file_format`.
FILE_FORMATS = ("csv", "xlsx", "xlsm", "xls")
WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xls")


@dataclass(frozen=True)
class Limits:
    """Documented input limits, enforced before parsing.

    Attributes
    ----------
    max_bytes : int
        Size of the file as uploaded (default 200 MiB).
    max_rows : int
        Data rows, all sheets together (default 10,000,000).
    max_columns : int
        Columns of the header row (default 200).
    max_inflated_bytes : int
        Sum of the uncompressed sizes a zip workbook declares (default 2 GiB).
    max_inflation_ratio : int
        Uncompressed / compressed size of a zip workbook, for each member and
        for the whole, checked from the central directory before anything is
        inflated (default 100, as Apache POI's zip-bomb guard; Excel's own
        sheets compress 5-20:1). Members and wholes under 1 MiB inflated are
        exempt.
    max_cells : int
        Cells of a worksheet as the reader allocates them: the rectangle from
        A1 to its largest row and column, and the ``<c>`` elements of all
        worksheets (default 10,000,000; Online Retail II's two full sheets
        are 8.5 million). Found by streaming the sheet XML before the reader
        starts, whatever ``<dimension>`` says; a declared dimension over it is
        refused too.
    max_parse_memory : int
        Address space the workbook reader may add, in bytes (default 3 GiB).
        Workbooks are parsed in a child process under ``RLIMIT_AS`` set to
        this above what the process held when it started; Online Retail I
        (4.2 million cells) needs between 0.5 and 0.8 GiB of it (0.45 GB
        resident): address space counts what allocators reserve.
    max_parse_seconds : float
        Wall time of the workbook parse in its child process (default 120 s;
        the command line's 600 s).
    """

    max_bytes: int = 200 * 2**20
    max_rows: int = 10_000_000
    max_columns: int = 200
    max_inflated_bytes: int = 2 * 2**30
    max_inflation_ratio: int = 100
    max_cells: int = 10_000_000
    max_parse_memory: int = 3 * 2**30
    max_parse_seconds: float = 120.0


#: Limits for uploads to the app (a server's attack surface).
DEFAULT_LIMITS = Limits()
#: Limits for a file the user names on the command line: the same, but up to
#: 2 GiB on disk (a year of a large shop's lines is several hundred MB of CSV)
#: and 10 minutes to parse a workbook.
COMMAND_LINE_LIMITS = Limits(max_bytes=2 * 2**30, max_parse_seconds=600.0)


@dataclass
class LoadedTable:
    """Canonical invoice lines and what was assumed to read them.

    Attributes
    ----------
    lines : pandas.DataFrame
        One row per invoice line, canonical columns (see the module docstring).
    source_name, sha256, file_format : str
        File name used in messages, hex digest of its bytes, one of FILE_FORMATS.
    mapping : dict of str to str
        Canonical column -> the file's header (first data sheet's).
    headers : list of str
        The file's headers as read, duplicates numbered ("Price", "Price.1").
    sheets_read, sheets_skipped : list of str
        Workbook sheets concatenated into ``lines`` / left out.
    notes : list of str
        Every assumption made, in words: encoding fallback, the day/month order
        and why, a missing quantity, a header row found lower down or absent,
        zero padding, rows skipped, ...
    row_hash : numpy.ndarray or None
        Shape ``(n_lines,)``, uint64, aligned with ``lines``: a hash of each
        line's whole raw row (every column of the file, mapped or not, as read,
        before typing). Equal for rows identical in every column; tells apart
        rows that differ only in an unmapped column (a line number). None only
        for a table not made by :func:`load_transactions`.
    customer_key_candidates : dict of str to int
        Unmapped header -> number of distinct non-empty values, for every header
        that looks like another customer key (customer, client, buyer, user,
        member, email or account in the name, or an ``..._id`` that names no
        order, item, product or row). Lets a later step warn when the mapped
        customer column is a per-order id (almost everyone has one order).
    skipped_rows : dict of str to int
        Reason -> rows: ``blank_row`` (no value in any column: not a line),
        ``no_value_in_used_columns`` (values only in unused columns: not a
        line), ``formula_without_value`` (workbook rows whose formula cells have
        no saved result: read, with those cells empty). Non-zero counts only;
        each has a note.
    """

    lines: pd.DataFrame
    source_name: str
    sha256: str
    file_format: str
    mapping: dict[str, str]
    headers: list[str]
    sheets_read: list[str] = field(default_factory=list)
    sheets_skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    row_hash: np.ndarray | None = None
    customer_key_candidates: dict[str, int] = field(default_factory=dict)
    skipped_rows: dict[str, int] = field(default_factory=dict)

    @property
    def has_invoice_column(self) -> bool:
        """Whether the file has an invoice/order column.

        Without one, orders are keyed by customer and time, and identical lines
        are separate purchases (never exact duplicates).
        """
        return schema.INVOICE_ID in self.mapping


def _read_source(source, filename: str | None, limits: Limits) -> tuple[bytes, str]:
    """Return the bytes and the name for messages; the size is checked first."""
    if isinstance(source, pd.DataFrame):
        # A notebook's table is read as the CSV it writes, by the same rules as
        # any export (header synonyms, dates, numbers, the receipt).
        source = source.to_csv(index=False).encode("utf-8")
        filename = filename or "dataframe.csv"
    if isinstance(source, bytes | bytearray | memoryview):
        data, name = bytes(source), filename or "upload"
        size = len(data)
    else:
        path = Path(os.fspath(source))
        name = filename or path.name
        try:
            size = path.stat().st_size
            data = path.read_bytes() if size <= limits.max_bytes else b""
        except OSError as exc:
            raise InputFileError(f"{name}: cannot read {path}: {exc.strerror}") from exc
    if size > limits.max_bytes:
        raise LimitExceededError(
            f"{name} is {size:,} bytes, over the limit max_bytes={limits.max_bytes:,}",
            limit="max_bytes",
            value=size,
        )
    if not data:
        raise InputFileError(f"{name} is empty (0 bytes)")
    return data, name


def _quantity_note(mapping: Mapping[str, str]) -> str | None:
    """Say how line values are read when the file has no quantity column."""
    if schema.QUANTITY in mapping:
        return None
    if schema.AMOUNT in mapping:
        return (
            f"no quantity column: line totals come from {mapping[schema.AMOUNT]}; "
            "quantity-based behaviour features are left empty"
        )
    return (
        "no quantity column: every line counts as one unit (quantity-based "
        "behaviour features are left empty)"
    )


def load_transactions(
    source: str | os.PathLike | bytes | pd.DataFrame,
    *,
    filename: str | None = None,
    mapping: Mapping[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    day_first: bool | None = None,
    columns: Sequence[str] | str | None = None,
    progress: Callable[[str, float], None] | None = None,
    sha256: str | None = None,
) -> LoadedTable:
    """Read a CSV or Excel export into canonical typed invoice lines.

    Parameters
    ----------
    source : str, os.PathLike, bytes or pandas.DataFrame
        A path, the raw bytes of an upload, or a table of invoice lines (one row
        per line, the export's own headers), which is read as the CSV it
        writes (``DataFrame.to_csv(index=False)``).
    filename : str, optional
        Name used in messages and for the extension (default: the path's name,
        or "upload" for bytes).
    mapping : mapping of str to str, optional
        Overrides, canonical column -> the file's header
        (``{"customer_id": "Kundennummer"}``).
    limits : Limits
        Size limits, checked before the file is parsed.
    day_first : bool, optional
        Day/month order of dates written like ``03/04/2011``. None (default)
        decides from the data (a day above 12 settles it) and, when every day
        and month is 12 or less, reads month/day and says so in a note. True
        reads day/month, False month/day; values that fit only the other order
        are then not dates. A note says which order was used and why. Dates
        stored as dates, ISO text, YYYYMMDD and Excel serials are unaffected.
    columns : sequence of str, or str, optional
        For a file without a header row: the canonical name of each column in
        file order (``["customer_id", "invoice_date", "quantity", "amount"]``;
        ``""`` or ``"-"`` skips a column; a string is split at commas). The
        first line is then data. Without it, such a file is refused with a
        :class:`ColumnMappingError` that says so.
    progress : callable, optional
        ``progress(step, fraction)``, step in plain words, fraction 0..1 of the
        read: called before each whole-sheet parse of a workbook (seconds on a
        large sheet; the reader releases the GIL meanwhile).
    sha256 : str, optional
        The sha256 of the file's bytes (64 hex digits) when the caller has it
        already (the app hashes an upload as it arrives): it is the table's
        ``sha256`` and the bytes are not hashed again (~0.1 s per 48 MB).
        Default: computed here.

    Returns
    -------
    LoadedTable
        ``lines`` of shape (n_lines, n_canonical_columns_found), ``row_hash`` of
        shape (n_lines,), and the mapping, headers, sheets, notes, other
        customer-key columns and rows skipped.

    Raises
    ------
    InputFileError
        Not a spreadsheet or CSV, corrupt, encrypted, empty, or a header without
        data rows; the message names the file.
    LimitExceededError
        Over ``limits.max_bytes``, ``max_inflated_bytes``,
        ``max_inflation_ratio``, ``max_rows``, ``max_columns``, ``max_cells``,
        ``max_parse_memory`` or ``max_parse_seconds``; the message names the
        limit and the file's value; ``limit`` holds the limit's name.
    ColumnMappingError
        A required column (``customer_id``, ``invoice_date``, and ``unit_price``
        or ``amount``) is missing or ambiguous (carries ``headers`` and
        ``missing``), or ``mapping`` names a header the file does not have. A
        file whose first line is data and no ``columns``: the message quotes the
        line and says how to go on; ``headers`` is ``[]`` and ``first_line``
        holds the line. ``columns`` with an unknown or repeated name, not one
        name per column, or for a file that has a header row.
    """
    data, name = _read_source(source, filename, limits)
    digest = hashlib.sha256(data).hexdigest() if sha256 is None else sha256
    file_format = detect_format(data, name, limits)
    ext = Path(name).suffix.lower()
    notes: list[str] = []
    if file_format == "csv":
        if ext in WORKBOOK_EXTENSIONS:
            notes.append(f"{name} is text, not a workbook; read as CSV")
        raw = read_csv_bytes(data, name, limits, mapping, columns)
        parts = [(raw.frame, raw.mapping, {})]
        headers, sheets_read, skipped = raw.headers, [], []
        skipped_rows = raw.skipped_rows
        notes += raw.notes
    else:
        if ext not in WORKBOOK_EXTENSIONS:
            notes.append(f"{name} is an Excel workbook; read as {file_format}")
        if progress is not None:
            progress("Checking the workbook's size", 0.0)
        scan_workbook(data, name, limits)
        book = read_workbook_isolated(data, name, limits, mapping, columns, progress)
        parts = [(s.frame, s.mapping, s.pad_widths) for s in book.sheets]
        headers, skipped = book.headers, book.sheets_skipped
        sheets_read = [s.name for s in book.sheets]
        skipped_rows = book.skipped_rows
        notes += book.notes + skipped_row_notes(skipped_rows)
    used = dict(parts[0][1])
    if (note := _quantity_note(used)) is not None:
        notes.append(note)
    frames, hashes = [], []
    for frame, part_mapping, pad_widths in parts:
        factorized = factorize_text(frame)
        hashes.append(row_hash(frame, factorized))
        numbers = [frame[h] for c, h in part_mapping.items() if c in NUMBER_COLUMNS]
        decimal = detect_decimal(numbers)
        if decimal == ",":
            notes.append("numbers use a decimal comma")
        lines, typing_notes = to_canonical(
            frame,
            part_mapping,
            decimal,
            day_first=day_first,
            pad_widths=pad_widths,
            factorized=factorized,
        )
        frames.append(lines)
        notes += typing_notes
    lines = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    candidates = {
        header: distinct_values([f[header] for f, _, _ in parts if header in f])
        for header in customer_key_headers(headers, used)
    }
    return LoadedTable(
        lines=lines,
        source_name=name,
        sha256=digest,
        file_format=file_format,
        mapping=used,
        headers=list(headers),
        sheets_read=sheets_read,
        sheets_skipped=list(skipped),
        notes=list(dict.fromkeys(notes)),
        row_hash=np.concatenate(hashes) if len(hashes) > 1 else hashes[0],
        customer_key_candidates=candidates,
        skipped_rows={r: skipped_rows[r] for r in SKIP_REASONS if r in skipped_rows},
    )
