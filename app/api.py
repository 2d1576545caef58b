"""The JSON API under ``/api``: health, saved runs, and scoring customers.

Routes (all answers are JSON; errors are ``{"error": "message"}``):

``GET /api/health``
    ``{"status": "ok", "version": ...}``.
``GET /api/runs?limit=20``
    Recent saved runs, newest first: id, file, created, k, customers. A damaged
    run (its ``report.json`` or ``model.pkl`` missing or unusable) is listed
    with ``damaged``: the reason in words (and None for what it cannot say).
``GET /api/runs/<run_id>``
    One run's row as listed (404 unknown, 409 damaged).
``GET /api/runs/<run_id>/summary``
    Value clusters and value × style cells of a run (404 unknown, 409 damaged).
``GET /api/runs/<run_id>/migration``
    The run report's ``migration`` with ``run_id``: tiers and statuses at
    ``as_of - N days`` and the moves (:func:`segmentation.migration.migrate`;
    404 unknown, or a run made without a migration, with how to make one; 409
    damaged).
``POST /api/runs/<run_id>/share``
    A new read-only share link of one of the key's (or session's) runs: 201
    with ``{"run_id", "token", "url"}``; the token is shown once (only its
    SHA-256 is kept). ``url`` (``/shared/<token>``, :mod:`app.shared`) opens
    the run's report and customers for any logged-in user who has it (anyone,
    on a server without log-in). 404 for an unknown run or another user's.
``DELETE /api/runs/<run_id>/share``
    Revokes every share link of the run: ``{"run_id", "revoked": N}`` (the
    links that were open); a revoked link answers 410.
``GET /api/openapi.json``, ``GET /api/docs``
    The contract (OpenAPI 3.1) and its page (:mod:`app.openapi`).
``POST /api/segment``
    One customer ``{"run_id"?, "recency_days", "frequency", "monetary", ...}``
    or a batch ``{"run_id"?, "customers": [{...}, ...]}`` scored with a saved
    run's models (the newest run that is not damaged when ``run_id`` is left
    out). Behaviour fields (``schema.BEHAVIOUR_COLUMNS``), all or none, add
    ``purchase_style`` and ``style_reason``; a ``customer_id`` is echoed back.
    The fields are checked by :func:`segmentation.scoring.validate_customers`
    (a batch record is named ``customers[i]`` in messages).

Who sees what: when accounts exist (:mod:`app.auth`), a request carries a
session or an API key of a user, and sees that user's runs only: another
user's run answers 404 as an unknown one does, and ``POST /api/segment``
without ``run_id`` takes the user's newest run. On an anonymous server
(``SEGMENTATION_ALLOW_ANONYMOUS=1``) each browser (cookie) sees its own runs.
In the local workspace (loopback, no accounts) every run is seen, as before.

Request bodies and parameters are checked by the pydantic models of
:mod:`app.openapi` (after the hand-written checks whose messages name the
field and the value), the same models the contract is written from.

Status codes: 400 bad JSON or field (missing, not a number, negative, NaN or
infinite); 404 unknown run or no run saved; 405 wrong method; 409 a damaged
run (the message says what is damaged); 413 body over
:data:`MAX_BODY_BYTES` or more than :data:`MAX_BATCH_RECORDS` customers.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable

import flask
import pandas as pd
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

import segmentation
from app import api_runs, openapi
from app.auth import may_see, workspace
from app.openapi import MAX_BATCH_RECORDS, MAX_LIST
from app.shared import register_shared, share_url
from segmentation import schema
from segmentation.errors import SegmentationError
from segmentation.reports import json_scalar
from segmentation.runs import DamagedRunError, RunNotFoundError, RunStore
from segmentation.scoring import REQUIRED_FIELDS, validate_customers

#: Largest request body read by the API, in bytes (a full batch fits).
MAX_BODY_BYTES = 4 * 1024 * 1024
#: Most customers scored in one batch request: :data:`app.openapi.MAX_BATCH_RECORDS`.
#: Most runs listed by ``GET /api/runs``: :data:`app.openapi.MAX_LIST`.
__all__ = ["MAX_BATCH_RECORDS", "MAX_BODY_BYTES", "MAX_LIST", "register_api"]
_LIST_KEYS = ("id", "file", "created", "k", "customers")


class ApiError(HTTPException):
    """An HTTP error whose description is the JSON ``error`` message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(description=message)
        self.code = code


def _json_error(error: HTTPException) -> flask.Response:
    response = flask.jsonify(error=error.description)
    response.status_code = error.code or 500
    return response


def _internal_error(error: Exception) -> flask.Response:
    flask.current_app.logger.exception("API error", exc_info=error)
    return _json_error(ApiError(500, f"internal error ({type(error).__name__})"))


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number in JSON")


def _body() -> dict:
    """Return the request body as a JSON object (413 / 400 otherwise)."""
    limit = flask.current_app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY_BYTES
    flask.request.max_content_length = min(limit, MAX_BODY_BYTES)
    raw = flask.request.get_data(cache=False)
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise ApiError(400, f"the body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def _results(seg, records: list[dict], checked: pd.DataFrame) -> list[dict]:
    """Score checked records; echo each ``customer_id``; style only where given."""
    results = []
    scored = segmentation.score(seg, checked).to_dict(orient="records")
    for record, row in zip(records, scored, strict=True):
        result = {k: json_scalar(v) for k, v in row.items()}
        if result.get(schema.PURCHASE_STYLE) is None:  # no behaviour fields given
            result.pop(schema.PURCHASE_STYLE, None)
            result.pop(schema.STYLE_REASON, None)
        if schema.CUSTOMER_ID in record:
            result = {schema.CUSTOMER_ID: record[schema.CUSTOMER_ID], **result}
        results.append(result)
    return results


def register_api(
    server: flask.Flask, store_factory: Callable[[], RunStore] = RunStore
) -> flask.Flask:
    """Add the ``/api`` routes to a Flask server (e.g. ``dash_app.server``).

    Parameters
    ----------
    server : flask.Flask
        The server to extend; its other routes and error pages are untouched
        (404 and 405 answers become JSON only under ``/api/``).
    store_factory : callable, default RunStore
        Returns the run store; called once, on the first request that needs it.

    Returns
    -------
    flask.Flask
        ``server``, for chaining.
    """
    api = flask.Blueprint("segmentation_api", __name__, url_prefix="/api")
    stores: list[RunStore] = []
    lock = threading.Lock()

    def store() -> RunStore:
        with lock:
            if not stores:
                stores.append(store_factory())
            return stores[0]

    @api.get("/health")
    def health():
        return {"status": "ok", "version": segmentation.__version__}

    @api.get("/runs")
    def runs():
        text = flask.request.args.get("limit", "20")
        if not re.fullmatch(r"[0-9]{1,4}", text) or not 1 <= int(text) <= MAX_LIST:
            raise ApiError(400, f"limit must be a whole number 1..{MAX_LIST}")
        limit = _checked(openapi.RunsQuery, {"limit": int(text)}).limit
        every = store().list(limit=store().max_runs + MAX_LIST)
        listed = [run for run in every if may_see(run.get("owner"))][:limit]
        return {"runs": [_listed(run) for run in listed]}

    @api.get("/runs/<run_id>")
    def run(run_id: str):
        if api_runs.is_job_id(run_id):  # a run of POST /api/runs (app.api_runs)
            job = api_runs.job_answer(
                store().root, run_id, lambda i: _listed(_own_entry(store(), i))
            )
            if job is None:
                raise RunNotFoundError(f"no run {run_id!r}", run_id=run_id)
            return job
        return _listed(_own_entry(store(), run_id))

    def saved(run_id: str) -> str:
        """Return the saved run a job id of POST /api/runs stands for (else run_id)."""
        if api_runs.is_job_id(run_id):
            return api_runs.saved_run_id(store().root, run_id)
        return run_id

    @api.get("/runs/<run_id>/summary")
    def summary(run_id: str):
        run_id = saved(run_id)
        _own_entry(store(), run_id)
        return store().summary(run_id)

    @api.get("/runs/<run_id>/migration")
    def migration(run_id: str):
        run_id = saved(run_id)
        _own_entry(store(), run_id)  # 404 unknown, 409 damaged (files checked now)
        moves = store().load(run_id).metadata.get("migration")
        if moves is None:
            raise ApiError(
                404,
                f"saved run {run_id} has no migration: it was made without "
                "comparing dates; run it again with --compare-days N (the command "
                "line) to have one",
            )
        return {"run_id": run_id, **moves}

    @api.post("/segment")
    def segment():
        body = _body()
        run_id = body.get("run_id")
        if run_id is None:
            run_id = _latest_own(store())
            if run_id is None:
                raise ApiError(404, "no saved run yet: save one, then score")
        elif not isinstance(run_id, str):
            raise ApiError(400, f"run_id must be a string, got {run_id!r}")
        else:
            run_id = saved(run_id)
            _own_entry(store(), run_id)
        if "customers" in body:
            return _batch(store(), run_id, body)
        checked = validate_customers([body], where=None)
        _checked(openapi.ScoreOne, body)
        seg = store().load(run_id).segmentation
        return {"run_id": run_id, **_results(seg, [body], checked)[0]}

    @api.post("/runs/<run_id>/share")
    def share(run_id: str):
        run_id = saved(run_id)
        _own_entry(store(), run_id)
        token = store().share(run_id, by=workspace())
        answer = {
            "run_id": run_id,
            "token": token,
            "url": share_url(token, flask.request.host_url),
        }
        openapi.ShareLink.model_validate(answer)
        return answer, 201

    @api.delete("/runs/<run_id>/share")
    def unshare(run_id: str):
        run_id = saved(run_id)
        _own_entry(store(), run_id)
        return {"run_id": run_id, "revoked": store().revoke_shares(run_id)}

    api_runs.register_api_runs(api, lambda: store().root)
    openapi.register_openapi(api)
    api.register_error_handler(HTTPException, _json_error)
    api.register_error_handler(
        RunNotFoundError, lambda e: _json_error(ApiError(404, str(e)))
    )
    api.register_error_handler(
        DamagedRunError, lambda e: _json_error(ApiError(409, str(e)))
    )
    api.register_error_handler(
        SegmentationError, lambda e: _json_error(ApiError(400, str(e)))
    )
    api.register_error_handler(Exception, _internal_error)
    server.register_blueprint(api)
    register_shared(server, store)
    for error in (NotFound, MethodNotAllowed):
        _json_under_api(server, error)
    return server


def _checked(model, data: dict):
    """Validate ``data`` with a model of :mod:`app.openapi` (400 naming the field)."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        raise ApiError(400, f"{where}: {first['msg']}") from None


def _own_entry(store: RunStore, run_id: str) -> dict:
    """Return a run's row if this request may see it; else 404 as for no run.

    A damaged run whose owner cannot be read is nobody's when accounts exist.
    """
    try:
        entry = store.entry(run_id)
    except DamagedRunError:
        rows = [e for e in store.list(store.max_runs + MAX_LIST) if e["id"] == run_id]
        if rows and may_see(rows[0].get("owner")):
            raise
        raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id) from None
    if not may_see(entry.get("owner")):
        raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
    return entry


def _latest_own(store: RunStore) -> str | None:
    """Return the newest run this request may see that is not damaged, or None."""
    for entry in store.list(store.max_runs + MAX_LIST):
        if not entry.get("damaged") and may_see(entry.get("owner")):
            return entry["id"]
    return None


def _listed(run: dict) -> dict:
    """Return a run's row as the API lists it (``damaged`` only when it is)."""
    row = {k: run[k] for k in _LIST_KEYS}
    if run.get("damaged"):
        row["damaged"] = run["damaged"]
    return row


def _batch(store: RunStore, run_id: str, body: dict) -> dict:
    customers = body["customers"]
    if not isinstance(customers, list):
        raise ApiError(400, "customers must be a list of objects")
    if len(customers) > MAX_BATCH_RECORDS:
        raise ApiError(
            413,
            f"{len(customers):,} customers is over the limit of "
            f"{MAX_BATCH_RECORDS:,} per request",
        )
    stray = [f for f in REQUIRED_FIELDS if f in body]
    if stray:
        raise ApiError(400, "give either customers or one customer's fields, not both")
    checked = validate_customers(customers, where="customers")
    _checked(openapi.ScoreBatch, body)
    seg = store.load(run_id).segmentation
    return {"run_id": run_id, "results": _results(seg, customers, checked)}


def _json_under_api(server: flask.Flask, error: type[HTTPException]) -> None:
    """JSON for routing errors under /api/; other paths keep their own pages."""
    previous = server.error_handler_spec[None][error.code].get(error)

    def handle(e: HTTPException):
        if flask.request.path.startswith("/api/"):
            return _json_error(e)
        return previous(e) if previous else e

    server.register_error_handler(error, handle)
