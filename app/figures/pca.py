"""The customer scatter on principal components: the PCA view (DESIGN section 7).

The same customers as :mod:`app.figures.scatter`, placed on the first two
principal components of the standardised ``log1p`` frequency and monetary the
value tiers cluster (:func:`segmentation.models.principal_components`, computed
by the engine on the customers' own columns). Axis titles give each component's
share of the variance ("PC1 (72 % of variance)"); every point's hover gives the
loadings (what the component weighs). Beyond ``scatter_points.MAX_POINTS``
customers it draws the same sample as the scatter, and a box or lasso selects
every customer inside it (:func:`pca_region_mask`). Pure: the customers are never
modified.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from dash import Patch

from app import theme
from app.figures import scatter, scatter_points
from app.figures._base import MARGIN, tier_colours, tier_order
from segmentation import schema
from segmentation.models import Projection, principal_components

#: The selection's ``view`` for a box or lasso drawn on this view.
PCA_VIEW = "pca"
#: The features' names in the loadings' hover lines.
FEATURE_WORDS = {
    schema.FREQUENCY: "log orders",
    schema.MONETARY: "log spend",
}


def projection_of(customers: pd.DataFrame) -> Projection:
    """Return the customers' principal components (index ``customer_id`` as str).

    The engine's PCA of the standardised log value features, on the labelled
    customer table (its frequency and monetary are the features' own).
    """
    table = customers.set_index(customers[schema.CUSTOMER_ID].astype(str))
    return principal_components(table)


def axis_title(projection: Projection, component: int) -> str:
    """Return ``"PC1 (72 % of variance)"`` for component 0, and so on."""
    share = 100 * float(projection.explained_variance_ratio[component])
    return f"PC{component + 1} ({share:.0f} % of variance)"


def loading_words(projection: Projection) -> list[str]:
    """Return each component's loadings in words.

    E.g. ``"PC1 = 0.71 × log orders + 0.71 × log spend"`` (standardised
    features; the weights of a component have squares summing to 1).
    """
    lines = []
    for name, row in projection.loadings.iterrows():
        text = ""
        for position, (column, weight) in enumerate(row.items()):
            term = f"{abs(weight):.2f} × {FEATURE_WORDS.get(column, column)}"
            if position:
                text += f" {'−' if weight < 0 else '+'} {term}"
            else:
                text += f"−{term}" if weight < 0 else term
        lines.append(f"{name} = {text}")
    return lines


def pca_xy(customers: pd.DataFrame, projection: Projection) -> tuple[np.ndarray, ...]:
    """Return PC1 and PC2 of each row of ``customers`` (in their order).

    Raises
    ------
    ValueError
        When a customer has no coordinates in ``projection`` (named).
    """
    ids = customers[schema.CUSTOMER_ID].astype(str)
    coords = projection.coordinates.reindex(ids.to_numpy())
    missing = coords.iloc[:, 0].isna().to_numpy()
    if missing.any():
        first = ids.iloc[int(np.flatnonzero(missing)[0])]
        raise ValueError(
            f"{int(missing.sum())} customer(s) have no principal components; "
            f"first {first!r}"
        )
    return coords.iloc[:, 0].to_numpy(), coords.iloc[:, 1].to_numpy()


def pca_scatter(
    customers: pd.DataFrame,
    mask: pd.Series | None = None,
    uirevision: str | None = None,
    selectionrevision: str | None = None,
    projection: Projection | None = None,
    currency: str | None = None,
) -> dict:
    """WebGL scatter of PC1 vs PC2, colour = value tier, symbol = purchase style.

    Parameters
    ----------
    customers : pandas.DataFrame
        Labelled customers (``schema.OUTPUT_COLUMNS``).
    mask : pandas.Series of bool, optional
        The selection: selected points drawn as selected, the others dimmed.
    uirevision, selectionrevision : str, optional
        As for :func:`app.figures.scatter.customer_scatter` (zoom kept; a new
        ``selectionrevision`` drops a drawn box).
    projection : Projection, optional
        :func:`projection_of` the customers (computed when not given).
    currency : str, optional
        The symbol of the spend in the hovers (None: ``theme.CURRENCY``;
        ``""``: none), in ``layout.meta.currency``, which the hovers read
        (:func:`currency_patch` changes it alone).

    Returns
    -------
    dict
        A plotly figure as plain data: one trace per tier × style
        (``customdata`` rows ``[customer_id, orders, spent]``, the id first:
        selections read it), axis titles with the explained variance
        (:func:`axis_title`), ``layout.meta`` ``{"view": "pca", "shown",
        "total", "explained", "loadings", "currency"}``.
    """
    projection = projection_of(customers) if projection is None else projection
    total = len(customers)
    colours = tier_colours(customers)
    sample = scatter_points.sample_positions(customers)
    if sample is not None:
        customers = customers.iloc[sample]
        mask = None if mask is None else mask.iloc[sample]
    x, y = pca_xy(customers, projection)
    selected = None if mask is None else mask.to_numpy()
    tiers = customers[schema.VALUE_TIER].to_numpy()
    styles = customers[schema.PURCHASE_STYLE].to_numpy()
    custom = np.column_stack(
        [
            customers[schema.CUSTOMER_ID].astype(str).to_numpy(),
            customers[schema.FREQUENCY].to_numpy(),
            customers[schema.MONETARY].round(2).to_numpy(),
        ]
    )
    loadings = loading_words(projection)
    traces = []
    for tier in tier_order(customers):
        first = True
        for style in schema.PURCHASE_STYLES:
            rows = np.flatnonzero((tiers == tier) & (styles == style))
            if not len(rows):
                continue
            traces.append(
                {
                    "type": "scattergl",
                    "x": np.round(x[rows], 4).tolist(),
                    "y": np.round(y[rows], 4).tolist(),
                    "customdata": custom[rows].tolist(),
                    "mode": "markers",
                    "name": tier,
                    "legendgroup": tier,
                    "showlegend": first,
                    "meta": {"tier": tier, "style": style},
                    "marker": {
                        "color": colours[tier],
                        "size": 6,
                        "opacity": 0.8,
                        "symbol": theme.STYLE_SYMBOLS.get(style, "circle"),
                    },
                    "hovertemplate": (
                        f"Customer %{{customdata[0]}}<br>{tier} · {style}<br>"
                        "PC1 %{x:.2f}, PC2 %{y:.2f}<br>"
                        "Orders: %{customdata[1]:,}<br>"
                        f"Total spent: {theme.CURRENCY_FIELD}"
                        "%{customdata[2]:,.0f}<br>"
                        + "<br>".join(loadings)
                        + "<extra></extra>"
                    ),
                    "selectedpoints": (
                        None if selected is None else np.flatnonzero(selected[rows])
                    ),
                    "selected": {"marker": {"opacity": 1.0}},
                    "unselected": {"marker": {"opacity": theme.DIMMED_OPACITY}},
                }
            )
            first = False
    explained = [float(v) for v in projection.explained_variance_ratio]
    layout = {
        "template": theme.TEMPLATE,
        "margin": {**MARGIN, "b": 30},
        "dragmode": "lasso",
        "legend": {
            "title": {"text": "Value tier"},
            "traceorder": "reversed",
            "itemsizing": "constant",
        },
        "xaxis": {"title": {"text": axis_title(projection, 0)}, "zeroline": True},
        "yaxis": {"title": {"text": axis_title(projection, 1)}, "zeroline": True},
        "uirevision": uirevision,
        "selectionrevision": selectionrevision,
        "annotations": scatter.sample_note(len(customers), total),
        "meta": {
            "view": PCA_VIEW,
            "shown": len(customers),
            "total": total,
            "explained": explained,
            "loadings": loadings,
            theme.CURRENCY_META: theme.currency_symbol(currency),
        },
    }
    return {"data": traces, "layout": layout}


def currency_patch(currency: str | None) -> Patch:
    """Return a partial update of :func:`pca_scatter` to another currency.

    Only ``layout.meta.currency`` (the hovers read it): the points, a drawn
    lasso and the zoom stay.
    """
    patch = Patch()
    patch["layout"]["meta"][theme.CURRENCY_META] = theme.currency_symbol(currency)
    return patch


def pca_region_mask(customers: pd.DataFrame, region: dict) -> np.ndarray:
    """Return which customers lie inside a box or lasso drawn on the PCA view.

    The axes are linear (component scores), so a lasso is the polygon of its
    points as drawn; points on an edge count (``shapely.intersects_xy``), as on
    the scatter (:func:`app.figures.scatter_points.region_mask`).

    Parameters
    ----------
    customers : pandas.DataFrame
        Labelled customers (their principal components are computed again: the
        same customers give the same components).
    region : dict
        ``{"box": {"x": [lo, hi], "y": [lo, hi]}}`` or ``{"lasso": {"x": [...],
        "y": [...]}}`` in component units (:func:`scatter_points.
        region_from_selection` of the view's ``selectedData``).

    Returns
    -------
    ndarray of bool of shape (n_customers,)

    Raises
    ------
    ValueError
        For a region that is neither a box nor a lasso.
    """
    x, y = pca_xy(customers, projection_of(customers))
    if "box" in region:
        (x0, x1), (y0, y1) = region["box"]["x"], region["box"]["y"]
        return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    if "lasso" in region:
        xs, ys = (np.asarray(region["lasso"][axis], dtype=float) for axis in "xy")
        polygon = shapely.Polygon(np.column_stack([xs, ys]))
        return shapely.intersects_xy(polygon, x, y)
    raise ValueError(f"not a box or lasso region: {sorted(region)}")
