"""The two segmentations and the choice of k (DESIGN section 6).

* :class:`ValueTiers` – k-means on standardised ``log1p`` recency, frequency and
  monetary; clusters renumbered 0..k-1 in ascending value.
* :class:`PurchaseStyle` – Regular / Bulk / Anomaly, with a reason in words.
* :func:`k_diagnostics` – inertia, silhouette, Davies–Bouldin and Calinski–Harabasz
  for k = 2..10 and a recommended k; :func:`stability` – mean adjusted Rand index.

Input is the customer feature table of :func:`segmentation.features.customer_features`
(index ``customer_id``); only the columns named below are read.

This module is the stable import surface of those models; each lives in its own
module:

=====================================  ==============================================
:mod:`segmentation.value_tiers`        :class:`ValueTiers`
:mod:`segmentation.purchase_style`     :class:`PurchaseStyle` and its reason phrases
:mod:`segmentation.diagnostics`        :func:`k_diagnostics`, :class:`KDiagnostics`,
                                       :func:`silhouette_scores`, :func:`stability`
:mod:`segmentation._model_inputs`      :func:`check_features`, :data:`K_RANGE` and
                                       the k-means settings
=====================================  ==============================================
"""

from __future__ import annotations

from segmentation._model_inputs import (
    K_RANGE,
    KMEANS_THREADS,
    N_INIT,
    SWEEP_N_INIT,
    check_features,
)
from segmentation.diagnostics import (
    KDiagnostics,
    k_diagnostics,
    silhouette_scores,
    stability,
)
from segmentation.purchase_style import (
    BULK_FACTOR,
    REASON_PHRASES,
    SECOND_REASON_Z,
    PurchaseStyle,
)
from segmentation.value_tiers import ValueTiers

__all__ = [
    "BULK_FACTOR",
    "KMEANS_THREADS",
    "K_RANGE",
    "N_INIT",
    "REASON_PHRASES",
    "SECOND_REASON_Z",
    "SWEEP_N_INIT",
    "KDiagnostics",
    "PurchaseStyle",
    "ValueTiers",
    "check_features",
    "k_diagnostics",
    "silhouette_scores",
    "stability",
]
