"""The page: header, error alert, control column and the linked panels.

For screen readers the page has two landmarks, the header (``<header>``) and
``<main>`` (the alert, the controls and the panels), and its headings go one
level at a time: the title (h1), each panel's title (h2,
:func:`app.components.panels.panel`), the headings inside a panel (h3: the
persona cards' tiers, the over-time panel's parts).
"""

from __future__ import annotations

import uuid

import dash_bootstrap_components as dbc
from dash import dcc, html

from app import first_screen, ids
from app.components import (
    assumptions,
    controls,
    distributions,
    methods,
    overtime,
    panels,
    runs,
    whatif,
)

#: A store holding a fresh random token per page load. Every background callback
#: takes it as a ``State``: Dash keys a job's result by the callback's inputs,
#: so without it two pages asking the same (the sample at first load, the same
#: file) shared one key and the first to poll took the other's result.
PAGE_TOKEN = "page-token"
#: Every k's panels of the dataset on screen, for the browser to draw a k change
#: itself (:func:`app.callbacks.panels.k_views`; ``assets/k_views.js``).
K_VIEWS = "k-views"
#: What the panels drawn in the layout show (:mod:`app.first_screen`), so that
#: the browser does not draw them again when the page's first job answers.
FIRST_SCREEN = "first-screen"
#: The dataset's recommended k and where its chosen-k lines are
#: (:func:`app.callbacks.panels.k_choice`), for the browser to show a chosen k.
K_CHOICE = "k-choice"
#: Set by the browser when it cannot draw the panels itself: the server does.
PANELS_REQUEST = "panels-request"
#: The k slider's value once it has rested (``assets/k_settled.js``): the
#: panels that a k change does not draw first (distributions, the method
#: comparison, the what-if's words) follow it instead of every step.
K_SETTLED = "k-settled"
#: Set by the browser when it cannot show a k change in the selected-customers
#: table itself (:func:`app.callbacks.selection.render_selection` answers).
TABLE_REQUEST = "table-request"


def _fill(page, values: dict) -> None:
    """Set ``values`` (``{(component id, property): value}``) in the page's tree."""
    for component in page._traverse():
        for (component_id, prop), value in values.items():
            if getattr(component, "id", None) == component_id:
                setattr(component, prop, value)


def serve_layout() -> dbc.Container:
    """Return the whole page (DESIGN section 7).

    The browser-side stores hold only the dataset id and file name
    (``ids.DATASET_STORE``) and the cross-filter selection
    (``ids.SELECTION_STORE``), and an upload waiting for a column mapping
    (``ids.PENDING_STORE``), and the name of the file the running job loads
    (``ids.JOB_STORE``); k and the style sensitivity live in their sliders.
    Each call (each page load) gets its own :data:`PAGE_TOKEN`. Once the
    server has prepared the sample (:mod:`app.first_screen`), the page comes
    with it: the dataset store, the warm-up store, :data:`K_VIEWS` and
    :data:`K_CHOICE` filled, and its panels drawn (:data:`FIRST_SCREEN` says
    which), so the first screen waits for no callback.
    """
    sample = first_screen.ready() or {}
    header = html.Header(
        [
            html.H1("Customer Segmentation Studio", className="app-title"),
            html.Div(id=ids.DATASET_TITLE, className="dataset-title"),
        ],
        className="app-header",
    )
    alert = dbc.Alert(
        id=ids.ERROR_ALERT,
        color="danger",
        is_open=False,
        dismissable=True,
        className="error-alert",
    )
    main = html.Div(
        [
            assumptions.assumptions_alert(),
            dbc.Row(
                [
                    dbc.Col(panels.grid_panel(), lg=5),
                    dbc.Col(panels.scatter_panel(), lg=7),
                ],
                className="g-2",
            ),
            dbc.Row(dbc.Col(panels.persona_panel()), className="g-2"),
            dbc.Row(
                [
                    dbc.Col(panels.rf_grid_panel(), lg=5),
                    dbc.Col(panels.heatmap_panel(), lg=7),
                ],
                className="g-2",
            ),
            dbc.Row(dbc.Col(distributions.distributions_panel()), className="g-2"),
            dbc.Row(dbc.Col(panels.diagnostics_panel()), className="g-2"),
            dbc.Row(dbc.Col(methods.method_panel()), className="g-2"),
            dbc.Row(dbc.Col(overtime.overtime_panel()), className="g-2"),
            dbc.Row(dbc.Col(panels.selection_panel()), className="g-2"),
        ],
        className="main-panels",
    )
    page = dbc.Container(
        [
            dcc.Store(
                id=ids.DATASET_STORE, data=sample.get("dataset"), storage_type="memory"
            ),
            dcc.Store(id=ids.SELECTION_STORE, storage_type="memory"),
            dcc.Store(id=ids.PENDING_STORE, storage_type="memory"),
            dcc.Store(id=ids.JOB_STORE, storage_type="memory"),
            dcc.Store(
                id=ids.WARM_STORE, data=sample.get("warm"), storage_type="memory"
            ),
            dcc.Store(id=K_VIEWS, data=sample.get("views"), storage_type="memory"),
            dcc.Store(id=FIRST_SCREEN, data=sample.get("first"), storage_type="memory"),
            dcc.Store(id=K_CHOICE, data=sample.get("choice"), storage_type="memory"),
            dcc.Store(id=PANELS_REQUEST, storage_type="memory"),
            dcc.Store(id=K_SETTLED, data=controls.K_DEFAULT, storage_type="memory"),
            dcc.Store(id=TABLE_REQUEST, storage_type="memory"),
            dcc.Store(id=PAGE_TOKEN, data=uuid.uuid4().hex, storage_type="memory"),
            header,
            # landmarks: the header (banner) and everything else in <main>
            html.Main(
                [
                    alert,
                    dbc.Row(
                        [
                            dbc.Col(
                                [
                                    controls.control_column(),
                                    whatif.whatif_panel(),
                                    runs.runs_panel(),
                                    panels.receipt_panel(),
                                ],
                                lg=3,
                                className="control-column",
                            ),
                            dbc.Col(main, lg=9),
                        ],
                        className="g-2",
                    ),
                ],
                className="app-main",
            ),
        ],
        fluid=True,
        className="app-container",
    )
    if sample.get("shown"):
        _fill(page, sample["shown"])
    return page
