"""The k diagnostics: small curves of the k sweep, each measure's vote, the ks.

:func:`k_diagnostics` draws one curve per measure (inertia, silhouette,
Davies–Bouldin, Calinski–Harabasz and, where the sweep measured it, stability),
rings the k each measure votes for and marks the recommended and chosen k;
:func:`chosen_k_patch` moves only the chosen-k lines when k changes. Hover texts
explain each measure in plain words (:mod:`app.glossary`).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import Patch
from plotly.subplots import make_subplots

from app import glossary, theme
from app.figures._base import MARGIN, placeholder

#: The diagnostics drawn, as (column of the k sweep table, subplot title), in
#: order; a column the table lacks (``stability`` in sweeps saved before it was
#: measured) is left out.
DIAGNOSTIC_METRICS: tuple[tuple[str, str], ...] = (
    ("inertia", "Inertia (elbow)"),
    ("silhouette", "Silhouette (higher is better)"),
    ("davies_bouldin", "Davies–Bouldin (lower is better)"),
    ("calinski_harabasz", "Calinski–Harabasz (higher is better)"),
    ("stability", "Stability across seeds (higher is better)"),
)
CURVE_COLOUR = "#0072B2"
RECOMMENDED_LINE = {"dash": "dash", "color": "#009E73"}
CHOSEN_LINE = {"color": "#000000", "width": 1}


def _drawn(table: pd.DataFrame | None) -> list[tuple[str, str]]:
    """Return the (column, title) of :data:`DIAGNOSTIC_METRICS` the table holds."""
    if table is None:
        return [m for m in DIAGNOSTIC_METRICS if m[0] != "stability"]
    return [m for m in DIAGNOSTIC_METRICS if m[0] in table.columns]


def _grid(n: int) -> tuple[int, list[list[dict | None]]]:
    """Rows and ``specs`` of two columns; an odd last curve spans the whole row."""
    rows = (n + 1) // 2
    specs: list[list[dict | None]] = [[{}, {}] for _ in range(rows)]
    if n % 2:
        specs[-1] = [{"colspan": 2}, None]
    return rows, specs


def k_diagnostics(
    table: pd.DataFrame | None,
    recommended_k: int | None,
    chosen_k: int,
    votes: dict[str, int] | None = None,
) -> go.Figure:
    """Small curves of the k sweep with the votes, the recommended and chosen k.

    Parameters
    ----------
    table : pandas.DataFrame or None
        Index k; columns inertia, silhouette, davies_bouldin, calinski_harabasz
        and optionally stability (drawn last, across the figure's width).
    recommended_k : int or None
        Marked with a dashed green line.
    chosen_k : int
        Marked with a solid black line.
    votes : dict of str to int, optional
        Measure (a column of ``table``) -> the k it votes for
        (:attr:`segmentation.models.KDiagnostics.votes`): that point is drawn
        as a large ring labelled "vote".
    """
    if table is None or len(table) == 0:
        return placeholder("No k sweep for this dataset")
    votes = votes or {}
    metrics = _drawn(table)
    rows, specs = _grid(len(metrics))
    fig = make_subplots(
        rows=rows,
        cols=2,
        specs=specs,
        vertical_spacing=0.4 / rows,
        horizontal_spacing=0.12,
        subplot_titles=[title for _, title in metrics],
    )
    ks = table.index.to_numpy()
    shapes: list[dict] = []
    for i, (column, title) in enumerate(metrics):
        row, col = divmod(i, 2)
        voted = ks == votes.get(column)
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=table[column].to_numpy(),
                mode="lines+markers+text",
                text=["vote" if v else "" for v in voted],
                textposition="top center",
                textfont={"size": 10, "color": CURVE_COLOUR},
                cliponaxis=False,
                name=title,
                showlegend=False,
                line={"color": CURVE_COLOUR},
                marker={
                    "size": [12 if v else 6 for v in voted],
                    "symbol": ["circle-open" if v else "circle" for v in voted],
                    "line": {"width": 2, "color": CURVE_COLOUR},
                },
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
        marks = [(chosen_k, CHOSEN_LINE)]
        if recommended_k is not None:
            marks.insert(0, (recommended_k, RECOMMENDED_LINE))
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
    # the wide last curve (or the last row) says what its x axis counts
    fig.update_xaxes(
        title={"text": "k (number of value tiers)", "font": {"size": 10}},
        row=rows,
        col=1,
    )
    fig.update_annotations(font_size=11)
    fig.update_layout(
        template=theme.TEMPLATE, margin={**MARGIN, "t": 30}, shapes=shapes
    )
    return fig


def chosen_k_patch(
    recommended_k: int | None, chosen_k: int, table: pd.DataFrame | None = None
) -> Patch:
    """Return a partial update that moves the chosen-k lines of :func:`k_diagnostics`.

    A k change needs no new curves: only the solid lines move (one per curve),
    so the browser receives a few bytes instead of the whole figure.

    Parameters
    ----------
    recommended_k : int or None
        As given to :func:`k_diagnostics` (it decides the shapes' order).
    chosen_k : int
        The new chosen k.
    table : pandas.DataFrame, optional
        As given to :func:`k_diagnostics` (its columns decide how many curves
        there are); None: the four curves of a sweep without stability.
    """
    patch = Patch()
    for index in chosen_k_shapes(recommended_k, table):
        patch["layout"]["shapes"][index]["x0"] = chosen_k
        patch["layout"]["shapes"][index]["x1"] = chosen_k
    return patch


def chosen_k_shapes(
    recommended_k: int | None, table: pd.DataFrame | None = None
) -> list[int]:
    """Return the positions in ``layout.shapes`` of the chosen-k lines.

    One per curve of :func:`k_diagnostics`; each follows its curve's
    recommended-k line when there is one. The browser moves them on a k change
    (``assets/k_views.js``), as :func:`chosen_k_patch` does.
    """
    per_metric = 1 if recommended_k is None else 2
    return [i * per_metric + per_metric - 1 for i in range(len(_drawn(table)))]
