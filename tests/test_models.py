"""Value tiers, purchase styles, k diagnostics and stability."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from kneed import KneeLocator
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

from segmentation import models, schema
from segmentation.errors import SegmentationError, TooFewCustomersError

RFM = list(schema.RFM_COLUMNS)

# Synthetic RFM blobs ---------------------------------------------------------------
# Three well-separated groups of 60 customers (shuffled), in ascending value:
#   group 0: ~300 days, 1 order, ~100 spent
#   group 1: ~60 days, ~4 orders, ~1,500 spent
#   group 2: ~5 days, ~20 orders, ~20,000 spent
CENTRES = [(300, 1, 100), (60, 4, 1_500), (5, 20, 20_000)]


def _blobs(n_per=60, seed=0):
    rng = np.random.default_rng(seed)
    parts = []
    for group, (r, f, m) in enumerate(CENTRES):
        parts.append(
            pd.DataFrame(
                {
                    schema.RECENCY_DAYS: np.round(r * rng.uniform(0.8, 1.2, n_per)),
                    schema.FREQUENCY: np.maximum(
                        1, np.round(f * rng.uniform(0.8, 1.2, n_per))
                    ),
                    schema.MONETARY: m * rng.uniform(0.8, 1.2, n_per),
                    "group": group,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True).sample(frac=1, random_state=seed)
    out.index = pd.Index([f"C{i:04d}" for i in range(len(out))], name="customer_id")
    return out


@pytest.fixture(scope="module")
def blobs():
    return _blobs()


# ValueTiers ------------------------------------------------------------------------


def test_value_tiers_finds_the_three_groups_in_ascending_value(blobs):
    model = models.ValueTiers(3).fit(blobs)
    assert (model.labels_ == blobs["group"].to_numpy()).all()
    assert model.tier_names_ == ("Low", "Mid", "High")
    assert sorted(model.order_) == [0, 1, 2]
    # Profile checked against plain pandas on the known groups.
    by_group = blobs.groupby("group")
    expected_share = by_group[schema.MONETARY].sum() / blobs[schema.MONETARY].sum()
    profile = model.profile_
    assert profile.index.name == schema.VALUE_CLUSTER
    assert profile["customers"].tolist() == [60, 60, 60]
    assert profile["value_tier"].tolist() == ["Low", "Mid", "High"]
    np.testing.assert_allclose(
        profile["median_monetary"], by_group[schema.MONETARY].median()
    )
    np.testing.assert_allclose(
        profile["median_recency_days"], by_group[schema.RECENCY_DAYS].median()
    )
    np.testing.assert_allclose(profile["revenue_share"], expected_share)


def test_value_tiers_predicts_new_customers(blobs):
    model = models.ValueTiers(3).fit(blobs)
    new = pd.DataFrame(
        {
            schema.RECENCY_DAYS: [5, 250],
            schema.FREQUENCY: [15, 1],
            schema.MONETARY: [25_000.0, 400.0],
        },
        index=["best", "worst"],
    )
    assert model.predict(new).tolist() == [2, 0]
    assert (model.predict(blobs) == model.labels_).all()


def test_value_tiers_is_deterministic_and_does_not_mutate(blobs):
    before = blobs.copy()
    first = models.ValueTiers(4, random_state=7).fit(blobs).labels_
    second = models.ValueTiers(4, random_state=7).fit(blobs).labels_
    assert (first == second).all()
    pd.testing.assert_frame_equal(blobs, before)


@pytest.mark.parametrize("k", range(2, 11))
def test_value_tiers_every_k_numbers_clusters_by_ascending_value(blobs, k):
    model = models.ValueTiers(k).fit(blobs)
    assert set(model.labels_) == set(range(k))
    # Independent check of the ordering: plain-pandas medians per value_cluster.
    med = blobs.groupby(model.labels_)[[schema.MONETARY, schema.FREQUENCY]].median()
    keys = list(zip(med[schema.MONETARY], med[schema.FREQUENCY], strict=True))
    assert keys == sorted(keys)
    assert model.profile_["customers"].sum() == len(blobs)
    assert model.profile_["revenue_share"].sum() == pytest.approx(1.0)
    assert len(model.tier_names_) == k


@pytest.mark.parametrize(
    ("k", "fragment"),
    [
        (1, "n_clusters=1 "),
        (11, "n_clusters=11 "),
        (2.5, "n_clusters=2.5"),
        ("3", "n_clusters='3'"),
        (True, "n_clusters=True"),
    ],
)
def test_value_tiers_rejects_bad_k(blobs, k, fragment):
    with pytest.raises(SegmentationError, match=fragment):
        models.ValueTiers(k).fit(blobs)


def _rfm(rows, index=None):
    return pd.DataFrame(rows, columns=RFM, index=index)


@pytest.mark.parametrize(
    ("X", "k", "error", "fragment"),
    [
        (
            _rfm([[1, 1, 10.0], [2, 2, 20.0], [3, 3, 30.0]]),
            4,
            TooFewCustomersError,
            "3 customers is fewer than k=4 value tiers",
        ),
        (_rfm([[1, 1, 10.0]] * 5), 3, TooFewCustomersError, "only 1 distinct"),
        (
            _rfm([[1, 1, 10.0], [2, 2, np.nan], [3, 3, 30.0]], index=["a", "b", "c"]),
            2,
            SegmentationError,
            "'monetary' has 1 missing.*customer 'b'",
        ),
        (
            _rfm([[1, 1, 10.0], [-2, 2, 20.0], [3, 3, 30.0]]),
            2,
            SegmentationError,
            "'recency_days' has 1 negative",
        ),
        (
            _rfm([[1, 1, 10.0], [2, 2, np.inf], [3, 3, 30.0]]),
            2,
            SegmentationError,
            "infinite",
        ),
        (
            _rfm([[1, 1, 10.0], [2, 2, 20.0]]).drop(columns=schema.FREQUENCY),
            2,
            SegmentationError,
            "lacks column.*frequency",
        ),
        (
            _rfm([[1, "x", 10.0], [2, 2, 20.0]]),
            2,
            SegmentationError,
            "'frequency' has 1 missing, non-numeric",
        ),
        (_rfm([]), 2, SegmentationError, "no customers"),
        (np.ones((5, 3)), 2, SegmentationError, "pandas DataFrame"),
    ],
)
def test_value_tiers_bad_input(X, k, error, fragment):
    with pytest.raises(error, match=fragment):
        models.ValueTiers(k).fit(X)


def test_too_few_customers_error_survives_pickling():
    with pytest.raises(TooFewCustomersError) as info:
        models.ValueTiers(4).fit(_rfm([[1, 1, 10.0], [2, 2, 20.0]]))
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)
    assert again.k == 4


def test_value_tiers_predict_needs_fit():
    with pytest.raises(NotFittedError):
        models.ValueTiers(3).predict(_rfm([[1, 1, 1.0]]))


# PurchaseStyle ---------------------------------------------------------------------
# 1,000 customers. 890 regular: avg_line_quantity cycles 6, 8, 10, 12, 14; 100
# planted bulk buyers at 50, 60, 70, 80 or 90 units per line; 10 planted outliers
# (40..120 orders, return rate 45..90 %, 800..3,000 distinct products) at 10 units
# per line. Sorted avg_line_quantity: 178 x 6, 178 x 8, 188 x 10 (positions
# 356..543) ..., so the median is 10 and the Bulk threshold 4 x 10 = 40.
N_REGULAR, N_BULK, N_OUTLIER = 890, 100, 10


def _behaviour(seed=0):
    rng = np.random.default_rng(seed)
    n = N_REGULAR + N_BULK + N_OUTLIER
    line_qty = np.concatenate(
        [
            np.tile([6.0, 8, 10, 12, 14], N_REGULAR // 5),
            np.tile([50.0, 60, 70, 80, 90], N_BULK // 5),
            np.full(N_OUTLIER, 10.0),
        ]
    )
    frequency = rng.integers(1, 8, n).astype(float)
    frequency[-N_OUTLIER:] = np.round(rng.uniform(40, 120, N_OUTLIER))
    lines_per_order = rng.uniform(10, 30, n)
    order_value = lines_per_order * line_qty * rng.uniform(1.5, 2.5, n)
    distinct = np.round(lines_per_order * np.sqrt(frequency))
    return_rate = rng.uniform(0, 0.02, n)
    distinct[-N_OUTLIER:] = np.round(rng.uniform(800, 3_000, N_OUTLIER))
    return_rate[-N_OUTLIER:] = np.linspace(0.45, 0.9, N_OUTLIER)
    kind = ["regular"] * N_REGULAR + ["bulk"] * N_BULK + ["outlier"] * N_OUTLIER
    return pd.DataFrame(
        {
            schema.FREQUENCY: frequency,
            schema.MONETARY: order_value * frequency,
            schema.AVG_ORDER_VALUE: order_value,
            schema.AVG_ITEMS_PER_ORDER: lines_per_order * line_qty,
            schema.AVG_LINE_QUANTITY: line_qty,
            schema.MAX_LINE_QUANTITY: line_qty * 2,
            schema.DISTINCT_PRODUCTS: distinct,
            schema.RETURN_RATE: return_rate,
            "kind": kind,
        },
        index=pd.Index([f"B{i:04d}" for i in range(n)], name="customer_id"),
    )


@pytest.fixture(scope="module")
def behaviour():
    return _behaviour()


@pytest.fixture(scope="module")
def styled(behaviour):
    return models.PurchaseStyle().fit(behaviour)


def test_purchase_style_finds_planted_outliers_and_bulk(behaviour, styled):
    styles, reasons, kind = styled.styles_, styled.reasons_, behaviour["kind"]
    assert styles.index.equals(behaviour.index)
    assert (styles[kind == "outlier"] == schema.ANOMALY).all()
    outlier_reasons = reasons[kind == "outlier"]
    assert outlier_reasons.str.contains(
        r"return rate \d\d% vs median 1%|\d+ orders vs median 4|"
        r"[\d,]+ distinct products vs median"
    ).all()
    bulk_found = (styles[kind == "bulk"] == schema.BULK).mean()
    assert bulk_found >= 0.9
    # The rule: no regular row reaches the threshold, every non-anomaly above is Bulk.
    assert styled.medians_[schema.AVG_LINE_QUANTITY] == 10
    assert styled.bulk_threshold_ == 40
    above = behaviour[schema.AVG_LINE_QUANTITY] >= 40
    assert (styles[above & (styles != schema.ANOMALY)] == schema.BULK).all()
    assert (styles[~above] != schema.BULK).all()


def test_purchase_style_reasons(behaviour, styled):
    styles, reasons = styled.styles_, styled.reasons_
    assert (reasons[styles == schema.REGULAR] == "").all()
    assert (reasons[styles != schema.REGULAR] != "").all()
    # e.g. 80 units per line / median 10 = 8.0x
    bulk = styles == schema.BULK
    expected = [
        f"{q:.0f} units per line on average, {q / 10:.1f}x the median of 10"
        for q in behaviour.loc[bulk, schema.AVG_LINE_QUANTITY]
    ]
    assert reasons[bulk].tolist() == expected
    assert "80 units per line on average, 8.0x the median of 10" in expected


@pytest.mark.parametrize("share", [0.02, 0.05])
def test_anomaly_share_within_one_point(behaviour, share):
    styles = models.PurchaseStyle(share).fit(behaviour).styles_
    assert abs((styles == schema.ANOMALY).mean() - share) <= 0.01


def test_purchase_style_predicts_new_customers(behaviour, styled):
    new = behaviour.loc[["B0893", "B0001"]].drop(columns="kind")  # bulk, regular
    odd = new.iloc[[1]].assign(
        **{
            schema.FREQUENCY: 100.0,
            schema.RETURN_RATE: 0.9,
            schema.DISTINCT_PRODUCTS: 3_000.0,
        }
    )
    new = pd.concat([new, odd.set_axis(["odd"])])
    out = styled.predict(new)
    assert list(out.columns) == [schema.PURCHASE_STYLE, schema.STYLE_REASON]
    assert out.index.tolist() == ["B0893", "B0001", "odd"]
    assert out[schema.PURCHASE_STYLE].tolist() == [
        schema.BULK,
        schema.REGULAR,
        schema.ANOMALY,
    ]
    assert out.loc["odd", schema.STYLE_REASON] != ""
    assert out.loc["B0001", schema.STYLE_REASON] == ""


def test_purchase_style_is_deterministic(behaviour, styled):
    again = models.PurchaseStyle().fit(behaviour)
    pd.testing.assert_series_equal(again.styles_, styled.styles_)


def test_purchase_style_without_stock_codes_leaves_distinct_products_out(behaviour):
    no_codes = behaviour.assign(**{schema.DISTINCT_PRODUCTS: np.nan})
    model = models.PurchaseStyle().fit(no_codes)
    assert schema.DISTINCT_PRODUCTS not in model.features_used_
    assert len(model.features_used_) == len(schema.BEHAVIOUR_COLUMNS) - 1
    styles = model.predict(no_codes.drop(columns=schema.DISTINCT_PRODUCTS))
    assert (styles[schema.PURCHASE_STYLE] == model.styles_).all()
    assert not model.reasons_.str.contains("distinct products").any()


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"anomaly_share": 0}, "anomaly_share=0 "),
        ({"anomaly_share": 0.6}, "anomaly_share=0.6 "),
        ({"anomaly_share": "0.02"}, "anomaly_share='0.02'"),
        ({"bulk_factor": 1}, "bulk_factor=1 "),
    ],
)
def test_purchase_style_rejects_bad_parameters(behaviour, params, fragment):
    with pytest.raises(SegmentationError, match=fragment):
        models.PurchaseStyle(**params).fit(behaviour)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda b: b.drop(columns=schema.RETURN_RATE), "lacks column.*return_rate"),
        (
            lambda b: b.assign(**{schema.MAX_LINE_QUANTITY: -1.0}),
            "'max_line_quantity' has 1000 negative.*customer 'B0000'",
        ),
        (lambda b: b.iloc[:1], "at least 2 customers, got 1"),
        (
            lambda b: b.assign(**{schema.AVG_LINE_QUANTITY: np.nan}),
            "'avg_line_quantity' has 1000 missing",
        ),
        (
            lambda b: b.assign(**{schema.RETURN_RATE: [np.nan] + [0.0] * 999}),
            "'return_rate' has 1 missing.*customer 'B0000'",
        ),
    ],
)
def test_purchase_style_bad_input(behaviour, change, fragment):
    with pytest.raises(SegmentationError, match=fragment):
        models.PurchaseStyle().fit(change(behaviour))


# k diagnostics and stability -------------------------------------------------------


def _scaled(X):
    logs = np.log1p(X[list(schema.VALUE_FEATURES)].to_numpy(float))
    return (logs - logs.mean(axis=0)) / logs.std(axis=0)


def test_k_diagnostics_on_three_blobs(blobs):
    diag = models.k_diagnostics(blobs)
    table = diag.table
    assert table.index.name == "k"
    assert table.index.tolist() == list(range(2, 11))
    assert list(table.columns) == [
        "inertia",
        "silhouette",
        "davies_bouldin",
        "calinski_harabasz",
        "stability",
    ]
    assert (np.diff(table["inertia"]) <= 0).all()
    assert diag.recommended_k == 3
    assert diag.knee == 3
    assert "inertia knee k=3" in diag.rule
    assert diag.silhouette_sample == len(blobs)
    # Independent reference: sklearn KMeans (one start from each of seeds 0..4, the
    # best kept) on a hand-scaled frequency/monetary matrix, then kneed.
    Z = _scaled(blobs)
    fits = {
        k: min(
            (KMeans(k, random_state=s, n_init=1).fit(Z) for s in range(5)),
            key=lambda fit: fit.inertia_,
        )
        for k in range(2, 11)
    }
    inertia = [fits[k].inertia_ for k in range(2, 11)]
    np.testing.assert_allclose(table["inertia"], inertia, rtol=1e-6)
    knee = KneeLocator(
        list(range(2, 11)), inertia, curve="convex", direction="decreasing"
    ).knee
    assert knee == 3
    for k in (2, 3, 6):
        labels = fits[k].labels_
        assert table.loc[k, "silhouette"] == pytest.approx(silhouette_score(Z, labels))
        assert table.loc[k, "davies_bouldin"] == pytest.approx(
            davies_bouldin_score(Z, labels)
        )
        assert table.loc[k, "calinski_harabasz"] == pytest.approx(
            calinski_harabasz_score(Z, labels)
        )


def test_silhouette_scores_match_sklearn_including_singletons():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(200, 3))
    labelings = [rng.integers(0, k, 200) for k in (2, 5, 9)]
    labelings.append(np.r_[0, np.ones(199, dtype=int)])  # a cluster of one point
    ours = models.silhouette_scores(Z, labelings)
    expected = [silhouette_score(Z, labels) for labels in labelings]
    np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_silhouette_scores_match_sklearn_across_several_distance_chunks():
    n = 3000  # a distance row is 24 kB: three chunks of SILHOUETTE_CHUNK_MB
    from segmentation.models._diagnostics import SILHOUETTE_CHUNK_MB

    assert n * n * 8 > 2 * SILHOUETTE_CHUNK_MB * 2**20
    rng = np.random.default_rng(4)
    Z = rng.normal(size=(n, 3))
    labelings = [rng.integers(0, k, n) for k in (2, 7)]
    ours = models.silhouette_scores(Z, labelings)
    expected = [silhouette_score(Z, labels) for labels in labelings]
    np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_k_diagnostics_silhouette_sample_is_capped(blobs):
    diag = models.k_diagnostics(blobs, k_values=[2, 3, 4], sample_size=50)
    assert diag.silhouette_sample == 50
    again = models.k_diagnostics(blobs, k_values=[2, 3, 4], sample_size=50)
    pd.testing.assert_frame_equal(diag.table, again.table)


def test_k_diagnostics_without_knee_the_others_vote(blobs, monkeypatch):
    class NoKnee:
        def __init__(self, *args, **kwargs):
            self.knee = None

    monkeypatch.setattr("kneed.KneeLocator", NoKnee)  # imported on use
    diag = models.k_diagnostics(blobs)
    assert diag.knee is None
    assert "inertia" not in diag.votes and len(diag.votes) == 4
    assert diag.recommended_k == 3
    assert "inertia: no knee, no vote" in diag.rule


def test_k_diagnostics_with_two_k_values_uses_silhouette(blobs):
    diag = models.k_diagnostics(blobs, k_values=[2, 3])
    assert diag.recommended_k == 3
    assert "no knee" in diag.rule


def test_k_diagnostics_skips_k_beyond_the_customers():
    X = _rfm([[i * 30 + 1, i + 1, 100.0 * 3**i] for i in range(6)])
    diag = models.k_diagnostics(X)
    assert diag.table.index.tolist() == [2, 3, 4, 5]
    assert "skipped: only 6 customers" in diag.rule


@pytest.mark.parametrize(
    ("X", "k_values", "error", "fragment"),
    [
        (
            _rfm([[1, 1, 10.0], [2, 2, 20.0]]),
            range(2, 11),
            TooFewCustomersError,
            "too few",
        ),
        (_blobs(5), [2, 12], SegmentationError, "n_clusters=12"),
    ],
)
def test_k_diagnostics_errors(X, k_values, error, fragment):
    with pytest.raises(error, match=fragment):
        models.k_diagnostics(X, k_values)


def test_stability(blobs):
    assert models.stability(blobs, 3) == pytest.approx(1.0)
    noise = pd.DataFrame(
        np.random.default_rng(0).uniform(1, 100, (300, 3)), columns=RFM
    )
    assert 0 < models.stability(noise, 6) <= 1
    with pytest.raises(SegmentationError, match="at least two seeds"):
        models.stability(blobs, 3, seeds=(0,))


# Online Retail I -------------------------------------------------------------------


@pytest.fixture(scope="module")
def retail_customers(retail_prepared):
    """The customer features of Online Retail I (read once per session)."""
    return retail_prepared.features


@pytest.mark.realdata
def test_real_value_tiers_k3(retail_customers):
    model = models.ValueTiers(3).fit(retail_customers)
    # Independent check: plain-pandas medians of the customers in each tier.
    tiers = pd.Series(model.labels_, index=retail_customers.index)
    median = retail_customers.groupby(tiers)[schema.MONETARY].median()
    assert median.index.tolist() == [0, 1, 2]
    assert median.is_monotonic_increasing and median.is_unique
    share = retail_customers.groupby(tiers)[schema.MONETARY].sum()
    assert share.idxmax() == 2  # the High tier holds most of the revenue
    assert model.profile_["value_tier"].tolist() == ["Low", "Mid", "High"]


@pytest.mark.realdata
def test_real_purchase_styles(retail_customers):
    model = models.PurchaseStyle().fit(retail_customers)
    styles = model.styles_
    assert 0.03 <= (styles == schema.BULK).mean() <= 0.30
    assert abs((styles == schema.ANOMALY).mean() - 0.02) <= 0.01
    # Bulk rule against plain pandas: 4 x the median units per line.
    median = retail_customers[schema.AVG_LINE_QUANTITY].median()
    assert model.bulk_threshold_ == pytest.approx(4 * median)
    # 12346 bought 74,215 units in one line and returned them: an anomaly.
    assert styles.loc["12346"] == schema.ANOMALY
    assert "return rate 50%" in model.reasons_.loc["12346"]


@pytest.mark.realdata
def test_real_k_diagnostics(retail_customers):
    diag = models.k_diagnostics(retail_customers)
    assert diag.table.index.tolist() == list(range(2, 11))
    assert (np.diff(diag.table["inertia"]) < 0).all()
    # the majority of five measures (tests/test_k_choice.py has the rule)
    assert diag.recommended_k in diag.votes.values()
