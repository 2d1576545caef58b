"""The customers table, the keyboard, the currency and axe-core, in a real browser.

Flows on the built-in sample: a grid cell click fills the table with its
customers ("25 of N customers shown") and a click on a heading sorts them; Tab
reaches a persona card and Enter chooses it (outlined, the others dimmed); the
currency setting changes every amount; axe-core (the copy bundled by the PyPI
package ``axe-core-python``) finds no serious or critical violation on the page,
and none at all of the structure rules (heading order, one main landmark,
content inside landmarks).
Screenshots go to ``tests/screenshots/``.
"""

from __future__ import annotations

import itertools
import json
import re
from importlib import resources

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from app import ids
from app.components.controls import CURRENCY_CHOICE
from app.components.selected import SELECTED_COUNT, SELECTED_GRID
from tests.browser import pages
from tests.browser.checks import assert_console_clean, card_sizes, shot

pytestmark = pytest.mark.browser

_HEADER_JS = """
return Array.from(document.querySelectorAll(
    '#' + arguments[0] + ' .ag-header-row-column .ag-header-cell'))
  .find(h => h.innerText.trim() === arguments[1]);
"""


_SHOWN_JS = """
// the text as drawn: each amount with the symbol CSS puts before it
const root = document.getElementById(arguments[0]);
const copy = root.cloneNode(true);
const drawn = Array.from(root.querySelectorAll('.money'));
Array.from(copy.querySelectorAll('.money')).forEach((el, i) => {
  const symbol = getComputedStyle(drawn[i], '::before').content;
  const text = symbol === 'none' || symbol === 'normal' ? '' : JSON.parse(symbol);
  el.textContent = text + el.textContent;
});
return copy.textContent;
"""


def _shown(driver, element_id: str) -> str:
    """Return an element's text as drawn, amounts with their currency symbol."""
    return driver.execute_script(_SHOWN_JS, element_id)


def _column(driver, heading: str) -> list[str]:
    header = pages.table_header(driver)
    return [row[header.index(heading)] for row in pages.table_rows(driver)]


def _number(text: str) -> float:
    return float(re.sub(r"[^\d.\-]", "", text))


def _scroll_to(driver, element_id: str) -> None:
    driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({block: 'start'});",
        element_id,
    )


def test_grid_cell_fills_the_table_and_a_heading_sorts_it(page, screenshots):
    pages.wait_panels(page)
    grid = pages.grid_counts(page)
    # the largest cell: more customers than one page of the table
    (tier, style), n = max(grid.items(), key=lambda item: item[1])
    n = int(n)
    assert n > 25
    pages.pointer_click(
        page, pages.graph_position(page, ids.VALUE_STYLE_GRID, style, tier)
    )
    pages.wait_text(page, ids.SELECTION_SUMMARY, f"grid cell {tier} · {style}")
    pages.wait_text(page, SELECTED_COUNT, f"^25 of {n:,} customers shown$")
    pages.wait_idle(page)
    rows = pages.table_rows(page)
    assert len(rows) == 25
    assert set(_column(page, "Value tier")) == {tier}
    assert set(_column(page, "Purchase style")) == {style}
    spent = [_number(v) for v in _column(page, "Total spent")]
    assert spent == sorted(spent, reverse=True)  # highest spend first
    # every selected customer is in the table: the last page holds the rest
    page.execute_script(
        "dash_ag_grid.getApi(arguments[0]).paginationGoToLastPage();", SELECTED_GRID
    )
    last = n - 25 * ((n - 1) // 25)
    pages.wait_text(page, SELECTED_COUNT, f"^{last} of {n:,} customers shown")
    page.execute_script(
        "dash_ag_grid.getApi(arguments[0]).paginationGoToFirstPage();", SELECTED_GRID
    )
    pages.wait_text(page, SELECTED_COUNT, f"^25 of {n:,} customers shown$")
    # a click on "Orders" sorts by orders, ascending; a second click descending
    heading = page.execute_script(_HEADER_JS, ids.SELECTION_TABLE, "Orders")
    heading.find_element(By.CSS_SELECTOR, ".ag-header-cell-label").click()
    pages.wait(
        page,
        lambda d: (o := [_number(v) for v in _column(d, "Orders")]) == sorted(o),
        message="the table never sorted by orders (ascending)",
    )
    heading = page.execute_script(_HEADER_JS, ids.SELECTION_TABLE, "Orders")
    heading.find_element(By.CSS_SELECTOR, ".ag-header-cell-label").click()
    pages.wait(
        page,
        lambda d: (
            (o := [_number(v) for v in _column(d, "Orders")]) == sorted(o, reverse=True)
        ),
        message="the table never sorted by orders (descending)",
    )
    assert heading.get_attribute("aria-sort") == "descending"
    _scroll_to(page, ids.SELECTION_SUMMARY)
    shot(page, screenshots, "table_grid_cell_sorted_by_orders")
    assert_console_clean(page)


def test_tab_reaches_a_persona_card_and_enter_chooses_it(page, screenshots):
    pages.wait_panels(page)
    _, total = pages.summary_counts(page)
    # start from the control just before the cards' panel, as a keyboard user
    # would after reading the page; then Tab until a card has the focus
    page.find_element(By.TAG_NAME, "body").click()
    focused = None
    for _ in range(300):
        page.switch_to.active_element.send_keys(Keys.TAB)
        focused = page.switch_to.active_element
        if "persona-card" in (focused.get_attribute("class") or ""):
            break
    else:
        pytest.fail("Tab never reached a persona card")
    assert focused.get_attribute("role") == "button"
    assert focused.get_attribute("aria-pressed") == "false"
    label = focused.get_attribute("aria-label")
    assert re.match(r"\w+ value tier, [\d,]+ customers?: select", label), label
    size = card_sizes([focused.text])[0]
    focused.send_keys(Keys.ENTER)
    pages.wait_text(page, ids.SELECTION_SUMMARY, r"value tier \(persona card\)")
    pages.wait_idle(page)
    card = page.find_element(By.CSS_SELECTOR, f"#{ids.PERSONA_CARDS} .selected")
    assert card.get_attribute("aria-pressed") == "true"
    assert pages.summary_counts(page) == (size, total)
    outline = page.execute_script(
        "const s = getComputedStyle(arguments[0].querySelector('.card'));"
        "return [s.outlineStyle, parseFloat(s.outlineWidth)];",
        card,
    )
    assert outline[0] == "solid" and outline[1] >= 2, outline
    others = page.find_elements(By.CSS_SELECTOR, f"#{ids.PERSONA_CARDS} .persona-card")
    dimmed = [c for c in others if "dimmed" in c.get_attribute("class")]
    assert len(dimmed) == len(others) - 1
    _scroll_to(page, ids.PERSONA_CARDS)
    page.execute_script("window.scrollBy(0, -60);")
    shot(page, screenshots, "persona_card_chosen_by_keyboard")
    assert_console_clean(page)


def test_currency_setting_changes_every_amount(page, screenshots):
    pages.wait_panels(page)
    pages.wait(page, lambda d: pages.table_rows(d), message="the table stayed empty")
    # the sample is UCI Online Retail: sterling, so "As in the file" is £
    before = _shown(page, ids.SELECTION_SUMMARY)
    assert re.search(r"revenue £[\d,]+", before), before
    assert _column(page, "Total spent")[0].startswith("£")
    Select(page.find_element(By.ID, CURRENCY_CHOICE)).select_by_value("$")
    pages.wait(
        page,
        lambda d: _column(d, "Total spent")[0].startswith("$"),
        message="the table's amounts never changed to $",
    )
    after = _shown(page, ids.SELECTION_SUMMARY)
    assert re.search(r"revenue \$[\d,]+", after), after
    assert "£" not in after
    cards = _shown(page, ids.PERSONA_CARDS)
    assert "$" in cards and "£" not in cards
    Select(page.find_element(By.ID, CURRENCY_CHOICE)).select_by_value("none")
    pages.wait(
        page,
        lambda d: _column(d, "Total spent")[0][0].isdigit(),
        message="the table's amounts kept a symbol",
    )
    assert not re.search(r"[£$€]", _shown(page, ids.SELECTION_SUMMARY))
    Select(page.find_element(By.ID, CURRENCY_CHOICE)).select_by_value("file")
    pages.wait(page, lambda d: _column(d, "Total spent")[0].startswith("£"))
    assert_console_clean(page)


def _axe(driver) -> list[dict]:
    script = resources.files("axe_core_python").joinpath("axe.min.js").read_text()
    driver.execute_script(script)
    driver.set_script_timeout(120)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations)).catch(e => done([{id: 'axe-error',"
        " impact: 'critical', help: String(e), nodes: []}]));"
    )


#: Rules whose moderate findings the page once had and must not have again:
#: headings one level at a time, one <main>, all content in a landmark.
STRUCTURE_RULES = ("heading-order", "landmark-one-main", "region")


def _found(violations, impacts, rules=None) -> list[dict]:
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in violations
        if v["impact"] in impacts and (rules is None or v["id"] in rules)
    ]


def test_axe_finds_no_serious_violation_with_the_sample_loaded(page, screenshots):
    pages.wait_panels(page)
    pages.wait(page, lambda d: pages.table_rows(d), message="the table stayed empty")
    violations = _axe(page)
    serious = _found(violations, ("serious", "critical"))
    structure = _found(violations, ("moderate", "serious", "critical"), STRUCTURE_RULES)
    print("axe violations:", sorted((v["id"], v["impact"]) for v in violations))
    print("axe serious:", json.dumps(serious))
    assert serious == [], serious
    assert structure == [], structure
    # the page's outline: one h1, then panel titles (h2) and their parts (h3)
    levels = page.execute_script(
        "return Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6'))"
        ".map(h => Number(h.tagName[1]));"
    )
    assert levels[0] == 1 and levels.count(1) == 1, levels
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    assert len(page.find_elements(By.TAG_NAME, "main")) == 1
