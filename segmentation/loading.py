"""Read a retail export (bytes or path) into canonical, typed invoice lines.

CONTRACT (implementation pending). Every format quirk lives here; later steps see
only the canonical columns of :mod:`segmentation.schema` with these dtypes:

============== ===================================================================
column         dtype and meaning
============== ===================================================================
invoice_id     str (pandas string); never missing (customer + timestamp key when
               the file has no invoice column, and a note says so)
customer_id    str; ``<NA>`` where empty. Numeric ids lose a ``.0`` ("17850.0" and
               17850.0 both give "17850"); text ids (emails) are stripped.
invoice_date   datetime64, tz-naive; ``NaT`` where missing or unparseable
quantity       float64; ``NaN`` where missing or not a number
unit_price     float64 (present when the file has a price column)
amount         float64 (present when the file has a line-total column)
stock_code,    str (present when the file has them); numeric codes as integers
description,   in text ("85123", not "85123.0")
country
============== ===================================================================

The index is a ``RangeIndex``: line ``i`` is the i-th data line read, sheets in
workbook order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Limits:
    """Documented input limits, enforced before parsing."""

    max_bytes: int = 200 * 2**20
    max_rows: int = 10_000_000
    max_columns: int = 200
    max_inflated_bytes: int = 2 * 2**30


DEFAULT_LIMITS = Limits()


@dataclass
class LoadedTable:
    """Canonical invoice lines and what was assumed to read them."""

    lines: pd.DataFrame
    source_name: str
    sha256: str
    file_format: str
    mapping: dict[str, str]
    headers: list[str]
    sheets_read: list[str] = field(default_factory=list)
    sheets_skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_transactions(
    source: str | os.PathLike | bytes,
    *,
    filename: str | None = None,
    mapping: Mapping[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> LoadedTable:
    """Read a CSV or Excel export into canonical typed invoice lines."""
    raise NotImplementedError
