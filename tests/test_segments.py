"""Segments an analyst can defend (DESIGN section 6): tiers rank value, a status
from recency, personas whose names agree with their own medians."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation import schema
from segmentation.features import RFM_SEGMENT_NAMES
from segmentation.models import RecencyStatus, ValueTiers
from segmentation.models._status import MIN_GAP_DAYS
from segmentation.personas import (
    PERSONA_RULES,
    PERSONAS,
    persona_for,
    tier_names,
    tier_position,
)


# Status ------------------------------------------------------------------------------
def _customers(rows) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["customer_id", "recency_days", "frequency", "tenure_days"]
    ).set_index("customer_id")


# fmt: off
STATUS_ROWS = [
    # id, recency, orders, tenure -> own gap = (tenure - recency) / (orders - 1)
    ("A",  20, 5, 120),  # gap (120-20)/4 = 25; 20/25 = 0.8 gaps  -> Active
    ("B",  60, 5, 160),  # gap 25; 60/25 = 2.4                    -> Cooling
    ("C", 101, 5, 201),  # gap 25; 101/25 = 4.04                  -> Lapsed
    ("D",  10, 3,  12),  # gap 1 -> floor 7 days; 10/7 = 1.43     -> Active
    ("E",  90, 1,  90),  # one order: population gap = median(25, 25, 25, 1) = 25
                         # 90/25 = 3.6                            -> Cooling
    ("F", 101, 1, 101),  # 101/25 = 4.04                          -> Lapsed
]
# fmt: on


def test_status_compares_recency_with_the_customers_own_rhythm():
    customers = _customers(STATUS_ROWS)
    model = RecencyStatus().fit(customers)
    assert model.population_gap_days_ == 25.0
    gaps = model.usual_gap_days(customers)
    assert gaps.tolist() == [25.0, 25.0, 25.0, MIN_GAP_DAYS, 25.0, 25.0]
    assert model.predict(customers).tolist() == [
        "Active",
        "Cooling",
        "Lapsed",
        "Active",
        "Cooling",
        "Lapsed",
    ]


def test_status_without_any_repeat_customer_uses_the_median_recency():
    customers = _customers([("A", 10, 1, 10), ("B", 30, 1, 30), ("C", 200, 1, 200)])
    model = RecencyStatus().fit(customers)
    assert model.population_gap_days_ == 30.0
    assert model.predict(customers).tolist() == ["Active", "Active", "Lapsed"]


# Personas ----------------------------------------------------------------------------
@pytest.mark.parametrize("rule", PERSONA_RULES, ids=lambda r: r.name)
def test_every_rule_names_only_groups_whose_medians_fit_it(rule):
    """Each rule's conditions, checked on the edge medians it accepts and refuses."""
    inside = (max(rule.min_r, 1), max(rule.min_f, 1))
    assert persona_for(rule.position, rule.status, *inside) is not None
    if rule.min_r > 1:  # a group more than one R score too old never gets it
        named = persona_for(rule.position, rule.status, rule.min_r - 1, inside[1])
        assert named is None or named.name != rule.name
    if rule.max_r < 5:
        named = persona_for(rule.position, rule.status, rule.max_r + 1, inside[1])
        assert named is None or named.name != rule.name


def test_no_persona_borrows_a_name_of_the_rf_grid():
    assert not set(PERSONAS) & set(RFM_SEGMENT_NAMES)


# fmt: off
#: (position, status, median R, median F) -> persona, worked by hand from the rules
NAMED = [
    ("top", "Active", 5, 5, "Stars"),
    ("top", "Active", 4, 2, "Big recent spenders"),  # not frequent enough for Stars
    ("top", "Lapsed", 2, 5, "Can't lose them"),
    ("top", "Lapsed", 4, 5, None),  # "gone quiet" would contradict R = 4
    ("middle", "Active", 4, 3, "Regulars"),
    ("middle", "Active", 3, 1, "Rising buyers"),
    ("bottom", "Active", 3, 1, "First-timers"),
    ("bottom", "Active", 4, 2, "Light buyers"),  # two orders: not first-timers
    ("bottom", "Lapsed", 1, 1, "Gone quiet"),
]
# fmt: on


@pytest.mark.parametrize(("position", "status", "r", "f", "name"), NAMED)
def test_persona_for_hand_worked_groups(position, status, r, f, name):
    rule = persona_for(position, status, r, f)
    assert (rule.name if rule else None) == name


# On the real files -------------------------------------------------------------------
@pytest.fixture(scope="module")
def retail_run(retail_csv):
    import segmentation

    return segmentation.prepare(retail_csv, diagnostics=False)


@pytest.mark.realdata
@pytest.mark.parametrize("k", range(2, 11))
def test_higher_tiers_never_have_lower_median_value(retail_run, k):
    model = ValueTiers(k).fit(retail_run.features)
    profile = model.profile_
    assert (np.diff(profile["median_monetary"]) > 0).all()
    assert (np.diff(profile["median_frequency"]) >= 0).all()


@pytest.mark.realdata
@pytest.mark.parametrize("k", range(2, 11))
def test_every_persona_is_its_own_and_agrees_with_its_medians(retail_prepared, k):
    """k = 2..10 on Online Retail I: one name per tier x status group, each true
    to the group's medians (computed here with plain pandas), none of the RF grid."""
    import segmentation

    result = segmentation.segment(retail_prepared, k)
    customers, personas = result.customers, result.personas
    assert customers[schema.CUSTOMER_STATUS].isin(["Active", "Cooling", "Lapsed"]).all()
    # every group shown is distinguishable: no two share a persona name
    assert personas[schema.PERSONA].is_unique
    assert not set(personas[schema.PERSONA]) & set(RFM_SEGMENT_NAMES)
    rules = {rule.name: rule for rule in PERSONA_RULES}
    tiers = tier_names(k)
    for (cluster, status), group in customers.groupby(
        [schema.VALUE_CLUSTER, schema.CUSTOMER_STATUS]
    ):
        name = group[schema.PERSONA].iloc[0]
        assert (group[schema.PERSONA] == name).all()
        assert personas.loc[(cluster, status), schema.PERSONA] == name
        tier = tiers[cluster]
        base, _, qualifier = name.partition(" · ")
        if base in rules:
            rule = rules[base]
            # a middle tier's persona carries its tier from k = 4 on
            middle = 0 < cluster < k - 1
            assert qualifier == (tier if middle and k >= 4 else "")
            assert rule.position == tier_position(cluster, k)
            assert rule.status == status
            assert rule.holds(
                group[schema.R_SCORE].median(), group[schema.F_SCORE].median()
            ), (name, cluster, status)
        else:  # no rule fits: the neutral "<tier> · <status>"
            assert name == f"{tier} · {status}"


# fmt: off
#: k = 4 (Low, Mid, High, Top): both middle tiers fit the same rules
FOUR_TIERS = [
    # cluster, status,  r, f, recency, orders, spend
    (0, "Active",  3, 1,  40,  1,   20.0),
    (1, "Active",  4, 2,  30,  2,  300.0),  # middle, R 4, F 2 -> Rising buyers
    (1, "Lapsed",  1, 2, 300,  2,  250.0),  # middle, R 1 -> Fading
    (2, "Active",  4, 3,  25,  4,  900.0),  # middle, R 4, F 3 -> Regulars
    (2, "Lapsed",  2, 3, 280,  4,  800.0),  # middle, R 2 -> Fading
    (3, "Active",  5, 5,   3, 20, 5000.0),  # top, R 5, F 5 -> Stars
]
# fmt: on


def test_middle_tiers_that_fit_the_same_rule_are_told_apart_by_their_tier():
    from segmentation.personas import name_personas

    rows = pd.DataFrame(
        FOUR_TIERS,
        columns=[
            schema.VALUE_CLUSTER,
            schema.CUSTOMER_STATUS,
            schema.R_SCORE,
            schema.F_SCORE,
            schema.RECENCY_DAYS,
            schema.FREQUENCY,
            schema.MONETARY,
        ],
    )
    named = name_personas(rows, 4, tier_names(4))
    assert named[schema.PERSONA].to_dict() == {
        (0, "Active"): "First-timers",
        (1, "Active"): "Rising buyers · Mid",
        (1, "Lapsed"): "Fading · Mid",
        (2, "Active"): "Regulars · High",
        (2, "Lapsed"): "Fading · High",
        (3, "Active"): "Stars",
    }
    # the description names the tier too, with the group's own medians
    assert named.loc[(2, "Lapsed"), "description"] == (
        "High value, no order for a long while: median 280 days since the last "
        "order, 4 orders, 800 spent"
    )
    # at k = 3 the one middle tier needs no qualifier
    three = rows[rows[schema.VALUE_CLUSTER] != 2]
    three = three.replace({schema.VALUE_CLUSTER: {3: 2}})
    named = name_personas(three, 3, tier_names(3))
    assert named[schema.PERSONA].tolist() == [
        "First-timers",
        "Rising buyers",
        "Fading",
        "Stars",
    ]


# Purchase style: Anomaly means irregular ---------------------------------------
def _population(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """Customers of every size whose irregularity does not depend on size."""
    rng = np.random.default_rng(seed)
    frequency = rng.integers(1, 40, n).astype(float)
    typical = rng.lognormal(4, 1, n)
    return pd.DataFrame(
        {
            schema.FREQUENCY: frequency,
            schema.MONETARY: frequency * typical,
            schema.AVG_LINE_QUANTITY: rng.lognormal(2, 0.5, n),
            schema.RETURN_RATE: np.where(rng.random(n) < 0.1, rng.random(n) * 0.5, 0),
            schema.LARGEST_ORDER_RATIO: np.where(
                frequency > 1, 1 + rng.exponential(0.5, n), 1.0
            ),
            schema.ORDER_VALUE_CV: np.where(frequency > 1, rng.gamma(2, 0.2, n), 0.0),
        },
        index=pd.Index([f"C{i:04d}" for i in range(n)], name=schema.CUSTOMER_ID),
    )


def test_ten_times_bigger_never_makes_a_regular_customer_an_anomaly():
    from segmentation.models import PurchaseStyle

    population = _population()
    styles = PurchaseStyle(0.05).fit(population).styles_
    regular = styles[styles == schema.REGULAR].index[:25]
    for customer in regular:
        bigger = population.copy()
        bigger.loc[customer, [schema.MONETARY, schema.AVG_LINE_QUANTITY]] *= 10
        again = PurchaseStyle(0.05).fit(bigger).styles_[customer]
        assert again != schema.ANOMALY, customer


def test_every_anomaly_reason_names_distinct_behaviours():
    from segmentation.models import PurchaseStyle

    model = PurchaseStyle(0.05).fit(_population())
    reasons = model.reasons_[model.styles_ == schema.ANOMALY]
    assert len(reasons) > 0
    for reason in reasons:
        parts = reason.split("; ")
        kinds = [p.split()[0] for p in parts]  # returned / largest / order
        assert len(set(kinds)) == len(kinds), reason
        assert all("customers with as many orders" in p for p in parts)


@pytest.mark.realdata
@pytest.mark.parametrize("share", [0.02, 0.05])
def test_the_biggest_customers_are_not_anomalies_for_being_big(retail_run, share):
    """Among the top 1 % by monetary, Anomaly is at most 3x as common as overall."""
    import segmentation

    customers = segmentation.segment(retail_run, 3, anomaly_share=share).customers
    anomaly = customers[schema.PURCHASE_STYLE] == schema.ANOMALY
    top = customers[schema.MONETARY] >= customers[schema.MONETARY].quantile(0.99)
    assert anomaly.mean() == pytest.approx(share, abs=0.01)
    assert anomaly[top].mean() <= 3 * anomaly.mean()
