"""Method, PCA view and distributions in a real browser.

From a freshly loaded page with the built-in sample: choosing HDBSCAN redraws
the panels with an "Unclustered" tier and the k slider's label says what k
means for it; the comparison of the four methods arrives and "Use recommended
method" applies it; the PCA view takes a real lasso drawn with the pointer and
the selection count follows; the distributions panel draws the selection's
boxes. Screenshots go to ``tests/screenshots/`` (and ``/tmp/shots`` when it
exists).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from app import ids
from app.components.distributions import DISTRIBUTIONS
from app.components.methods import (
    K_LABEL,
    K_LABEL_HDBSCAN,
    METHOD_CHOICE,
    METHOD_COMPARISON,
    METHOD_RULE,
    USE_RECOMMENDED_METHOD,
)
from app.components.pca import AXES_CHOICE, CUSTOMER_PCA
from app.figures.distributions import DISTRIBUTION_FEATURES, SELECTION_NAME
from tests.browser import pages
from tests.browser.checks import assert_console_clean

pytestmark = pytest.mark.browser

EXTRA_SHOTS = Path("/tmp/shots")

_LAYOUT_JS = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
if (!gd || !gd._fullLayout) { return null; }
const out = {x: gd._fullLayout.xaxis.title.text, y: gd._fullLayout.yaxis.title.text,
             meta: gd._fullLayout.meta || null};
return out;
"""

_POINTS_JS = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
const box = gd.querySelector('.main-svg').getBoundingClientRect();
const out = [];
gd._fullData.forEach(t => {
  if (!t.meta || !t.x) { return; }
  for (let i = 0; i < t.x.length; i++) {
    out.push([box.left + xa._offset + xa.l2p(xa.d2l(t.x[i])),
              box.top + ya._offset + ya.l2p(ya.d2l(t.y[i])),
              t.customdata[i][0]]);
  }
});
return out;
"""


def shot(driver, screenshots, name: str) -> None:
    driver.save_screenshot(str(screenshots / f"{name}.png"))
    if EXTRA_SHOTS.is_dir():
        shutil.copy(screenshots / f"{name}.png", EXTRA_SHOTS / f"{name}.png")


def choose(driver, group_id: str, label: str) -> None:
    """Click the radio button labelled ``label`` in the group ``group_id``."""
    for item in driver.find_elements(By.CSS_SELECTOR, f"#{group_id} label"):
        if item.text.strip() == label:
            driver.execute_script("arguments[0].scrollIntoView({block:'center'})", item)
            item.click()
            return
    raise AssertionError(f"no option {label!r} in #{group_id}")


def grid_tiers(driver) -> list[str]:
    grid = pages.heatmap(driver, ids.VALUE_STYLE_GRID)
    return list(grid["y"]) if grid else []


def inside(point, polygon) -> bool:
    """Even-odd ray casting (viewport px)."""
    x, y = point
    result = False
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y0 > y) != (y1 > y):
            if x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                result = not result
    return result


def distance_to_edges(point, polygon) -> float:
    px, py = point
    best = float("inf")
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        dx, dy = x1 - x0, y1 - y0
        t = max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)))
        best = min(best, ((px - x0 - t * dx) ** 2 + (py - y0 - t * dy) ** 2) ** 0.5)
    return best


def draw_lasso(driver, polygon) -> None:
    actions = ActionChains(driver, duration=30)
    pointer = actions.w3c_actions.pointer_action
    pointer.move_to_location(*polygon[0])
    pointer.pointer_down()
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        for i in range(1, 7):
            pointer.move_to_location(
                round(x0 + (x1 - x0) * i / 6), round(y0 + (y1 - y0) * i / 6)
            )
    pointer.pause(0.2)
    pointer.pointer_up()
    actions.perform()


def test_switching_method_redraws_the_panels_with_unclustered(page, screenshots):
    pages.wait_panels(page)
    before = grid_tiers(page)
    assert "Unclustered" not in before
    choose(page, METHOD_CHOICE, "HDBSCAN")
    pages.wait(
        page,
        lambda d: "Unclustered" in grid_tiers(d),
        message="the grid never showed an Unclustered tier",
    )
    pages.wait_idle(page)
    assert pages.text_of(page, K_LABEL) == K_LABEL_HDBSCAN
    pages.wait_text(page, "method-help", r"Unclustered\.")
    tiers = {t["meta"]["tier"] for t in pages.scatter_points(page)}
    assert "Unclustered" in tiers
    cards = pages.persona_cards(page)
    assert any("UNCLUSTERED" in c.upper() for c in cards)
    assert "method=hdbscan" in page.current_url
    shot(page, screenshots, "methods_1_hdbscan")
    # the comparison arrives (background job) and its button applies it
    text = pages.wait_text(page, METHOD_COMPARISON, "Gaussian mixture", timeout=180)
    for name in ("k-means", "Ward", "HDBSCAN", "Silhouette", "Davies–Bouldin"):
        assert name in text
    rule = pages.wait_text(page, METHOD_RULE, r"Recommended at k = \d+: ")
    recommended = re.search(r"Recommended at k = \d+: ([^,]+), by", rule).group(1)
    button = page.find_element(By.ID, USE_RECOMMENDED_METHOD)
    page.execute_script("arguments[0].scrollIntoView({block:'center'})", button)
    shot(page, screenshots, "methods_2_comparison")
    if recommended != "HDBSCAN":
        pages.wait(page, lambda d: button.is_enabled(), message="button stayed off")
        button.click()
        pages.wait(
            page,
            lambda d: "Unclustered" not in grid_tiers(d),
            message="the recommended method was not applied",
        )
        checked = page.find_element(
            By.CSS_SELECTOR, f"#{METHOD_CHOICE} input:checked"
        ).get_attribute("value")
        labels = {"kmeans": "k-means", "gmm": "Gaussian mixture", "ward": "Ward"}
        assert labels[checked] == recommended
    pages.wait_idle(page)
    assert_console_clean(page)


def test_pca_view_and_a_lasso_select_customers(page, screenshots):
    pages.wait_panels(page)
    _, total = pages.summary_counts(page)
    choose(page, AXES_CHOICE, "principal components")
    pages.wait(
        page,
        lambda d: (page.execute_script(_LAYOUT_JS, CUSTOMER_PCA) or {}).get("meta"),
        message="the PCA view was never drawn",
    )
    pages.wait_idle(page)
    titles = page.execute_script(_LAYOUT_JS, CUSTOMER_PCA)
    assert re.fullmatch(r"PC1 \(\d+ % of variance\)", titles["x"])
    assert re.fullmatch(r"PC2 \(\d+ % of variance\)", titles["y"])
    assert not page.find_element(By.ID, ids.CUSTOMER_SCATTER).is_displayed()
    points = page.execute_script(_POINTS_JS, CUSTOMER_PCA)
    assert len(points) == total
    # a lasso around the right part of the cloud: a pentagon in viewport px
    xs = sorted(p[0] for p in points)
    ys = sorted(p[1] for p in points)
    left, right = xs[len(xs) // 2], xs[-1] + 6
    top, bottom = ys[0] - 6, ys[-1] + 6
    middle = (top + bottom) / 2
    polygon = [
        (round(left), round(top)),
        (round(right), round(top)),
        (round(right), round(bottom)),
        (round(left), round(bottom)),
        (round(left - 25), round(middle)),
    ]
    draw_lasso(page, polygon)
    pages.wait_text(page, ids.SELECTION_SUMMARY, "chosen on the principal components")
    pages.wait_idle(page)
    selected, whole = pages.summary_counts(page)
    sure = sum(
        inside(p[:2], polygon) and distance_to_edges(p[:2], polygon) > 2 for p in points
    )
    maybe = sum(distance_to_edges(p[:2], polygon) <= 2 for p in points)
    assert whole == total
    assert sure <= selected <= sure + maybe, (sure, maybe, selected)
    assert 0 < selected < total
    drawn = sum(
        len(t["selectedpoints"] or [])
        for t in pages.graph(page, CUSTOMER_PCA)
        if t["meta"]
    )
    assert drawn == selected
    shot(page, screenshots, "methods_3_pca_lasso")
    # back to frequency x monetary: the lasso belonged to the components
    choose(page, AXES_CHOICE, "frequency × monetary")
    pages.wait_text(page, ids.SELECTION_SUMMARY, "no selection")
    assert page.find_element(By.ID, ids.CUSTOMER_SCATTER).is_displayed()
    assert_console_clean(page)


def test_distributions_follow_a_selection(page, screenshots):
    pages.wait_panels(page)
    pages.wait(
        page,
        lambda d: pages.graph(d, DISTRIBUTIONS),
        message="the distributions were never drawn",
    )
    traces = pages.graph(page, DISTRIBUTIONS)
    tiers = grid_tiers(page)
    assert len(traces) == len(tiers) * len(DISTRIBUTION_FEATURES)
    card = page.find_elements(By.CSS_SELECTOR, f"#{ids.PERSONA_CARDS} .persona-card")[
        -1
    ]
    page.execute_script("arguments[0].scrollIntoView({block:'center'})", card)
    card.click()
    pages.wait_text(page, ids.SELECTION_SUMMARY, "persona card")
    pages.wait(
        page,
        lambda d: any(
            t["name"] == SELECTION_NAME for t in pages.graph(d, DISTRIBUTIONS)
        ),
        message="the distributions never drew the selection",
    )
    traces = pages.graph(page, DISTRIBUTIONS)
    chosen = [t for t in traces if t["name"] == SELECTION_NAME]
    assert len(chosen) == len(DISTRIBUTION_FEATURES)
    assert len(traces) == (len(tiers) + 1) * len(DISTRIBUTION_FEATURES)
    graph = page.find_element(By.ID, DISTRIBUTIONS)
    page.execute_script("arguments[0].scrollIntoView({block:'start'})", graph)
    shot(page, screenshots, "methods_4_distributions_selection")
    assert_console_clean(page)
