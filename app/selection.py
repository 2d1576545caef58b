"""The cross-filter selection: what it can be and which customers it covers.

The browser's selection store holds one of (DESIGN section 7):

* ``None``: nothing selected (every panel shows the whole);
* ``{"cell": [value_tier, purchase_style]}``: a value × style grid cell;
* ``{"rf_cell": [r_score, f_score]}``: a cell of the R × F score grid;
* ``{"cluster": n}``: a persona card (value cluster ``n``);
* ``{"customer_ids": [...]}``: a box or lasso selection on the scatter;
* ``{"region": {"box": ...} or {"lasso": ...}}``: a box or lasso on a scatter that
  draws a sample (:mod:`app.figures.scatter_points`): every customer inside the
  shape (with ``"view": "pca"``: drawn on the principal components view,
  :func:`app.figures.pca.pca_region_mask`, whose ``customer_ids`` carry the same
  mark).
"""

from __future__ import annotations

import pandas as pd

from app.figures import region_mask
from app.figures.pca import PCA_VIEW, pca_region_mask
from segmentation import schema
from segmentation.features import RF_SEGMENTS

CELL = "cell"
RF_CELL = "rf_cell"
CLUSTER = "cluster"
CUSTOMER_IDS = "customer_ids"
REGION = "region"
#: Which view a box or lasso was drawn on, when not the scatter ("pca").
VIEW = "view"
#: The kinds made on the scatter itself (plotly draws them; no re-render).
SCATTER_KINDS: tuple[str, ...] = (CUSTOMER_IDS, REGION)


def selection_mask(customers: pd.DataFrame, selection: dict | None) -> pd.Series | None:
    """Return which customers a selection covers.

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per customer, columns ``schema.OUTPUT_COLUMNS``.
    selection : dict or None
        A selection store value (see the module docstring).

    Returns
    -------
    pandas.Series of bool or None
        Aligned with ``customers``; ``None`` when nothing is selected.
    """
    if not selection:
        return None
    if CELL in selection:
        tier, style = selection[CELL]
        return (customers[schema.VALUE_TIER] == tier) & (
            customers[schema.PURCHASE_STYLE] == style
        )
    if RF_CELL in selection:
        r, f = (int(score) for score in selection[RF_CELL])
        return (customers[schema.R_SCORE] == r) & (customers[schema.F_SCORE] == f)
    if CLUSTER in selection:
        return customers[schema.VALUE_CLUSTER] == int(selection[CLUSTER])
    if CUSTOMER_IDS in selection:
        wanted = {str(c) for c in selection[CUSTOMER_IDS]}
        return customers[schema.CUSTOMER_ID].astype(str).isin(wanted)
    if REGION in selection:
        if selection.get(VIEW) == PCA_VIEW:
            inside = pca_region_mask(customers, selection[REGION])
        else:
            inside = region_mask(customers, selection[REGION])
        return pd.Series(inside, customers.index)
    return None


def describe(selection: dict | None, personas: pd.DataFrame | None = None) -> str:
    """Return a short phrase naming the selection, e.g. ``"cell High · Bulk"``."""
    if not selection:
        return "no selection: showing all customers"
    if CELL in selection:
        tier, style = selection[CELL]
        return f"grid cell {tier} · {style}"
    if RF_CELL in selection:
        r, f = (int(score) for score in selection[RF_CELL])
        return f"RF cell R{r} · F{f} ({RF_SEGMENTS[r, f]})"
    if CLUSTER in selection:
        n = int(selection[CLUSTER])
        if personas is not None and n in personas.index.get_level_values(0):
            tier = personas.xs(n, level=0)[schema.VALUE_TIER].iloc[0]
            return f"{tier} value tier (persona card)"
        return "one value tier (persona card)"
    if REGION in selection:
        shape = "box" if "box" in selection[REGION] else "lasso"
        where = (
            "principal components'" if selection.get(VIEW) == PCA_VIEW else "scatter's"
        )
        return f"every customer inside the {where} {shape}"
    where = "principal components" if selection.get(VIEW) == PCA_VIEW else "scatter"
    return f"{len(selection.get(CUSTOMER_IDS, [])):,} customers chosen on the {where}"
