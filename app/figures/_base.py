"""Pieces shared by the figure families: margins, tier order, the placeholder."""

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


def placeholder(message: str) -> go.Figure:
    """Return an empty figure that shows ``message`` in its middle."""
    fig = go.Figure(layout={"template": theme.TEMPLATE, "margin": MARGIN})
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
