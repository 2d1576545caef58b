"""The API's contract: request and answer shapes, ``/api/openapi.json``, ``/api/docs``.

The pydantic models below are what :mod:`app.api` validates request bodies and
query parameters with, and :func:`openapi_spec` writes their JSON Schema
(draft 2020-12, the dialect of OpenAPI 3.1) into the contract, so the two
cannot drift apart. Answers are described by models too; the tests check
real answers against them.

``GET /api/openapi.json``
    The OpenAPI 3.1 document (every ``/api`` route; security scheme ``bearer``:
    ``Authorization: Bearer KEY``, see :mod:`app.auth`).
``GET /api/docs``
    A self-contained HTML page listing each operation, its parameters, body
    and answers, made from the same document (no script, no CDN: the app works
    offline).
"""

from __future__ import annotations

import html
import json
from typing import Any, Literal

import flask
from pydantic import BaseModel, ConfigDict, Field, model_validator

import segmentation
from segmentation.scoring import BEHAVIOUR_FIELDS, LIFETIME_FIELDS

#: Must match app.api's limits (imported there from here).
MAX_BATCH_RECORDS = 10_000
MAX_LIST = 200
RUN_ID_DESCRIPTION = (
    "A saved run's id, e.g. 20240101T120000-1a2b3c4d-k4 (GET /api/runs lists them)."
)


class _Open(BaseModel):
    """Answers may gain fields; clients ignore the ones they do not know."""

    model_config = ConfigDict(extra="allow")


class Error(BaseModel):
    """Every error answer."""

    error: str = Field(description="What went wrong, in words.")


class Health(BaseModel):
    """The server is up."""

    status: Literal["ok"]
    version: str = Field(description="The segmentation engine's version.")


class RunRow(BaseModel):
    """One saved run as listed."""

    id: str
    file: str | None = Field(description="The uploaded file's name.")
    created: str = Field(description="When it was saved (ISO 8601, UTC).")
    k: int | None = Field(description="Value tiers.")
    customers: int | None
    damaged: str | None = Field(
        None,
        description="Present only when the run's files are missing or unusable: "
        "why. Its other fields are then null when unknown.",
    )


class RunForm(BaseModel):
    """The form of POST /api/runs (multipart/form-data)."""

    file: bytes = Field(description="The export (.csv, .xlsx, .xls, .parquet...).")
    k: int = Field(3, ge=2, le=10, description="Value tiers.")
    method: Literal["kmeans", "gmm", "ward", "hdbscan"] = Field(
        "kmeans", description="The clustering of the value tiers."
    )
    as_of: str | None = Field(
        None,
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        description="Reference date YYYY-MM-DD; default the day after the last "
        "invoice.",
    )
    mapping: str | None = Field(
        None,
        description="A JSON object: canonical column -> the file's header.",
    )


class RunStatus(BaseModel):
    """A run of ``POST /api/runs``: queued, running, failed (why) or done."""

    run_id: str = Field(description="The job's id, as POST /api/runs answered.")
    status: Literal["queued", "running", "done", "failed"]
    status_url: str | None = Field(None, description="Where to ask for the status.")
    message: str | None = Field(None, description="Why it failed (failed only).")


class RunList(BaseModel):
    """Saved runs, newest first (only the caller's own when accounts exist)."""

    runs: list[RunRow]


class ShareLink(BaseModel):
    """A new read-only share link of a run (shown once)."""

    run_id: str
    token: str = Field(
        description="43 URL-safe characters; only its SHA-256 is kept, so it "
        "cannot be read again."
    )
    url: str = Field(
        description="The link: /shared/<token>, the run's report and customers "
        "for any logged-in user who has it (anyone, on a server without log-in)."
    )


class SharesRevoked(BaseModel):
    """The share links of a run were revoked."""

    run_id: str
    revoked: int = Field(ge=0, description="How many links were open.")


class RunsQuery(BaseModel):
    """Query of ``GET /api/runs``."""

    limit: int = Field(20, ge=1, le=MAX_LIST, description="Most runs listed.")


class ValueCluster(_Open):
    """One value cluster of a run, with its medians."""

    value_cluster: int
    value_tier: str
    customers: int
    revenue_share: float | None = Field(description="0..1 of all revenue.")
    median_recency_days: float | None
    median_frequency: float | None
    median_monetary: float | None


class Persona(_Open):
    """One value tier × status group of a run."""

    value_cluster: int
    status: str
    value_tier: str
    persona: str
    customers: int
    revenue_share: float | None


class GridCell(_Open):
    """One non-empty value × purchase-style cell of a run."""

    customers: int
    grid_label: str


class RunSummary(BaseModel):
    """A saved run's value clusters, personas and value × style cells."""

    run_id: str
    file: str
    created: str
    as_of: str | None
    k: int
    method: str
    customers: int
    value_clusters: list[ValueCluster]
    personas: list[Persona]
    grid: list[GridCell]


class Move(_Open):
    """Customers (and their revenue) that moved from one tier or status to another."""

    customers: int
    revenue: float | None


class RunMigration(_Open):
    """Tiers and statuses ``days`` before the run's as-of date, and the moves."""

    run_id: str
    days: int
    as_of: str
    compared_as_of: str
    customers: int
    moves: list[Move]
    status_moves: list[Move]


def _number(description: str, default: Any = ...) -> Any:
    """Return a field: a finite JSON number >= 0 (not a string or boolean)."""
    return Field(
        default, description=description, ge=0, allow_inf_nan=False, strict=True
    )


#: The behaviour fields: all of them or none (a purchase style needs all four).
BEHAVIOUR = BEHAVIOUR_FIELDS
#: Optional numbers: absent, or a number (``null`` is refused, as by the engine).
OPTIONAL_NUMBERS = (*BEHAVIOUR_FIELDS, *LIFETIME_FIELDS)


def _customer_schema(found: dict) -> None:
    """Write the rules pydantic's types do not say into Customer's JSON Schema."""
    properties = found["properties"]
    for name in OPTIONAL_NUMBERS:
        field = properties[name]
        number = next(s for s in field.pop("anyOf") if s.get("type") == "number")
        field.pop("default", None)
        field.update(number)
    found["dependentRequired"] = {
        name: [other for other in BEHAVIOUR if other != name] for name in BEHAVIOUR
    }


class Customer(BaseModel):
    """One new customer's numbers (units as in the run's file).

    The behaviour fields go all together or not at all; other fields are ignored.
    """

    model_config = ConfigDict(extra="allow", json_schema_extra=_customer_schema)

    @model_validator(mode="before")
    @classmethod
    def _all_or_none(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [name for name in BEHAVIOUR if name in data]
            if given and len(given) < len(BEHAVIOUR):
                missing = [name for name in BEHAVIOUR if name not in data]
                raise ValueError(
                    "give all behaviour fields or none; missing: " + ", ".join(missing)
                )
            for name in OPTIONAL_NUMBERS:
                if name in data and data[name] is None:
                    raise ValueError(f"{name} must be a number, got None")
        return data

    customer_id: Any = Field(None, description="Echoed back as given.")
    recency_days: float = _number("Days since the last order.")
    frequency: float = _number("Orders.")
    monetary: float = _number("Total spent (the file's currency).")
    avg_line_quantity: float | None = _number("Items per order line.", None)
    return_rate: float | None = _number("Share of items returned.", None)
    largest_order_ratio: float | None = _number(
        "Largest order / the median order.", None
    )
    order_value_cv: float | None = _number(
        "Coefficient of variation of order values.", None
    )
    tenure_days: float | None = _number(
        "Days since the first order (>= recency_days); adds the lifetime fields "
        "when the run fitted them.",
        None,
    )


class ScoreOne(Customer):
    """Score one customer with a saved run (the caller's newest when omitted)."""

    run_id: str | None = Field(None, description=RUN_ID_DESCRIPTION)


class ScoreBatch(BaseModel):
    """Score many customers at once, in order."""

    model_config = ConfigDict(extra="allow")

    run_id: str | None = Field(None, description=RUN_ID_DESCRIPTION)
    customers: list[Customer] = Field(max_length=MAX_BATCH_RECORDS)


class Scored(_Open):
    """A customer's segment.

    Also ``purchase_style`` and ``style_reason`` when the behaviour fields were
    given, and the lifetime fields (``p_alive``, ``expected_orders_90d``,
    ``expected_spend_per_order``, ``clv_365d``) when the run fitted them.
    """

    customer_id: Any = None
    value_cluster: int
    value_tier: str
    status: str
    persona: str
    r_score: int
    f_score: int
    m_score: int
    rfm_segment: str


class ScoredOne(Scored):
    """One customer's segment, with the run that scored it."""

    run_id: str


class ScoredBatch(BaseModel):
    """Each customer's segment, in the order given."""

    run_id: str
    results: list[Scored]


# The document -----------------------------------------------------------------------
_ERRORS = {
    400: "Bad JSON or a bad field (the message names it).",
    401: "No valid API key (or session) while accounts exist.",
    404: "No such run among the caller's runs.",
    409: "The run is damaged (the message says what).",
    413: f"Body over 4 MiB, or more than {MAX_BATCH_RECORDS:,} customers "
    "(POST /api/runs: a file over the upload limit).",
    429: "Over the key's rate limit; see Retry-After.",
}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _answer(model: type[BaseModel] | None, description: str) -> dict:
    answer: dict = {"description": description}
    if model is not None:
        answer["content"] = {"application/json": {"schema": _ref(model)}}
    return answer


def _operation(
    summary: str,
    ok: type[BaseModel] | None,
    errors: tuple[int, ...],
    *,
    secured: bool = True,
    run_id: bool = False,
    operation_id: str,
    ok_description: str = "OK",
    ok_content: dict | None = None,
) -> dict:
    operation: dict = {"operationId": operation_id, "summary": summary}
    if run_id:
        operation["parameters"] = [
            {
                "name": "run_id",
                "in": "path",
                "required": True,
                "description": RUN_ID_DESCRIPTION,
                "schema": {"type": "string"},
            }
        ]
    responses = {"200": _answer(ok, ok_description)}
    if ok_content is not None:
        responses["200"]["content"] = ok_content
    codes = (*errors, 401, 429) if secured else errors
    for code in sorted(set(codes)):
        responses[str(code)] = _answer(Error, _ERRORS[code])
    operation["responses"] = responses
    if not secured:
        operation["security"] = []
    return operation


_MODELS = (
    Error,
    Health,
    RunForm,
    RunStatus,
    RunRow,
    RunList,
    RunSummary,
    RunMigration,
    ShareLink,
    SharesRevoked,
    Customer,
    ScoreOne,
    ScoreBatch,
    Scored,
    ScoredOne,
    ScoredBatch,
)


def _components() -> dict:
    schemas: dict = {}
    for model in _MODELS:
        found = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(found.pop("$defs", {}))
        schemas[model.__name__] = found
    return schemas


def openapi_spec(server_url: str | None = None) -> dict:
    """Return the OpenAPI 3.1 document of the ``/api`` routes.

    Parameters
    ----------
    server_url : str, optional
        The server's root URL (``servers[0].url``); default relative ``/``.

    Returns
    -------
    dict
        JSON-ready; schemas in ``components.schemas`` from the pydantic models.
    """
    limit = RunsQuery.model_json_schema()["properties"]["limit"]
    limit.pop("title", None)
    started = _operation(
        "Run a file on a worker; ask GET status_url until done or failed",
        RunStatus,
        (400, 413),
        operation_id="startRun",
        ok_description="Accepted: queued",
    )
    started["responses"]["202"] = started["responses"].pop("200")
    started["requestBody"] = {
        "required": True,
        "content": {"multipart/form-data": {"schema": _ref(RunForm)}},
    }
    shared = _operation(
        "Make a read-only share link of a run (the token is shown once)",
        ShareLink,
        (404, 409),
        run_id=True,
        operation_id="shareRun",
        ok_description="Created",
    )
    shared["responses"]["201"] = shared["responses"].pop("200")
    paths = {
        "/api/health": {
            "get": _operation(
                "Is the server up?", Health, (), secured=False, operation_id="health"
            )
        },
        "/api/runs": {
            "get": {
                **_operation(
                    "Saved runs, newest first",
                    RunList,
                    (400,),
                    operation_id="listRuns",
                ),
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "description": limit.pop("description"),
                        "schema": limit,
                    }
                ],
            },
            "post": started,
        },
        "/api/runs/{run_id}": {
            "get": _operation(
                "One saved run as listed, or the status of a run of POST /api/runs",
                None,
                (404, 409),
                run_id=True,
                operation_id="getRun",
                ok_content=_json({"anyOf": [_ref(RunRow), _ref(RunStatus)]}),
            )
        },
        "/api/runs/{run_id}/summary": {
            "get": _operation(
                "A run's value clusters, personas and value × style cells",
                RunSummary,
                (404, 409),
                run_id=True,
                operation_id="getRunSummary",
            )
        },
        "/api/runs/{run_id}/migration": {
            "get": _operation(
                "How customers moved between tiers and statuses",
                RunMigration,
                (404, 409),
                run_id=True,
                operation_id="getRunMigration",
            )
        },
        "/api/runs/{run_id}/share": {
            "post": shared,
            "delete": _operation(
                "Revoke every share link of a run (a revoked link answers 410)",
                SharesRevoked,
                (404, 409),
                run_id=True,
                operation_id="revokeShareLinks",
            ),
        },
        "/api/segment": {
            "post": {
                **_operation(
                    "Score one customer, or a batch, with a saved run",
                    None,
                    (400, 404, 409, 413),
                    operation_id="segment",
                    ok_description="The customer's (or each customer's) segment.",
                    ok_content={
                        "application/json": {
                            "schema": {"anyOf": [_ref(ScoredOne), _ref(ScoredBatch)]}
                        }
                    },
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"anyOf": [_ref(ScoreOne), _ref(ScoreBatch)]}
                        }
                    },
                },
            }
        },
        "/api/openapi.json": {
            "get": _operation(
                "This document",
                None,
                (),
                secured=False,
                operation_id="openapi",
                ok_content={"application/json": {"schema": {"type": "object"}}},
            )
        },
        "/api/docs": {
            "get": _operation(
                "This document as a web page",
                None,
                (),
                secured=False,
                operation_id="docs",
                ok_content={"text/html": {"schema": {"type": "string"}}},
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Customer Segmentation Studio API",
            "version": segmentation.__version__,
            "description": (
                "Saved segmentation runs and scoring of new customers. When "
                "accounts exist, send an API key (python -m app keys create NAME) "
                "as 'Authorization: Bearer KEY'; a key sees only its user's runs."
            ),
        },
        "servers": [{"url": server_url or "/"}],
        "paths": paths,
        "components": {
            "schemas": _components(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key of python -m app keys create NAME.",
                }
            },
        },
        "security": [{"bearer": []}],
    }


def docs_page(spec: dict) -> str:
    """Return an HTML page listing the operations of an OpenAPI document."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(spec['info']['title'])}</title><style>",
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#1d2430}code,pre{background:#f3f4f6;padding:.1rem"
        " .3rem}pre{padding:.6rem;overflow-x:auto;font-size:.85rem}"
        "section{border-top:1px solid #d8dce2;padding:.5rem 0}"
        ".m{font-weight:700;text-transform:uppercase;margin-right:.5rem}"
        "</style></head><body>",
        f"<h1>{esc(spec['info']['title'])} <small>{esc(spec['info']['version'])}"
        "</small></h1>",
        f"<p>{esc(spec['info']['description'])}</p>",
        "<p>The machine-readable contract: <a href='/api/openapi.json'>"
        "/api/openapi.json</a> (OpenAPI 3.1).</p>",
    ]
    schemas = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            open_ = op.get("security") == []
            parts.append(
                f"<section id='{esc(op['operationId'])}'><h2><span class='m'>"
                f"{esc(method)}</span><code>{esc(path)}</code></h2>"
                f"<p>{esc(op['summary'])}"
                f"{' (no key needed)' if open_ else ''}</p>"
            )
            for param in op.get("parameters", []):
                parts.append(
                    f"<p>Parameter <code>{esc(param['name'])}</code> "
                    f"({esc(param['in'])}): {esc(param.get('description', ''))}</p>"
                )
            body = op.get("requestBody")
            if body:
                kind, content = next(iter(body["content"].items()))
                shape = content["schema"]
                parts.append(f"<p>Body ({esc(kind)}), one of:</p>")
                for ref in shape.get("anyOf", [shape]):
                    name = ref["$ref"].rsplit("/", 1)[-1]
                    parts.append(
                        f"<details><summary>{esc(name)}</summary><pre>"
                        f"{esc(json.dumps(schemas[name], indent=2))}</pre></details>"
                    )
            answers = ", ".join(
                f"{code} {answer['description']}"
                for code, answer in op["responses"].items()
            )
            parts.append(f"<p>Answers: {esc(answers)}</p></section>")
    parts.append("</body></html>")
    return "".join(parts)


def register_openapi(blueprint: flask.Blueprint) -> None:
    """Add ``GET /openapi.json`` and ``GET /docs`` to the API's blueprint."""

    @blueprint.get("/openapi.json")
    def openapi_json():
        return flask.jsonify(openapi_spec())

    @blueprint.get("/docs")
    def docs():
        return docs_page(openapi_spec()), 200, {"Content-Type": "text/html"}
