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
#: Ends like a UTC offset or zone name (cheap test, run on every value).
_TZ_END = r"(?:Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)$"
#: ... and really is one: the offset must follow a time of day. A bare
#: ``[+-]dddd`` at the end also matches the year of ``02-12-2010``, which made a
#: whole dd-mm-yyyy column (with one date-only value) "time-zone aware".
_TZ_SUFFIX = (
    r"(?:\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)"
    r"|(?:^|[^A-Za-z])(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?)$"
)
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


def _has_time_zone(text: pd.Series) -> bool:
    """Whether any date text ends with a UTC offset or zone after its time."""
    ends = text.str.contains(_TZ_END, regex=True)
    return bool(ends.any()) and bool(
        text[ends].str.contains(_TZ_SUFFIX, regex=True).any()
    )


def _order_words(dayfirst: bool) -> str:
    return "day/month (DD/MM/YYYY)" if dayfirst else "month/day (MM/DD/YYYY)"


def _day_month_order(
    text: pd.Series, day_first: bool | None, notes: list[str], column: str
) -> tuple[bool, pd.Series]:
    """Choose the day/month order of ``text`` and say why in ``notes``.

    Returns ``(dayfirst, contradicting)``: the order used and a boolean mask of
    values that can only be read in the other order (a "month" above 12); those
    are not dates (cleaning counts them as unparseable), never silently swapped.
    """
    parts = text.str.extract(_DMY).astype("float64")
    first_big, second_big = parts[0] > 12, parts[1] > 12
    if day_first is not None:
        dayfirst = bool(day_first)
        if parts[0].notna().any():
            notes.append(f"{column}: read dates as {_order_words(dayfirst)}, as asked")
    elif first_big.any() or second_big.any():
        dayfirst = bool(first_big.sum() > second_big.sum())
        example = text[first_big if dayfirst else second_big].iloc[0]
        kind = "day-first" if dayfirst else "month-first"
        words = _order_words(dayfirst).replace(")", f", {kind})")
        notes.append(
            f"{column}: read as {words}: the data shows a day above 12 in {example!r}"
        )
    else:
        dayfirst = False
        if parts[0].notna().any():
            notes.append(
                f"{column}: every day and month is 12 or less, so the order cannot "
                "be told from the data; read as month/day (MM/DD/YYYY). Pass "
                "--day-first (the app: 'Dates are day-first') if that is wrong"
            )
    contradicting = second_big if dayfirst else first_big
    if contradicting.any():
        n = int(contradicting.sum())
        verbs = ("fits", "is") if n == 1 else ("fit", "are")
        notes.append(
            f"{column}: {n:,} value{'s' if n != 1 else ''} such as "
            f"{text[contradicting].iloc[0]!r} {verbs[0]} only the other order and "
            f"{verbs[1]} left unread (not a date)"
        )
    return dayfirst, contradicting


def _parse_date_text(
    text: pd.Series, notes: list[str], column: str, day_first: bool | None = None
) -> pd.Series:
    """Parse date texts; the day/month order is asked for or read from the data.

    ``day_first`` None decides from the data (a day above 12) and, when every
    day and month is 12 or less, reads month first and says so; True / False
    force the order. Either way a note says which order was used and why.
    """
    if text.empty:
        return pd.Series(pd.NaT, index=text.index, dtype=DATETIME_DTYPE)
    has_tz = _has_time_zone(text)
    if text.str.match(_ISO_DATE).all():
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=has_tz)
        return _naive_utc(parsed, notes, column)
    dayfirst, contradicting = _day_month_order(text, day_first, notes, column)
    model = text[~contradicting].iloc[0] if not contradicting.all() else text.iloc[0]
    with warnings.catch_warnings():
        # pandas warns when dayfirst does not apply to an ISO-looking value.
        warnings.simplefilter("ignore", UserWarning)
        fmt = guess_datetime_format(model, dayfirst=dayfirst) or "mixed"
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
    parsed = parsed.mask(contradicting)
    return _naive_utc(parsed, notes, column)


def _yyyymmdd(numbers: pd.Series) -> pd.Series | None:
    """Dates from 8-digit ``YYYYMMDD`` numbers, or None if any value is not one.

    Every non-missing value must be an integer whose digits form a valid date
    in 1900..2100 (``19970101``); Excel serial day numbers (5 digits) and other
    integers never qualify.
    """
    values = numbers.dropna()
    if values.empty or not values.between(19_000_101, 21_001_231).all():
        return None
    if not (values == np.round(values)).all():
        return None
    text = values.astype("int64").astype("str")
    parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    if parsed.isna().any():
        return None
    return parsed.astype(DATETIME_DTYPE).reindex(numbers.index)


def to_datetime(
    s: pd.Series, notes: list[str], column: str, day_first: bool | None = None
) -> pd.Series:
    """Return tz-naive datetimes; Excel serials, YYYYMMDD and text accepted.

    Parameters
    ----------
    s : pandas.Series
        The column as read: datetimes, numbers or text.
    notes : list of str
        Appended to: which reading was assumed (the day/month order and why,
        YYYYMMDD numbers, serial numbers, conversion from a time zone to UTC).
    column : str
        The file's header, used in the notes.
    day_first : bool, optional
        Day/month order of ``dd/mm/yyyy``-like text: None decides from the data,
        True / False force it (see :func:`_parse_date_text`).

    Returns
    -------
    pandas.Series
        ``datetime64[us]``, same index as ``s``; ``NaT`` where not a date.
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
    eight = text is None or bool(text.str.fullmatch(r"\d{8}").all())
    dates = _yyyymmdd(numbers) if eight else None
    if dates is not None:
        first = dates.first_valid_index()
        example = f"{int(numbers[first])} = {dates[first]:%Y-%m-%d}"
        notes.append(f"{column}: 8-digit numbers read as YYYYMMDD dates ({example})")
        out.loc[dates.index] = dates
        return out
    serial = numbers.between(*EXCEL_SERIAL_RANGE)
    if serial.any():
        notes.append(f"{column}: Excel serial day numbers converted to dates")
        days = pd.to_datetime(numbers[serial], unit="D", origin=EXCEL_EPOCH)
        out.loc[days.index] = days.dt.round("s").astype(DATETIME_DTYPE)
    if text is not None:
        rest = text[~serial & numbers.isna()]
        if not rest.empty:
            out.loc[rest.index] = _parse_date_text(rest, notes, column, day_first)
    return out


def is_typed(s: pd.Series) -> bool:
    """Whether a column is already typed (numbers, booleans, datetimes), not text."""
    return pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s)


def factorize_text(frame: pd.DataFrame) -> dict[str, tuple[np.ndarray, pd.Index]]:
    """Return header -> ``(codes, uniques)`` for every text column of ``frame``.

    Missing values are a unique of their own (no -1 code). Computed once per
    file and shared by the typing (:func:`to_canonical`) and the row hash
    (:func:`segmentation.io._rows.row_hash`), which both work per distinct value.
    """
    return {
        header: pd.factorize(frame[header], use_na_sentinel=False)
        for header in frame.columns
        if not is_typed(frame[header])
    }


def _by_distinct(s: pd.Series, convert, factorized=None) -> pd.Series:
    """Apply an element-wise text conversion once per distinct value.

    Ids, dates and prices repeat across invoice lines (Online Retail I: 541,909
    lines, 23,260 distinct timestamps, 4,372 customers), so parsing the distinct
    texts and spreading the results is several times faster than parsing every
    line. Values that are already typed (numbers, datetimes) go straight through.
    ``factorized`` is ``(codes, uniques)`` of ``s`` when already computed.
    """
    if is_typed(s):
        return convert(s)
    codes, uniques = factorized or pd.factorize(s, use_na_sentinel=False)
    distinct = pd.Series(uniques, dtype=s.dtype)
    converted = convert(distinct)
    if converted.dtype == s.dtype and converted.equals(distinct):
        return s  # every value is already what it converts to (most text)
    return pd.Series(converted.array.take(codes), index=s.index, name=s.name)


def _plain_text(s: pd.Series) -> pd.Series:
    """Text as written (not stripped); missing where empty or only spaces."""
    text = s.astype("str")
    return text.mask(s.isna() | (text.str.strip() == ""))


def zero_pad(ids: pd.Series, raw: pd.Series, width: int) -> pd.Series:
    """Pad integer ids that were numbers in the file to ``width`` digits.

    A workbook shows the number 42 with the number format ``00000`` as
    ``00042``; the id the user knows is that text. Only values that were
    non-negative integers in ``raw`` are padded; text ids stay as they are.
    """
    if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        return ids
    values = raw.astype("float64")
    integral = values.notna() & (values >= 0) & (values == np.round(values))
    return ids.where(~integral, ids.str.zfill(width))


def to_canonical(
    raw: pd.DataFrame,
    mapping: dict[str, str],
    decimal: str,
    *,
    day_first: bool | None = None,
    pad_widths: dict[str, int] | None = None,
    factorized: dict[str, tuple[np.ndarray, pd.Index]] | None = None,
):
    """Return ``(lines, notes)``: the mapped columns, renamed and typed.

    Parameters
    ----------
    raw : pandas.DataFrame
        The file's columns as read, under the file's headers.
    mapping : dict of str to str
        Canonical column -> header.
    decimal : str
        ``"."`` or ``","``, the decimal mark of text numbers.
    day_first : bool, optional
        Day/month order of date texts (None: from the data; see
        :func:`to_datetime`).
    pad_widths : dict of str to int, optional
        Header -> width for id columns stored as numbers with a zero-padded
        number format (see :func:`zero_pad`).
    factorized : dict, optional
        Header -> ``(codes, uniques)`` of text columns (:func:`factorize_text`),
        reused instead of factorizing again.

    Returns
    -------
    tuple of (pandas.DataFrame, list of str)
        The lines (fresh RangeIndex, the columns of ``mapping`` in canonical
        order, plus ``invoice_id`` built from customer and time when absent)
        and the notes of the assumptions made.
    """
    notes: list[str] = []
    columns: dict[str, pd.Series] = {}
    pad_widths = pad_widths or {}
    factorized = factorized or {}
    for canonical, header in mapping.items():
        s = raw[header].reset_index(drop=True)
        shared = factorized.get(header)
        if canonical in ID_COLUMNS:
            ids = _by_distinct(s, to_id_text, shared)
            if header in pad_widths:
                ids = zero_pad(ids, s, pad_widths[header])
            columns[canonical] = ids
        elif canonical in NUMBER_COLUMNS:
            columns[canonical] = _by_distinct(s, lambda v: to_float(v, decimal), shared)
        elif canonical == schema.INVOICE_DATE:
            columns[canonical] = _by_distinct(
                s, lambda v: to_datetime(v, notes, header, day_first), shared
            )
        elif canonical == schema.STATUS:
            columns[canonical] = _by_distinct(s, _as_text, shared)
        else:
            columns[canonical] = _by_distinct(s, _plain_text, shared)
    lines = pd.DataFrame(columns)
    if schema.INVOICE_ID not in lines or lines[schema.INVOICE_ID].isna().any():
        key = (
            lines[schema.CUSTOMER_ID].fillna("")
            + "|"
            + lines[schema.INVOICE_DATE].dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
        )
        if schema.INVOICE_ID in lines:
            n = int(lines[schema.INVOICE_ID].isna().sum())
            lines_ = "1 line" if n == 1 else f"{n:,} lines"
            use = "uses" if n == 1 else "use"
            notes.append(f"{lines_} without an invoice id {use} customer|time as id")
            key = lines[schema.INVOICE_ID].fillna(key)
        else:
            notes.append("no invoice column: orders are keyed by customer|time")
        lines = lines.assign(**{schema.INVOICE_ID: key.astype("str")})
    order = [c for c in schema.CANONICAL_COLUMNS if c in lines]
    return lines[order], list(dict.fromkeys(notes))
