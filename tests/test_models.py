"""Value tiers, purchase styles, k diagnostics and stability."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pandas as pd
import pytest
from kneed import KneeLocator
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError
from sklearn.metrics import (
    adjusted_rand_score,
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
VALUE = [schema.FREQUENCY, schema.MONETARY]


def _medians(X, labels) -> pd.DataFrame:
    """Plain-pandas median frequency and monetary of each value_cluster."""
    return X.groupby(np.asarray(labels))[VALUE].median()


def _keeps_the_order(medians: pd.DataFrame) -> bool:
    """DESIGN 6: tier by tier, median monetary rises, median frequency never falls."""
    return bool(
        (np.diff(medians[schema.MONETARY]) > 0).all()
        and (np.diff(medians[schema.FREQUENCY]) >= 0).all()
    )


def test_value_tiers_finds_the_three_groups_in_ascending_value(blobs):
    model = models.ValueTiers(3).fit(blobs)
    assert (model.labels_ == blobs["group"].to_numpy()).all()
    assert model.tier_names_ == ("Low", "Mid", "High")
    assert sorted(model.order_) == [0, 1, 2]
    assert model.value_columns_ == (schema.FREQUENCY, schema.MONETARY)
    # the groups are far apart: the first k-means partition keeps the order
    assert (model.method_, model.seed_used_, model.monotone_) == ("kmeans", 0, True)
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


def test_value_tiers_do_not_read_recency(blobs):
    """Recency is a status, not a value (DESIGN 6): it is not clustered."""
    model = models.ValueTiers(3).fit(blobs)
    # every customer's recency replaced by another's, or no recency at all
    swapped = blobs.assign(
        **{schema.RECENCY_DAYS: blobs[schema.RECENCY_DAYS].to_numpy()[::-1]}
    )
    assert (models.ValueTiers(3).fit(swapped).labels_ == model.labels_).all()
    no_recency = blobs.drop(columns=schema.RECENCY_DAYS)
    assert (models.ValueTiers(3).fit(no_recency).labels_ == model.labels_).all()
    # two customers with group 1's 4 orders and 1,500 spent, one last week and one
    # a year ago: both in the Mid tier
    pair = pd.DataFrame(
        {
            schema.RECENCY_DAYS: [7, 365],
            schema.FREQUENCY: [4, 4],
            schema.MONETARY: [1_500.0, 1_500.0],
        }
    )
    assert model.predict(pair).tolist() == [1, 1]


def test_value_tiers_predicts_new_customers(blobs):
    model = models.ValueTiers(3).fit(blobs)
    new = pd.DataFrame(
        {
            schema.FREQUENCY: [15, 1],
            schema.MONETARY: [25_000.0, 400.0],
        },
        index=["best", "worst"],
    )
    assert model.predict(new).tolist() == [2, 0]  # frequency and monetary suffice
    assert (model.predict(blobs) == model.labels_).all()
    with pytest.raises(SegmentationError, match=r"lacks column\(s\) monetary"):
        model.predict(new.drop(columns=schema.MONETARY))
    with pytest.raises(SegmentationError, match="'frequency' has 1 negative"):
        model.predict(new.assign(**{schema.FREQUENCY: [15, -1]}))


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
    # Independent check of the ordering: plain-pandas medians per value_cluster,
    # ranked by median monetary (ties by median frequency).
    med = _medians(blobs, model.labels_)
    keys = list(zip(med[schema.MONETARY], med[schema.FREQUENCY], strict=True))
    assert keys == sorted(keys)
    # monotone_ says whether DESIGN 6's order holds, as plain pandas finds it
    assert model.monotone_ == _keeps_the_order(med)
    assert model.method_ in ("kmeans", "value_score", "equal_bands")
    assert model.profile_["customers"].sum() == len(blobs)
    assert model.profile_["revenue_share"].sum() == pytest.approx(1.0)
    assert len(model.tier_names_) == k


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_value_tiers_keep_both_medians_in_order(blobs, k):
    # k = 2..5 split the three groups (60 customers each) along their value, and a
    # higher tier never has a lower median monetary or median frequency
    model = models.ValueTiers(k).fit(blobs)
    assert model.monotone_ and _keeps_the_order(_medians(blobs, model.labels_))


def _kmeans_order_broken(Z: np.ndarray, X: pd.DataFrame, k: int, seed: int) -> bool:
    labels = KMeans(k, random_state=seed, n_init=10).fit(Z).labels_
    med = _medians(X, labels).sort_values([schema.MONETARY, schema.FREQUENCY])
    return not _keeps_the_order(med)


def test_value_tiers_fall_back_to_bands_of_value_when_no_seed_keeps_the_order(blobs):
    # Independent reference (sklearn on a hand-scaled matrix): at k=5 the k-means
    # partition of each of the seeds 0..9, ranked by median monetary, has some
    # tier whose median monetary or frequency is below the tier before it ...
    Z = _scaled(blobs)
    assert all(_kmeans_order_broken(Z, blobs, 5, seed) for seed in range(10))
    model = models.ValueTiers(5).fit(blobs)
    # ... so the tiers are k-means bands of one value axis, the sum of the two
    # standardised features, and those keep the order.
    assert (model.method_, model.seed_used_, model.monotone_) == (
        "value_score",
        0,
        True,
    )
    bands = KMeans(5, random_state=0, n_init=10).fit(Z.sum(axis=1, keepdims=True))
    assert adjusted_rand_score(bands.labels_, model.labels_) == 1.0
    assert _keeps_the_order(_medians(blobs, model.labels_))


def test_value_tiers_flag_data_whose_value_cannot_be_ordered():
    # Two one-order customers who spent 1,000 and two ten-order customers who
    # spent 100: whichever pair ranks higher has the lower median of the other
    # feature. The bands fallback cannot help: on the log1p scale frequency is
    # log 2 = 0.69 or log 11 = 2.40 (z = -1, +1) and monetary log 1001 = 6.91 or
    # log 101 = 4.62 (z = +1, -1), so every customer's value score is 0.
    X = _rfm([[1, 1, 1_000.0], [1, 1, 1_000.0], [1, 10, 100.0], [1, 10, 100.0]])
    model = models.ValueTiers(2).fit(X)
    # the first k-means partition is kept (by monetary: 100 -> tier 0, 1,000 ->
    # tier 1) and flagged
    assert (model.method_, model.seed_used_, model.monotone_) == ("kmeans", 0, False)
    assert model.labels_.tolist() == [1, 1, 0, 0]


@pytest.mark.parametrize("k", [6, 7])
def test_value_tiers_keep_the_order_on_separated_groups(blobs, k):
    # No k-means seed and not the one-axis k-means keep the order here; k bands
    # of equal size along the summed value score do (60 customers per group).
    model = models.ValueTiers(k).fit(blobs)
    assert model.method_ == "equal_bands"
    assert model.monotone_ and _keeps_the_order(_medians(blobs, model.labels_))
    again = model.predict(blobs)  # new customers fall in the same bands
    assert (again == model.labels_).all()


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
        (  # five recencies, but one frequency/monetary pair: one value
            _rfm([[r, 1, 10.0] for r in range(5)]),
            3,
            TooFewCustomersError,
            "only 1 distinct frequency/monetary values, fewer than k=3",
        ),
        (
            _rfm([[1, 1, 10.0], [2, 2, np.nan], [3, 3, 30.0]], index=["a", "b", "c"]),
            2,
            SegmentationError,
            "'monetary' has 1 missing.*customer 'b'",
        ),
        (
            _rfm([[1, 1, 10.0], [2, -2, 20.0], [3, 3, 30.0]], index=["a", "b", "c"]),
            2,
            SegmentationError,
            "'frequency' has 1 negative.*customer 'b'",
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
            r"lacks column\(s\) frequency",
        ),
        (
            _rfm([[1, 1, 10.0], [2, 2, 20.0]]).drop(columns=schema.MONETARY),
            2,
            SegmentationError,
            r"lacks column\(s\) monetary",
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


def test_value_tiers_accept_any_recency():
    # a negative or missing recency is not the tiers' business (status reads it)
    X = _rfm([[-2, 1, 10.0], [np.nan, 2, 20.0], [3, 9, 900.0]])
    assert models.ValueTiers(2).fit(X).labels_.tolist() == [0, 0, 1]


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
# 1,000 customers, each with 1..7 orders (6 for the planted ones): bands 1, 2, 3-4
# and 5-8 each hold far more than 20 customers, so each is its own peer group.
# 890 regular: avg_line_quantity cycles 6, 8, 10, 12, 14; 100 planted bulk buyers
# at 50, 60, 70, 80 or 90 units per line; 10 planted irregular buyers at 10 units
# per line. Sorted avg_line_quantity: 178 x 6, 178 x 8, 188 x 10 (positions
# 356..543) ..., so the median is 10 and the Bulk threshold 4 x 10 = 40.
# Regular and bulk orders are the customer's typical order x uniform(0.7, 1.3),
# and they return 0..2 %. The irregular ones buy 6 orders of one typical size b:
#   B0990..B0993 return 45, 60, 75, 90 % (orders all b: largest/median 1, spread 0);
#   B0994..B0996 one spike: b, b, b, b, b, s*b with s = 15, 20, 25, so the largest
#     order is s x their median b; their b is chosen so that they spend like the
#     others (6 typical orders in all: b = 6 * typical / (5 + s));
#   B0997..B0999 swing: 0.05b, b, 0.05b, b, 0.05b, b: median (0.05 + 1)/2 = 0.525b,
#     largest 1/0.525 = 1.9x; mean 0.525b, sample sd sqrt(6 * 0.475^2 / 5) =
#     0.5203b, spread 0.5203 / 0.525 = 99 %.
# largest_order_ratio and order_value_cv are computed from these orders here, with
# numpy, as DESIGN 5 defines them (sample standard deviation; 0 for one order).
N_REGULAR, N_BULK, N_OUTLIER = 890, 100, 10
RETURNERS = {"B0990": 0.45, "B0991": 0.60, "B0992": 0.75, "B0993": 0.90}
SPIKES = {"B0994": 15.0, "B0995": 20.0, "B0996": 25.0}
SWINGS = ("B0997", "B0998", "B0999")
PLANTED = [*RETURNERS, *SPIKES, *SWINGS]


def _orders(seed=0) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Units per line, each customer's order values, and return rates."""
    rng = np.random.default_rng(seed)
    n = N_REGULAR + N_BULK + N_OUTLIER
    line_qty = np.concatenate(
        [
            np.tile([6.0, 8, 10, 12, 14], N_REGULAR // 5),
            np.tile([50.0, 60, 70, 80, 90], N_BULK // 5),
            np.full(N_OUTLIER, 10.0),
        ]
    )
    frequency = rng.integers(1, 8, n)
    frequency[-N_OUTLIER:] = 6
    typical = rng.uniform(10, 30, n) * line_qty * 2.0  # lines x units x price
    orders = [typical[i] * rng.uniform(0.7, 1.3, frequency[i]) for i in range(n)]
    return_rate = rng.uniform(0, 0.02, n)
    first = N_REGULAR + N_BULK
    for i, rate in enumerate(RETURNERS.values(), start=first):
        orders[i], return_rate[i] = np.full(6, typical[i]), rate
    for i, spike in enumerate(SPIKES.values(), start=first + 4):
        b = 6 * typical[i] / (5 + spike)
        orders[i] = b * np.array([1, 1, 1, 1, 1, spike])
    for i in range(first + 7, n):
        orders[i] = typical[i] * np.array([0.05, 1, 0.05, 1, 0.05, 1])
    return line_qty, orders, return_rate


def _behaviour(seed=0):
    line_qty, orders, return_rate = _orders(seed)
    n = len(orders)
    gross = np.array([o.sum() for o in orders])
    frequency = np.array([len(o) for o in orders], dtype=float)
    kind = ["regular"] * N_REGULAR + ["bulk"] * N_BULK + ["irregular"] * N_OUTLIER
    return pd.DataFrame(
        {
            schema.FREQUENCY: frequency,
            schema.MONETARY: gross * (1 - return_rate),
            schema.AVG_ORDER_VALUE: gross * (1 - return_rate) / frequency,
            schema.AVG_LINE_QUANTITY: line_qty,
            schema.MAX_LINE_QUANTITY: line_qty * 2,
            schema.DISTINCT_PRODUCTS: np.arange(n) % 40 + 1.0,
            schema.RETURN_RATE: return_rate,
            schema.LARGEST_ORDER_RATIO: [o.max() / np.median(o) for o in orders],
            schema.ORDER_VALUE_CV: [
                o.std(ddof=1) / o.mean() if len(o) > 1 else 0.0 for o in orders
            ],
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


def _peers(X: pd.DataFrame, frequency: float) -> pd.Series:
    """Plain-pandas medians of the customers in the same order-count band.

    Bands 1, 2, 3-4, 5-8, 9-16, 17+ (each of ours holds >= 20 customers).
    """
    edges = [1, 2, 3, 5, 9, 17, np.inf]
    band = pd.cut(X[schema.FREQUENCY], edges, right=False)
    mine = pd.cut([frequency], edges, right=False)[0]
    return X[band == mine].median(numeric_only=True)


RETURN_PHRASE = re.compile(
    r"returned \d+% of what they bought \(customers with as many orders: \d+%\)"
)
SPIKE_PHRASE = re.compile(
    r"largest order [\d.]+x their own median order "
    r"\(customers with as many orders: [\d.]+x\)"
)
SWING_PHRASE = re.compile(
    r"order values swing widely: spread \d+% of the mean "
    r"\(customers with as many orders: \d+%\)"
)


def _kinds_named(reason: str) -> list[str]:
    """Which irregularity each part of an anomaly's reason names."""
    named = []
    for part in reason.split("; "):
        kinds = [
            kind
            for kind, phrase in (
                ("returns", RETURN_PHRASE),
                ("spike", SPIKE_PHRASE),
                ("swing", SWING_PHRASE),
            )
            if phrase.fullmatch(part)
        ]
        assert len(kinds) == 1, part
        named += kinds
    return named


def test_purchase_style_reads_value_and_the_behaviour_columns(styled):
    assert styled.features_used_ == (
        schema.FREQUENCY,
        schema.MONETARY,
        schema.AVG_LINE_QUANTITY,
        schema.RETURN_RATE,
        schema.LARGEST_ORDER_RATIO,
        schema.ORDER_VALUE_CV,
    )
    assert schema.BEHAVIOUR_COLUMNS == styled.features_used_[2:]
    assert styled.bulk_judged_


def test_purchase_style_finds_planted_irregulars_and_bulk(behaviour, styled):
    styles, kind = styled.styles_, behaviour["kind"]
    assert styles.index.equals(behaviour.index)
    assert (styles[PLANTED] == schema.ANOMALY).all()
    bulk_found = (styles[kind == "bulk"] == schema.BULK).mean()
    assert bulk_found >= 0.9
    # The rule: no regular row reaches the threshold, every non-anomaly above is Bulk.
    assert styled.medians_[schema.AVG_LINE_QUANTITY] == 10
    assert styled.bulk_threshold_ == 40
    above = behaviour[schema.AVG_LINE_QUANTITY] >= 40
    assert (styles[above & (styles != schema.ANOMALY)] == schema.BULK).all()
    assert (styles[~above] != schema.BULK).all()


def test_anomaly_reasons_name_the_irregularity_against_peers(behaviour, styled):
    reasons = styled.reasons_
    peers = _peers(behaviour, 6)  # every planted customer has 6 orders (band 5-8)
    # A returner's orders are all alike (largest/median 1, spread 0: nothing above
    # their peers), so the returns are the one reason, e.g. "returned 60% ...".
    for customer, rate in RETURNERS.items():
        assert reasons[customer] == (
            f"returned {100 * rate:.0f}% of what they bought "
            f"(customers with as many orders: {100 * peers[schema.RETURN_RATE]:.0f}%)"
        )
    # a spike of s x the median order, against the band's median largest/median
    for customer, spike in SPIKES.items():
        phrase = (
            f"largest order {spike:.1f}x their own median order (customers with as "
            f"many orders: {peers[schema.LARGEST_ORDER_RATIO]:.1f}x)"
        )
        assert phrase in reasons[customer].split("; ")
    # a swing: spread 99 % of the mean (worked out above the fixture)
    for customer in SWINGS:
        phrase = (
            "order values swing widely: spread 99% of the mean (customers with as "
            f"many orders: {100 * peers[schema.ORDER_VALUE_CV]:.0f}%)"
        )
        assert phrase in reasons[customer].split("; ")
    # every anomaly names one or two irregularities, never the same one twice
    for reason in reasons[styled.styles_ == schema.ANOMALY]:
        named = _kinds_named(reason)
        assert 1 <= len(named) <= 2 and len(set(named)) == len(named)


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


@pytest.mark.parametrize(("share", "flagged"), [(0.02, 20), (0.05, 50)])
def test_anomaly_share_of_the_fitted_customers(behaviour, share, flagged):
    # the overall shift puts the cut at the share-quantile of the 1,000 customers'
    # scores (less their spend bin's threshold): position 999 x 0.02 = 19.98, so
    # the 20 lowest lie below it (999 x 0.05 = 49.95: 50)
    styles = models.PurchaseStyle(share).fit(behaviour).styles_
    assert (styles == schema.ANOMALY).sum() == flagged


def test_being_big_is_never_enough_to_be_an_anomaly(behaviour, styled):
    # Ten times every amount: the same orders' shape (the irregularities are
    # ratios), a spend bin at least as high, whose threshold is never stricter.
    bigger = behaviour.assign(
        **{
            schema.MONETARY: behaviour[schema.MONETARY] * 10,
            schema.AVG_ORDER_VALUE: behaviour[schema.AVG_ORDER_VALUE] * 10,
        }
    )
    again = styled.predict(bigger)[schema.PURCHASE_STYLE]
    was = styled.styles_
    assert not (again[was != schema.ANOMALY] == schema.ANOMALY).any()
    assert (again[PLANTED] == schema.ANOMALY).all()  # still irregular
    # and a model fitted on the bigger amounts flags the very same customers
    refit = models.PurchaseStyle().fit(bigger).styles_
    pd.testing.assert_series_equal(refit, was)


def test_purchase_style_predicts_new_customers(behaviour, styled):
    new = behaviour.loc[["B0893", "B0001"]].drop(columns="kind")  # bulk, regular
    odd = new.iloc[[1]].assign(**{schema.RETURN_RATE: 0.9})
    # six identical orders and no returns: more regular than every peer, which
    # is no irregularity (only the excess over the peers counts)
    steady = new.iloc[[1]].assign(
        **{
            schema.FREQUENCY: 6.0,
            schema.RETURN_RATE: 0.0,
            schema.LARGEST_ORDER_RATIO: 1.0,
            schema.ORDER_VALUE_CV: 0.0,
        }
    )
    new = pd.concat([new, odd.set_axis(["odd"]), steady.set_axis(["steady"])])
    out = styled.predict(new)
    assert list(out.columns) == [schema.PURCHASE_STYLE, schema.STYLE_REASON]
    assert out.index.tolist() == ["B0893", "B0001", "odd", "steady"]
    assert out[schema.PURCHASE_STYLE].tolist() == [
        schema.BULK,
        schema.REGULAR,
        schema.ANOMALY,
        schema.REGULAR,
    ]
    peers = _peers(behaviour, new.loc["odd", schema.FREQUENCY])
    assert out.loc["odd", schema.STYLE_REASON].startswith(
        "returned 90% of what they bought (customers with as many orders: "
        f"{100 * peers[schema.RETURN_RATE]:.0f}%)"
    )
    assert out.loc["B0001", schema.STYLE_REASON] == ""
    assert out.loc["B0893", schema.STYLE_REASON] == (
        "80 units per line on average, 8.0x the median of 10"
    )


def test_purchase_style_is_deterministic(behaviour, styled):
    again = models.PurchaseStyle().fit(behaviour)
    pd.testing.assert_series_equal(again.styles_, styled.styles_)
    pd.testing.assert_series_equal(again.reasons_, styled.reasons_)


def test_purchase_style_ignores_columns_it_does_not_read(behaviour, styled):
    # distinct products, the largest line and the order value are not behaviour
    # of the style: without them (or all missing) nothing changes
    ignored = [
        schema.DISTINCT_PRODUCTS,
        schema.MAX_LINE_QUANTITY,
        schema.AVG_ORDER_VALUE,
    ]
    model = models.PurchaseStyle().fit(behaviour.drop(columns=ignored))
    pd.testing.assert_series_equal(model.styles_, styled.styles_)
    no_codes = behaviour.assign(**{schema.DISTINCT_PRODUCTS: np.nan})
    pd.testing.assert_series_equal(
        models.PurchaseStyle().fit(no_codes).styles_, styled.styles_
    )


def test_without_quantities_bulk_is_not_judged_and_regulars_say_so(behaviour, styled):
    no_qty = behaviour.assign(
        **{schema.AVG_LINE_QUANTITY: np.nan, schema.MAX_LINE_QUANTITY: np.nan}
    )
    model = models.PurchaseStyle().fit(no_qty)
    assert model.features_used_ == (
        schema.FREQUENCY,
        schema.MONETARY,
        schema.RETURN_RATE,
        schema.LARGEST_ORDER_RATIO,
        schema.ORDER_VALUE_CV,
    )
    assert not model.bulk_judged_ and np.isnan(model.bulk_threshold_)
    assert (model.styles_ != schema.BULK).all()
    # Anomaly never read the quantities: the same customers are anomalies
    anomaly = model.styles_ == schema.ANOMALY
    assert anomaly.equals(styled.styles_ == schema.ANOMALY)
    assert (
        model.reasons_[~anomaly]
        == "no quantities in the file, so Bulk (units per line) is not judged"
    ).all()
    assert model.reasons_[anomaly].equals(styled.reasons_[anomaly])
    # predicting needs no quantity column either
    out = model.predict(no_qty.drop(columns=schema.AVG_LINE_QUANTITY))
    assert (out[schema.PURCHASE_STYLE] == model.styles_).all()


def test_the_most_irregular_big_spenders_are_anomalies(behaviour):
    # The regular and bulk customers of the fixture, plus two who ordered 5 x b
    # and once 20 x b and 25 x b (largest order 20x and 25x their median, while
    # the band's median is 1.2x), with b = 5,000 so that they spend the most.
    customers = behaviour[behaviour["kind"] != "irregular"]
    rows = []
    for spike in (20.0, 25.0):
        orders = 5_000.0 * np.array([1, 1, 1, 1, 1, spike])
        rows.append(
            {
                schema.FREQUENCY: 6.0,
                schema.MONETARY: orders.sum(),
                schema.AVG_LINE_QUANTITY: 10.0,
                schema.RETURN_RATE: 0.0,
                schema.LARGEST_ORDER_RATIO: spike,
                schema.ORDER_VALUE_CV: orders.std(ddof=1) / orders.mean(),
            }
        )
    spikers = pd.DataFrame(rows, index=["spike20", "spike25"])
    data = pd.concat([customers, spikers])[
        list(schema.VALUE_FEATURES) + list(schema.BEHAVIOUR_COLUMNS)
    ]
    assert data[schema.MONETARY].nlargest(2).index.tolist() == ["spike25", "spike20"]
    # Both are in the top spend bin: 992 customers // 50 = 19 bins of 52 or 53,
    # of which at most floor(0.02 x 53) = 1 is an Anomaly at 2 % (the larger
    # spike) and floor(0.05 x 52) = 2 at 5 % (both).
    styles = models.PurchaseStyle().fit(data).styles_
    assert styles[["spike20", "spike25"]].tolist() == [schema.REGULAR, schema.ANOMALY]
    styles = models.PurchaseStyle(0.05).fit(data).styles_
    assert (styles[["spike20", "spike25"]] == schema.ANOMALY).all()


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
        (
            lambda b: b.drop(columns=schema.RETURN_RATE),
            r"lacks column\(s\) return_rate",
        ),
        (
            lambda b: b.drop(columns=[schema.MONETARY, schema.ORDER_VALUE_CV]),
            r"lacks column\(s\) monetary, order_value_cv",
        ),
        (
            lambda b: b.assign(**{schema.ORDER_VALUE_CV: -1.0}),
            "'order_value_cv' has 1000 negative.*customer 'B0000'",
        ),
        (lambda b: b.iloc[:1], "at least 2 customers, got 1"),
        (
            lambda b: b.assign(**{schema.AVG_LINE_QUANTITY: [np.nan] + [5.0] * 999}),
            "'avg_line_quantity' has 1 missing.*customer 'B0000'",
        ),
        (
            lambda b: b.assign(**{schema.RETURN_RATE: [np.nan] + [0.0] * 999}),
            "'return_rate' has 1 missing.*customer 'B0000'",
        ),
        (
            lambda b: b.assign(**{schema.LARGEST_ORDER_RATIO: [1.0] * 999 + [np.inf]}),
            "'largest_order_ratio' has 1 missing, non-numeric or infinite.*'B0999'",
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
    median = retail_customers.groupby(tiers)[VALUE].median()
    assert median.index.tolist() == [0, 1, 2]
    assert median[schema.MONETARY].is_monotonic_increasing
    assert median[schema.MONETARY].is_unique
    assert median[schema.FREQUENCY].is_monotonic_increasing  # never lower
    assert model.monotone_
    share = retail_customers.groupby(tiers)[schema.MONETARY].sum()
    assert share.idxmax() == 2  # the High tier holds most of the revenue
    assert model.profile_["value_tier"].tolist() == ["Low", "Mid", "High"]


@pytest.mark.realdata
def test_real_purchase_styles(retail_customers, retail_text):
    model = models.PurchaseStyle().fit(retail_customers)
    styles = model.styles_
    n = len(retail_customers)
    assert 0.03 <= (styles == schema.BULK).mean() <= 0.30
    # At most 2 % of the customers: the 2 %-quantile of the n scores sits at
    # position (n - 1) x 0.02 and only customers strictly below it may be
    # flagged; a spend bin's threshold may be lower still, never higher.
    anomaly = styles == schema.ANOMALY
    z = model._peer_z(retail_customers.loc[:, list(model.features_used_)])
    scores = model.forest_.score_samples(z.to_numpy())
    below_everyone = scores < np.quantile(scores, 0.02)
    assert below_everyone.sum() == int(np.floor((n - 1) * 0.02)) + 1
    assert not (anomaly & ~below_everyone).any()
    assert anomaly.sum() >= 0.8 * below_everyone.sum()
    # Bulk rule against plain pandas: 4 x the median units per line.
    median = retail_customers[schema.AVG_LINE_QUANTITY].median()
    assert model.bulk_threshold_ == pytest.approx(4 * median)
    # 12346 bought 74,215 units at 1.04 in one invoice and returned them all
    # (read from the CSV's text): returned 77,183.60 of 77,183.60 bought = 100 %.
    lines = retail_text[retail_text["CustomerID"] == "12346.0"]  # as the CSV has it
    assert sorted(lines["Quantity"]) == ["-74215", "74215"]
    assert set(lines["UnitPrice"]) == {"1.04"}
    assert styles.loc["12346"] == schema.ANOMALY
    # ... against the one-order customers (their median return rate, plain pandas)
    one_order = retail_customers[retail_customers[schema.FREQUENCY] == 1]
    assert retail_customers.loc["12346", schema.FREQUENCY] == 1
    peers = f"{100 * one_order[schema.RETURN_RATE].median():.0f}%"
    assert model.reasons_.loc["12346"] == (
        f"returned 100% of what they bought (customers with as many orders: {peers})"
    )
    # Size alone is never enough: ten times every amount flags nobody new.
    bigger = retail_customers.assign(
        **{schema.MONETARY: retail_customers[schema.MONETARY] * 10}
    )
    again = model.predict(bigger)[schema.PURCHASE_STYLE]
    assert not (again[styles != schema.ANOMALY] == schema.ANOMALY).any()


@pytest.mark.realdata
def test_real_k_diagnostics(retail_customers):
    diag = models.k_diagnostics(retail_customers)
    assert diag.table.index.tolist() == list(range(2, 11))
    assert (np.diff(diag.table["inertia"]) < 0).all()
    # the majority of five measures (tests/test_k_choice.py has the rule)
    assert diag.recommended_k in diag.votes.values()
