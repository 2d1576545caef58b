"""The k diagnostics: four small curves of the k sweep, recommended and chosen k.

:func:`k_diagnostics` draws the curves; :func:`chosen_k_patch` moves only the
chosen-k lines when k changes. Hover texts explain each metric in plain words
(:mod:`app.glossary`).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import Patch
from plotly.subplots import make_subplots

from app import glossary, theme
from app.figures._base import MARGIN, placeholder

#: The diagnostics drawn, as (column of the k sweep table, subplot title).
DIAGNOSTIC_METRICS: tuple[tuple[str, str], ...] = (
    ("inertia", "Inertia (elbow)"),
    ("silhouette", "Silhouette (higher is better)"),
    ("davies_bouldin", "Davies–Bouldin (lower is better)"),
    ("calinski_harabasz", "Calinski–Harabasz (higher is better)"),
)


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
