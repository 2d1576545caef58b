"""Read dates from raw cells: Excel serials, YYYYMMDD numbers and date texts.

Private helper of :mod:`segmentation.io`, used by
:mod:`segmentation.io._dtypes`. :func:`to_datetime` returns tz-naive
``datetime64[us]`` and says in notes what it assumed: the day/month order of
date texts and why, 8-digit numbers read as YYYYMMDD, serial day numbers, time
zones converted to UTC. Never raises on a bad cell: a value that is not a date
becomes NaT, and cleaning counts it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from segmentation.io._numbers import _as_text

#: Excel serial day numbers accepted in a date column (1954-10-03 .. 2119-01-10).
EXCEL_SERIAL_RANGE = (20_000, 80_000)
EXCEL_EPOCH = "1899-12-30"
DATETIME_DTYPE = "datetime64[us]"
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
