"""Shared by the figure families: margins, tier order and colours, the placeholder."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app import theme
from segmentation import schema

#: Figure margins in pixels (axes use ``automargin`` for their labels).
MARGIN = {"l": 10, "r": 10, "t": 36, "b": 10}


def tier_order(customers: pd.DataFrame) -> list[str]:
    """Return the value tiers present, from lowest to highest value cluster."""
    pairs = customers[[schema.VALUE_CLUSTER, schema.VALUE_TIER]].drop_duplicates()
    return pairs.sort_values(schema.VALUE_CLUSTER)[schema.VALUE_TIER].tolist()


def tier_colours(customers: pd.DataFrame) -> dict[str, str]:
    """Return each value tier's colour (:func:`app.theme.tier_colours`), by name.

    k is the number of value clusters (the highest cluster + 1), so the top
    tier takes the scale's top colour whichever tiers are present. HDBSCAN's
    Unclustered customers (cluster -1) are ``theme.UNCLUSTERED_COLOUR``.
    """
    pairs = customers[[schema.VALUE_CLUSTER, schema.VALUE_TIER]].drop_duplicates()
    if pairs.empty:
        return {}
    k = max(int(pairs[schema.VALUE_CLUSTER].max()) + 1, 1)
    return {
        str(tier): theme.tier_colour(int(cluster), k)
        for cluster, tier in pairs.itertuples(index=False)
    }


def tier_ticks(tiers: list[str], colours: dict[str, str]) -> dict:
    """Return axis settings that put a dot of its colour after each tier's name.

    The axis values stay the tier names (clicks and hovers read them); only the
    tick labels change. A row without a tier colour (``"Selection"``) is plain.
    """
    text = [
        f"{tier} <span style='color:{colours[tier]}'>●</span>"
        if tier in colours
        else str(tier)
        for tier in tiers
    ]
    return {"tickmode": "array", "tickvals": list(tiers), "ticktext": text}


def placeholder(message: str) -> go.Figure:
    """Return an empty figure that shows ``message`` in its middle.

    Its ``layout.meta.currency`` is the server's symbol, so that traces drawn
    into it later (the browser's every-k views, whose templates read it) find
    one until the currency setting patches it.
    """
    fig = go.Figure(
        layout={
            "template": theme.TEMPLATE,
            "margin": MARGIN,
            "meta": {theme.CURRENCY_META: theme.currency_symbol(None)},
        }
    )
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
