"""Tier colours: one ordered sequential scale, the same ends at every k.

Issue "Colours change meaning with k": High was green at k = 3 and yellow at
k = 10, Very high black like the what-if star, Lowest and Mid both blue, and the
scatter's legend ran the other way from the grid.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from app import figures, theme
from app.components.personas import persona_card_data
from app.figures.profile import HEATMAP_FEATURES
from segmentation import schema

KS = range(2, 11)  # the k slider's range


def rgb(colour: str) -> tuple[float, float, float]:
    """``"#rrggbb"`` -> sRGB channels in [0, 1]."""
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", colour), colour
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))


def linear(channel: float) -> float:
    """sRGB transfer function undone (IEC 61966-2-1)."""
    if channel <= 0.04045:
        return channel / 12.92
    return ((channel + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a hex colour."""
    r, g, b = (linear(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def lab(colour: str) -> np.ndarray:
    """CIE L*a*b* (D65) of a hex colour."""
    r, g, b = (linear(c) for c in rgb(colour))
    xyz = np.array(
        [
            0.4124 * r + 0.3576 * g + 0.1805 * b,
            0.2126 * r + 0.7152 * g + 0.0722 * b,
            0.0193 * r + 0.1192 * g + 0.9505 * b,
        ]
    ) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(one: str, other: str) -> float:
    """CIE76 colour difference (about 2.3 is just noticeable)."""
    return float(np.linalg.norm(lab(one) - lab(other)))


# --- the palette ----------------------------------------------------------------


def test_the_bottom_and_the_top_tier_keep_their_colour_at_every_k():
    bottoms = {theme.tier_colours(k)[0] for k in KS}
    tops = {theme.tier_colours(k)[-1] for k in KS}
    assert len(bottoms) == 1 and len(tops) == 1
    assert bottoms != tops
    assert [len(theme.tier_colours(k)) for k in KS] == list(KS)


@pytest.mark.parametrize("k", KS)
def test_every_tier_of_a_k_has_its_own_colour(k):
    colours = theme.tier_colours(k)
    assert len(set(colours)) == k
    # not merely different strings: told apart on screen (CIE76 > 5)
    assert min(delta_e(a, b) for a, b in itertools.pairwise(colours)) > 5


@pytest.mark.parametrize("k", KS)
def test_lightness_falls_strictly_from_the_lowest_tier_to_the_top(k):
    lums = [luminance(c) for c in theme.tier_colours(k)]
    assert all(a > b for a, b in itertools.pairwise(lums)), lums


def test_the_palette_is_one_scale_sampled_in_order():
    # every k's colours are points of the k = 10 path's ends and between them:
    # the middle tier of k = 3 is the middle of the scale's used part
    lo, hi = theme.tier_colours(3)[0], theme.tier_colours(3)[-1]
    mid = theme.tier_colours(3)[1]
    assert luminance(hi) < luminance(mid) < luminance(lo)
    assert theme.tier_colours(2) == (lo, hi)


def test_the_lightest_tier_is_still_visible_on_white():
    lightest = theme.tier_colours(10)[0]
    contrast = 1.05 / (luminance(lightest) + 0.05)
    assert contrast > 1.5, f"{lightest} is {contrast:.2f}:1 on white"


def test_the_what_if_colour_is_unlike_any_tier_colour():
    scale = {c for k in KS for c in theme.tier_colours(k)}
    scale |= set(theme.tier_colours(50))  # and anywhere between samples
    nearest = min(delta_e(theme.WHATIF_COLOUR, c) for c in scale)
    assert nearest > 40, nearest
    assert theme.WHATIF_COLOUR.lower() not in {"#000000", "black"}


def test_style_swatches_carry_no_tier_colour_and_symbols_differ():
    assert len(set(theme.STYLE_COLOURS.values())) == 1
    grey = lab(next(iter(theme.STYLE_COLOURS.values())))
    assert np.hypot(grey[1], grey[2]) < 10  # neutral: chroma under 10
    assert len(set(theme.STYLE_SYMBOLS.values())) == len(schema.PURCHASE_STYLES)
    assert "star" not in "".join(theme.STYLE_SYMBOLS.values())


# --- where the colours are used -------------------------------------------------


def customers_of(k: int) -> pd.DataFrame:
    """k tiers named T0 (lowest) .. T{k-1}, 2 Regular + 1 Bulk customers each."""
    rows = []
    for cluster in range(k):
        for j, style in enumerate((schema.REGULAR, schema.REGULAR, schema.BULK)):
            frequency = 1 + cluster * 3 + j
            rows.append(
                {
                    schema.CUSTOMER_ID: f"c{cluster}-{j}",
                    schema.RECENCY_DAYS: 10.0 + j,
                    schema.FREQUENCY: frequency,
                    schema.MONETARY: 100.0 * frequency,
                    schema.VALUE_CLUSTER: cluster,
                    schema.VALUE_TIER: f"T{cluster}",
                    schema.PERSONA: f"Persona {cluster}",
                    schema.PURCHASE_STYLE: style,
                    schema.GRID_LABEL: f"T{cluster} {style}",
                }
            )
    frame = pd.DataFrame(rows)
    for position, feature in enumerate(HEATMAP_FEATURES):  # the heatmap's columns
        if feature not in frame:
            frame[feature] = frame[schema.FREQUENCY] * (position + 1.0)
    return frame


def grid_rows_top_down(customers: pd.DataFrame) -> list[str]:
    """The grid's tiers as they read on screen, from the top row down."""
    fig = figures.value_style_grid(customers)
    rows = list(fig.data[0].y)  # a category y axis draws the first at the bottom
    return rows if fig.layout.yaxis.autorange == "reversed" else rows[::-1]


def legend_top_down(fig: go.Figure) -> list[str]:
    """The scatter's tier legend as it reads on screen, from the top down."""
    entries = [
        t
        for t in fig.data
        if t.showlegend is not False and t.legend in (None, "legend")
    ]
    order = sorted(range(len(entries)), key=lambda i: (entries[i].legendrank, i))
    return [entries[i].name for i in order]


@pytest.mark.parametrize("k", [3, 6, 10])
def test_the_scatter_legend_reads_in_the_grid_order_top_tier_first(k):
    customers = customers_of(k)
    fig = go.Figure(figures.customer_scatter(customers))
    expected = [f"T{c}" for c in reversed(range(k))]
    assert grid_rows_top_down(customers) == expected
    assert legend_top_down(fig) == expected
    assert fig.layout.legend.traceorder in (None, "grouped", "normal")


@pytest.mark.parametrize("k", [3, 6, 10])
def test_every_panel_colours_a_tier_with_its_colour(k):
    customers = customers_of(k)
    colours = theme.tier_colours(k)
    scatter = go.Figure(figures.customer_scatter(customers))
    for trace in scatter.data:
        if trace.meta:  # customers' points
            cluster = int(trace.meta["tier"][1:])
            assert trace.marker.color == colours[cluster]
        elif trace.legend in (None, "legend"):  # a tier's legend entry
            assert trace.marker.color == colours[int(trace.name[1:])]
    for fig in (
        figures.value_style_grid(customers),
        figures.feature_heatmap(customers),
    ):
        labels = dict(zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext))
        for cluster in range(k):
            assert colours[cluster] in labels[f"T{cluster}"]
    cards = persona_card_data(customers, None)
    assert [card["colour"] for card in cards] == list(colours)[::-1]  # top first


def test_the_top_tier_looks_the_same_at_k_3_6_and_10():
    tops = set()
    for k in (3, 6, 10):
        fig = go.Figure(figures.customer_scatter(customers_of(k)))
        top = f"T{k - 1}"
        tops |= {t.marker.color for t in fig.data if t.name == top}
    assert tops == {theme.tier_colours(10)[-1]}


def test_the_what_if_star_is_vermillion_outlined_not_black():
    fig = go.Figure(
        figures.customer_scatter(
            customers_of(3), whatif={"frequency": 5.0, "monetary": 500.0}
        )
    )
    (star,) = [a for a in fig.layout.annotations if a.name == figures.WHATIF_NAME]
    assert star.text == "★"
    assert star.font.color == theme.WHATIF_COLOUR
    assert theme.WHATIF_OUTLINE in star.font.shadow
