"""Two measures of the k sweep, computed faster than scikit-learn computes them.

* :func:`silhouette_scores` – the silhouette of several labelings in one pass;
* :func:`adjusted_rand` – the adjusted Rand index of two labelings, from a
  contingency table counted by ``np.bincount``.

Same definitions and values as :func:`sklearn.metrics.silhouette_score` and
:func:`sklearn.metrics.adjusted_rand_score`. Private helper of
:mod:`segmentation.models`, used by :mod:`segmentation.models._diagnostics`.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import pairwise_distances_chunked

#: Distance rows computed at a time by :func:`silhouette_scores`, in MiB. Small
#: chunks reuse the same memory; one 150 MB block for 4,334 customers (sklearn's
#: default allows 1 GiB) cost 0.25 s more in page faults on a first call.
SILHOUETTE_CHUNK_MB = 32

__all__ = [
    "SILHOUETTE_CHUNK_MB",
    "adjusted_rand",
    "silhouette_scores",
]


def silhouette_scores(
    Z: np.ndarray, labelings: list[np.ndarray], progress=None
) -> list[float]:
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
    progress : callable, optional
        ``progress(done, total)`` after each chunk of distance rows: the
        points whose distances are summed so far, of ``n_samples``.

    Returns
    -------
    list of float
    """
    sizes = [int(labels.max()) + 1 for labels in labelings]
    one_hot = np.hstack([np.eye(k)[labels] for k, labels in zip(sizes, labelings)])
    chunks = pairwise_distances_chunked(
        Z, reduce_func=lambda d, _: d @ one_hot, working_memory=SILHOUETTE_CHUNK_MB
    )
    parts, done = [], 0
    for part in chunks:
        parts.append(part)
        done += len(part)
        if progress is not None:
            progress(done, len(Z))
    sums = np.vstack(parts)
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


def adjusted_rand(a: np.ndarray, b: np.ndarray) -> float:
    """Return the adjusted Rand index of two labelings (Hubert & Arabie 1985).

    The value of :func:`sklearn.metrics.adjusted_rand_score`, from a contingency
    table counted by ``np.bincount``: 0.2 ms instead of 4 ms for 4,334
    customers (sklearn sorts both labelings and builds a sparse matrix), and the
    k sweep compares 90 pairs.

    Parameters
    ----------
    a, b : ndarray of int of shape (n_samples,)
        Labels ``0..k-1`` (any k each), n_samples >= 2.

    Returns
    -------
    float
        1.0 for the same partition (also where both put every point alone, or all
        together), about 0 for unrelated ones.
    """
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    table = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb)

    def pairs(counts: np.ndarray) -> float:
        return float((counts * (counts - 1.0)).sum() / 2)

    n = len(a)
    joint, rows, cols = pairs(table), pairs(table.sum(axis=1)), pairs(table.sum(0))
    expected = rows * cols / (n * (n - 1) / 2)
    top = (rows + cols) / 2
    return 1.0 if top == expected else (joint - expected) / (top - expected)
