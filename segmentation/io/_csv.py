"""Read CSV bytes: encoding, delimiter, title rows, then raw text columns.

Private helper of :mod:`segmentation.io`. Returns the file's columns as text
with the file's (unique) headers; typing happens in :mod:`segmentation.io._dtypes`.
"""

from __future__ import annotations

import codecs
import csv
import io
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import charset_normalizer
import pandas as pd
import pyarrow as pa

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
from segmentation.io._rows import skip_empty_rows, skipped_row_notes

DELIMITERS = (",", ";", "\t", "|")
#: ``_Layout.delimiter`` of a file whose columns are separated by runs of spaces.
WHITESPACE = " "
#: Rows searched for the header (title and blank rows may come first).
HEADER_SEARCH_ROWS = 20
_SNIFF_CHARS = 64 * 1024
_SNIFF_LINES = 60
#: Characters given to clevercsv's dialect detection, whose time grows faster
#: than the text (64 K characters of one junk line: 42 s; 8 K: about 1 s).
_DETECT_CHARS = 8 * 1024
#: Bytes looked at before anything else to tell a binary file.
BINARY_SAMPLE_BYTES = 32 * 1024
#: Share of control bytes (not tab, line feed, form feed, carriage return)
#: over which a file is binary; random bytes hold about 11 %.
MAX_CONTROL_SHARE = 0.01
_CONTROL = bytes(range(9)) + b"\x0b" + bytes(range(14, 32)) + b"\x7f"
_DETECT_BYTES = 256 * 1024
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass
class RawCsv:
    """Every column of the file as text, and what was assumed to read it.

    ``frame`` keeps every column (mapped or not) under ``headers``; rows with no
    value in any used column are already left out and counted in
    ``skipped_rows`` (reason -> rows).
    """

    frame: pd.DataFrame
    headers: list[str]
    mapping: dict[str, str]
    notes: list[str] = field(default_factory=list)
    skipped_rows: dict[str, int] = field(default_factory=dict)


def _text_bytes(head: bytes) -> bytes:
    """Return the bytes that carry the text: one of two when NULs sit at one parity.

    UTF-16 text of Latin letters without a byte-order mark has a NUL in every
    other byte; its characters are the other bytes.
    """
    even, odd = head[0::2].count(0), head[1::2].count(0)
    most, least = max(even, odd), min(even, odd)
    if most >= 0.3 * (len(head) // 2) and least <= 0.05 * most:
        return head[1::2] if even > odd else head[0::2]
    return head


def refuse_binary(data: bytes, name: str) -> None:
    """Refuse bytes that cannot be a CSV export, before any decoding or sniffing.

    Looks at the first :data:`BINARY_SAMPLE_BYTES` only: more than
    :data:`MAX_CONTROL_SHARE` control bytes (NUL included; for UTF-16/32 with
    a byte-order mark nothing, without one the character bytes beside its
    NULs), or no line break at
    all in a longer file. Random bytes are refused in milliseconds, not after
    minutes of dialect detection.

    Raises
    ------
    InputFileError
        The message names the file and what gave it away.
    """
    head = data[:BINARY_SAMPLE_BYTES]
    wide = any(
        data.startswith(bom) for bom, encoding in _BOMS if encoding != "utf-8-sig"
    )
    if not wide:
        text = _text_bytes(head)
        controls = len(text) - len(text.translate(None, _CONTROL))
        if controls > MAX_CONTROL_SHARE * len(text):
            raise InputFileError(
                f"{name} is a binary file, not a CSV or Excel export ({controls:,} "
                f"of its first {len(head):,} bytes are control characters)"
            )
    if len(data) > len(head) and b"\n" not in head and b"\r" not in head:
        raise InputFileError(
            f"{name} is not a CSV export: no line break in its first "
            f"{len(head):,} bytes"
        )


def decode(data: bytes, name: str) -> tuple[str, str, list[str]]:
    """Return ``(text, encoding, notes)``; a non-UTF encoding is noted."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding, []
            except UnicodeDecodeError as exc:
                raise InputFileError(
                    f"{name} starts with a {encoding} byte-order mark but is not "
                    f"valid {encoding} (byte {exc.start:,})"
                ) from exc
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(data[:_DETECT_BYTES])
    best = matches.best()
    encoding = best.encoding if best is not None else "latin-1"
    if not encoding.startswith("utf") and "cp1252" in {m.encoding for m in matches}:
        # Single-byte code pages are hard to tell apart; Western exports are the
        # common case, so prefer cp1252 whenever it is a plausible reading.
        encoding = "cp1252"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding, text = "latin-1", data.decode("latin-1")
    return text, encoding, [f"{name} is not UTF-8; read as {encoding}"]


def _plain_header_dialect(sample: str) -> tuple[str, str] | None:
    """Return the dialect of a sample whose first line settles it, else None.

    A first line with no quote and exactly one of the candidate delimiters (the
    common ``InvoiceNo,StockCode,...`` header) needs no detection; anything else
    (title lines, quotes, several candidates) goes to clevercsv.
    """
    first = sample.split("\n", 1)[0]
    present = [d for d in DELIMITERS if d in first]
    return (present[0], '"') if len(present) == 1 and '"' not in first else None


def _whitespace_separated(sample: str) -> bool:
    """Whether the sample's columns are separated by runs of spaces.

    True when no line of the sample holds a comma, semicolon, tab or ``|`` and
    every non-blank line splits on spaces into the same number (at least two)
    of fields, as in a transaction log ``00001 19970101 1 11.77``.
    """
    lines = sample.splitlines()[:_SNIFF_LINES]
    if len(sample) >= _SNIFF_CHARS and len(lines) > 1:
        lines = lines[:-1]  # possibly cut in the middle
    lines = [line for line in lines if line.strip()]
    if not lines or any(d in line for line in lines for d in DELIMITERS):
        return False
    counts = {len(line.split()) for line in lines}
    return len(counts) == 1 and counts.pop() >= 2


def _sniff(sample: str) -> tuple[str, str]:
    """Return ``(delimiter, quotechar)`` of a text sample (comma when unsure)."""
    # lazy: only messy CSVs need it (~0.3 s to import: it tabulates all of Unicode)
    import clevercsv

    lines = "\n".join(sample.splitlines()[:_SNIFF_LINES])[:_DETECT_CHARS]
    dialect = clevercsv.Detector().detect(lines, delimiters=list(DELIMITERS))
    if dialect is None or dialect.delimiter not in DELIMITERS:
        counts = {d: lines.count(d) for d in DELIMITERS}
        return max(counts, key=counts.get) if any(counts.values()) else ",", '"'
    return dialect.delimiter, dialect.quotechar or '"'


@dataclass
class _Layout:
    delimiter: str  # WHITESPACE for runs of spaces
    quotechar: str
    skip: int
    headers: list[str]
    clean_header: bool
    has_header: bool = True
    #: canonical -> header, when ``columns`` named the columns of a headerless file
    named: dict[str, str] = field(default_factory=dict)


def _layout(sample: str, name: str, overrides, limits, columns=None) -> _Layout:
    """Find delimiter, quote and the header row among the first rows."""
    if "\x00" in sample:
        raise InputFileError(f"{name} is a binary file, not a CSV or Excel export")
    if _whitespace_separated(sample):
        return _find_header(sample, WHITESPACE, '"', name, overrides, limits, columns)
    quick = _plain_header_dialect(sample)
    if quick is not None:
        try:
            return _find_header(sample, *quick, name, overrides, limits, columns)
        except ColumnMappingError:
            pass  # the first line misled us: detect the dialect properly
    return _find_header(sample, *_sniff(sample), name, overrides, limits, columns)


def _first_rows(sample: str, delimiter: str, quotechar: str, name: str):
    """Return the first rows of the sample, split by the dialect."""
    if delimiter == WHITESPACE:
        lines = sample.splitlines()[:HEADER_SEARCH_ROWS]
        return [line.split() for line in lines]
    reader = csv.reader(
        io.StringIO(sample, newline=""), delimiter=delimiter, quotechar=quotechar
    )
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= HEADER_SEARCH_ROWS:
                break
    except csv.Error as exc:
        raise InputFileError(f"{name} cannot be read as CSV: {exc}") from exc
    return rows


def _first_line(sample: str) -> str:
    return next((line for line in sample.splitlines() if line.strip()), "").strip()


def _find_header(
    sample, delimiter, quotechar, name, overrides, limits, columns=None
) -> _Layout:
    """Find the header row among the first rows, for one dialect.

    With ``columns`` the file has no header row: the first non-blank line is
    data and ``columns`` names the fields. Without it, a first line that is
    data (numbers, dates, ids; no known header) is refused in words.
    """
    rows = _first_rows(sample, delimiter, quotechar, name)
    _check_size(0, max(map(len, rows), default=0), name, limits)
    nonblank = [(i, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not nonblank:
        raise InputFileError(f"{name} has no header row (only blank lines)")
    if columns is not None:
        i, row = nonblank[0]
        if maps_required(row) and not looks_like_data(row):
            raise ColumnMappingError(
                f"{name}: column names were given (--columns) but the first line "
                f"{_first_line(sample)!r} is a header; leave out --columns (use "
                "--map canonical=Header to choose columns)",
                headers=unique_headers(row),
                missing=[],
            )
        headers, named = headers_from_columns(columns, len(row), name)
        return _Layout(delimiter, quotechar, i, headers, False, False, named)
    for i, row in nonblank:
        if maps_required(row, overrides):
            headers = unique_headers(row)
            clean = headers == row and "" not in row
            return _Layout(delimiter, quotechar, i, headers, clean)
    if looks_like_data(nonblank[0][1]):
        raise no_header_error(name, _first_line(sample), len(nonblank[0][1]))
    map_columns(unique_headers(nonblank[0][1]), overrides, source_name=name)
    raise AssertionError("unreachable: map_columns accepted an unmapped header")


def _precheck(data: bytes, layout: _Layout, name: str, limits) -> None:
    """Check columns, and rows when the line count is exact (nothing quoted)."""
    above = layout.skip + (1 if layout.has_header else 0)
    rows = data.count(b"\n") - above if b'"' not in data else 0
    _check_size(rows, len(layout.headers), name, limits)


def _check_size(frame_rows: int, n_columns: int, name: str, limits) -> None:
    if n_columns > limits.max_columns:
        raise LimitExceededError(
            f"{name} has {n_columns:,} columns, over the limit "
            f"max_columns={limits.max_columns:,}",
            limit="max_columns",
            value=n_columns,
        )
    if frame_rows > limits.max_rows:
        raise LimitExceededError(
            f"{name} has {frame_rows:,} rows, over the limit "
            f"max_rows={limits.max_rows:,}",
            limit="max_rows",
            value=frame_rows,
        )


def _read_fast(data: bytes) -> pd.DataFrame | None:
    """Multithreaded pyarrow read of a clean UTF-8 comma file (header on line 1).

    Every column is read (the whole row identifies exact duplicates). Returns
    None when the file is not that after all (the caller falls back).
    """
    try:
        return pd.read_csv(
            io.BytesIO(data),
            engine="pyarrow",
            dtype="str",
            keep_default_na=False,
            na_values=[""],
        )
    except (pa.ArrowInvalid, ValueError, UnicodeDecodeError):
        return None


def _read_text(text: str, layout: _Layout, name: str) -> pd.DataFrame:
    """Read every column as text; a row with too many fields is an error."""
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")  # classic Mac line ends
    try:
        with warnings.catch_warnings():
            # pandas only warns (and drops values) when the first data row is
            # longer than the header: make that the error it is for later rows.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=r"\s+" if layout.delimiter == WHITESPACE else layout.delimiter,
                quotechar=layout.quotechar,
                skiprows=layout.skip,
                header=0 if layout.has_header else None,
                names=None if layout.has_header else layout.headers,
                index_col=False,
                dtype="str",
                keep_default_na=False,
                na_values=[""],
                skip_blank_lines=True,
                engine="c",
            )
    except pd.errors.ParserWarning as exc:
        raise InputFileError(
            f"{name}: the first data row has more fields than the header "
            f"({len(layout.headers)} columns)"
        ) from exc
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise InputFileError(f"{name} cannot be read as CSV: {exc}") from exc
    return frame.set_axis(layout.headers, axis="columns")


def _strict_utf8_sample(data: bytes) -> str | None:
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(data[:_SNIFF_CHARS])
    except UnicodeDecodeError:
        return None


def read_csv_bytes(
    data: bytes,
    name: str,
    limits,
    overrides: Mapping[str, str] | None,
    columns: Sequence[str] | str | None = None,
) -> RawCsv:
    """Read CSV bytes into text columns with the file's unique headers.

    Parameters
    ----------
    data : bytes
        The file.
    name : str
        File name for messages.
    limits : Limits
        Column and row limits.
    overrides : mapping of str to str, optional
        Canonical column -> header, winning over the synonyms.
    columns : sequence of str, or str, optional
        For a file without a header row: one canonical name per column (see
        :func:`segmentation.io._columns.headers_from_columns`); the first line
        is then data.

    Returns
    -------
    RawCsv
        Every column as text (``str``, missing = NaN), one row per data line
        with a value in a used column.

    Raises
    ------
    InputFileError
        Binary content (:func:`refuse_binary`), no header, a header but no data
        rows, or a row with more fields than the header.
    LimitExceededError
        More columns or rows than ``limits`` allows (rows are checked before the
        body is parsed when no field is quoted, so that line count is exact).
    ColumnMappingError
        No row among the first 20 gives the required columns; the first line is
        data (no header row) and ``columns`` is not given; or ``columns`` is
        given for a file with a header, or does not name one column per field.
    """
    refuse_binary(data, name)
    notes: list[str] = []
    sample = None if data.startswith(codecs.BOM_UTF8) else _strict_utf8_sample(data)
    frame = None
    if sample is not None:
        layout = _layout(sample, name, overrides, limits, columns)
        _precheck(data, layout, name, limits)
        mapping = _mapping(layout, overrides, name)
        if (
            layout.delimiter == ","
            and layout.skip == 0
            and layout.clean_header
            and layout.has_header
        ):
            frame = _read_fast(data)
    if frame is None:
        text, _, notes = decode(data, name)
        layout = _layout(text[:_SNIFF_CHARS], name, overrides, limits, columns)
        _precheck(data, layout, name, limits)
        mapping = _mapping(layout, overrides, name)
        frame = _read_text(text, layout, name)
    frame, skipped = skip_empty_rows(frame, list(mapping.values()))
    if frame.empty:
        raise InputFileError(f"{name} has a header but no data rows")
    _check_size(len(frame), len(layout.headers), name, limits)
    if layout.delimiter == WHITESPACE:
        notes.append("columns are separated by spaces")
    if not layout.has_header:
        notes.append(named_columns_note(layout.headers))
    if layout.skip:
        notes.append(f"header found on line {layout.skip + 1}; lines above skipped")
    notes += skipped_row_notes(skipped)
    return RawCsv(frame, layout.headers, mapping, notes, skipped)


def _mapping(layout: _Layout, overrides, name: str) -> dict[str, str]:
    if layout.has_header:
        return map_columns(layout.headers, overrides, source_name=name)
    return map_columns(
        layout.headers, {**layout.named, **(overrides or {})}, source_name=name
    )
