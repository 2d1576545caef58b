"""Which k the sweep recommends: each measure votes for its best k, the majority wins.

* :func:`k_votes` – each measure's vote: silhouette, Calinski–Harabasz,
  Davies–Bouldin, the knee of the inertia curve and stability;
* :func:`majority_k` – the k with the most votes, the rule of NbClust (Charrad,
  Ghazzali, Boiteau & Niknafs 2014, "NbClust: An R Package for Determining the
  Relevant Number of Clusters in a Data Set", Journal of Statistical Software
  61(6)), with five measures;
* :func:`_rule_sentence` – the vote and its winner in words.

Private helper of :mod:`segmentation.models`, used by :func:`k_diagnostics`
(:mod:`segmentation.models._diagnostics`). ``kneed`` (which imports
``scipy.signal``, over a second) is imported only when a knee is looked for.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from segmentation.errors import SegmentationError

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
    "k_votes",
    "majority_k",
]


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
