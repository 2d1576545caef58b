"""The control column: upload, how to read it, k, sensitivity, status, download."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app import ids, theme
from app.components.mapping import mapping_panel
from app.components.methods import K_LABEL, K_LABEL_TIERS, method_choice
from app.upload_route import UPLOAD_LIMIT_BYTES, UPLOAD_PATH, limit_words
from segmentation import settings

ACCEPTED_EXTENSIONS = ".csv,.xlsx,.xls,.xlsm"
#: Upload size accepted (bytes): checked by the browser before sending, by
#: ``POST /upload`` and by the engine (``segmentation.io.DEFAULT_LIMITS``).
MAX_UPLOAD_BYTES = UPLOAD_LIMIT_BYTES
K_MIN, K_MAX, K_DEFAULT = settings.K_MIN, settings.K_MAX, settings.DEFAULT_K
ANOMALY_MIN_PCT, ANOMALY_MAX_PCT, ANOMALY_DEFAULT_PCT = 1, 10, 2
DOWNLOAD_SCOPES = (("all", "All customers"), ("selection", "Selection only"))
#: The "Dates" choice: (value, label, ``day_first`` passed to ``prepare``).
DATE_ORDERS = (
    ("auto", "Decide from the data", None),
    ("day", "Day first", True),
    ("month", "Month first", False),
)
DATE_ORDER_DEFAULT = DATE_ORDERS[0][0]


def day_first_of(choice: str | None) -> bool | None:
    """Return ``day_first`` for a value of the "Dates" choice (None: decide)."""
    return next((day for value, _, day in DATE_ORDERS if value == choice), None)


def date_order_of(day_first: bool | None) -> str:
    """Return the "Dates" choice's value for a ``day_first`` setting."""
    return next(value for value, _, day in DATE_ORDERS if day is day_first)


def upload_box() -> html.Div:
    """Drag-and-drop upload, "Cancel upload", "try the sample data", and stores.

    ``#upload`` is a ``dcc.Upload`` (its plain ``<input type=file>`` and the
    drop zone), but its file never goes through it: ``assets/upload.js`` takes
    the chosen or dropped file before the component reads it and sends it to
    ``POST /upload`` as it is read (:mod:`app.upload_route`), with its progress
    in bytes, and empties the input so that the same file can be chosen again.
    The limit (``data-max-bytes``) is checked in the browser before a byte is
    sent, and again by the route.
    """
    return html.Div(
        [
            html.Div(
                dcc.Upload(
                    id=ids.UPLOAD,
                    accept=ACCEPTED_EXTENSIONS,
                    className="upload-box",
                    className_active="upload-box active",
                    children=html.Div(
                        [
                            "Drop a retail export here or ",
                            html.A("choose a file"),
                            html.Div(
                                f".csv .xlsx .xls .xlsm, up to {limit_words()}",
                                className="hint",
                            ),
                        ]
                    ),
                ),
                className="upload-target",
                **{"data-max-bytes": str(MAX_UPLOAD_BYTES), "data-path": UPLOAD_PATH},
            ),
            # what was sent, and the page address's view (app.callbacks.view_url)
            *[
                dcc.Store(id=store)
                for store in (
                    ids.UPLOADED_STORE,
                    ids.URL_QUERY,
                    ids.VIEW_STORE,
                    ids.VIEW_LINK,
                )
            ],
            dbc.Button(
                "Cancel upload",
                id=ids.UPLOAD_CANCEL,
                color="danger",
                size="sm",
                outline=True,
                className="mt-1",
                style={"display": "none"},
            ),
            dbc.Button(
                "Try the sample data",
                id=ids.SAMPLE_BUTTON,
                color="secondary",
                outline=True,
                size="sm",
                className="mt-2 w-100",
            ),
        ]
    )


def reading_options() -> html.Div:
    """Return how uploads are read: duplicate removal and the date order.

    Changing either prepares the dataset on screen again with the new setting
    (:func:`app.callbacks.upload.load_dataset`).
    """
    return html.Div(
        [
            dbc.Switch(
                id=ids.DUPLICATES_SWITCH,
                label="Remove duplicate lines",
                value=True,
                className="small mt-2",
            ),
            html.Label("Dates", htmlFor=ids.DATE_ORDER, className="control-label"),
            dbc.RadioItems(
                id=ids.DATE_ORDER,
                value=DATE_ORDER_DEFAULT,
                options=[
                    {"label": label, "value": value} for value, label, _ in DATE_ORDERS
                ],
                inline=True,
                className="small",
            ),
        ],
        className="reading-options",
    )


def tuning() -> html.Div:
    """Return the k slider, the method beside it and the style sensitivity slider.

    For HDBSCAN the k slider's label says k sets the smallest group
    (:mod:`app.components.methods`).
    """
    return html.Div(
        [
            html.Label(
                K_LABEL_TIERS,
                id=K_LABEL,
                htmlFor=ids.K_SLIDER,
                className="control-label",
            ),
            dcc.Slider(
                id=ids.K_SLIDER,
                min=K_MIN,
                max=K_MAX,
                step=1,
                value=K_DEFAULT,
                marks={k: str(k) for k in range(K_MIN, K_MAX + 1)},
                updatemode="mouseup",
            ),
            method_choice(),
            html.Label(
                "Style sensitivity: anomaly share (%)",
                htmlFor=ids.ANOMALY_SLIDER,
                className="control-label",
            ),
            dcc.Slider(
                id=ids.ANOMALY_SLIDER,
                min=ANOMALY_MIN_PCT,
                max=ANOMALY_MAX_PCT,
                step=1,
                value=ANOMALY_DEFAULT_PCT,
                marks={p: f"{p}" for p in range(ANOMALY_MIN_PCT, ANOMALY_MAX_PCT + 1)},
            ),
        ]
    )


#: The "Currency" setting and the symbol it resolves to (see
#: :mod:`app.callbacks.currency`): "file" = the file's currency when known.
CURRENCY_CHOICE = "currency-choice"
CURRENCY_STORE = "currency-store"
CURRENCY_BOX = "currency-box"
CURRENCY_FROM_FILE = "file"
CURRENCY_NONE = "none"


def currency_options(stated: str | None) -> list[dict]:
    """Return the "Currency" options; the first says the file's (``stated``)."""
    from_file = f"As in the file ({stated or 'not stated'})"
    options = [{"label": from_file, "value": CURRENCY_FROM_FILE}]
    options += [
        {"label": f"{symbol} ({name})", "value": symbol}
        for symbol, name in theme.CURRENCIES.items()
        if symbol
    ]
    options.append({"label": "None (plain numbers)", "value": CURRENCY_NONE})
    return options


def currency_choice() -> html.Div:
    """Return the "Currency" setting: the file's, £, $, € or none.

    The choice is kept in the browser (``localStorage``) across reloads; the
    symbol it resolves to for the dataset on screen is in ``CURRENCY_STORE``.
    """
    return html.Div(
        [
            html.Label("Currency", htmlFor=CURRENCY_CHOICE, className="control-label"),
            dbc.Select(
                id=CURRENCY_CHOICE,
                options=currency_options(None),
                value=CURRENCY_FROM_FILE,
                size="sm",
                persistence=True,
                persistence_type="local",
            ),
            dcc.Store(id=CURRENCY_STORE, data=""),
        ],
        id=CURRENCY_BOX,
        className="currency-choice",
    )


def run_status() -> html.Div:
    """Progress bar, step text, cancel button and the last run's result."""
    return html.Div(
        id=ids.RUN_STATUS,
        className="run-status",
        children=[
            dbc.Progress(
                id=ids.PROGRESS_BAR,
                value=0,
                max=100,
                striped=True,
                animated=True,
                className="mb-1",
                style={"display": "none"},
            ),
            html.Div(id=ids.PROGRESS_TEXT, className="small text-muted"),
            dbc.Button(
                "Cancel",
                id=ids.CANCEL_BUTTON,
                color="danger",
                size="sm",
                outline=True,
                className="mt-1",
                style={"display": "none"},
            ),
            html.Div(id=ids.RUN_RESULT, className="small"),
        ],
    )


def download_box() -> html.Div:
    """Download of the labelled customer CSV (all or selection) and the reports."""
    return html.Div(
        [
            dbc.RadioItems(
                id=ids.DOWNLOAD_SCOPE,
                value="all",
                inline=True,
                options=[{"label": lab, "value": v} for v, lab in DOWNLOAD_SCOPES],
                className="small",
            ),
            dbc.ButtonGroup(
                [
                    dbc.Button(
                        "Download CSV",
                        id=ids.DOWNLOAD_BUTTON,
                        color="primary",
                        size="sm",
                    ),
                    dbc.Button(
                        "Run report (JSON)",
                        id=ids.REPORT_BUTTON,
                        color="primary",
                        outline=True,
                        size="sm",
                    ),
                ],
                className="mt-1 w-100",
            ),
            dbc.Button(
                "Download report (HTML)",
                id=ids.HTML_REPORT_BUTTON,
                title="A printable page of this run: receipt, tiers and personas, "
                "grids, choosing k",
                color="primary",
                outline=True,
                size="sm",
                className="mt-1 w-100",
            ),
            dcc.Download(id=ids.DOWNLOAD),
            dcc.Download(id=ids.DOWNLOAD_REPORT),
            dcc.Download(id=ids.DOWNLOAD_HTML_REPORT),
        ]
    )


def control_column() -> dbc.Card:
    """Return the left column of the page."""
    section = "control-section"
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [upload_box(), reading_options(), mapping_panel()],
                    className=section,
                ),
                html.Div([tuning(), currency_choice()], className=section),
                html.Div(run_status(), className=section),
                html.Div(download_box(), className=section),
            ]
        ),
        className="control-card",
    )
