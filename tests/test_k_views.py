"""Every k's panels for the browser, the first screen, and who draws a k change.

Callbacks and builders called as functions on the built-in sample; expectations
come from the engine's own labelled customers (pandas counts), not from the
views themselves.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from dash import no_update

import segmentation
from app import first_screen, ids, storage
from app.callbacks import panels, whatif
from app.callbacks.upload import dataset_entry
from app.components.panels import GRAPH_CONFIG
from app.figures import scatter_points
from app.figures.scatter import hydrate, scatter_base
from app.layout import FIRST_SCREEN, K_CHOICE, K_VIEWS, serve_layout
from segmentation import schema

PCT = 2
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ready(tmp_path_factory):
    """The sample prepared as the server does at start (``first_screen.prepare``)."""
    storage.configure(tmp_path_factory.mktemp("data"))
    return first_screen.prepare()


@pytest.fixture(scope="module")
def dataset(ready):
    return ready["dataset"]


def array(value) -> np.ndarray:
    """A plotly array as sent: a list, or ``{"dtype", "bdata", "shape"}``."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        if isinstance(shape, str):
            shape = [int(n) for n in shape.split(",")]
        return flat.reshape(shape) if shape else flat
    return np.asarray(value)


def components_by_id(page) -> dict:
    """Return the page's components that have a string id, by id."""
    return {
        c.id: c for c in page._traverse() if isinstance(getattr(c, "id", None), str)
    }


def customers_at(dataset, k):
    return panels.current_segmentation(dataset, k, PCT).customers


def test_the_first_screen_is_the_sample_as_the_upload_job_gives_it(ready):
    sha = storage.content_id(segmentation.load_sample())
    assert ready["dataset"] == dataset_entry(sha, segmentation.SAMPLE_NAME)
    assert ready["warm"]["k"] == list(range(2, 11))
    assert ready["warm"]["views"] == list(range(2, 11))
    assert ready["warm"]["scatter"] is True  # 398 customers: no sample drawn
    assert ready["first"] == {
        "dataset": ready["dataset"],
        "k": 3,
        "percent": PCT,
        "chosen": None,
        "metric": "customers",
    }


def test_views_put_every_customer_in_the_trace_of_its_tier_and_style(dataset, ready):
    views = ready["views"]
    base = views["base"]
    customers = customers_at(dataset, 2)
    assert base["customdata"] == [
        [str(c), base["customdata"][i][1]]
        for i, c in enumerate(customers[schema.CUSTOMER_ID])
    ]
    for k in range(2, 11):
        customers = customers_at(dataset, k)
        traces = [t for t in views["k"][str(k)]["scatter"]["traces"] if "rows" in t]
        rows = sorted(r for t in traces for r in t["rows"])
        assert rows == list(range(len(customers)))  # each customer exactly once
        expected = customers.groupby(
            [schema.VALUE_TIER, schema.PURCHASE_STYLE], observed=True
        ).size()
        got = {(t["meta"]["tier"], t["meta"]["style"]): len(t["rows"]) for t in traces}
        assert got == {cell: n for cell, n in expected.items() if n}
        for trace in traces:
            tiers = customers[schema.VALUE_TIER].iloc[trace["rows"]]
            assert set(tiers) == {trace["meta"]["tier"]}


def test_a_view_drawn_in_the_browser_is_the_servers_scatter(dataset, ready):
    # hydrate (the Python twin of assets/k_views.js) gives the server's points
    views = ready["views"]
    for k in (3, 7):
        served = panels.render_panels(dataset, k, PCT, None, "customers")[1]
        viewed = [
            hydrate(t, views["base"]) for t in views["k"][str(k)]["scatter"]["traces"]
        ]
        plain = json.loads(json.dumps(viewed))
        assert plain == panels.plain(served["data"])
        go.Figure({"data": viewed})  # valid plotly traces


def test_views_grid_and_heatmap_have_k_tiers_and_every_customer(dataset, ready):
    for k in (2, 5, 10):
        view = ready["views"]["k"][str(k)]
        customers = customers_at(dataset, k)
        grid = view["grid"]["customers"]["data"][0]
        assert len(grid["y"]) == k
        assert array(grid["z"]).sum() == len(customers)
        revenue = view["grid"]["revenue"]["data"][0]
        assert array(revenue["z"]).sum() == pytest.approx(
            customers[schema.MONETARY].sum()
        )
        assert len(view["heatmap"]["data"][0]["y"]) == k
        assert len(view["cards"]) == k
        # the tier axis names every tier, the top tier first in the legend
        assert view["grid"]["customers"]["yaxis"]["tickvals"] == grid["y"]


def test_the_top_tier_keeps_its_colour_at_every_k(ready):
    colours = set()
    for k in range(2, 11):
        entries = [
            t
            for t in ready["views"]["k"][str(k)]["scatter"]["traces"]
            if "legendrank" in t
        ]
        top = max(entries, key=lambda t: t["legendrank"])
        colours.add(top["marker"]["color"])
    assert len(colours) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, (True, True)),
        ({"chosen": {"cluster": 1}}, (False, False)),
        ({"percent": 3}, (False, False)),
        ({"k": 11}, (False, False)),
        ({"other_dataset": True}, (False, False)),
        ({"no_warm": True}, (False, False)),
        ({"sampled": True}, (True, False)),
    ],
)
def test_who_draws_the_panels(dataset, ready, change, expected):
    warm = dict(ready["warm"])
    if change.get("sampled"):
        warm["scatter"] = False
    if change.get("no_warm"):
        warm = None
    shown = {**dataset, "id": "another"} if change.get("other_dataset") else dataset
    got = panels.drawn_in_browser(
        warm,
        shown,
        change.get("k", 4),
        change.get("percent", PCT),
        change.get("chosen"),
    )
    assert got == expected


def test_the_server_leaves_to_the_browser_what_it_holds(dataset, ready):
    warm = ready["warm"]
    answer = panels.render_requested(
        {"all": True}, dataset, 6, PCT, None, "customers", None, warm
    )
    assert answer == (no_update,) * 4
    # a selection: the server highlights it
    grid, _scatter, _heat, cards = panels.render_requested(
        {"all": True}, dataset, 6, PCT, {"cluster": 5}, "customers", None, warm
    )
    assert "selected: " in grid.data[0].text[0][0]
    assert len(cards) == 6
    # a scatter that draws a sample: the server draws only the scatter
    sampled = {**warm, "scatter": False}
    answer = panels.render_requested(
        {"all": False}, dataset, 6, PCT, None, "customers", None, sampled
    )
    assert answer[0] is no_update and answer[2] is no_update
    assert answer[3] is no_update
    assert {t["meta"]["tier"] for t in answer[1]["data"] if t.get("meta")} == set(
        customers_at(dataset, 6)[schema.VALUE_TIER]
    )


def test_zoom_survives_a_k_change_on_the_server_too(dataset):
    three = panels.render_panels(dataset, 3, PCT, None, "customers")[1]
    eight = panels.render_panels(dataset, 8, PCT, None, "customers")[1]
    assert three["layout"]["uirevision"] == eight["layout"]["uirevision"]
    assert three["layout"]["selectionrevision"] != eight["layout"]["selectionrevision"]


def test_the_k_choice_is_what_the_server_would_write(dataset):
    choice = panels.k_choice(dataset)
    diag = panels.current_prepared(dataset).diagnostics
    assert choice["recommended"] == diag.recommended_k
    # the browser appends " Chosen k = k." to the rule, as the server's rule reads
    _, rule = panels.move_chosen_k(7, dataset)
    assert rule == f"{choice['rule']} Chosen k = 7."
    patch = panels.move_chosen_k(7, dataset)[0].to_plotly_json()["operations"]
    moved = sorted({op["location"][2] for op in patch})
    assert moved == choice["shapes"]


def test_a_sampled_scatter_has_no_base_in_the_views(dataset, monkeypatch):
    monkeypatch.setattr(scatter_points, "MAX_POINTS", 100)
    views = panels.k_views(dataset, PCT, [3, 4])
    assert views["base"] is None
    assert views["k"]["3"]["scatter"] is None
    assert sorted(views["k"]) == ["3", "4"]


def test_the_page_comes_with_the_sample_drawn(ready, monkeypatch):
    monkeypatch.setattr(first_screen, "ready", lambda: ready)
    page = serve_layout()
    found = components_by_id(page)
    assert found[ids.DATASET_STORE].data == ready["dataset"]
    assert found[K_VIEWS].data == ready["views"]
    assert found[FIRST_SCREEN].data == ready["first"]
    assert found[K_CHOICE].data["recommended"] == ready["choice"]["recommended"]
    grid = found[ids.VALUE_STYLE_GRID].figure
    assert array(grid["data"][0]["z"]).sum() == 398
    cards = found[ids.PERSONA_CARDS_DATA].data
    assert [card["cluster"] for card in cards] == [2, 1, 0]  # drawn by the browser
    assert found[ids.PERSONA_CARDS_HOST].children is None  # React leaves it alone
    assert "Recommended k =" in found[ids.K_RULE].children
    # the what-if inputs come filled with the medians (no star: nothing typed)
    medians = whatif.median_defaults(ready["dataset"])
    fields = (ids.WHATIF_RECENCY, ids.WHATIF_FREQUENCY, ids.WHATIF_MONETARY)
    assert tuple(found[f].value for f in fields) == medians
    # and their answer, as the upload job's dataset gets it: words, no star
    words = str(found[ids.WHATIF_RESULT].children)
    assert "These are the dataset's medians; change a value to place" in words


def test_before_the_sample_is_ready_the_panels_say_what_is_coming(monkeypatch):
    monkeypatch.setattr(first_screen, "ready", lambda: None)
    page = serve_layout()
    found = components_by_id(page)
    assert found[ids.DATASET_STORE].data is None
    said = found[ids.VALUE_STYLE_GRID].figure.layout.annotations[0].text
    assert said == "Value tiers are being computed…"
    assert "Personas are being named" in str(found[ids.PERSONA_CARDS].children)
    assert getattr(found[ids.PERSONA_CARDS_DATA], "data", None) is None  # no cards


def test_no_graph_offers_to_send_the_chart_to_a_third_party(monkeypatch):
    monkeypatch.setattr(first_screen, "ready", lambda: None)
    graphs = [c for c in serve_layout()._traverse() if type(c).__name__ == "Graph"]
    assert len(graphs) >= 5
    for graph in graphs:
        assert graph.config["displaylogo"] is False
        assert graph.config["showSendToCloud"] is False
        assert "sendDataToCloud" in graph.config["modeBarButtonsToRemove"]
    assert GRAPH_CONFIG["showLink"] is False


def test_the_browser_script_defines_what_the_callbacks_name():
    script = (ROOT / "assets" / "k_views.js").read_text()
    for name in ("showPanels", "showSelected", "showChoice"):
        assert f"{name}: {name}" in script
    assert "scatter_base" not in script  # the base comes as data, not code
    assert scatter_base.__name__ == "scatter_base"
    cards = (ROOT / "assets" / "persona_cards.js").read_text()
    assert "drawPersonaCards: drawPersonaCards" in cards
    # the cards' words go in as text, never as HTML
    assert "innerHTML" not in cards and "insertAdjacentHTML" not in cards


def test_the_server_prepares_the_sample_in_a_process_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv(storage.ENV_DATA_DIR, str(tmp_path))
    monkeypatch.setattr(first_screen, "_READY", {})
    assert first_screen.ready() is None
    first_screen.start().join(240)
    ready = first_screen.ready()
    assert ready is not None, "the preparing process sent nothing"
    sha = storage.content_id(segmentation.load_sample())
    assert ready["dataset"]["id"] == sha
    assert ready["warm"]["views"] == list(range(2, 11))
    # it wrote the sample to the data folder's store, where the callbacks read it
    assert (tmp_path / "store").is_dir()
