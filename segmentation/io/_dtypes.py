"""Turn raw columns (text, or a workbook reader's guesses) into the canonical dtypes.

Private helper of :mod:`segmentation.io`. Never raises on a bad cell: a value
that is not a number or not a date becomes NaN / NaT, and cleaning counts it.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.tseries.api import guess_datetime_format

from segmentation import schema

#: Cell texts read as "no value" in id and text columns (compared lower-cased).
NULL_TOKENS = ("", "nan", "none", "null", "n/a", "na", "#n/a", "nat")
#: Excel serial day numbers accepted in a date column (1954-10-03 .. 2119-01-10).
EXCEL_SERIAL_RANGE = (20_000, 80_000)
EXCEL_EPOCH = "1899-12-30"
DATETIME_DTYPE = "datetime64[us]"
ID_COLUMNS = (schema.INVOICE_ID, schema.CUSTOMER_ID, schema.STOCK_CODE)
NUMBER_COLUMNS = (schema.QUANTITY, schema.UNIT_PRICE, schema.AMOUNT)

_CURRENCY = r"[€£$¥\s\u00a0\u202f']|(?i:eur|gbp|usd|chf)"
_COMMA_DECIMAL = re.compile(
    r"^[+-]?(?:0,\d+|\d+,(?:\d{1,2}|\d{4,})|\d{1,3}(?:[.\s\u00a0\u202f']\d{3})+,\d+)$"
)
_DOT_DECIMAL = re.compile(
    r"^[+-]?(?:0\.\d+|\d+\.(?:\d{1,2}|\d{4,})|\d{1,3}(?:[,\s\u00a0\u202f']\d{3})+\.\d+)$"
)
_ISO_DATE = r"^\d{4}-\d{1,2}-\d{1,2}"
_DMY = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}\b"
_DATE_LIKE = (
    r"\d{1,4}\s*[-/.]\s*(?:\d{1,2}|[A-Za-z]{3,9})\.?\s*[-/.]\s*\d{2,4}"
    r"|\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}"
    r"|^\d{8}T?\d*"
)
_TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2}|\bUTC|\bGMT)$"
_DECIMAL_SAMPLE = 5_000


def _as_text(s: pd.Series) -> pd.Series:
    """Return ``s`` as stripped text with null tokens as missing."""
    text = s.astype("str").str.strip()
    return text.mask(text.str.lower().isin(NULL_TOKENS) | s.isna())


def to_id_text(s: pd.Series) -> pd.Series:
    """Return ids as text: ``17850.0`` and ``"17850.0"`` give ``"17850"``."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        values = s.astype("float64")
        integral = values.notna() & np.isfinite(values) & (values == np.round(values))
        integral &= values.abs() < 2**53
        as_int = pa.array(values.where(integral, 0).astype("int64")).cast(pa.string())
        text = pd.Series(as_int.to_numpy(zero_copy_only=False), index=s.index)
        text = text.astype("str").where(integral)
        fractional = values.notna() & ~integral
        if fractional.any():
            text = text.where(~fractional, values[fractional].astype("str"))
        return text
    text = _as_text(s)
    return text.str.replace(r"^([+-]?\d+)\.0+$", r"\1", regex=True)


def detect_decimal(columns: list[pd.Series]) -> str:
    """Return ``","`` when text numbers vote for a decimal comma, else ``"."``.

    A value votes only when it is unambiguous: ``"2,55"`` and ``"1.234,5"`` vote
    comma, ``"2.55"`` and ``"1,234.5"`` vote dot, ``"1,234"`` does not vote.
    """
    comma = dot = 0
    for s in columns:
        if not pd.api.types.is_string_dtype(s):
            continue
        sample = s.dropna().head(_DECIMAL_SAMPLE).astype("str")
        sample = sample.str.replace(_CURRENCY, "", regex=True)
        comma += int(sample.str.match(_COMMA_DECIMAL).sum())
        dot += int(sample.str.match(_DOT_DECIMAL).sum())
    return "," if comma > dot else "."


def _clean_number_text(text: pd.Series, decimal: str) -> pd.Series:
    text = text.str.replace(_CURRENCY, "", regex=True)
    text = text.str.replace(r"^\((.*)\)$", r"-\1", regex=True)
    if decimal == ",":
        return text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return text.str.replace(",", "", regex=False)


def _arrow_float(text: pd.Series) -> pd.Series | None:
    """Return float64 via pyarrow's cast (fast), or None if a value is not a number."""
    try:
        values = pc.cast(pa.array(text.array), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    return pd.Series(values.to_numpy(zero_copy_only=False), index=text.index)


def to_float(s: pd.Series, decimal: str = ".") -> pd.Series:
    """Return float64 numbers; currency symbols and thousands marks removed.

    Anything that is still not a number (or is infinite) gives NaN.
    """
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return pd.Series(np.nan, index=s.index, dtype="float64")
    if pd.api.types.is_numeric_dtype(s):
        out = s.astype("float64")
    else:
        text = _as_text(s)
        out = _arrow_float(text) if decimal == "." else None
        if out is None:
            if decimal == ",":
                text = _clean_number_text(text, ",")
            out = pd.to_numeric(text, errors="coerce").astype("float64")
            bad = out.isna() & text.notna()
            if decimal == "." and bad.any():
                fixed = _clean_number_text(text[bad], ".")
                fixed = pd.to_numeric(fixed, errors="coerce").astype("float64")
                out = out.where(~bad, fixed.reindex(out.index))
    return out.where(np.isfinite(out))


def _naive_utc(values: pd.Series, notes: list[str], column: str) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        notes.append(f"{column}: time-zone-aware timestamps converted to UTC")
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype(DATETIME_DTYPE)


def _parse_date_text(text: pd.Series, notes: list[str], column: str) -> pd.Series:
    """Parse date texts; day-first only when the data says so; never guess."""
    if text.empty:
        return pd.Series(pd.NaT, index=text.index, dtype=DATETIME_DTYPE)
    has_tz = bool(text.str.contains(_TZ_SUFFIX, regex=True).any())
    if text.str.match(_ISO_DATE).all():
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=has_tz)
        return _naive_utc(parsed, notes, column)
    parts = text.str.extract(_DMY).astype("float64")
    first_big, second_big = (parts[0] > 12).sum(), (parts[1] > 12).sum()
    dayfirst = bool(first_big > second_big)
    if first_big or second_big:
        order = "day-first" if dayfirst else "month-first"
        notes.append(f"{column}: {order} dates (read from the data)")
    elif parts[0].notna().any():
        notes.append(
            f"{column}: dates such as {text[parts[0].notna()].iloc[0]!r} are "
            "ambiguous (no day above 12); read as month-first"
        )
    fmt = guess_datetime_format(text.iloc[0], dayfirst=dayfirst) or "mixed"
    with warnings.catch_warnings():
        # pandas warns when dayfirst does not apply to an ISO-looking value.
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(
            text, format=fmt, dayfirst=dayfirst, errors="coerce", utc=has_tz
        )
        retry = parsed.isna() & text.str.contains(_DATE_LIKE, regex=True)
        if retry.any() and fmt != "mixed":
            again = pd.to_datetime(
                text[retry],
                format="mixed",
                dayfirst=dayfirst,
                errors="coerce",
                utc=has_tz,
            )
            parsed = parsed.where(~retry, again.reindex(parsed.index))
    return _naive_utc(parsed, notes, column)


def to_datetime(s: pd.Series, notes: list[str], column: str) -> pd.Series:
    """Return tz-naive datetimes; Excel serial numbers and text both accepted.

    Notes (appended to ``notes``) say which reading was assumed: day-first or
    month-first text, serial numbers, conversion from a time zone to UTC.
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        return _naive_utc(s, notes, column)
    out = pd.Series(pd.NaT, index=s.index, dtype=DATETIME_DTYPE)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        numbers, text = s.astype("float64"), None
    elif pd.api.types.is_bool_dtype(s):
        return out
    else:
        text = _as_text(s).dropna()
        numeric = text.str.fullmatch(r"[+-]?\d+(?:\.\d*)?")
        numbers = pd.to_numeric(text[numeric], errors="coerce").reindex(text.index)
    serial = numbers.between(*EXCEL_SERIAL_RANGE)
    if serial.any():
        notes.append(f"{column}: Excel serial day numbers converted to dates")
        days = pd.to_datetime(numbers[serial], unit="D", origin=EXCEL_EPOCH)
        out.loc[days.index] = days.dt.round("s").astype(DATETIME_DTYPE)
    if text is not None:
        rest = text[~serial & numbers.isna()]
        if not rest.empty:
            out.loc[rest.index] = _parse_date_text(rest, notes, column)
    return out


def _by_distinct(s: pd.Series, convert) -> pd.Series:
    """Apply an element-wise text conversion once per distinct value.

    Ids, dates and prices repeat across invoice lines (Online Retail I: 541,909
    lines, 23,260 distinct timestamps, 4,372 customers), so parsing the distinct
    texts and spreading the results is several times faster than parsing every
    line. Values that are already typed (numbers, datetimes) go straight through.
    """
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return convert(s)
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    converted = convert(pd.Series(uniques, dtype=s.dtype))
    return pd.Series(converted.array.take(codes), index=s.index, name=s.name)


def to_canonical(raw: pd.DataFrame, mapping: dict[str, str], decimal: str):
    """Return ``(lines, notes)``: the mapped columns, renamed and typed.

    ``raw`` keeps the file's headers; ``mapping`` is canonical -> header. The
    result has a fresh RangeIndex and the columns of ``mapping`` in canonical
    order, plus ``invoice_id`` (built from customer and time when absent).
    """
    notes: list[str] = []
    columns: dict[str, pd.Series] = {}
    for canonical, header in mapping.items():
        s = raw[header].reset_index(drop=True)
        if canonical in ID_COLUMNS:
            columns[canonical] = _by_distinct(s, to_id_text)
        elif canonical in NUMBER_COLUMNS:
            columns[canonical] = _by_distinct(s, lambda v: to_float(v, decimal))
        elif canonical == schema.INVOICE_DATE:
            columns[canonical] = _by_distinct(
                s, lambda v: to_datetime(v, notes, header)
            )
        else:
            text = s.astype("str")
            columns[canonical] = text.mask(s.isna() | (text.str.strip() == ""))
    lines = pd.DataFrame(columns)
    if schema.INVOICE_ID not in lines or lines[schema.INVOICE_ID].isna().any():
        key = (
            lines[schema.CUSTOMER_ID].fillna("")
            + "|"
            + lines[schema.INVOICE_DATE].dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
        )
        if schema.INVOICE_ID in lines:
            n = int(lines[schema.INVOICE_ID].isna().sum())
            notes.append(f"{n:,} lines without an invoice id use customer|time as id")
            key = lines[schema.INVOICE_ID].fillna(key)
        else:
            notes.append("no invoice column: orders are keyed by customer|time")
        lines = lines.assign(**{schema.INVOICE_ID: key.astype("str")})
    order = [c for c in schema.CANONICAL_COLUMNS if c in lines]
    return lines[order], list(dict.fromkeys(notes))
