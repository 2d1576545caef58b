"""Colours, symbols and number formats shared by every panel.

Colours are the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"),
distinguishable with the common forms of colour blindness; value tiers take them
in order of value (cluster 0 = lowest), so a tier has the same colour in the
scatter, the persona cards and the legends. Purchase styles are told apart by
marker symbol (and a fixed colour where a colour is needed).
"""

from __future__ import annotations

import math
import os

from segmentation import schema

#: Okabe–Ito, then two extra colour-blind-safe tones (Tol's "wine", grey) for k > 8.
TIER_COLOURS: tuple[str, ...] = (
    "#56B4E9",  # sky blue   (cluster 0, lowest value)
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
    "#882255",  # wine
    "#999999",  # grey
)
STYLE_SYMBOLS: dict[str, str] = {
    schema.REGULAR: "circle",
    schema.BULK: "square",
    schema.ANOMALY: "x",
}
STYLE_COLOURS: dict[str, str] = {
    schema.REGULAR: "#999999",
    schema.BULK: "#0072B2",
    schema.ANOMALY: "#D55E00",
}
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


def money_axis_title(log: bool = True) -> str:
    """Return the monetary axis title, with the currency when one is set."""
    unit = ", ".join(part for part in (CURRENCY, "log" if log else "") if part)
    return f"monetary ({unit})" if unit else "monetary"


def tier_colour(value_cluster: int) -> str:
    """Return the colour of a value cluster (0 = lowest value)."""
    return TIER_COLOURS[int(value_cluster) % len(TIER_COLOURS)]


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


def fmt_money(value: float, decimals: int = 0) -> str:
    """Format an amount with the currency (if set) and separators: ``"8,911,408"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign = "-" if value < 0 else ""
    return f"{sign}{CURRENCY}{abs(float(value)):,.{decimals}f}"


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
