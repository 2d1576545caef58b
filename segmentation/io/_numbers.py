"""Read numbers from raw cells: the decimal mark, currency and thousands marks.

Private helper of :mod:`segmentation.io`, used by
:mod:`segmentation.io._dtypes`. Also holds :func:`_as_text`, the stripped text
with the null tokens as missing, which the typing of ids, dates and statuses
starts from too. Never raises on a bad cell: a value that is not a number
becomes NaN, and cleaning counts it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Cell texts read as "no value" in id and text columns (compared lower-cased).
NULL_TOKENS = ("", "nan", "none", "null", "n/a", "na", "#n/a", "nat")
_CURRENCY = r"[€£$¥\s\u00a0\u202f']|(?i:eur|gbp|usd|chf)"
_COMMA_DECIMAL = re.compile(
    r"^[+-]?(?:0,\d+|\d+,(?:\d{1,2}|\d{4,})|\d{1,3}(?:[.\s\u00a0\u202f']\d{3})+,\d+)$"
)
_DOT_DECIMAL = re.compile(
    r"^[+-]?(?:0\.\d+|\d+\.(?:\d{1,2}|\d{4,})|\d{1,3}(?:[,\s\u00a0\u202f']\d{3})+\.\d+)$"
)
_DECIMAL_SAMPLE = 5_000


def _as_text(s: pd.Series) -> pd.Series:
    """Return ``s`` as stripped text with null tokens as missing."""
    text = s.astype("str").str.strip()
    return text.mask(text.str.lower().isin(NULL_TOKENS) | s.isna())


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
