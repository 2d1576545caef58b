"""The page: header, error alert, control column and the linked panels."""

from __future__ import annotations

import uuid

import dash_bootstrap_components as dbc
from dash import dcc, html

from app import ids
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


def serve_layout() -> dbc.Container:
    """Return the whole page (DESIGN section 7).

    The browser-side stores hold only the dataset id and file name
    (``ids.DATASET_STORE``) and the cross-filter selection
    (``ids.SELECTION_STORE``), and an upload waiting for a column mapping
    (``ids.PENDING_STORE``), and the name of the file the running job loads
    (``ids.JOB_STORE``); k and the style sensitivity live in their sliders.
    Each call (each page load) gets its own :data:`PAGE_TOKEN`.
    """
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
    return dbc.Container(
        [
            dcc.Store(id=ids.DATASET_STORE, storage_type="memory"),
            dcc.Store(id=ids.SELECTION_STORE, storage_type="memory"),
            dcc.Store(id=ids.PENDING_STORE, storage_type="memory"),
            dcc.Store(id=ids.JOB_STORE, storage_type="memory"),
            dcc.Store(id=ids.WARM_STORE, storage_type="memory"),
            dcc.Store(id=PAGE_TOKEN, data=uuid.uuid4().hex, storage_type="memory"),
            header,
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
        fluid=True,
        className="app-container",
    )
