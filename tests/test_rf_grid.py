"""The RF grid panel: figure, RF cell selection and its callbacks, by hand."""

from __future__ import annotations

from contextvars import copy_context
from types import SimpleNamespace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

from app import create_app, figures, ids
from app.callbacks import panels, selection
from app.selection import RF_CELL, describe, selection_mask
from segmentation import schema
from segmentation.features import RF_SEGMENTS, RFM_SEGMENT_NAMES

# 12 customers: (id, r_score, f_score, monetary); revenue 3,200 in all
ROWS = [
    ("c01", 5, 5, 1000.0),
    ("c02", 5, 5, 800.0),
    ("c03", 5, 4, 500.0),
    ("c04", 5, 1, 20.0),
    ("c05", 4, 1, 30.0),
    ("c06", 3, 3, 100.0),
    ("c07", 1, 1, 10.0),
    ("c08", 1, 1, 5.0),
    ("c09", 2, 2, 15.0),
    ("c10", 2, 5, 600.0),
    ("c11", 1, 3, 50.0),
    ("c12", 4, 2, 70.0),
]
# customers per cell by hand: row = R score 1..5, column = F score 1..5
HAND_COUNT = [
    [2, 0, 1, 0, 0],  # R1: c07 c08 | c11
    [0, 1, 0, 0, 1],  # R2: c09 | c10
    [0, 0, 1, 0, 0],  # R3: c06
    [1, 1, 0, 0, 0],  # R4: c05 | c12
    [1, 0, 0, 1, 2],  # R5: c04 | c03 | c01 c02
]


@pytest.fixture
def customers() -> pd.DataFrame:
    ids_, r, f, money = map(list, zip(*ROWS, strict=True))
    return pd.DataFrame(
        {
            schema.CUSTOMER_ID: ids_,
            schema.R_SCORE: np.array(r, dtype="int8"),
            schema.F_SCORE: np.array(f, dtype="int8"),
            schema.MONETARY: money,
            schema.RFM_SEGMENT: [RF_SEGMENTS[c] for c in zip(r, f, strict=True)],
        }
    )


def triggered(prop_id, func, *args):
    """Run ``func(*args)`` as if Dash had called it for ``prop_id``."""

    def run():
        context_value.set(
            AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}])
        )
        return func(*args)

    return copy_context().run(run)


def cell(fig: go.Figure, what: str, r: int, f: int):
    """Return the heatmap's ``what`` (z, text, customdata) of cell (r, f)."""
    heat = fig.data[0]
    return getattr(heat, what)[list(heat.y).index(r)][list(heat.x).index(f)]


def test_the_25_cell_counts_equal_a_hand_count(customers):
    fig = go.Figure(figures.rf_grid(customers))  # also validates the figure
    heat = fig.data[0]
    assert list(heat.y) == [1, 2, 3, 4, 5] and list(heat.x) == [1, 2, 3, 4, 5]
    assert np.asarray(heat.z).tolist() == HAND_COUNT
    assert "<b>2</b>" in cell(fig, "text", 5, 5)
    assert "<b>0</b>" in cell(fig, "text", 3, 4)
    assert "selected" not in cell(fig, "text", 5, 5)  # no selection, no counts


def test_revenue_metric_colours_by_revenue_and_hover_gives_the_share(customers):
    fig = figures.rf_grid(customers, "revenue")
    assert cell(fig, "z", 5, 5) == 1800.0  # c01 + c02
    assert cell(fig, "z", 1, 1) == 15.0  # c07 + c08
    hover = cell(fig, "customdata", 3, 3)  # c06: 100 of 3,200
    assert "Need Attention" in hover and "R score 3 · F score 3" in hover
    assert "1 customers" in hover and "3.1 % of revenue" in hover
    with pytest.raises(ValueError, match="metric='profit'"):
        figures.rf_counts(customers, "profit")


def test_segment_labels_sit_on_their_cells(customers):
    fig = figures.rf_grid(customers)
    labels = {a.name: a for a in fig.layout.annotations}
    outlines = {s.name: s for s in fig.layout.shapes}
    assert set(labels) == set(outlines) == set(RFM_SEGMENT_NAMES)
    for name in RFM_SEGMENT_NAMES:
        box = outlines[name]
        inside = {
            (r, f)
            for r in range(1, 6)
            for f in range(1, 6)
            if box.x0 < f < box.x1 and box.y0 < r < box.y1
        }
        assert inside == {c for c, seg in RF_SEGMENTS.items() if seg == name}
        label = labels[name]
        top_row = max(r for r, _ in inside)
        assert box.x0 < label.x < box.x1 and top_row - 0.5 < label.y < top_row + 0.5
        assert label.text.replace("<br>", " ") == name
    for (r, f), name in RF_SEGMENTS.items():  # and every hover names its segment
        assert cell(fig, "customdata", r, f).startswith(f"<b>{name}</b>")
    assert labels["Champions"].x == 4.5 and labels["Champions"].y > 5


def test_a_selection_made_elsewhere_shows_its_count_per_cell(customers):
    mask = selection_mask(customers, {"customer_ids": ["c01", "c07", "c08"]})
    fig = figures.rf_grid(customers, mask=mask)
    assert "selected: 1" in cell(fig, "text", 5, 5)
    assert "selected: 2" in cell(fig, "text", 1, 1)
    assert "selected: 0" in cell(fig, "text", 3, 3)
    assert "selected: 2" in cell(fig, "customdata", 1, 1)


def test_a_cell_click_selects_that_rf_cell_and_only_its_customers(customers):
    click = {"points": [{"x": 1, "y": 1, "z": 2}]}  # x = F score, y = R score
    args = (None, None, None, None, None, 3, 2, None, click)
    chosen = triggered(f"{ids.RF_GRID}.clickData", selection.update_selection, *args)
    assert chosen == {RF_CELL: [1, 1]}
    mask = selection_mask(customers, chosen)
    assert customers.loc[mask, schema.CUSTOMER_ID].tolist() == ["c07", "c08"]
    champions = selection_mask(customers, {RF_CELL: [5, 4]})
    assert customers.loc[champions, schema.CUSTOMER_ID].tolist() == ["c03"]
    # a click on another panel still makes its own kind of selection
    grid = {"points": [{"x": "Bulk", "y": "High"}]}
    args = (grid, None, None, None, None, 3, 2, chosen, None)
    other = triggered(
        f"{ids.VALUE_STYLE_GRID}.clickData", selection.update_selection, *args
    )
    assert other == {"cell": ["High", "Bulk"]}


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ({RF_CELL: [5, 4]}, "RF cell R5 · F4 (Champions)"),
        ({RF_CELL: [1, 5]}, "RF cell R1 · F5 (Can't Lose)"),
        ({RF_CELL: [3, 3]}, "RF cell R3 · F3 (Need Attention)"),
    ],
)
def test_describe_names_the_rf_cell_and_its_segment(chosen, expected):
    assert describe(chosen) == expected


def test_render_rf_grid_counts_the_stored_selection(customers, monkeypatch):
    seg = SimpleNamespace(customers=customers)
    monkeypatch.setattr(panels, "current_segmentation", lambda *args: seg)
    fig = panels.render_rf_grid({"id": "x"}, 3, 2, {RF_CELL: [5, 5]}, None)
    assert np.asarray(fig.data[0].z).tolist() == HAND_COUNT
    assert "selected: 2" in cell(fig, "text", 5, 5)
    assert "selected: 0" in cell(fig, "text", 5, 4)


def test_the_page_has_the_rf_grid_panel(tmp_path):
    page = str(create_app(tmp_path).layout())
    assert f"'{ids.RF_GRID}'" in page and f"'{ids.RF_GRID_METRIC}'" in page
