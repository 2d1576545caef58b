"""In Chromium: the first screen without a click, and k changes drawn in the browser.

The server prepares the sample when it starts (``app.first_screen``); a page
loaded after that comes with the panels drawn. Once a dataset is on screen the
page holds every k's panels (``assets/k_views.js``): a k change redraws the
grid, scatter, feature heatmap and persona cards with no panel figure sent by
the server, and the scatter keeps the user's zoom. No timings are asserted here
(``benchmarks/browser.py`` measures them).
"""

from __future__ import annotations

import json
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from app import ids
from app.layout import FIRST_SCREEN, K_VIEWS
from tests.browser import checks, pages

#: Outputs a k change must not fetch from the server: the browser draws them.
PANEL_OUTPUTS = (
    f"{ids.VALUE_STYLE_GRID}.figure",
    f"{ids.FEATURE_HEATMAP}.figure",
    f"{ids.PERSONA_CARDS_DATA}.data",
)

_RECORD_JS = """
window.__outputs = [];
if (!window.__recording) {
  window.__recording = true;
  const real = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input.url;
    if (url.includes('_dash-update-component') && init && init.body) {
      try { window.__outputs.push(JSON.parse(init.body).output); } catch (e) {}
    }
    return real.apply(this, arguments);
  };
}
"""

_STORE_JS = """
const find = node => {
  if (!node || typeof node !== 'object') { return undefined; }
  if (node.props && node.props.id === arguments[0]) { return node.props.data; }
  for (const child of Object.values(node.props || node)) {
    const found = find(child);
    if (found !== undefined) { return found; }
  }
  return undefined;
};
const data = find(window.store.getState().layout);
return data ? Object.keys(data.k || {}).map(Number) : null;
"""

_STAR_JS = """
const gd = document.querySelector('#customer-scatter .js-plotly-plot');
const star = (gd.layout.annotations || []).find(a => a.name === 'what-if');
return Boolean(star && star.visible);
"""

_SCATTER_VIEW_JS = """
const gd = document.querySelector('#customer-scatter .js-plotly-plot');
return {x: Array.from(gd.layout.xaxis.range), y: Array.from(gd.layout.yaxis.range),
        uirevision: gd.layout.uirevision};
"""


def _find(node, component_id):
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node["props"]
        for value in node.values():
            found = _find(value, component_id)
            if found is not None:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _find(value, component_id)
            if found is not None:
                return found
    return None


def wait_sample_ready(app_url: str) -> dict:
    """Wait until the server's page layout carries the drawn sample; return it."""
    deadline = time.monotonic() + pages.TIMEOUT
    while True:
        with urllib.request.urlopen(app_url + "/_dash-layout", timeout=30) as answer:
            layout = json.loads(answer.read())
        first = _find(layout, FIRST_SCREEN)
        if first and first.get("data"):
            return layout
        assert time.monotonic() < deadline, "the server never prepared the sample"
        time.sleep(1)


def held_views(driver) -> list[int] | None:
    """Return the k the page holds panels for (None before the views came)."""
    return driver.execute_script(_STORE_JS, K_VIEWS)


def test_the_first_screen_shows_the_sample_without_a_click(browser, app_url):
    layout = wait_sample_ready(app_url)
    grid = _find(layout, ids.VALUE_STYLE_GRID)["figure"]
    assert grid["data"][0]["type"] == "heatmap"  # drawn in the layout itself
    browser.get("about:blank")
    browser.get_log("browser")  # entries of pages before this test's
    pages.set_viewport(browser, 1366, 900)
    browser.get(app_url + "/")
    pages.wait(browser, pages.panels_ready, message="no panels without a click")
    tiers = list(dict.fromkeys(tier for tier, _ in pages.grid_counts(browser)))
    assert len(tiers) == pages.k_value(browser) == 3
    assert len(pages.persona_cards(browser)) == 3
    pages.wait_panels(browser)
    checks.assert_panels_agree(browser, 3)
    # the what-if inputs hold the medians, but nothing was typed: no star
    for field in (ids.WHATIF_RECENCY, ids.WHATIF_FREQUENCY, ids.WHATIF_MONETARY):
        value = browser.find_element(By.ID, field).get_attribute("value")
        assert float(value) > 0, (field, value)
    assert browser.execute_script(_STAR_JS) is False
    checks.assert_console_clean(browser)


def test_a_k_change_is_drawn_in_the_browser_and_keeps_the_zoom(
    browser, app_url, screenshots
):
    wait_sample_ready(app_url)
    browser.get("about:blank")
    pages.set_viewport(browser, 1366, 900)
    browser.get(app_url + "/")
    pages.wait_panels(browser)
    pages.wait(browser, held_views, message="the page never got every k's panels")
    assert sorted(held_views(browser)) == list(range(2, 11))
    total = checks.assert_panels_agree(browser, 3)
    at_three = pages.grid_counts(browser)
    # the user zooms the scatter (what the modebar's zoom does)
    browser.execute_script(
        "Plotly.relayout(document.querySelector('#customer-scatter .js-plotly-plot'),"
        " {'xaxis.range': [0.1, 1.2], 'yaxis.range': [2.2, 3.8]})"
    )
    zoomed = browser.execute_script(_SCATTER_VIEW_JS)
    browser.execute_script(_RECORD_JS)

    pages.set_k(browser, 4)
    pages.wait(
        browser,
        lambda d: len({t for t, _ in pages.grid_counts(d)}) == 4,
        message="the grid never showed 4 tiers",
    )
    pages.wait_panels(browser)
    assert checks.assert_panels_agree(browser, 4) == total
    at_four = pages.grid_counts(browser)
    assert sum(at_four.values()) == sum(at_three.values()) == total
    assert set(at_four) != set(at_three)  # other tiers
    after = browser.execute_script(_SCATTER_VIEW_JS)
    assert after == zoomed  # same uirevision: plotly kept the user's zoom
    sent = browser.execute_script("return window.__outputs;")
    assert not [o for o in sent if any(p in o for p in PANEL_OUTPUTS)], sent
    checks.shot(browser, screenshots, "k_views_k4_zoom_kept")

    browser.execute_script(_RECORD_JS)
    pages.press_on_k(browser, Keys.END)
    pages.wait(
        browser,
        lambda d: len({t for t, _ in pages.grid_counts(d)}) == 10,
        message="the grid never showed 10 tiers",
    )
    pages.wait_panels(browser)
    assert checks.assert_panels_agree(browser, 10) == total
    assert browser.execute_script(_SCATTER_VIEW_JS) == zoomed
    sent = browser.execute_script("return window.__outputs;")
    assert not [o for o in sent if any(p in o for p in PANEL_OUTPUTS)], sent
    assert "Chosen k = 10" in pages.text_of(browser, ids.K_RULE)
    checks.assert_console_clean(browser)


_TABLE_TIERS_JS = """
const api = window.dash_ag_grid.getApi('selected-grid');
const counts = {};
api.forEachNode(node => {
  const tier = api.getCellValue({rowNode: node, colKey: 'tier'});
  counts[tier] = (counts[tier] || 0) + 1;
});
return counts;
"""


_HAS_OVER_TIME_JS = """
const api = window.dash_ag_grid.getApi('selected-grid');
const first = api.getDisplayedRowAtIndex(0);
return Boolean(first && first.data && first.data.tier_before !== undefined);
"""


def table_tiers(driver) -> dict[str, int]:
    """Return how many rows of the selected-customers table show each tier."""
    return driver.execute_script(_TABLE_TIERS_JS)


def grid_tiers(driver) -> dict[str, int]:
    """Return the value x style grid's customers per tier (its rows' sums)."""
    totals: dict[str, int] = {}
    for (tier, _style), z in pages.grid_counts(driver).items():
        totals[tier] = totals.get(tier, 0) + int(z or 0)
    return totals


def test_a_k_change_shows_the_tables_new_tiers_without_sending_its_rows(
    browser, app_url
):
    wait_sample_ready(app_url)
    browser.get("about:blank")
    pages.set_viewport(browser, 1366, 900)
    browser.get(app_url + "/")
    pages.wait_panels(browser)
    pages.wait(browser, held_views, message="the page never got every k's panels")
    pages.wait(browser, lambda d: sum(table_tiers(d).values()) == 398)
    assert table_tiers(browser) == grid_tiers(browser)  # k = 3, the server's rows
    # rows that carry the over-time job's columns (it may have answered by
    # now) depend on k: the browser asks the server for them again
    over_time_before = browser.execute_script(_HAS_OVER_TIME_JS)
    browser.execute_script(_RECORD_JS)

    pages.set_k(browser, 5)
    pages.wait(
        browser,
        lambda d: len(table_tiers(d)) == 5 and table_tiers(d) == grid_tiers(d),
        message="the table never showed the 5 tiers of the grid",
    )
    pages.wait_panels(browser)
    assert sum(table_tiers(browser).values()) == 398
    sent = browser.execute_script("return window.__outputs;")
    # the table's rows are not sent again (unless they carry over-time
    # columns), and nothing redraws the scatter from the server
    # rows made once the over-time job has answered (before the k change or
    # during this test) carry its "tier before", which depends on k too:
    # those, and only those, the server sends again
    over_time = browser.execute_script(_HAS_OVER_TIME_JS)
    table_sent = [o for o in sent if "selected-grid.rowData" in o]
    expected = 1 if over_time_before or over_time else 0
    assert len(table_sent) == expected, (over_time_before, over_time, sent)
    assert not [o for o in sent if "customer-scatter" in o], sent
    checks.assert_console_clean(browser)


def test_a_what_if_after_a_k_change_keeps_the_new_k_on_the_scatter(browser, app_url):
    # the browser draws a k change on plotly itself and gives the graph's
    # figure the same traces: a patch sent later (the what-if star) must
    # start from the new k's scatter, not from the one before it
    wait_sample_ready(app_url)
    browser.get("about:blank")
    pages.set_viewport(browser, 1366, 900)
    browser.get(app_url + "/")
    pages.wait_panels(browser)
    pages.wait(browser, held_views, message="the page never got every k's panels")
    browser.execute_script(_RECORD_JS)
    pages.set_k(browser, 5)
    pages.wait(
        browser,
        lambda d: len({t for t, _ in pages.grid_counts(d)}) == 5,
        message="the grid never showed 5 tiers",
    )
    pages.wait_panels(browser)
    total = checks.assert_panels_agree(browser, 5)
    sent = browser.execute_script("return window.__outputs;")
    assert not [o for o in sent if any(p in o for p in PANEL_OUTPUTS)], sent
    assert browser.execute_script(_STAR_JS) is False

    field = browser.find_element(By.ID, ids.WHATIF_MONETARY)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("2500")
    field.send_keys(Keys.TAB)
    pages.wait(
        browser,
        lambda d: d.execute_script(_STAR_JS),
        message="the what-if star never showed",
    )
    pages.wait_panels(browser)
    assert checks.assert_panels_agree(browser, 5) == total
    assert pages.drawn(browser, ids.CUSTOMER_SCATTER)
    checks.assert_console_clean(browser)
