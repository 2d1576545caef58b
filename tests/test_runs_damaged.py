"""A damaged saved run is named, answers 409, and touches no other run or route.

Damage made by hand in the database, as a fault or a person would leave it: the
stored report emptied to ``{}`` or replaced by something else, the stored model
removed or overwritten. (Run folders of earlier versions damaged on disk are
imported as damaged: tests/test_run_database.py.)
"""

from __future__ import annotations

import json

import flask
import pytest

import segmentation
from app import storage
from app.api import register_api
from app.callbacks import runs as run_callbacks
from app.components.runs import runs_list
from segmentation.runs import DamagedRunError, RunNotFoundError, RunStore
from tests import run_db
from tests.dash_text import text_of
from tests.test_runs import tiny_prepared

CUSTOMER = {"recency_days": 3, "frequency": 12, "monetary": 2400.0}


#: How to damage a run (store, run id) -> the reason listed (its start).
DAMAGES = {
    "empty report": (
        lambda store, run_id: run_db.set_report(store, run_id, {}),
        "the stored report is not a run report (no 'input')",
    ),
    "report not a dict": (
        lambda store, run_id: run_db.set_report(store, run_id, ["not", "a report"]),
        "the stored report is not a run report (list indices",
    ),
    "no model": (
        lambda store, run_id: run_db.drop_model(store, run_id, "segmentation"),
        "the stored model is missing",
    ),
}


@pytest.fixture(scope="module")
def tiny_seg():
    return segmentation.segment(tiny_prepared(), 2, seed=0, anomaly_share=0.1)


#: Tests taking ``store`` run on SQLite, and on PostgreSQL when a server is named.
backend = run_db.backend


@pytest.fixture
def store(tmp_path, backend):
    return RunStore(tmp_path / "data")


@pytest.fixture
def two_runs(store, tiny_seg):
    """An older good run and a newer one (the one damaged by the tests)."""
    good = store.save(tiny_prepared(), tiny_seg, source="cli")
    other = segmentation.segment(tiny_prepared(), 3, seed=0, anomaly_share=0.1)
    newer = store.save(tiny_prepared(), other, source="cli")
    return good, newer


def _client(store):
    server = flask.Flask(__name__)
    register_api(server, store_factory=lambda: store)
    return server.test_client()


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_run_is_listed_with_its_reason(store, two_runs, damage):
    good, bad = two_runs
    harm, reason = DAMAGES[damage]
    harm(store, bad)
    listed = {run["id"]: run for run in store.list()}
    assert set(listed) == {good, bad}
    assert listed[bad]["damaged"].startswith(reason)
    assert listed[bad]["reopenable"] is False
    assert "damaged" not in listed[good]
    assert listed[bad]["created"][:19] == (
        f"{bad[0:4]}-{bad[4:6]}-{bad[6:8]}T{bad[9:11]}:{bad[11:13]}:{bad[13:15]}"
    )


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_run_answers_409_and_other_routes_work(store, two_runs, damage):
    good, bad = two_runs
    DAMAGES[damage][0](store, bad)
    client = _client(store)

    listed = client.get("/api/runs")
    assert listed.status_code == 200
    rows = {row["id"]: row for row in listed.get_json()["runs"]}
    assert rows[bad]["damaged"].startswith(DAMAGES[damage][1])
    assert rows[bad]["k"] is None
    assert rows[good]["k"] == 2 and "damaged" not in rows[good]

    for path in (f"/api/runs/{bad}", f"/api/runs/{bad}/summary"):
        answer = client.get(path)
        assert answer.status_code == 409, path
        assert f"saved run {bad} is damaged" in answer.get_json()["error"]
    scored = client.post("/api/segment", json={"run_id": bad, **CUSTOMER})
    assert scored.status_code == 409
    assert DAMAGES[damage][1] in scored.get_json()["error"]

    # the newest usable run scores; the good run answers as before
    latest = client.post("/api/segment", json=CUSTOMER)
    assert latest.status_code == 200
    assert latest.get_json()["run_id"] == good
    assert client.get(f"/api/runs/{good}").get_json()["k"] == 2
    assert client.get(f"/api/runs/{good}/summary").status_code == 200
    assert client.get("/api/runs/20990101T000000-00000000-k2").status_code == 404


@pytest.mark.parametrize("damage", DAMAGES)
def test_saving_still_works_beside_a_damaged_run(store, tiny_seg, two_runs, damage):
    good, bad = two_runs
    DAMAGES[damage][0](store, bad)
    # the same data and settings as the good run: found, not saved twice
    assert store.save_once(tiny_prepared(), tiny_seg, source="app") == (good, False)
    other = segmentation.segment(tiny_prepared(), 4, seed=0, anomaly_share=0.1)
    new_id, created = store.save_once(tiny_prepared(), other, source="app")
    assert created and new_id not in (good, bad)
    assert store.latest_id() == new_id
    assert store.load(new_id).segmentation.k == 4


def test_a_damaged_run_alone_means_no_run_to_score(store, two_runs):
    good, bad = two_runs
    DAMAGES["empty report"][0](store, bad)
    DAMAGES["no model"][0](store, good)
    assert store.latest_id() is None
    answer = _client(store).post("/api/segment", json=CUSTOMER)
    assert answer.status_code == 404


def test_unreadable_model_is_damaged(store, two_runs):
    good, bad = two_runs
    run_db.set_model(store, bad, "segmentation", b"not a pickle")
    with pytest.raises(DamagedRunError, match=r"stored model cannot be read"):
        store.load(bad)
    assert store.load(good).segmentation.k == 2
    with pytest.raises(RunNotFoundError):
        store.load("20990101T000000-00000000-k2")


def test_damaged_error_survives_pickling(store, two_runs):
    import pickle

    _, bad = two_runs
    DAMAGES["empty report"][0](store, bad)
    with pytest.raises(DamagedRunError) as caught:
        store.load(bad)
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is DamagedRunError and str(again) == str(caught.value)
    assert again.details["reason"] == (
        "the stored report is not a run report (no 'input')"
    )


def test_app_lists_a_damaged_run_as_damaged(tmp_path, tiny_seg):
    storage.configure(tmp_path)
    try:
        store = storage.run_store()
        good = store.save(tiny_prepared(), tiny_seg, source="app")
        other = segmentation.segment(tiny_prepared(), 3, seed=0, anomaly_share=0.1)
        bad = store.save(tiny_prepared(), other, source="app")
        run_db.set_report(store, bad, {})
        shown = text_of(run_callbacks.list_runs(None))
        assert f"Damaged run {bad}" in shown
        assert "the stored report is not a run report (no 'input')" in shown
        assert f"Damaged run {good}" not in shown
        # reopening it says why
        with pytest.raises(DamagedRunError, match="is damaged"):
            run_callbacks.reopen(bad)
    finally:
        storage.configure(tmp_path)


def test_runs_list_component_has_no_reopen_for_a_damaged_run():
    row = {
        "id": "20260101T000000-abcdef12-k3",
        "created": "2026-01-01T00:00:00.000000+00:00",
        "damaged": "model.pkl is missing",
    }
    shown = runs_list([row])
    assert "Reopen" not in text_of(shown)
    assert "2026-01-01 00:00 UTC · model.pkl is missing" in text_of(shown)
    json.dumps(shown.to_plotly_json(), default=str)  # serialisable
