"""The scatter's sample rule and its box / lasso regions, on hand-built tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from app import figures
from app.figures import scatter_points
from app.figures.scatter_points import (
    region_from_selection,
    region_mask,
    sample_positions,
)
from app.selection import REGION, describe, selection_mask
from segmentation import schema


def _customers(cells: dict[tuple[str, str], int]) -> pd.DataFrame:
    """Customers in the given tier × style cells (frequency 1.., monetary 10..)."""
    tiers = {"Low": 0, "Mid": 1, "High": 2}
    rows = []
    for (tier, style), n in cells.items():
        rows += [(tier, tiers[tier], style)] * n
    frame = pd.DataFrame(
        rows, columns=[schema.VALUE_TIER, schema.VALUE_CLUSTER, schema.PURCHASE_STYLE]
    )
    n = len(frame)
    return frame.assign(
        **{
            schema.CUSTOMER_ID: [f"c{i}" for i in range(n)],
            schema.FREQUENCY: 1 + np.arange(n) % 50,
            schema.MONETARY: 10.0 + np.arange(n) % 997,
            schema.RECENCY_DAYS: 1 + np.arange(n) % 300,
        }
    )


# Sample rule ------------------------------------------------------------------


def test_no_sample_up_to_the_threshold():
    customers = _customers({("Low", "Regular"): 60, ("High", "Bulk"): 40})
    assert sample_positions(customers, max_points=100) is None
    assert sample_positions(customers, max_points=99) is not None


def test_each_cell_keeps_its_share_and_small_cells_keep_a_minimum():
    cells = {
        ("Low", "Regular"): 20_000,
        ("High", "Regular"): 9_000,
        ("High", "Anomaly"): 600,
        ("Low", "Bulk"): 400,
    }
    customers = _customers(cells)
    shown = sample_positions(customers, max_points=10_000)
    # By hand: ceil(cell * 10,000 / 30,000), at least 100 (and at most the cell).
    expected = {
        ("Low", "Regular"): 6_667,  # ceil(6,666.7)
        ("High", "Regular"): 3_000,
        ("High", "Anomaly"): 200,
        ("Low", "Bulk"): 134,  # ceil(133.3), above the minimum of 100
    }
    drawn = (
        customers.iloc[shown].groupby([schema.VALUE_TIER, schema.PURCHASE_STYLE]).size()
    )
    assert drawn.to_dict() == expected
    assert len(shown) == sum(expected.values()) == 10_001
    assert (np.diff(shown) > 0).all()  # sorted, no repeats


def test_a_cell_smaller_than_the_minimum_is_drawn_whole():
    customers = _customers({("Low", "Regular"): 12_000, ("High", "Anomaly"): 30})
    shown = sample_positions(customers, max_points=10_000)
    drawn = customers.iloc[shown]
    assert (drawn[schema.PURCHASE_STYLE] == "Anomaly").sum() == 30


def test_the_same_data_gives_the_same_sample():
    customers = _customers({("Low", "Regular"): 15_000, ("Mid", "Bulk"): 3_000})
    first = sample_positions(customers)
    assert first is not None
    np.testing.assert_array_equal(first, sample_positions(customers.copy()))


def test_a_sampled_scatter_draws_the_sample_and_says_so():
    customers = _customers({("Low", "Regular"): 15_000, ("High", "Bulk"): 3_000})
    fig = figures.customer_scatter(customers)
    go.Figure(fig)  # valid plotly
    drawn = sum(len(t["x"]) for t in fig["data"] if t.get("meta"))
    shown = len(sample_positions(customers))
    assert drawn == shown == fig["layout"]["meta"]["shown"]
    assert fig["layout"]["meta"]["total"] == 18_000
    shown_notes = [a for a in fig["layout"]["annotations"] if a.get("visible", True)]
    notes = [a["text"] for a in shown_notes]  # (the hidden what-if star left out)
    assert notes == [
        f"a sample of {shown:,} of 18,000 customers<br>"
        "a box or lasso selects everyone inside"
    ]


def test_a_small_scatter_draws_everyone_without_a_note():
    customers = _customers({("Low", "Regular"): 300, ("High", "Bulk"): 20})
    fig = figures.customer_scatter(customers)
    assert sum(len(t["x"]) for t in fig["data"] if t.get("meta")) == 320
    assert [a for a in fig["layout"]["annotations"] if a.get("visible", True)] == []


# Regions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selected", "region"),
    [
        (
            {"points": [], "range": {"x": [8.0, 2.0], "y": [300, 5000]}},
            {"box": {"x": [2.0, 8.0], "y": [300.0, 5000.0]}},
        ),
        (
            {"lassoPoints": {"x": [1, 10, 1], "y": [1, 1, 10]}},
            {"lasso": {"x": [1.0, 10.0, 1.0], "y": [1.0, 1.0, 10.0]}},
        ),
        ({"points": [{"x": 1}]}, None),  # a click, no shape
        ({"lassoPoints": {"x": [1, 2], "y": [1, 2]}}, None),  # not a polygon
        ({"range": {"x": [1, 2]}}, None),
        (None, None),
    ],
)
def test_region_from_plotlys_selected_data(selected, region):
    assert region_from_selection(selected) == region


def _points(xy: list[tuple[float, float]]) -> pd.DataFrame:
    x, y = zip(*xy, strict=True)
    return pd.DataFrame({schema.FREQUENCY: x, schema.MONETARY: y})


def test_a_box_is_inclusive_and_a_zero_total_sits_at_the_log_floor():
    customers = _points([(2, 300), (8, 5000), (5, 1000), (1, 1000), (5, 0.0)])
    box = {"box": {"x": [2, 8], "y": [300, 5000]}}
    assert region_mask(customers, box).tolist() == [True, True, True, False, False]
    floor = {"box": {"x": [1, 10], "y": [0.005, 0.02]}}  # 0 is drawn at 0.01
    assert region_mask(customers, floor).tolist() == [False] * 4 + [True]


def test_a_lasso_has_straight_edges_on_the_log_axes():
    # The triangle (1, 1), (100, 1), (1, 100) in data units is x' + y' <= 2 in
    # log10 units: (10, 9) is inside (1 + 0.95); (50, 40) is inside the same
    # triangle drawn on linear axes (50 + 40 < 101) but not on log ones (3.3).
    customers = _points([(10, 9), (50, 40), (1, 50), (200, 1)])
    lasso = {"lasso": {"x": [1, 100, 1], "y": [1, 1, 100]}}
    assert region_mask(customers, lasso).tolist() == [True, False, True, False]


def test_a_self_crossing_lasso_counts_by_the_even_odd_rule():
    # A pentagram: its tips are inside, its centre (crossed twice) is not.
    angles = np.deg2rad(90 + 144 * np.arange(5))
    xs, ys = 10 ** np.cos(angles), 10 ** np.sin(angles)
    lasso = {"lasso": {"x": xs.tolist(), "y": ys.tolist()}}
    customers = _points([(1.0, 1.0), (1.0, 10**0.9)])  # log (0, 0) and (0, 0.9)
    assert region_mask(customers, lasso).tolist() == [False, True]


@pytest.mark.parametrize(
    ("region", "message"),
    [
        ({"circle": {}}, "not a box or lasso region"),
        ({"lasso": {"x": [0, 1, 1], "y": [1, 1, 2]}}, "positive coordinates only"),
    ],
)
def test_bad_regions_are_refused(region, message):
    with pytest.raises(ValueError, match=message):
        region_mask(_points([(1, 1)]), region)


def test_a_region_selection_covers_every_customer_inside():
    customers = _customers({("Low", "Regular"): 400, ("High", "Bulk"): 100})
    region = {"box": {"x": [10, 20], "y": [10, 500]}}
    mask = selection_mask(customers, {REGION: region})
    x, y = customers[schema.FREQUENCY], customers[schema.MONETARY]
    expected = x.between(10, 20) & y.between(10, 500)
    assert mask.index.equals(customers.index)
    assert mask.tolist() == expected.tolist()
    assert describe({REGION: region}) == "every customer inside the scatter's box"
    lasso = {"lasso": {"x": [1, 9, 1], "y": [10, 10, 90]}}
    assert describe({REGION: lasso}) == "every customer inside the scatter's lasso"


def test_the_threshold_is_the_module_constant(monkeypatch):
    customers = _customers({("Low", "Regular"): 50})
    monkeypatch.setattr(scatter_points, "MAX_POINTS", 10)
    assert len(sample_positions(customers)) == 50  # min(cell, MIN_PER_CELL)
    monkeypatch.setattr(scatter_points, "MAX_POINTS", 50)
    assert sample_positions(customers) is None
