"""The selection summary and the rows of the selected-customers table."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from app import glossary, selection, theme
from segmentation import schema

TABLE_ROWS = 25
#: The table's columns; a persona names tier × status, so they come together.
TABLE_COLUMNS: tuple[str, ...] = (
    schema.CUSTOMER_ID,
    schema.VALUE_TIER,
    schema.CUSTOMER_STATUS,
    schema.PERSONA,
    schema.PURCHASE_STYLE,
    schema.RECENCY_DAYS,
    schema.FREQUENCY,
    schema.MONETARY,
    schema.STYLE_REASON,
)


def selection_summary(
    customers: pd.DataFrame, mask: pd.Series | None, chosen: dict | None, personas=None
) -> list:
    """Return "n of N customers, revenue x of y" for the selection (or the whole)."""
    total_n = len(customers)
    total_rev = float(customers[schema.MONETARY].sum())
    rows = customers if mask is None else customers[mask.to_numpy()]
    rev = float(rows[schema.MONETARY].sum())
    share = 100 * rev / total_rev if total_rev else 0.0
    return [
        html.Div(selection.describe(chosen, personas), className="text-muted small"),
        html.Div(
            [
                html.B(theme.fmt_int(len(rows))),
                f" of {theme.fmt_int(total_n)} customers · revenue ",
                html.B(theme.fmt_money(rev)),
                f" ({theme.fmt_pct(share)} of {theme.fmt_money(total_rev)})",
            ]
        ),
    ]


def table_data(
    customers: pd.DataFrame, mask: pd.Series | None, limit: int = TABLE_ROWS
) -> pd.DataFrame:
    """Return the ``limit`` highest-spending selected customers, ``TABLE_COLUMNS``."""
    rows = customers if mask is None else customers[mask.to_numpy()]
    return rows.nlargest(limit, schema.MONETARY)[list(TABLE_COLUMNS)]


#: Numbers, right-aligned (class ``num``).
_FORMATS = {
    schema.RECENCY_DAYS: theme.fmt_int,
    schema.FREQUENCY: theme.fmt_int,
    schema.MONETARY: theme.fmt_money,
}


def selection_table(
    customers: pd.DataFrame, mask: pd.Series | None, limit: int = TABLE_ROWS
) -> dbc.Table:
    """Return the first rows of the selection (highest monetary first) as a table.

    Each heading's hover text (``title``) is the column's meaning from
    :data:`app.glossary.COLUMN_HELP` (e.g. how ``status`` is decided).
    """
    rows = table_data(customers, mask, limit)
    head = html.Thead(
        html.Tr(
            [
                html.Th(
                    c.replace("_", " "),
                    title=glossary.column_help(c),
                    className="num" if c in _FORMATS else None,
                )
                for c in TABLE_COLUMNS
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(_FORMATS[c](record[c]), className="num")
                    if c in _FORMATS
                    else html.Td(str(record[c]))
                    for c in TABLE_COLUMNS
                ]
            )
            for record in rows.to_dict("records")
        ]
    )
    return dbc.Table(
        [head, body], size="sm", striped=True, hover=True, className="customers-table"
    )
