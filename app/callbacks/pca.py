"""The scatter's axes switch and the PCA view: its figure and its box or lasso.

The PCA view (:mod:`app.figures.pca`) is drawn only while it is shown. A box or
lasso on it sets the cross-filter selection like one on the scatter
(``{"customer_ids": [...]}``, or on a sampled view ``{"region": {...}}`` with
every customer inside), marked ``"view": "pca"`` (:data:`app.figures.pca.
PCA_VIEW`): the view then leaves its figure as plotly drew it (a new figure
would drop the lasso), and a region is tested on the components
(:func:`app.figures.pca.pca_region_mask`). Going back to frequency × monetary
clears a selection drawn on the components: its shape belongs to those axes.
"""

from __future__ import annotations

import uuid

from dash import ClientsideFunction, Input, Output, State, ctx, no_update

from app import ids
from app.callbacks.common import current_segmentation
from app.callbacks.currency import changed_alone
from app.components.controls import CURRENCY_STORE
from app.components.pca import (
    AXES_CHOICE,
    AXES_PCA,
    CUSTOMER_PCA,
    HIDDEN,
    PCA_BOX,
    PCA_K,
    SCATTER_BOX,
    SHOWN,
)
from app.figures import is_sampled, region_from_selection
from app.figures.pca import PCA_VIEW, currency_patch, pca_scatter
from app.layout import K_SETTLED
from app.selection import CUSTOMER_IDS, REGION, VIEW, selection_mask


def made_on_pca(selection: dict | None) -> bool:
    """Whether a selection was drawn (box or lasso) on the PCA view."""
    return bool(selection) and selection.get(VIEW) == PCA_VIEW


def show_axes(axes, selection):
    """Show the scatter or the PCA view; leaving the PCA view clears its shape.

    Returns
    -------
    scatter_style, pca_style : dict
    selection : None or dash.no_update
    """
    pca = axes == AXES_PCA
    clear = None if (not pca and made_on_pca(selection)) else no_update
    return (HIDDEN if pca else SHOWN), (SHOWN if pca else HIDDEN), clear


def render_pca(dataset, k, percent, chosen, axes, currency=None, shown_k=None):
    """Return the PCA view's figure, while it is shown.

    Not redrawn when the selection was drawn on it (plotly shows it already);
    a selection made elsewhere is highlighted and drops an old lasso. The
    hovers' spend carries ``currency`` (the currency store); a change of it
    alone is a Patch of the symbol (:func:`app.figures.pca.currency_patch`).
    ``k`` is the rested k (a State); ``shown_k`` (``PCA_K``, the same k, set
    in the browser only while the view is shown) is what a k change triggers.
    """
    if axes != AXES_PCA:
        return no_update
    if changed_alone():
        return currency_patch(currency)
    if made_on_pca(chosen) and ctx.triggered_id == ids.SELECTION_STORE:
        return no_update
    customers = current_segmentation(dataset, k, percent).customers
    return pca_scatter(
        customers,
        selection_mask(customers, chosen),
        uirevision=f"pca-{dataset['id']}",
        selectionrevision=uuid.uuid4().hex,
        currency=currency,
    )


def select_on_pca(selected, dataset, k, percent, current):
    """Return the selection of a box or lasso on the PCA view.

    ``{"customer_ids": [...], "view": "pca"}`` of the points plotly reports,
    or, when the view draws a sample, ``{"region": shape, "view": "pca"}``
    (every customer inside). An empty box clears only a selection drawn on a
    scatter; plotly also reports one when a new figure drops a lasso.
    """
    points = (selected or {}).get("points", [])
    chosen = [p["customdata"][0] for p in points if p.get("customdata")]
    if chosen:
        region = region_from_selection(selected)
        customers = current_segmentation(dataset, k, percent).customers
        if region is not None and is_sampled(customers):
            return {REGION: region, VIEW: PCA_VIEW}
        return {CUSTOMER_IDS: chosen, VIEW: PCA_VIEW}
    return None if made_on_pca(current) else no_update


def register_callbacks(app) -> None:
    """Register the axes switch and the PCA view's callbacks on ``app``."""
    app.callback(
        Output(SCATTER_BOX, "style"),
        Output(PCA_BOX, "style"),
        Output(ids.SELECTION_STORE, "data", allow_duplicate=True),
        Input(AXES_CHOICE, "value"),
        State(ids.SELECTION_STORE, "data"),
        prevent_initial_call=True,
    )(show_axes)
    # k once the slider has rested, and only while the view is shown: hidden
    # (as it mostly is) it cost a request per k change in the same queue as
    # the others (assets/k_gates.js passes the rested k on to PCA_K)
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="pcaK"),
        Output(PCA_K, "data"),
        Input(K_SETTLED, "data"),
        Input(AXES_CHOICE, "value"),
    )
    app.callback(
        Output(CUSTOMER_PCA, "figure"),
        Input(ids.DATASET_STORE, "data"),
        State(K_SETTLED, "data"),
        Input(ids.ANOMALY_SLIDER, "value"),
        Input(ids.SELECTION_STORE, "data"),
        State(AXES_CHOICE, "value"),
        Input(CURRENCY_STORE, "data"),
        Input(PCA_K, "data"),
    )(render_pca)
    app.callback(
        Output(ids.SELECTION_STORE, "data", allow_duplicate=True),
        Input(CUSTOMER_PCA, "selectedData"),
        State(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        State(ids.ANOMALY_SLIDER, "value"),
        State(ids.SELECTION_STORE, "data"),
        prevent_initial_call=True,
    )(select_on_pca)
