"""Figure builders: ``DataFrame -> plotly.graph_objects.Figure``, pure.

Every builder takes the labelled customers (columns ``schema.OUTPUT_COLUMNS``)
and optionally a boolean ``mask`` of the current selection (aligned with the
customers), and never modifies its input. Colours and symbols come from
:mod:`app.theme` so that a tier looks the same in every panel.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app import theme
from segmentation import schema

GRID_METRICS: tuple[str, ...] = ("customers", "revenue")
#: Features profiled in the feature heatmap (z-scored means per value cluster).
HEATMAP_FEATURES: tuple[str, ...] = (
    schema.RECENCY_DAYS,
    schema.FREQUENCY,
    schema.MONETARY,
    schema.AVG_ORDER_VALUE,
    schema.AVG_ITEMS_PER_ORDER,
    schema.AVG_LINE_QUANTITY,
    schema.DISTINCT_PRODUCTS,
    schema.RETURN_RATE,
    schema.TENURE_DAYS,
)
DIAGNOSTIC_METRICS: tuple[tuple[str, str], ...] = (
    ("inertia", "Inertia (elbow)"),
    ("silhouette", "Silhouette (higher is better)"),
    ("davies_bouldin", "Davies–Bouldin (lower is better)"),
    ("calinski_harabasz", "Calinski–Harabasz (higher is better)"),
)
_MARGIN = {"l": 10, "r": 10, "t": 36, "b": 10}
#: Name of the what-if customer's marker on the scatter.
WHATIF_NAME = "what-if"


def tier_order(customers: pd.DataFrame) -> list[str]:
    """Return the value tiers present, from lowest to highest value cluster."""
    pairs = customers[[schema.VALUE_CLUSTER, schema.VALUE_TIER]].drop_duplicates()
    return pairs.sort_values(schema.VALUE_CLUSTER)[schema.VALUE_TIER].tolist()


def placeholder(message: str) -> go.Figure:
    """Return an empty figure that shows ``message`` in its middle."""
    fig = go.Figure(layout={"template": theme.TEMPLATE, "margin": _MARGIN})
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5,
                       xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def grid_counts(customers: pd.DataFrame, metric: str = "customers",
                mask: pd.Series | None = None) -> pd.DataFrame:
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
    return table.reindex(index=tier_order(customers),
                         columns=list(schema.PURCHASE_STYLES)).fillna(0)


def value_style_grid(customers: pd.DataFrame, metric: str = "customers",
                     mask: pd.Series | None = None) -> go.Figure:
    """Heatmap of customers (or revenue) per value tier × purchase style cell.

    Each cell is annotated with its count, its business label (``grid_label``)
    and, when ``mask`` is given, how many of the selection fall in it.
    """
    whole = grid_counts(customers, metric)
    chosen = None if mask is None else grid_counts(customers, metric, mask)
    labels = (customers.groupby([schema.VALUE_TIER, schema.PURCHASE_STYLE])
              [schema.GRID_LABEL].first())
    fmt = theme.fmt_int if metric == "customers" else theme.fmt_money
    text = [[_cell_text(whole.loc[t, s], labels.get((t, s), ""), fmt,
                        None if chosen is None else chosen.loc[t, s])
             for s in whole.columns] for t in whole.index]
    fig = go.Figure(go.Heatmap(
        z=whole.to_numpy(), x=list(whole.columns), y=list(whole.index), text=text,
        texttemplate="%{text}", textfont={"size": 12 if len(whole) <= 4 else 10},
        colorscale=theme.SEQUENTIAL_SCALE, showscale=False,
        hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>", xgap=2, ygap=2,
    ))
    fig.update_layout(template=theme.TEMPLATE, margin=_MARGIN,
                      xaxis={"title": "purchase style", "side": "top"},
                      yaxis={"ticksuffix": " "}, clickmode="event")
    return fig


def _cell_text(value, label, fmt, selected) -> str:
    parts = [f"<b>{fmt(value)}</b>"]
    if label:
        parts.append(textwrap.fill(str(label), 14).replace("\n", "<br>"))
    if selected is not None:
        parts.append(f"selected: {fmt(selected)}")
    return "<br>".join(parts)


def customer_scatter(customers: pd.DataFrame, mask: pd.Series | None = None,
                     uirevision: str | None = None,
                     selectionrevision: str | None = None,
                     whatif: dict | None = None) -> go.Figure:
    """WebGL scatter of log frequency vs log monetary, colour = tier, symbol = style.

    One trace per value tier × purchase style (a scalar symbol per trace keeps
    the payload small and the build fast); the traces of a tier share its legend
    entry (``legendgroup`` = tier). ``customdata`` rows are
    ``[customer_id, recency_days]`` (the id first: selections read it). With
    ``mask``, selected points are drawn as selected and the others dimmed
    (``selectedpoints``). ``uirevision`` keeps zoom and legend state while it is
    unchanged; ``selectionrevision`` keeps the user's box or lasso: when it
    changes, plotly drops the box and reports an empty selection. ``whatif``
    (``{"frequency", "monetary"}``) adds the what-if customer's black star.
    """
    fig = go.Figure()
    selected = None if mask is None else mask.to_numpy()
    tiers = customers[schema.VALUE_TIER].to_numpy()
    styles = customers[schema.PURCHASE_STYLE].to_numpy()
    for cluster, tier in enumerate(tier_order(customers)):
        shown = False
        for style in schema.PURCHASE_STYLES:
            rows = (tiers == tier) & (styles == style)
            if not rows.any():
                continue
            fig.add_trace(_points(customers[rows], tier, style, cluster, not shown,
                                  None if selected is None else selected[rows]))
            shown = True
    for i, (style, symbol) in enumerate(theme.STYLE_SYMBOLS.items()):
        fig.add_trace(go.Scattergl(
            x=[None], y=[None], mode="markers", name=style, legendgroup="style",
            legendgrouptitle_text="purchase style" if i == 0 else None,
            hoverinfo="skip",
            marker={"symbol": symbol, "color": theme.STYLE_COLOURS[style]},
        ))
    fig.update_layout(
        template=theme.TEMPLATE, margin=_MARGIN, dragmode="select",
        xaxis={"type": "log", "title": "frequency (orders, log)", "dtick": 1},
        yaxis={"type": "log", "title": theme.money_axis_title(),
               "dtick": 1},
        uirevision=uirevision, selectionrevision=selectionrevision,
    )
    if whatif:
        _whatif_marker(fig, whatif["frequency"], whatif["monetary"])
    return fig


def _whatif_marker(fig: go.Figure, frequency: float, monetary: float) -> None:
    """Add a black star named "what-if" at (frequency, monetary), when both > 0.

    An annotation, not a trace: a box or lasso selects only customers' points
    (annotation positions on log axes are log10 values).
    """
    if not (frequency > 0 and monetary > 0):
        return  # not on log axes
    where = {"x": float(np.log10(frequency)), "y": float(np.log10(monetary)),
             "xref": "x", "yref": "y", "showarrow": False}
    fig.add_annotation(**where, name=WHATIF_NAME, text="★", font={"size": 22,
                       "color": "black"}, hovertext=(
                           f"what-if: {frequency:,g} orders, "
                           f"{theme.fmt_money(monetary)}"))
    fig.add_annotation(**where, name=f"{WHATIF_NAME}-label", text="what-if",
                       xanchor="left", xshift=10, font={"size": 11,
                                                        "color": "black"})


def _points(rows, tier, style, cluster, in_legend, selected) -> go.Scattergl:
    customdata = np.empty((len(rows), 2), dtype=object)
    customdata[:, 0] = rows[schema.CUSTOMER_ID].astype(str).to_numpy()
    customdata[:, 1] = rows[schema.RECENCY_DAYS].to_numpy()
    return go.Scattergl(
        x=rows[schema.FREQUENCY].to_numpy(),
        y=rows[schema.MONETARY].clip(lower=0.01).to_numpy(),
        mode="markers", name=tier, legendgroup=tier, showlegend=in_legend,
        legendgrouptitle_text="value tier" if cluster == 0 and in_legend else None,
        meta={"tier": tier, "style": style},
        marker={"color": theme.tier_colour(cluster), "size": 6, "opacity": 0.8,
                "symbol": theme.STYLE_SYMBOLS.get(style, "circle")},
        customdata=customdata,
        hovertemplate=(f"customer %{{customdata[0]}}<br>{tier} · {style}<br>"
                       "frequency %{x:,} orders<br>"
                       f"monetary {theme.CURRENCY}%{{y:,.0f}}<br>"
                       "recency %{customdata[1]} days<extra></extra>"),
        selectedpoints=None if selected is None else np.flatnonzero(selected),
        selected={"marker": {"opacity": 1.0}},
        unselected={"marker": {"opacity": theme.DIMMED_OPACITY}},
    )


def feature_profile(customers: pd.DataFrame,
                    mask: pd.Series | None = None) -> pd.DataFrame:
    """Return z-scored feature means per value tier (plus ``Selection``).

    ``z = (mean in group - mean of all) / std of all``, per feature.

    Returns
    -------
    pandas.DataFrame
        Index value tiers (lowest first, then ``"Selection"`` when ``mask`` is
        given); columns ``HEATMAP_FEATURES``; ``.attrs["means"]`` the raw means.
    """
    feats = customers[list(HEATMAP_FEATURES)].astype(float)
    means = feats.groupby(customers[schema.VALUE_TIER]).mean().reindex(
        tier_order(customers))
    if mask is not None and mask.any():
        chosen = feats[mask.to_numpy()].mean().to_frame("Selection").T
        means = pd.concat([means, chosen])
    std = feats.std(ddof=0).replace(0, np.nan)
    z = ((means - feats.mean()) / std).fillna(0.0)
    z.attrs["means"] = means
    return z


def feature_heatmap(customers: pd.DataFrame,
                    mask: pd.Series | None = None) -> go.Figure:
    """Heatmap of z-scored feature means per value tier (and the selection)."""
    z = feature_profile(customers, mask)
    means = z.attrs["means"]
    text = [[f"{v:,.2f}" if abs(v) < 10 else f"{v:,.0f}" for v in row]
            for row in means.to_numpy()]
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(), x=list(z.columns), y=list(z.index), text=text,
        texttemplate="%{text}", textfont={"size": 11},
        colorscale=theme.DIVERGING_SCALE, zmid=0,
        zmin=-2, zmax=2, colorbar={"title": "z", "thickness": 10},
        hovertemplate="%{y}<br>%{x}: mean %{text} (z = %{z:.2f})<extra></extra>",
        xgap=1, ygap=1,
    ))
    fig.update_layout(template=theme.TEMPLATE, margin=_MARGIN,
                      xaxis={"tickangle": -30})
    return fig


def k_diagnostics(table: pd.DataFrame | None, recommended_k: int | None,
                  chosen_k: int) -> go.Figure:
    """Four small curves of the k sweep with the recommended and chosen k marked.

    Parameters
    ----------
    table : pandas.DataFrame or None
        Index k; columns inertia, silhouette, davies_bouldin, calinski_harabasz.
    recommended_k : int or None
        Marked with a dashed green line.
    chosen_k : int
        Marked with a solid black line.
    """
    if table is None or len(table) == 0:
        return placeholder("No k sweep for this dataset")
    fig = make_subplots(rows=2, cols=2, vertical_spacing=0.2, horizontal_spacing=0.12,
                        subplot_titles=[title for _, title in DIAGNOSTIC_METRICS])
    shapes: list[dict] = []
    for i, (column, title) in enumerate(DIAGNOSTIC_METRICS):
        row, col = divmod(i, 2)
        fig.add_trace(go.Scatter(x=table.index.to_numpy(), y=table[column].to_numpy(),
                                 mode="lines+markers", name=title, showlegend=False,
                                 line={"color": "#0072B2"}), row=row + 1, col=col + 1)
        axis = "" if i == 0 else str(i + 1)
        marks = [(chosen_k, {"color": "#000000", "width": 1})]
        if recommended_k is not None:
            marks.insert(0, (recommended_k, {"dash": "dash", "color": "#009E73"}))
        shapes += [{"type": "line", "x0": k, "x1": k, "y0": 0, "y1": 1, "line": line,
                    "xref": f"x{axis}", "yref": f"y{axis} domain"}
                   for k, line in marks]
    fig.update_xaxes(dtick=1)
    fig.update_annotations(font_size=11)
    fig.update_layout(template=theme.TEMPLATE, margin={**_MARGIN, "t": 30},
                      shapes=shapes)
    return fig
