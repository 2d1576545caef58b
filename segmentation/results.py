"""The result types of a run: what ``prepare`` and ``segment`` return.

Saved runs and the app's store pickle them.

This module sits at the bottom of the engine: it imports nothing of the engine
but the types it names (for type checkers only), so every other module can use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from segmentation.cleaning import CleaningReport
    from segmentation.lifetime import LifetimeResult
    from segmentation.migration import EarlierFeatures, Migration
    from segmentation.models import (
        KDiagnostics,
        MethodComparison,
        PurchaseStyle,
        RecencyStatus,
        ValueTiers,
    )

__all__ = ["PreparedData", "Segmentation"]


@dataclass
class PreparedData:
    """Everything :func:`segment` needs, and what the cleaning receipt shows.

    Attributes
    ----------
    source_name, sha256, file_format : str
        The input file's name, content hash and format ("csv", "xlsx", "xls").
    mapping : dict of str to str
        Canonical column -> the file's header.
    report : CleaningReport
        One bucket per line; ``report.to_frame()`` is the receipt table.
    as_of : pandas.Timestamp
        Reference date for recency and tenure (midnight).
    features : pandas.DataFrame
        Index ``customer_id``; columns ``schema.FEATURE_COLUMNS``.
    diagnostics : KDiagnostics or None
        The k = 2..10 sweep (``table``, ``recommended_k``, ``rule``).
    sheets_read, sheets_skipped, notes : list of str
        Workbook sheets, and every assumption made while reading.
    read_settings : dict or None
        How the file was read, to read it again the same way: ``day_first``
        (None = decided from the data), ``drop_duplicates``, ``columns`` (for a
        file without a header row). None in data prepared before it existed.
    lifetime : LifetimeResult or None
        The lifetime models (BG/NBD, Gamma-Gamma) and each customer's
        ``p_alive``, expected orders, spend per order and CLV, when asked for.
    earlier : EarlierFeatures or None
        The customer features at ``as_of - N days`` (from the lines dated
        before it), when a migration was asked for (``compare_days``).
    """

    source_name: str
    sha256: str
    file_format: str
    mapping: dict[str, str]
    report: CleaningReport
    as_of: pd.Timestamp
    features: pd.DataFrame
    diagnostics: KDiagnostics | None = None
    sheets_read: list[str] = field(default_factory=list)
    sheets_skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    read_settings: dict | None = None
    lifetime: LifetimeResult | None = None
    earlier: EarlierFeatures | None = None


@dataclass
class Segmentation:
    """One k's labelled customers and the fitted models.

    Attributes
    ----------
    k, seed : int
        Number of value tiers and the random seed of every model.
    anomaly_share : float
        Share of customers the anomaly model flags (0..0.5).
    customers : pandas.DataFrame
        One row per customer, columns ``schema.OUTPUT_COLUMNS`` (RangeIndex).
    personas : pandas.DataFrame
        One row per non-empty value tier x status group, index
        (``value_cluster``, ``status``): value_tier, persona, description,
        action, customers, revenue_share, median r_score / f_score /
        recency_days / frequency / monetary. (Runs saved before statuses
        existed have one row per ``value_cluster``.)
    value_model : ValueTiers
        ``profile_`` is the per-tier table (customers, medians, revenue share).
    style_model : PurchaseStyle
    score_tables : dict of str to pandas.Series
        For each of recency_days, frequency, monetary: the training values
        (sorted index) and the quintile score each got, to score new customers.
    stability : float or None
        Mean adjusted Rand index of the chosen k: across seeds for k-means,
        across subsamples for the other methods.
    status_model : RecencyStatus or None
        Active / Cooling / Lapsed from recency against each customer's rhythm
        (None in runs saved before statuses existed).
    method : str
        The clustering method of the value tiers: "kmeans" (also for runs
        saved before methods existed), "gmm", "ward" or "hdbscan".
    method_comparison : MethodComparison or None
        The four methods compared for this k, when it was asked for.
    lifetime : LifetimeResult or None
        The prepared data's lifetime models, to score new customers with them.
    migration : Migration or None
        Each customer's value tier and status at ``as_of - N days`` by this
        run's fitted models, and the moves (``migration.report``), when the
        prepared data has the earlier date's features.
    """

    k: int
    seed: int
    anomaly_share: float
    customers: pd.DataFrame
    personas: pd.DataFrame
    value_model: ValueTiers
    style_model: PurchaseStyle
    score_tables: dict[str, pd.Series]
    stability: float | None = None
    status_model: RecencyStatus | None = None
    method: str = "kmeans"
    method_comparison: MethodComparison | None = None
    lifetime: LifetimeResult | None = None
    migration: Migration | None = None
