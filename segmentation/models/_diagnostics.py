"""How many value tiers: the k sweep, its majority-vote recommendation, stability.

* :func:`k_diagnostics` – inertia, silhouette, Davies–Bouldin, Calinski–Harabasz and
  stability for k = 2..10 and the recommended k (DESIGN section 6), as
  :class:`KDiagnostics`;
* :func:`k_votes` and :func:`majority_k` – the rule that recommends k: each measure
  votes for its best k and the majority wins, the rule of NbClust (Charrad,
  Ghazzali, Boiteau & Niknafs 2014, "NbClust: An R Package for Determining the
  Relevant Number of Clusters in a Data Set", Journal of Statistical Software
  61(6)), with five measures;
* :func:`silhouette_scores` – the silhouette of several labelings in one pass;
* :func:`stability` – mean adjusted Rand index of :class:`ValueTiers` fits over
  seeds.

Re-exported by :mod:`segmentation.models`. ``kneed`` (which imports
``scipy.signal``, over a second) is imported only when a knee is looked for.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import (
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
#: The measures that vote for k, in the order the rule names them: (column of the
#: sweep's table, name in the rule's sentence). The inertia votes for its knee.
VOTERS: tuple[tuple[str, str], ...] = (
    ("silhouette", "silhouette"),
    ("calinski_harabasz", "Calinski–Harabasz"),
    ("davies_bouldin", "Davies–Bouldin"),
    ("inertia", "inertia knee"),
    ("stability", "stability"),
)
#: Stability votes for the smallest k whose stability is within this much of the
#: best: adjusted Rand indices 0.995 and 0.999 are the same "stable".
STABILITY_TOLERANCE = 0.01

__all__ = [
    "STABILITY_TOLERANCE",
    "VOTERS",
    "KDiagnostics",
    "adjusted_rand",
    "k_diagnostics",
    "k_votes",
    "majority_k",
    "silhouette_scores",
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
    # 1. n_init one-start runs per k; 2. the best run is the k's partition;
    # 3. agreement between the runs is its stability.
    with threadpool_limits(KMEANS_THREADS):
        runs = [
            [KMeans(k, random_state=s, n_init=1).fit(Z) for s in seeds] for k in usable
        ]
    best = [min(fits, key=lambda fit: fit.inertia_) for fits in runs]
    labelings = [fit.labels_ for fit in best]
    # The silhouette is one big matrix product: let BLAS use every core.
    sil = silhouette_scores(Z[sample], [lab[sample] for lab in labelings])
    table = pd.DataFrame(
        {
            "inertia": [fit.inertia_ for fit in best],
            "silhouette": sil,
            "davies_bouldin": [davies_bouldin_score(Z, lab) for lab in labelings],
            "calinski_harabasz": [calinski_harabasz_score(Z, lab) for lab in labelings],
            "stability": [_mean_ari([fit.labels_ for fit in fits]) for fits in runs],
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


def k_votes(table: pd.DataFrame) -> dict[str, int]:
    """Return each measure's vote: the k it finds best (NbClust's majority rule).

    Following Charrad, Ghazzali, Boiteau & Niknafs (2014), "NbClust: An R Package
    for Determining the Relevant Number of Clusters in a Data Set", Journal of
    Statistical Software 61(6): each index proposes its best number of clusters
    and the majority decides. Five measures vote here:

    * ``silhouette``: the k of the highest silhouette (Rousseeuw 1987);
    * ``calinski_harabasz``: the k of the highest Calinski–Harabasz index;
    * ``davies_bouldin``: the k of the lowest Davies–Bouldin index;
    * ``inertia``: the knee of the inertia curve found by ``kneed.KneeLocator(
      curve="convex", direction="decreasing")`` (Satopää et al. 2011); no vote
      where kneed finds no knee (or there are fewer than 3 k);
    * ``stability``: the smallest k whose stability is within
      :data:`STABILITY_TOLERANCE` (0.01) of the best; no vote without a
      ``stability`` column or value.

    An exact tie inside one measure goes to the smaller k.

    Parameters
    ----------
    table : pandas.DataFrame
        Index ``k`` (ascending); columns ``inertia``, ``silhouette``,
        ``davies_bouldin``, ``calinski_harabasz`` and optionally ``stability``.

    Returns
    -------
    dict of str to int
        Measure -> k, in the order of :data:`VOTERS`; a measure that does not
        vote is absent.

    Examples
    --------
    >>> table = pd.DataFrame(
    ...     {
    ...         "inertia": [100.0, 40.0, 30.0, 25.0],
    ...         "silhouette": [0.5, 0.6, 0.4, 0.3],
    ...         "davies_bouldin": [0.9, 0.7, 0.8, 1.0],
    ...         "calinski_harabasz": [300.0, 350.0, 320.0, 310.0],
    ...         "stability": [1.0, 0.995, 0.9, 0.8],
    ...     },
    ...     index=pd.Index([2, 3, 4, 5], name="k"),
    ... )
    >>> k_votes(table)  # doctest: +NORMALIZE_WHITESPACE
    {'silhouette': 3, 'calinski_harabasz': 3, 'davies_bouldin': 3, 'inertia': 3,
     'stability': 2}
    """
    votes = {
        "silhouette": int(table["silhouette"].idxmax()),
        "calinski_harabasz": int(table["calinski_harabasz"].idxmax()),
        "davies_bouldin": int(table["davies_bouldin"].idxmin()),
    }
    knee = _knee(table["inertia"])
    if knee is not None:
        votes["inertia"] = knee
    if "stability" in table and table["stability"].notna().any():
        stable = table["stability"].dropna()
        close = stable.index[stable >= stable.max() - STABILITY_TOLERANCE]
        votes["stability"] = int(close.min())
    return votes


def majority_k(votes: dict[str, int], stability: pd.Series | None = None) -> int:
    """Return the k with the most votes; ties to higher stability, then smaller k.

    The majority rule of NbClust (Charrad et al. 2014, Journal of Statistical
    Software 61(6)) applied to :func:`k_votes`.

    Parameters
    ----------
    votes : dict of str to int
        Measure -> k, at least one.
    stability : pandas.Series, optional
        Stability per k (index k); a k without one ranks below any with one.

    Returns
    -------
    int

    Raises
    ------
    SegmentationError
        If ``votes`` is empty.

    Examples
    --------
    >>> majority_k({"silhouette": 2, "davies_bouldin": 4, "inertia": 4})
    4
    >>> stab = pd.Series({2: 0.95, 4: 0.99})
    >>> majority_k({"silhouette": 2, "inertia": 4}, stab)  # tie: more stable
    4
    >>> majority_k({"silhouette": 2, "inertia": 4})  # tie, no stability: smaller
    2
    """
    if not votes:
        raise SegmentationError("no measure voted for a k")
    stability = pd.Series(dtype=float) if stability is None else stability
    counts = pd.Series(list(votes.values())).value_counts()

    def rank(k: int) -> tuple[int, float, int]:
        stab = stability.get(k, np.nan)
        return (int(counts[k]), -np.inf if pd.isna(stab) else float(stab), -k)

    return int(max(counts.index, key=rank))


def _rule_sentence(votes: dict[str, int], k: int, stability: pd.Series) -> str:
    """Say which measure voted for which k, and how ``k`` won."""
    said = []
    for column, name in VOTERS:
        if column in votes:
            said.append(f"{name} k={votes[column]}")
        elif column == "inertia":
            said.append("inertia: no knee, no vote")
    counts = pd.Series(list(votes.values())).value_counts()
    tied = sorted(int(t) for t in counts.index[counts == counts[k]])
    how = f"{counts[k]} of {len(votes)} votes"
    if len(tied) > 1:
        stab = stability.reindex(tied).dropna()
        if len(stab) and (stab == stab.max()).sum() == 1:
            by = "higher stability"
        elif (stab < stab.max()).any():
            by = "higher stability, then smaller k"
        else:
            by = "smaller k"
        how += f"; tie between {', '.join(f'k={t}' for t in tied)} broken by {by}"
    return (
        f"majority of {len(said)} measures (NbClust rule): {', '.join(said)} "
        f"→ k={k} ({how})"
    )


def _mean_ari(labelings: list[np.ndarray]) -> float:
    """Mean adjusted Rand index over every pair of labelings 0..k-1."""
    pairs = itertools.combinations(labelings, 2)
    return float(np.mean([adjusted_rand(a, b) for a, b in pairs]))


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


def _knee(inertia: pd.Series) -> int | None:
    if len(inertia) < 3:
        return None
    from kneed import KneeLocator  # lazy: it imports scipy.signal (~1.5 s)

    with warnings.catch_warnings():
        # kneed warns "No knee/elbow found" and returns None: no vote.
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
