"""The API's contract: /api/openapi.json and the answers that follow it.

The document validates, covers every /api route, and real answers (and the
engine's refusals) agree with it.
"""

from __future__ import annotations

import re

import jsonschema
import pytest
from openapi_spec_validator import validate

import segmentation
from app import create_app
from app.accounts import Accounts
from app.openapi import Customer, openapi_spec
from segmentation.runs import RunStore
from tests.test_migration import _csv
from tests.test_runs import tiny_prepared

HIGH = {"recency_days": 5, "frequency": 25, "monetary": 7_000}
BEHAVIOUR = {
    "avg_line_quantity": 3.0,
    "return_rate": 0.0,
    "largest_order_ratio": 1.2,
    "order_value_cv": 0.2,
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app with alice, her key, her tiny run and a run with a migration."""
    folder = tmp_path_factory.mktemp("openapi")
    accounts = Accounts(directory=folder)
    accounts.add_user("alice", "alice's long password")
    key = accounts.create_key("alice")[1]
    store = RunStore(folder)
    seg = segmentation.segment(tiny_prepared(), 2, seed=0, anomaly_share=0.1)
    tiny = store.save(tiny_prepared(), seg, source="app", owner="alice")
    six = segmentation.prepare(
        _csv(), filename="six.csv", diagnostics=False, compare_days=30
    )
    moved = store.save(
        six,
        segmentation.segment(six, 2, seed=0, anomaly_share=0.2),
        source="cli",
        owner="alice",
    )
    app = create_app(folder)
    return {"app": app, "key": key, "tiny": tiny, "moved": moved}


@pytest.fixture(scope="module")
def spec(served):
    response = served["app"].server.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json


def test_the_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    validate(spec)  # raises on any error
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key of python -m app keys create NAME.",
    }


def test_every_api_route_is_in_the_document(served, spec):
    routes: dict[str, set[str]] = {}
    for rule in served["app"].server.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            methods = rule.methods - {"HEAD", "OPTIONS"}
            routes.setdefault(path, set()).update(m.lower() for m in methods)
    documented = {path: set(ops) for path, ops in spec["paths"].items()}
    assert documented == routes
    # health, runs, run, summary, migration, share, segment, 2 docs
    assert len(routes) == 9


def test_open_operations_need_no_key(spec):
    open_ = sorted(
        path
        for path, ops in spec["paths"].items()
        for op in ops.values()
        if op.get("security") == []
    )
    assert open_ == ["/api/docs", "/api/health", "/api/openapi.json"]


def test_the_docs_page_lists_every_operation(served, spec):
    page = served["app"].server.test_client().get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    for path, ops in spec["paths"].items():
        for op in ops.values():
            assert f"id='{op['operationId']}'" in text
        assert f"<code>{path}</code>" in text
    # self-contained: no script, nothing fetched from elsewhere (works offline)
    assert "<script" not in text
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", text)


# Real answers against the schemas ---------------------------------------------------
def check(spec: dict, answer, path: str, method: str = "get") -> None:
    """Validate an answer's JSON against the document's schema for its status."""
    responses = spec["paths"][path][method]["responses"]
    assert str(answer.status_code) in responses, answer.status_code
    schema = responses[str(answer.status_code)]["content"]["application/json"]
    jsonschema.validate(
        answer.json,
        {**schema["schema"], "components": spec["components"]},
        cls=jsonschema.Draft202012Validator,
    )


def test_answers_follow_the_document(served, spec):
    client = served["app"].server.test_client()
    key = {"Authorization": f"Bearer {served['key']}"}
    tiny, moved = served["tiny"], served["moved"]
    calls = [
        ("/api/health", "/api/health", None, 200),
        ("/api/runs", "/api/runs", None, 200),
        ("/api/runs?limit=0", "/api/runs", None, 400),
        (f"/api/runs/{tiny}", "/api/runs/{run_id}", None, 200),
        (f"/api/runs/{tiny}/summary", "/api/runs/{run_id}/summary", None, 200),
        (f"/api/runs/{moved}/migration", "/api/runs/{run_id}/migration", None, 200),
        (f"/api/runs/{tiny}/migration", "/api/runs/{run_id}/migration", None, 404),
        ("/api/segment", "/api/segment", {**HIGH, "run_id": tiny}, 200),
        ("/api/segment", "/api/segment", {**HIGH, **BEHAVIOUR, "run_id": tiny}, 200),
        ("/api/segment", "/api/segment", {"customers": [HIGH, HIGH]}, 200),
        ("/api/segment", "/api/segment", {"customers": [{"frequency": 1}]}, 400),
    ]
    for url, path, body, status in calls:
        if body is None:
            answer = client.get(url, headers=key)
            check(spec, answer, path)
        else:
            answer = client.post(url, json=body, headers=key)
            check(spec, answer, path, "post")
        assert answer.status_code == status, (url, answer.json)
    unauthorized = client.get("/api/runs")
    check(spec, unauthorized, "/api/runs")
    assert unauthorized.status_code == 401


# The models that check requests: what they refuse, the engine refuses -----------------
REFUSED = [
    ({**HIGH, "monetary": "7000"}, "monetary"),
    ({**HIGH, "frequency": True}, "frequency"),
    ({**HIGH, "recency_days": -1}, "recency_days"),
    ({**HIGH, "monetary": float("inf")}, "monetary"),
    ({"recency_days": 1, "frequency": 1}, "monetary"),
    ({**HIGH, "return_rate": 0.1}, "give all behaviour fields or none"),
    ({**HIGH, **BEHAVIOUR, "return_rate": None}, "return_rate must be a number"),
    ({**HIGH, "tenure_days": None}, "tenure_days must be a number"),
]


@pytest.mark.parametrize(("body", "fragment"), REFUSED)
def test_the_customer_model_refuses_what_the_engine_refuses(body, fragment):
    from pydantic import ValidationError

    from segmentation.errors import SegmentationError
    from segmentation.scoring import validate_customers

    with pytest.raises(ValidationError, match=fragment):
        Customer.model_validate(body)
    with pytest.raises(SegmentationError):
        validate_customers([body], where=None)


def test_the_customer_schema_says_the_same(spec):
    schema = {**spec["components"]["schemas"]["Customer"], "components": {}}
    validator = jsonschema.Draft202012Validator(schema)
    for body, _ in REFUSED:
        if body.get("monetary") == float("inf"):
            continue  # JSON has no infinity: the body would not parse
        assert not validator.is_valid(body), body
    assert validator.is_valid({**HIGH, **BEHAVIOUR, "tenure_days": 30, "x": "y"})


def test_the_document_is_the_models():
    # made twice, the same: nothing in it depends on a request
    assert openapi_spec() == openapi_spec()
    schema = openapi_spec()["components"]["schemas"]["Customer"]
    assert schema["required"] == ["recency_days", "frequency", "monetary"]
