"""The grid's chosen cell, its cells' names, and per-k progress (issue 17).

* :func:`app.figures.grid.cell_outline`: two rectangles around the chosen
  cell, in category positions, none for a cell not in the grid;
* :func:`app.figures.grid.cell_names`: each cell's name for its keyboard
  button, counted by hand on the figure tests' 10 customers;
* the panels callback outlines the cell of a cell selection only;
* the upload job's progress names each k of the sweep, between 75 and 90 %.
"""

from __future__ import annotations

import re
from contextvars import copy_context

import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

import segmentation
from app import figures, ids, storage
from app.callbacks import panels, upload
from app.figures.grid import cell_names, cell_outline
from app.selection import selection_mask
from tests.staged_uploads import staged
from tests.test_figures import synthetic_customers

TIERS = ["Low", "Mid", "High"]
STYLES = ["Regular", "Bulk", "Anomaly"]
INK, VERMILLION = "#1d2733", "#D55E00"


def _triggered(prop_id, func, *args, value=1):
    def run():
        context_value.set(
            AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}])
        )
        return func(*args)

    return copy_context().run(run)


def _centre_and_size(shape) -> tuple[float, float, float, float]:
    return (
        (shape["x0"] + shape["x1"]) / 2,
        (shape["y0"] + shape["y1"]) / 2,
        shape["x1"] - shape["x0"],
        shape["y1"] - shape["y0"],
    )


def test_the_outline_is_two_rectangles_one_cell_wide_around_the_cell():
    shapes = cell_outline(TIERS, STYLES, ["High", "Bulk"])
    # High is the 3rd tier (y = 2), Bulk the 2nd style (x = 1)
    assert [_centre_and_size(s) for s in shapes] == [(1, 2, 1, 1), (1, 2, 1, 1)]
    assert [(s["line"]["color"], s["line"]["width"]) for s in shapes] == [
        (INK, 6),
        (VERMILLION, 3),
    ]
    assert {(s["type"], s["xref"], s["yref"], s["layer"]) for s in shapes} == {
        ("rect", "x", "y", "above")
    }


@pytest.mark.parametrize(
    "cell",
    [None, [], ["Top", "Regular"], ["Low", "Wholesale"], ("Regular", "Low")],
    ids=["none", "empty", "tier of another k", "unknown style", "swapped"],
)
def test_no_outline_for_no_cell_or_a_cell_not_in_the_grid(cell):
    assert cell_outline(TIERS, STYLES, cell) == []


def test_the_grid_figure_outlines_the_chosen_cell_only():
    customers = synthetic_customers()
    plain = figures.value_style_grid(customers)
    assert plain.layout.shapes == ()
    chosen = figures.value_style_grid(customers, cell=["Mid", "Regular"])
    centres = {_centre_and_size(s.to_plotly_json()) for s in chosen.layout.shapes}
    assert centres == {(0, 1, 1, 1)}  # Regular = x 0, Mid = y 1
    assert len(chosen.layout.shapes) == 2


def test_cell_names_count_each_cell_highest_tier_first():
    customers = synthetic_customers()
    # tests/test_figures.py's hand count: Low 3/0/1, Mid 2/1/0, High 1/2/0
    assert cell_names(customers) == [
        ["High", "Regular", "High tier, Regular: 1 customer"],
        ["High", "Bulk", "High tier, Bulk: 2 customers"],
        ["High", "Anomaly", "High tier, Anomaly: 0 customers"],
        ["Mid", "Regular", "Mid tier, Regular: 2 customers"],
        ["Mid", "Bulk", "Mid tier, Bulk: 1 customer"],
        ["Mid", "Anomaly", "Mid tier, Anomaly: 0 customers"],
        ["Low", "Regular", "Low tier, Regular: 3 customers"],
        ["Low", "Bulk", "Low tier, Bulk: 0 customers"],
        ["Low", "Anomaly", "Low tier, Anomaly: 1 customer"],
    ]


def test_cell_names_add_revenue_and_the_selection():
    customers = synthetic_customers()
    revenue = {(t, s): n for t, s, n in cell_names(customers, "revenue")}
    # High · Bulk: 20,000 + 15,000; Low · Regular: 50 + 70 + 80
    assert revenue[("High", "Bulk")] == "High tier, Bulk: 2 customers, revenue 35,000"
    assert revenue[("Low", "Regular")] == (
        "Low tier, Regular: 3 customers, revenue 200"
    )
    mask = selection_mask(customers, {"cluster": 2})  # the three High customers
    chosen = {(t, s): n for t, s, n in cell_names(customers, mask=mask)}
    assert chosen[("High", "Bulk")] == "High tier, Bulk: 2 customers, 2 selected"
    assert chosen[("Low", "Regular")] == "Low tier, Regular: 3 customers, 0 selected"


def test_the_grid_trace_carries_the_names_for_the_browser():
    customers = synthetic_customers()
    fig = figures.value_style_grid(customers, "revenue")
    assert fig.data[0].meta == {"cells": cell_names(customers, "revenue")}


# --- the app: the outline in the server's grid, the per-k progress -----------


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """The sample uploaded through the app's job; its progress steps."""
    storage.configure(tmp_path_factory.mktemp("data"))
    steps: list = []
    result = _triggered(
        f"{ids.UPLOADED_STORE}.data",
        upload.load_dataset,
        steps.append,
        staged(segmentation.load_sample(), "mine.csv"),
        None,
        None,
        None,
        [],
        [],
        None,
    )
    return result[0], steps


def test_the_servers_grid_outlines_a_cell_selection_only(job):
    dataset, _ = job
    grid = panels.render_panels(dataset, 3, 2, None, "customers")[0]
    tiers, styles = list(grid.data[0].y), list(grid.data[0].x)
    top = tiers[-1]
    chosen = panels.render_panels(dataset, 3, 2, {"cell": [top, "Bulk"]}, "revenue")[0]
    centres = {_centre_and_size(s.to_plotly_json()) for s in chosen.layout.shapes}
    assert centres == {(styles.index("Bulk"), len(tiers) - 1, 1, 1)}
    card = panels.render_panels(dataset, 3, 2, {"cluster": 0}, "customers")[0]
    assert card.layout.shapes == ()


def test_the_upload_jobs_progress_names_each_k_between_75_and_90(job):
    _, steps = job
    per_k = [
        (percent, text) for percent, text in steps if text.startswith("Choosing k: k =")
    ]
    names = [
        re.match(r"Choosing k: k = (\d+) of (\d+) \(mine\.csv", t) for _, t in per_k
    ]
    assert all(names), per_k
    assert [(int(m.group(1)), int(m.group(2))) for m in names] == [
        (k, 10) for k in range(2, 11)
    ]
    percents = [p for p, _ in per_k]
    assert percents == sorted(percents)
    assert percents[0] == 75 and percents[-1] < 90
    assert len(set(percents)) >= 5  # the bar moves as k goes (rounded to 1 %)
