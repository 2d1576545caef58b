"""Panel frames for the figures, the persona cards and the selection."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app import glossary, ids
from app.components.grid_cells import grid_cells_group
from app.components.pca import SCATTER_BOX, axes_toggle, pca_graph
from app.components.selected import customers_grid
from app.figures import GRID_METRICS, placeholder
from app.figures.scatter import scatter_placeholder

#: Every graph's plotly config: no plotly logo, and no button or link that sends
#: the chart (the customers' data) to a third party ("Share chart", "Edit in
#: Chart Studio"); the image download stays.
GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "modeBarButtonsToRemove": ["sendDataToCloud", "editInChartStudio"],
}
#: What each panel says until its first figure arrives: what is coming.
COMING = {
    ids.VALUE_STYLE_GRID: "Value tiers are being computed…",
    ids.CUSTOMER_SCATTER: "Customers are being placed by orders and spend…",
    ids.FEATURE_HEATMAP: "Tier profiles are being computed…",
    ids.RF_GRID: "RFM segments are being computed…",
    ids.K_DIAGNOSTICS: "Choices of k are being compared…",
    ids.PERSONA_CARDS: "Personas are being named…",
}


def panel(
    title: str, *children, extra=None, class_name: str = "", info: str | None = None
) -> dbc.Card:
    """Return a titled card around a panel; ``extra`` goes right of the title.

    ``info`` is a plain-word explanation shown as the tooltip of an "i" mark
    after the title (the browser's own tooltip: no script needed). The title
    is the panel's heading (h2, under the page's h1).
    """
    mark = info and html.Span(
        "i", title=info, className="panel-info", **{"aria-label": info}
    )
    header = dbc.CardHeader(
        html.Div(
            [html.H2([title, mark], className="panel-title"), extra],
            className="panel-header",
        )
    )
    return dbc.Card(
        [header, dbc.CardBody(list(children))], className=f"panel {class_name}".strip()
    )


def graph(component_id: str, height_px: int = 340, tools: bool = False) -> dcc.Graph:
    """Return a graph of fixed height that fills its panel's width.

    The height is an inline style: Dash gives a responsive graph
    ``height: 100%``, which collapses inside a card of automatic height.
    ``tools`` shows plotly's mode bar (zoom, box and lasso select). No
    ``dcc.Loading`` wrapper: its overlay left the graphs out of the page flow
    after a slow update, and the long jobs have their own progress bar. Until
    its first figure the graph says what is coming (:data:`COMING`).
    """
    config = {**GRAPH_CONFIG, "displayModeBar": "hover" if tools else False}
    return dcc.Graph(
        id=component_id,
        config=config,
        figure=(
            scatter_placeholder if component_id == ids.CUSTOMER_SCATTER else placeholder
        )(COMING.get(component_id, "Loading…")),
        style={"height": f"{height_px}px"},
    )


def _metric_toggle(component_id: str) -> dbc.RadioItems:
    """Return a grid's customers / revenue switch."""
    return dbc.RadioItems(
        id=component_id,
        value=GRID_METRICS[0],
        inline=True,
        options=[{"label": m, "value": m} for m in GRID_METRICS],
        className="small",
    )


def grid_panel() -> dbc.Card:
    """Value tier × purchase style grid with its customers/revenue toggle.

    Its cells' keyboard buttons lie over it (:mod:`app.components.grid_cells`).
    """
    return panel(
        "Value × style",
        html.Div(
            [graph(ids.VALUE_STYLE_GRID, 360), grid_cells_group()],
            className="grid-wrap",
        ),
        extra=_metric_toggle(ids.GRID_METRIC),
        info=glossary.GRID_NOTE,
    )


def rf_grid_panel() -> dbc.Card:
    """R score × F score grid with its 10 RFM segments (click a cell to select)."""
    return panel(
        "RFM segments",
        graph(ids.RF_GRID, 420),
        extra=_metric_toggle(ids.RF_GRID_METRIC),
        info=glossary.RF_GRID_NOTE,
    )


def scatter_panel() -> dbc.Card:
    """Return the customer scatter panel (box/lasso selects).

    Its "Axes" switch shows the scatter (frequency × monetary) or, in the same
    place, the PCA view (:mod:`app.components.pca`).
    """
    scatter = graph(ids.CUSTOMER_SCATTER, 360, tools=True)
    return panel(
        "Customers (box or lasso to select)",
        html.Div(scatter, id=SCATTER_BOX),
        pca_graph(scatter.config),
        extra=axes_toggle(),
        info=glossary.SCATTER_NOTE,
    )


def persona_panel() -> dbc.Card:
    """Row of persona cards, one per value cluster (click to select).

    The cards are drawn by the browser (``assets/persona_cards.js``) inside
    :data:`app.ids.PERSONA_CARDS_HOST`, from :data:`app.ids.PERSONA_CARDS_DATA`
    or the k views; the "coming" line is hidden once they are. A click on a
    card sets :data:`app.ids.PERSONA_CARD_CLICK`.
    """
    return panel(
        "Personas (click a card to select its customers)",
        html.Div(
            [
                html.Div(COMING[ids.PERSONA_CARDS], className="panel-coming"),
                # no children from Dash, ever: the browser draws the cards here
                html.Div(id=ids.PERSONA_CARDS_HOST, className="persona-row"),
                dcc.Store(id=ids.PERSONA_CARDS_DATA, storage_type="memory"),
                dcc.Store(id=ids.PERSONA_CARD_CLICK, storage_type="memory"),
            ],
            id=ids.PERSONA_CARDS,
        ),
    )


def heatmap_panel() -> dbc.Card:
    """z-scored feature means per value tier (and the selection)."""
    return panel(
        "Feature profile (z-scored means; cell text = mean)",
        graph(ids.FEATURE_HEATMAP, 330),
        html.Div(glossary.PROFILE_NOTE, className="panel-note"),
        info=glossary.PROFILE_NOTE,
    )


def diagnostics_panel() -> dbc.Card:
    """K diagnostics curves, the rule that recommended k and a button to use it.

    The button's label and state follow the dataset
    (:func:`app.callbacks.panels.recommended_k_button`); it starts disabled.
    """
    use = dbc.Button(
        "Use recommended k",
        id=ids.USE_RECOMMENDED_K,
        color="success",
        outline=True,
        size="sm",
        disabled=True,
    )
    return panel(
        "Choosing k",
        graph(ids.K_DIAGNOSTICS, 460),
        html.Div(id=ids.K_RULE, className="small text-muted"),
        html.Div(glossary.DIAGNOSTICS_NOTE, className="panel-note"),
        extra=use,
        info=glossary.DIAGNOSTICS_NOTE,
    )


def selection_panel() -> dbc.Card:
    """Summary and first rows of the selected customers."""
    clear = dbc.Button(
        "Clear selection",
        id=ids.CLEAR_SELECTION,
        size="sm",
        color="secondary",
        outline=True,
    )
    table = html.Div(
        customers_grid(), id=ids.SELECTION_TABLE, className="selection-table"
    )
    return panel(
        "Selected customers",
        html.Div(id=ids.SELECTION_SUMMARY, className="selection-summary"),
        table,
        extra=clear,
    )


def receipt_panel() -> dbc.Card:
    """Return the cleaning receipt panel: each line's fate, how the file was read."""
    return panel(
        "Cleaning receipt", html.Div(id=ids.CLEANING_RECEIPT), class_name="receipt"
    )
