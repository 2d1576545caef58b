"""The what-if panel: a hypothetical customer's recency, frequency and monetary."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app import ids, theme
from app.components.panels import panel
from app.components.runs import STACKED

#: (id, label) of the three inputs, in the order of ``schema.RFM_COLUMNS``.
FIELDS: tuple[tuple[str, str], ...] = (
    (ids.WHATIF_RECENCY, "Recency (days since last order)"),
    (ids.WHATIF_FREQUENCY, "Frequency (orders)"),
    (ids.WHATIF_MONETARY, "Monetary (total spent)"),
)
_FIELD_STYLE = {
    "display": "flex",
    "justifyContent": "space-between",
    "alignItems": "center",
    "gap": "0.5rem",
    "marginBottom": "0.25rem",
}
_INPUT_STYLE = {"width": "7.5rem", "padding": "0.1rem 0.3rem"}


def whatif_panel() -> dbc.Card:
    """Return the panel: three number inputs, the answer, and its point's store."""
    fields = [
        html.Div(
            [
                html.Label(label, htmlFor=field, className="small"),
                dbc.Input(
                    id=field,
                    type="number",
                    min=0,
                    size="sm",
                    debounce=True,
                    style=_INPUT_STYLE,
                ),
            ],
            style=_FIELD_STYLE,
        )
        for field, label in FIELDS
    ]
    card = panel(
        "What if? A hypothetical customer",
        *fields,
        html.Div(
            id=ids.WHATIF_RESULT,
            className="small whatif-result",
            **{"aria-live": "polite"},
        ),
        dcc.Store(id=ids.WHATIF_STORE, storage_type="memory"),
        class_name="whatif",
    )
    card.style = STACKED
    return card


def whatif_result(
    scored: dict, recency: float, frequency: float, monetary: float, drawn=True
) -> list:
    """Return the scored customer in words.

    Parameters
    ----------
    scored : dict
        One row of :func:`segmentation.segmentation.score`: value_tier, persona,
        r_score, f_score, m_score, rfm_segment.
    recency, frequency, monetary : float
        What was scored (days, orders, the file's currency).
    drawn : bool
        Whether the star is on the scatter; False (the dataset's medians, not
        yet changed): the last line asks for a value instead.
    """
    return [
        html.Div(
            [
                f"{recency:,g} days, {frequency:,g} orders, "
                f"{theme.fmt_money(monetary)} → value tier ",
                html.B(scored["value_tier"]),
                ", persona ",
                html.B(scored["persona"]),
                ".",
            ]
        ),
        html.Div(
            [
                "RFM segment ",
                html.B(scored["rfm_segment"]),
                f" (R {scored['r_score']}, F {scored['f_score']}, "
                f"M {scored['m_score']}).",
            ]
        ),
        html.Div(
            "Its purchase style needs the basket features; the star on the "
            "scatter marks it."
            if drawn
            else "These are the dataset's medians; change a value to place the "
            "customer as a star on the scatter.",
            className="text-muted",
        ),
    ]
