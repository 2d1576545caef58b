"""The distributions panel follows the dataset, k, method and the selection.

It follows k once the slider has rested (:data:`app.layout.K_SETTLED`, set in
the browser by ``assets/k_settled.js``, registered here): the box plots are
below the first panels and must not hold back their k change.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output

from app import ids
from app.callbacks.common import current_segmentation
from app.components.controls import CURRENCY_STORE
from app.components.distributions import DISTRIBUTIONS
from app.figures.distributions import feature_distributions
from app.layout import K_SETTLED
from app.selection import selection_mask


def render_distributions(dataset, k, percent, chosen, currency=None):
    """Return the box plots per tier, with the selection's boxes beside them.

    Money features carry ``currency`` (the currency store) in their titles
    and hovers. A change of the currency alone draws the figure again, not a
    Patch of its titles: the titles are ``layout.annotations`` items, and the
    currency store is set at a page's first load, when the panel may still be
    its one-annotation placeholder (a Patch of ``annotations[2]`` failed there
    53 times in a 20-user load run).
    """
    customers = current_segmentation(dataset, k, percent).customers
    mask = selection_mask(customers, chosen)
    return feature_distributions(customers, mask, currency=currency)


def register_callbacks(app) -> None:
    """Register the distributions panel's callback on ``app``."""
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="settleK"),
        Output(K_SETTLED, "data"),
        Input(ids.K_SLIDER, "value"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(DISTRIBUTIONS, "figure"),
        Input(ids.DATASET_STORE, "data"),
        Input(K_SETTLED, "data"),
        Input(ids.ANOMALY_SLIDER, "value"),
        Input(ids.SELECTION_STORE, "data"),
        Input(CURRENCY_STORE, "data"),
    )(render_distributions)
