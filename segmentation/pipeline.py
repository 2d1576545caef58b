"""The recipe: bytes or path -> prepared customer features -> a segmentation.

CONTRACT (implementation pending; the app and the CLI call only these names).

Two stages, so that the app can cache the expensive one and re-run the cheap one
when the user moves k:

* :func:`prepare` reads, cleans and builds features (seconds, cached by sha256).
* :func:`segment` fits the value tiers for one k and the purchase styles
  (tens of milliseconds on ~4,300 customers).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

#: ``progress(step, fraction)``: step is a plain-words label ("Reading file",
#: "Cleaning lines", "Building customer features", "Choosing k"), fraction 0..1.
ProgressCallback = Callable[[str, float], None]


@dataclass
class PreparedData:
    """Everything :func:`segment` needs, and what the receipt shows.

    Attributes
    ----------
    source_name, sha256, file_format : str
        The input file's name, content hash and format ("csv", "xlsx", "xls").
    mapping : dict of str to str
        Canonical column -> the file's header.
    sheets_read, sheets_skipped, notes : list of str
        Workbook sheets and every assumption made while reading.
    report : CleaningReport
        One bucket per line; ``report.to_frame()`` is the receipt table.
    as_of : pandas.Timestamp
        Reference date for recency (midnight).
    features : pandas.DataFrame
        Index ``customer_id``; columns ``schema.FEATURE_COLUMNS``.
    diagnostics : KDiagnostics or None
        The k = 2..10 sweep (``table``, ``recommended_k``, ``rule``).
    """

    source_name: str
    sha256: str
    file_format: str
    mapping: dict[str, str]
    report: object
    as_of: pd.Timestamp
    features: pd.DataFrame
    diagnostics: object | None = None
    sheets_read: list[str] = field(default_factory=list)
    sheets_skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Segmentation:
    """One k's labelled customers and the fitted models.

    Attributes
    ----------
    k, seed : int
    anomaly_share : float
    customers : pandas.DataFrame
        One row per customer, columns ``schema.OUTPUT_COLUMNS`` (customer_id is a
        column; RangeIndex).
    personas : pandas.DataFrame
        Index ``value_cluster``: value_tier, persona, description, action,
        customers, revenue_share, median recency_days / frequency / monetary.
    value_model : ValueTiers
    style_model : PurchaseStyle
    stability : float or None
        Mean adjusted Rand index of the chosen k across seeds.
    """

    k: int
    seed: int
    anomaly_share: float
    customers: pd.DataFrame
    personas: pd.DataFrame
    value_model: object
    style_model: object
    stability: float | None = None


def prepare(
    source: str | os.PathLike | bytes,
    *,
    filename: str | None = None,
    mapping: Mapping[str, str] | None = None,
    as_of: str | pd.Timestamp | None = None,
    diagnostics: bool = True,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> PreparedData:
    """Read, clean and build customer features (and the k sweep)."""
    raise NotImplementedError


def segment(
    prepared: PreparedData,
    k: int = 3,
    *,
    seed: int = 0,
    anomaly_share: float = 0.02,
    with_stability: bool = False,
) -> Segmentation:
    """Fit value tiers for ``k`` and purchase styles; label every customer."""
    raise NotImplementedError


def score(segmentation: Segmentation, records: pd.DataFrame) -> pd.DataFrame:
    """Score new customers with a fitted segmentation's models.

    ``records`` has recency_days, frequency, monetary and optionally the
    behaviour columns; returns value_cluster, value_tier, persona, rfm_segment
    (when scores can be given), purchase_style and style_reason (when behaviour
    was given).
    """
    raise NotImplementedError


def customers_csv(customers: pd.DataFrame) -> str:
    """Return the labelled customer CSV text, formula-like cells escaped."""
    raise NotImplementedError


def run_report(prepared: PreparedData, segmentation: Segmentation) -> dict:
    """Return the JSON-ready run report (DESIGN section 8)."""
    raise NotImplementedError


def load_sample() -> bytes:
    """Return the bytes of the built-in sample export (a CSV)."""
    raise NotImplementedError
