"""Whole-row facts of a file as read: rows skipped, row identity, other keys.

Private helper of :mod:`segmentation.io`. Works on the raw frame of a reader
(every column of the file, under the file's headers, before typing), so that
what it reports is about the file, not about the canonical columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from segmentation.io._dtypes import to_id_text

#: Reasons of ``LoadedTable.skipped_rows``, in the order notes are written.
SKIP_REASONS = ("blank_row", "no_value_in_used_columns", "formula_without_value")


def skip_empty_rows(
    frame: pd.DataFrame, used: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop rows with no value in any used column, counted by reason.

    Parameters
    ----------
    frame : pandas.DataFrame
        Every column of the file (missing cells NaN/None).
    used : sequence of str
        Headers of the mapped columns.

    Returns
    -------
    tuple of (pandas.DataFrame, dict of str to int)
        The rows kept (index unchanged) and ``{"blank_row": n,
        "no_value_in_used_columns": m}`` (non-zero counts only): a blank row has
        no value in any column, the others only in columns that are not used.
    """
    empty_used = frame[list(used)].isna().all(axis=1)
    if not empty_used.any():
        return frame, {}
    blank = empty_used & frame.isna().all(axis=1)
    counts = {
        "blank_row": int(blank.sum()),
        "no_value_in_used_columns": int((empty_used & ~blank).sum()),
    }
    return frame[~empty_used], {k: v for k, v in counts.items() if v}


def skipped_row_notes(skipped: dict[str, int]) -> list[str]:
    """Return one note per reason of a ``skipped_rows`` dict, in words."""
    notes = []
    if n := skipped.get("blank_row", 0):
        notes.append(
            f"{n:,} blank row{'s' if n != 1 else ''} skipped (not invoice lines)"
        )
    if n := skipped.get("no_value_in_used_columns", 0):
        notes.append(f"{n:,} rows with no value in any used column skipped")
    if n := skipped.get("formula_without_value", 0):
        rows = "1 row holds" if n == 1 else f"{n:,} rows hold"
        notes.append(
            f"{rows} formulas without a saved result (the workbook was written by "
            "a program that does not calculate them): those cells are read as "
            "empty; open and save the file in Excel or LibreOffice to keep "
            "their values"
        )
    return notes


def _hashable(column: pd.Series) -> pd.Series:
    """One representation per value, whatever the reader's dtype guess.

    Numbers become float64 (a workbook's 1 and 1.0 are one value) and
    datetimes ``datetime64[us]``, so that the same row hashes the same in two
    sheets read with different dtypes.
    """
    if pd.api.types.is_bool_dtype(column):
        return column.astype("object")
    if pd.api.types.is_numeric_dtype(column):
        return column.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(column):
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        return column.astype("datetime64[us]")
    return column.astype("object")


def _value_hashes(column: pd.Series) -> np.ndarray:
    values = _hashable(column).to_numpy()
    return pd.util.hash_array(values, categorize=False)


def _combine(hashes: list[np.ndarray], n: int) -> np.ndarray:
    """Combine per-column hashes in order (the tuple-hash mix pandas uses)."""
    out = np.full(n, 0x345678, dtype="uint64")
    mult = np.uint64(1_000_003)
    with np.errstate(over="ignore"):
        for i, h in enumerate(hashes):
            left = np.uint64(len(hashes) - i)
            out ^= h
            out *= mult
            mult += np.uint64(82_520) + left + left
        out += np.uint64(97_531)
    return out


def row_hash(
    frame: pd.DataFrame,
    factorized: dict[str, tuple[np.ndarray, pd.Index]] | None = None,
) -> np.ndarray:
    """Return a 64-bit hash of each whole row (every column, in file order).

    Parameters
    ----------
    frame : pandas.DataFrame
        Every column of the file as read (mapped or not), one row per line.
    factorized : dict, optional
        Header -> ``(codes, uniques)`` of the text columns
        (:func:`segmentation.io._dtypes.factorize_text`): each distinct text is
        hashed once instead of once per row.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(frame),)``, dtype uint64. Equal rows (same value in every
        column, missing cells alike) give equal hashes; rows differing in any
        cell differ (up to 64-bit collisions). A value hashes the same whatever
        the reader's dtype (1 and 1.0; a text column or an object one), so rows
        of two sheets compare. Header names are not hashed.
    """
    factorized = factorized or {}
    hashes = []
    for header in frame.columns:
        if header in factorized:
            codes, uniques = factorized[header]
            hashes.append(_value_hashes(pd.Series(uniques)).take(codes))
        else:
            hashes.append(_value_hashes(frame[header]))
    return _combine(hashes, len(frame))


def distinct_values(columns: Sequence[pd.Series]) -> int:
    """Return the number of distinct non-empty ids in ``columns`` together.

    Values are compared as the id text the loader would give them
    (``17850.0`` and ``"17850"`` are one id; blanks and null tokens ignored).
    """
    texts = [to_id_text(s) for s in columns]
    if not texts:
        return 0
    return int(pd.concat(texts, ignore_index=True).dropna().nunique())
