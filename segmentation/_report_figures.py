"""The HTML report's figures: colours, heat cells and inline SVG, no plotting library.

Private helper of :mod:`segmentation.html_report`. The engine may not import
plotly (import-linter), and the report must be one self-contained file, so its
figures are small SVG drawn here:

* :func:`tier_colours` – the value tiers' colours, the same hex values as the
  app's ``app.theme.tier_colours`` (viridis, sampled the same way);
* :func:`heat_colour` – a cell's background on the sequential Blues scale and
  the text colour that stays readable on it;
* :func:`tier_bars` – customers and revenue share per tier, side by side;
* :func:`k_curve` – one k-diagnostics measure against k, with the recommended
  and the chosen k marked.

Every text put into an SVG goes through :func:`html.escape`.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

#: Viridis (van der Walt & Smith 2015) as plotly ships it
#: (``plotly.colors.sequential.Viridis``), copied here because the engine may
#: not import plotly. The app's palette is ``app.theme.TIER_SCALE``.
VIRIDIS: tuple[str, ...] = (
    "#440154",
    "#482878",
    "#3e4989",
    "#31688e",
    "#26828e",
    "#1f9e89",
    "#35b779",
    "#6ece58",
    "#b5de2b",
    "#fde725",
)
#: The part of viridis the tiers use, as ``app.theme.TIER_SCALE_RANGE``: the
#: top tier at 0.1 (dark), the bottom tier at 0.85 (light).
TIER_SCALE_RANGE: tuple[float, float] = (0.1, 0.85)
#: Colour of HDBSCAN's Unclustered customers: a neutral grey, outside viridis.
UNCLUSTERED_COLOUR = "#9aa3ad"
#: ColorBrewer "Blues" (Brewer & Harrower), as ``plotly.colors.sequential.Blues``:
#: single-hue sequential, readable with the common colour-vision deficiencies.
BLUES: tuple[str, ...] = (
    "#f7fbff",
    "#deebf7",
    "#c6dbef",
    "#9ecae1",
    "#6baed6",
    "#4292c6",
    "#2171b5",
    "#08519c",
    "#08306b",
)
INK = "#1d2733"
MUTED = "#6b7480"
#: Okabe–Ito vermillion (Okabe & Ito 2008): the recommended k's ring.
ACCENT = "#D55E00"


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    value = hex_colour.lstrip("#")
    return tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))


def _hex(rgb: Sequence[float]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in rgb))


def _sample(stops: Sequence[str], point: float) -> str:
    """Linear RGB interpolation of evenly spaced ``stops`` at ``point`` (0..1)."""
    scale = [i / (len(stops) - 1) for i in range(len(stops))]
    high = min(max(bisect_left(scale, point), 1), len(stops) - 1)
    low = high - 1
    t = (point - scale[low]) / (scale[high] - scale[low])
    a, b = _rgb(stops[low]), _rgb(stops[high])
    return _hex([x + t * (y - x) for x, y in zip(a, b, strict=True)])


def tier_colours(k: int) -> tuple[str, ...]:
    """Return the colours of k value tiers, cluster 0 (lowest value) first.

    Parameters
    ----------
    k : int
        Number of value tiers, >= 1.

    Returns
    -------
    tuple of str of length k
        ``"#rrggbb"``: k evenly spaced samples of :data:`VIRIDIS` from 0.85
        (cluster 0, light) to 0.1 (cluster k - 1, dark), as the app draws them.

    Raises
    ------
    ValueError
        If ``k < 1``.
    """
    if k < 1:
        raise ValueError(f"k={k}: need at least one tier")
    top, bottom = TIER_SCALE_RANGE
    return tuple(
        _sample(VIRIDIS, bottom + (top - bottom) * i / max(k - 1, 1)) for i in range(k)
    )


def luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2.1) of ``"#rrggbb"``, 0 (black) .. 1 (white)."""
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
        for c in _rgb(hex_colour)
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def text_on(background: str) -> str:
    """Return the ink (dark or white) with the higher contrast on ``background``."""
    lum = luminance(background)
    return (
        INK
        if (lum + 0.05) / (luminance(INK) + 0.05) >= 1.05 / (lum + 0.05)
        else "#ffffff"
    )


def heat_colour(value: float, highest: float) -> tuple[str, str]:
    """Return (background, text colour) of a heat cell.

    Parameters
    ----------
    value, highest : float
        The cell's value and the table's largest (same unit); ``value / highest``
        places the cell on :data:`BLUES`, a zero or empty cell is white.
    """
    if not highest or not value or value <= 0:
        return "#ffffff", INK
    background = _sample(BLUES, min(value / highest, 1.0) * 0.92 + 0.08)
    return background, text_on(background)


def tier_bars(rows: Sequence[dict], *, width: int = 680) -> Markup:
    """Return an SVG of each tier's customers and revenue share, side by side.

    Parameters
    ----------
    rows : sequence of dict
        One per tier, in drawing order (top first): ``tier`` (name), ``colour``,
        ``customers`` (int), ``customer_share`` and ``revenue_share`` (0..1).
    width : int
        Width of the drawing in CSS pixels.

    Returns
    -------
    markupsafe.Markup
        ``<svg role="img">`` with a ``<title>``; two bar panels ("Share of
        customers", "Share of revenue") on one common scale (the largest share
        of either panel is the longest bar), the tier's name on the left, each
        bar labelled with its percentage.
    """
    bar, gap, label_w, top = 22, 8, 150, 34
    panel_w = (width - label_w - 30) / 2
    height = top + len(rows) * (bar + gap) + 6
    keys = (
        ("customer_share", "Share of customers"),
        ("revenue_share", "Share of revenue"),
    )
    # Both panels on one scale, the longest bar at 80 % of a panel.
    longest = max([float(row[key] or 0.0) for row in rows for key, _ in keys] + [1e-9])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" class="figure">',
        "<title>Share of customers and of revenue per value tier</title>",
    ]
    for p, (key, title) in enumerate(keys):
        x0 = label_w + p * (panel_w + 30)
        parts.append(
            f'<text x="{x0:.1f}" y="14" class="svg-title">{escape(title)}</text>'
            f'<line x1="{x0:.1f}" y1="{top - 6}" x2="{x0:.1f}" y2="{height - 4}" '
            f'stroke="{MUTED}" stroke-width="1"/>'
        )
        for i, row in enumerate(rows):
            y = top + i * (bar + gap)
            share = max(float(row[key] or 0.0), 0.0)
            length = panel_w * 0.8 * share / longest
            parts.append(
                f'<rect x="{x0:.1f}" y="{y}" width="{length:.1f}" height="{bar}" '
                f'fill="{escape(row["colour"])}" stroke="{INK}" stroke-width="0.5"/>'
                f'<text x="{x0 + length + 4:.1f}" y="{y + bar - 6}" '
                f'class="svg-num">{share:.1%}</text>'
            )
    for i, row in enumerate(rows):
        y = top + i * (bar + gap) + bar - 6
        parts.append(
            f'<text x="{label_w - 8}" y="{y}" text-anchor="end" class="svg-label">'
            f"{escape(str(row['tier']))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def k_curve(
    points: Sequence[tuple[int, float]],
    *,
    title: str,
    better: str,
    recommended: int | None,
    chosen: int | None,
    vote: int | None = None,
    width: int = 222,
    height: int = 160,
) -> Markup:
    """Return a small SVG line chart of one k-diagnostics measure against k.

    Parameters
    ----------
    points : sequence of (int, float)
        (k, value), k ascending; non-finite values are left out.
    title : str
        The measure's name.
    better : str
        What is better, for the subtitle ("higher", "lower", "the knee").
    recommended, chosen : int or None
        The recommended k (a vermillion ring on its point, dashed line) and the
        chosen k (a solid grey line); None draws neither.
    vote : int or None
        The k this measure voted for: its point is filled black.

    Returns
    -------
    markupsafe.Markup
        ``<svg role="img">`` with a ``<title>``, y axis from the smallest to the
        largest value (3 ticks), x axis one tick per k.
    """
    points = [
        (int(k), float(v))
        for k, v in points
        if v is not None and math.isfinite(float(v))
    ]
    left, right, top, bottom = 40, 12, 42, 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" class="figure kcurve">',
        f"<title>{escape(title)} against k</title>",
        f'<text x="4" y="13" class="svg-title">{escape(title)}</text>',
        f'<text x="4" y="26" class="svg-small">{escape(better)} is better</text>',
    ]
    if not points:
        parts.append(
            f'<text x="{left}" y="{height / 2}" class="svg-small">not computed</text>'
            "</svg>"
        )
        return Markup("".join(parts))
    ks = [k for k, _ in points]
    values = [v for _, v in points]
    k_lo, k_hi = min(ks), max(ks)
    v_lo, v_hi = min(values), max(values)
    if v_hi == v_lo:
        v_lo, v_hi = v_lo - 1, v_hi + 1
    plot_w, plot_h = width - left - right, height - top - bottom

    pad = 0.4  # of a k step: the first point clears the tick labels

    def x(k: float) -> float:
        return left + plot_w * (k - k_lo + pad) / (k_hi - k_lo + 2 * pad)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - v_lo) / (v_hi - v_lo))

    for v in (v_lo, (v_lo + v_hi) / 2, v_hi):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="#e3e8ef" stroke-width="1"/>'
            f'<text x="{left - 4}" y="{y(v) + 3:.1f}" text-anchor="end" '
            f'class="svg-small">{escape(_short(v))}</text>'
        )
    for k in ks:
        parts.append(
            f'<text x="{x(k):.1f}" y="{height - 8}" text-anchor="middle" '
            f'class="svg-small">{k}</text>'
        )
    if chosen is not None and k_lo <= chosen <= k_hi:
        parts.append(
            f'<line x1="{x(chosen):.1f}" x2="{x(chosen):.1f}" y1="{top - 2}" '
            f'y2="{top + plot_h}" stroke="{MUTED}" stroke-width="1.5"/>'
        )
    if recommended is not None and k_lo <= recommended <= k_hi:
        parts.append(
            f'<line x1="{x(recommended):.1f}" x2="{x(recommended):.1f}" '
            f'y1="{top - 2}" y2="{top + plot_h}" stroke="{ACCENT}" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    path = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in points)
    parts.append(
        f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="1.5"/>'
    )
    for k, v in points:
        fill = INK if k == vote else "#ffffff"
        parts.append(
            f'<circle cx="{x(k):.1f}" cy="{y(v):.1f}" r="3" fill="{fill}" '
            f'stroke="{INK}" stroke-width="1.2"/>'
        )
        if k == recommended:
            parts.append(
                f'<circle cx="{x(k):.1f}" cy="{y(v):.1f}" r="6.5" fill="none" '
                f'stroke="{ACCENT}" stroke-width="2"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(value: float) -> str:
    """Return a tick label of about five characters: ``0.53``, ``312``, ``7.8k``."""
    size = abs(value)
    if size >= 10_000:
        return f"{value / 1000:.0f}k"
    if size >= 1000:
        return f"{value / 1000:.1f}k"
    if size >= 10:
        return f"{value:.0f}"
    return f"{value:.2f}"
