"""Naming rules: tier names, personas, grid labels, segment names."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# Personas --------------------------------------------------------------------------
# Population medians recency 49 days, frequency 1, monetary 99, so the shifted
# medians (x + 1) are 50, 2 and 100 and a prototype ratio r maps to r * 50 - 1 days,
# etc.
POPULATION = pd.DataFrame(
    {
        schema.RECENCY_DAYS: [49, 49, 49],
        schema.FREQUENCY: [1, 1, 1],
        schema.MONETARY: [99.0, 99.0, 99.0],
    }
)


def _profile(rows):
    return pd.DataFrame(rows, columns=list(personas.PROFILE_MEDIANS)).rename_axis(
        schema.VALUE_CLUSTER
    )


def test_clusters_at_prototypes_get_their_persona():
    profile = _profile(
        [
            # Hibernating (3, 0.7, 0.5): 3*50-1, 0.7*2-1, 0.5*100-1
            [149.0, 0.4, 49.0],
            # Big Spenders (1, 1, 3): 1*50-1, 1*2-1, 3*100-1
            [49.0, 1.0, 299.0],
            # Champions (0.25, 4, 4): 0.25*50-1, 4*2-1, 4*100-1
            [11.5, 7.0, 399.0],
        ]
    )
    dist = personas.persona_distances(profile, POPULATION)
    assert dist.loc[0, "Hibernating"] == pytest.approx(0.0, abs=1e-12)
    assert dist.loc[2, "Champions"] == pytest.approx(0.0, abs=1e-12)
    named = personas.name_personas(profile, POPULATION)
    expected = ["Hibernating", "Big Spenders", "Champions"]
    assert named[schema.PERSONA].tolist() == expected
    assert named.index.name == schema.VALUE_CLUSTER
    assert list(named.columns) == [schema.PERSONA, "description", "action"]
    assert named.loc[2, "description"] == (
        "Bought recently, buy often and spend the most: median 12 days since the "
        "last order, 7 orders, 399 spent"
    )
    assert named.loc[2, "action"] == personas.PERSONA_TEXT["Champions"][1]


def test_two_clusters_near_the_same_prototype_get_different_names():
    # Both near Champions; the one exactly on it keeps the name.
    profile = _profile([[13.0, 6.0, 380.0], [11.5, 7.0, 399.0]])
    named = personas.name_personas(profile, POPULATION)
    assert named.loc[1, schema.PERSONA] == "Champions"
    assert named.loc[0, schema.PERSONA] != "Champions"


def test_every_persona_has_text_and_prototype():
    assert set(personas.PERSONA_TEXT) == set(personas.PERSONA_PROTOTYPES)
    for description, action in personas.PERSONA_TEXT.values():
        assert description and action and "\n" not in description + action


medians = st.tuples(st.floats(0, 400), st.floats(1, 200), st.floats(0, 1e6))


@settings(max_examples=60, deadline=None)
@given(st.lists(medians, min_size=2, max_size=10))
def test_persona_names_are_unique_for_any_profile(rows):
    named = personas.name_personas(_profile(rows), POPULATION)
    assert named[schema.PERSONA].is_unique
    assert set(named[schema.PERSONA]) <= set(personas.PERSONAS)
    assert len(named) == len(rows)


@pytest.mark.parametrize(
    ("profile", "population", "fragment"),
    [
        (
            _profile([[1, 1, 1]]).drop(columns="median_monetary"),
            POPULATION,
            "median_monetary",
        ),
        (_profile([[1, 1, 1]]), POPULATION.drop(columns=schema.FREQUENCY), "frequency"),
        (_profile([[1, 1, 1]]), POPULATION.iloc[:0], "empty"),
    ],
)
def test_name_personas_errors(profile, population, fragment):
    with pytest.raises(SegmentationError, match=fragment):
        personas.name_personas(profile, population)
