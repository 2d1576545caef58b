"""The what-if star moves by a patch; the selected-customers table shows status.

Callbacks are called as functions, on the built-in sample (398 customers). A
patch is applied here to the scatter's figure as the browser would (each
``Assign`` sets the value at its location), so the tests see what plotly gets.
"""

from __future__ import annotations

import copy
import io
from contextvars import copy_context

import pandas as pd
import pytest
from dash import Patch, no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from plotly.io.json import to_json_plotly

import segmentation
from app import create_app, glossary, ids, storage
from app.callbacks import panels, selection, upload, whatif
from app.components import selected
from app.figures.scatter import WHATIF_NAME, WHATIF_SLOTS
from segmentation import schema
from segmentation.models import _status
from tests.dash_text import text_of

ANOMALY_PCT = 2
FREQUENCY_PROP = f"{ids.WHATIF_FREQUENCY}.value"
DATASET_PROP = f"{ids.DATASET_STORE}.data"
K_PROP = f"{ids.K_SLIDER}.value"


def triggered(prop_ids, func, *args):
    """Run ``func(*args)`` as if Dash had called it for the props ``prop_ids``."""

    def run():
        inputs = [{"prop_id": prop, "value": 1} for prop in prop_ids]
        context_value.set(AttributeDict(triggered_inputs=inputs))
        return func(*args)

    return copy_context().run(run)


def apply(figure: dict, patch: Patch) -> dict:
    """Return ``figure`` with the patch's operations done (Assign only expected)."""
    result = copy.deepcopy(figure)
    for op in patch.to_plotly_json()["operations"]:
        assert op["operation"] == "Assign", op
        *path, last = op["location"]
        node = result
        for key in path:
            node = node[key]
        node[last] = op["params"]["value"]
    return result


@pytest.fixture(scope="module")
def sample():
    return segmentation.load_sample()


@pytest.fixture(scope="module")
def callback_map(tmp_path_factory) -> dict:
    """The app's callbacks (made first: ``create_app`` configures the storage)."""
    return create_app(tmp_path_factory.mktemp("app")).callback_map


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, sample, callback_map):
    storage.configure(tmp_path_factory.mktemp("data"))
    return upload.ingest(sample, "sample.csv")[0]


@pytest.fixture(scope="module")
def customers(dataset):
    return (
        storage.get_store().segmentation(dataset["id"], 3, ANOMALY_PCT / 100).customers
    )


def typed(dataset, recency, frequency, monetary, shown=None, k=3):
    """The what-if callback after the user typed in the frequency input."""
    args = (recency, frequency, monetary, dataset, k, ANOMALY_PCT, shown)
    return triggered([FREQUENCY_PROP], whatif.update_whatif, *args)


# --- (d) the star is a patch of two annotations --------------------------------


def test_typing_patches_only_the_star(dataset):
    answer, point, star = typed(dataset, 30, 10, 1000)
    assert "value tier" in text_of(answer)
    assert "the star on the scatter marks it" in text_of(answer)
    assert point == {"frequency": 10.0, "monetary": 1000.0, "dataset": dataset["id"]}
    assert isinstance(star, Patch)
    operations = star.to_plotly_json()["operations"]
    assert [op["location"] for op in operations] == [
        ["layout", "annotations", 0],
        ["layout", "annotations", 1],
    ]
    icon, label = (op["params"]["value"] for op in operations)
    # log axes: annotation positions are log10(10 orders) = 1, log10(1000) = 3
    assert (icon["name"], icon["text"], icon["x"], icon["y"]) == (
        WHATIF_NAME,
        "★",
        1.0,
        3.0,
    )
    assert icon["visible"] and label["visible"] and label["text"] == "what-if"


def test_a_what_if_typed_before_the_panels_patches_the_placeholder(dataset):
    """The scatter's placeholder has the star's slots: the patch cannot miss them.

    Typed while the scatter still says what is coming, the patch once assigned
    ``annotations[1]`` of a one-annotation figure (IndexError in the browser's
    patch, seen 60 times in a 20-user load run).
    """
    from app.components import panels as panel_frames

    graph = panel_frames.graph(ids.CUSTOMER_SCATTER, 360, tools=True)
    figure = graph.figure.to_plotly_json()
    _answer, _point, star = typed(dataset, 30, 10, 1000)
    drawn = apply(figure, star)
    names = [a.get("name") for a in drawn["layout"]["annotations"]]
    assert names == [WHATIF_NAME, f"{WHATIF_NAME}-label", None]
    assert drawn["layout"]["annotations"][0]["visible"] is True
    message = drawn["layout"]["annotations"][2]["text"]
    assert message == panel_frames.COMING[ids.CUSTOMER_SCATTER]


def test_patch_keeps_the_points_their_selection_and_revisions(dataset, customers):
    # a grid-cell selection highlighted on the scatter (selectedpoints), no star
    tier, style = customers.iloc[0][[schema.VALUE_TIER, schema.PURCHASE_STYLE]]
    chosen = {"cell": [tier, style]}
    figure = panels.render_panels(dataset, 3, ANOMALY_PCT, chosen, "customers")[1]
    figure = copy.deepcopy(figure)
    slots = [figure["layout"]["annotations"][i] for i in WHATIF_SLOTS]
    assert [(a["name"], a["visible"]) for a in slots] == [
        (WHATIF_NAME, False),
        (f"{WHATIF_NAME}-label", False),
    ]
    star = typed(dataset, 30, 10, 1000)[2]
    patched = apply(figure, star)
    # points and selectedpoints as they were (compared as the browser gets them)
    assert to_json_plotly(patched["data"]) == to_json_plotly(figure["data"])
    highlighted = [t for t in patched["data"] if t.get("selectedpoints") is not None]
    n_in_cell = (
        (customers[schema.VALUE_TIER] == tier)
        & (customers[schema.PURCHASE_STYLE] == style)
    ).sum()
    assert sum(len(t["selectedpoints"]) for t in highlighted) == n_in_cell
    for key in ("uirevision", "selectionrevision", "meta", "xaxis", "yaxis"):
        assert patched["layout"][key] == figure["layout"][key], key
    others = [a for i, a in enumerate(patched["layout"]["annotations"]) if i > 1]
    assert others == figure["layout"]["annotations"][2:]
    assert patched["layout"]["annotations"][0]["visible"] is True


def test_a_scatter_selection_survives_a_what_if(dataset, customers, callback_map):
    # the wiring: the what-if store is only a State of the panels callback, so a
    # what-if never rebuilds the scatter (which would drop the user's box)
    callbacks = callback_map
    (key,) = [k for k in callbacks if f"{ids.WHATIF_STORE}.data" in k]
    assert f"{ids.CUSTOMER_SCATTER}.figure@" in key  # the patch, allow_duplicate
    assert f"{ids.SELECTION_STORE}.data" not in key  # never touches the selection
    # the server's panels callback (the browser's draws from the k views add
    # "@..." to the output: allow_duplicate)
    (panels_key,) = [
        k
        for k in callbacks
        if f"{ids.VALUE_STYLE_GRID}.figure" in k
        and f"{ids.VALUE_STYLE_GRID}.figure@" not in k
    ]
    inputs = {f"{i['id']}.{i['property']}" for i in callbacks[panels_key]["inputs"]}
    states = {f"{s['id']}.{s['property']}" for s in callbacks[panels_key]["state"]}
    assert f"{ids.WHATIF_STORE}.data" not in inputs
    assert f"{ids.WHATIF_STORE}.data" in states
    # a box made on the scatter: the panels leave the scatter to plotly, and the
    # selection callback keeps the ids plotly reported
    ids_in_box = customers[schema.CUSTOMER_ID].astype(str).head(3).tolist()
    box = {
        "points": [{"customdata": [c, "1 day"]} for c in ids_in_box],
        "range": {"x": [1, 2], "y": [10, 20]},
    }
    chosen = triggered(
        [f"{ids.CUSTOMER_SCATTER}.selectedData"],
        selection.update_selection,
        None,
        box,
        None,
        None,
        dataset,
        3,
        ANOMALY_PCT,
        None,
    )
    assert chosen == {"customer_ids": ids_in_box}
    shown = typed(dataset, 30, 10, 1000)[1]
    rendered = panels.render_panels(dataset, 3, ANOMALY_PCT, chosen, "customers", shown)
    assert rendered[1] is no_update


def test_no_star_before_anything_is_typed(dataset):
    medians = whatif.median_defaults(dataset)
    # a new dataset fills in its medians: they are scored, not drawn
    answer, point, star = triggered(
        [DATASET_PROP, FREQUENCY_PROP],
        whatif.update_whatif,
        *medians,
        dataset,
        3,
        ANOMALY_PCT,
        None,
    )
    assert "value tier" in text_of(answer)
    assert "change a value to place the customer as a star" in text_of(answer)
    assert point is no_update and star is no_update
    # k moved before anything was typed: still no star
    _, point, star = triggered(
        [K_PROP], whatif.update_whatif, *medians, dataset, 4, ANOMALY_PCT, None
    )
    assert point is no_update and star is no_update


def test_a_new_dataset_removes_the_star(dataset):
    shown = {"frequency": 10.0, "monetary": 1000.0, "dataset": dataset["id"]}
    _, point, star = triggered(
        [DATASET_PROP, FREQUENCY_PROP],
        whatif.update_whatif,
        *whatif.median_defaults(dataset),
        dataset,
        3,
        ANOMALY_PCT,
        shown,
    )
    assert point is None
    hidden = apply({"layout": {"annotations": [{}, {}]}}, star)["layout"]
    assert [a["visible"] for a in hidden["annotations"]] == [False, False]


def test_k_change_leaves_a_drawn_star_alone(dataset):
    shown = {"frequency": 10.0, "monetary": 1000.0, "dataset": dataset["id"]}
    answer, point, star = triggered(
        [K_PROP], whatif.update_whatif, 30, 10, 1000, dataset, 4, ANOMALY_PCT, shown
    )
    assert "the star on the scatter marks it" in text_of(answer)
    assert point is no_update and star is no_update
    # the rebuilt scatter draws it from the store
    figure = panels.render_panels(dataset, 4, ANOMALY_PCT, None, "customers", shown)[1]
    icon = figure["layout"]["annotations"][WHATIF_SLOTS[0]]
    assert icon["visible"] and (icon["x"], icon["y"]) == (1.0, 3.0)


def test_invalid_input_hides_the_star(dataset):
    shown = {"frequency": 10.0, "monetary": 1000.0, "dataset": dataset["id"]}
    answer, point, star = typed(dataset, 30, -2, 1000, shown)
    assert "frequency must be >= 0, got -2" in text_of(answer)
    assert point is None
    operations = star.to_plotly_json()["operations"]
    assert [op["params"]["value"]["visible"] for op in operations] == [False, False]


def test_the_star_of_another_dataset_is_not_drawn(dataset):
    old = {"frequency": 10.0, "monetary": 1000.0, "dataset": "another-file"}
    assert whatif.star_for(old, dataset) is None
    figure = panels.render_panels(dataset, 3, ANOMALY_PCT, None, "customers", old)[1]
    assert figure["layout"]["annotations"][WHATIF_SLOTS[0]]["visible"] is False
    mine = {**old, "dataset": dataset["id"]}
    assert whatif.star_for(mine, dataset) == mine


# --- (e) status in the selected-customers table --------------------------------


def test_status_help_matches_the_engine():
    assert glossary.STATUS_GAPS == (_status.COOLING_GAPS, _status.LAPSED_GAPS)
    assert glossary.STATUS_MIN_GAP_DAYS == _status.MIN_GAP_DAYS
    assert "Active up to 2 usual gaps, Cooling up to 4, Lapsed beyond" in (
        glossary.column_help(schema.CUSTOMER_STATUS)
    )


@pytest.fixture(scope="module")
def orders(sample) -> pd.DataFrame:
    """Per customer, from the raw lines with plain pandas: orders, span, recency.

    Orders = distinct invoices that are not cancellations ("C" prefix); span =
    days from the first to the last order's day; recency counts to the day
    after the file's last day.
    """
    raw = pd.read_csv(io.BytesIO(sample))
    days = pd.to_datetime(raw["InvoiceDate"]).dt.normalize()
    bought = raw["CustomerID"].notna() & ~raw["InvoiceNo"].astype(str).str.startswith(
        "C"
    )
    lines = raw[bought].assign(day=days[bought])
    per = lines.groupby(lines["CustomerID"].astype(int)).agg(
        orders=("InvoiceNo", "nunique"), first=("day", "min"), last=("day", "max")
    )
    return pd.DataFrame(
        {
            "orders": per["orders"],
            "span": (per["last"] - per["first"]).dt.days,
            "recency": (days.max() + pd.Timedelta(days=1) - per["last"]).dt.days,
        }
    )


def test_population_gap_of_the_sample(orders):
    repeat = orders[orders["orders"] >= 2]
    assert len(orders) == 398 and len(repeat) == 250
    assert (repeat["span"] / (repeat["orders"] - 1)).median() == 54.625


@pytest.mark.parametrize(
    ("customer", "by_hand", "status"),
    [
        # 12 orders over 197 days: a usual gap of 197 / 11 = 17.9 days; last order
        # 164 days ago = 9.2 gaps > 4 -> Lapsed
        (16553, (12, 197, 164), "Lapsed"),
        # 5 orders over 103 days: 103 / 4 = 25.75 days; 53 days = 2.06 gaps,
        # past 2, not past 4 -> Cooling
        (15505, (5, 103, 53), "Cooling"),
        # 8 orders over 270 days: 270 / 7 = 38.6 days; 65 days = 1.7 gaps -> Active
        (12939, (8, 270, 65), "Active"),
        # one order 130 days ago: the repeat customers' median gap, 54.625 days
        # (test above); 130 / 54.625 = 2.38 gaps -> Cooling
        (12378, (1, 0, 130), "Cooling"),
    ],
)
def test_table_rows_carry_the_status(dataset, orders, customer, by_hand, status):
    assert tuple(orders.loc[customer]) == by_hand
    n, span, recency = by_hand
    gap = span / (n - 1) if n > 1 else 54.625
    gaps = recency / max(gap, glossary.STATUS_MIN_GAP_DAYS)
    low, high = glossary.STATUS_GAPS
    assert status == (
        "Active" if gaps <= low else "Cooling" if gaps <= high else "Lapsed"
    )
    chosen = {"customer_ids": [str(customer), "14088"]}
    summary, rows, count = selection.render_selection(dataset, 3, ANOMALY_PCT, chosen)
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {str(customer), "14088"}
    assert by_id[str(customer)]["status"] == status
    assert by_id[str(customer)]["recency"] == recency
    headings = {c["field"]: c for c in selected.column_defs()}
    assert headings["status"]["headerName"] == "Status"
    assert headings["status"]["headerTooltip"] == glossary.column_help(
        schema.CUSTOMER_STATUS
    )
    assert headings["spent"]["headerTooltip"] == glossary.FEATURE_HELP[schema.MONETARY]
    assert "2 of 398 customers" in text_of(summary)
    assert count == "2 customers selected"


def test_table_data_has_status_for_every_row(customers):
    rows = selected.table_data(customers, None, limit=len(customers))
    assert schema.CUSTOMER_STATUS in rows.columns
    assert set(rows[schema.CUSTOMER_STATUS]) <= {"Active", "Cooling", "Lapsed"}
    assert not rows[schema.CUSTOMER_STATUS].isna().any()
    assert len(rows) == 398
