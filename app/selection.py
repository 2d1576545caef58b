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
  mark);
* ``{"moved": {"from": tier or None, "to": tier or None, "days": N, "ids": [...]}}``:
  a link (from and to) or a node (one of them) of the over-time panel's Sankey
  of value tier moves (:mod:`app.figures.sankey`): the customers whose tier N
  days earlier was ``from`` and is now ``to``. The ids are the move's customers
  (the panels' customers have no earlier tier to match on).
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
#: A link or node of the over-time panel's Sankey of tier moves.
MOVED = "moved"
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
    if MOVED in selection:
        wanted = {str(c) for c in selection[MOVED].get("ids", [])}
        return customers[schema.CUSTOMER_ID].astype(str).isin(wanted)
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
    if MOVED in selection:
        return describe_move(selection[MOVED])
    where = "principal components" if selection.get(VIEW) == PCA_VIEW else "scatter"
    return f"{len(selection.get(CUSTOMER_IDS, [])):,} customers chosen on the {where}"


def describe_move(move: dict) -> str:
    """Return a phrase naming a Sankey selection, e.g. ``"High → Mid in 90 days"``.

    ``move`` is the value of a ``"moved"`` selection (see the module docstring).
    """
    before, now, days = move.get("from"), move.get("to"), int(move.get("days", 0))
    if before == schema.NOT_YET_A_CUSTOMER:
        tier = f", now {now} tier" if now else ""
        return f"new customers in the last {days} days{tier}"
    if before is None:
        return f"{now} tier now (tier moves over {days} days)"
    if now is None:
        return f"{before} tier {days} days ago (tier moves)"
    if before == now:
        return f"stayed in the {now} tier over {days} days"
    return f"moved from {before} to {now} tier in {days} days"
