"""Persona cards: one clickable card per value cluster."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from app import ids, theme
from segmentation import schema
from segmentation.personas import PERSONA_TEXT


def persona_cards(
    customers: pd.DataFrame,
    personas: pd.DataFrame | None,
    mask: pd.Series | None = None,
    selected_cluster: int | None = None,
) -> list[html.Div]:
    """Return one card per value cluster, highest value first.

    Parameters
    ----------
    customers : pandas.DataFrame
        Labelled customers (``schema.OUTPUT_COLUMNS``); sizes, revenue shares and
        medians are computed from it.
    personas : pandas.DataFrame or None
        Index ``value_cluster``; its ``description`` and ``action`` are shown.
    mask : pandas.Series of bool, optional
        The selection; each card then shows how many of it fall in the cluster.
    selected_cluster : int, optional
        The card drawn as selected.

    Returns
    -------
    list of dash.html.Div
        Each with the pattern-matching id ``ids.persona_card(cluster)`` and
        ``n_clicks``.
    """
    total_revenue = float(customers[schema.MONETARY].sum()) or 1.0
    groups = customers.groupby(schema.VALUE_CLUSTER)
    k = int(customers[schema.VALUE_CLUSTER].max()) + 1 if len(customers) else 0
    cards = []
    for cluster, rows in sorted(groups, key=lambda item: -item[0]):
        known = personas is not None and cluster in personas.index
        info = personas.loc[cluster] if known else pd.Series(dtype=object)
        n_selected = None if mask is None else int(mask[rows.index].sum())
        cards.append(
            _card(
                int(cluster),
                theme.tier_colour(cluster, k),
                rows,
                info,
                total_revenue,
                n_selected,
                selected=cluster == selected_cluster,
            )
        )
    return cards


def _meaning(info: pd.Series) -> str:
    """Return the persona's one-line meaning (the card shows the medians apart)."""
    text = PERSONA_TEXT.get(info.get("persona"))
    return text[0] if text else str(info.get("description", ""))


def _card(cluster, colour, rows, info, total_revenue, n_selected, selected) -> html.Div:
    first = rows.iloc[0]
    medians = rows[[schema.RECENCY_DAYS, schema.FREQUENCY, schema.MONETARY]].median()
    share = 100 * rows[schema.MONETARY].sum() / total_revenue
    body = [
        html.Div(str(first[schema.VALUE_TIER]), className="persona-tier"),
        html.H6(str(info.get("persona", first[schema.PERSONA])), className="mb-1"),
        html.Div(
            f"{theme.fmt_count(len(rows), 'customer')} · {theme.fmt_pct(share)} "
            "of revenue",
            className="persona-size",
        ),
        html.Div(
            f"median: {theme.fmt_count(medians[schema.RECENCY_DAYS], 'day')} "
            "since last order, "
            f"{theme.fmt_count(medians[schema.FREQUENCY], 'order')}, "
            f"{theme.fmt_money(medians[schema.MONETARY])}",
            className="small text-muted",
        ),
        html.P(_meaning(info), className="small mb-1"),
        html.Div([html.B("Action: "), str(info.get("action", ""))], className="small"),
    ]
    if n_selected is not None:
        body.append(
            dbc.Badge(
                f"{theme.fmt_int(n_selected)} selected", color="dark", className="mt-1"
            )
        )
    return html.Div(
        dbc.Card(
            dbc.CardBody(body),
            className="h-100",
            style={"borderTop": f"6px solid {colour}"},
        ),
        id=ids.persona_card(cluster),
        n_clicks=0,
        className="persona-card selected" if selected else "persona-card",
    )
