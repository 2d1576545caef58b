"""Choosing k: the majority vote of five measures (NbClust rule) and stability.

The vote is tested on hand-made tables of measures whose votes can be counted on
paper, independent of k-means; the sweep against sklearn and kneed; the rule on
Online Retail I.
"""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from segmentation import models, schema
from segmentation.errors import SegmentationError
from segmentation.models._cluster_scores import adjusted_rand
from segmentation.models._diagnostics import KDiagnostics
from segmentation.models._k_choice import (
    STABILITY_TOLERANCE,
    VOTERS,
    _rule_sentence,
    k_votes,
    majority_k,
)

MEASURES = ["inertia", "silhouette", "davies_bouldin", "calinski_harabasz"]
NAMES = ["silhouette", "Calinski–Harabasz", "Davies–Bouldin", "inertia", "stability"]


def table(**columns) -> pd.DataFrame:
    """A sweep table for k = 2, 3, ... from lists of measures."""
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.Index(range(2, 2 + n), name="k"))


# The vote on hand-made tables ------------------------------------------------------
#   k            2      3      4      5      6
#   inertia      100    40     30     25     21    knee (kneed) at 3
#   silhouette   0.50   0.60   0.40   0.30   0.35  max at 3
#   Davies–B.    0.9    0.7    0.8    1.0    0.95  min at 3
#   Calinski–H.  300    350    320    310    305   max at 3
#   stability    1.0    0.995  0.9    0.8    0.85  within 0.01 of 1.0: 2, 3 -> 2
# Votes: 3, 3, 3, 3, 2 -> k = 3 with 4 of 5 votes.
FOUR_FOR_THREE = table(
    inertia=[100.0, 40.0, 30.0, 25.0, 21.0],
    silhouette=[0.50, 0.60, 0.40, 0.30, 0.35],
    davies_bouldin=[0.9, 0.7, 0.8, 1.0, 0.95],
    calinski_harabasz=[300.0, 350.0, 320.0, 310.0, 305.0],
    stability=[1.0, 0.995, 0.9, 0.8, 0.85],
)


def test_each_measure_votes_for_its_best_k():
    votes = k_votes(FOUR_FOR_THREE)
    assert votes == {
        "silhouette": 3,
        "calinski_harabasz": 3,
        "davies_bouldin": 3,
        "inertia": 3,
        "stability": 2,
    }
    assert list(votes) == [column for column, _ in VOTERS]  # the rule's order
    assert majority_k(votes, FOUR_FOR_THREE["stability"]) == 3


#   k            2      3      4      5      6      7
#   inertia      100    90     80     10     9      8     knee at 5
#   silhouette   0.6    0.5    0.4    0.3    0.2    0.1   max at 2
#   Davies–B.    1.0    0.9    0.8    0.5    0.7    0.6   min at 5
#   Calinski–H.  500    400    300    200    100    50    max at 2
#   stability    0.80   0.99   0.70   0.90   0.60   0.50  best 0.99 alone -> 3
# Votes: k=2 twice (silhouette, C–H), k=5 twice (D–B, knee), k=3 once: a tie
# between 2 and 5, broken by stability 0.90 > 0.80 -> k = 5.
TIE = table(
    inertia=[100.0, 90.0, 80.0, 10.0, 9.0, 8.0],
    silhouette=[0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
    davies_bouldin=[1.0, 0.9, 0.8, 0.5, 0.7, 0.6],
    calinski_harabasz=[500.0, 400.0, 300.0, 200.0, 100.0, 50.0],
    stability=[0.80, 0.99, 0.70, 0.90, 0.60, 0.50],
)


def test_a_tie_goes_to_the_more_stable_k():
    votes = k_votes(TIE)
    assert votes == {
        "silhouette": 2,
        "calinski_harabasz": 2,
        "davies_bouldin": 5,
        "inertia": 5,
        "stability": 3,
    }
    assert majority_k(votes, TIE["stability"]) == 5
    # the same votes with k=2 the more stable: k=2
    assert majority_k(votes, TIE["stability"].replace({0.80: 0.95})) == 2


@pytest.mark.parametrize(
    ("votes", "stability", "expected"),
    [
        ({"silhouette": 2, "davies_bouldin": 4, "inertia": 4}, None, 4),  # 2 to 1
        ({"silhouette": 2, "inertia": 4}, {2: 0.9, 4: 0.9}, 2),  # equal: smaller
        ({"silhouette": 6, "inertia": 4}, None, 4),  # no stability: smaller
        ({"silhouette": 2, "inertia": 4}, {4: 0.5}, 4),  # k=2 unmeasured
        ({"silhouette": 2, "inertia": 4, "stability": 3}, {2: 0.9, 3: 0.9, 4: 0.95}, 4),
        ({"silhouette": 7}, None, 7),
    ],
)
def test_majority_and_its_tie_breaks(votes, stability, expected):
    stab = None if stability is None else pd.Series(stability, dtype=float)
    assert majority_k(votes, stab) == expected


def test_no_votes_is_an_error():
    with pytest.raises(SegmentationError, match="no measure voted"):
        majority_k({})


def test_stability_votes_for_the_smallest_k_within_the_tolerance():
    assert STABILITY_TOLERANCE == 0.01
    stab = [0.95, 0.991, 1.0, 0.999, 0.3]  # within 0.01 of 1.0: k = 3, 4, 5
    votes = k_votes(FOUR_FOR_THREE.assign(stability=stab))
    assert votes["stability"] == 3
    exactly = k_votes(FOUR_FOR_THREE.assign(stability=[0.95, 0.99, 1.0, 1.0, 0.3]))
    assert exactly["stability"] == 3  # 0.99 is exactly 0.01 below: still in


def test_no_knee_no_inertia_vote():
    linear = FOUR_FOR_THREE.assign(inertia=[100.0, 90.0, 80.0, 70.0, 60.0])
    votes = k_votes(linear)  # kneed finds no knee on a straight line
    assert "inertia" not in votes
    assert votes == {
        "silhouette": 3,
        "calinski_harabasz": 3,
        "davies_bouldin": 3,
        "stability": 2,
    }
    assert majority_k(votes, linear["stability"]) == 3
    assert "inertia" not in k_votes(FOUR_FOR_THREE.iloc[:2])  # 2 points: no knee


def test_a_table_without_stability_votes_with_four_measures():
    votes = k_votes(FOUR_FOR_THREE[MEASURES])
    assert set(votes) == {
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "inertia",
    }
    all_missing = k_votes(FOUR_FOR_THREE.assign(stability=np.nan))
    assert "stability" not in all_missing


# Adjusted Rand index ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_adjusted_rand_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, 500)
    b = np.where(rng.random(500) < 0.7, a, rng.integers(0, 6, 500))
    assert adjusted_rand(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
    assert adjusted_rand(a, (a + 1) % 4) == pytest.approx(1.0)  # renamed labels


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([0, 0, 0, 0], [0, 0, 0, 0]),  # all together in both
        ([0, 1, 2, 3], [0, 1, 2, 3]),  # all alone in both
        ([0, 0, 0, 0], [0, 1, 2, 3]),
        ([0, 0, 1, 1], [0, 1, 0, 1]),
        ([0, 0, 1, 1], [1, 1, 0, 0]),
    ],
)
def test_adjusted_rand_edge_cases_match_sklearn(a, b):
    a, b = np.array(a), np.array(b)
    assert adjusted_rand(a, b) == pytest.approx(adjusted_rand_score(a, b))


# The sweep -------------------------------------------------------------------------


def _three_groups(n_per=50, seed=0) -> pd.DataFrame:
    """Three groups apart in frequency and monetary (recency random)."""
    rng = np.random.default_rng(seed)
    parts = [
        pd.DataFrame(
            {
                schema.RECENCY_DAYS: rng.integers(1, 365, n_per).astype(float),
                schema.FREQUENCY: np.maximum(
                    1, np.round(f * rng.uniform(0.8, 1.2, n_per))
                ),
                schema.MONETARY: m * rng.uniform(0.8, 1.2, n_per),
            }
        )
        for f, m in [(1, 100), (4, 1_500), (20, 20_000)]
    ]
    out = pd.concat(parts, ignore_index=True)
    out.index = pd.Index([f"C{i:03d}" for i in range(len(out))], name="customer_id")
    return out


@pytest.fixture(scope="module")
def groups():
    return _three_groups()


def _scaled_value(X):
    logs = np.log1p(X[list(schema.VALUE_FEATURES)].to_numpy(float))
    return (logs - logs.mean(axis=0)) / logs.std(axis=0)


def test_the_sweep_clusters_the_value_features_and_measures_stability(groups):
    diag = models.k_diagnostics(groups, k_values=[2, 3, 4, 5])
    assert list(diag.table.columns) == [*MEASURES, "stability"]
    # Independent reference: five one-start k-means on hand-scaled frequency and
    # monetary (recency left out); the best inertia, the mean ARI of all pairs.
    Z = _scaled_value(groups)
    for k in (2, 3, 5):
        fits = [KMeans(k, random_state=s, n_init=1).fit(Z) for s in range(5)]
        best = min(fit.inertia_ for fit in fits)
        ari = np.mean(
            [
                adjusted_rand_score(a.labels_, b.labels_)
                for a, b in itertools.combinations(fits, 2)
            ]
        )
        assert diag.table.loc[k, "inertia"] == pytest.approx(best)
        assert diag.table.loc[k, "stability"] == pytest.approx(ari)
    # recency does not move the sweep: it is a status, not a value
    shuffled = groups.assign(recency_days=groups["recency_days"].to_numpy()[::-1])
    again = models.k_diagnostics(shuffled, k_values=[2, 3, 4, 5])
    pd.testing.assert_frame_equal(diag.table, again.table)


def test_the_sweep_recommends_the_majority_and_says_so(groups):
    diag = models.k_diagnostics(groups)
    assert diag.table.loc[3, "stability"] == pytest.approx(1.0)
    assert diag.votes == k_votes(diag.table)
    assert diag.recommended_k == majority_k(diag.votes, diag.table["stability"])
    assert diag.recommended_k == 3
    assert diag.knee == diag.votes.get("inertia")
    assert diag.rule.startswith("majority of 5 measures (NbClust rule): ")
    for column, name in VOTERS:
        assert f"{name} k={diag.votes[column]}" in diag.rule
    assert diag.rule.endswith(
        f"→ k=3 ({list(diag.votes.values()).count(3)} of 5 votes)"
    )


def test_the_rule_says_when_the_inertia_has_no_knee(groups, monkeypatch):
    class NoKnee:
        def __init__(self, *args, **kwargs):
            self.knee = None

    monkeypatch.setattr("kneed.KneeLocator", NoKnee)  # imported on use
    diag = models.k_diagnostics(groups)
    assert diag.knee is None and "inertia" not in diag.votes
    assert "inertia: no knee, no vote" in diag.rule
    assert "of 4 votes" in diag.rule


def test_two_k_values_have_no_knee_and_stability_votes_the_smaller(groups):
    # k = 2 and 3 only: no knee (two points); stability is 1.0 at both, so it
    # votes 2; the other three vote 3.
    diag = models.k_diagnostics(groups, k_values=[2, 3])
    assert diag.votes == {
        "silhouette": 3,
        "calinski_harabasz": 3,
        "davies_bouldin": 3,
        "stability": 2,
    }
    assert diag.recommended_k == 3
    assert diag.rule.endswith("→ k=3 (3 of 4 votes)")


@pytest.mark.parametrize(
    ("stability", "how"),
    [
        (TIE["stability"], "tie between k=2, k=5 broken by higher stability"),
        (TIE["stability"] * 0 + 0.9, "tie between k=2, k=5 broken by smaller k"),
    ],
)
def test_the_rule_says_how_a_tie_was_broken(stability, how):
    votes = k_votes(TIE)
    k = majority_k(votes, stability)
    sentence = _rule_sentence(votes, k, stability)
    assert sentence == (
        "majority of 5 measures (NbClust rule): silhouette k=2, Calinski–Harabasz "
        "k=2, Davies–Bouldin k=5, inertia knee k=5, stability k=3 "
        f"→ k={k} (2 of 5 votes; {how})"
    )


def test_one_run_per_k_cannot_measure_stability(groups):
    with pytest.raises(SegmentationError, match="n_init=1 should be >= 2"):
        models.k_diagnostics(groups, n_init=1)


# Pickles saved before the vote -----------------------------------------------------


def test_a_sweep_pickled_before_the_vote_reads_with_no_votes():
    old = KDiagnostics(
        FOUR_FOR_THREE[MEASURES], 3, "knee of the inertia curve (kneed) at k=3", 3, 5
    )
    del old.__dict__["votes"]  # as pickled by the old class
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.votes == {}
    assert loaded.recommended_k == 3
    assert "stability" not in loaded.table


def test_the_saved_old_layout_run_reads_with_no_votes(tmp_path):
    import shutil
    from pathlib import Path

    from segmentation.runs import RunStore

    old = Path(__file__).parent / "data" / "old_layout_run" / "runs"
    shutil.copytree(old, tmp_path / "runs")
    (run_id,) = [p.name for p in old.iterdir()]
    diag = RunStore(tmp_path).load_prepared(run_id).diagnostics
    assert diag.votes == {}
    assert list(diag.table.columns) == MEASURES


# Online Retail I -------------------------------------------------------------------


@pytest.fixture(scope="module")
def retail_i(retail_csv):
    """``segmentation.prepare`` of Online Retail I (the CSV), k sweep included."""
    import segmentation

    return segmentation.prepare(retail_csv)


@pytest.mark.realdata
def test_real_recommendation_is_a_voted_k_and_names_every_measure(retail_i):
    diag = retail_i.diagnostics
    table = diag.table
    assert table.index.tolist() == list(range(2, 11))
    assert table["stability"].between(0, 1).all()
    assert diag.recommended_k in diag.votes.values()
    counts = pd.Series(list(diag.votes.values())).value_counts()
    assert counts[diag.recommended_k] == counts.max()
    for name in NAMES:
        assert name in diag.rule
    assert f"→ k={diag.recommended_k}" in diag.rule
    # the sweep of the features alone is the same (same features, same seed)
    again = models.k_diagnostics(retail_i.features)
    assert again.votes == diag.votes
    pd.testing.assert_frame_equal(again.table, table)
