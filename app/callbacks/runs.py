"""Saved runs: save the current segmentation (once), list recent runs, reopen one.

Saving goes through :class:`segmentation.runs.RunStore` in the app's data folder
(the JSON API reads the same folder). The same data and settings are saved only
once: a second save answers with the existing run id. A run belongs to the
workspace that saved it (:func:`app.auth.workspace`: the logged-in user, or an
anonymous browser's private workspace), and only it lists, reopens and shares
the run; in the local workspace (no accounts, on loopback) every run is seen.

Share links: each listed run has "Share link", which makes a new read-only
link (``/shared/<token>``, :mod:`app.shared`) and shows it once, and "Revoke
links", which revokes every link of the run.
Downloading the CSV never saves a run: only "Save run" does. Reopening puts the
run's PreparedData and Segmentation in the app's store, so the
panels show it even when the uploaded bytes are gone or the server restarted.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import flask
from dash import ALL, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from app import ids, ownership, storage
from app.auth import login_is_required, may_see, workspace
from app.callbacks.common import current_prepared, current_segmentation
from app.components.runs import LISTED_RUNS, runs_list, scoring_hint
from segmentation.errors import RunNotFoundError, SegmentationError

#: Pattern ids of each listed run's "Share link" and "Revoke links" buttons.
SHARE_TYPE = "run-share"
UNSHARE_TYPE = "run-unshare"


def run_share(run_id) -> dict:
    """Return the id of a listed run's "Share link" button."""
    return {"type": SHARE_TYPE, "index": run_id}


def run_unshare(run_id) -> dict:
    """Return the id of a listed run's "Revoke links" button."""
    return {"type": UNSHARE_TYPE, "index": run_id}


def save_current(
    dataset: dict | None, k: int, percent: float | None
) -> tuple[str, bool]:
    """Save the browser's dataset, k and sensitivity as a run, unless saved already.

    Returns
    -------
    run_id : str
    created : bool
        False when a run of the same (sha256, mapping, k, anomaly share, seed)
        existed and its id is returned instead.
    """
    prepared = current_prepared(dataset)
    seg = current_segmentation(dataset, k, percent)
    return storage.run_store().save_once(prepared, seg, source="app", owner=workspace())


def save_run(save_clicks, dataset, k, percent):
    """Save run clicked: the run id and how to score with it."""
    run_id, created = save_current(dataset, k, percent)
    return scoring_hint(run_id, "Saved run" if created else "Already saved as run")


def list_runs(_saved_message):
    """Return the recent runs (refreshed after each save or reopen)."""
    store = storage.run_store()
    every = store.list(store.max_runs)
    listed = runs_list(
        [run for run in every if may_see(run.get("owner"))][:LISTED_RUNS]
    )
    return with_share_buttons(listed)


def with_share_buttons(listed):
    """Add "Share link" and "Revoke links" beside each reopenable run's Reopen."""
    if not isinstance(listed, html.Ol):
        return listed
    for row in listed.children:
        children = list(row.children) if isinstance(row.children, list) else []
        if len(children) != 2 or not isinstance(children[1], dbc.Button):
            continue  # a damaged run: nothing to share
        run_id = children[1].id["index"]
        buttons = [
            children[1],
            dbc.Button(
                "Share link",
                id=run_share(run_id),
                size="sm",
                color="secondary",
                outline=True,
                title=f"Make a read-only link to run {run_id}",
            ),
            dbc.Button(
                "Revoke links",
                id=run_unshare(run_id),
                size="sm",
                color="secondary",
                outline=True,
                title=f"Revoke every share link of run {run_id}",
            ),
        ]
        facts = children[0]
        facts.style = {**(getattr(facts, "style", None) or {}), "flex": "1 1 12rem"}
        row.children = [
            facts,
            html.Div(
                buttons,
                style={"display": "flex", "gap": "0.25rem", "marginLeft": "auto"},
            ),
        ]
        row.style = {**(row.style or {}), "flexWrap": "wrap"}  # buttons below
    return listed


def share_link(run_id: str) -> list:
    """Make a share link of one of this workspace's runs; return the message.

    Raises
    ------
    RunNotFoundError
        For another workspace's run (as for an unknown one).
    """
    runs = storage.run_store()
    if not may_see(runs.entry(run_id).get("owner")):
        raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
    token = runs.share(run_id, by=workspace())
    url = f"{flask.request.host_url.rstrip('/')}/shared/{token}"
    who = "anyone logged in here who has it" if login_is_required() else "anyone"
    return [
        f"Read-only link to run {run_id} (shown once; {who} can open the run's "
        "report and customers with it; Revoke links stops it): ",
        html.Code(url, className="share-link"),
    ]


def revoke_links(run_id: str) -> str:
    """Revoke every share link of one of this workspace's runs; return the message."""
    runs = storage.run_store()
    if not may_see(runs.entry(run_id).get("owner")):
        raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
    count = runs.revoke_shares(run_id)
    if not count:
        return f"Run {run_id} had no open share link."
    return f"Revoked {count} share link{'s' if count != 1 else ''} of run {run_id}."


def share_clicked(_share, _unshare):
    """Answer "Share link" (with the link) or "Revoke links" (with what was revoked)."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered[0].get("value"):
        raise PreventUpdate  # buttons (re)drawn, not clicked
    try:
        if trigger["type"] == SHARE_TYPE:
            return share_link(trigger["index"])
        return revoke_links(trigger["index"])
    except SegmentationError as err:
        return str(err)


def _percent(anomaly_share: float) -> float | int:
    """Anomaly share 0.02 -> slider percent 2 (an int when whole)."""
    percent = round(100 * float(anomaly_share), 2)
    return int(percent) if percent.is_integer() else percent


def reopen(run_id: str):
    """Put a saved run in the store; return dataset store, k, percent and messages.

    Raises
    ------
    SegmentationError
        Unknown run, a run without ``prepared.pkl`` (NotReopenableError), or
        unreadable files.
    """
    runs = storage.run_store()
    if not may_see(runs.entry(run_id).get("owner")):
        raise RunNotFoundError(f"no saved run {run_id!r}", run_id=run_id)
    prepared = runs.load_prepared(run_id)
    seg = runs.load(run_id).segmentation
    dataset = storage.get_store().put_run(prepared, seg)
    ownership.claim(dataset["id"])  # this workspace may now show it
    note = (
        ""
        if seg.seed == storage.SEED
        else (
            f" It was fitted with seed {seg.seed}; the panels use the app's seed "
            f"{storage.SEED}."
        )
    )
    status = (
        f"Reopened saved run of {prepared.source_name}: "
        f"{len(seg.customers):,} customers, k = {seg.k}."
    )
    message = [*scoring_hint(run_id, f"Reopened {prepared.source_name}: run"), note]
    return dataset, seg.k, _percent(seg.anomaly_share), message, status


def reopen_run(_clicks):
    """Reopen the run whose button was clicked: its dataset, k and sensitivity."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered[0].get("value"):
        raise PreventUpdate  # buttons (re)drawn, not clicked
    try:
        return reopen(trigger["index"])
    except SegmentationError as err:
        return no_update, no_update, no_update, str(err), no_update


def register_callbacks(app) -> None:
    """Register the saved-runs callbacks on ``app``."""
    app.callback(
        Output(ids.RUN_SAVED, "children"),
        Input(ids.SAVE_RUN_BUTTON, "n_clicks"),
        State(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        State(ids.ANOMALY_SLIDER, "value"),
        prevent_initial_call=True,
    )(save_run)
    app.callback(
        Output(ids.RUNS_LIST, "children"),
        Input(ids.RUN_SAVED, "children"),
    )(list_runs)
    app.callback(
        Output(ids.DATASET_STORE, "data", allow_duplicate=True),
        Output(ids.K_SLIDER, "value"),
        Output(ids.ANOMALY_SLIDER, "value"),
        Output(ids.RUN_SAVED, "children", allow_duplicate=True),
        Output(ids.RUN_RESULT, "children", allow_duplicate=True),
        Input(ids.run_reopen(ALL), "n_clicks"),
        prevent_initial_call=True,
    )(reopen_run)
    app.callback(
        Output(ids.RUN_SAVED, "children", allow_duplicate=True),
        Input(run_share(ALL), "n_clicks"),
        Input(run_unshare(ALL), "n_clicks"),
        prevent_initial_call=True,
    )(share_clicked)
