"""The customer scatter: log frequency × log monetary, one point per customer.

Colour is the value tier and symbol the purchase style (:mod:`app.theme`). Which
customers it draws beyond a threshold, and which lie inside a box or lasso on it,
is :mod:`app.figures.scatter_points`. Pure: the customers are never modified.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Patch

from app import theme
from app.figures import scatter_points
from app.figures._base import MARGIN, placeholder, tier_colours, tier_order
from segmentation import schema

#: Name of the what-if customer's marker on the scatter.
WHATIF_NAME = "what-if"
#: Positions in ``layout.annotations`` of the what-if star and its label: always
#: there (hidden without a what-if), so that :func:`whatif_patch` can move them.
WHATIF_SLOTS: tuple[int, int] = (0, 1)


def customer_scatter(
    customers: pd.DataFrame,
    mask: pd.Series | None = None,
    uirevision: str | None = None,
    selectionrevision: str | None = None,
    whatif: dict | None = None,
    currency: str | None = None,
) -> dict:
    """WebGL scatter of log frequency vs log monetary, colour = tier, symbol = style.

    One trace per value tier × purchase style (a scalar symbol per trace keeps
    the payload small); the traces of a tier share its legend entry
    (``legendgroup`` = tier). ``customdata`` rows are
    ``[customer_id, recency text]`` (the id first: selections read it). With
    ``mask``, selected points are drawn as selected and the others dimmed
    (``selectedpoints``). Beyond ``scatter_points.MAX_POINTS`` customers it draws
    the sample of :func:`app.figures.scatter_points.sample_positions` and says so
    above the plot (``layout.meta.shown`` / ``layout.meta.total``). ``uirevision``
    keeps zoom and legend state while it is unchanged; ``selectionrevision``
    keeps the user's box or lasso: when it changes, plotly drops the box and
    reports an empty selection. ``whatif``
    (``{"frequency", "monetary"}``) shows the what-if customer's star, in the
    annotations :data:`WHATIF_SLOTS` (hidden without one; :func:`whatif_patch`
    moves it without redrawing the points). ``currency`` is the symbol of the
    spend axis title and hovers (None: ``theme.CURRENCY``; ``""``: none); the
    hovers read it from ``layout.meta.currency`` (:data:`app.theme.
    CURRENCY_META`), so :func:`currency_patch` changes it without the points.

    The tier legend lists the tiers highest value first, as the grid's rows
    read from the top: one legend-only circle per tier (``legendrank`` = its
    row), so a tier's swatch never takes a style's symbol; clicking it toggles
    the tier's traces (same ``legendgroup``). The point traces themselves come
    lowest tier first, so the few high-value points are drawn on top.

    Returns
    -------
    dict
        A plotly figure as plain data (``go.Figure(result)`` validates it): this
        figure is rebuilt on every k change, and plotly's per-property
        validation of thousands of points cost more than the rest of the panels.
    """
    total = len(customers)
    colours = tier_colours(customers)  # before sampling: k is the whole's
    sample = scatter_points.sample_positions(customers)
    if sample is not None:
        customers = customers.iloc[sample]
        mask = None if mask is None else mask.iloc[sample]
    base = scatter_base(customers)
    traces = [hydrate(trace, base) for trace in tier_traces(customers, mask, colours)]
    traces += style_entries()
    layout = {
        "template": theme.TEMPLATE,
        "margin": {**MARGIN, "b": 30},
        "dragmode": "select",
        # tiers: a tight column on the right (no gap between tier groups, so
        # k = 10 fits); styles: one row at the bottom, under the x axis title
        "legend": {
            "title": {"text": "Value tier"},
            "traceorder": "grouped",
            "tracegroupgap": 0,
            "font": legend_font(customers),
            "itemsizing": "constant",
            "y": 1,
            "yanchor": "top",
        },
        "legend2": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 0,
            "yref": "container",
            "yanchor": "bottom",
            "font": {"size": 11},
            "title": {"text": "Purchase style:", "side": "left"},
        },
        "xaxis": {
            "type": "log",
            "title": {"text": theme.ORDERS_AXIS_TITLE},
            "dtick": 1,
        },
        "yaxis": {
            "type": "log",
            "title": {"text": theme.money_axis_title(currency=currency)},
            "dtick": 1,
        },
        "uirevision": uirevision,
        "selectionrevision": selectionrevision,
        "annotations": [
            *whatif_annotations(whatif, currency),
            *sample_note(len(customers), total),
        ],
        "meta": {
            "shown": len(customers),
            "total": total,
            theme.CURRENCY_META: theme.currency_symbol(currency),
        },
    }
    return {"data": traces, "layout": layout}


def currency_patch(
    currency: str | None, whatif: dict | None = None, patch: Patch | None = None
) -> Patch:
    """Return a partial update of :func:`customer_scatter` to another currency.

    It sets ``layout.meta.currency`` (every point's hover reads it), the spend
    axis title and the what-if star's hover (:data:`WHATIF_SLOTS`); the
    points, the selection and the zoom stay as they are. The same paths exist
    in :func:`scatter_placeholder` (the star's slots) or are created.

    Parameters
    ----------
    currency : str or None
        The symbol (None: ``theme.CURRENCY``, ``""``: none).
    whatif : dict or None
        The star on screen, as for :func:`whatif_annotations`.
    patch : dash.Patch, optional
        A patch to add to (default a new one).
    """
    patch = Patch() if patch is None else patch
    patch["layout"]["meta"][theme.CURRENCY_META] = theme.currency_symbol(currency)
    patch["layout"]["yaxis"]["title"]["text"] = theme.money_axis_title(
        currency=currency
    )
    return whatif_patch(whatif, currency, patch)


def sample_note(shown: int, total: int) -> list[dict]:
    """Return the note above a sampled scatter (none when every customer is drawn)."""
    if shown == total:
        return []
    # two short lines: the modebar sits at the top right on hover
    text = (
        f"a sample of {theme.fmt_int(shown)} of "
        f"{theme.fmt_count(total, 'customer')}<br>"
        "a box or lasso selects everyone inside"
    )
    return [
        {
            "text": text,
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": 1,
            "xanchor": "left",
            "yanchor": "bottom",
            "yshift": 4,
            "showarrow": False,
            "align": "left",
            "font": {"size": 10, "color": "#555555"},
        }
    ]


def whatif_annotations(whatif: dict | None, currency: str | None = None) -> list[dict]:
    """Return the what-if star and its label: the annotations :data:`WHATIF_SLOTS`.

    Annotations, not a trace: a box or lasso selects only customers' points
    (annotation positions on log axes are log10 values). The star is
    ``theme.WHATIF_COLOUR`` (no tier's colour) outlined in
    ``theme.WHATIF_OUTLINE`` (a text shadow on every side).

    Parameters
    ----------
    whatif : dict or None
        ``{"frequency": orders, "monetary": total spent}`` (other keys ignored);
        None for no what-if customer.
    currency : str or None
        The symbol of the star's hover (None: ``theme.CURRENCY``).

    Returns
    -------
    list of dict
        Two annotations named ``WHATIF_NAME`` and ``WHATIF_NAME + "-label"``;
        both ``visible: False`` without a what-if, or when a coordinate is not
        positive (a log axis cannot show it).
    """
    if not whatif or not (whatif["frequency"] > 0 and whatif["monetary"] > 0):
        hidden = {"visible": False, "text": "", "x": 0, "y": 0, "showarrow": False}
        return [
            {**hidden, "name": WHATIF_NAME},
            {**hidden, "name": f"{WHATIF_NAME}-label"},
        ]
    frequency, monetary = whatif["frequency"], whatif["monetary"]
    where = {
        "visible": True,
        "x": float(np.log10(frequency)),
        "y": float(np.log10(monetary)),
        "xref": "x",
        "yref": "y",
        "showarrow": False,
    }
    return [
        {
            **where,
            "name": WHATIF_NAME,
            "text": "★",
            "font": {
                "size": 24,
                "color": theme.WHATIF_COLOUR,
                "shadow": _OUTLINE,
            },
            "hovertext": (
                f"What-if customer: {frequency:,g} "
                f"{'order' if frequency == 1 else 'orders'}, "
                f"{theme.fmt_money(monetary, currency=currency)} spent in total"
            ),
        },
        {
            **where,
            "name": f"{WHATIF_NAME}-label",
            "text": "what-if",
            "xanchor": "left",
            "xshift": 10,
            "font": {"size": 11, "color": theme.WHATIF_OUTLINE},
        },
    ]


def scatter_placeholder(message: str) -> go.Figure:
    """Return the scatter until its points arrive: ``message`` and the star's slots.

    The what-if annotations :data:`WHATIF_SLOTS` come first (hidden), so that
    :func:`whatif_patch` finds them even when a what-if is typed before the
    panels arrive; the message is the third annotation.
    """
    fig = placeholder(message)
    fig.layout.annotations = [*whatif_annotations(None), *fig.layout.annotations]
    return fig


def whatif_patch(
    whatif: dict | None, currency: str | None = None, patch: Patch | None = None
) -> Patch:
    """Return a partial update of :func:`customer_scatter` that moves only the star.

    It assigns the annotations :data:`WHATIF_SLOTS` and nothing else: the points,
    their ``selectedpoints``, ``uirevision`` and ``selectionrevision`` are left as
    they are, so the browser keeps a box or lasso the user is drawing (a whole
    new figure would make plotly drop it).

    Parameters
    ----------
    whatif : dict or None
        As for :func:`whatif_annotations`; None hides the star.
    currency : str or None
        The symbol of the star's hover (None: ``theme.CURRENCY``).
    patch : dash.Patch, optional
        A patch to add to (default a new one).
    """
    patch = Patch() if patch is None else patch
    annotations = whatif_annotations(whatif, currency)
    for slot, annotation in zip(WHATIF_SLOTS, annotations, strict=True):
        patch["layout"]["annotations"][slot] = annotation
    return patch


#: A 1 px outline around text: a CSS text-shadow on all eight sides.
_OUTLINE = ", ".join(
    f"{dx}px {dy}px 0 {theme.WHATIF_OUTLINE}"
    for dx in (-1, 0, 1)
    for dy in (-1, 0, 1)
    if dx or dy
)


def _legend_entry(tier: str, colour: str, rank: int) -> dict:
    """Return a tier's legend-only trace: a circle of its colour, no points."""
    return {
        "type": "scattergl",
        "x": [None],
        "y": [None],
        "mode": "markers",
        "name": tier,
        "legendgroup": tier,
        "legendrank": rank,
        "hoverinfo": "skip",
        "marker": {"color": colour, "size": 8, "symbol": "circle"},
    }


def scatter_base(customers: pd.DataFrame) -> dict:
    """Return what the scatter draws of each customer whatever k is.

    The position (frequency, monetary as drawn: :func:`scatter_points.plotted_xy`,
    monetary rounded to cents) and the hover's ``customdata`` (``[customer_id,
    recency text]``), one entry per row of ``customers``. A k change moves
    customers between tiers but never moves them: the browser keeps these and
    gets only which rows each tier × style trace holds (:func:`tier_traces`).

    Returns
    -------
    dict
        ``{"x": [orders], "y": [spent], "customdata": [[id, recency]]}``, lists
        of length ``len(customers)``.
    """
    days = customers[schema.RECENCY_DAYS].round().astype("int64").to_numpy()
    recency = np.where(days == 1, "1 day", np.char.add(days.astype(str), " days"))
    x, y = scatter_points.plotted_xy(customers)  # what a box or lasso is tested on
    ids = customers[schema.CUSTOMER_ID].astype(str).to_numpy()
    return {
        "x": x.tolist(),
        "y": np.round(y.astype(float), 2).tolist(),
        "customdata": np.column_stack([ids, recency]).tolist(),
    }


def tier_traces(
    customers: pd.DataFrame,
    mask: pd.Series | None = None,
    colours: dict[str, str] | None = None,
) -> list[dict]:
    """Return the scatter's tier legend and point traces, points given by row.

    As in :func:`customer_scatter`, but a point trace carries ``rows`` (the
    positions in ``customers`` of its points, ascending) instead of ``x``, ``y``
    and ``customdata``: :func:`hydrate` (or the browser, ``assets/k_views.js``)
    fills them in from :func:`scatter_base`. This is the part of the scatter that
    depends on k: a few kB for thousands of customers.

    Parameters
    ----------
    customers : pandas.DataFrame
        Labelled customers, in the order of the base.
    mask : pandas.Series of bool, optional
        The selection (aligned with ``customers``).
    colours : dict, optional
        Tier colours by name; default :func:`app.figures._base.tier_colours`.
    """
    colours = tier_colours(customers) if colours is None else colours
    selected = None if mask is None else mask.to_numpy()
    tiers = customers[schema.VALUE_TIER].to_numpy()
    styles = customers[schema.PURCHASE_STYLE].to_numpy()
    order = tier_order(customers)
    traces = [
        _legend_entry(tier, colours[tier], len(order) - position)
        for position, tier in enumerate(order)
    ][::-1]
    for tier in order:
        for style in schema.PURCHASE_STYLES:
            rows = np.flatnonzero((tiers == tier) & (styles == style))
            if len(rows):
                chosen = None if selected is None else selected[rows]
                traces.append(_points(rows, tier, style, colours[tier], chosen))
    return traces


def style_entries() -> list[dict]:
    """Return the purchase styles' legend-only traces (second legend, grey symbols)."""
    return [
        {
            "type": "scattergl",
            "x": [None],
            "y": [None],
            "mode": "markers",
            "name": style,
            "legend": "legend2",
            "hoverinfo": "skip",
            # no legendgroup: a group stacks vertically
            "marker": {"symbol": symbol, "color": theme.STYLE_COLOURS[style]},
        }
        for style, symbol in theme.STYLE_SYMBOLS.items()
    ]


def hydrate(trace: dict, base: dict) -> dict:
    """Return ``trace`` with its ``rows`` replaced by their x, y and customdata."""
    if "rows" not in trace:
        return trace
    rows = trace["rows"]
    filled = {key: value for key, value in trace.items() if key != "rows"}
    for key in ("x", "y", "customdata"):
        filled[key] = [base[key][row] for row in rows]
    return filled


def legend_font(customers: pd.DataFrame) -> dict:
    """Return the tier legend's font: smaller beyond six tiers, so k = 10 fits."""
    small = customers[schema.VALUE_TIER].nunique() > 6
    return {"size": 10 if small else 11}


def _points(rows, tier, style, colour, selected) -> dict:
    return {
        "type": "scattergl",
        "rows": rows.tolist(),
        "mode": "markers",
        "name": tier,
        "legendgroup": tier,
        "showlegend": False,
        "meta": {"tier": tier, "style": style},
        "marker": {
            "color": colour,
            "size": 6,
            "opacity": 0.8,
            "symbol": theme.STYLE_SYMBOLS.get(style, "circle"),
        },
        "hovertemplate": (
            f"Customer %{{customdata[0]}}<br>{tier} · {style}<br>"
            "Orders: %{x:,}<br>"
            f"Total spent: {theme.CURRENCY_FIELD}%{{y:,.0f}}<br>"
            "Last order: %{customdata[1]} ago<extra></extra>"
        ),
        "selectedpoints": None if selected is None else np.flatnonzero(selected),
        "selected": {"marker": {"opacity": 1.0}},
        "unselected": {"marker": {"opacity": theme.DIMMED_OPACITY}},
    }
