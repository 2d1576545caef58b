"""The scatter's axes switch and the PCA view's graph (DESIGN section 7).

"Axes: frequency × monetary / principal components" sits in the scatter
panel's header. The principal-components view is its own graph
(:data:`CUSTOMER_PCA`) in the same place, shown instead of the scatter: the
scatter keeps its zoom, its what-if star and the k changes the browser draws,
and each graph keeps the box or lasso drawn on it.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app.figures import placeholder

AXES_CHOICE = "scatter-axes"
CUSTOMER_PCA = "customer-pca"
#: The boxes around the two graphs (one is hidden).
SCATTER_BOX = "scatter-box"
PCA_BOX = "pca-box"
#: The rested k while the PCA view is shown (``assets/k_gates.js``): what a k
#: change triggers the view with (:func:`app.callbacks.pca.render_pca`).
PCA_K = "pca-k"
AXES_FM, AXES_PCA = "fm", "pca"
AXES_OPTIONS = (
    (AXES_FM, "frequency × monetary"),
    (AXES_PCA, "principal components"),
)
PCA_NOTE = (
    "Principal components of the standardised log frequency and log monetary "
    "the value tiers are clustered on: the same plane, turned so that PC1 is "
    "its direction of widest spread. Axis titles give each component's share "
    "of the variance; the hover gives its loadings."
)
SHOWN, HIDDEN = {"display": "block"}, {"display": "none"}


def axes_toggle() -> html.Div:
    """Return the "Axes" switch of the scatter panel (frequency × monetary first)."""
    return html.Div(
        [
            html.Span("Axes:", className="small me-1"),
            dbc.RadioItems(
                id=AXES_CHOICE,
                value=AXES_FM,
                inline=True,
                options=[{"label": label, "value": v} for v, label in AXES_OPTIONS],
                className="small d-inline-block",
            ),
        ],
        className="axes-toggle d-flex align-items-center",
    )


def pca_graph(config: dict, height_px: int = 360) -> html.Div:
    """Return the PCA view's graph (hidden until "principal components" is chosen).

    ``config`` is plotly's config of the scatter (mode bar with box and lasso).
    """
    return html.Div(
        [
            dcc.Graph(
                id=CUSTOMER_PCA,
                config=config,
                figure=placeholder("Principal components are being computed…"),
                style={"height": f"{height_px}px"},
            ),
            html.Div(PCA_NOTE, className="panel-note"),
            dcc.Store(id=PCA_K, storage_type="memory"),
        ],
        id=PCA_BOX,
        style=HIDDEN,
    )
