"""The persona cards' data (app/components/personas.py), hand-computed.

The browser draws the cards from this data (``assets/persona_cards.js``); the
words and numbers are all written here, so these expectations are what a
user reads on each card.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from app import theme
from app.components.money import amount_parts, money
from app.components.personas import persona_card_data
from segmentation import schema


def customers() -> pd.DataFrame:
    """Two tiers: Low (3 customers, 900 spent in all) and High (1, 1,100)."""
    rows = [
        ("a", 10.0, 1, 100.0, 0, "Low"),
        ("b", 30.0, 3, 300.0, 0, "Low"),
        ("c", 50.0, 5, 500.0, 0, "Low"),
        ("d", 1.0, 1, 1100.0, 1, "High"),
    ]
    return pd.DataFrame(
        rows,
        columns=[
            schema.CUSTOMER_ID,
            schema.RECENCY_DAYS,
            schema.FREQUENCY,
            schema.MONETARY,
            schema.VALUE_CLUSTER,
            schema.VALUE_TIER,
        ],
    )


def personas() -> pd.DataFrame:
    """Tier x status personas; a name with markup, which must stay text."""
    index = pd.MultiIndex.from_tuples(
        [(0, "Active"), (0, "Lapsed"), (1, "Active")],
        names=[schema.VALUE_CLUSTER, schema.CUSTOMER_STATUS],
    )
    return pd.DataFrame(
        {
            schema.PERSONA: ["Rising", "Gone", "Stars <b>x</b>"],
            "description": ["", "", ""],
            "action": ["Recommend", "Win back", "Reward <i>them</i>"],
            "customers": [1, 2, 1],
        },
        index=index,
    )


def test_one_card_per_tier_highest_first_with_its_words():
    high, low = persona_card_data(customers(), personas())
    assert high == {
        "cluster": 1,
        "tier": "High value",
        "colour": theme.tier_colours(2)[1],
        "size": "1 customer · 55.0 % of revenue",
        "medians": "median: 1 day since last order, 1 order, ",
        "spend": {"sign": "", "digits": "1,100"},
        "groups": [
            {
                "persona": "Stars <b>x</b>",  # as written: the browser sets text
                "status": "Active",
                "size": "1 customer",
                "action": "Reward <i>them</i>",
            }
        ],
        "selected_words": None,
        "selected": False,
        "dimmed": False,
        "title": "Select the High value tier's customers (1 customer)",
        "label": "High value tier, 1 customer: select its customers",
    }
    assert low["size"] == "3 customers · 45.0 % of revenue"
    assert low["medians"] == "median: 30 days since last order, 3 orders, "
    assert low["spend"] == {"sign": "", "digits": "300"}
    # the tier's groups, largest first
    assert [(g["persona"], g["status"], g["size"]) for g in low["groups"]] == [
        ("Gone", "Lapsed", "2 customers"),
        ("Rising", "Active", "1 customer"),
    ]


def test_a_selection_counts_per_card_and_the_chosen_card_stands_out():
    frame = customers()
    mask = frame[schema.CUSTOMER_ID].isin(["a", "c"])
    high, low = persona_card_data(frame, personas(), mask, selected_cluster=0)
    assert (high["selected_words"], low["selected_words"]) == (
        "0 selected",
        "2 selected",
    )
    assert (low["selected"], low["dimmed"]) == (True, False)
    assert (high["selected"], high["dimmed"]) == (False, True)


def test_a_run_saved_before_statuses_lists_one_persona_without_status():
    old = pd.DataFrame(
        {schema.PERSONA: ["Low spenders", "Big spenders"], "action": ["a", "b"]},
        index=pd.Index([0, 1], name=schema.VALUE_CLUSTER),
    )
    high, _low = persona_card_data(customers(), old)
    assert high["groups"] == [
        {"persona": "Big spenders", "status": None, "size": None, "action": "b"}
    ]


def test_without_personas_the_cards_list_no_groups():
    cards = persona_card_data(customers(), None)
    assert [c["groups"] for c in cards] == [[], []]


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234.5, 2, {"sign": "", "digits": "1,234.50"}),
        (-5, 0, {"sign": "-", "digits": "5"}),
        (0.0, 0, {"sign": "", "digits": "0"}),
        (None, 0, None),
        (math.nan, 0, None),
    ],
)
def test_amount_parts(value, decimals, expected):
    assert amount_parts(value, decimals) == expected


def test_money_draws_the_same_parts():
    assert money(-5).to_plotly_json()["props"]["children"][0] == "-"
    assert money(None).children == "–"
