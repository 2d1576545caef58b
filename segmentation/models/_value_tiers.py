"""Value tiers: a clustering of standardised ``log1p`` frequency and monetary.

:class:`ValueTiers` numbers its clusters 0..k-1 in ascending value (DESIGN
section 6) and keeps a per-tier profile. The clustering method is k-means by
default, or a Gaussian mixture, Ward or HDBSCAN (DESIGN section 7; each method
is described in :mod:`segmentation.models._methods`). Recency is not clustered: it is a
status, not a value (two customers who spent the same are in the same tier
whether they bought last week or last year). Re-exported by
:mod:`segmentation.models`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from segmentation import schema
from segmentation.errors import TooFewCustomersError
from segmentation.models._inputs import (
    KMEANS_THREADS,
    N_INIT,
    check_features,
    check_k,
    log_scaler,
)
from segmentation.models._methods import (
    UNCLUSTERED,
    UNCLUSTERED_LABEL,
    check_method,
    fit_method,
    ward_sample,
)
from segmentation.personas import tier_names
from segmentation.settings import DEFAULT_K, DEFAULT_METHOD, DEFAULT_SEED

__all__ = ["ORDER_TRIES", "EqualBands", "ValueTiers"]


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
            f"the {n} customers have only {distinct} distinct frequency/monetary "
            f"values, fewer than k={k} value tiers; choose k <= {distinct}",
            n_customers=n,
            k=k,
        )


#: Seeds tried from ``random_state`` on when a k-means partition breaks the value
#: order (a higher tier with a lower median frequency than the tier below).
ORDER_TRIES = 10


def _value_score(Z: np.ndarray) -> np.ndarray:
    """Sum the standardised value features: one value axis, shape (n, 1)."""
    return np.asarray(Z).sum(axis=1, keepdims=True)


def _ranked(values: pd.DataFrame, raw: np.ndarray) -> tuple[np.ndarray, bool]:
    """Order raw clusters by median monetary (then frequency); tell if monotone.

    Returns ``order`` (``order[raw label]`` = value_cluster) and whether median
    monetary strictly increases and median frequency never decreases with it.
    Rows of raw label -1 (HDBSCAN's noise) belong to no cluster and are left out.
    """
    grouped = raw >= 0
    med = values[grouped].groupby(raw[grouped]).median()
    ranked = med.sort_values([schema.MONETARY, schema.FREQUENCY], kind="stable")
    order = np.empty(len(med), dtype=np.intp)
    order[ranked.index.to_numpy()] = np.arange(len(med))
    monotone = bool(
        (np.diff(ranked[schema.MONETARY].to_numpy()) > 0).all()
        and (np.diff(ranked[schema.FREQUENCY].to_numpy()) >= 0).all()
    )
    return order, monotone


class EqualBands(ClusterMixin, BaseEstimator):
    """k bands of equal size along one axis (the last fallback of the tiers).

    Parameters
    ----------
    n_clusters : int
        Number of bands.
    """

    def __init__(self, n_clusters: int = DEFAULT_K):
        self.n_clusters = n_clusters

    def fit(self, X, y=None):
        """Learn the band edges: the k-quantiles of the one column of X."""
        axis = np.asarray(X, dtype=float).ravel()
        self.edges_ = np.quantile(axis, np.linspace(0, 1, self.n_clusters + 1))[1:-1]
        self.labels_ = self.predict(X)
        return self

    def predict(self, X):
        """Return each row's band, 0..k-1 (ascending along the axis)."""
        check_is_fitted(self, "edges_")
        return np.searchsorted(self.edges_, np.asarray(X, dtype=float).ravel())


def _fit(values: pd.DataFrame, k: int, seed: int, n_init: int, method: str):
    """Fit one partition; return (pipeline, raw, info, order, monotone) or None."""
    if method in ("gmm", "ward", "hdbscan"):
        with threadpool_limits(KMEANS_THREADS):
            fit = fit_method(values, k, seed, n_init, method)
        return None if fit is None else (*fit, *_ranked(values, fit[1]))
    steps = log_scaler().steps
    if method != "kmeans":  # one axis: the summed z-scores
        steps = [*steps, ("value_score", FunctionTransformer(_value_score))]
    last = (
        EqualBands(k)
        if method == "equal_bands"
        else KMeans(k, random_state=seed, n_init=n_init)
    )
    pipeline = Pipeline([*steps, ("kmeans", last)])
    with threadpool_limits(KMEANS_THREADS), warnings.catch_warnings():
        if method == "value_score":  # distinct customers may share a score
            warnings.simplefilter("error", ConvergenceWarning)
        try:
            raw = pipeline.fit_predict(values)
        except ConvergenceWarning:
            return None
    if len(np.unique(raw)) < k:  # equal bands of tied scores may merge
        return None
    return (pipeline, raw, {}, *_ranked(values, raw))


class ValueTiers(ClusterMixin, BaseEstimator):
    """Value tiers: a clustering of standardised log1p frequency and monetary.

    Parameters
    ----------
    n_clusters : int, default=3
        Number of value tiers k, 2 <= k <= 10. For ``method="hdbscan"`` it is
        the size control: the smallest group is ``ceil(n / (2k))`` customers
        (:func:`segmentation.models._methods.hdbscan_sizes`), and the number of
        tiers is what HDBSCAN finds (2..10).
    random_state : int, default=0
        Seed of k-means, of the Gaussian mixture and of Ward's sample; same
        data + k + method + seed give identical labels.
    n_init : int, default=10
        Restarts of k-means and of the Gaussian mixture (the best is kept).
    method : {"kmeans", "gmm", "ward", "hdbscan"}, default="kmeans"
        The clustering (:data:`segmentation.settings.METHODS`), each described
        in :mod:`segmentation.models._methods`.

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        ``log1p`` -> ``StandardScaler`` -> the fitted model of ``method_``
        (``KMeans``, ``GaussianMixture``, or ``NearestCentroid`` of the Ward or
        HDBSCAN groups) on ``schema.VALUE_FEATURES`` (frequency, monetary); its
        ``predict`` places new customers.
    value_columns_ : tuple of str
        The columns clustered (``schema.VALUE_FEATURES``).
    order_ : ndarray of shape (n_tiers,)
        ``order_[raw label]`` is the value_cluster.
    labels_ : ndarray of shape (n_samples,)
        value_cluster of each row: 0 = lowest value, n_tiers-1 = highest, -1 =
        Unclustered (HDBSCAN's noise; no other method gives -1). Clusters are
        ordered by median monetary (ties by median frequency), and a higher tier
        never has a lower median monetary or median frequency: when the
        partition of ``random_state`` breaks that order, the next seeds are
        tried (up to :data:`ORDER_TRIES`; k-means, the mixture, and Ward when it
        is fitted on a sample), then k-means on one axis, the sum of the two
        standardised features (bands of value), then k bands of equal size
        along that axis; the first that keeps the order is used.
    method_ : {"kmeans", "gmm", "ward", "hdbscan", "value_score", "equal_bands"}
        Which clustering was kept: ``method`` itself, or one of the two
        fallbacks.
    seed_used_ : int
        The seed of the partition kept.
    monotone_ : bool
        Whether the value order holds (False only when nothing tried kept it).
    n_tiers_ : int
        Number of value tiers: k, or the groups HDBSCAN found.
    fit_info_ : dict
        What the fit decided: for Ward ``fitted_on`` (customers), ``sample_seed``
        and how the ``others`` were placed; for HDBSCAN ``min_cluster_size``,
        ``min_cluster_share``, ``min_samples`` and ``unclustered`` (customers).
        Empty for k-means and the fallbacks.
    profile_ : pandas.DataFrame
        Index ``value_cluster`` (with -1 first when there are Unclustered
        customers); columns ``value_tier``, ``customers``,
        ``median_recency_days``, ``median_frequency``, ``median_monetary`` and
        ``revenue_share`` (cluster monetary / total monetary, 0..1).
    tier_names_ : tuple of str
        :func:`segmentation.personas.tier_names` of ``n_tiers_``.
    """

    def __init__(
        self,
        n_clusters=DEFAULT_K,
        *,
        random_state=DEFAULT_SEED,
        n_init=N_INIT,
        method=DEFAULT_METHOD,
    ):
        self.n_clusters = n_clusters
        self.random_state = random_state
        self.n_init = n_init
        self.method = method

    def __setstate__(self, state):
        """Unpickle; a model saved before methods existed was k-means."""
        super().__setstate__({"method": "kmeans", **state})

    def fit(self, X, y=None):
        """Fit the method and number the clusters by ascending value.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 2)
            Customers with columns ``schema.VALUE_FEATURES`` (others are
            ignored): frequency (orders) and monetary (currency), all >= 0.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        SegmentationError
            For a k outside 2..10, an unknown method, a missing column, or a
            missing / negative / infinite value (the message names the column
            and the customer).
        TooFewCustomersError
            If there are fewer customers (or distinct RFM rows) than k.
        """
        k = check_k(self.n_clusters)
        method = check_method(self.method)
        values = check_features(X, schema.VALUE_FEATURES)
        _check_enough(values, k)
        # 1. the method; 2. order clusters by median value; 3. keep the first seed
        # whose order is monotone in both medians (DESIGN section 6).
        seeds = range(self.random_state, self.random_state + ORDER_TRIES)
        if method == "hdbscan" or (
            method == "ward" and ward_sample(len(values), 0) is None
        ):
            seeds = seeds[:1]  # no seed changes the partition
        tried = []
        for kind, seed in [
            *((method, s) for s in seeds),
            ("value_score", seeds[0]),
            ("equal_bands", seeds[0]),
        ]:
            fit = _fit(values, k, seed, self.n_init, kind)
            if fit is None:  # one axis cannot hold k distinct groups here
                continue
            tried.append((kind, seed, *fit))
            if tried[-1][-1]:  # monotone
                break
        else:  # nothing kept the order: the first partition, flagged
            if not tried:
                raise TooFewCustomersError(
                    f"no clustering of the {len(values)} customers' frequency and "
                    f"monetary gives {k} value tiers; choose a smaller k",
                    n_customers=len(values),
                    k=k,
                )
            tried.append(tried[0])
        kind, seed, pipeline, raw, info, order, monotone = tried[-1]
        self.pipeline_, self.order_ = pipeline, order
        self.value_columns_ = schema.VALUE_FEATURES
        self.method_, self.seed_used_, self.monotone_ = kind, seed, monotone
        self.fit_info_ = info
        self.n_tiers_ = len(order)
        self.labels_ = np.where(raw >= 0, order[np.maximum(raw, 0)], UNCLUSTERED_LABEL)
        self.tier_names_ = tier_names(self.n_tiers_)
        self.profile_ = self._profile(X, self.labels_)
        return self

    def _profile(self, X: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
        k = len(self.order_)
        rows = [*([UNCLUSTERED_LABEL] if (labels < 0).any() else []), *range(k)]
        names = [*([UNCLUSTERED] if (labels < 0).any() else []), *self.tier_names_]
        shown = [c for c in schema.RFM_COLUMNS if c in X.columns]
        rfm = X[shown]
        grouped = rfm.groupby(pd.Index(labels, name=schema.VALUE_CLUSTER))
        med = grouped.median().add_prefix("median_").reindex(rows)
        total = rfm[schema.MONETARY].sum()
        revenue = grouped[schema.MONETARY].sum().reindex(rows, fill_value=0.0)
        share = revenue / total if total > 0 else revenue * 0.0
        profile = med.assign(
            customers=grouped.size().reindex(rows, fill_value=0),
            revenue_share=share,
            value_tier=names,
        )
        columns = ["value_tier", "customers", *med.columns, "revenue_share"]
        return profile[columns].rename_axis(schema.VALUE_CLUSTER)

    def predict(self, X):
        """Return the value_cluster of new customers.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 2)
            Columns ``value_columns_`` (frequency, monetary), any values >= 0.

        Returns
        -------
        ndarray of shape (n_samples,)
            value_cluster, in the same ascending-value numbering as ``labels_``:
            the nearest k-means centre, the Gaussian mixture's most probable
            component, or the nearest centroid (in the standardised space) of
            the Ward or HDBSCAN tiers; never -1 (Unclustered is a fit's verdict
            on the customers it saw, not a place for a new one).

        Raises
        ------
        SegmentationError
            For a missing column or a missing / negative value.
        """
        check_is_fitted(self, "pipeline_")
        # Models saved before the tiers dropped recency clustered all three.
        columns = getattr(self, "value_columns_", schema.RFM_COLUMNS)
        values = check_features(X, columns)
        with threadpool_limits(KMEANS_THREADS):
            return self.order_[self.pipeline_.predict(values)]
