"""Read CSV bytes: encoding, delimiter, title rows, then raw text columns.

Private helper of :mod:`segmentation.io`. Returns the file's columns as text
with the file's (unique) headers; typing happens in :mod:`segmentation.io._dtypes`.
"""

from __future__ import annotations

import codecs
import csv
import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import charset_normalizer
import pandas as pd
import pyarrow as pa

from segmentation.errors import ColumnMappingError, InputFileError, LimitExceededError
from segmentation.io._columns import map_columns, maps_required, unique_headers

DELIMITERS = (",", ";", "\t", "|")
#: Rows searched for the header (title and blank rows may come first).
HEADER_SEARCH_ROWS = 20
_SNIFF_CHARS = 64 * 1024
_SNIFF_LINES = 60
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
    """The file's columns as text, and what was assumed to read them."""

    frame: pd.DataFrame
    headers: list[str]
    mapping: dict[str, str]
    notes: list[str] = field(default_factory=list)


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


def _sniff(sample: str) -> tuple[str, str]:
    """Return ``(delimiter, quotechar)`` of a text sample (comma when unsure)."""
    # lazy: only messy CSVs need it (~0.3 s to import: it tabulates all of Unicode)
    import clevercsv

    lines = "\n".join(sample.splitlines()[:_SNIFF_LINES])
    dialect = clevercsv.Detector().detect(lines, delimiters=list(DELIMITERS))
    if dialect is None or dialect.delimiter not in DELIMITERS:
        counts = {d: lines.count(d) for d in DELIMITERS}
        return max(counts, key=counts.get) if any(counts.values()) else ",", '"'
    return dialect.delimiter, dialect.quotechar or '"'


@dataclass
class _Layout:
    delimiter: str
    quotechar: str
    skip: int
    headers: list[str]
    clean_header: bool


def _layout(sample: str, name: str, overrides, limits) -> _Layout:
    """Find delimiter, quote and the header row among the first rows."""
    if "\x00" in sample:
        raise InputFileError(f"{name} is a binary file, not a CSV or Excel export")
    quick = _plain_header_dialect(sample)
    if quick is not None:
        try:
            return _find_header(sample, *quick, name, overrides, limits)
        except ColumnMappingError:
            pass  # the first line misled us: detect the dialect properly
    return _find_header(sample, *_sniff(sample), name, overrides, limits)


def _find_header(sample, delimiter, quotechar, name, overrides, limits) -> _Layout:
    """Find the header row among the first rows, for one dialect."""
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
    _check_size(0, max(map(len, rows), default=0), name, limits)
    nonblank = [(i, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not nonblank:
        raise InputFileError(f"{name} has no header row (only blank lines)")
    for i, row in nonblank:
        if maps_required(row, overrides):
            headers = unique_headers(row)
            clean = headers == row and "" not in row
            return _Layout(delimiter, quotechar, i, headers, clean)
    map_columns(unique_headers(nonblank[0][1]), overrides, source_name=name)
    raise AssertionError("unreachable: map_columns accepted an unmapped header")


def _precheck(data: bytes, layout: _Layout, name: str, limits) -> None:
    """Check columns, and rows when the line count is exact (nothing quoted)."""
    rows = data.count(b"\n") - layout.skip - 1 if b'"' not in data else 0
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


def _read_fast(data: bytes, usecols: list[str]) -> pd.DataFrame | None:
    """Multithreaded pyarrow read of a clean UTF-8 comma file (header on line 1).

    Returns None when the file is not that after all (the caller falls back).
    """
    try:
        return pd.read_csv(
            io.BytesIO(data),
            engine="pyarrow",
            usecols=usecols,
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
                sep=layout.delimiter,
                quotechar=layout.quotechar,
                skiprows=layout.skip,
                header=0,
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
    data: bytes, name: str, limits, overrides: Mapping[str, str] | None
) -> RawCsv:
    """Read CSV bytes into text columns with the file's unique headers.

    Raises
    ------
    InputFileError
        Binary content, no header, a header but no data rows, or a row with more
        fields than the header.
    LimitExceededError
        More columns or rows than ``limits`` allows (rows are checked before the
        body is parsed when no field is quoted, so that line count is exact).
    ColumnMappingError
        No row among the first 20 gives the required columns.
    """
    notes: list[str] = []
    sample = None if data.startswith(codecs.BOM_UTF8) else _strict_utf8_sample(data)
    frame = None
    if sample is not None:
        layout = _layout(sample, name, overrides, limits)
        _precheck(data, layout, name, limits)
        mapping = map_columns(layout.headers, overrides, source_name=name)
        if layout.delimiter == "," and layout.skip == 0 and layout.clean_header:
            frame = _read_fast(data, list(mapping.values()))
    if frame is None:
        text, _, notes = decode(data, name)
        layout = _layout(text[:_SNIFF_CHARS], name, overrides, limits)
        _precheck(data, layout, name, limits)
        mapping = map_columns(layout.headers, overrides, source_name=name)
        frame = _read_text(text, layout, name)[list(mapping.values())]
    n_read = len(frame)
    frame = frame.dropna(how="all")
    if frame.empty:
        raise InputFileError(f"{name} has a header but no data rows")
    _check_size(len(frame), len(layout.headers), name, limits)
    if layout.skip:
        notes.append(f"header found on line {layout.skip + 1}; lines above skipped")
    if n_read > len(frame):
        notes.append(f"{n_read - len(frame):,} rows with no value in any used column")
    return RawCsv(frame=frame, headers=layout.headers, mapping=mapping, notes=notes)
