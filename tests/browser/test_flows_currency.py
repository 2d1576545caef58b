"""The Currency setting reaches the figures' words in a real browser.

The page opens on the built-in sample (prices in sterling: "As in the file"
gives £). Choosing "$" in the setting must change the scatter's spend axis and
the hovers plotly writes (read from the hover layer after ``Plotly.Fx.hover``,
i.e. plotly's own filling of ``%{layout.meta.currency}``), keep them at another
k drawn in the browser, and "None" must drop the symbol.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from app import ids
from app.components.controls import CURRENCY_CHOICE, CURRENCY_FROM_FILE, CURRENCY_NONE
from tests.browser import pages
from tests.browser.checks import assert_console_clean, shot

pytestmark = pytest.mark.browser

#: Hover the first point of the scatter's first point trace (data values, as
#: plotly's Fx.hover takes them), or the feature heatmap's "Total spent" cell
#: of the lowest tier; return what the hover layer says and the axis titles.
_HOVER_JS = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
Plotly.Fx.unhover(gd);
if (arguments[0] === 'customer-scatter') {
  const t = gd.data.find(t => t.meta && t.x && t.x.length);
  Plotly.Fx.hover(gd, {xval: t.x[0], yval: t.y[0]});
} else {
  Plotly.Fx.hover(gd, {xval: 2, yval: 0});
}
const text = Array.from(gd.querySelectorAll('.hoverlayer text'))
  .map(e => e.textContent).join(' | ');
Plotly.Fx.unhover(gd);
return {text: text, x: gd.layout.xaxis.title ? gd.layout.xaxis.title.text : null,
        y: gd.layout.yaxis.title ? gd.layout.yaxis.title.text : null};
"""


def hovered(driver, element_id: str) -> dict:
    return driver.execute_script(_HOVER_JS, element_id)


def choose(driver, value: str) -> None:
    Select(driver.find_element(By.ID, CURRENCY_CHOICE)).select_by_value(value)


@pytest.fixture
def currency_page(page):
    """The page; the setting (kept in localStorage) is put back to the file's."""
    yield page
    choose(page, CURRENCY_FROM_FILE)
    pages.wait_idle(page)


def test_currency_setting_changes_axis_titles_and_hovers(currency_page, screenshots):
    page = currency_page
    pages.wait_panels(page)
    pages.wait(
        page,
        lambda d: hovered(d, ids.CUSTOMER_SCATTER)["y"] == "Spend (£, log scale)",
        message="the sample's scatter never said £",
    )
    start = hovered(page, ids.CUSTOMER_SCATTER)
    assert start["x"] == "Orders (log scale)"
    assert "Total spent: £" in start["text"] and "Orders: " in start["text"]
    assert "monetary" not in start["text"] and "frequency" not in start["text"]
    assert "mean £" in hovered(page, ids.FEATURE_HEATMAP)["text"]

    choose(page, "$")
    pages.wait(
        page,
        lambda d: hovered(d, ids.CUSTOMER_SCATTER)["y"] == "Spend ($, log scale)",
        message="the scatter's spend axis never said $",
    )
    pages.wait_idle(page)
    assert "Total spent: $" in hovered(page, ids.CUSTOMER_SCATTER)["text"]
    assert "mean $" in hovered(page, ids.FEATURE_HEATMAP)["text"]
    shot(page, screenshots, "currency_dollar")

    # another k, drawn in the browser from the per-k views: still dollars
    k = pages.k_value(page)
    pages.set_k(page, k + 2 if k <= 6 else k - 2)
    pages.wait_idle(page)
    after_k = hovered(page, ids.CUSTOMER_SCATTER)
    assert after_k["y"] == "Spend ($, log scale)"
    assert "Total spent: $" in after_k["text"]
    assert "mean $" in hovered(page, ids.FEATURE_HEATMAP)["text"]

    choose(page, CURRENCY_NONE)
    pages.wait(
        page,
        lambda d: hovered(d, ids.CUSTOMER_SCATTER)["y"] == "Spend (log scale)",
        message="the scatter's spend axis kept a symbol",
    )
    pages.wait_idle(page)
    plain = hovered(page, ids.CUSTOMER_SCATTER)["text"]
    assert "Total spent: " in plain
    assert not any(symbol in plain for symbol in "£$€")
    assert_console_clean(page)
