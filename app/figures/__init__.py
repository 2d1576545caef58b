"""Figure builders: ``DataFrame -> plotly.graph_objects.Figure``, pure.

Every builder takes the labelled customers (columns ``schema.OUTPUT_COLUMNS``)
and optionally a boolean ``mask`` of the current selection (aligned with the
customers), and never modifies its input. Colours and symbols come from
:mod:`app.theme` so that a tier looks the same in every panel.

One module per figure family, each re-exported here:

* :mod:`app.figures.grid`: the value × style grid heatmap;
* :mod:`app.figures.scatter`: the customer scatter, with
  :mod:`app.figures.scatter_points` (which customers it draws, and which lie
  inside a box or lasso on it);
* :mod:`app.figures.rf_grid`: the 5 × 5 recency × frequency score grid with its
  10 RFM segments;
* :mod:`app.figures.profile`: the feature heatmap;
* :mod:`app.figures.kcurves`: the k diagnostics curves;
* :mod:`app.figures._base`: what they share (margins, tier order, placeholder).
"""

from __future__ import annotations

from app.figures._base import placeholder, tier_order
from app.figures.grid import GRID_METRICS, grid_counts, value_style_grid
from app.figures.kcurves import (
    DIAGNOSTIC_METRICS,
    chosen_k_patch,
    chosen_k_shapes,
    k_diagnostics,
)
from app.figures.profile import HEATMAP_FEATURES, feature_heatmap, feature_profile
from app.figures.rf_grid import RF_SCORES, rf_counts, rf_grid, segment_blocks
from app.figures.scatter import WHATIF_NAME, customer_scatter
from app.figures.scatter_points import is_sampled, region_from_selection, region_mask

__all__ = [
    "DIAGNOSTIC_METRICS",
    "GRID_METRICS",
    "HEATMAP_FEATURES",
    "RF_SCORES",
    "WHATIF_NAME",
    "chosen_k_patch",
    "chosen_k_shapes",
    "customer_scatter",
    "feature_heatmap",
    "feature_profile",
    "grid_counts",
    "is_sampled",
    "k_diagnostics",
    "placeholder",
    "region_from_selection",
    "region_mask",
    "rf_counts",
    "rf_grid",
    "segment_blocks",
    "tier_order",
    "value_style_grid",
]
