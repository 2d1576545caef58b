"""Panels: a dataset, k and sensitivity (and the selection) -> figures and cards.

Plain (non-background) callbacks: ``segment`` on the cached PreparedData takes tens
of milliseconds, and the result is cached per (dataset, k, sensitivity), so a
selection change re-renders without re-fitting.

A k change is the product's interactive heart, and most of its time went to
building, sending and redrawing whole figures. Once a dataset is on screen, the
every-k warm-up job (:func:`warm_every_k_views`) also sends the browser every k's
panels, small (:func:`k_views`): the value × style grid, the feature heatmap and
the persona cards as they look without a selection (a k change clears it), and of
the scatter only which customers each tier × style trace holds; the customers'
positions and hover data go once (:func:`app.figures.scatter.scatter_base`).
A k change is then drawn in the browser (``assets/k_views.js``), as partial
updates that leave each figure's layout (zoom, the what-if star) as it is, and
:func:`render_panels` does not answer it again.
"""

from __future__ import annotations

import json
import uuid

import plotly.utils
from dash import ClientsideFunction, Input, Output, State, no_update

from app import figures, ids
from app.callbacks.common import current_prepared, current_segmentation, warm_every_k
from app.callbacks.currency import changed_alone, panel_patches, resolve_currency
from app.callbacks.whatif import median_defaults, score_whatif, star_for
from app.components.assumptions import assumptions_children, assumptions_of
from app.components.controls import CURRENCY_STORE, K_MAX, K_MIN
from app.components.personas import persona_card_data
from app.components.receipt import cleaning_receipt
from app.components.selected import k_table
from app.figures.scatter import (
    legend_font,
    scatter_base,
    style_entries,
    tier_traces,
)
from app.figures.scatter_points import is_sampled
from app.layout import FIRST_SCREEN, K_CHOICE, K_VIEWS, PAGE_TOKEN, PANELS_REQUEST
from app.selection import CELL, CLUSTER, SCATTER_KINDS, selection_mask
from segmentation import schema


def drawn_in_browser(warm, dataset, k, percent, chosen) -> tuple[bool, bool]:
    """Whether the browser draws these panels itself, from :func:`k_views`.

    It does when nothing is selected and the warm-up store (``warm``, set with
    the views) says the browser holds this dataset's panels at this
    sensitivity and k; ``assets/k_views.js`` decides the same way, from the
    views themselves, on the same inputs.

    Returns
    -------
    panels, scatter : bool
        For the grid, heatmap and cards; for the scatter (not when it draws a
        sample, which depends on k).
    """
    if chosen or not warm:
        return False, False
    held = (
        warm.get("dataset") == dataset
        and warm.get("percent") == percent
        and int(k) in warm.get("views", [])
    )
    return held, held and bool(warm.get("scatter"))


def render_panels(
    dataset, k, percent, chosen, metric, whatif=None, warm=None, currency=None
):
    """Return grid, scatter, feature heatmap and persona cards' data for the selection.

    A box or lasso selection is already drawn by plotly on the scatter, so the
    scatter is then left as it is: re-rendering it would make plotly drop the box
    and report an empty selection. Any other re-render drops an old box
    (``selectionrevision`` is new each time) and highlights the selection.
    ``whatif`` (``{"frequency", "monetary"}``, a State: the what-if callback
    moves the star itself, by a patch) is drawn as a star on a rebuilt scatter,
    if it belongs to this dataset. ``warm`` (the warm-up store, a State) says
    which k the browser draws itself: such a k change is not answered here
    (:func:`drawn_in_browser`). The scatter's ``uirevision`` is the dataset's,
    so zoom and pan survive a k change. ``currency`` (the currency store) is
    the symbol of the grid's, scatter's and heatmap's money (None: the
    server's).
    """
    in_browser, scatter_in_browser = drawn_in_browser(warm, dataset, k, percent, chosen)
    if in_browser and scatter_in_browser:
        return no_update, no_update, no_update, no_update
    seg = current_segmentation(dataset, k, percent)
    customers = seg.customers
    mask = selection_mask(customers, chosen)
    made_on_scatter = bool(chosen) and any(kind in chosen for kind in SCATTER_KINDS)
    if in_browser:  # all but a sampled scatter
        drawn = _scatter(customers, mask, dataset, whatif, currency)
        return no_update, drawn, *[no_update] * 2
    scatter = (
        no_update
        if made_on_scatter
        else _scatter(customers, mask, dataset, whatif, currency)
    )
    return (
        figures.value_style_grid(
            customers,
            metric or "customers",
            mask,
            cell=(chosen or {}).get(CELL),
            currency=currency,
        ),
        scatter,
        figures.feature_heatmap(customers, mask, currency),
        persona_card_data(customers, seg.personas, mask, (chosen or {}).get(CLUSTER)),
    )


def _scatter(customers, mask, dataset, whatif, currency=None):
    return figures.customer_scatter(
        customers,
        mask,
        uirevision=str(dataset["id"]),
        selectionrevision=uuid.uuid4().hex,
        whatif=star_for(whatif, dataset),
        currency=currency,
    )


def first_key(dataset, k, percent, chosen=None, metric=None) -> dict:
    """Return what the panels show, as the layout's first screen records it."""
    return {
        "dataset": dataset,
        "k": int(k),
        "percent": percent,
        "chosen": chosen or None,
        "metric": metric or figures.GRID_METRICS[0],
    }


def first_panels(dataset, k, percent) -> dict:
    """Return the panels of a dataset at k without a selection, for a layout.

    Returns
    -------
    dict
        ``{(component id, property): value}`` for the grid, scatter, feature
        heatmap, persona cards, the rule of k, the cleaning receipt and dataset
        title, and the what-if inputs' medians (filled, not typed: no star), as
        plain data (:func:`plain`): what the page's callbacks would draw. The
        R × F grid and the k diagnostics, below the fold, are left to their
        callbacks: plotly's drawing of six figures at once held the first four
        back by a second.
    """
    currency, _options = resolve_currency(None, dataset)  # "As in the file"
    grid, scatter, heatmap, cards = render_panels(
        dataset, k, percent, None, None, currency=currency
    )
    rule = _rule(current_prepared(dataset).diagnostics, k)
    recency, frequency, monetary = median_defaults(dataset)
    # the what-if's answer for the medians, as a new dataset gets it (no star)
    whatif_words, _point = score_whatif(
        recency, frequency, monetary, dataset, k, percent, None, drawn=False
    )
    receipt, title = render_receipt(dataset)
    values = {
        (ids.VALUE_STYLE_GRID, "figure"): grid,
        (ids.CUSTOMER_SCATTER, "figure"): scatter,
        (ids.FEATURE_HEATMAP, "figure"): heatmap,
        (ids.PERSONA_CARDS_DATA, "data"): cards,
        (ids.K_RULE, "children"): rule,
        (ids.WHATIF_RECENCY, "value"): recency,
        (ids.WHATIF_FREQUENCY, "value"): frequency,
        (ids.WHATIF_MONETARY, "value"): monetary,
        (ids.WHATIF_RESULT, "children"): whatif_words,
        (ids.CLEANING_RECEIPT, "children"): receipt,
        (ids.DATASET_TITLE, "children"): title,
    }
    return {key: plain(value) for key, value in values.items()}


def render_rf_grid(dataset, k, percent, chosen, metric, currency=None):
    """Return the R × F score grid, with the selection's count in each cell.

    Revenue is written with ``currency`` (the currency store).
    """
    customers = current_segmentation(dataset, k, percent).customers
    mask = selection_mask(customers, chosen)
    return figures.rf_grid(customers, metric or "customers", mask, currency)


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


def k_choice(dataset) -> dict:
    """Return what the browser needs to show a chosen k (``assets/k_views.js``).

    Returns
    -------
    dict
        ``recommended`` (int, or None without a k sweep), ``shapes`` (the
        chosen-k lines' positions in the diagnostics figure:
        :func:`app.figures.chosen_k_shapes`) and ``rule`` (the rule's sentence
        before "Chosen k = ..."; None without a sweep).
    """
    diag = current_prepared(dataset).diagnostics
    if diag is None:
        return {"recommended": None, "shapes": [], "rule": None}
    return {
        "recommended": int(diag.recommended_k),
        "shapes": figures.chosen_k_shapes(diag.recommended_k, diag.table),
        "rule": f"Recommended k = {diag.recommended_k}: {diag.rule}.",
    }


def render_diagnostics_and_choice(dataset, k):
    """:func:`render_diagnostics` and :func:`k_choice`, for a new dataset."""
    return (*render_diagnostics(dataset, k), k_choice(dataset))


def render_requested(
    request, dataset, k, percent, chosen, metric, whatif, warm, currency=None
):
    """:func:`render_panels`, when the browser asks (``request``, a time stamp).

    The browser asks when it cannot draw the panels itself from the views
    (``assets/k_views.js``): no views yet, another dataset or sensitivity,
    or a selection to highlight. A change of the currency store alone
    (``currency``, an Input) redraws nothing: the grid, the scatter and the
    heatmap get a Patch of their symbol (:func:`app.figures.grid.currency_patch`,
    :func:`app.callbacks.currency.panel_patches`).
    """
    if changed_alone():
        grid = figures.grid.currency_patch(currency)
        return grid, *panel_patches(currency, whatif, dataset), no_update
    return render_panels(dataset, k, percent, chosen, metric, whatif, warm, currency)


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
    (:func:`app.callbacks.common.current_segmentation`). ``page`` (the
    page's token, unused) keeps the job's result key the page's own.
    """
    return warm_every_k(dataset, percent, range(K_MIN, K_MAX + 1))


def plain(value):
    """Return ``value`` (figures, components, numpy arrays) as plain JSON data."""
    return json.loads(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder))


def traces_and_tiers(figure) -> dict:
    """Return what a k change changes in a heatmap: its traces and its tier axis."""
    figure = plain(figure)
    return {"data": figure["data"], "yaxis": figure["layout"]["yaxis"]}


def k_view(seg) -> dict:
    """Return one k's panels without a selection, for the browser to keep.

    Returns
    -------
    dict
        ``grid`` (per grid metric) and ``heatmap``: ``{"data", "yaxis"}``
        of the figure (:func:`traces_and_tiers`),
        ``cards`` (:func:`app.components.personas.persona_card_data`) and
        ``scatter``:
        ``{"traces", "legend_font"}`` (:func:`app.figures.scatter.tier_traces`:
        rows into the base, not points), or None when the scatter draws a
        sample (the sample depends on k: the server draws it); ``table``: the
        selected-customers table's tier and persona columns
        (:func:`app.components.selected.k_table`).
    """
    customers = seg.customers
    scatter = None
    if not is_sampled(customers):
        scatter = {
            "traces": plain([*tier_traces(customers), *style_entries()]),
            "legend_font": legend_font(customers),
        }
    return {
        "grid": {
            metric: traces_and_tiers(figures.value_style_grid(customers, metric))
            for metric in figures.GRID_METRICS
        },
        "heatmap": traces_and_tiers(figures.feature_heatmap(customers)),
        "cards": persona_card_data(customers, seg.personas),
        "scatter": scatter,
        "table": k_table(customers),
    }


def k_views(dataset, percent, k_values) -> dict:
    """Return every ready k's panels (:func:`k_view`) and the scatter's base.

    Parameters
    ----------
    dataset : dict
        The browser's dataset store.
    percent : float
        The sensitivity slider (anomaly share in percent).
    k_values : iterable of int
        The k to include (those segmented; a too-large k is left out).

    Returns
    -------
    dict
        ``{"dataset", "percent", "base", "k": {str(k): view}}``; ``base`` is
        :func:`app.figures.scatter.scatter_base` of the customers, in the order
        every k's rows refer to (None when the scatter draws a sample).
    """
    views, base, order = {}, None, None
    for k in k_values:
        seg = current_segmentation(dataset, k, percent)
        ids_now = seg.customers[schema.CUSTOMER_ID].to_numpy()
        if order is None:
            order = ids_now
            if not is_sampled(seg.customers):
                base = scatter_base(seg.customers)
        elif len(ids_now) != len(order) or (ids_now != order).any():
            continue  # rows would point at other customers: the server draws it
        views[str(int(k))] = k_view(seg)
    return {"dataset": dataset, "percent": percent, "base": base, "k": views}


def warm_every_k_views(dataset, percent, page=None):
    """Background job: every k segmented (:func:`segment_every_k`) and its views.

    Returns
    -------
    warm : dict
        :func:`segment_every_k`'s answer with ``dataset``, ``percent`` and
        ``views`` (the k the browser now draws itself) and ``scatter`` (False
        when the scatter draws a sample, which the server draws), for
        ``ids.WARM_STORE``: small, the server reads it.
    views : dict
        :func:`k_views`, for the browser only (:data:`app.layout.K_VIEWS`).
    """
    warm = segment_every_k(dataset, percent, page)
    views = k_views(dataset, percent, warm["k"])
    warm = {
        **warm,
        "dataset": dataset,
        "percent": percent,
        "views": sorted(int(k) for k in views["k"]),
        "scatter": views["base"] is not None,
    }
    return warm, views


def render_receipt(dataset):
    """Return the cleaning receipt and the page's dataset title."""
    prepared = current_prepared(dataset)
    return cleaning_receipt(prepared), f"Dataset: {prepared.source_name}"


def render_assumptions(dataset):
    """Return the assumptions list of the dataset on screen, and whether to show it."""
    prepared = current_prepared(dataset)
    return assumptions_children(prepared), bool(assumptions_of(prepared))


#: What the panels show: inputs of the browser's ``showPanels``, which draws
#: them from the views or asks the server (:func:`render_requested`, which
#: reads them as States).
PANEL_INPUTS = (
    (ids.DATASET_STORE, "data"),
    (ids.K_SLIDER, "value"),
    (ids.ANOMALY_SLIDER, "value"),
    (ids.SELECTION_STORE, "data"),
    (ids.GRID_METRIC, "value"),
)


def register_callbacks(app) -> None:
    """Register the panel callbacks on ``app``."""
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="showPanels"),
        Output(ids.VALUE_STYLE_GRID, "figure", allow_duplicate=True),
        Output(ids.CUSTOMER_SCATTER, "figure", allow_duplicate=True),
        Output(ids.FEATURE_HEATMAP, "figure", allow_duplicate=True),
        Output(PANELS_REQUEST, "data"),
        Input(ids.DATASET_STORE, "data"),
        Input(ids.K_SLIDER, "value"),
        Input(ids.ANOMALY_SLIDER, "value"),
        Input(ids.GRID_METRIC, "value"),
        State(ids.SELECTION_STORE, "data"),
        State(K_VIEWS, "data"),
        State(FIRST_SCREEN, "data"),
        prevent_initial_call=True,
    )
    # the same for a selection set or cleared; apart from the k change above,
    # which does not wait for the selection callback (a k change clears it)
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="showSelected"),
        Output(ids.VALUE_STYLE_GRID, "figure", allow_duplicate=True),
        Output(ids.CUSTOMER_SCATTER, "figure", allow_duplicate=True),
        Output(ids.FEATURE_HEATMAP, "figure", allow_duplicate=True),
        Output(PANELS_REQUEST, "data", allow_duplicate=True),
        Input(ids.SELECTION_STORE, "data"),
        State(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        State(ids.ANOMALY_SLIDER, "value"),
        State(ids.GRID_METRIC, "value"),
        State(K_VIEWS, "data"),
        State(FIRST_SCREEN, "data"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.VALUE_STYLE_GRID, "figure"),
        Output(ids.CUSTOMER_SCATTER, "figure"),
        Output(ids.FEATURE_HEATMAP, "figure"),
        Output(ids.PERSONA_CARDS_DATA, "data"),
        Input(PANELS_REQUEST, "data"),
        *[State(*key) for key in PANEL_INPUTS],
        State(ids.WHATIF_STORE, "data"),
        State(ids.WARM_STORE, "data"),
        Input(CURRENCY_STORE, "data"),
        prevent_initial_call=True,
    )(render_requested)
    # the persona cards, drawn in the browser from the server's data (on the
    # first screen too); a k change drawn from the views draws them itself
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="drawPersonaCards"),
        Input(ids.PERSONA_CARDS_DATA, "data"),
    )
    # k is a State: the R x F grid does not depend on it; a k change clears a
    # selection, which redraws the grid through the selection store
    app.callback(
        output=Output(ids.RF_GRID, "figure"),
        inputs={
            "dataset": Input(ids.DATASET_STORE, "data"),
            "percent": Input(ids.ANOMALY_SLIDER, "value"),
            "chosen": Input(ids.SELECTION_STORE, "data"),
            "metric": Input(ids.RF_GRID_METRIC, "value"),
            "currency": Input(CURRENCY_STORE, "data"),
        },
        state={"k": State(ids.K_SLIDER, "value")},
    )(render_rf_grid)
    app.callback(
        Output(ids.K_DIAGNOSTICS, "figure"),
        Output(ids.K_RULE, "children"),
        Output(K_CHOICE, "data"),
        Input(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
    )(render_diagnostics_and_choice)
    # the chosen k's lines, the rule and "Use recommended k": in the browser
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="showChoice"),
        Output(ids.K_DIAGNOSTICS, "figure", allow_duplicate=True),
        Output(ids.K_RULE, "children", allow_duplicate=True),
        Output(ids.USE_RECOMMENDED_K, "children"),
        Output(ids.USE_RECOMMENDED_K, "disabled"),
        Input(ids.K_SLIDER, "value"),
        Input(K_CHOICE, "data"),
        prevent_initial_call="initial_duplicate",
    )
    app.callback(
        Output(ids.K_SLIDER, "value", allow_duplicate=True),
        Input(ids.USE_RECOMMENDED_K, "n_clicks"),
        State(ids.DATASET_STORE, "data"),
        prevent_initial_call=True,
    )(use_recommended_k)
    app.callback(
        Output(ids.WARM_STORE, "data"),
        Output(K_VIEWS, "data"),
        Input(ids.DATASET_STORE, "data"),
        Input(ids.ANOMALY_SLIDER, "value"),
        State(PAGE_TOKEN, "data"),
        background=True,
        prevent_initial_call=True,
    )(warm_every_k_views)
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
