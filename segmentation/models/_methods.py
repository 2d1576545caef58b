"""The four clustering methods of the value tiers, each as one raw partition.

Private helper of :mod:`segmentation.models`, used by
:class:`~segmentation.models.ValueTiers` (which orders the partition by value
and falls back when the order breaks) and by the method comparison. Every method
works in the same feature space: ``log1p`` then standardisation of frequency and
monetary (:func:`~segmentation.models._inputs.log_scaler`); scikit-learn only.

========== ========================================== ===============================
method     the partition                              a new customer (``predict``)
========== ========================================== ===============================
kmeans     ``KMeans(k, n_init)``                      nearest k-means centre
gmm        ``GaussianMixture(k, covariance_type=      the mixture's own ``predict``:
           "full", n_init)``, fixed seed              the most probable component
ward       ``AgglomerativeClustering(k,               nearest tier centroid
           linkage="ward")``; above                   (``NearestCentroid``) in the
           :data:`~segmentation.settings.WARD_SAMPLE` standardised space
           customers it is fitted on a fixed-seed
           sample of that many and the others go to
           the nearest centroid of the sample's groups
hdbscan    ``HDBSCAN(min_cluster_size, min_samples)``; nearest centroid of the groups
           it chooses its own number of groups; its   it found (a new customer is
           noise customers are *Unclustered* (label   never Unclustered: scikit-learn's
           -1), never dropped                         HDBSCAN has no predict)
========== ========================================== ===============================

How k drives HDBSCAN (:func:`hdbscan_sizes`): k is read as "tiers of equal
size", and a dense group counts only if it holds at least half a tier's share of
the customers, ``min_cluster_size = ceil(n / (2k))`` (at least 2), so HDBSCAN
finds at most 2k groups, in practice about k; ``min_samples`` (the density
smoothing) is fixed at :data:`~segmentation.settings.HDBSCAN_MIN_SAMPLES` so that
the size control does not also decide what counts as noise. When that finds fewer
than 2 groups, ``min_cluster_size`` is halved (down to 2), and when it finds more
than :data:`~segmentation.settings.K_MAX`, doubled, until it finds 2..10; the size
used is kept in ``fit_info_``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from sklearn.cluster import HDBSCAN, AgglomerativeClustering
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import Pipeline

from segmentation.errors import SegmentationError
from segmentation.models._inputs import log_scaler
from segmentation.settings import HDBSCAN_MIN_SAMPLES, K_MAX, METHODS, WARD_SAMPLE

__all__ = [
    "UNCLUSTERED",
    "UNCLUSTERED_LABEL",
    "check_method",
    "fit_method",
    "hdbscan_sizes",
    "ward_sample",
]

#: The value_cluster and value_tier of the customers HDBSCAN leaves as noise.
UNCLUSTERED_LABEL = -1
UNCLUSTERED = "Unclustered"
#: How many times :func:`hdbscan_sizes` may halve or double min_cluster_size.
_SIZE_STEPS = 12


def check_method(method: object) -> str:
    """Return ``method`` if it is one of :data:`~segmentation.settings.METHODS`.

    Raises
    ------
    SegmentationError
        For any other value, naming the allowed ones.
    """
    if method not in METHODS:
        raise SegmentationError(
            f"method={method!r} is not a clustering method; choose one of "
            + ", ".join(METHODS)
        )
    return str(method)


def ward_sample(n: int, seed: int, size: int = WARD_SAMPLE) -> np.ndarray | None:
    """Rows Ward is fitted on: all (None) up to ``size``, else a fixed-seed sample.

    Returns
    -------
    ndarray of int or None
        Sorted positions of ``size`` customers drawn without replacement by
        ``numpy.random.default_rng(seed)``; None when ``n <= size``.
    """
    if n <= size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def hdbscan_sizes(n: int, k: int) -> int:
    """Return the first ``min_cluster_size`` HDBSCAN tries for k tiers of n.

    ``ceil(n / (2k))``, at least 2: a dense group must hold at least half of the
    share of one of k equal tiers (see the module's notes).

    Examples
    --------
    >>> hdbscan_sizes(4334, 3)
    723
    >>> hdbscan_sizes(30, 3)
    5
    """
    return max(2, math.ceil(n / (2 * k)))


def _centroid_pipeline(scaler: Pipeline, Z, raw, name: str) -> Pipeline:
    """Return the scaler then the nearest centroid of each raw group (noise out)."""
    kept = raw >= 0
    with warnings.catch_warnings():
        # "zero standard deviation" within a group of identical customers only
        # matters to shrunken centroids, which are not used
        warnings.filterwarnings("ignore", message=".*zero standard deviation")
        centroid = NearestCentroid().fit(Z[kept], raw[kept])
    return Pipeline([*scaler.steps, (name, centroid)])


def _hdbscan(Z: np.ndarray, k: int) -> tuple[np.ndarray, dict]:
    size = hdbscan_sizes(len(Z), k)
    seen: dict[int, np.ndarray] = {}
    for _ in range(_SIZE_STEPS):
        samples = min(HDBSCAN_MIN_SAMPLES, size, len(Z) - 1)
        model = HDBSCAN(min_cluster_size=size, min_samples=max(samples, 1), copy=True)
        raw = seen[size] = model.fit(Z).labels_
        groups = int(raw.max()) + 1
        if groups < 2 and size > 2:
            size = max(2, size // 2)
        elif groups > K_MAX and size * 2 not in seen:
            size *= 2
        else:
            break
    info = {
        "min_cluster_size": int(size),
        "min_cluster_share": round(size / len(Z), 4),
        "min_samples": int(max(min(HDBSCAN_MIN_SAMPLES, size, len(Z) - 1), 1)),
        "unclustered": int((raw < 0).sum()),
    }
    return raw, info


def fit_method(
    values: pd.DataFrame, k: int, seed: int, n_init: int, method: str
) -> tuple[Pipeline, np.ndarray, dict] | None:
    """Fit one method on the value features; return its raw partition.

    Parameters
    ----------
    values : pandas.DataFrame of shape (n, 2)
        Checked frequency and monetary (>= 0, finite).
    k : int
        Number of groups (for hdbscan: the size control, see
        :func:`hdbscan_sizes`).
    seed : int
        Seed of k-means, of the mixture, and of Ward's sample.
    n_init : int
        Restarts of k-means and of the mixture.
    method : {"gmm", "ward", "hdbscan"}
        (k-means, and the fallbacks on one value axis, are fitted by
        :mod:`segmentation.models._value_tiers` itself.)

    Returns
    -------
    (pipeline, raw, info) or None
        ``pipeline`` maps value features to a raw group (its ``predict`` scores
        new customers, see the module's table); ``raw`` the raw group of each
        row, -1 for HDBSCAN noise; ``info`` what the fit decided (Ward's sample
        size, HDBSCAN's sizes). None when the method found fewer than two groups
        (or fewer than k, for a method given k).
    """
    scaler = log_scaler()
    Z = scaler.fit_transform(values)
    info: dict = {}
    if method == "gmm":
        mixture = GaussianMixture(
            k, covariance_type="full", random_state=seed, n_init=n_init
        )
        with warnings.catch_warnings():  # ties can leave a component degenerate
            warnings.simplefilter("ignore")
            raw = mixture.fit(Z).predict(Z)
        pipeline = Pipeline([*scaler.steps, ("gmm", mixture)])
    elif method == "ward":
        rows = ward_sample(len(Z), seed)
        fitted_on = Z if rows is None else Z[rows]
        ward = AgglomerativeClustering(k, linkage="ward").fit(fitted_on)
        pipeline = _centroid_pipeline(scaler, fitted_on, ward.labels_, "ward")
        if rows is None:
            raw = ward.labels_
        else:  # the sample keeps its Ward groups; the others their nearest
            raw = pipeline[-1].predict(Z)
            raw[rows] = ward.labels_
        info = {
            "fitted_on": len(fitted_on),
            "sample_seed": None if rows is None else seed,
            "others": "nearest centroid of the sample's groups"
            if rows is not None
            else None,
        }
    elif method == "hdbscan":
        raw, info = _hdbscan(Z, k)
        if raw.max() + 1 < 2:
            return None
        pipeline = _centroid_pipeline(scaler, Z, raw, "hdbscan")
    else:
        raise SegmentationError(f"fit_method does not fit {method!r}")
    groups = len(np.unique(raw[raw >= 0]))
    if groups < 2 or groups > K_MAX or (method != "hdbscan" and groups < k):
        return None
    return pipeline, np.asarray(raw, dtype=np.intp), info
