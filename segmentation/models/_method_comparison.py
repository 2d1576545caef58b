"""Which clustering method: the four side by side for one k, and the recommended one.

* :func:`compare_methods` – for the chosen k, each method's silhouette,
  Davies–Bouldin, Calinski–Harabasz, stability, smallest group share,
  Unclustered share and fit time, and the recommended method, as
  :class:`MethodComparison`;
* :func:`subsample_stability` – the stability of one method: the mean adjusted
  Rand index between the tiers of all customers and the tiers fitted on
  subsamples of them.

The recommendation: each of the four measures votes for its best method and the
majority wins, the majority rule of NbClust (Charrad, Ghazzali, Boiteau &
Niknafs 2014, Journal of Statistical Software 61(6)) that chooses k here too,
applied to methods as clValid (Brock, Pihur, Datta & Datta 2008, Journal of
Statistical Software 25(4)) compares clustering methods on internal measures
and on stability. Private helper of :mod:`segmentation.models`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from segmentation import schema
from segmentation.errors import TooFewCustomersError
from segmentation.models._cluster_scores import adjusted_rand, silhouette_scores
from segmentation.models._inputs import check_features, check_k, log_scaler
from segmentation.models._methods import check_method
from segmentation.models._value_tiers import ValueTiers
from segmentation.settings import DEFAULT_SEED, METHODS

__all__ = [
    "STABILITY_TOLERANCE",
    "SUBSAMPLES",
    "SUBSAMPLE_MAX",
    "SUBSAMPLE_SHARE",
    "MethodComparison",
    "compare_methods",
    "method_votes",
    "subsample_stability",
]

#: Stability: this many subsamples, each of this share of the customers (drawn
#: without replacement, seeds ``random_state, random_state + 1, ...``), capped
#: at :data:`SUBSAMPLE_MAX` customers so that Ward and HDBSCAN stay fast.
SUBSAMPLES = 5
SUBSAMPLE_SHARE = 0.8
SUBSAMPLE_MAX = 2_000
#: Stability votes for the first method (in ``METHODS`` order, simplest first)
#: within this much of the best: 0.995 and 0.999 are the same "stable".
STABILITY_TOLERANCE = 0.01
#: The measures that vote, as (column, name in the rule's sentence).
VOTERS: tuple[tuple[str, str], ...] = (
    ("silhouette", "silhouette"),
    ("calinski_harabasz", "Calinski–Harabasz"),
    ("davies_bouldin", "Davies–Bouldin"),
    ("stability", "stability"),
)
#: In words, how stability is measured (the run report quotes it).
STABILITY_DEFINITION = (
    f"mean adjusted Rand index (Hubert & Arabie 1985) between the tiers of all "
    f"customers and the tiers fitted on each of {SUBSAMPLES} fixed-seed subsamples "
    f"of {SUBSAMPLE_SHARE:.0%} of the customers (at most {SUBSAMPLE_MAX:,}, drawn "
    "without replacement), compared on the subsample's customers; Unclustered "
    "counts as a group (Ben-Hur, Elisseeff & Guyon 2002)"
)


@dataclass
class MethodComparison:
    """The four methods for one k, measured the same way, and the recommended one.

    Attributes
    ----------
    k : int
        The k every method was given (for HDBSCAN the size control).
    table : pandas.DataFrame
        Index ``method`` (``METHODS`` order); columns ``kept`` (the clustering
        kept: the method, or the fallback ``value_score`` / ``equal_bands``),
        ``monotone`` (bool), ``tiers``, ``silhouette``, ``davies_bouldin``,
        ``calinski_harabasz`` (all three on the standardised log features, the
        Unclustered left out), ``stability`` (:data:`STABILITY_DEFINITION`),
        ``smallest_group_share`` (smallest tier / all customers, 0..1),
        ``unclustered_share`` (0..1, HDBSCAN's noise) and ``fit_s`` (seconds of
        one :class:`ValueTiers` fit on all customers, fallbacks included).
    recommended : str
        The method the rule chose.
    rule : str
        In words: each measure's vote and how the winner won.
    votes : dict of str to str
        Measure -> the method it votes for.
    silhouette_sample : int
        Customers the silhouette was computed on (a fixed-seed sample of at
        most 10,000 of each method's clustered customers).
    stability_definition : str
        How stability was measured.
    """

    k: int
    table: pd.DataFrame
    recommended: str
    rule: str
    votes: dict[str, str] = field(default_factory=dict)
    silhouette_sample: int = 0
    stability_definition: str = STABILITY_DEFINITION

    def to_dict(self) -> dict:
        """Return the comparison JSON-ready (the run report's ``method_comparison``).

        Returns
        -------
        dict
            ``k``, ``table`` (one dict per method, ``method`` first; NaN as
            None), ``recommended``, ``rule``, ``votes``, ``silhouette_sample``,
            ``stability``.
        """
        rows = []
        for method, row in self.table.iterrows():
            cells = {"method": method}
            for column, value in row.items():
                value = value.item() if isinstance(value, np.generic) else value
                if isinstance(value, float) and not np.isfinite(value):
                    value = None
                cells[column] = value
            rows.append(cells)
        return {
            "k": self.k,
            "table": rows,
            "recommended": self.recommended,
            "rule": self.rule,
            "votes": dict(self.votes),
            "silhouette_sample": self.silhouette_sample,
            "stability": self.stability_definition,
        }


def subsample_stability(
    X: pd.DataFrame,
    labels: np.ndarray,
    k: int,
    method: str,
    *,
    random_state: int = DEFAULT_SEED,
) -> float:
    """Mean adjusted Rand index of a method's tiers against subsample refits.

    Parameters
    ----------
    X : pandas.DataFrame of shape (n, >= 2)
        Customers with ``schema.VALUE_FEATURES``.
    labels : ndarray of shape (n,)
        The tiers of all customers (``ValueTiers(...).fit(X).labels_``; -1 for
        Unclustered).
    k : int
        Number of value tiers (HDBSCAN: the size control).
    method : str
        One of ``METHODS``.
    random_state : int, default=0
        Seed of the first subsample and of every refit.

    Returns
    -------
    float
        See :data:`STABILITY_DEFINITION`; NaN when no subsample could be fitted
        (too few customers).
    """
    n = len(X)
    size = min(round(SUBSAMPLE_SHARE * n), SUBSAMPLE_MAX)
    scores = []
    for b in range(SUBSAMPLES):
        rows = np.sort(
            np.random.default_rng(random_state + b).choice(n, size, replace=False)
        )
        try:
            part = ValueTiers(k, random_state=random_state, method=method)
            part.fit(X.iloc[rows])
        except TooFewCustomersError:
            continue
        scores.append(adjusted_rand(labels[rows] + 1, part.labels_ + 1))
    return float(np.mean(scores)) if scores else float("nan")


def method_votes(table: pd.DataFrame) -> dict[str, str]:
    """Each measure's vote for a method, among the eligible rows of ``table``.

    A method is eligible when it kept its own partition (``kept == method``)
    with tiers in value order (``monotone``). Silhouette and Calinski–Harabasz
    vote for their highest, Davies–Bouldin for its lowest, stability for the
    first method (``METHODS`` order) within :data:`STABILITY_TOLERANCE` of the
    best; an exact tie goes to the earlier method. A measure with no finite
    value among the eligible does not vote.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`MethodComparison.table`.

    Returns
    -------
    dict of str to str
        Measure -> method; empty when no method is eligible.
    """
    eligible = table[_eligible(table)]
    votes: dict[str, str] = {}
    for column, best in (
        ("silhouette", "max"),
        ("calinski_harabasz", "max"),
        ("davies_bouldin", "min"),
    ):
        values = eligible[column].dropna()
        if len(values):
            votes[column] = str(values.idxmax() if best == "max" else values.idxmin())
    stable = eligible["stability"].dropna()
    if len(stable):
        votes["stability"] = str(
            stable.index[stable >= stable.max() - STABILITY_TOLERANCE][0]
        )
    return votes


def _recommend(table: pd.DataFrame) -> tuple[str, str, dict[str, str]]:
    votes = method_votes(table)
    if not votes:
        return (
            METHODS[0],
            f"no method kept its own partition in value order; {METHODS[0]}, the "
            "default, is recommended",
            votes,
        )
    counts = pd.Series(list(votes.values())).value_counts()
    stability = table["stability"]

    def rank(method: str) -> tuple[int, float, int]:
        stab = stability.get(method, np.nan)
        return (
            int(counts[method]),
            -np.inf if pd.isna(stab) else float(stab),
            -METHODS.index(method),
        )

    winner = max(counts.index, key=rank)
    said = ", ".join(f"{name} {votes[c]}" for c, name in VOTERS if c in votes)
    how = f"{counts[winner]} of {len(votes)} votes"
    tied = [m for m in METHODS if m in counts.index and counts[m] == counts[winner]]
    if len(tied) > 1:
        how += f"; tie between {', '.join(tied)} broken by higher stability, then "
        how += "the simpler method (order " + ", ".join(METHODS) + ")"
    left_out = table.index[~_eligible(table)].tolist()
    if left_out:
        how += (
            f"; not eligible (fell back or out of value order): {', '.join(left_out)}"
        )
    rule = (
        f"majority of {len(votes)} measures (NbClust rule, Charrad et al. 2014, "
        f"applied to methods as in clValid, Brock et al. 2008): {said} → {winner} "
        f"({how})"
    )
    return str(winner), rule, votes


def _eligible(table: pd.DataFrame) -> np.ndarray:
    return ((table["kept"] == table.index) & table["monotone"]).to_numpy()


def compare_methods(
    X: pd.DataFrame,
    k: int,
    *,
    random_state: int = DEFAULT_SEED,
    methods=METHODS,
    sample_size: int = 10_000,
) -> MethodComparison:
    """Fit every method with the same k and seed, measure each, recommend one.

    Parameters
    ----------
    X : pandas.DataFrame of shape (n_samples, >= 2)
        Customers with ``schema.VALUE_FEATURES`` (frequency, monetary).
    k : int
        Number of value tiers, 2..10 (HDBSCAN: the size control).
    random_state : int, default=0
        Seed of every fit, of the silhouette sample and of the subsamples.
    methods : sequence of str, default=METHODS
        The methods compared.
    sample_size : int, default=10_000
        The silhouette (O(n^2)) is computed on a fixed-seed sample of at most
        this many of each method's clustered customers.

    Returns
    -------
    MethodComparison

    Raises
    ------
    SegmentationError
        For a k outside 2..10, an unknown method or bad value features.
    TooFewCustomersError
        If there are fewer customers (or distinct value rows) than k.
    """
    k = check_k(k)
    methods = [check_method(m) for m in methods]
    values = check_features(X, schema.VALUE_FEATURES)
    Z = log_scaler().fit_transform(values)
    rows, sampled = {}, 0
    for method in methods:
        started = time.perf_counter()
        model = ValueTiers(k, random_state=random_state, method=method).fit(X)
        fit_s = time.perf_counter() - started
        labels = model.labels_
        grouped = np.flatnonzero(labels >= 0)
        rng = np.random.default_rng(random_state)
        sample = np.sort(
            rng.choice(grouped, min(sample_size, len(grouped)), replace=False)
        )
        sampled = max(sampled, len(sample))
        in_sample = np.unique(labels[sample], return_inverse=True)[1]
        enough = 2 <= in_sample.max() + 1 < len(sample)
        sizes = np.bincount(labels[grouped], minlength=model.n_tiers_)
        rows[method] = {
            "kept": model.method_,
            "monotone": bool(model.monotone_),
            "tiers": int(model.n_tiers_),
            "silhouette": silhouette_scores(Z[sample], [in_sample])[0]
            if enough
            else np.nan,
            "davies_bouldin": davies_bouldin_score(Z[grouped], labels[grouped]),
            "calinski_harabasz": calinski_harabasz_score(Z[grouped], labels[grouped]),
            "stability": subsample_stability(
                X, labels, k, method, random_state=random_state
            ),
            "smallest_group_share": float(sizes.min() / len(labels)),
            "unclustered_share": float((labels < 0).mean()),
            "fit_s": round(fit_s, 3),
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")
    recommended, rule, votes = _recommend(table)
    return MethodComparison(k, table, recommended, rule, votes, sampled)
