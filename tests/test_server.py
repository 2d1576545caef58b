"""The Procfile's gunicorn command serves the page and answers callbacks."""

from __future__ import annotations

import json
import time

import pytest

import segmentation
from app import ids, storage
from tests.procfile_server import get, post, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("server-data")
    log_path = tmp_path_factory.mktemp("server-log") / "gunicorn.log"
    with serve(data_dir, log_path) as base:
        yield base, data_dir


def test_page_is_served_with_the_dash_config(server):
    base, _ = server
    status, html = get(base + "/")
    assert status == 200
    assert 'id="_dash-config"' in html
    assert "Customer Segmentation Studio" in html
    status, health = get(base + "/api/health")
    assert status == 200 and json.loads(health)["status"] == "ok"


def test_k_change_resets_the_selection_through_the_server(server):
    base, _ = server
    inputs = [
        {"id": ids.VALUE_STYLE_GRID, "property": "clickData", "value": None},
        {"id": ids.CUSTOMER_SCATTER, "property": "selectedData", "value": None},
        [],
        {"id": ids.CLEAR_SELECTION, "property": "n_clicks", "value": None},
        {"id": ids.DATASET_STORE, "property": "data", "value": None},
        {"id": ids.K_SLIDER, "property": "value", "value": 4},
        {"id": ids.ANOMALY_SLIDER, "property": "value", "value": 2},
        {"id": ids.RF_GRID, "property": "clickData", "value": None},
    ]
    payload = {
        "output": f"{ids.SELECTION_STORE}.data",
        "outputs": {"id": ids.SELECTION_STORE, "property": "data"},
        "inputs": inputs,
        "changedPropIds": [f"{ids.K_SLIDER}.value"],
        "state": [
            {"id": ids.SELECTION_STORE, "property": "data", "value": {"cluster": 1}}
        ],
    }
    status, body = post(base + "/_dash-update-component", payload)
    assert status == 200
    assert body["response"] == {ids.SELECTION_STORE: {"data": None}}


def test_k_change_reclusters_a_stored_dataset(server):
    base, data_dir = server
    store = storage.Store(storage.data_dir(data_dir) / "store")
    sha = store.put_upload(segmentation.load_sample(), segmentation.SAMPLE_NAME)
    store.prepared(sha)  # as the background job would have done
    dataset = {"id": sha, "filename": segmentation.SAMPLE_NAME}
    outputs = [
        (ids.VALUE_STYLE_GRID, "figure"),
        (ids.CUSTOMER_SCATTER, "figure"),
        (ids.FEATURE_HEATMAP, "figure"),
        (ids.PERSONA_CARDS, "children"),
    ]
    payload = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [
            {"id": ids.DATASET_STORE, "property": "data", "value": dataset},
            {"id": ids.K_SLIDER, "property": "value", "value": 4},
            {"id": ids.ANOMALY_SLIDER, "property": "value", "value": 2},
            {"id": ids.SELECTION_STORE, "property": "data", "value": None},
            {"id": ids.GRID_METRIC, "property": "value", "value": "customers"},
            {"id": ids.WHATIF_STORE, "property": "data", "value": None},
        ],
        "changedPropIds": [f"{ids.K_SLIDER}.value"],
        "state": [],
    }
    start = time.perf_counter()
    status, body = post(base + "/_dash-update-component", payload)
    elapsed = time.perf_counter() - start
    assert status == 200
    assert ids.VALUE_STYLE_GRID in body["response"], body
    grid = body["response"][ids.VALUE_STYLE_GRID]["figure"]
    assert len(grid["data"][0]["y"]) == 4  # four value tiers
    assert len(body["response"][ids.PERSONA_CARDS]["children"]) == 4
    print(f"k change through gunicorn (sample): {elapsed * 1000:.0f} ms")
