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
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from segmentation import schema
from segmentation.cleaning import clean_transactions
from segmentation.datasets import sample_bytes
from segmentation.errors import EmptyResultError
from segmentation.features import customer_features, reference_date
from segmentation.io import DEFAULT_LIMITS, Limits, LoadedTable, load_transactions
from segmentation.results import PreparedData, Segmentation
from segmentation.scoring import score_tables
from segmentation.settings import (
    DEFAULT_ANOMALY_SHARE,
    DEFAULT_K,
    DEFAULT_METHOD,
    DEFAULT_SEED,
    K_MAX,
    K_MIN,
)

# The models (scikit-learn) are imported where they are used, so that reading a
# file does not wait for them (the command line imports them in a thread meanwhile).
if TYPE_CHECKING:
    from segmentation.lifetime import LifetimeSettings
    from segmentation.models import MethodComparison, PurchaseStyle

#: ``progress(step, fraction)``: step is a plain-words label ("Reading file",
#: "Cleaning lines", "Building customer features", "Choosing k", then per k
#: "Choosing k: k = 4 of 10"), fraction 0..1.
ProgressCallback = Callable[[str, float], None]


def _within(progress: ProgressCallback, start: float, end: float) -> ProgressCallback:
    """Return a sub-step's progress as the part ``start..end`` of the whole."""
    return lambda step, fraction: progress(step, start + (end - start) * fraction)


def _report(progress: ProgressCallback | None, step: str, fraction: float) -> None:
    if progress is not None:
        progress(step, fraction)


def prepare(
    source: str | os.PathLike | bytes | pd.DataFrame,
    *,
    filename: str | None = None,
    mapping: Mapping[str, str] | None = None,
    as_of: str | pd.Timestamp | None = None,
    diagnostics: bool = True,
    seed: int = DEFAULT_SEED,
    limits: Limits = DEFAULT_LIMITS,
    day_first: bool | None = None,
    columns: Sequence[str] | None = None,
    drop_duplicates: bool = True,
    progress: ProgressCallback | None = None,
    lifetime: LifetimeSettings | None = None,
    compare_days: int | None = None,
    sha256: str | None = None,
) -> PreparedData:
    """Read, clean and build customer features, then sweep k = 2..10.

    Parameters
    ----------
    source : str, path-like, bytes or pandas.DataFrame
        The export: a path, an upload's raw bytes (then give ``filename``), or
        a DataFrame of invoice lines with the export's headers (read as the CSV
        it writes).
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
    day_first : bool, optional
        Read text dates as day/month (True) or month/day (False); None decides
        from the data and says so in ``notes`` (also when it cannot tell).
    columns : sequence of str, optional
        For a file without a header row: the canonical name of each column, in
        order (see :func:`segmentation.io.load_transactions`).
    drop_duplicates : bool, default True
        False keeps lines that repeat every column of the file as separate
        purchases (the receipt states the policy either way).
    progress : callable, optional
        ``progress(step, fraction)`` after each step.
    lifetime : LifetimeSettings, optional
        Also fit the lifetime models (BG/NBD, Gamma-Gamma; DESIGN section 10)
        on the kept lines, with these horizons, guardrails and holdout:
        ``PreparedData.lifetime``. None (default): not fitted.
    compare_days : int, optional
        N >= 1: also build the customer features at ``as_of - N days`` from the
        kept and return lines dated before it (``PreparedData.earlier``), so
        that :func:`segment` places every customer there with its fitted
        models (:mod:`segmentation.migration`). None (default): no migration.
    sha256 : str, optional
        The sha256 of ``source``'s bytes when the caller has it already (the
        app's store keys uploads by it): not computed again
        (:func:`segmentation.io.load_transactions`).

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
        day_first=day_first,
        columns=columns,
        progress=None if progress is None else _within(progress, 0.0, 0.45),
        sha256=sha256,
    )
    _report(progress, "Cleaning lines", 0.45)
    kept, returns, report = clean_transactions(
        loaded.lines,
        row_hash=loaded.row_hash,
        invoice_column=schema.INVOICE_ID in loaded.mapping,
        drop_duplicates=drop_duplicates,
    )
    if kept.empty:
        raise EmptyResultError(
            f"{loaded.source_name}: no line is left after cleaning "
            f"({report.rows_in:,} read; see the cleaning receipt for the reasons)",
            report=report.to_dict(),
        )
    _report(progress, "Building customer features", 0.6)
    features = customer_features(kept, returns, as_of=as_of)
    warning = customer_key_warning(features, loaded)
    as_of_used = reference_date(kept[schema.INVOICE_DATE], as_of)
    sweep = None
    if diagnostics and len(features) > 2:
        _report(progress, "Choosing k", 0.75)
        from segmentation.models import k_diagnostics  # scikit-learn: on first use

        sweep = k_diagnostics(
            features,
            k_values=range(K_MIN, min(K_MAX, len(features) - 1) + 1),
            random_state=seed,
            progress=None if progress is None else _within(progress, 0.75, 0.9),
        )
    lifetime_result = None
    if lifetime is not None:
        _report(progress, "Fitting the lifetime models", 0.9)
        from segmentation.lifetime import fit_lifetime

        lifetime_result = fit_lifetime(kept, as_of_used, lifetime)
    earlier = None
    if compare_days is not None:
        _report(progress, f"Customers {compare_days} days earlier", 0.95)
        from segmentation.migration import earlier_features

        earlier = earlier_features(kept, returns, as_of_used, compare_days)
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
        notes=[*loaded.notes, *([warning] if warning else [])],
        read_settings={
            "day_first": day_first,
            "drop_duplicates": drop_duplicates,
            "columns": None
            if columns is None
            else [c.strip() for c in columns.split(",")]
            if isinstance(columns, str)
            else list(columns),
        },
        lifetime=lifetime_result,
        earlier=earlier,
    )


def segment(
    prepared: PreparedData,
    k: int = DEFAULT_K,
    *,
    seed: int = DEFAULT_SEED,
    anomaly_share: float = DEFAULT_ANOMALY_SHARE,
    with_stability: bool = False,
    style_model: PurchaseStyle | None = None,
    method: str = DEFAULT_METHOD,
    with_comparison: bool = False,
) -> Segmentation:
    """Fit value tiers for ``k`` and purchase styles; label every customer.

    Parameters
    ----------
    prepared : PreparedData
        Output of :func:`prepare`.
    k : int, default 3
        Number of value tiers, 2..10 (for ``method="hdbscan"`` the size
        control; HDBSCAN finds its own number of tiers).
    seed : int, default 0
        Seed of the clustering and of the anomaly forest.
    anomaly_share : float, default 0.02
        Share of customers flagged as Anomaly.
    with_stability : bool, default False
        Also compute the stability of the tiers: for k-means the mean adjusted
        Rand index across seeds (:func:`segmentation.models.stability`); for
        the other methods across subsamples
        (:func:`segmentation.models.subsample_stability`).
    style_model : PurchaseStyle, optional
        Purchase styles already fitted on ``prepared`` with ``anomaly_share`` and
        ``seed`` (:func:`fit_styles`): styles do not depend on k, so a caller
        that tries several k can fit them once.
    method : {"kmeans", "gmm", "ward", "hdbscan"}, default "kmeans"
        The clustering of the value tiers (:class:`segmentation.models.ValueTiers`).
    with_comparison : bool, default False
        Also compare the four methods for this k (:func:`compare`): seconds on
        ~4,300 customers.

    Returns
    -------
    Segmentation
        With ``migration`` (and the columns ``value_tier_before``,
        ``status_before``) when ``prepared.earlier`` holds the features of an
        earlier date (``prepare(..., compare_days=N)``).

    Raises
    ------
    SegmentationError
        An unknown method.
    TooFewCustomersError
        Fewer customers than ``k``.
    """
    from segmentation.labelling import label_customers
    from segmentation.models import (
        RecencyStatus,
        ValueTiers,
        stability,
        subsample_stability,
    )

    features = prepared.features
    value_model = ValueTiers(n_clusters=k, random_state=seed, method=method)
    value_model.fit(features)
    run_stability = None
    if with_stability and method == "kmeans":
        run_stability = stability(features, k)
    elif with_stability:
        run_stability = subsample_stability(
            features, value_model.labels_, k, method, random_state=seed
        )
    if style_model is None:
        style_model = fit_styles(prepared, anomaly_share=anomaly_share, seed=seed)
    status_model = RecencyStatus().fit(features)
    customers, personas = label_customers(
        features, value_model, style_model, status_model
    )
    customers = with_lifetime(customers, getattr(prepared, "lifetime", None))
    moved = migration(prepared, customers, value_model, status_model)
    if moved is not None:
        from segmentation.migration import with_migration

        customers = with_migration(customers, moved)
    return Segmentation(
        k=k,
        seed=seed,
        anomaly_share=anomaly_share,
        customers=customers,
        personas=personas,
        value_model=value_model,
        style_model=style_model,
        score_tables=score_tables(features),
        stability=run_stability,
        status_model=status_model,
        method=method,
        method_comparison=compare(prepared, k, seed=seed) if with_comparison else None,
        lifetime=getattr(prepared, "lifetime", None),
        migration=moved,
    )


def with_lifetime(customers: pd.DataFrame, lifetime) -> pd.DataFrame:
    """Add the lifetime columns (``p_alive``, ... NaN where withheld) by customer.

    ``lifetime`` is a :class:`~segmentation.lifetime.LifetimeResult` or None
    (then ``customers`` is returned unchanged).
    """
    if lifetime is None:
        return customers
    ids = customers[schema.CUSTOMER_ID].astype("str")
    columns = lifetime.customers.reindex(ids.to_numpy())
    return customers.assign(**{c: columns[c].to_numpy() for c in columns.columns})


def migration(
    prepared: PreparedData, customers: pd.DataFrame, value_model, status_model
):
    """Place the customers at ``prepared.earlier``'s date with the fitted models.

    Parameters
    ----------
    prepared : PreparedData
        Output of :func:`prepare`; ``earlier`` None (no ``compare_days``, or
        data prepared before migrations existed) gives None.
    customers : pandas.DataFrame
        The labelled customers of ``prepared`` at ``as_of``.
    value_model : ValueTiers
    status_model : RecencyStatus
        The fitted models of the run (not refitted).

    Returns
    -------
    Migration or None
        :func:`segmentation.migration.migrate`.
    """
    earlier = getattr(prepared, "earlier", None)
    if earlier is None:
        return None
    from segmentation.migration import migrate

    return migrate(customers, earlier, value_model, status_model, as_of=prepared.as_of)


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
    from segmentation.models import PurchaseStyle

    return PurchaseStyle(anomaly_share=anomaly_share, random_state=seed).fit(
        prepared.features
    )


def compare(
    prepared: PreparedData, k: int = DEFAULT_K, *, seed: int = DEFAULT_SEED
) -> MethodComparison:
    """Compare k-means, Gaussian mixture, Ward and HDBSCAN for one k.

    Parameters
    ----------
    prepared : PreparedData
        Output of :func:`prepare`.
    k : int, default 3
        Number of value tiers, 2..10.
    seed : int, default 0
        Seed of every fit.

    Returns
    -------
    MethodComparison
        Each method's silhouette, Davies–Bouldin, Calinski–Harabasz, stability,
        smallest group share, Unclustered share and fit time (s), and the
        recommended method with its rule
        (:func:`segmentation.models.compare_methods`).
    """
    from segmentation.models import compare_methods

    return compare_methods(prepared.features, k, random_state=seed)


#: Share of customers with a single order from which another customer-like column
#: is suggested (DESIGN section 4: "a customer column in which almost everyone has
#: one order").
ONE_ORDER_WARNING_SHARE = 0.9


def customer_key_warning(features: pd.DataFrame, loaded: LoadedTable) -> str | None:
    """Say so when the customer column looks like a per-order key.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per customer (``frequency`` is read).
    loaded : LoadedTable
        The read file: its mapping and ``customer_key_candidates`` (unmapped
        customer-like headers and their distinct values).

    Returns
    -------
    str or None
        A warning naming the candidate column(s) and the ``--map`` fix, when at
        least :data:`ONE_ORDER_WARNING_SHARE` of customers have one order and an
        unmapped customer-like column has fewer distinct values than there are
        customers (so it repeats); otherwise None.
    """
    share = float((features[schema.FREQUENCY] == 1).mean())
    if share < ONE_ORDER_WARNING_SHARE:
        return None
    candidates = {
        header: n
        for header, n in (loaded.customer_key_candidates or {}).items()
        if 0 < n < len(features)
    }
    if not candidates:
        return None
    header, n = min(candidates.items(), key=lambda item: (item[1], item[0]))
    used = loaded.mapping.get(schema.CUSTOMER_ID, schema.CUSTOMER_ID)
    return (
        f"{share:.0%} of customers have a single order under the customer column "
        f"{used!r}: it may change with every order. The column {header!r} has "
        f"{n:,} distinct values for {len(features):,} customers, so it repeats; if "
        f"it is the buyer, use it: --map customer_id={header} (in the app: choose "
        "it as the customer column)"
    )


def load_sample() -> bytes:
    """Return the bytes of the built-in sample export (a CSV).

    See :mod:`segmentation.datasets` for its source (UCI Online Retail).
    """
    return sample_bytes()


__all__ = [
    "ONE_ORDER_WARNING_SHARE",
    "ProgressCallback",
    "compare",
    "customer_key_warning",
    "fit_styles",
    "load_sample",
    "migration",
    "prepare",
    "segment",
]
