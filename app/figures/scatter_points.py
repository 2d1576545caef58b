"""Which customers the scatter draws, and which lie inside a box or lasso on it.

Up to :data:`MAX_POINTS` customers the scatter draws every one. Beyond that it
draws a sample, by a stated rule (:func:`sample_positions`), so that a browser
never receives more points than a 360-pixel panel can show. A box or lasso on a
sampled scatter selects by its shape (:func:`region_mask`), so every customer
inside it is selected, drawn or not.

The scatter's axes are log frequency (orders) and log monetary; monetary is
drawn at least :data:`MIN_MONETARY` so that a zero total stays on the log axis
(:func:`plotted_xy`, the one definition that :mod:`app.figures.scatter` draws and
:func:`region_mask` tests).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely

from segmentation import schema

#: Customers drawn at most (about: see the per-cell minimum), and the sample rule.
MAX_POINTS = 10_000
MIN_PER_CELL = 100
SEED = 0
#: Smallest monetary drawn on the log axis.
MIN_MONETARY = 0.01


def plotted_xy(customers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the scatter's coordinates: frequency and monetary as drawn.

    Returns
    -------
    x, y : ndarray of shape (n_customers,)
        Orders, and total spent clipped at :data:`MIN_MONETARY` (data units).
    """
    x = customers[schema.FREQUENCY].to_numpy()
    y = customers[schema.MONETARY].clip(lower=MIN_MONETARY).to_numpy()
    return x, y


def is_sampled(customers: pd.DataFrame, max_points: int | None = None) -> bool:
    """Return True when the scatter draws a sample (more than ``max_points``)."""
    return len(customers) > (MAX_POINTS if max_points is None else max_points)


def sample_positions(
    customers: pd.DataFrame, max_points: int | None = None
) -> np.ndarray | None:
    """Return the row positions the scatter draws, or None to draw every customer.

    Rule, beyond ``max_points`` customers: each value tier × purchase style cell
    keeps ``ceil(cell * max_points / customers)`` of its customers, and at least
    ``min(cell, MIN_PER_CELL)`` so that small cells (Anomaly, a top tier) stay
    visible; which ones is drawn by ``numpy.random.default_rng(SEED)``, cell by
    cell in sorted order, so the same data always gives the same sample.

    Parameters
    ----------
    customers : pandas.DataFrame
        Labelled customers (``value_tier``, ``purchase_style``).
    max_points : int, optional
        The threshold; default :data:`MAX_POINTS`.

    Returns
    -------
    ndarray of int or None
        Sorted positions (``iloc``); None when there are at most ``max_points``.
    """
    if not is_sampled(customers, max_points):
        return None
    max_points = MAX_POINTS if max_points is None else max_points
    total = len(customers)
    rng = np.random.default_rng(SEED)
    cells = customers.groupby(
        [schema.VALUE_TIER, schema.PURCHASE_STYLE], sort=True, observed=True
    ).indices
    kept = []
    for _, rows in sorted(cells.items()):
        quota = max(math.ceil(len(rows) * max_points / total), MIN_PER_CELL)
        kept.append(rng.choice(rows, min(quota, len(rows)), replace=False))
    return np.sort(np.concatenate(kept))


def region_from_selection(selected: dict | None) -> dict | None:
    """Return the shape of a plotly box or lasso selection, in data units.

    Parameters
    ----------
    selected : dict or None
        The scatter's ``selectedData``: ``range`` ({"x": [a, b], "y": [c, d]})
        for a box, ``lassoPoints`` ({"x": [...], "y": [...]}) for a lasso.

    Returns
    -------
    dict or None
        ``{"box": {"x": [lo, hi], "y": [lo, hi]}}`` or
        ``{"lasso": {"x": [...], "y": [...]}}``; None without a shape.
    """
    selected = selected or {}
    box, lasso = selected.get("range"), selected.get("lassoPoints")
    if box and box.get("x") and box.get("y"):
        return {"box": {axis: sorted(map(float, box[axis][:2])) for axis in "xy"}}
    if lasso and len(lasso.get("x") or []) >= 3:
        return {"lasso": {axis: [float(v) for v in lasso[axis]] for axis in "xy"}}
    return None


def region_mask(customers: pd.DataFrame, region: dict) -> np.ndarray:
    """Return which customers lie inside a box or lasso drawn on the scatter.

    The box test is inclusive. A lasso is a polygon with straight edges on the
    log axes, so the test runs in log10 units, with ``shapely.intersects_xy``
    (points on the edge count; a self-crossing lasso counts by the even-odd rule
    of GEOS' ray-crossing test).

    Parameters
    ----------
    customers : pandas.DataFrame
        Labelled customers.
    region : dict
        As returned by :func:`region_from_selection`.

    Returns
    -------
    ndarray of bool of shape (n_customers,)

    Raises
    ------
    ValueError
        For a region that is neither a box nor a lasso.
    """
    x, y = plotted_xy(customers)
    if "box" in region:
        (x0, x1), (y0, y1) = region["box"]["x"], region["box"]["y"]
        return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    if "lasso" in region:
        xs, ys = (np.asarray(region["lasso"][axis], dtype=float) for axis in "xy")
        if (xs <= 0).any() or (ys <= 0).any():
            raise ValueError("a lasso on log axes has positive coordinates only")
        polygon = shapely.Polygon(np.column_stack([np.log10(xs), np.log10(ys)]))
        return shapely.intersects_xy(polygon, np.log10(x), np.log10(y))
    raise ValueError(f"not a box or lasso region: {sorted(region)}")
