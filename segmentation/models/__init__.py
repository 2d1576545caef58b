"""The two segmentations and the choice of k and method (DESIGN sections 6, 7).

* :class:`ValueTiers` – k-means (or a Gaussian mixture, Ward, HDBSCAN) on
  standardised ``log1p`` frequency and monetary; clusters renumbered 0..k-1 in
  ascending value.
* :func:`compare_methods` – the four methods side by side for one k, and the
  recommended one (:class:`MethodComparison`).
* :func:`principal_components` – the customers on the first principal components
  of the standardised log value features, with explained variance and loadings
  (:class:`Projection`; the app's PCA view).
* :class:`PurchaseStyle` – Regular / Bulk / Anomaly, with a reason in words.
* :class:`RecencyStatus` – Active / Cooling / Lapsed, from recency against each
  customer's own rhythm.
* :func:`k_diagnostics` – inertia, silhouette, Davies–Bouldin and Calinski–Harabasz
  for k = 2..10 and a recommended k; :func:`stability` – mean adjusted Rand index.

Input is the customer feature table of :func:`segmentation.features.customer_features`
(index ``customer_id``); only the columns each model names are read. Each model
lives in a private module (``_value_tiers``, ``_purchase_style`` with its
order bands in ``_peer_bands``, ``_status``, ``_diagnostics`` with the vote for k
in ``_k_choice`` and its fast measures in ``_cluster_scores``, ``_methods`` with
the clustering methods and ``_method_comparison``, ``_projection`` with the PCA;
``_inputs`` holds the input check and the feature scaling they share); the public
names are these.
"""

from __future__ import annotations

from segmentation.models._cluster_scores import silhouette_scores
from segmentation.models._diagnostics import KDiagnostics, k_diagnostics, stability
from segmentation.models._method_comparison import (
    MethodComparison,
    compare_methods,
    subsample_stability,
)
from segmentation.models._methods import UNCLUSTERED, UNCLUSTERED_LABEL
from segmentation.models._projection import Projection, principal_components
from segmentation.models._purchase_style import (
    PurchaseStyle,
)
from segmentation.models._status import STATUSES, RecencyStatus
from segmentation.models._value_tiers import ValueTiers

__all__ = [
    "STATUSES",
    "UNCLUSTERED",
    "UNCLUSTERED_LABEL",
    "KDiagnostics",
    "MethodComparison",
    "Projection",
    "PurchaseStyle",
    "RecencyStatus",
    "ValueTiers",
    "compare_methods",
    "k_diagnostics",
    "principal_components",
    "silhouette_scores",
    "stability",
    "subsample_stability",
]
