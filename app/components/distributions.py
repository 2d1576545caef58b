"""The distributions panel: box plots of each feature per value tier."""

from __future__ import annotations

from dash import html

from app.components.panels import graph, panel

DISTRIBUTIONS = "feature-distributions"
DISTRIBUTIONS_NOTE = (
    "Each feature's spread within each value tier: the box holds the middle "
    "half of the tier's customers, the line is the median, the whiskers reach "
    "the furthest customers within 1.5 box heights. With a selection, a dark "
    "box beside each tier shows the selected customers of that tier. Counts "
    "and amounts are on log axes."
)


def distributions_panel() -> html.Div:
    """Return the panel of box plots (its figure comes from its callback)."""
    return panel(
        "Distributions per tier (box plots)",
        graph(DISTRIBUTIONS, 560),
        html.Div(DISTRIBUTIONS_NOTE, className="panel-note"),
        info=DISTRIBUTIONS_NOTE,
    )
