"""The lifetime models' check on the user's own data: predicted vs actual orders.

The engine fits BG/NBD on the history before ``as_of - days`` and predicts each
customer's orders in the held-out days (:func:`segmentation.lifetime._fit.holdout`,
the run report's ``lifetime.holdout``). The figure puts the predicted sum beside
the actual orders for each group of customers by their repeat orders in the
calibration period (0 .. 6 and "7+", as Fader, Hardie & Lee 2005, figure 4), and
the totals in its title.
"""

from __future__ import annotations

import textwrap

import plotly.graph_objects as go

from app import theme
from app.figures._base import MARGIN, placeholder

#: Bar colours: predicted (viridis' dark blue, as the model's) and actual (grey).
PREDICTED_COLOUR = "#3b528b"
ACTUAL_COLOUR = "#9aa3ad"


def holdout_figure(holdout: dict | None) -> go.Figure:
    """Return the predicted vs actual orders in the held-out days.

    Parameters
    ----------
    holdout : dict or None
        The report's ``lifetime.holdout``: ``days``, ``calibration_end``,
        ``withheld`` (a reason, or None), ``customers``,
        ``predicted_orders``, ``actual_orders`` and ``by_repeat_orders``
        (``repeat_orders``, ``customers``, ``predicted_orders``,
        ``actual_orders`` per group).

    Returns
    -------
    plotly.graph_objects.Figure
        Two bar traces named "Predicted" and "Actual" (x: the groups, y: orders
        in the held-out days); or a placeholder saying why there is no check.
    """
    if not holdout:
        return placeholder("No holdout check (choose holdout days above).")
    if holdout.get("withheld"):
        words = textwrap.wrap(f"No holdout check: {holdout['withheld']}.", 60)
        return placeholder("<br>".join(words))
    groups = holdout["by_repeat_orders"]
    x = [g["repeat_orders"] for g in groups]
    customers = [g["customers"] for g in groups]
    fig = go.Figure(layout={"template": theme.TEMPLATE, "margin": {**MARGIN, "t": 56}})
    for name, key, colour in (
        ("Predicted", "predicted_orders", PREDICTED_COLOUR),
        ("Actual", "actual_orders", ACTUAL_COLOUR),
    ):
        fig.add_bar(
            name=name,
            x=x,
            y=[g[key] for g in groups],
            marker_color=colour,
            customdata=customers,
            hovertemplate=f"{name}: %{{y:,.0f}} orders<br>"
            "%{customdata:,} customers with %{x} repeat orders<extra></extra>",
        )
    predicted, actual = holdout["predicted_orders"], holdout["actual_orders"]
    gap = 100 * (predicted - actual) / actual if actual else float("nan")
    fig.update_layout(
        barmode="group",
        margin={**MARGIN, "t": 64},
        title={
            "text": (
                f"Last {holdout['days']} days held out (from "
                f"{holdout['calibration_end']})<br>predicted "
                f"{theme.fmt_int(predicted)} orders, actual {theme.fmt_int(actual)}"
                + (f" ({gap:+.0f} %)" if actual else "")
            ),
            "font": {"size": 13},
            "x": 0.01,
            "xanchor": "left",
        },
        legend={"orientation": "h", "x": 0.01, "y": 0.98, "xanchor": "left"},
    )
    fig.update_xaxes(title="Repeat orders before the held-out days", type="category")
    fig.update_yaxes(title="Orders in the held-out days")
    return fig
