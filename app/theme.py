"""Colours, symbols and number formats shared by every panel.

Value tiers are coloured from ONE ordered, colour-blind-safe sequential scale,
viridis (van der Walt & Smith 2015, the matplotlib default; perceptually uniform,
monotone in lightness, readable with the common colour-vision deficiencies and
in greyscale), as plotly ships it (``plotly.colors.sequential.Viridis``). For k
tiers the scale is sampled at k evenly spaced points from the light end
(cluster 0, lowest value) to the dark end (cluster k - 1, highest value), so the
bottom tier and the top tier have the same colour at every k, and more value is
always more ink. The ends are trimmed (:data:`TIER_SCALE_RANGE`): the lightest
viridis yellow vanishes on white and the darkest reads as black.

Purchase styles are told apart by marker symbol only (their legend swatches are
neutral grey), and the what-if customer is a vermillion star with a dark
outline: a hue viridis never takes, so colour on the scatter means the tier.
"""

from __future__ import annotations

import math
import os
from functools import cache

import plotly.colors

from segmentation import schema

#: The tiers' sequential scale (dark = high value) and the part of it used:
#: ``TIER_SCALE_RANGE[0]`` is the top tier's point, ``[1]`` the bottom tier's.
#: Both ends are trimmed: 0.0 is near-black purple, 1.0 a yellow that is barely
#: visible on white (contrast 1.1:1); 0.85 is a lime at about 1.7:1.
TIER_SCALE: tuple[str, ...] = tuple(plotly.colors.sequential.Viridis)
TIER_SCALE_RANGE: tuple[float, float] = (0.1, 0.85)
STYLE_SYMBOLS: dict[str, str] = {
    schema.REGULAR: "circle",
    schema.BULK: "square",
    schema.ANOMALY: "x",
}
#: Legend swatches of the purchase styles: one neutral grey, so that on the
#: scatter only the tier has a colour (the symbol is the style).
STYLE_COLOURS: dict[str, str] = dict.fromkeys(STYLE_SYMBOLS, "#6b7480")
#: The what-if customer's star: Okabe–Ito vermillion (Okabe & Ito 2008), far
#: from every viridis colour, outlined in the page's ink so that it also stands
#: out where colour does not (in greyscale, for a dichromat).
WHATIF_COLOUR = "#D55E00"
WHATIF_OUTLINE = "#1d2733"
#: HDBSCAN's Unclustered customers (value cluster -1, no value tier): a neutral
#: grey, lighter than the style swatches, outside the tiers' scale, so that
#: they never read as the top (or any) tier.
UNCLUSTERED_COLOUR = "#a8aeb6"
#: Heatmap scales: sequential for counts, diverging for z-scores.
SEQUENTIAL_SCALE = "Blues"
DIVERGING_SCALE = "RdBu_r"
#: A small white plot template (plotly's "plotly_white" is ~7 KB per figure and
#: costs tens of milliseconds to copy; this one carries only what we use).
TEMPLATE: dict = {
    "layout": {
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial"},
        "xaxis": {
            "gridcolor": "#EBF0F8",
            "zerolinecolor": "#EBF0F8",
            "automargin": True,
        },
        "yaxis": {
            "gridcolor": "#EBF0F8",
            "zerolinecolor": "#EBF0F8",
            "automargin": True,
        },
        "hoverlabel": {"align": "left"},
    }
}
#: Opacity of points outside the current selection.
DIMMED_OPACITY = 0.12

#: Currency symbol for revenue figures. A file does not say its currency, so by
#: default amounts carry none ("in the file's currency", DESIGN section 5); set
#: env ``SEGMENTATION_CURRENCY`` (e.g. ``£`` for the UCI exports) to show one.
CURRENCY = os.environ.get("SEGMENTATION_CURRENCY", "")
#: The currencies the page offers (its "Currency" setting): symbol -> name;
#: "" shows amounts without a symbol.
CURRENCIES: dict[str, str] = {
    "£": "pound sterling",
    "$": "dollar",
    "€": "euro",
    "": "no symbol",
}


#: Where a figure keeps the currency symbol its hover texts show:
#: ``layout.meta[CURRENCY_META]``. Hover templates read it as
#: :data:`CURRENCY_FIELD` (plotly gives every trace the layout's ``meta`` as
#: ``layout.meta``), so a currency change is one small Patch of the layout
#: (:func:`app.callbacks.currency.panel_patches`), whatever traces the
#: browser has drawn since (``assets/k_views.js`` replaces only traces).
CURRENCY_META = "currency"
CURRENCY_FIELD = "%{layout.meta." + CURRENCY_META + "}"
#: The frequency axis of the scatter (orders, log scale).
ORDERS_AXIS_TITLE = "Orders (log scale)"


def currency_symbol(currency: str | None = None) -> str:
    """Return the symbol amounts carry: ``currency``, or :data:`CURRENCY` for None."""
    return CURRENCY if currency is None else str(currency)


def money_axis_title(log: bool = True, currency: str | None = None) -> str:
    """Return the spend axis title: ``"Spend (£, log scale)"``.

    ``currency`` as in :func:`fmt_money` (None: the server's :data:`CURRENCY`);
    without a symbol ``"Spend (log scale)"``, and ``"Spend"`` on a linear axis
    without one.
    """
    symbol = currency_symbol(currency)
    unit = ", ".join(part for part in (symbol, "log scale" if log else "") if part)
    return f"Spend ({unit})" if unit else "Spend"


def money_label(label: str, currency: str | None = None) -> str:
    """Return a money quantity's label with its symbol: ``"Total spent (£)"``.

    Without a symbol (``""``) the label is returned as it is.
    """
    symbol = currency_symbol(currency)
    return f"{label} ({symbol})" if symbol else label


@cache
def tier_colours(k: int) -> tuple[str, ...]:
    """Return the colours of k value tiers, cluster 0 (lowest value) first.

    k evenly spaced samples of :data:`TIER_SCALE` from the light end of
    :data:`TIER_SCALE_RANGE` (cluster 0) to its dark end (cluster k - 1), as
    ``"#rrggbb"``: the first and the last colour are the same for every k, and
    lightness falls strictly from the first to the last.
    """
    if k < 1:
        raise ValueError(f"k={k}: need at least one tier")
    top, bottom = TIER_SCALE_RANGE
    points = [bottom + (top - bottom) * i / max(k - 1, 1) for i in range(k)]
    scale = plotly.colors.make_colorscale(list(TIER_SCALE))
    rgb = plotly.colors.sample_colorscale(scale, points, colortype="tuple")
    return tuple(
        "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in colour))
        for colour in rgb
    )


def tier_colour(value_cluster: int, k: int) -> str:
    """Return the colour of value cluster ``value_cluster`` (0 = lowest) of k.

    A negative cluster (-1: HDBSCAN's Unclustered customers) is
    :data:`UNCLUSTERED_COLOUR`, not an index from the end of the scale.
    """
    if int(value_cluster) < 0:
        return UNCLUSTERED_COLOUR
    return tier_colours(int(k))[int(value_cluster)]


def fmt_int(value: float) -> str:
    """Format a count with thousands separators: ``4338 -> "4,338"``."""
    return f"{round(float(value)):,}"


def fmt_count(value: float, noun: str, plural: str | None = None) -> str:
    """Format a count with its noun, singular or plural: ``"1 order"``, ``"2 orders"``.

    Counts are rounded first, so a median of 1.4 orders reads "1 order".
    """
    number = round(float(value))
    word = noun if number == 1 else (plural or noun + "s")
    return f"{number:,} {word}"


def fmt_money(value: float, decimals: int = 0, currency: str | None = None) -> str:
    """Format an amount with a currency symbol and separators: ``"£8,911,408"``.

    ``currency`` is the symbol put before the digits (after a minus sign:
    ``"-£5"``); None uses the server's default :data:`CURRENCY`, ``""`` none.
    Missing or NaN -> ``"–"``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    symbol = CURRENCY if currency is None else currency
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{abs(float(value)):,.{decimals}f}"


def fmt_pct(value: float, decimals: int = 1) -> str:
    """Format a percentage given in percent units: ``24.93 -> "24.9 %"``."""
    return f"{float(value):,.{decimals}f} %"


def fmt_compact(value: float) -> str:
    """Format a number in at most about five characters, for small cells.

    ``0.034 -> "0.03"``, ``7.5 -> "7.50"``, ``112.4 -> "112"``, ``7834 -> "7.8k"``,
    ``168478 -> "168k"``, ``1234567 -> "1.2M"``, ``-24236 -> "-24k"``; NaN -> "–".
    """
    number = float(value)
    if math.isnan(number):
        return "–"
    size, sign = abs(number), "-" if number < 0 else ""
    if size < 10:
        return f"{number:.2f}"
    if size < 1000:
        return f"{number:.0f}"
    for scale, unit in ((1e3, "k"), (1e6, "M"), (1e9, "B")):
        scaled = size / scale
        text = f"{scaled:.1f}" if round(scaled, 1) < 10 else f"{scaled:.0f}"
        if float(text) < 1000 or unit == "B":
            return f"{sign}{text}{unit}"  # else 999,950 -> "1.0M", not "1000k"
    return f"{number:.3g}"  # pragma: no cover (the loop always returns)
