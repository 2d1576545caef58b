"""How many value tiers: the k sweep, its recommendation, and seed stability.

* :func:`k_diagnostics` – inertia, silhouette, Davies–Bouldin and Calinski–Harabasz
  for k = 2..10 and a recommended k (DESIGN section 6), as :class:`KDiagnostics`;
* :func:`silhouette_scores` – the silhouette of several labelings in one pass;
* :func:`stability` – mean adjusted Rand index of :class:`ValueTiers` fits over
  seeds.

Re-exported by :mod:`segmentation.models`. ``kneed`` (which imports
``scipy.signal``, over a second) is imported only when a knee is looked for.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances_chunked,
)
from threadpoolctl import threadpool_limits

from segmentation import schema
from segmentation.errors import SegmentationError, TooFewCustomersError
from segmentation.models._inputs import (
    KMEANS_THREADS,
    SWEEP_N_INIT,
    check_features,
    check_k,
    log_scaler,
)
from segmentation.models._value_tiers import ValueTiers
from segmentation.settings import DEFAULT_SEED, K_RANGE

#: Distance rows computed at a time by :func:`silhouette_scores`, in MiB. Small
#: chunks reuse the same memory; one 150 MB block for 4,334 customers (sklearn's
#: default allows 1 GiB) cost 0.25 s more in page faults on a first call.
SILHOUETTE_CHUNK_MB = 32

__all__ = ["KDiagnostics", "k_diagnostics", "silhouette_scores", "stability"]


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
    chunks = pairwise_distances_chunked(
        Z, reduce_func=lambda d, _: d @ one_hot, working_memory=SILHOUETTE_CHUNK_MB
    )
    sums = np.vstack(list(chunks))
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
    random_state=DEFAULT_SEED,
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
    ks = sorted({check_k(k) for k in k_values})
    rfm = check_features(X, schema.RFM_COLUMNS)
    n_distinct = len(rfm.drop_duplicates())
    usable = [k for k in ks if k < len(rfm) and k <= n_distinct]
    if not usable:
        raise TooFewCustomersError(
            f"{len(rfm)} customers ({n_distinct} distinct RFM rows) are too few for "
            f"any k in {ks}",
            n_customers=len(rfm),
        )
    Z = log_scaler().fit_transform(rfm)
    rng = np.random.default_rng(random_state)
    sample = np.sort(rng.choice(len(Z), min(sample_size, len(Z)), replace=False))
    with threadpool_limits(KMEANS_THREADS):
        fits = [
            KMeans(k, random_state=random_state, n_init=n_init).fit(Z) for k in usable
        ]
    labelings = [f.labels_ for f in fits]
    # The silhouette is one big matrix product: let BLAS use every core.
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
    from kneed import KneeLocator  # lazy: it imports scipy.signal (~1.5 s)

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
