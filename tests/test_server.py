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


def callback_payload(base: str, output_part: str, trigger: str, values: dict) -> dict:
    """The renderer's body for the server callback writing ``output_part``.

    The callback with ``trigger`` among its inputs, from the server's own
    ``/_dash-dependencies`` (so a new Input or State needs no edit here):
    ``values`` maps ``"id.property"`` to a value, anything else is None (a
    pattern-matching input, none on the page: ``[]``).
    """
    _, text = get(base + "/_dash-dependencies")
    (callback,) = [
        c
        for c in json.loads(text)
        if output_part in c["output"]
        and not c.get("clientside_function")
        and trigger in [f"{i['id']}.{i['property']}" for i in c["inputs"]]
    ]

    def fill(deps):
        return [
            []
            if d["id"].startswith("{")
            else {**d, "value": values.get(f"{d['id']}.{d['property']}")}
            for d in deps
        ]

    parts = callback["output"].strip(".").split("...")
    outputs = [
        {"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]}
        for o in parts
    ]
    return {
        "output": callback["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": fill(callback["inputs"]),
        "state": fill(callback["state"]),
        "changedPropIds": [trigger],
    }


def test_a_sensitivity_change_resets_the_selection_through_the_server(server):
    # (a k change clears the selection in the browser: assets/k_settled.js)
    base, _ = server
    payload = callback_payload(
        base,
        f"{ids.SELECTION_STORE}.data",
        f"{ids.ANOMALY_SLIDER}.value",
        {
            f"{ids.K_SLIDER}.value": 4,
            f"{ids.ANOMALY_SLIDER}.value": 2,
            f"{ids.SELECTION_STORE}.data": {"cluster": 1},
        },
    )
    status, body = post(base + "/_dash-update-component", payload)
    assert status == 200
    assert body["response"] == {ids.SELECTION_STORE: {"data": None}}


def test_k_change_reclusters_a_stored_dataset(server):
    # the panels the server draws when the browser has no per-k views yet
    base, data_dir = server
    store = storage.Store(storage.data_dir(data_dir) / "store")
    sha = store.put_upload(segmentation.load_sample(), segmentation.SAMPLE_NAME)
    store.prepared(sha)  # as the background job would have done
    dataset = {"id": sha, "filename": segmentation.SAMPLE_NAME}
    payload = callback_payload(
        base,
        f"{ids.PERSONA_CARDS_DATA}.data",
        "panels-request.data",
        {
            "panels-request.data": {"k": 4},
            f"{ids.DATASET_STORE}.data": dataset,
            f"{ids.K_SLIDER}.value": 4,
            f"{ids.ANOMALY_SLIDER}.value": 2,
            f"{ids.GRID_METRIC}.value": "customers",
        },
    )
    start = time.perf_counter()
    status, body = post(base + "/_dash-update-component", payload)
    elapsed = time.perf_counter() - start
    assert status == 200
    assert ids.VALUE_STYLE_GRID in body["response"], body
    grid = body["response"][ids.VALUE_STYLE_GRID]["figure"]
    assert len(grid["data"][0]["y"]) == 4  # four value tiers
    cards = body["response"][ids.PERSONA_CARDS_DATA]["data"]
    assert [card["cluster"] for card in cards] == [3, 2, 1, 0]  # highest first
    print(f"k change through gunicorn (sample): {elapsed * 1000:.0f} ms")
