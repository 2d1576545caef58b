"""The recipe: bytes or path -> prepared customer features -> a segmentation.

Two stages, so that the app can cache the expensive one and re-run the cheap one
when the user moves k:

* :func:`prepare` reads, cleans and builds features, and runs the k = 2..10
  sweep (seconds; the app caches it by the upload's sha256).
* :func:`segment` fits the value tiers for one k and the purchase styles, and
  names everything (tens of milliseconds on ~4,300 customers).

The command line, the app and the API call only these functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from segmentation import _warm_imports, schema
from segmentation.cleaning import CleaningReport, clean_transactions
from segmentation.datasets import SAMPLE_NAME, sample_bytes
from segmentation.errors import EmptyResultError
from segmentation.features import customer_features, reference_date
from segmentation.loading import DEFAULT_LIMITS, Limits, load_transactions
from segmentation.outputs import customers_csv, run_report
from segmentation.scoring import score, score_tables

# The models (scikit-learn) are imported where they are used, and by prepare() in
# a thread while the file is read: see segmentation._warm_imports.
if TYPE_CHECKING:
    from segmentation.clustering import KDiagnostics, PurchaseStyle, ValueTiers

#: ``progress(step, fraction)``: step is a plain-words label ("Reading file",
#: "Cleaning lines", "Building customer features", "Choosing k"), fraction 0..1.
ProgressCallback = Callable[[str, float], None]

#: Default share of customers flagged as Anomaly (DESIGN section 6).
DEFAULT_ANOMALY_SHARE = 0.02
DEFAULT_K = 3
DEFAULT_SEED = 0


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

    @property
    def revenue(self) -> float:
        """Total kept revenue in the file's currency."""
        return float(self.features[schema.MONETARY].sum())


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
        Index ``value_cluster``: value_tier, persona, description, action,
        customers, revenue_share, median recency_days / frequency / monetary.
    value_model : ValueTiers
    style_model : PurchaseStyle
    score_tables : dict of str to pandas.Series
        For each of recency_days, frequency, monetary: the training values
        (sorted index) and the quintile score each got, to score new customers.
    stability : float or None
        Mean adjusted Rand index of the chosen k across seeds.
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


def _report(progress: ProgressCallback | None, step: str, fraction: float) -> None:
    if progress is not None:
        progress(step, fraction)


def prepare(
    source: str | os.PathLike | bytes,
    *,
    filename: str | None = None,
    mapping: Mapping[str, str] | None = None,
    as_of: str | pd.Timestamp | None = None,
    diagnostics: bool = True,
    seed: int = DEFAULT_SEED,
    limits: Limits = DEFAULT_LIMITS,
    progress: ProgressCallback | None = None,
) -> PreparedData:
    """Read, clean and build customer features, then sweep k = 2..10.

    Parameters
    ----------
    source : str, path-like or bytes
        The export: a path, or an upload's raw bytes (then give ``filename``).
    filename : str, optional
        Name used in messages and for the format when ``source`` is bytes.
    mapping : mapping of str to str, optional
        Canonical column -> the file's header, overriding the synonyms.
    as_of : str or Timestamp, optional
        Reference date; default the day after the last invoice date.
    diagnostics : bool, default True
        Run the k sweep (inertia, silhouette, Davies–Bouldin, Calinski–Harabasz).
    seed : int, default 0
        Seed of the k sweep.
    limits : Limits
        Input limits enforced before parsing.
    progress : callable, optional
        ``progress(step, fraction)`` after each step.

    Returns
    -------
    PreparedData

    Raises
    ------
    InputFileError, LimitExceededError, ColumnMappingError
        The file cannot be read or mapped (message names file, column or limit).
    EmptyResultError
        Cleaning leaves no line to segment.
    """
    _report(progress, "Reading file", 0.0)
    loaded = load_transactions(
        source,
        filename=filename,
        mapping=mapping,
        limits=limits,
        on_long_parse=_warm_imports.start,  # import the models meanwhile
    )
    _report(progress, "Cleaning lines", 0.45)
    kept, cancellations, report = clean_transactions(loaded.lines)
    if kept.empty:
        raise EmptyResultError(
            f"{loaded.source_name}: no line is left after cleaning "
            f"({report.rows_in:,} read; see the cleaning receipt for the reasons)",
            report=report.to_dict(),
        )
    _report(progress, "Building customer features", 0.6)
    features = customer_features(kept, cancellations, as_of=as_of)
    as_of_used = reference_date(kept[schema.INVOICE_DATE], as_of)
    sweep = None
    if diagnostics and len(features) > 2:
        _report(progress, "Choosing k", 0.75)
        from segmentation.clustering import k_diagnostics  # see _warm_imports

        sweep = k_diagnostics(
            features,
            k_values=range(2, min(10, len(features) - 1) + 1),
            random_state=seed,
        )
    _report(progress, "Done", 1.0)
    return PreparedData(
        source_name=loaded.source_name,
        sha256=loaded.sha256,
        file_format=loaded.file_format,
        mapping=dict(loaded.mapping),
        report=report,
        as_of=as_of_used,
        features=features,
        diagnostics=sweep,
        sheets_read=list(loaded.sheets_read),
        sheets_skipped=list(loaded.sheets_skipped),
        notes=list(loaded.notes),
    )


def segment(
    prepared: PreparedData,
    k: int = DEFAULT_K,
    *,
    seed: int = DEFAULT_SEED,
    anomaly_share: float = DEFAULT_ANOMALY_SHARE,
    with_stability: bool = False,
    style_model: PurchaseStyle | None = None,
) -> Segmentation:
    """Fit value tiers for ``k`` and purchase styles; label every customer.

    Parameters
    ----------
    prepared : PreparedData
        Output of :func:`prepare`.
    k : int, default 3
        Number of value tiers, 2..10.
    seed : int, default 0
        Seed of k-means and of the anomaly forest.
    anomaly_share : float, default 0.02
        Share of customers flagged as Anomaly.
    with_stability : bool, default False
        Also compute the mean adjusted Rand index of ``k`` across seeds.
    style_model : PurchaseStyle, optional
        Purchase styles already fitted on ``prepared`` with ``anomaly_share`` and
        ``seed`` (:func:`fit_styles`): styles do not depend on k, so a caller
        that tries several k can fit them once.

    Returns
    -------
    Segmentation

    Raises
    ------
    TooFewCustomersError
        Fewer customers than ``k``.
    """
    from segmentation.clustering import ValueTiers, stability
    from segmentation.labelling import label_customers

    features = prepared.features
    value_model = ValueTiers(n_clusters=k, random_state=seed).fit(features)
    if style_model is None:
        style_model = fit_styles(prepared, anomaly_share=anomaly_share, seed=seed)
    customers, personas = label_customers(features, value_model, style_model)
    return Segmentation(
        k=k,
        seed=seed,
        anomaly_share=anomaly_share,
        customers=customers,
        personas=personas,
        value_model=value_model,
        style_model=style_model,
        score_tables=score_tables(features),
        stability=stability(features, k) if with_stability else None,
    )


def fit_styles(
    prepared: PreparedData,
    *,
    anomaly_share: float = DEFAULT_ANOMALY_SHARE,
    seed: int = DEFAULT_SEED,
) -> PurchaseStyle:
    """Fit the purchase styles (Regular / Bulk / Anomaly) of a prepared dataset.

    Parameters
    ----------
    prepared : PreparedData
        Output of :func:`prepare`.
    anomaly_share : float, default 0.02
        Share of customers flagged as Anomaly, in (0, 0.5].
    seed : int, default 0
        Seed of the anomaly forest.

    Returns
    -------
    PurchaseStyle
        Fitted; ``styles_`` and ``reasons_`` are indexed like
        ``prepared.features``.
    """
    from segmentation.clustering import PurchaseStyle

    return PurchaseStyle(anomaly_share=anomaly_share, random_state=seed).fit(
        prepared.features
    )


def load_sample() -> bytes:
    """Return the bytes of the built-in sample export (a CSV).

    See :mod:`segmentation.datasets` for its source (UCI Online Retail).
    """
    return sample_bytes()


# Re-exported so that callers need only this module.
__all__ = [
    "DEFAULT_ANOMALY_SHARE",
    "DEFAULT_K",
    "DEFAULT_SEED",
    "SAMPLE_NAME",
    "PreparedData",
    "ProgressCallback",
    "Segmentation",
    "customers_csv",
    "fit_styles",
    "load_sample",
    "prepare",
    "run_report",
    "score",
    "segment",
]
