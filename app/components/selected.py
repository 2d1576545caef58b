"""The selection summary and the rows of the selected-customers table."""

from __future__ import annotations

import pandas as pd
from dash import html

from app import selection, theme
from segmentation import schema

TABLE_ROWS = 50
TABLE_COLUMNS: tuple[str, ...] = (
    schema.CUSTOMER_ID, schema.VALUE_TIER, schema.PURCHASE_STYLE, schema.PERSONA,
    schema.RECENCY_DAYS, schema.FREQUENCY, schema.MONETARY, schema.STYLE_REASON,
)


def selection_summary(customers: pd.DataFrame, mask: pd.Series | None,
                      chosen: dict | None, personas=None) -> list:
    """Return "n of N customers, revenue x of y" for the selection (or the whole)."""
    total_n = len(customers)
    total_rev = float(customers[schema.MONETARY].sum())
    rows = customers if mask is None else customers[mask.to_numpy()]
    rev = float(rows[schema.MONETARY].sum())
    share = 100 * rev / total_rev if total_rev else 0.0
    return [
        html.Div(selection.describe(chosen, personas), className="text-muted small"),
        html.Div([html.B(theme.fmt_int(len(rows))), f" of {theme.fmt_int(total_n)} "
                  "customers · revenue ", html.B(theme.fmt_money(rev)),
                  f" ({theme.fmt_pct(share)} of {theme.fmt_money(total_rev)})"]),
    ]


def table_data(customers: pd.DataFrame, mask: pd.Series | None,
               limit: int = TABLE_ROWS) -> tuple[list[dict], list[dict]]:
    """Return (records, columns) of the first ``limit`` selected customers."""
    rows = customers if mask is None else customers[mask.to_numpy()]
    head = rows.sort_values(schema.MONETARY, ascending=False).head(limit)
    head = head[list(TABLE_COLUMNS)].assign(
        **{schema.MONETARY: head[schema.MONETARY].round(2)})
    columns = [{"name": c.replace("_", " "), "id": c,
                "type": "numeric" if pd.api.types.is_numeric_dtype(head[c]) else "text"}
               for c in TABLE_COLUMNS]
    return head.astype(object).to_dict("records"), columns
