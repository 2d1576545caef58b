"""Saved runs in the app: save once, list, reopen after a restart without the bytes."""

from __future__ import annotations

import json
import re
from contextvars import copy_context

import plotly.graph_objects as go
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate

import segmentation
from app import create_app, ids, storage
from app.callbacks import panels, runs, upload
from segmentation import schema
from segmentation.runs import RunStore
from tests import run_db
from tests.dash_text import text_of

ANOMALY_PCT = 2
RUN_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{8}-k\d+(?:-\d+)?")


def clicked(run_id, value=1):
    """Call ``reopen_run`` as Dash would when run_id's Reopen button is clicked."""
    prop_id = json.dumps(ids.run_reopen(run_id), separators=(",", ":")) + ".n_clicks"

    def call():
        context_value.set(
            AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}])
        )
        return runs.reopen_run([value])

    return copy_context().run(call)


@pytest.fixture
def data_dir(tmp_path):
    storage.configure(tmp_path)
    yield tmp_path
    storage.configure(tmp_path)  # leave no reference to a deleted folder's runs


@pytest.fixture
def dataset(data_dir):
    return upload.ingest(segmentation.load_sample(), "sample.csv")[0]


def test_app_builds_with_the_runs_panel(tmp_path):
    app = create_app(tmp_path)
    layout = str(app.layout())
    for component in (ids.SAVE_RUN_BUTTON, ids.RUN_SAVED, ids.RUNS_LIST):
        assert component in layout


def test_save_gives_a_run_id_once_and_a_scoring_hint(dataset, data_dir):
    first = text_of(runs.save_run(1, dataset, 3, ANOMALY_PCT))
    (run_id,) = set(RUN_ID.findall(first))  # shown, and in the hint
    assert first.startswith("Saved run") and "POST /api/segment" in first
    assert f'"run_id": "{run_id}"' in first
    again = text_of(runs.save_run(2, dataset, 3, ANOMALY_PCT))
    assert again.startswith("Already saved as run") and run_id in again
    listed = RunStore(data_dir).list()  # what the API reads
    assert [r["id"] for r in listed] == [run_id]
    assert listed[0]["source"] == "app" and listed[0]["k"] == 3


def test_other_settings_are_other_runs(dataset, data_dir):
    saved = {
        runs.save_current(dataset, k, pct)[0]
        for k, pct in [(3, 2), (4, 2), (3, 5), (4, 2), (3, 2)]
    }
    assert len(saved) == 3  # (3, 2), (4, 2), (3, 5)
    settings = {(r["k"], r["anomaly_share"]) for r in RunStore(data_dir).list()}
    assert settings == {(3, 0.02), (4, 0.02), (3, 0.05)}


def test_list_shows_newest_first_with_reopen_buttons(dataset, data_dir):
    assert "No saved run yet" in text_of(runs.list_runs(None))
    older = runs.save_current(dataset, 3, ANOMALY_PCT)[0]
    newer = runs.save_current(dataset, 5, ANOMALY_PCT)[0]
    rows = runs.list_runs(None).children
    assert [row.title for row in rows] == [newer, older]
    button, share, revoke = rows[0].children[1].children
    assert button.id == ids.run_reopen(newer) and not button.disabled
    assert (share.children, share.id) == ("Share link", runs.run_share(newer))
    assert (revoke.children, revoke.id) == ("Revoke links", runs.run_unshare(newer))
    facts = text_of(rows[0])
    assert "sample.csv" in facts and "k = 5" in facts
    customers = len(storage.get_store().prepared(dataset["id"]).features)
    assert f"{customers:,} customers" in facts


def test_reopen_after_restart_without_the_upload(dataset, data_dir):
    run_id = runs.save_current(dataset, 4, 3)[0]
    saved = RunStore(data_dir).load(run_id).segmentation
    storage.get_store().cache.clear()  # the upload's bytes and results are gone
    storage.configure(data_dir)  # a new server process: a fresh store, same folder
    reopened, k, percent, message, status = clicked(run_id)
    assert (reopened["id"], reopened["filename"]) == (dataset["id"], "sample.csv")
    assert (k, percent) == (4, 3)
    assert text_of(message).startswith(f"Reopened sample.csv: run {run_id}.")
    n = len(saved.customers)
    assert status == f"Reopened saved run of sample.csv: {n:,} customers, k = 4."
    grid, scatter, heat, cards = panels.render_panels(
        reopened, k, percent, None, "customers"
    )
    scatter = go.Figure(scatter)
    assert grid.data[0].z.sum() == len(saved.customers)  # every customer in a cell
    points = [t for t in scatter.data if t.customdata is not None]
    assert sum(len(t.x) for t in points) == len(saved.customers)
    assert len(cards) == 4 and heat.data
    receipt, title = panels.render_receipt(reopened)
    assert title == "Dataset: sample.csv" and receipt
    figure, rule = panels.render_diagnostics(reopened, k)
    assert "Chosen k = 4" in rule and figure.data
    shown = storage.get_store().segmentation(
        reopened["id"], k, percent / 100, mapping=reopened["mapping"]
    )
    assert shown.customers[schema.VALUE_TIER].tolist() == (
        saved.customers[schema.VALUE_TIER].tolist()
    )


def test_old_run_cannot_be_reopened_but_is_said_so(dataset, data_dir):
    store = storage.get_store()
    cli = RunStore(data_dir)  # e.g. the command line's --save, before prepared.pkl
    run_id = cli.save(
        store.prepared(dataset["id"]),
        store.segmentation(dataset["id"], 3, ANOMALY_PCT / 100),
    )
    run_db.drop_model(cli, run_id, "prepared")
    assert runs.list_runs(None).children[0].children[1].children[0].disabled
    dataset_out, k, percent, message, status = clicked(run_id)
    assert dataset_out is k is percent is status is runs.no_update
    assert "cannot reopen" in message and "API still scores" in message


def test_reopen_needs_a_click(dataset):
    run_id = runs.save_current(dataset, 3, ANOMALY_PCT)[0]
    with pytest.raises(PreventUpdate):
        clicked(run_id, value=None)  # the list was redrawn, nothing clicked


def test_save_without_a_dataset_does_nothing(data_dir):
    with pytest.raises(PreventUpdate):
        runs.save_run(1, None, 3, ANOMALY_PCT)


def test_download_never_saves_a_run_and_a_new_file_clears_the_saved_line(tmp_path):
    # issue 17: Download silently saved a run ("Already saved"); a "Reopened ..."
    # line stayed on screen after another file was loaded
    app = create_app(tmp_path)
    saving = [
        c for c in app._callback_list if c["output"] == f"{ids.RUN_SAVED}.children"
    ]
    (save,) = saving
    assert [i["id"] for i in save["inputs"]] == [ids.SAVE_RUN_BUTTON]
    (load,) = [
        c
        for c in app._callback_list
        if c.get("running") and c["output"].startswith(f"..{ids.DATASET_STORE}.data")
    ]
    assert load["running"]["running"][f"{ids.RUN_SAVED}.children"] == ""
    assert load["running"]["runningOff"][f"{ids.RUN_SAVED}.children"] == ""
