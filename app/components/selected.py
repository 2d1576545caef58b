"""The selection summary and the selected-customers table (an AG Grid).

The table holds every selected customer (up to :data:`MAX_TABLE_ROWS`, the
highest spenders first), pages of :data:`PAGE_SIZE` rows, with sorting and a
filter on every column, each heading's meaning on hover (:mod:`app.glossary`),
amounts in the currency of the page, and an export of the rows it holds (after
the user's filters) as CSV, made in the browser: no run is saved by it.

Rows travel with short field names (:data:`FIELDS`) and amounts in cents, to
keep the answer of a selection small: 158 bytes of JSON per customer on the
built-in sample (62,784 for its 398), so about 0.7 MB for all 4,334 customers
of Online Retail I with nothing selected.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import html

from app import glossary, selection, theme
from app.components.money import money
from segmentation import schema

#: Rows per page of the table.
PAGE_SIZE = 25
#: At most this many rows go to the browser (the highest spenders of the
#: selection); the count line says so when a selection is larger.
MAX_TABLE_ROWS = 20_000
#: Component ids of the table, its count line and its CSV export button.
SELECTED_GRID = "selected-grid"
SELECTED_COUNT = "selected-count"
SELECTED_EXPORT = "selected-export"
#: The table's columns (a persona names tier × status, so they come together)
#: and the short field of each in the rows sent to the browser.
FIELDS: dict[str, str] = {
    schema.CUSTOMER_ID: "id",
    schema.VALUE_TIER: "tier",
    schema.CUSTOMER_STATUS: "status",
    schema.PERSONA: "persona",
    schema.PURCHASE_STYLE: "style",
    schema.RECENCY_DAYS: "recency",
    schema.FREQUENCY: "orders",
    schema.MONETARY: "spent",
    schema.STYLE_REASON: "why",
}
TABLE_COLUMNS: tuple[str, ...] = tuple(FIELDS)
#: Columns the over-time job adds (:mod:`app.callbacks.overtime`), shown after
#: the others when the customers have them: column -> (field, heading, meaning).
OVER_TIME_FIELDS: dict[str, tuple[str, str, str]] = {
    schema.P_ALIVE: (
        "p_alive",
        "P(alive)",
        "probability that the customer still buys (BG/NBD), 0..1",
    ),
    schema.expected_orders_column(90): (
        "orders_90d",
        "Expected orders, 90 days",
        "orders the models expect in the next 90 days (BG/NBD)",
    ),
    schema.clv_column(365): (
        "clv",
        "CLV, 365 days",
        "revenue the models expect in the next 365 days, discounted (no margin)",
    ),
    schema.VALUE_TIER_BEFORE: (
        "tier_before",
        "Tier before",
        "value tier at the earlier date of the tier moves, by the same fitted tiers",
    ),
    schema.STATUS_BEFORE: (
        "status_before",
        "Status before",
        "status at the earlier date of the tier moves",
    ),
}
#: Whole numbers and amounts (right-aligned, number filters).
_COUNTS = (schema.RECENCY_DAYS, schema.FREQUENCY)
_AMOUNTS = (schema.MONETARY,)
#: Columns of long text, given more room (minimum width in pixels).
_WIDE = {schema.PERSONA: 150, schema.STYLE_REASON: 200}
EXPORT_NAME = "selected_customers.csv"


def selection_summary(
    customers: pd.DataFrame, mask: pd.Series | None, chosen: dict | None, personas=None
) -> list:
    """Return "n of N customers · revenue x (p % of y)" for the selection (or all).

    Amounts are :func:`app.components.money.money` spans (the page's currency).
    """
    total_n = len(customers)
    total_rev = float(customers[schema.MONETARY].sum())
    rows = customers if mask is None else customers[mask.to_numpy()]
    rev = float(rows[schema.MONETARY].sum())
    share = 100 * rev / total_rev if total_rev else 0.0
    noun = "customer" if total_n == 1 else "customers"
    return [
        html.Div(selection.describe(chosen, personas), className="text-muted small"),
        html.Div(
            [
                html.B(theme.fmt_int(len(rows))),
                f" of {theme.fmt_int(total_n)} {noun} · revenue ",
                html.B(money(rev)),
                f" ({theme.fmt_pct(share)} of ",
                money(total_rev),
                ")",
            ]
        ),
    ]


def table_data(
    customers: pd.DataFrame, mask: pd.Series | None, limit: int = MAX_TABLE_ROWS
) -> pd.DataFrame:
    """Return the selected customers, highest spend first, :data:`TABLE_COLUMNS`.

    At most ``limit`` rows (the highest spenders); ties keep the file's order.
    """
    rows = customers if mask is None else customers[mask.to_numpy()]
    rows = rows.sort_values(schema.MONETARY, ascending=False, kind="stable")
    return rows.head(limit)[[*TABLE_COLUMNS, *over_time_columns(customers)]]


def over_time_columns(customers: pd.DataFrame) -> list[str]:
    """Return the :data:`OVER_TIME_FIELDS` the customers have, with numbers.

    A lifetime column that is all empty (the models were withheld) is left out.
    """
    return [
        c
        for c in OVER_TIME_FIELDS
        if c in customers.columns and customers[c].notna().any()
    ]


def row_data(customers: pd.DataFrame, mask: pd.Series | None) -> list[dict]:
    """Return the table's rows (AG Grid ``rowData``): every selected customer.

    Parameters
    ----------
    customers : pandas.DataFrame
        Labelled customers (``schema.OUTPUT_COLUMNS``).
    mask : pandas.Series of bool or None
        The selection (None: everyone).

    Returns
    -------
    list of dict
        One per customer, highest spend first, at most :data:`MAX_TABLE_ROWS`;
        ``i`` (int, the customer's position in ``customers``) and
        keys :data:`FIELDS`' values: ``id``, ``tier``, ``status``, ``persona``,
        ``style``, ``why`` (text, ``""`` when missing), ``recency`` and
        ``orders`` (int), ``spent`` (float, rounded to cents); and the
        :data:`OVER_TIME_FIELDS` the customers have (numbers rounded to 3
        decimals, CLV to cents; missing as None).
    """
    rows = table_data(customers, mask)
    out = pd.DataFrame(index=rows.index)
    # each row's position among the customers: the browser's per-k tier and
    # persona columns (:func:`k_table`) are in that order
    out["i"] = np.arange(len(customers))[customers.index.get_indexer(rows.index)]
    for column, field in FIELDS.items():
        values = rows[column]
        if column in _COUNTS:
            out[field] = values.round().astype("int64")
        elif column in _AMOUNTS:
            out[field] = values.astype("float64").round(2)
        else:
            out[field] = values.astype("string").fillna("").astype(object)
    for column in over_time_columns(customers):
        field, values = OVER_TIME_FIELDS[column][0], rows[column]
        if pd.api.types.is_numeric_dtype(values):
            values = values.astype("float64").round(2 if field == "clv" else 3)
            out[field] = values.astype(object).where(values.notna(), None)
        else:
            out[field] = values.astype("string").fillna("").astype(object)
    return out.to_dict("records")


#: The table's columns that a k change changes (the rest do not depend on k).
K_FIELDS = ("tier", "persona")


def k_table(customers: pd.DataFrame) -> dict:
    """Return the table's columns that depend on k, for the browser to keep.

    With these (one per k, in :func:`app.callbacks.panels.k_views`) the
    browser shows a k change in the table without the rows being sent again
    (``assets/k_settled.js``): each row's ``i`` picks its customer's code.

    Parameters
    ----------
    customers : pandas.DataFrame
        Labelled customers at one k, in the order of :func:`row_data`'s ``i``.

    Returns
    -------
    dict
        ``{"tier": {"names", "codes"}, "persona": {"names", "codes"}}``:
        ``names`` the distinct values (text, ``""`` when missing), ``codes``
        one int per customer indexing ``names``. About 2 bytes of JSON per
        customer and column.
    """
    out = {}
    for column, field in FIELDS.items():
        if field in K_FIELDS:
            values = customers[column].astype("string").fillna("").astype(object)
            codes, names = pd.factorize(values)
            out[field] = {"names": [str(n) for n in names], "codes": codes.tolist()}
    return out


def count_line(
    shown: int, matching: int, selected: int, first: int = 0, held: int | None = None
) -> str:
    """Return the line above the table: how many rows are shown of how many.

    Parameters
    ----------
    shown : int
        Rows on the current page.
    matching : int
        Rows that pass the table's filters (= ``held`` without a filter).
    selected : int
        Customers in the selection.
    first : int
        Index of the page's first row (0 on the first page).
    held : int, optional
        Rows the table holds (default ``min(selected, MAX_TABLE_ROWS)``).

    Examples
    --------
    ``count_line(25, 1704, 1704) == "25 of 1,704 customers shown"``,
    ``count_line(12, 12, 12) == "12 customers selected"``,
    ``count_line(1, 1, 1) == "1 customer selected"``.
    """
    held = min(selected, MAX_TABLE_ROWS) if held is None else held
    if shown == matching == selected:
        text = f"{theme.fmt_count(selected, 'customer')} selected"
    else:
        noun = "customer" if matching == 1 else "customers"
        text = f"{theme.fmt_int(shown)} of {theme.fmt_int(matching)} {noun} shown"
        if first > 0 and shown:
            text += f" (rows {first + 1:,}–{first + shown:,})"
        if matching != held:
            text += f", filtered from {theme.fmt_int(held)}"
    if held < selected:
        text += (
            f"; the table holds the {theme.fmt_int(held)} highest spenders of "
            f"{theme.fmt_int(selected)} selected"
        )
    return text


def first_count_line(n_selected: int) -> str:
    """Return :func:`count_line` for the first page of a new selection, unfiltered."""
    held = min(n_selected, MAX_TABLE_ROWS)
    return count_line(min(PAGE_SIZE, held), held, n_selected)


def column_defs(currency: str = "", extra=()) -> list[dict]:
    """Return the table's AG Grid ``columnDefs``, amounts with ``currency``.

    Each column has its plain name (:func:`app.glossary.display_name`) and, as
    its heading's tooltip, its meaning (:func:`app.glossary.column_help`).
    Numbers are right-aligned with number filters; amounts are shown with the
    symbol and thousands separators but exported as plain numbers. ``extra``
    (columns of :data:`OVER_TIME_FIELDS`, those the rows have) come last.
    """
    symbol = _js_string(currency)
    defs = []
    for column, field in FIELDS.items():
        col = {
            "field": field,
            "headerName": glossary.display_name(column),
            "headerTooltip": glossary.column_help(column),
        }
        if column in _COUNTS or column in _AMOUNTS:
            col.update(type="rightAligned", filter="agNumberColumnFilter")
        else:
            col.update(filter="agTextColumnFilter")
        if column in _COUNTS:
            col["valueFormatter"] = {"function": "d3.format(',')(params.value)"}
        if column in _AMOUNTS:
            col["valueFormatter"] = {
                "function": f"segmentationMoney(params.value, {symbol})"
            }
            col["useValueFormatterForExport"] = False
        if column in _WIDE:
            col.update(flex=2, minWidth=_WIDE[column])
        if field in K_FIELDS:  # the k the browser shows (:func:`k_table`)
            col["valueGetter"] = {"function": f"segmentationAtK(params, '{field}')"}
        defs.append(col)
    return defs + [_over_time_def(c, symbol) for c in OVER_TIME_FIELDS if c in extra]


def _over_time_def(column: str, symbol: str) -> dict:
    field, heading, meaning = OVER_TIME_FIELDS[column]
    col = {"field": field, "headerName": heading, "headerTooltip": meaning}
    if field in ("tier_before", "status_before"):
        return {**col, "filter": "agTextColumnFilter"}
    formats = {
        "p_alive": "d3.format('.2f')(params.value)",
        "orders_90d": "d3.format(',.2f')(params.value)",
        "clv": f"segmentationMoney(params.value, {symbol})",
    }
    return {
        **col,
        "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {"function": f"params.value == null ? '' : {formats[field]}"},
        "useValueFormatterForExport": False,
    }


def _js_string(text: str) -> str:
    """Return ``text`` as a JavaScript string literal (only known symbols pass)."""
    if text not in theme.CURRENCIES:
        raise ValueError(
            f"currency {text!r}: expected one of {sorted(theme.CURRENCIES)}"
        )
    return f"'{text}'"


def customers_grid() -> html.Div:
    """Return the count line, the export button and the (empty) table.

    The rows (:func:`row_data`), the count line and the columns
    (:func:`column_defs`) are filled in by :mod:`app.callbacks.selection`.
    """
    grid = dag.AgGrid(
        id=SELECTED_GRID,
        rowData=[],
        columnDefs=column_defs(),
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "filter": True,
            "floatingFilter": True,
            "minWidth": 90,
            "flex": 1,
            "suppressHeaderMenuButton": True,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": PAGE_SIZE,
            "paginationPageSizeSelector": [PAGE_SIZE, 50, 100],
            "domLayout": "autoHeight",
            "tooltipShowDelay": 300,
            "animateRows": False,
            "enableCellTextSelection": True,
            "ensureDomOrder": True,
        },
        csvExportParams={"fileName": EXPORT_NAME},
        className="ag-theme-quartz customers-grid",
        style={"width": "100%"},
    )
    export = dbc.Button(
        "Export these rows (CSV)",
        id=SELECTED_EXPORT,
        size="sm",
        color="secondary",
        outline=True,
        title="The rows of the table, with your filters and sort, as a CSV file "
        "(made in your browser; nothing is saved on the server)",
    )
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        id=SELECTED_COUNT,
                        className="selected-count",
                        role="status",
                        **{"aria-live": "polite"},
                    ),
                    export,
                ],
                className="selected-bar",
            ),
            grid,
        ]
    )
