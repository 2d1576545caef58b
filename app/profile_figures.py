"""Figures of the profile panels: feature heatmap and k diagnostics (pure).

Re-exported by :mod:`app.figures`; hover texts explain each metric in plain
words (:mod:`app.glossary`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Patch
from plotly.subplots import make_subplots

from app import glossary, theme
from app.figure_base import MARGIN, placeholder, tier_order
from segmentation import schema

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


def feature_profile(
    customers: pd.DataFrame, mask: pd.Series | None = None
) -> pd.DataFrame:
    """Return z-scored feature means per value tier (plus ``Selection``).

    ``z = (mean in group - mean of all) / std of all``, per feature.

    Returns
    -------
    pandas.DataFrame
        Index value tiers (lowest first, then ``"Selection"`` when ``mask`` is
        given); columns ``HEATMAP_FEATURES``; ``.attrs["means"]`` the raw means.
    """
    feats = customers[list(HEATMAP_FEATURES)].astype(float)
    means = (
        feats.groupby(customers[schema.VALUE_TIER])
        .mean()
        .reindex(tier_order(customers))
    )
    if mask is not None and mask.any():
        chosen = feats[mask.to_numpy()].mean().to_frame("Selection").T
        means = pd.concat([means, chosen])
    std = feats.std(ddof=0).replace(0, np.nan)
    z = ((means - feats.mean()) / std).fillna(0.0)
    z.attrs["means"] = means
    return z


def feature_heatmap(
    customers: pd.DataFrame, mask: pd.Series | None = None
) -> go.Figure:
    """Heatmap of z-scored feature means per value tier (and the selection).

    Cell text is the mean in compact form (``168k``, ``1.2M``:
    :func:`app.theme.fmt_compact`) so that it fits its cell at k = 10; the hover
    gives the full mean, the z-score and what the feature means.
    """
    z = feature_profile(customers, mask)
    means = z.attrs["means"].to_numpy()
    text = [[theme.fmt_compact(v) for v in row] for row in means]
    helps = [glossary.feature_help(f) for f in z.columns]
    custom = [
        [
            (f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}", help_)
            for v, help_ in zip(row, helps, strict=True)
        ]
        for row in means
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z.to_numpy(),
            x=list(z.columns),
            y=list(z.index),
            text=text,
            customdata=custom,
            texttemplate="%{text}",
            textfont={"size": 11 if len(z) <= 6 else 10},
            colorscale=theme.DIVERGING_SCALE,
            zmid=0,
            zmin=-2,
            zmax=2,
            colorbar={"title": "z", "thickness": 10},
            hovertemplate=(
                "<b>%{y}</b> · %{x}<br>mean %{customdata[0]} "
                "(z = %{z:.2f} standard deviations from all customers)"
                "<br><i>%{customdata[1]}</i><extra></extra>"
            ),
            xgap=1,
            ygap=1,
        )
    )
    fig.update_layout(template=theme.TEMPLATE, margin=MARGIN, xaxis={"tickangle": -30})
    return fig


def k_diagnostics(
    table: pd.DataFrame | None, recommended_k: int | None, chosen_k: int
) -> go.Figure:
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
    fig = make_subplots(
        rows=2,
        cols=2,
        vertical_spacing=0.2,
        horizontal_spacing=0.12,
        subplot_titles=[title for _, title in DIAGNOSTIC_METRICS],
    )
    shapes: list[dict] = []
    for i, (column, title) in enumerate(DIAGNOSTIC_METRICS):
        row, col = divmod(i, 2)
        fig.add_trace(
            go.Scatter(
                x=table.index.to_numpy(),
                y=table[column].to_numpy(),
                mode="lines+markers",
                name=title,
                showlegend=False,
                line={"color": "#0072B2"},
                hovertemplate=(
                    f"k = %{{x}}: %{{y:,.3~g}}<br>"
                    f"<i>{glossary.DIAGNOSTIC_HELP[column]}</i>"
                    "<extra></extra>"
                ),
            ),
            row=row + 1,
            col=col + 1,
        )
        axis = "" if i == 0 else str(i + 1)
        marks = [(chosen_k, {"color": "#000000", "width": 1})]
        if recommended_k is not None:
            marks.insert(0, (recommended_k, {"dash": "dash", "color": "#009E73"}))
        shapes += [
            {
                "type": "line",
                "x0": k,
                "x1": k,
                "y0": 0,
                "y1": 1,
                "line": line,
                "xref": f"x{axis}",
                "yref": f"y{axis} domain",
            }
            for k, line in marks
        ]
    fig.update_xaxes(dtick=1)
    fig.update_annotations(font_size=11)
    fig.update_layout(
        template=theme.TEMPLATE, margin={**MARGIN, "t": 30}, shapes=shapes
    )
    return fig


def chosen_k_patch(recommended_k: int | None, chosen_k: int) -> Patch:
    """Return a partial update that moves the chosen-k lines of :func:`k_diagnostics`.

    A k change needs no new curves: only the four solid lines move, so the
    browser receives a few bytes instead of the whole figure.

    Parameters
    ----------
    recommended_k : int or None
        As given to :func:`k_diagnostics` (it decides the shapes' order).
    chosen_k : int
        The new chosen k.
    """
    patch = Patch()
    per_metric = 1 if recommended_k is None else 2
    for i in range(len(DIAGNOSTIC_METRICS)):
        index = i * per_metric + per_metric - 1  # the chosen line follows
        patch["layout"]["shapes"][index]["x0"] = chosen_k
        patch["layout"]["shapes"][index]["x1"] = chosen_k
    return patch
