"""Cross-filtering: a grid or RF grid click, scatter box/lasso, persona card."""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, ctx, no_update

from app import ids
from app.callbacks.common import current_segmentation
from app.callbacks.overtime import over_time_customers
from app.components.controls import CURRENCY_STORE
from app.components.selected import (
    SELECTED_COUNT,
    SELECTED_EXPORT,
    SELECTED_GRID,
    column_defs,
    first_count_line,
    over_time_columns,
    row_data,
    selection_summary,
)
from app.figures import is_sampled, region_from_selection
from app.layout import K_VIEWS, TABLE_REQUEST
from app.selection import (
    CELL,
    CLUSTER,
    CUSTOMER_IDS,
    REGION,
    RF_CELL,
    SCATTER_KINDS,
    selection_mask,
)


def update_selection(
    grid_click,
    scatter_selected,
    card_click,
    clear_clicks,
    dataset,
    k,
    percent,
    current,
    rf_click=None,
):
    """Set the selection from the panel that triggered; reset on clear or data.

    A k change clears it in the browser (``kTable``, ``assets/k_settled.js``):
    k is a State here.

    ``card_click`` is the persona card clicked, ``{"cluster", "at"}`` (set by
    the browser, ``assets/persona_cards.js``; Enter or Space on a card clicks
    it). ``rf_click`` comes last (after the ``current`` state): the RF grid's
    click.
    A grid cell's keyboard button (:mod:`app.components.grid_cells`) sets the
    grid's ``clickData`` as a click does: the same ``{"cell": [tier, style]}``.
    """
    trigger = ctx.triggered_id
    if trigger == ids.VALUE_STYLE_GRID and grid_click:
        point = grid_click["points"][0]
        return {CELL: [point["y"], point["x"]]}
    if trigger == ids.RF_GRID and rf_click:
        point = rf_click["points"][0]  # x = F score, y = R score
        return {RF_CELL: [int(point["y"]), int(point["x"])]}
    if trigger == ids.CUSTOMER_SCATTER:
        points = (scatter_selected or {}).get("points", [])
        chosen = [p["customdata"][0] for p in points if p.get("customdata")]
        region = region_from_selection(scatter_selected) if chosen else None
        if region is not None and _scatter_is_sampled(dataset, k, percent):
            return {REGION: region}  # every customer inside, drawn or not
        if chosen:
            return {CUSTOMER_IDS: chosen}
        # an empty box (or a double-click) clears only a scatter selection; plotly
        # also reports one when a re-render drops a box, after a grid/card click
        scatter_made = current and any(kind in current for kind in SCATTER_KINDS)
        return None if scatter_made else no_update
    if trigger == ids.PERSONA_CARD_CLICK:
        return {CLUSTER: int(card_click["cluster"])} if card_click else no_update
    return None if current else no_update


def _scatter_is_sampled(dataset, k, percent) -> bool:
    return is_sampled(current_segmentation(dataset, k, percent).customers)


def render_selection(
    dataset, k, percent, chosen, compare_days=None, holdout_days=None, _request=None
):
    """Return the selection summary, the table's rows and its count line.

    Not on a k change (k is a State): the browser clears a selection, which
    brings this once, or shows the new tiers itself (``assets/k_settled.js``),
    or asks for it (``_request``, the table-request store).

    Once the over-time job has stored its result for this view (its two
    settings ``compare_days`` and ``holdout_days``), the rows carry its
    columns (p_alive, expected orders, CLV, tier and status before:
    :func:`app.callbacks.overtime.over_time_customers`).

    Returns
    -------
    summary : list
        :func:`app.components.selected.selection_summary`.
    rows : list of dict
        :func:`app.components.selected.row_data`: every selected customer
        (everyone without a selection), highest spend first.
    count : str
        :func:`app.components.selected.first_count_line`, e.g. ``"25 of 1,704
        customers shown"``; the browser rewrites it as the user pages or
        filters (``assets/selected_table.js``).
    """
    seg = current_segmentation(dataset, k, percent)
    customers = over_time_customers(dataset, k, percent, compare_days, holdout_days)
    customers = seg.customers if customers is None else customers
    mask = selection_mask(customers, chosen)
    summary = selection_summary(customers, mask, chosen, seg.personas)
    n_selected = len(customers) if mask is None else int(mask.sum())
    rows = row_data(customers, mask)
    return summary, rows, first_count_line(n_selected)


def table_columns(
    currency,
    _summary=None,
    dataset=None,
    k=None,
    percent=None,
    compare_days=None,
    holdout_days=None,
):
    """Return the table's columns with amounts in ``currency`` (a symbol or "").

    Also after each new table (``_summary``, the selection summary, is the
    trigger), with the over-time columns its rows have
    (:func:`render_selection` reads the same stored result).
    """
    customers = over_time_customers(dataset, k, percent, compare_days, holdout_days)
    extra = () if customers is None else over_time_columns(customers)
    return column_defs(currency or "", extra)


def register_callbacks(app) -> None:
    """Register the selection callbacks on ``app``."""
    app.callback(
        Output(ids.SELECTION_STORE, "data"),
        Input(ids.VALUE_STYLE_GRID, "clickData"),
        Input(ids.CUSTOMER_SCATTER, "selectedData"),
        Input(ids.PERSONA_CARD_CLICK, "data"),
        Input(ids.CLEAR_SELECTION, "n_clicks"),
        Input(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),  # a k change: kTable, in the browser
        Input(ids.ANOMALY_SLIDER, "value"),
        State(ids.SELECTION_STORE, "data"),
        Input(ids.RF_GRID, "clickData"),
        prevent_initial_call=True,
    )(update_selection)
    # the chosen grid cell's outline: drawn, moved or removed at once, as a
    # patch of the grid's shapes (the server's grid draws it too); and the
    # cells' keyboard buttons' aria-pressed (assets/grid_cells.js)
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="gridOutline"),
        Output(ids.VALUE_STYLE_GRID, "figure", allow_duplicate=True),
        Input(ids.SELECTION_STORE, "data"),
        State(ids.VALUE_STYLE_GRID, "figure"),
        prevent_initial_call=True,
    )
    # a k change clears a selection, or shows the table's new tiers and
    # personas from the views the browser holds, or asks the server (once)
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="kTable"),
        Output(ids.SELECTION_STORE, "data", allow_duplicate=True),
        Output(TABLE_REQUEST, "data"),
        Input(ids.K_SLIDER, "value"),
        State(ids.SELECTION_STORE, "data"),
        State(ids.DATASET_STORE, "data"),
        State(ids.ANOMALY_SLIDER, "value"),
        State(K_VIEWS, "data"),
        State(SELECTED_GRID, "rowData"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.SELECTION_SUMMARY, "children"),
        Output(SELECTED_GRID, "rowData"),
        Output(SELECTED_COUNT, "children"),
        Input(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        Input(ids.ANOMALY_SLIDER, "value"),
        Input(ids.SELECTION_STORE, "data"),
        State(ids.COMPARE_DAYS, "value"),
        State(ids.HOLDOUT_DAYS, "value"),
        Input(TABLE_REQUEST, "data"),
    )(render_selection)
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="tableRows"),
        Input(SELECTED_GRID, "rowData"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(SELECTED_GRID, "columnDefs"),
        Input(CURRENCY_STORE, "data"),
        Input(ids.SELECTION_SUMMARY, "children"),
        State(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        State(ids.ANOMALY_SLIDER, "value"),
        State(ids.COMPARE_DAYS, "value"),
        State(ids.HOLDOUT_DAYS, "value"),
    )(table_columns)
    # paging or filtering: the count line follows, in the browser
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="countLine"),
        Output(SELECTED_COUNT, "children", allow_duplicate=True),
        Input(SELECTED_GRID, "paginationInfo"),
        State(SELECTED_GRID, "rowData"),
        State(SELECTED_COUNT, "children"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="exportRows"),
        Output(SELECTED_GRID, "exportDataAsCsv"),
        Input(SELECTED_EXPORT, "n_clicks"),
        prevent_initial_call=True,
    )
