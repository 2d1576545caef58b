"""The JSON API with Flask's test client on a temporary run store."""

from __future__ import annotations

import json

import flask
import numpy as np
import pandas as pd
import pytest

import segmentation
from app import api
from app.api import register_api
from segmentation import schema
from segmentation.runs import RunStore
from tests.test_runs import tiny_prepared

HIGH = {"recency_days": 5, "frequency": 25, "monetary": 7_000}
LOW = {"recency_days": 320, "frequency": 1, "monetary": 60.5}
BEHAVIOUR = {
    "avg_line_quantity": 3.0,
    "return_rate": 0.0,
    "largest_order_ratio": 1.2,
    "order_value_cv": 0.2,
}


@pytest.fixture(scope="module")
def tiny_seg():
    return segmentation.segment(tiny_prepared(), 2, seed=0, anomaly_share=0.1)


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "data")


@pytest.fixture
def run_id(store, tiny_seg):
    return store.save(tiny_prepared(), tiny_seg, source="app")


def _client(store) -> flask.testing.FlaskClient:
    server = flask.Flask(__name__)
    register_api(server, store_factory=lambda: store)

    @server.get("/page")
    def page():
        return "<p>a page</p>"

    return server.test_client()


@pytest.fixture
def client(store, run_id):
    return _client(store)


def _post(client, body, **kwargs):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/api/segment", data=data, **kwargs)


# Health and runs --------------------------------------------------------------------
def test_health(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "version": segmentation.__version__}


def test_runs_lists_the_saved_runs(client, store, tiny_seg, run_id):
    newer = store.save(tiny_prepared(sha256="ee" * 32), tiny_seg)
    response = client.get("/api/runs")
    assert response.status_code == 200
    runs = response.json["runs"]
    assert [r["id"] for r in runs] == [newer, run_id]
    assert set(runs[0]) == {"id", "file", "created", "k", "customers"}
    assert (runs[1]["file"], runs[1]["k"], runs[1]["customers"]) == ("tiny.csv", 2, 12)
    assert [r["id"] for r in client.get("/api/runs?limit=1").json["runs"]] == [newer]


@pytest.mark.parametrize("limit", ["0", "-1", "x", "1.5", "201", "²"])
def test_runs_bad_limit(client, limit):
    response = client.get(f"/api/runs?limit={limit}")
    assert response.status_code == 400
    assert "limit must be a whole number 1..200" in response.json["error"]


def test_summary(client, store, run_id):
    response = client.get(f"/api/runs/{run_id}/summary")
    assert response.status_code == 200
    body = response.json
    assert body == json.loads(json.dumps(store.summary(run_id)))
    assert (body["run_id"], body["k"], body["customers"]) == (run_id, 2, 12)
    # per value tier, no persona (personas are per tier x status)
    clusters = body["value_clusters"]
    assert [c["value_tier"] for c in clusters] == ["Low", "High"]
    assert [c["customers"] for c in clusters] == [6, 6]
    assert all("persona" not in c for c in clusters)
    # Low: 50..100 spent, median (70 + 80) / 2 = 75; High: median 7,500
    assert [c["median_monetary"] for c in clusters] == [75.0, 7_500.0]
    # per tier x status (tests/test_runs.py's tiny run): H1..H6 Active; L1..L3
    # (one order, 300..320 days / the usual gap of 7 days) Lapsed; L4..L6 (two
    # orders 100 days apart, 330..350 days / 100) Cooling
    personas = [
        (p["value_cluster"], p["status"], p["persona"], p["customers"])
        for p in body["personas"]
    ]
    assert personas == [
        (0, "Cooling", "Drifting", 3),
        (0, "Lapsed", "Gone quiet", 3),
        (1, "Active", "Stars", 6),
    ]
    # Stars: 5,000..10,000 of the 45,450 spent in all
    assert body["personas"][2]["revenue_share"] == pytest.approx(45_000 / 45_450)
    # the value x style cells, with their business label and no persona
    grid = body["grid"]
    assert sum(cell["customers"] for cell in grid) == 12
    assert all("persona" not in cell and cell["grid_label"] for cell in grid)


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/20200101T000000-x-k3/summary",  # unknown
        "/api/runs/run.json/summary",  # invalid id
        "/api/runs/..%2F..%2Fetc/summary",  # traversal
        "/api/runs/../runs/summary",
        "/api/nothing-here",
    ],
)
def test_not_found_is_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json and response.json["error"]


def test_other_pages_keep_their_own_errors(client):
    assert client.get("/page").data == b"<p>a page</p>"
    response = client.get("/no-such-page")
    assert response.status_code == 404 and not response.is_json


def test_wrong_method_is_json(client):
    response = client.get("/api/segment")
    assert response.status_code == 405 and "error" in response.json


# Scoring one customer ---------------------------------------------------------------
def test_score_one_customer_with_the_latest_run(client, run_id):
    response = _post(client, HIGH)
    assert response.status_code == 200
    body = response.json
    assert body["run_id"] == run_id
    # 5 days / 25 orders / 7,000 sits among H1..H6 (tiers: 0 Low, 1 High)
    assert (body["value_cluster"], body["value_tier"]) == (1, "High")
    # run's quintile steps: 5 days -> H4's 5 days (R 5), 25 orders -> H3's 24 (F 5),
    # 7,000 -> H3's 7,000 (M 5); R5/F5 is Champions
    assert (body["r_score"], body["f_score"], body["m_score"]) == (5, 5, 5)
    assert body["rfm_segment"] == "Champions"
    # status against the run's usual gap of 7 days: 5 / 7 = 0.7 gaps, Active;
    # persona of the (High, Active) group
    assert (body["status"], body["persona"]) == ("Active", "Stars")
    assert "purchase_style" not in body and "style_reason" not in body
    low = _post(client, {**LOW, "run_id": run_id}).json
    assert (low["value_cluster"], low["value_tier"]) == (0, "Low")
    assert (low["r_score"], low["f_score"], low["m_score"]) == (1, 1, 1)
    assert low["rfm_segment"] == "Hibernating"
    # 320 / 7 = 45.7 gaps: Lapsed, the (Low, Lapsed) group's persona
    assert (low["status"], low["persona"]) == ("Lapsed", "Gone quiet")


def test_score_agrees_with_the_library(client, tiny_seg):
    body = _post(client, {**HIGH, **BEHAVIOUR}).json
    expected = segmentation.score(tiny_seg, pd.DataFrame([{**HIGH, **BEHAVIOUR}]))
    row = expected.iloc[0]
    for column in expected.columns:
        assert body[column] == (row[column] if pd.notna(row[column]) else None)
    assert body["purchase_style"] in schema.PURCHASE_STYLES
    assert "persona" in body and "rfm_segment" in body


def test_no_run_saved_yet(store):
    response = _post(_client(store), HIGH)
    assert response.status_code == 404
    assert "no saved run yet" in response.json["error"]


def test_unknown_run(client):
    response = _post(client, {**HIGH, "run_id": "20200101T000000-x-k3"})
    assert response.status_code == 404
    assert "no saved run" in response.json["error"]
    response = _post(client, {**HIGH, "run_id": "../../etc/passwd"})
    assert response.status_code == 404
    assert "not a valid run id" in response.json["error"]


# Scoring a batch --------------------------------------------------------------------
def test_batch_in_order_with_ids_and_styles(client, run_id):
    customers = [
        {**LOW, "customer_id": "c-low"},
        {**HIGH, **BEHAVIOUR, "customer_id": 17},
        HIGH,
    ]
    response = _post(client, {"run_id": run_id, "customers": customers})
    assert response.status_code == 200
    body = response.json
    assert body["run_id"] == run_id
    first, second, third = body["results"]
    assert (first["customer_id"], first["value_cluster"]) == ("c-low", 0)
    assert (second["customer_id"], second["value_cluster"]) == (17, 1)
    assert "customer_id" not in third and third["value_cluster"] == 1
    assert "purchase_style" in second and "purchase_style" not in first
    assert "purchase_style" not in third


def test_batch_of_every_tiny_customer_matches_the_run(client, tiny_seg):
    customers = tiny_seg.customers
    columns = [schema.CUSTOMER_ID, *schema.RFM_COLUMNS, *schema.BEHAVIOUR_COLUMNS]
    records = customers[columns].to_dict(orient="records")
    response = _post(client, {"customers": records})
    assert response.status_code == 200
    results = pd.DataFrame(response.json["results"])
    for column in (
        schema.CUSTOMER_ID,
        schema.VALUE_CLUSTER,
        schema.VALUE_TIER,
        schema.RFM_SEGMENT,
        schema.PURCHASE_STYLE,
        schema.STYLE_REASON,
    ):
        assert results[column].tolist() == customers[column].tolist(), column
    # The API knows no customer's own rhythm (no tenure): each is held to the
    # run's usual gap of 7 days. H1..H6 (2..7 days) stay Active (Stars), and
    # L1..L6 (300..350 days, > 4 x 7) are Lapsed (Gone quiet), though in the run
    # L4..L6 are Cooling by their own 100-day rhythm (Drifting).
    assert (
        customers[schema.PERSONA].tolist()
        == ["Stars"] * 6 + ["Gone quiet"] * 3 + ["Drifting"] * 3
    )
    assert results[schema.CUSTOMER_STATUS].tolist() == ["Active"] * 6 + ["Lapsed"] * 6
    assert results[schema.PERSONA].tolist() == ["Stars"] * 6 + ["Gone quiet"] * 6


def test_empty_batch(client):
    assert _post(client, {"customers": []}).json["results"] == []


def test_batch_over_the_record_limit(client):
    customers = [LOW] * (api.MAX_BATCH_RECORDS + 1)
    response = _post(client, {"customers": customers})
    assert response.status_code == 413
    assert "10,001 customers is over the limit of 10,000" in response.json["error"]


def test_body_over_the_byte_limit(client):
    padding = "x" * (api.MAX_BODY_BYTES + 1)
    response = _post(client, {**HIGH, "note": padding})
    assert response.status_code == 413 and "error" in response.json


def test_server_limit_is_respected(store, run_id):
    client = _client(store)
    client.application.config["MAX_CONTENT_LENGTH"] = 100
    response = _post(client, {**HIGH, "note": "x" * 200})
    assert response.status_code == 413


# Bad input: (body, status, fragment of the error) -----------------------------------
BAD = [
    ("{", 400, "not valid JSON"),
    ("", 400, "not valid JSON"),
    (b"\xff\xfe{", 400, "not valid JSON"),
    ("[1, 2]", 400, "must be a JSON object"),
    (
        '{"recency_days": NaN, "frequency": 1, "monetary": 1}',
        400,
        "NaN is not a number",
    ),
    ('{"recency_days": 1, "frequency": Infinity, "monetary": 1}', 400, "Infinity"),
    ('{"recency_days": 1, "frequency": 1, "monetary": -Infinity}', 400, "-Infinity"),
    ('{"recency_days": 1, "frequency": 1, "monetary": 1e400}', 400, "finite number"),
    ({"recency_days": 1, "frequency": 1}, 400, "missing field(s): monetary"),
    ({}, 400, "missing field(s): recency_days, frequency, monetary"),
    ({**HIGH, "monetary": "7000"}, 400, "monetary must be a number, got '7000'"),
    ({**HIGH, "frequency": True}, 400, "frequency must be a number, got True"),
    ({**HIGH, "frequency": None}, 400, "frequency must be a number, got None"),
    ({**HIGH, "recency_days": [5]}, 400, "recency_days must be a number"),
    ({**HIGH, "recency_days": -1}, 400, "recency_days must be >= 0, got -1"),
    ({**HIGH, "return_rate": 0.1}, 400, "give all behaviour fields or none; missing"),
    ({**HIGH, **BEHAVIOUR, "return_rate": -0.5}, 400, "return_rate must be >= 0"),
    (
        {**HIGH, **BEHAVIOUR, "order_value_cv": "9"},
        400,
        "order_value_cv must be a number, got '9'",
    ),
    (
        {**HIGH, "avg_line_quantity": 3.0, "return_rate": 0.0},
        400,
        "give all behaviour fields or none; missing: largest_order_ratio, "
        "order_value_cv",
    ),
    ({**HIGH, "run_id": 5}, 400, "run_id must be a string, got 5"),
    ({"customers": {"a": 1}}, 400, "customers must be a list of objects"),
    ({"customers": [HIGH, 3]}, 400, "customers[1] must be an object"),
    (
        {"customers": [HIGH, {**HIGH, "monetary": -2}]},
        400,
        "customers[1]: monetary must be >= 0, got -2",
    ),
    (
        {"customers": [{"frequency": 1}]},
        400,
        "customers[0]: missing field(s): recency_days, monetary",
    ),
    ({**HIGH, "customers": [HIGH]}, 400, "give either customers or one customer"),
]


@pytest.mark.parametrize(("body", "status", "fragment"), BAD)
def test_bad_input_is_a_json_error(client, body, status, fragment):
    response = _post(client, body, content_type="application/json")
    assert response.status_code == status
    assert response.is_json
    assert fragment in response.json["error"]


def test_fields_outside_the_api_are_ignored(client):
    # the features purchase style does not read are not API fields
    extra = {"max_line_quantity": "9", "distinct_products": None}
    response = _post(client, {**HIGH, **BEHAVIOUR, **extra})
    assert response.status_code == 200
    assert response.json == _post(client, {**HIGH, **BEHAVIOUR}).json


def test_form_content_type_is_read_as_json(client):
    # curl -d sends application/x-www-form-urlencoded unless told otherwise
    response = _post(client, HIGH, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.json["value_cluster"] == 1


# Real data --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def retail_run(retail_xlsx, tmp_path_factory):
    prepared = segmentation.prepare(retail_xlsx)
    seg = segmentation.segment(prepared, 4)
    store = RunStore(tmp_path_factory.mktemp("runs"))
    return store, store.save(prepared, seg, source="cli"), seg


@pytest.mark.realdata
def test_real_run_scores_top_and_bottom(retail_run):
    store, run_id, _ = retail_run
    client = _client(store)
    top = _post(client, {"recency_days": 5, "frequency": 15, "monetary": 25_000})
    assert top.status_code == 200
    assert (top.json["run_id"], top.json["value_cluster"]) == (run_id, 3)
    bottom = _post(client, {"recency_days": 250, "frequency": 1, "monetary": 400})
    assert bottom.json["value_cluster"] == 0
    summary = client.get(f"/api/runs/{run_id}/summary").json
    assert summary["k"] == 4
    assert (
        sum(c["customers"] for c in summary["value_clusters"]) == summary["customers"]
    )


@pytest.mark.realdata
def test_real_batch_reproduces_every_customer(retail_run):
    store, run_id, seg = retail_run
    customers = seg.customers
    columns = [schema.CUSTOMER_ID, *schema.RFM_COLUMNS, *schema.BEHAVIOUR_COLUMNS]
    records = customers.loc[:, list(dict.fromkeys(columns))]
    body = {"run_id": run_id, "customers": records.to_dict(orient="records")}
    response = _post(_client(store), body)
    assert response.status_code == 200
    results = pd.DataFrame(response.json["results"])
    assert len(results) == len(customers)
    for column in (
        schema.CUSTOMER_ID,
        schema.VALUE_CLUSTER,
        schema.PURCHASE_STYLE,
        schema.STYLE_REASON,
    ):
        assert results[column].tolist() == customers[column].tolist(), column
    # The API holds every customer to the usual gap of a one-order customer
    # (it is given no tenure), computed here by plain pandas as DESIGN 6 says:
    # the median first-to-last gap of the repeat customers, at least 7 days.
    repeat = customers[customers[schema.FREQUENCY] > 1]
    gaps = (repeat[schema.TENURE_DAYS] - repeat[schema.RECENCY_DAYS]) / (
        repeat[schema.FREQUENCY] - 1
    )
    gap = max(gaps.median(), 7.0)
    late = customers[schema.RECENCY_DAYS] / gap
    status = np.where(late <= 2, "Active", np.where(late <= 4, "Cooling", "Lapsed"))
    assert results[schema.CUSTOMER_STATUS].tolist() == status.tolist()
    # one-order customers have that gap in the run too: the same status
    one = (customers[schema.FREQUENCY] == 1).to_numpy()
    assert (status[one] == customers[schema.CUSTOMER_STATUS].to_numpy()[one]).all()
    # the persona is the run's persona of the customer's tier x that status
    names = seg.personas[schema.PERSONA].to_dict()
    tiers = customers[schema.VALUE_TIER].tolist()
    expected = [
        names.get((cluster, s), f"{tier} · {s}")
        for cluster, s, tier in zip(
            customers[schema.VALUE_CLUSTER], status, tiers, strict=True
        )
    ]
    assert results[schema.PERSONA].tolist() == expected
