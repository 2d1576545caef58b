"""Distributions: a box plot of each feature per value tier, and of the selection.

One small box plot per feature (recency, frequency, monetary and the behaviour
features of :data:`app.figures.profile.HEATMAP_FEATURES`), one box per value
tier, lowest tier first. The boxes are drawn from statistics computed here
(quartiles, median, mean, Tukey whiskers: the most extreme values within 1.5
interquartile ranges of the box), not from every customer's value, so the
figure stays a few kilobytes for any number of customers. With a selection,
each tier holding selected customers gets a second, dark box beside its own:
the selected customers of that tier. A feature whose whiskers stay above zero
is drawn on a log axis (spend and counts are skewed). Pure: the customers are
never modified.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from app import glossary, theme
from app.figures._base import MARGIN, tier_colours, tier_order
from app.figures.profile import HEATMAP_FEATURES
from segmentation import schema

#: The features drawn, in order (three per row).
DISTRIBUTION_FEATURES: tuple[str, ...] = HEATMAP_FEATURES
COLUMNS = 3
#: The selection's boxes: the page's ink, a colour no tier takes.
SELECTION_COLOUR = theme.WHATIF_OUTLINE
SELECTION_NAME = "Selection"


def title(feature: str, currency: str | None = None) -> str:
    """Return the title above a feature's box plot: ``"Total spent (£)"``.

    The feature's display name with its unit (:func:`app.glossary.
    feature_label`; money features take ``currency``, None: the server's).
    """
    return glossary.feature_label(feature, currency)


def box_stats(values: np.ndarray) -> dict[str, float]:
    """Return a box's statistics: quartiles, median, mean and Tukey whiskers.

    Parameters
    ----------
    values : ndarray of float
        One group's values (NaN ignored); at least one finite value.

    Returns
    -------
    dict
        ``q1``, ``median``, ``q3`` (numpy's linear quantiles), ``mean``,
        ``lowerfence`` / ``upperfence`` (the smallest / largest value within
        1.5 × (q3 - q1) of the box) and ``n`` (values counted).
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    reach = 1.5 * (q3 - q1)
    inside = values[(values >= q1 - reach) & (values <= q3 + reach)]
    return {
        "q1": float(q1),
        "median": float(median),
        "q3": float(q3),
        "mean": float(values.mean()),
        "lowerfence": float(inside.min()),
        "upperfence": float(inside.max()),
        "n": len(values),
    }


def _axis_names(position: int) -> tuple[str, str]:
    """Return the layout keys of subplot ``position`` (0: ``xaxis``, ``yaxis``)."""
    suffix = "" if position == 0 else str(position + 1)
    return f"xaxis{suffix}", f"yaxis{suffix}"


def _box(x, stats: list[dict], name, colour, position, group, show, money) -> dict:
    ref = "" if position == 0 else str(position + 1)
    return {
        "type": "box",
        "x": x,
        **{key: [s[key] for s in stats] for key in _STAT_KEYS},
        "name": name,
        "legendgroup": name,
        "showlegend": show,
        "offsetgroup": group,
        "marker": {"color": colour},
        "line": {"color": colour, "width": 1.5},
        "fillcolor": colour if group == "tier" else "rgba(29, 39, 51, 0.35)",
        "opacity": 0.9,
        "boxpoints": False,
        "xaxis": f"x{ref}",
        "yaxis": f"y{ref}",
        "customdata": [[s["n"]] for s in stats],
        "hovertemplate": _box_hover(name, money),
    }


def _box_hover(name: str, money: bool) -> str:
    """Return a box's hover: its median, middle half and mean (money: with a symbol).

    The symbol is ``layout.meta.currency`` (:data:`app.theme.CURRENCY_FIELD`).
    """
    unit = theme.CURRENCY_FIELD if money else ""
    return (
        f"{name}<br>%{{x}}: median {unit}%{{median:,.2f}}, middle half "
        f"{unit}%{{q1:,.2f}}–{unit}%{{q3:,.2f}}, mean {unit}%{{mean:,.2f}}"
        "<br>%{customdata[0]:,} customers<extra></extra>"
    )


_STAT_KEYS = ("q1", "median", "q3", "mean", "lowerfence", "upperfence")


def feature_distributions(
    customers: pd.DataFrame,
    mask: pd.Series | None = None,
    features: tuple[str, ...] = DISTRIBUTION_FEATURES,
    currency: str | None = None,
) -> dict:
    """Return the box plots of each feature per value tier (and the selection).

    Parameters
    ----------
    customers : pandas.DataFrame
        Labelled customers (``schema.OUTPUT_COLUMNS``).
    mask : pandas.Series of bool, optional
        The selection (aligned with ``customers``); None or empty: no
        selection boxes.
    features : tuple of str
        The columns drawn, one subplot each (three per row).
    currency : str, optional
        The symbol of the money features' titles and hovers (None:
        ``theme.CURRENCY``; ``""``: none); the hovers read it from
        ``layout.meta.currency``.

    Returns
    -------
    dict
        A plotly figure as plain data. Traces: per feature, one box trace per
        value tier present (``meta`` ``{"feature", "tier"}``, the tier's colour,
        ``offsetgroup`` "tier"), then, with a selection, one trace "Selection"
        (``meta`` ``{"feature", "tier": None, "selection": True}``) with a box
        for each tier holding selected customers (``offsetgroup`` "selection",
        drawn beside the tier's box). ``layout.meta.features`` lists the
        features in subplot order, ``layout.meta.log`` which are on a log axis;
        ``layout.annotations[i]`` is feature ``i``'s title (:func:`title`).
    """
    order = tier_order(customers)
    colours = tier_colours(customers)
    tiers = customers[schema.VALUE_TIER].to_numpy()
    selected = None if mask is None or not mask.any() else mask.to_numpy()
    rows = math.ceil(len(features) / COLUMNS)
    gap_x, gap_y = 0.06, 0.12 if rows > 1 else 0.0
    width = (1 - gap_x * (COLUMNS - 1)) / COLUMNS
    height = (1 - gap_y * (rows - 1)) / rows
    traces, layout_axes, titles, logged = [], {}, [], []
    for position, feature in enumerate(features):
        values = customers[feature].to_numpy(dtype=float)
        money = feature in glossary.MONEY_COLUMNS
        row, col = divmod(position, COLUMNS)
        x0 = col * (width + gap_x)
        y1 = 1 - row * (height + gap_y)
        boxes = []
        for tier in order:
            stats = box_stats(values[tiers == tier])
            boxes.append(stats)
            traces.append(
                {
                    **_box(
                        [tier],
                        [stats],
                        tier,
                        colours[tier],
                        position,
                        "tier",
                        position == 0,
                        money,
                    ),
                    "meta": {"feature": feature, "tier": tier},
                }
            )
        if selected is not None:
            chosen = [t for t in order if (selected & (tiers == t)).any()]
            stats = [box_stats(values[selected & (tiers == t)]) for t in chosen]
            boxes += stats
            traces.append(
                {
                    **_box(
                        chosen,
                        stats,
                        SELECTION_NAME,
                        SELECTION_COLOUR,
                        position,
                        "selection",
                        position == 0,
                        money,
                    ),
                    "meta": {"feature": feature, "tier": None, "selection": True},
                }
            )
        log = all(box["lowerfence"] > 0 for box in boxes)
        if log:
            logged.append(feature)
        x_name, y_name = _axis_names(position)
        ref = "" if position == 0 else str(position + 1)
        layout_axes[x_name] = {
            "domain": [max(round(x0, 6), 0.0), min(round(x0 + width, 6), 1.0)],
            "anchor": f"y{ref}",
            "type": "category",
            "categoryorder": "array",
            "categoryarray": order,
            "tickfont": {"size": 9},
            "tickangle": -30 if len(order) > 4 else 0,
        }
        layout_axes[y_name] = {
            "domain": [max(round(y1 - height, 6), 0.0), min(round(y1, 6), 1.0)],
            "anchor": f"x{ref}",
            "type": "log" if log else "linear",
            **({"dtick": 1} if log else {}),
            "tickfont": {"size": 9},
            "automargin": True,
        }
        titles.append(
            {
                "text": f"<b>{title(feature, currency)}</b>",
                "hovertext": glossary.feature_help(feature),
                "xref": "paper",
                "yref": "paper",
                "x": x0 + width / 2,
                "y": y1,
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
            }
        )
    layout = {
        "template": theme.TEMPLATE,
        "margin": {**MARGIN, "t": 24},
        "boxmode": "group",
        "boxgap": 0.25,
        "boxgroupgap": 0.1,
        "showlegend": True,
        "legend": {"orientation": "h", "y": -0.08, "yanchor": "top", "x": 0},
        "annotations": titles,
        "meta": {
            "features": list(features),
            "log": logged,
            theme.CURRENCY_META: theme.currency_symbol(currency),
        },
        **layout_axes,
    }
    return {"data": traces, "layout": layout}
