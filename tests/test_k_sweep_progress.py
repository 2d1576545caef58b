"""The k sweep's progress: one report per k, then the silhouettes (issue 17).

``k_diagnostics(progress=...)`` reports ``"Choosing k: k = 4 of 10"`` as each
k's fits start and ``"Choosing k: silhouettes of k = 2..10"`` before the
silhouettes and after each chunk of their distance rows;
``segmentation.prepare`` places those reports between its "Choosing k" (75 %)
and the next step (90 %), so that the app's bar moves per k and through the
silhouettes instead of resting at 75 %.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from segmentation import models, prepare, schema
from segmentation.models import _cluster_scores
from segmentation.models._diagnostics import SWEEP_PER_K_SHARE


def _features(n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            schema.FREQUENCY: rng.integers(1, 30, n).astype(float),
            schema.MONETARY: rng.gamma(2.0, 300.0, n),
        }
    )


def test_the_sweep_reports_each_k_then_the_silhouettes():
    seen: list[tuple[str, float]] = []
    sweep = models.k_diagnostics(
        _features(), k_values=range(2, 5), progress=lambda s, f: seen.append((s, f))
    )
    share = SWEEP_PER_K_SHARE
    # three k: each starts at 0, 1/3 and 2/3 of the per-k share
    assert seen == [
        ("Choosing k: k = 2 of 4", pytest.approx(0.0)),
        ("Choosing k: k = 3 of 4", pytest.approx(share / 3)),
        ("Choosing k: k = 4 of 4", pytest.approx(2 * share / 3)),
        ("Choosing k: silhouettes of k = 2..4", pytest.approx(share)),
        # 60 customers: their distance rows fit one chunk, done at once
        ("Choosing k: silhouettes of k = 2..4", pytest.approx(1.0)),
    ]
    assert list(sweep.table.index) == [2, 3, 4]


def test_the_progress_callback_changes_nothing_in_the_sweep():
    X = _features(80, seed=7)
    quiet = models.k_diagnostics(X, k_values=range(2, 7))
    told = models.k_diagnostics(X, k_values=range(2, 7), progress=lambda s, f: None)
    pd.testing.assert_frame_equal(quiet.table, told.table)
    assert (quiet.recommended_k, quiet.rule) == (told.recommended_k, told.rule)


def test_a_k_that_needs_more_customers_is_not_reported():
    # 5 customers: k = 5 and more are left out, the largest k reported is 4
    X = _features(5, seed=3)
    seen: list[str] = []
    models.k_diagnostics(X, k_values=range(2, 8), progress=lambda s, f: seen.append(s))
    assert seen == [
        "Choosing k: k = 2 of 4",
        "Choosing k: k = 3 of 4",
        "Choosing k: k = 4 of 4",
        "Choosing k: silhouettes of k = 2..4",
        "Choosing k: silhouettes of k = 2..4",
    ]


class _Cancelled(Exception):
    pass


def test_a_callback_that_raises_stops_the_sweep():
    seen: list[str] = []

    def cancel_at_k4(step: str, fraction: float) -> None:
        seen.append(step)
        if step.endswith("k = 4 of 6"):
            raise _Cancelled(step)

    with pytest.raises(_Cancelled):
        models.k_diagnostics(_features(), k_values=range(2, 7), progress=cancel_at_k4)
    assert seen == [
        "Choosing k: k = 2 of 6",
        "Choosing k: k = 3 of 6",
        "Choosing k: k = 4 of 6",
    ]


def test_prepare_reports_every_k_of_a_real_export_between_75_and_90(retail_ii_head):
    seen: list[tuple[str, float]] = []
    prepare(retail_ii_head, progress=lambda s, f: seen.append((s, f)))
    steps = [s for s, _ in seen]
    start = steps.index("Choosing k")
    per_k = seen[start + 1 : start + 11]
    assert [s for s, _ in per_k] == [
        f"Choosing k: k = {k} of 10" for k in range(2, 11)
    ] + ["Choosing k: silhouettes of k = 2..10"]
    fractions = [f for _, f in seen[start : start + 11]]
    # 0.75 at "Choosing k"; k = 2 starts there too; each k 0.15 * share / 9 more
    step = 0.15 * SWEEP_PER_K_SHARE / 9
    assert fractions == pytest.approx(
        [0.75] + [0.75 + i * step for i in range(9)] + [0.75 + 0.15 * SWEEP_PER_K_SHARE]
    )
    assert seen[-1] == ("Done", 1.0)
    assert all(f < 0.9 for f in fractions)


def test_the_silhouettes_report_each_chunk_of_distance_rows(monkeypatch):
    # 300 customers, 0.5 MiB of distance rows at a time: a row is 300 x 8 bytes,
    # so 524,288 // 2,400 = 218 rows, then the other 82
    monkeypatch.setattr(_cluster_scores, "SILHOUETTE_CHUNK_MB", 0.5)
    X = _features(300, seed=5)
    Z = X.to_numpy()
    labelings = [KMeans(k, random_state=0, n_init=1).fit(Z).labels_ for k in (2, 3)]
    told: list[tuple[int, int]] = []
    scores = models.silhouette_scores(Z, labelings, progress=lambda *a: told.append(a))
    assert told == [(218, 300), (300, 300)]
    assert scores == pytest.approx([silhouette_score(Z, lab) for lab in labelings])

    seen: list[tuple[str, float]] = []
    models.k_diagnostics(
        X, k_values=range(2, 4), progress=lambda s, f: seen.append((s, f))
    )
    share = SWEEP_PER_K_SHARE
    assert seen[-3:] == [
        ("Choosing k: silhouettes of k = 2..3", pytest.approx(share)),
        (
            "Choosing k: silhouettes of k = 2..3",
            pytest.approx(share + (1 - share) * 218 / 300),
        ),
        ("Choosing k: silhouettes of k = 2..3", pytest.approx(1.0)),
    ]
