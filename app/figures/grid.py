"""The value × style grid: customers (or revenue) per value tier × purchase style.

A heatmap with one cell per value tier × purchase style, its count in bold, the
selection's share of it and, where the row is tall enough, the cell's business
label (pure: ``DataFrame -> go.Figure``). A chosen cell is outlined
(:func:`cell_outline`); the trace's ``meta`` names each cell in words
(:func:`cell_names`) for the keyboard's cell buttons
(``app/components/grid_cells.py``, ``assets/grid_cells.js``).
"""

from __future__ import annotations

import math
import textwrap

import pandas as pd
import plotly.graph_objects as go
from dash import Patch

from app import theme
from app.figures._base import MARGIN, tier_colours, tier_order, tier_ticks
from segmentation import schema

#: What a grid cell counts: its customers, or their total spent.
GRID_METRICS: tuple[str, ...] = ("customers", "revenue")
#: Grid text fitting: pixels of plot height in the 360 px grid panel (the rest is
#: the purchase-style axis and margins), pixels per text line, label font size and
#: width of a label line in characters.
GRID_PLOT_PX = 270
GRID_LINE_PX = 14
GRID_LABEL_FONT = 10
GRID_LABEL_CHARS = 16
#: The chosen cell's outline: a vermillion line (Okabe–Ito, the what-if star's
#: hue: no "Blues" cell has it) over a wider line of the page's ink, so that it
#: stands out on the lightest and on the darkest cell alike. Widths in px.
#: ``assets/grid_cells.js`` draws the same two rectangles in the browser.
OUTLINE_COLOURS: tuple[str, str] = (theme.WHATIF_OUTLINE, theme.WHATIF_COLOUR)
OUTLINE_WIDTHS: tuple[int, int] = (6, 3)


def grid_counts(
    customers: pd.DataFrame, metric: str = "customers", mask: pd.Series | None = None
) -> pd.DataFrame:
    """Return the value tier × purchase style table of customers or revenue.

    Returns
    -------
    pandas.DataFrame of shape (n_tiers, 3)
        Index value tiers (lowest value first), columns ``PURCHASE_STYLES``;
        zeros where a cell is empty. ``mask`` restricts the count to a selection.
    """
    if metric not in GRID_METRICS:
        raise ValueError(f"metric={metric!r} should be one of {GRID_METRICS}")
    rows = customers if mask is None else customers[mask.to_numpy()]
    groups = rows.groupby([schema.VALUE_TIER, schema.PURCHASE_STYLE])
    counts = groups.size() if metric == "customers" else groups[schema.MONETARY].sum()
    table = counts.unstack() if len(counts) else pd.DataFrame()  # noqa: PD010
    return table.reindex(
        index=tier_order(customers), columns=list(schema.PURCHASE_STYLES)
    ).fillna(0)


def value_style_grid(
    customers: pd.DataFrame,
    metric: str = "customers",
    mask: pd.Series | None = None,
    plot_px: int = GRID_PLOT_PX,
    cell: tuple[str, str] | list[str] | None = None,
    currency: str | None = None,
) -> go.Figure:
    """Heatmap of customers (or revenue) per value tier × purchase style cell.

    Each cell shows its count in bold and, when ``mask`` is given, how many of
    the selection fall in it ("selected: n"). The cell's business label
    (``grid_label``) is added in smaller type only where a row is tall enough
    for it (about ``plot_px / n_tiers`` pixels, so up to k = 5 or 6); the hover
    always gives tier, style, label and counts. ``cell`` (``[tier, style]``,
    the selection store's ``cell``) is outlined (:func:`cell_outline`). The
    trace's ``meta`` is ``{"cells": cell_names(...)}``, one name per cell for
    the keyboard's cell buttons.

    Revenue is written with the symbol of ``layout.meta.currency``
    (``currency``; None: the server's :data:`app.theme.CURRENCY`), read by the
    cells' and the hover's templates (:func:`currency_patch` changes it alone,
    and a grid the browser redraws for another k keeps it): the cell's amount
    is its ``z``, and with a selection its text gives the selection's share of
    the cell's revenue (``"selected: 46 %"``; the hover gives the amount).
    """
    whole = grid_counts(customers, metric)
    chosen = None if mask is None else grid_counts(customers, metric, mask)
    labels = customers.groupby([schema.VALUE_TIER, schema.PURCHASE_STYLE])[
        schema.GRID_LABEL
    ].first()
    lines = max(1, math.floor(plot_px / max(len(whole), 1) / GRID_LINE_PX))
    cells = {
        tier: [
            (
                whole.loc[tier, s],
                str(labels.get((tier, s), "")),
                None if chosen is None else chosen.loc[tier, s],
            )
            for s in whole.columns
        ]
        for tier in whole.index
    }
    if metric == "customers":
        trace = _count_cells(whole, cells, lines)
    else:
        trace = _revenue_cells(whole, cells, lines, selection=chosen is not None)
    fig = go.Figure(
        go.Heatmap(
            z=whole.to_numpy(),
            x=list(whole.columns),
            y=list(whole.index),
            **trace,
            textfont={"size": 12 if len(whole) <= 5 else 11},
            colorscale=theme.SEQUENTIAL_SCALE,
            showscale=False,
            xgap=2,
            ygap=2,
            meta={"cells": cell_names(customers, metric, mask)},
        )
    )
    fig.update_layout(
        meta={theme.CURRENCY_META: theme.currency_symbol(currency)},
        template=theme.TEMPLATE,
        margin=MARGIN,
        xaxis={"title": "purchase style", "side": "top"},
        yaxis={"ticksuffix": " ", **tier_ticks(whole.index, tier_colours(customers))},
        clickmode="event",
        shapes=cell_outline(list(whole.index), list(whole.columns), cell),
    )
    return fig


def cell_outline(
    tiers: list[str], styles: list[str], cell: tuple[str, str] | list[str] | None
) -> list[dict]:
    """Return the layout shapes that outline ``cell`` (``[tier, style]``) in the grid.

    Parameters
    ----------
    tiers, styles : list of str
        The grid's y (lowest tier first) and x categories, as drawn.
    cell : [tier, style] or None
        The chosen cell (the selection store's ``cell``).

    Returns
    -------
    list of dict
        Two rectangles in data coordinates (category ``i`` spans ``i - 0.5 ..
        i + 0.5``), a wide ink line under a vermillion one
        (:data:`OUTLINE_COLOURS`, :data:`OUTLINE_WIDTHS`); empty without a
        cell, or for a cell not in the grid (another k's tier).
    """
    if not cell or cell[0] not in tiers or cell[1] not in styles:
        return []
    x, y = styles.index(cell[1]), tiers.index(cell[0])
    return [
        {
            "type": "rect",
            "xref": "x",
            "yref": "y",
            "x0": x - 0.5,
            "x1": x + 0.5,
            "y0": y - 0.5,
            "y1": y + 0.5,
            "line": {"color": colour, "width": width},
            "fillcolor": "rgba(0,0,0,0)",
            "layer": "above",
        }
        for colour, width in zip(OUTLINE_COLOURS, OUTLINE_WIDTHS, strict=True)
    ]


def cell_names(
    customers: pd.DataFrame, metric: str = "customers", mask: pd.Series | None = None
) -> list[list]:
    """Return each grid cell's name in words, for its keyboard button.

    Returns
    -------
    list of [tier, style, name]
        Highest tier first (reading order), styles in ``PURCHASE_STYLES`` order;
        ``name`` e.g. ``"Top tier, Regular: 120 customers"``, with
        ``", revenue 45,300"`` when the grid shows revenue and ``", 3
        selected"`` with a selection (``mask``).
    """
    whole = grid_counts(customers, "customers")
    revenue = grid_counts(customers, "revenue") if metric == "revenue" else None
    chosen = None if mask is None else grid_counts(customers, "customers", mask)
    names = []
    for tier in reversed(list(whole.index)):
        for style in whole.columns:
            name = f"{tier} tier, {style}: "
            name += theme.fmt_count(whole.loc[tier, style], "customer")
            if revenue is not None:
                name += f", revenue {theme.fmt_money(revenue.loc[tier, style], 0, '')}"
            if chosen is not None:
                name += f", {theme.fmt_int(chosen.loc[tier, style])} selected"
            names.append([str(tier), str(style), name])
    return names


def currency_patch(currency: str | None) -> Patch:
    """Return a partial update of :func:`value_style_grid` to another currency.

    Only ``layout.meta.currency``, which the revenue cells and hovers read.
    """
    patch = Patch()
    patch["layout"]["meta"][theme.CURRENCY_META] = theme.currency_symbol(currency)
    return patch


def _count_cells(whole, cells, lines: int) -> dict:
    """Return the heatmap's text and hover of customer counts: plain strings."""
    text = [
        [_cell_text(v, lab, theme.fmt_int, sel, lines) for v, lab, sel in row]
        for row in cells.values()
    ]
    hover = [
        [
            _cell_hover(f"{tier} · {style}", v, lab, theme.fmt_int, sel, "customers")
            for style, (v, lab, sel) in zip(whole.columns, row, strict=True)
        ]
        for tier, row in cells.items()
    ]
    return {
        "text": text,
        "customdata": hover,
        "texttemplate": "%{text}",
        "hovertemplate": "%{customdata}<extra></extra>",
    }


def _revenue_cells(whole, cells, lines: int, selection: bool) -> dict:
    """Return the heatmap's text and hover of revenue (symbol from layout.meta).

    plotly fills a heatmap's ``texttemplate`` from ``z`` and ``text`` only, so
    the amount is ``z`` and ``text`` holds what follows it (the label where
    there is room, the selection's share); the hover reads the cell's name and
    label from ``customdata`` and the selection's amount from ``hovertext``.
    """
    money = theme.CURRENCY_FIELD + "%{z:,.0f}"
    text, head, chosen = [], [], []
    for tier, row in cells.items():
        text.append([_revenue_rest(v, lab, sel, lines) for v, lab, sel in row])
        head.append(
            [
                f"<b>{tier} · {style}</b>" + (f"<br><i>{lab}</i>" if lab else "")
                for style, (_v, lab, _sel) in zip(whole.columns, row, strict=True)
            ]
        )
        chosen.append(["" if sel is None else f"{sel:,.0f}" for _v, _lab, sel in row])
    hover = f"%{{customdata}}<br>{money} revenue"
    if selection:
        hover += f"<br>selected: {theme.CURRENCY_FIELD}%{{hovertext}}"
    return {
        "text": text,
        "customdata": head,
        "hovertext": chosen,
        "texttemplate": f"<b>{money}</b>%{{text}}",
        "hovertemplate": hover + "<extra></extra>",
    }


def _revenue_rest(value, label, selected, lines: int) -> str:
    """Return a revenue cell's text after its amount: label if it fits, share."""
    parts = []
    if selected is not None:
        share = 100 * selected / value if value else 0.0
        parts.append(f"selected: {theme.fmt_pct(share, 0)}")
    wrapped = textwrap.wrap(label, GRID_LABEL_CHARS) if label else []
    if wrapped and 1 + len(parts) + len(wrapped) <= lines:
        small = "<br>".join(wrapped)
        parts.insert(0, f"<span style='font-size:{GRID_LABEL_FONT}px'>{small}</span>")
    return "".join(f"<br>{p}" for p in parts)


def _cell_text(value, label, fmt, selected, lines: int) -> str:
    """Count first; the label (smaller) only if the row has room for it."""
    parts = [f"<b>{fmt(value)}</b>"]
    if selected is not None:
        parts.append(f"selected: {fmt(selected)}")
    wrapped = textwrap.wrap(label, GRID_LABEL_CHARS) if label else []
    if wrapped and len(parts) + len(wrapped) <= lines:
        small = "<br>".join(wrapped)
        parts.insert(1, f"<span style='font-size:{GRID_LABEL_FONT}px'>{small}</span>")
    return "<br>".join(parts)


def _cell_hover(cell, value, label, fmt, selected, metric) -> str:
    noun = "customers" if metric == "customers" else "revenue"
    parts = [f"<b>{cell}</b>", label and f"<i>{label}</i>", f"{fmt(value)} {noun}"]
    if selected is not None:
        parts.append(f"selected: {fmt(selected)}")
    return "<br>".join(p for p in parts if p)
