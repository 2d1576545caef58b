"""The two segmentations and the choice of k (DESIGN section 6).

* :class:`ValueTiers` – k-means on standardised ``log1p`` recency, frequency and
  monetary; clusters renumbered 0..k-1 in ascending value.
* :class:`PurchaseStyle` – Regular / Bulk / Anomaly, with a reason in words.
* :func:`k_diagnostics` – inertia, silhouette, Davies–Bouldin and Calinski–Harabasz
  for k = 2..10 and a recommended k; :func:`stability` – mean adjusted Rand index.

Input is the customer feature table of :func:`segmentation.features.customer_features`
(index ``customer_id``); only the columns named below are read.
"""

from __future__ import annotations

import itertools
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from kneed import KneeLocator
from scipy.stats import median_abs_deviation
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.ensemble import IsolationForest
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances_chunked,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from segmentation import schema
from segmentation.errors import SegmentationError, TooFewCustomersError
from segmentation.personas import tier_names

__all__ = [
    "K_RANGE",
    "KDiagnostics",
    "PurchaseStyle",
    "ValueTiers",
    "check_features",
    "k_diagnostics",
    "stability",
]

#: Allowed numbers of value tiers (DESIGN section 6).
K_RANGE = range(2, 11)
#: k-means restarts of one value-tier fit, and of each k in the diagnostic sweep
#: (fewer: the sweep fits nine models and must stay well under a second).
N_INIT = 10
SWEEP_N_INIT = 5
#: k-means runs with this many OpenMP/BLAS threads. A few thousand customers gain
#: nothing from threads, and on a busy shared server threads that spin-wait for a
#: core made the k sweep up to 10x slower (measured: 0.4 s single-threaded against
#: 0.6-4.7 s with 2 threads on 2 loaded cores).
KMEANS_THREADS = 1


def check_features(X: object, columns: tuple[str, ...]) -> pd.DataFrame:
    """Return ``X[columns]`` as float, or say which column and customer is wrong.

    Parameters
    ----------
    X : pandas.DataFrame of shape (n_samples, n_columns)
        A customer table (index ``customer_id``).
    columns : tuple of str
        The columns needed; each must be numeric, finite and >= 0.

    Returns
    -------
    pandas.DataFrame of shape (n_samples, len(columns))
        float64 copy, same index.

    Raises
    ------
    SegmentationError
        If ``X`` is not a DataFrame, is empty, lacks a column, or holds a
        non-numeric, missing, infinite or negative value (first offending customer
        named).
    """
    if not isinstance(X, pd.DataFrame):
        raise SegmentationError(
            f"expected a customer table (pandas DataFrame) with columns "
            f"{', '.join(columns)}, got {type(X).__name__}"
        )
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise SegmentationError(
            f"the customer table lacks column(s) {', '.join(missing)}",
            missing=missing,
        )
    if X.empty:
        raise SegmentationError("the customer table has no customers")
    out = X[list(columns)].apply(pd.to_numeric, errors="coerce").astype("float64")
    for column in columns:
        values = out[column].to_numpy()
        for bad, what in ((~np.isfinite(values), "missing, non-numeric or infinite"),
                          (values < 0, "negative")):
            if bad.any():
                first = np.flatnonzero(bad)[0]
                raise SegmentationError(
                    f"column {column!r} has {int(bad.sum())} {what} value(s); first "
                    f"at customer {X.index[first]!r}: {X[column].iloc[first]!r}",
                    column=column,
                )
    return out


def _log_scaler() -> Pipeline:
    """``log1p`` then standardisation: the feature space of the value tiers."""
    return Pipeline(
        [
            ("log1p", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
            ("scale", StandardScaler()),
        ]
    )


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k not in K_RANGE:
        raise SegmentationError(
            f"n_clusters={k!r} value tiers is not allowed; choose k between "
            f"{K_RANGE.start} and {K_RANGE.stop - 1}"
        )
    return int(k)


def _check_enough(X: pd.DataFrame, k: int) -> None:
    n = len(X)
    if n < k:
        raise TooFewCustomersError(
            f"{n} customers is fewer than k={k} value tiers; choose k <= {n}",
            n_customers=n,
            k=k,
        )
    distinct = len(X.drop_duplicates())
    if distinct < k:
        raise TooFewCustomersError(
            f"the {n} customers have only {distinct} distinct recency/frequency/"
            f"monetary values, fewer than k={k} value tiers; choose k <= {distinct}",
            n_customers=n,
            k=k,
        )


class ValueTiers(ClusterMixin, BaseEstimator):
    """Value tiers: k-means on standardised log1p recency, frequency, monetary.

    Parameters
    ----------
    n_clusters : int, default=3
        Number of value tiers k, 2 <= k <= 10.
    random_state : int, default=0
        Seed of k-means; same data + k + seed give identical labels.
    n_init : int, default=10
        k-means restarts (the best inertia is kept).

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        ``log1p`` -> ``StandardScaler`` -> ``KMeans`` fitted on the RFM columns.
    order_ : ndarray of shape (n_clusters,)
        ``order_[raw k-means label]`` is the value_cluster.
    labels_ : ndarray of shape (n_samples,)
        value_cluster of each row: 0 = lowest value, k-1 = highest. Clusters are
        ordered by median monetary, ties by median frequency, then by lower median
        recency_days.
    profile_ : pandas.DataFrame
        Index ``value_cluster``; columns ``value_tier``, ``customers``,
        ``median_recency_days``, ``median_frequency``, ``median_monetary`` and
        ``revenue_share`` (cluster monetary / total monetary, 0..1).
    tier_names_ : tuple of str
        :func:`segmentation.personas.tier_names` of k.
    """

    def __init__(self, n_clusters=3, *, random_state=0, n_init=N_INIT):
        self.n_clusters = n_clusters
        self.random_state = random_state
        self.n_init = n_init

    def fit(self, X, y=None):
        """Fit k-means and number the clusters by ascending value.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 3)
            Customers with columns ``schema.RFM_COLUMNS`` (others are ignored):
            recency_days (days), frequency (orders), monetary (currency), all >= 0.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        SegmentationError
            For a k outside 2..10, a missing column, or a missing / negative /
            infinite value (the message names the column and the customer).
        TooFewCustomersError
            If there are fewer customers (or distinct RFM rows) than k.
        """
        k = _check_k(self.n_clusters)
        rfm = check_features(X, schema.RFM_COLUMNS)
        _check_enough(rfm, k)
        kmeans = KMeans(k, random_state=self.random_state, n_init=self.n_init)
        self.pipeline_ = Pipeline([*_log_scaler().steps, ("kmeans", kmeans)])
        with threadpool_limits(KMEANS_THREADS):
            raw = self.pipeline_.fit_predict(rfm)
        # 1. medians per raw cluster; 2. sort by value; 3. relabel rows.
        med = rfm.groupby(raw).median()
        ranked = med.assign(neg_recency=-med[schema.RECENCY_DAYS]).sort_values(
            [schema.MONETARY, schema.FREQUENCY, "neg_recency"], kind="stable"
        )
        self.order_ = np.empty(k, dtype=np.intp)
        self.order_[ranked.index.to_numpy()] = np.arange(k)
        self.labels_ = self.order_[raw]
        self.tier_names_ = tier_names(k)
        self.profile_ = self._profile(rfm, self.labels_)
        return self

    def _profile(self, rfm: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
        k = len(self.order_)
        grouped = rfm.groupby(pd.Index(labels, name=schema.VALUE_CLUSTER))
        med = grouped.median().add_prefix("median_").reindex(range(k))
        total = rfm[schema.MONETARY].sum()
        revenue = grouped[schema.MONETARY].sum().reindex(range(k), fill_value=0.0)
        share = revenue / total if total > 0 else revenue * 0.0
        profile = med.assign(
            customers=grouped.size().reindex(range(k), fill_value=0),
            revenue_share=share,
            value_tier=list(self.tier_names_),
        )
        columns = ["value_tier", "customers", *med.columns, "revenue_share"]
        return profile[columns].rename_axis(schema.VALUE_CLUSTER)

    def predict(self, X):
        """Return the value_cluster of new customers.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 3)
            Columns ``schema.RFM_COLUMNS``, any values >= 0.

        Returns
        -------
        ndarray of shape (n_samples,)
            value_cluster, in the same ascending-value numbering as ``labels_``.

        Raises
        ------
        SegmentationError
            For a missing column or a missing / negative value.
        """
        check_is_fitted(self, "pipeline_")
        rfm = check_features(X, schema.RFM_COLUMNS)
        with threadpool_limits(KMEANS_THREADS):
            return self.order_[self.pipeline_.predict(rfm)]


#: Default Bulk rule: average units per line at least this multiple of the median.
BULK_FACTOR = 4.0
#: An anomaly's second reason is given only when it deviates at least this much
#: (robust z-score on the log1p scale).
SECOND_REASON_Z = 2.0
#: How each behaviour feature is put in words; ``{x}`` customer, ``{m}`` median.
REASON_PHRASES: dict[str, str] = {
    schema.FREQUENCY: "{x} orders vs median {m}",
    schema.MONETARY: "{x} spent vs median {m}",
    schema.AVG_ORDER_VALUE: "average order value {x} vs median {m}",
    schema.AVG_ITEMS_PER_ORDER: "{x} units per order vs median {m}",
    schema.AVG_LINE_QUANTITY: "{x} units per line vs median {m}",
    schema.MAX_LINE_QUANTITY: "largest line {x} units vs median {m}",
    schema.DISTINCT_PRODUCTS: "{x} distinct products vs median {m}",
    schema.RETURN_RATE: "return rate {x} vs median {m}",
}


def _fmt(value: float, column: str = "") -> str:
    if column == schema.RETURN_RATE:
        return f"{100 * value:.0f}%"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


class PurchaseStyle(BaseEstimator):
    """Purchase style: Regular, Bulk or Anomaly, with a reason in words.

    Steps of :meth:`fit`: (1) Anomaly = the ``anomaly_share`` of customers that an
    ``IsolationForest`` (Liu, Ting & Zhou 2008) on standardised ``log1p`` of
    ``schema.BEHAVIOUR_COLUMNS`` isolates most easily; (2) among the others, Bulk =
    ``avg_line_quantity >= bulk_factor * median(avg_line_quantity)`` (the median of
    all fitted customers, and strictly above it); (3) the rest are Regular.
    On Online Retail I (4,334 customers from features.py) the defaults give 2.0 %
    Anomaly and 5.2 % Bulk (threshold 40 units per line, median 10).

    An anomaly's reason names the one or two features that deviate most in robust
    z-score terms on the log1p scale: ``(log1p(x) - median) / MAD`` (MAD scaled to
    the normal; where it is 0, 1.2533 x the mean absolute deviation; where that is
    0 too, 1).

    Parameters
    ----------
    anomaly_share : float, default=0.02
        Expected share of anomalies, 0 < share <= 0.5 (IsolationForest
        ``contamination``).
    bulk_factor : float, default=4.0
        Bulk threshold as a multiple of the median units per line, > 1.
    random_state : int, default=0
        Seed of the forest.

    Attributes
    ----------
    features_used_ : tuple of str
        The behaviour columns the model reads.
    pipeline_ : sklearn.pipeline.Pipeline
        ``log1p`` -> ``StandardScaler`` -> ``IsolationForest``.
    medians_ : pandas.Series
        Median of each behaviour column (raw units) over the fitted customers.
    bulk_threshold_ : float
        Units per line from which a non-anomalous customer is Bulk.
    robust_center_, robust_scale_ : pandas.Series
        Median and robust scale of each log1p behaviour column.
    styles_ : pandas.Series of str
        Purchase style per fitted customer, indexed like X.
    reasons_ : pandas.Series of str
        Style reason per fitted customer ("" for Regular).
    """

    def __init__(self, anomaly_share=0.02, *, bulk_factor=BULK_FACTOR, random_state=0):
        self.anomaly_share = anomaly_share
        self.bulk_factor = bulk_factor
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit the forest and the Bulk threshold; label the fitted customers.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 8)
            Customers with all of ``schema.BEHAVIOUR_COLUMNS`` (others ignored).
            A column that is entirely missing (NaN), such as distinct_products
            for a file without stock codes, is left out of the model; any other
            missing value is an error.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        SegmentationError
            For ``anomaly_share`` outside (0, 0.5], ``bulk_factor`` <= 1, fewer than
            2 customers, or a missing / negative value (column and customer named).
        """
        share = self.anomaly_share
        if isinstance(share, bool) or not isinstance(share, numbers.Real) or not (
            0 < share <= 0.5
        ):
            raise SegmentationError(
                f"anomaly_share={share!r} must be in (0, 0.5], e.g. 0.02 for 2 %"
            )
        if isinstance(self.bulk_factor, bool) or not isinstance(
            self.bulk_factor, numbers.Real
        ) or not self.bulk_factor > 1:
            raise SegmentationError(
                f"bulk_factor={self.bulk_factor!r} must be a number > 1"
            )
        if isinstance(X, pd.DataFrame):
            # A column with no value at all (distinct_products of a file without
            # stock codes) is left out; avg_line_quantity is always needed.
            empty = {
                c for c in schema.BEHAVIOUR_COLUMNS if c in X and X[c].isna().all()
            }
            empty.discard(schema.AVG_LINE_QUANTITY)
        else:
            empty = set()
        self.features_used_ = tuple(
            c for c in schema.BEHAVIOUR_COLUMNS if c not in empty
        )
        data = check_features(X, self.features_used_)
        if len(data) < 2:
            raise SegmentationError(
                f"purchase styles need at least 2 customers, got {len(data)}"
            )
        forest = IsolationForest(
            contamination=float(share), random_state=self.random_state
        )
        self.pipeline_ = Pipeline([*_log_scaler().steps, ("forest", forest)])
        self.pipeline_.fit(data)
        self.medians_ = data.median()
        self.bulk_threshold_ = float(
            self.bulk_factor * self.medians_[schema.AVG_LINE_QUANTITY]
        )
        logs = np.log1p(data)
        self.robust_center_ = logs.median()
        mad = pd.Series(
            median_abs_deviation(logs, scale="normal"), index=logs.columns
        )
        mean_ad = (logs - self.robust_center_).abs().mean() * np.sqrt(np.pi / 2)
        self.robust_scale_ = mad.where(mad > 0, mean_ad).where(lambda s: s > 0, 1.0)
        labelled = self.predict(X)
        self.styles_ = labelled[schema.PURCHASE_STYLE]
        self.reasons_ = labelled[schema.STYLE_REASON]
        return self

    def predict(self, X):
        """Return the purchase style and reason of (new) customers.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 7)
            The columns ``features_used_`` are required: all of
            ``schema.BEHAVIOUR_COLUMNS`` except one that was entirely missing at
            fit time (the forest reads them all; the Bulk rule reads
            ``avg_line_quantity``).

        Returns
        -------
        pandas.DataFrame of shape (n_samples, 2)
            Index as X; columns ``purchase_style`` (``schema.PURCHASE_STYLES``) and
            ``style_reason`` ("" for Regular).

        Raises
        ------
        SegmentationError
            For a missing column or a missing / negative value.
        """
        check_is_fitted(self, "pipeline_")
        data = check_features(X, self.features_used_)
        anomaly = self.pipeline_.predict(data) == -1
        line_qty = data[schema.AVG_LINE_QUANTITY]
        median_qty = self.medians_[schema.AVG_LINE_QUANTITY]
        bulk = ~anomaly & (line_qty >= self.bulk_threshold_) & (line_qty > median_qty)
        z = (np.log1p(data) - self.robust_center_) / self.robust_scale_
        styles = np.where(anomaly, schema.ANOMALY, np.where(bulk, schema.BULK, ""))
        styles = np.where(styles == "", schema.REGULAR, styles)
        reasons = [
            self._anomaly_reason(data.iloc[i], z.iloc[i]) if anomaly[i]
            else self._bulk_reason(line_qty.iloc[i]) if bulk.iloc[i]
            else ""
            for i in range(len(data))
        ]
        return pd.DataFrame(
            {schema.PURCHASE_STYLE: styles, schema.STYLE_REASON: reasons},
            index=X.index,
        )

    def _bulk_reason(self, line_qty: float) -> str:
        median = self.medians_[schema.AVG_LINE_QUANTITY]
        ratio = line_qty / median
        times = f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"
        return (
            f"{_fmt(line_qty)} units per line on average, {times} the median of "
            f"{_fmt(median)}"
        )

    def _anomaly_reason(self, row: pd.Series, z: pd.Series) -> str:
        ranked = z.abs().sort_values(ascending=False, kind="stable")
        chosen = [ranked.index[0]]
        if len(ranked) > 1 and ranked.iloc[1] >= SECOND_REASON_Z:
            chosen.append(ranked.index[1])
        return "; ".join(
            REASON_PHRASES[c].format(
                x=_fmt(row[c], c), m=_fmt(self.medians_[c], c)
            )
            for c in chosen
        )


@dataclass
class KDiagnostics:
    """The k sweep: quality measures per k and a recommended k.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``k``; columns ``inertia``, ``silhouette``, ``davies_bouldin``,
        ``calinski_harabasz``.
    recommended_k : int
    rule : str
        In words, which rule chose ``recommended_k``.
    knee : int or None
        The knee of the inertia curve, None where kneed finds none.
    silhouette_sample : int
        Number of customers the silhouette was computed on.
    """

    table: pd.DataFrame
    recommended_k: int
    rule: str
    knee: int | None
    silhouette_sample: int


def silhouette_scores(Z: np.ndarray, labelings: list[np.ndarray]) -> list[float]:
    """Mean silhouette of several labelings of the same points, in one pass.

    Same definition and value as :func:`sklearn.metrics.silhouette_score`
    (Rousseeuw 1987, Euclidean; 0 for a point alone in its cluster), but the
    distance matrix is computed once, in chunks, for all labelings: the per-cluster
    distance sums are ``D @ one_hot(labels)``.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    labelings : list of ndarray of shape (n_samples,)
        Integer labels ``0..k-1``, each with at least 2 clusters.

    Returns
    -------
    list of float
    """
    sizes = [int(labels.max()) + 1 for labels in labelings]
    one_hot = np.hstack([np.eye(k)[labels] for k, labels in zip(sizes, labelings)])
    sums = np.vstack(
        list(pairwise_distances_chunked(Z, reduce_func=lambda d, _: d @ one_hot))
    )
    rows = np.arange(len(Z))
    scores, start = [], 0
    for k, labels in zip(sizes, labelings):
        block, start = sums[:, start : start + k], start + k
        counts = np.bincount(labels, minlength=k).astype(float)
        own = counts[labels]
        a = block[rows, labels] / np.maximum(own - 1, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_other = block / counts
        mean_other[rows, labels] = np.inf
        b = mean_other.min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(own > 1, (b - a) / np.maximum(a, b), 0.0)
        scores.append(float(np.nan_to_num(s).mean()))
    return scores


def k_diagnostics(
    X,
    k_values=K_RANGE,
    *,
    random_state=0,
    sample_size=10_000,
    n_init=SWEEP_N_INIT,
) -> KDiagnostics:
    """Fit k-means for each k and recommend one (DESIGN section 6).

    The scaler (``log1p`` + standardisation, as in :class:`ValueTiers`) is fitted
    once; every k reuses the scaled matrix. k values that need more customers (or
    distinct RFM rows) than there are are left out, and the rule says so.

    Parameters
    ----------
    X : pandas.DataFrame of shape (n_samples, >= 3)
        Columns ``schema.RFM_COLUMNS``.
    k_values : iterable of int, default=range(2, 11)
        Each in 2..10.
    random_state : int, default=0
        Seed of k-means and of the silhouette sample.
    sample_size : int, default=10_000
        The silhouette is computed on a fixed-seed random sample of at most this
        many customers (it costs O(n^2)).
    n_init : int, default=5
        k-means restarts per k.

    Returns
    -------
    KDiagnostics
        Recommended k: the knee of the inertia curve found by
        ``kneed.KneeLocator(curve="convex", direction="decreasing")`` (Satopää et
        al. 2011); where kneed finds no knee, the k >= 3 with the best silhouette.

    Raises
    ------
    SegmentationError
        For a k outside 2..10 or bad RFM values.
    TooFewCustomersError
        If no k of ``k_values`` can be fitted.
    """
    ks = sorted({_check_k(k) for k in k_values})
    rfm = check_features(X, schema.RFM_COLUMNS)
    n_distinct = len(rfm.drop_duplicates())
    usable = [k for k in ks if k < len(rfm) and k <= n_distinct]
    if not usable:
        raise TooFewCustomersError(
            f"{len(rfm)} customers ({n_distinct} distinct RFM rows) are too few for "
            f"any k in {ks}",
            n_customers=len(rfm),
        )
    Z = _log_scaler().fit_transform(rfm)
    rng = np.random.default_rng(random_state)
    sample = np.sort(rng.choice(len(Z), min(sample_size, len(Z)), replace=False))
    with threadpool_limits(KMEANS_THREADS):
        fits = [
            KMeans(k, random_state=random_state, n_init=n_init).fit(Z) for k in usable
        ]
        labelings = [f.labels_ for f in fits]
        sil = silhouette_scores(Z[sample], [lab[sample] for lab in labelings])
    table = pd.DataFrame(
        {
            "inertia": [f.inertia_ for f in fits],
            "silhouette": sil,
            "davies_bouldin": [davies_bouldin_score(Z, lab) for lab in labelings],
            "calinski_harabasz": [calinski_harabasz_score(Z, lab) for lab in labelings],
        },
        index=pd.Index(usable, name="k"),
    )
    knee = _knee(table["inertia"])
    if knee is not None:
        best, rule = knee, f"knee of the inertia curve (kneed) at k={knee}"
    else:
        pool = table.loc[table.index >= 3] if (table.index >= 3).any() else table
        best = int(pool["silhouette"].idxmax())
        rule = (
            "no knee in the inertia curve; best silhouette among k >= 3 "
            f"({pool.loc[best, 'silhouette']:.3f} at k={best})"
        )
    skipped = sorted(set(ks) - set(usable))
    if skipped:
        rule += f"; k={skipped} skipped: only {len(rfm)} customers"
    return KDiagnostics(table, best, rule, knee, len(sample))


def _knee(inertia: pd.Series) -> int | None:
    if len(inertia) < 3:
        return None
    with warnings.catch_warnings():
        # kneed warns "No knee/elbow found" and returns None; the caller falls back.
        warnings.filterwarnings("ignore", message="No knee", category=UserWarning)
        knee = KneeLocator(
            inertia.index.to_numpy(),
            inertia.to_numpy(),
            curve="convex",
            direction="decreasing",
        ).knee
    return None if knee is None else int(knee)


def stability(X, k, *, seeds=(0, 1, 2, 3, 4)) -> float:
    """Mean adjusted Rand index between value-tier fits with different seeds.

    Every pair of seeds is compared (``len(seeds) * (len(seeds) - 1) / 2`` pairs);
    1.0 means every seed finds the same partition (Hubert & Arabie 1985).

    Parameters
    ----------
    X : pandas.DataFrame of shape (n_samples, >= 3)
        Columns ``schema.RFM_COLUMNS``.
    k : int
        Number of value tiers, 2..10.
    seeds : sequence of int, default=(0, 1, 2, 3, 4)
        At least two.

    Returns
    -------
    float
        In [-0.5, 1]; in practice 0..1.

    Raises
    ------
    SegmentationError, TooFewCustomersError
        As :meth:`ValueTiers.fit`, or for fewer than two seeds.
    """
    seeds = list(seeds)
    if len(seeds) < 2:
        raise SegmentationError(f"stability needs at least two seeds, got {seeds}")
    labels = [ValueTiers(k, random_state=s).fit(X).labels_ for s in seeds]
    pairs = itertools.combinations(labels, 2)
    return float(np.mean([adjusted_rand_score(a, b) for a, b in pairs]))
