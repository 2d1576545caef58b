"""The feature heatmap: z-scored feature means per value tier (and the selection).

Pure: ``DataFrame -> go.Figure``. Hover texts explain each feature in plain
words (:mod:`app.glossary`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Patch

from app import glossary, theme
from app.figures._base import MARGIN, tier_colours, tier_order, tier_ticks
from segmentation import schema

#: Features profiled in the feature heatmap (z-scored means per value cluster).
HEATMAP_FEATURES: tuple[str, ...] = (
    schema.RECENCY_DAYS,
    schema.FREQUENCY,
    schema.MONETARY,
    schema.AVG_ORDER_VALUE,
    schema.AVG_ITEMS_PER_ORDER,
    schema.AVG_LINE_QUANTITY,
    schema.DISTINCT_PRODUCTS,
    schema.RETURN_RATE,
    schema.TENURE_DAYS,
)


def feature_profile(
    customers: pd.DataFrame, mask: pd.Series | None = None
) -> pd.DataFrame:
    """Return z-scored feature means per value tier (plus ``Selection``).

    ``z = (mean in group - mean of all) / std of all``, per feature.

    Returns
    -------
    pandas.DataFrame
        Index value tiers (lowest first, then ``"Selection"`` when ``mask`` is
        given); columns ``HEATMAP_FEATURES``; ``.attrs["means"]`` the raw means.
    """
    feats = customers[list(HEATMAP_FEATURES)].astype(float)
    means = (
        feats.groupby(customers[schema.VALUE_TIER])
        .mean()
        .reindex(tier_order(customers))
    )
    if mask is not None and mask.any():
        chosen = feats[mask.to_numpy()].mean().to_frame("Selection").T
        means = pd.concat([means, chosen])
    std = feats.std(ddof=0).replace(0, np.nan)
    z = ((means - feats.mean()) / std).fillna(0.0)
    z.attrs["means"] = means
    return z


def feature_heatmap(
    customers: pd.DataFrame,
    mask: pd.Series | None = None,
    currency: str | None = None,
) -> go.Figure:
    """Heatmap of z-scored feature means per value tier (and the selection).

    Columns are the features' display names (:func:`app.glossary.
    display_name`). Cell text is the mean in compact form (``168k``, ``1.2M``:
    :func:`app.theme.fmt_compact`) so that it fits its cell at k = 10; the hover
    gives the full mean, the z-score and what the feature means.

    Two heatmap traces share the cells: the first draws the features that are
    not money, the second the money features (:data:`app.glossary.
    MONEY_COLUMNS`), whose hover puts the currency symbol before the mean. Each
    leaves the other's cells empty (``None``, no hover). The symbol is read
    from ``layout.meta.currency`` (``currency``; None: ``theme.CURRENCY``), so
    :func:`currency_patch` changes it without the traces.
    """
    z = feature_profile(customers, mask)
    means = z.attrs["means"].to_numpy()
    names = [glossary.display_name(f) for f in z.columns]
    money = np.array([f in glossary.MONEY_COLUMNS for f in z.columns])
    text = np.array([[theme.fmt_compact(v) for v in row] for row in means])
    helps = [glossary.feature_help(f) for f in z.columns]
    custom = [
        [
            (f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}", help_)
            for v, help_ in zip(row, helps, strict=True)
        ]
        for row in means
    ]
    hover = (
        "<b>%{y}</b> · %{x}<br>mean {unit}%{customdata[0]} "
        "(z = %{z:.2f} standard deviations from all customers)"
        "<br><i>%{customdata[1]}</i><extra></extra>"
    )
    fig = go.Figure()
    for is_money in (False, True):
        shown = money == is_money
        fig.add_trace(
            go.Heatmap(
                z=np.where(shown, z.to_numpy(), None),
                x=names,
                y=list(z.index),
                text=np.where(shown, text, "").tolist(),
                customdata=custom,
                texttemplate="%{text}",
                textfont={"size": 11 if len(z) <= 6 else 10},
                colorscale=theme.DIVERGING_SCALE,
                zmid=0,
                zmin=-2,
                zmax=2,
                showscale=not is_money,
                colorbar={"title": {"text": "SDs from<br>all customers"}},
                hoverongaps=False,
                hovertemplate=hover.replace(
                    "{unit}", theme.CURRENCY_FIELD if is_money else ""
                ),
                name="money" if is_money else "features",
                xgap=1,
                ygap=1,
            )
        )
    fig.update_traces(colorbar_thickness=10)
    fig.update_layout(
        template=theme.TEMPLATE,
        margin=MARGIN,
        xaxis={"tickangle": -30, "categoryorder": "array", "categoryarray": names},
        yaxis=tier_ticks(list(z.index), tier_colours(customers)),
        meta={theme.CURRENCY_META: theme.currency_symbol(currency)},
        showlegend=False,
    )
    return fig


def currency_patch(currency: str | None, patch: Patch | None = None) -> Patch:
    """Return a partial update of :func:`feature_heatmap` to another currency.

    Only ``layout.meta.currency``, which the money features' hovers read.
    """
    patch = Patch() if patch is None else patch
    patch["layout"]["meta"][theme.CURRENCY_META] = theme.currency_symbol(currency)
    return patch
