"""A run saved by the flat engine layout (before the subpackages) still opens.

The fixture in ``tests/data/old_layout_run`` was saved by the old layout; its
pickles name ``segmentation.pipeline.Segmentation`` and the other classes by
paths that no longer exist (see its README).
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import diskcache
import flask
import pandas as pd
import pytest

from app.api import register_api
from app.storage import _RenamingDisk
from segmentation import schema
from segmentation.results import PreparedData, Segmentation
from segmentation.runs import RunStore

OLD = Path(__file__).parent / "data" / "old_layout_run"
RUN_ID = "20261126T135838-6f5d0fac-k3"
#: Customers the old run's own report.json recorded (the sample's 400 less two
#: whose every line the cleaning drops).
REPORTED = json.loads((OLD / "runs" / RUN_ID / "report.json").read_text())["customers"]
OLD_PATHS = (
    b"segmentation.pipeline",
    b"segmentation.value_tiers",
    b"segmentation.purchase_style",
)


@pytest.fixture
def store(tmp_path):
    shutil.copytree(OLD / "runs", tmp_path / "runs")
    return RunStore(tmp_path)


def test_the_fixture_really_names_the_old_module_paths():
    model = (OLD / "runs" / RUN_ID / "model.pkl").read_bytes()
    assert all(path in model for path in OLD_PATHS)
    with pytest.raises(
        ModuleNotFoundError, match=r"segmentation\.pipeline|value_tiers"
    ):
        pickle.loads(model)  # the plain unpickler cannot read it


def test_an_old_run_is_listed(store):
    (entry,) = store.list()
    assert entry["id"] == RUN_ID
    assert entry["k"] == 3
    assert entry["customers"] == REPORTED == 398
    assert entry["reopenable"] is True


def test_an_old_run_opens_and_scores(store):
    saved = store.load(RUN_ID)
    seg = saved.segmentation
    assert isinstance(seg, Segmentation)
    assert seg.k == 3
    assert len(seg.customers) == REPORTED
    scored = seg_score(seg)
    # The top and the bottom of the sample's value range land at the two ends.
    assert scored[schema.VALUE_CLUSTER].tolist() == [2, 0]
    prepared = store.load_prepared(RUN_ID)
    assert isinstance(prepared, PreparedData)
    assert prepared.report.rows_in == 32_291  # the sample's lines (datasets README)
    assert prepared.diagnostics.recommended_k in range(2, 11)


def seg_score(seg):
    import segmentation

    records = pd.DataFrame(
        {
            schema.RECENCY_DAYS: [5.0, 300.0],
            schema.FREQUENCY: [40.0, 1.0],
            schema.MONETARY: [50_000.0, 30.0],
        }
    )
    return segmentation.score(seg, records)


def test_an_old_run_scores_through_the_api(store):
    server = flask.Flask(__name__)
    register_api(server, store_factory=lambda: store)
    client = server.test_client()
    body = {
        "run_id": RUN_ID,
        "customers": [
            {"customer_id": "A", "recency_days": 5, "frequency": 40, "monetary": 5e4}
        ],
    }
    response = client.post("/api/segment", data=json.dumps(body))
    assert response.status_code == 200, response.json
    (result,) = response.json["results"]
    assert result["customer_id"] == "A"
    assert result["value_cluster"] == 2
    summary = client.get(f"/api/runs/{RUN_ID}/summary")
    assert summary.status_code == 200
    assert sum(c["customers"] for c in summary.json["value_clusters"]) == REPORTED


@pytest.mark.parametrize("inline", [True, False])
def test_the_app_store_reads_entries_pickled_by_the_old_layout(tmp_path, inline):
    """diskcache keeps small values in SQLite and large ones in files: both paths."""
    data = (OLD / "runs" / RUN_ID / "prepared.pkl").read_bytes()
    disk = _RenamingDisk(str(tmp_path))
    if inline:
        value = disk.fetch(diskcache.core.MODE_PICKLE, None, data, False)
    else:
        (tmp_path / "entry.val").write_bytes(data)
        value = disk.fetch(diskcache.core.MODE_PICKLE, "entry.val", None, False)
    assert isinstance(value, PreparedData)
    assert len(value.features) == REPORTED
