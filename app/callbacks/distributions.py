"""The distributions panel follows the dataset, k, method and the selection."""

from __future__ import annotations

from dash import Input, Output

from app import ids
from app.callbacks.common import current_segmentation
from app.components.distributions import DISTRIBUTIONS
from app.figures.distributions import feature_distributions
from app.selection import selection_mask


def render_distributions(dataset, k, percent, chosen):
    """Return the box plots per tier, with the selection's boxes beside them."""
    customers = current_segmentation(dataset, k, percent).customers
    return feature_distributions(customers, selection_mask(customers, chosen))


def register_callbacks(app) -> None:
    """Register the distributions panel's callback on ``app``."""
    app.callback(
        Output(DISTRIBUTIONS, "figure"),
        Input(ids.DATASET_STORE, "data"),
        Input(ids.K_SLIDER, "value"),
        Input(ids.ANOMALY_SLIDER, "value"),
        Input(ids.SELECTION_STORE, "data"),
    )(render_distributions)
