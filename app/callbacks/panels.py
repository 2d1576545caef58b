"""Panels: a dataset, k and sensitivity (and the selection) -> figures and cards.

Plain (non-background) callbacks: ``segment`` on the cached PreparedData takes tens
of milliseconds, and the result is cached per (dataset, k, sensitivity), so a
selection change re-renders without re-fitting.
"""

from __future__ import annotations

import uuid

from dash import Input, Output, State, no_update

from app import figures, ids
from app.callbacks.common import current_prepared, current_segmentation, warm_every_k
from app.callbacks.whatif import star_for
from app.components.assumptions import assumptions_children, assumptions_of
from app.components.controls import K_MAX, K_MIN
from app.components.personas import persona_cards
from app.components.receipt import cleaning_receipt
from app.layout import PAGE_TOKEN
from app.selection import CLUSTER, SCATTER_KINDS, selection_mask


def render_panels(dataset, k, percent, chosen, metric, whatif=None):
    """Return grid, scatter, feature heatmap and persona cards for the selection.

    A box or lasso selection is already drawn by plotly on the scatter, so the
    scatter is then left as it is: re-rendering it would make plotly drop the box
    and report an empty selection. Any other re-render drops an old box
    (``selectionrevision`` is new each time) and highlights the selection.
    ``whatif`` (``{"frequency", "monetary"}``, a State: the what-if callback
    moves the star itself, by a patch) is drawn as a star on a rebuilt scatter,
    if it belongs to this dataset.
    """
    seg = current_segmentation(dataset, k, percent)
    customers = seg.customers
    mask = selection_mask(customers, chosen)
    made_on_scatter = bool(chosen) and any(kind in chosen for kind in SCATTER_KINDS)
    scatter = (
        no_update
        if made_on_scatter
        else (
            figures.customer_scatter(
                customers,
                mask,
                uirevision=f"{dataset['id']}-{k}",
                selectionrevision=uuid.uuid4().hex,
                whatif=star_for(whatif, dataset),
            )
        )
    )
    return (
        figures.value_style_grid(customers, metric or "customers", mask),
        scatter,
        figures.feature_heatmap(customers, mask),
        persona_cards(customers, seg.personas, mask, (chosen or {}).get(CLUSTER)),
    )


def render_rf_grid(dataset, k, percent, chosen, metric):
    """Return the R × F score grid, with the selection's count in each cell."""
    customers = current_segmentation(dataset, k, percent).customers
    mask = selection_mask(customers, chosen)
    return figures.rf_grid(customers, metric or "customers", mask)


def _rule(diag, k) -> str:
    if diag is None:
        return "No k sweep was run."
    return f"Recommended k = {diag.recommended_k}: {diag.rule}. Chosen k = {k}."


def render_diagnostics(dataset, k):
    """Return the k sweep's curves with the votes, recommended and chosen k; its rule.

    A sweep pickled before the vote has no ``votes``: its curves show no rings.
    """
    diag = current_prepared(dataset).diagnostics
    if diag is None:
        return figures.k_diagnostics(None, None, k), _rule(diag, k)
    votes = getattr(diag, "votes", {})
    figure = figures.k_diagnostics(diag.table, diag.recommended_k, k, votes)
    return figure, _rule(diag, k)


def move_chosen_k(k, dataset):
    """On a k change, move only the chosen-k lines (a Patch), and update the rule."""
    diag = current_prepared(dataset).diagnostics
    if diag is None:
        return no_update, _rule(diag, k)
    return figures.chosen_k_patch(diag.recommended_k, k, diag.table), _rule(diag, k)


def use_recommended_k(n_clicks, dataset):
    """On "Use recommended k", set the k slider to the sweep's recommended k."""
    diag = current_prepared(dataset).diagnostics
    return no_update if diag is None else int(diag.recommended_k)


def recommended_k_button(dataset, k):
    """Return the "Use recommended k" button's label and whether it is disabled.

    Disabled without a k sweep, and while the chosen k is the recommended one.
    """
    diag = current_prepared(dataset).diagnostics
    if diag is None:
        return "Use recommended k", True
    recommended = int(diag.recommended_k)
    return f"Use recommended k = {recommended}", k == recommended


def segment_every_k(dataset, percent, page=None):
    """Background job: segment the dataset for every k the slider offers.

    Runs after a dataset (or sensitivity, or method) is shown, off the first
    panels' path, so that moving the slider afterwards only reads the store.
    It warms the method on screen: the dataset store names it
    (:func:`app.callbacks.common.current_segmentation`). ``page`` (the page's
    token, unused) keeps the job's result key the page's own.
    """
    return warm_every_k(dataset, percent, range(K_MIN, K_MAX + 1))


def render_receipt(dataset):
    """Return the cleaning receipt and the page's dataset title."""
    prepared = current_prepared(dataset)
    return cleaning_receipt(prepared), f"Dataset: {prepared.source_name}"


def render_assumptions(dataset):
    """Return the assumptions list of the dataset on screen, and whether to show it."""
    prepared = current_prepared(dataset)
    return assumptions_children(prepared), bool(assumptions_of(prepared))


def register_callbacks(app) -> None:
    """Register the panel callbacks on ``app``."""
    app.callback(
        Output(ids.VALUE_STYLE_GRID, "figure"),
        Output(ids.CUSTOMER_SCATTER, "figure"),
        Output(ids.FEATURE_HEATMAP, "figure"),
        Output(ids.PERSONA_CARDS, "children"),
        Input(ids.DATASET_STORE, "data"),
        Input(ids.K_SLIDER, "value"),
        Input(ids.ANOMALY_SLIDER, "value"),
        Input(ids.SELECTION_STORE, "data"),
        Input(ids.GRID_METRIC, "value"),
        State(ids.WHATIF_STORE, "data"),
    )(render_panels)
    app.callback(
        Output(ids.RF_GRID, "figure"),
        Input(ids.DATASET_STORE, "data"),
        Input(ids.K_SLIDER, "value"),
        Input(ids.ANOMALY_SLIDER, "value"),
        Input(ids.SELECTION_STORE, "data"),
        Input(ids.RF_GRID_METRIC, "value"),
    )(render_rf_grid)
    app.callback(
        Output(ids.K_DIAGNOSTICS, "figure"),
        Output(ids.K_RULE, "children"),
        Input(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
    )(render_diagnostics)
    app.callback(
        Output(ids.K_DIAGNOSTICS, "figure", allow_duplicate=True),
        Output(ids.K_RULE, "children", allow_duplicate=True),
        Input(ids.K_SLIDER, "value"),
        State(ids.DATASET_STORE, "data"),
        prevent_initial_call=True,
    )(move_chosen_k)
    app.callback(
        Output(ids.K_SLIDER, "value", allow_duplicate=True),
        Input(ids.USE_RECOMMENDED_K, "n_clicks"),
        State(ids.DATASET_STORE, "data"),
        prevent_initial_call=True,
    )(use_recommended_k)
    app.callback(
        Output(ids.USE_RECOMMENDED_K, "children"),
        Output(ids.USE_RECOMMENDED_K, "disabled"),
        Input(ids.DATASET_STORE, "data"),
        Input(ids.K_SLIDER, "value"),
    )(recommended_k_button)
    app.callback(
        Output(ids.WARM_STORE, "data"),
        Input(ids.DATASET_STORE, "data"),
        Input(ids.ANOMALY_SLIDER, "value"),
        State(PAGE_TOKEN, "data"),
        background=True,
        prevent_initial_call=True,
    )(segment_every_k)
    app.callback(
        Output(ids.CLEANING_RECEIPT, "children"),
        Output(ids.DATASET_TITLE, "children"),
        Input(ids.DATASET_STORE, "data"),
    )(render_receipt)
    app.callback(
        Output(ids.ASSUMPTIONS, "children"),
        Output(ids.ASSUMPTIONS, "is_open"),
        Input(ids.DATASET_STORE, "data"),
    )(render_assumptions)
