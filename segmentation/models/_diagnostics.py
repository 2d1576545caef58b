"""How many value tiers: the k sweep and the stability of the value tiers.

* :func:`k_diagnostics` – inertia, silhouette, Davies–Bouldin, Calinski–Harabasz and
  stability for k = 2..10 and the recommended k (DESIGN section 6), as
  :class:`KDiagnostics`;
* :func:`stability` – mean adjusted Rand index of :class:`ValueTiers` fits over
  seeds.

The recommendation (each measure votes for its best k and the majority wins,
NbClust's rule) lives in :mod:`segmentation.models._k_choice`; the silhouette of
several labelings in one pass and the adjusted Rand index in
:mod:`segmentation.models._cluster_scores`. Re-exported by
:mod:`segmentation.models`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from threadpoolctl import threadpool_limits

from segmentation import schema
from segmentation.errors import SegmentationError, TooFewCustomersError
from segmentation.models._cluster_scores import (
    SILHOUETTE_CHUNK_MB,  # re-exported: tests read it here
    adjusted_rand,
    silhouette_scores,
)
from segmentation.models._inputs import (
    KMEANS_THREADS,
    SWEEP_N_INIT,
    check_features,
    check_k,
    log_scaler,
)
from segmentation.models._k_choice import _rule_sentence, k_votes, majority_k
from segmentation.models._value_tiers import ValueTiers
from segmentation.settings import DEFAULT_SEED, K_RANGE

#: The share of a sweep's time spent k by k (k-means runs, Davies–Bouldin,
#: Calinski–Harabasz, stability) in its ``progress``; the rest is the
#: silhouette of every k in one pass. Measured on Online Retail I (4,338
#: customers, k = 2..10, a shared 2-core machine): 1.1-1.3 s of 2.6-3.2 s,
#: i.e. 0.40-0.45 (the silhouette's sample is capped: it weighs less on larger
#: files).
SWEEP_PER_K_SHARE = 0.5

__all__ = [
    "SILHOUETTE_CHUNK_MB",
    "KDiagnostics",
    "k_diagnostics",
    "stability",
]


@dataclass
class KDiagnostics:
    """The k sweep: quality measures per k and the recommended k.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``k``; columns ``inertia``, ``silhouette``, ``davies_bouldin``,
        ``calinski_harabasz``, ``stability``. Sweeps pickled before stability was
        measured have no ``stability`` column.
    recommended_k : int
        The majority of :attr:`votes` (:func:`majority_k`).
    rule : str
        In words, which measure voted for which k and the winner, e.g.
        ``"majority of 5 measures (NbClust rule): silhouette k=2, ... → k=2"``.
    knee : int or None
        The knee of the inertia curve, None where kneed finds none.
    silhouette_sample : int
        Number of customers the silhouette was computed on.
    votes : dict of str to int
        Measure (a column of ``table``) -> the k it votes for
        (:func:`k_votes`); ``inertia`` is absent where there is no knee. Empty in
        sweeps pickled before the vote existed.
    """

    table: pd.DataFrame
    recommended_k: int
    rule: str
    knee: int | None
    silhouette_sample: int
    votes: dict[str, int] = field(default_factory=dict)

    def __setstate__(self, state: dict) -> None:
        """Unpickle, giving a sweep pickled before the vote no ``votes`` ({})."""
        self.__dict__.update({"votes": {}, **state})


def k_diagnostics(
    X,
    k_values=K_RANGE,
    *,
    random_state=DEFAULT_SEED,
    sample_size=10_000,
    n_init=SWEEP_N_INIT,
    progress=None,
) -> KDiagnostics:
    """Fit k-means for each k, measure it five ways, and recommend k by majority.

    The value features (``schema.VALUE_FEATURES``: frequency, monetary) are
    scaled once (``log1p`` + standardisation, as in :class:`ValueTiers`); every k
    reuses the scaled matrix. For each k, k-means runs ``n_init`` times with one
    start each, from seeds ``random_state, random_state + 1, ...``: the run of
    lowest inertia is the k's partition (as ``KMeans(n_init=n_init)`` keeps its
    best start), and the mean adjusted Rand index between the runs' partitions
    (Hubert & Arabie 1985) is the k's stability, at no extra fitting. k values
    that need more customers (or distinct value rows) than there are are left
    out, and the rule says so.

    Parameters
    ----------
    X : pandas.DataFrame of shape (n_samples, >= 2)
        Columns ``schema.VALUE_FEATURES`` (others are ignored).
    k_values : iterable of int, default=range(2, 11)
        Each in 2..10.
    random_state : int, default=0
        First seed of k-means, and seed of the silhouette sample.
    sample_size : int, default=10_000
        The silhouette is computed on a fixed-seed random sample of at most this
        many customers (it costs O(n^2)).
    n_init : int, default=5
        k-means runs (seeds) per k, at least two: the best is kept, all of them
        measure stability.
    progress : callable, optional
        ``progress(step, fraction)``, the pipeline's convention
        (:data:`segmentation.pipeline.ProgressCallback`): called as each k's
        fits start, with step ``"Choosing k: k = 4 of 10"`` (the k and the
        largest k fitted) and ``fraction`` the share of the sweep done (0
        for the first k, up to :data:`SWEEP_PER_K_SHARE`), then as the
        silhouettes start (``"Choosing k: silhouettes of k = 2..10"``, fraction
        :data:`SWEEP_PER_K_SHARE`) and after each chunk of their distance rows
        (the same step; the fraction grows with the customers done, to 1 after
        the last). An exception it raises stops the sweep (a cancelled job).

    Returns
    -------
    KDiagnostics
        ``table`` of the five measures per k; ``recommended_k`` by the majority
        rule of NbClust (Charrad et al. 2014, Journal of Statistical Software
        61(6)) over silhouette, Calinski–Harabasz, Davies–Bouldin, the inertia
        knee (``kneed``, Satopää et al. 2011) and stability: see
        :func:`k_votes` and :func:`majority_k`.

    Raises
    ------
    SegmentationError
        For a k outside 2..10, fewer than two runs, or bad value features.
    TooFewCustomersError
        If no k of ``k_values`` can be fitted.
    """
    ks = sorted({check_k(k) for k in k_values})
    if n_init < 2:
        raise SegmentationError(f"n_init={n_init} should be >= 2 to measure stability")
    value = check_features(X, schema.VALUE_FEATURES)
    n_distinct = len(value.drop_duplicates())
    usable = [k for k in ks if k < len(value) and k <= n_distinct]
    if not usable:
        raise TooFewCustomersError(
            f"{len(value)} customers ({n_distinct} distinct frequency/monetary rows) "
            f"are too few for any k in {ks}",
            n_customers=len(value),
        )
    Z = log_scaler().fit_transform(value)
    rng = np.random.default_rng(random_state)
    sample = np.sort(rng.choice(len(Z), min(sample_size, len(Z)), replace=False))
    seeds = range(random_state, random_state + n_init)
    # Per k: 1. n_init one-start runs; 2. the best run is the k's partition;
    # 3. agreement between the runs is its stability. Then the silhouette of
    # every k's partition in one pass.
    rows = []
    for i, k in enumerate(usable):
        _report(progress, f"Choosing k: k = {k} of {usable[-1]}", i, len(usable))
        with threadpool_limits(KMEANS_THREADS):
            fits = [KMeans(k, random_state=s, n_init=1).fit(Z) for s in seeds]
        best = min(fits, key=lambda fit: fit.inertia_)
        rows.append(
            {
                "labels": best.labels_,
                "inertia": best.inertia_,
                "davies_bouldin": davies_bouldin_score(Z, best.labels_),
                "calinski_harabasz": calinski_harabasz_score(Z, best.labels_),
                "stability": _mean_ari([fit.labels_ for fit in fits]),
            }
        )
    step = f"Choosing k: silhouettes of k = {usable[0]}..{usable[-1]}"
    _report(progress, step)

    def summed(done: int, total: int) -> None:
        if progress is not None:
            progress(step, SWEEP_PER_K_SHARE + (1 - SWEEP_PER_K_SHARE) * done / total)

    # The silhouette is one big matrix product: let BLAS use every core.
    labelings = [row["labels"][sample] for row in rows]
    sil = silhouette_scores(Z[sample], labelings, progress=summed)
    table = pd.DataFrame(
        {
            "inertia": [row["inertia"] for row in rows],
            "silhouette": sil,
            "davies_bouldin": [row["davies_bouldin"] for row in rows],
            "calinski_harabasz": [row["calinski_harabasz"] for row in rows],
            "stability": [row["stability"] for row in rows],
        },
        index=pd.Index(usable, name="k"),
    )
    votes = k_votes(table)
    recommended = majority_k(votes, table["stability"])
    rule = _rule_sentence(votes, recommended, table["stability"])
    skipped = sorted(set(ks) - set(usable))
    if skipped:
        rule += f"; k={skipped} skipped: only {len(value)} customers"
    return KDiagnostics(
        table, recommended, rule, votes.get("inertia"), len(sample), votes
    )


def _report(progress, step: str, done: int = 1, total: int = 1) -> None:
    """Report ``done`` of ``total`` k measured, as a share of the sweep."""
    if progress is not None:
        progress(step, SWEEP_PER_K_SHARE * done / total)


def _mean_ari(labelings: list[np.ndarray]) -> float:
    """Mean adjusted Rand index over every pair of labelings 0..k-1."""
    pairs = itertools.combinations(labelings, 2)
    return float(np.mean([adjusted_rand(a, b) for a, b in pairs]))


def stability(X, k, *, seeds=(0, 1, 2, 3, 4)) -> float:
    """Mean adjusted Rand index between value-tier fits with different seeds.

    Every pair of seeds is compared (``len(seeds) * (len(seeds) - 1) / 2`` pairs);
    1.0 means every seed finds the same partition (Hubert & Arabie 1985). This is
    the stability of the value tiers a run reports (the command line's and the
    app's run report): each seed is a whole :class:`ValueTiers` fit, with its
    restarts. The ``stability`` column of :func:`k_diagnostics` measures the
    same agreement between single k-means starts, to compare k cheaply.

    Parameters
    ----------
    X : pandas.DataFrame of shape (n_samples, n_features)
        The customer features :class:`ValueTiers` reads.
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
    return _mean_ari([ValueTiers(k, random_state=s).fit(X).labels_ for s in seeds])
