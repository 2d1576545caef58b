"""Saved runs: save the current segmentation (once), list recent runs, reopen one.

Saving goes through :class:`segmentation.runs.RunStore` in the app's data folder
(the JSON API reads the same folder). The same data and settings are saved only
once: a second save answers with the existing run id. When accounts exist
(:mod:`app.auth`), a run belongs to the user who saved it, and only they list
and reopen it.
Downloading the CSV never saves a run: only "Save run" does. Reopening puts the
run's PreparedData and Segmentation in the app's store, so the
panels show it even when the uploaded bytes are gone or the server restarted.
"""

from __future__ import annotations

from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from app import ids, storage
from app.auth import current_user, may_see
from app.callbacks.common import current_prepared, current_segmentation
from app.components.runs import LISTED_RUNS, runs_list, scoring_hint
from segmentation.errors import RunNotFoundError, SegmentationError

#: One save at a time in this process, so two clicks cannot save the same run twice.


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
    return storage.run_store().save_once(
        prepared, seg, source="app", owner=current_user()
    )


def save_run(save_clicks, dataset, k, percent):
    """Save run clicked: the run id and how to score with it."""
    run_id, created = save_current(dataset, k, percent)
    return scoring_hint(run_id, "Saved run" if created else "Already saved as run")


def list_runs(_saved_message):
    """Return the recent runs (refreshed after each save or reopen)."""
    store = storage.run_store()
    every = store.list(store.max_runs)
    return runs_list([run for run in every if may_see(run.get("owner"))][:LISTED_RUNS])


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
