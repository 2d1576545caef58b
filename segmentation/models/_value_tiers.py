"""Value tiers: k-means on standardised ``log1p`` recency, frequency, monetary.

:class:`ValueTiers` numbers its clusters 0..k-1 in ascending value (DESIGN
section 6) and keeps a per-tier profile. Re-exported by
:mod:`segmentation.models`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline
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
from segmentation.personas import tier_names
from segmentation.settings import DEFAULT_K, DEFAULT_SEED

__all__ = ["ValueTiers"]


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

    def __init__(
        self, n_clusters=DEFAULT_K, *, random_state=DEFAULT_SEED, n_init=N_INIT
    ):
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
        k = check_k(self.n_clusters)
        rfm = check_features(X, schema.RFM_COLUMNS)
        _check_enough(rfm, k)
        kmeans = KMeans(k, random_state=self.random_state, n_init=self.n_init)
        self.pipeline_ = Pipeline([*log_scaler().steps, ("kmeans", kmeans)])
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
