"""The assumptions above the panels: everything the engine decided for the user.

DESIGN section 4: assumptions are announced above the app's panels, not only in
the run report: how the file was read (``PreparedData.notes``: an encoding
fallback, the day/month order, a missing quantity, a customer column where
almost everyone has one order ...) and the rules it was cleaned by
(``CleaningReport.rules``: how returns were recognised, the duplicate policy,
cancelled orders). One bullet each, for the dataset on screen.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from app import ids

#: A warning-coloured alert (the page's stylesheet styles only the danger alert).
ALERT_STYLE = {"background": "#fff6dc", "borderColor": "#e6c65c", "color": "#4a3900"}


def assumptions_alert() -> dbc.Alert:
    """Return the (initially closed) alert that lists the dataset's assumptions."""
    return dbc.Alert(
        id=ids.ASSUMPTIONS,
        color="warning",
        is_open=False,
        dismissable=True,
        className="assumptions",
        style=ALERT_STYLE,
    )


def assumptions_of(prepared) -> list[str]:
    """Return every assumption made on a dataset: reading notes, then rules.

    Parameters
    ----------
    prepared : segmentation.PreparedData
        Its ``notes`` and its report's ``rules`` (one sentence each).
    """
    rules = getattr(prepared.report, "rules", None) or []
    return [*prepared.notes, *rules]


def assumptions_children(prepared) -> list:
    """Return the alert's title (naming the file) and one bullet per assumption."""
    return [
        html.Div(
            f"How {prepared.source_name} was read: check these hold for your data",
            className="small",
            style={"fontWeight": 600},
        ),
        html.Ul(
            [html.Li(sentence) for sentence in assumptions_of(prepared)],
            id=ids.ASSUMPTIONS_LIST,
            className="small",
            style={"margin": "2px 0 0", "paddingLeft": "20px"},
        ),
    ]
