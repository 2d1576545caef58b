"""Turn raw columns (text, or a workbook reader's guesses) into the canonical dtypes.

Private helper of :mod:`segmentation.io`. :func:`to_canonical` types each
mapped column by its kind: ids as text (here), numbers
(:mod:`segmentation.io._numbers`), dates (:mod:`segmentation.io._dates`), other
text as written. Never raises on a bad cell: a value that is not a number or not
a date becomes NaN / NaT, and cleaning counts it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation import schema
from segmentation.io._dates import to_datetime
from segmentation.io._numbers import _as_text, to_float

ID_COLUMNS = (schema.INVOICE_ID, schema.CUSTOMER_ID, schema.STOCK_CODE)
NUMBER_COLUMNS = (schema.QUANTITY, schema.UNIT_PRICE, schema.AMOUNT)


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
