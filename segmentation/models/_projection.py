"""The value tiers' feature space seen from its principal axes (DESIGN section 7).

* :func:`principal_components` – principal component analysis (scikit-learn's
  ``PCA``) of the customers' standardised ``log1p`` features, by default the
  value features the tiers cluster (frequency and monetary,
  :func:`segmentation.models._inputs.log_scaler`): each customer's position on
  the first components, the share of the variance each explains and the
  loadings (each component's weight on each standardised feature).

With the two value features, the components are the two diagonals of the
standardised plane (loadings ±1/√2, signs fixed below) and PC1 explains
``(1 + |r|) / 2`` of the variance, r the correlation of log frequency and log
monetary: the view turns the frequency × monetary plane so that its main
direction of spread is horizontal. Private helper of :mod:`segmentation.models`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from segmentation import schema
from segmentation.models._inputs import check_features, log_scaler

__all__ = ["Projection", "principal_components"]


@dataclass
class Projection:
    """Customers on the first principal components of their standardised features.

    Attributes
    ----------
    coordinates : pandas.DataFrame of shape (n_customers, n_components)
        Index as the features' (``customer_id``); columns ``PC1``, ``PC2``, ...:
        each customer's score (standardised units).
    explained_variance_ratio : numpy.ndarray of shape (n_components,)
        Share (0..1) of the total variance of the standardised features each
        component explains.
    loadings : pandas.DataFrame of shape (n_components, n_features)
        Index ``PC1``, ...; columns the features (``log1p`` then standardised):
        each component's unit weight vector. Signs are fixed so that every
        component's largest-magnitude weight is positive (PC1 then grows with
        value).
    columns : tuple of str
        The features, in the loadings' order.
    """

    coordinates: pd.DataFrame
    explained_variance_ratio: np.ndarray
    loadings: pd.DataFrame
    columns: tuple[str, ...]


def principal_components(
    features: pd.DataFrame,
    columns: tuple[str, ...] = schema.VALUE_FEATURES,
    n_components: int = 2,
) -> Projection:
    """Return the customers on the first principal components of ``columns``.

    Parameters
    ----------
    features : pandas.DataFrame of shape (n_customers, >= len(columns))
        The customer feature table (``PreparedData.features``, index
        ``customer_id``; the labelled customer table also has the columns).
    columns : tuple of str, default ``schema.VALUE_FEATURES``
        The features, each ``log1p``-transformed then standardised (mean 0,
        population standard deviation 1) as the value tiers do before PCA.
    n_components : int, default 2
        Components kept, 1..len(columns).

    Returns
    -------
    Projection

    Raises
    ------
    SegmentationError
        For a missing column or a missing, negative or infinite value (naming
        the column and the first customer), from the features' check.
    ValueError
        When ``n_components`` is not in 1..len(columns), or there are fewer
        customers than components.
    """
    values = check_features(features, tuple(columns))
    if not 1 <= n_components <= len(columns):
        raise ValueError(
            f"n_components={n_components}: choose 1..{len(columns)} for the "
            f"{len(columns)} features {', '.join(columns)}"
        )
    if len(values) < n_components:
        raise ValueError(
            f"{len(values)} customer(s) cannot give {n_components} principal components"
        )
    standardised = log_scaler().fit_transform(values)
    pca = PCA(n_components=n_components, svd_solver="full").fit(standardised)
    components = pca.components_.copy()
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), largest])
    components *= signs[:, None]
    names = [f"PC{i + 1}" for i in range(n_components)]
    scores = (standardised - pca.mean_) @ components.T
    return Projection(
        coordinates=pd.DataFrame(scores, index=features.index, columns=names),
        explained_variance_ratio=pca.explained_variance_ratio_.copy(),
        loadings=pd.DataFrame(components, index=names, columns=list(columns)),
        columns=tuple(columns),
    )
