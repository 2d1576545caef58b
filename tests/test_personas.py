"""Naming rules: tier names, personas, grid labels, segment names."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from segmentation import personas, schema
from segmentation.errors import SegmentationError

# Tier names ------------------------------------------------------------------------


def _is_subsequence(names, ladder):
    it = iter(ladder)
    return all(name in it for name in names)


@pytest.mark.parametrize("k", range(2, 11))
def test_tier_names_are_k_unique_names_in_ladder_order(k):
    names = personas.tier_names(k)
    assert len(names) == k
    assert len(set(names)) == k
    # Ordered: every k uses the same ladder of words from lowest to highest value.
    assert _is_subsequence(names, personas.TIER_LADDER)


def test_tier_names_for_small_k_are_the_documented_ones():
    assert personas.tier_names(2) == ("Low", "High")
    assert personas.tier_names(3) == ("Low", "Mid", "High")
    assert personas.tier_names(4) == ("Low", "Mid", "High", "Top")
    assert personas.tier_names(5) == ("Very low", "Low", "Mid", "High", "Top")


@pytest.mark.parametrize("k", [0, 1, 11, 2.5, "3"])
def test_tier_names_rejects_unsupported_k(k):
    with pytest.raises(SegmentationError, match="between 2 and 10"):
        personas.tier_names(k)


# Grid labels and segment names -----------------------------------------------------


def test_grid_label_table_is_complete_and_unique():
    cells = list(itertools.product(personas.TIER_POSITIONS, schema.PURCHASE_STYLES))
    labels = [personas.grid_label(pos, style) for pos, style in cells]
    assert len(labels) == 9
    assert len(set(labels)) == 9
    assert all(label.strip() for label in labels)


@pytest.mark.parametrize(
    ("position", "style", "label"),
    [
        ("top", schema.BULK, "Key accounts"),
        ("middle", schema.REGULAR, "Growth opportunities"),
        ("bottom", schema.ANOMALY, "Investigate"),
    ],
)
def test_grid_label_named_cells(position, style, label):
    assert personas.grid_label(position, style) == label


@pytest.mark.parametrize(
    ("position", "style", "fragment"),
    [("upper", schema.BULK, "'upper'"), ("top", "Wholesale", "'Wholesale'")],
)
def test_grid_label_rejects_unknown_cells(position, style, fragment):
    with pytest.raises(SegmentationError, match=fragment):
        personas.grid_label(position, style)


@pytest.mark.parametrize(
    ("cluster", "k", "position"),
    [
        (0, 2, "bottom"),
        (1, 2, "top"),
        (0, 3, "bottom"),
        (1, 3, "middle"),
        (2, 3, "top"),
        (5, 10, "middle"),
        (9, 10, "top"),
    ],
)
def test_tier_position(cluster, k, position):
    assert personas.tier_position(cluster, k) == position


@pytest.mark.parametrize(("cluster", "k"), [(-1, 3), (3, 3)])
def test_tier_position_rejects_cluster_outside_k(cluster, k):
    with pytest.raises(SegmentationError, match=f"value_cluster={cluster}"):
        personas.tier_position(cluster, k)


def test_segment_name():
    assert personas.segment_name("High", schema.BULK) == "High · Bulk"


# Personas: value tier x status, named on each group's medians ---------------------
def _group_rows():
    """Two tiers (k=2), statuses and R/F scores chosen so each group's medians
    are easy to read: cluster 1 Active has R 5, 5, 4 -> median 5; F 5, 4, 4 -> 4."""
    # fmt: off
    rows = [
        # cluster, status,   r, f, recency, orders, spend
        (1, "Active",  5, 5,  3, 20, 900.0),
        (1, "Active",  5, 4,  5, 12, 700.0),
        (1, "Active",  4, 4,  9, 10, 500.0),
        (1, "Lapsed",  1, 4, 300, 9, 800.0),
        (0, "Active",  3, 1, 40, 1, 20.0),
        (0, "Cooling", 2, 1, 120, 1, 30.0),
    ]
    # fmt: on
    return pd.DataFrame(
        rows,
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


def test_each_tier_status_group_gets_the_persona_its_medians_fit():
    named = personas.name_personas(_group_rows(), 2, ("Low", "High"))
    assert named[schema.PERSONA].to_dict() == {
        (0, "Active"): "First-timers",  # bottom, Active, median R 3, F 1
        (0, "Cooling"): "Drifting",  # bottom, Cooling, R 2
        (1, "Active"): "Stars",  # top, Active, R 5, F 4
        (1, "Lapsed"): "Can't lose them",  # top, Lapsed, R 1
    }
    stars = named.loc[(1, "Active")]
    assert stars["customers"] == 3
    assert stars["median_recency_days"] == 5
    assert stars["revenue_share"] == pytest.approx(2100 / 2950)
    assert stars["description"].endswith(
        "median 5 days since the last order, 12 orders, 700 spent"
    )


def test_a_group_whose_medians_fit_no_rule_gets_a_neutral_name():
    rows = _group_rows()
    rows.loc[rows[schema.CUSTOMER_STATUS] == "Lapsed", schema.R_SCORE] = 5
    named = personas.name_personas(rows, 2, ("Low", "High"))
    assert named.loc[(1, "Lapsed"), schema.PERSONA] == "High · Lapsed"
    assert named.loc[(1, "Lapsed"), "action"] == personas.GENERIC_ACTION


@pytest.mark.parametrize(
    ("drop", "fragment"),
    [(schema.R_SCORE, "r_score"), (schema.CUSTOMER_STATUS, "status")],
)
def test_name_personas_errors(drop, fragment):
    with pytest.raises(SegmentationError, match=fragment):
        personas.name_personas(_group_rows().drop(columns=drop), 2, ("Low", "High"))
    with pytest.raises(SegmentationError, match="empty"):
        personas.name_personas(_group_rows().iloc[:0], 2, ("Low", "High"))
