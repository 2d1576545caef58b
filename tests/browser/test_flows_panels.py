"""Linked panels in a real browser: grid click, persona card, box selection, k.

Each flow starts from a freshly loaded page showing the built-in sample, acts
with the mouse and keyboard (a real click on a grid cell, a real drag on the
scatter, arrow keys on the k slider's handle), and checks that every other
panel follows: counts per cell, highlighted points, persona badges, the table.
Every flow ends with no SEVERE browser-console entry and leaves screenshots in
``tests/screenshots/``.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from app import ids
from tests.browser import pages
from tests.browser.checks import (
    assert_console_clean,
    assert_panels_agree,
    card_selected,
    card_sizes,
    shot,
)

pytestmark = pytest.mark.browser


def test_grid_cell_click_filters_every_panel(page, screenshots):
    pages.wait_panels(page)
    grid = pages.grid_counts(page)
    _, total = pages.summary_counts(page)
    # the smallest non-empty cell that is not the whole tier
    cell = min((c for c, n in grid.items() if n), key=lambda c: grid[c])
    tier, style = cell
    pages.pointer_click(
        page, pages.graph_position(page, ids.VALUE_STYLE_GRID, style, tier)
    )
    pages.wait_text(page, ids.SELECTION_SUMMARY, f"grid cell {tier} · {style}")
    pages.wait_idle(page)
    shot(page, screenshots, "3_grid_cell_selected")
    n = int(grid[cell])
    assert pages.summary_counts(page) == (n, total)
    assert pages.grid_selected(page) == {c: (n if c == cell else 0) for c in grid}
    points = pages.scatter_points(page)
    highlighted = {
        (t["meta"]["tier"], t["meta"]["style"]): len(t["selectedpoints"])
        for t in points
    }
    assert highlighted == {c: (n if c == cell else 0) for c in highlighted}
    cards = pages.persona_cards(page)
    assert sorted(card_selected(cards)) == sorted([n] + [0] * (len(cards) - 1))
    assert any(c.startswith(tier.upper()) and f"{n:,} selected" in c for c in cards)
    rows = pages.table_rows(page)
    header = pages.table_header(page)
    assert len(rows) == min(n, 25)
    assert {
        (r[header.index("Value tier")], r[header.index("Purchase style")]) for r in rows
    } == {cell}
    page.find_element(By.ID, ids.CLEAR_SELECTION).click()
    pages.wait_text(page, ids.SELECTION_SUMMARY, "no selection")
    pages.wait_idle(page)
    shot(page, screenshots, "3_grid_selection_cleared")
    assert pages.summary_counts(page) == (total, total)
    assert pages.grid_selected(page) == {}
    assert all(t["selectedpoints"] is None for t in pages.scatter_points(page))
    assert card_selected(pages.persona_cards(page)) == []
    assert len(pages.table_rows(page)) == min(total, 25)
    assert_console_clean(page)


def test_persona_card_click_selects_its_cluster(page, screenshots):
    pages.wait_panels(page)
    _, total = pages.summary_counts(page)
    cards = f"#{ids.PERSONA_CARDS} .persona-card"
    card = page.find_elements(By.CSS_SELECTOR, cards)[0]
    heading = card.text.splitlines()[0]  # e.g. "HIGH VALUE" (shown upper-case)
    tier = heading.removesuffix(" VALUE")
    size = card_sizes([card.text])[0]
    card.click()
    # the summary names the tier, not a cluster number: "High value tier"
    pages.wait_text(page, ids.SELECTION_SUMMARY, "(?i)" + re.escape(f"{heading} tier"))
    assert "cluster" not in pages.text_of(page, ids.SELECTION_SUMMARY)
    pages.wait_idle(page)
    shot(page, screenshots, "3_persona_card_selected")
    assert pages.summary_counts(page) == (size, total)
    selected = pages.grid_selected(page)
    assert sum(selected.values()) == size
    assert {t.upper() for (t, _), n in selected.items() if n} == {tier}
    first = page.find_elements(By.CSS_SELECTOR, cards)[0]
    assert "selected" in first.get_attribute("class").split()
    assert_console_clean(page)


#: A graph shorter than this is unreadable (the CSS asks for 330-340 px).
READABLE_PX = 200


def collapsed(boxes: list[dict]) -> list[dict]:
    return [b for b in boxes if b["height"] < READABLE_PX or not b["inside"]]


def test_panels_keep_a_readable_size(page, screenshots):
    # Regression: with Dash's responsive ``height: 100%`` inside an auto-height
    # wrapper, graphs collapsed to 0-38 px after an update (fixed in 4c33923).
    pages.wait_panels(page)
    first = pages.graph_boxes(page)
    grid = pages.grid_counts(page)
    tier, style = max(grid, key=grid.get)
    pages.pointer_click(
        page, pages.graph_position(page, ids.VALUE_STYLE_GRID, style, tier)
    )
    pages.wait_text(page, ids.SELECTION_SUMMARY, f"grid cell {tier} · {style}")
    pages.wait_idle(page)
    shot(page, screenshots, "3_panels_after_update")
    after = pages.graph_boxes(page)
    broken = collapsed(first) + collapsed(after)
    assert broken == [], (first, after)
    assert_console_clean(page)


_LISTEN_SELECTED = """
const gd = document.querySelector('#customer-scatter .js-plotly-plot');
window.__selected = null;
gd.on('plotly_selected', e => {
  if (window.__selected === null && e && e.points.length) {
    window.__selected = e.points.map(p => [gd._fullData[p.curveNumber].meta.tier,
                                           gd._fullData[p.curveNumber].meta.style]);
  }
});
// what the renderer sends as the scatter's selectedData, in order
window.__sent = [];
const send = window.fetch;
window.fetch = function (url, options) {
  try {
    const body = JSON.parse(options.body);
    if ((body.changedPropIds || []).includes('customer-scatter.selectedData')) {
      const input = body.inputs.find(i => i.id === 'customer-scatter');
      window.__sent.push(input.value ? input.value.points.length : null);
    }
  } catch (err) { /* not a callback request */ }
  return send.apply(this, arguments);
};
"""


def test_box_selection_on_the_scatter_changes_the_grid(page, screenshots):
    pages.wait_panels(page)
    _, total = pages.summary_counts(page)
    page.execute_script(_LISTEN_SELECTED)
    # a box over frequency 1.5..6 orders and monetary 300..5,000 (log axes)
    start = pages.graph_position(page, ids.CUSTOMER_SCATTER, 1.5, 5000)
    end = pages.graph_position(page, ids.CUSTOMER_SCATTER, 6, 300)
    pages.pointer_drag(page, start, end)
    chosen = pages.wait(
        page,
        lambda d: d.execute_script("return window.__selected"),
        message="plotly never reported a box selection",
    )
    per_cell = Counter(tuple(c) for c in chosen)  # what plotly selected
    n = len(chosen)
    assert 0 < n < total
    pages.wait_text(
        page, ids.SELECTION_SUMMARY, f"{n:,} customers chosen on the scatter"
    )
    pages.wait_idle(page)
    shot(page, screenshots, "4_scatter_box_selected")
    # the box stays: the page sent its n points, and never an empty selection
    # after them (a re-render of the scatter would drop the box and send one)
    sent = page.execute_script("return window.__sent")
    assert sent and all(count == n for count in sent), sent
    assert pages.summary_counts(page) == (n, total)
    selected = pages.grid_selected(page)
    assert sum(selected.values()) == n
    assert {c: v for c, v in selected.items() if v} == dict(per_cell)
    assert sum(card_selected(pages.persona_cards(page))) == n
    assert_console_clean(page)


def test_changing_k_changes_the_tiers_everywhere(page, screenshots):
    pages.wait_panels(page)
    _, total = pages.summary_counts(page)
    pages.set_k(page, 4)
    pages.wait(
        page,
        lambda d: len(pages.persona_cards(d)) == 4,
        message="persona cards never became 4",
    )
    pages.wait_text(page, ids.K_RULE, "Chosen k = 4")
    pages.wait_panels(page)
    shot(page, screenshots, "5_k4")
    assert pages.k_value(page) == 4
    assert assert_panels_agree(page, 4) == total  # same customers, re-tiered
    pages.press_on_k(page, Keys.END)  # the highest k the slider offers
    pages.wait(
        page,
        lambda d: len(pages.persona_cards(d)) == 10,
        message="persona cards never became 10",
    )
    pages.wait_text(page, ids.K_RULE, "Chosen k = 10")
    pages.wait_panels(page)
    shot(page, screenshots, "5_k10")
    pages.full_page_screenshot(page, screenshots / "5_k10_full.png")
    assert pages.k_value(page) == 10
    assert assert_panels_agree(page, 10) == total
    assert_console_clean(page)
