"""The value × style grid's chosen cell and its cells for the keyboard, in a browser.

Flows on the built-in sample: a click on a grid cell outlines that cell (two
rectangles drawn by plotly around it: ink under vermillion), a click on
another moves the outline, a persona card or a k change removes it; Tab
reaches a button per grid cell, laid over its cell, named "Top tier,
Regular: 120 customers", with a visible focus ring; Enter or Space selects
the cell as a click does (same summary, same outline) and marks the button
``aria-pressed``. Screenshots go to ``tests/screenshots/``.
"""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from app import ids
from app.components.grid_cells import GRID_CELLS
from tests.browser import pages
from tests.browser.checks import assert_console_clean, shot

pytestmark = pytest.mark.browser

#: The outline's colours, as app/figures/grid.py names them (ink, vermillion).
OUTLINE = ["#1d2733", "#D55E00"]

_OUTLINE_JS = """
// the rectangles plotly drew over the grid, in category positions
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
if (!gd || !gd._fullLayout) { return null; }
const drawn = gd.querySelectorAll('.shapelayer path').length;
return {
  drawn: drawn,
  shapes: (gd._fullLayout.shapes || []).map(s => ({
    x: (s.x0 + s.x1) / 2, y: (s.y0 + s.y1) / 2, width: s.x1 - s.x0,
    colour: s.line.color, line: s.line.width})),
  x: Array.from(gd._fullData[0].x), y: Array.from(gd._fullData[0].y),
};
"""

_BUTTON_BOX_JS = """
const r = arguments[0].getBoundingClientRect();
return [r.left + r.width / 2, r.top + r.height / 2, r.width, r.height];
"""

_FOCUS_RING_JS = """
const s = getComputedStyle(arguments[0]);
return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor,
        document.activeElement === arguments[0]];
"""

LABEL = re.compile(
    r"^(\w+) tier, (Regular|Bulk|Anomaly): ([\d,]+) customers?(, [\d,]+ selected)?$"
)


def outlined(driver) -> tuple[str, str] | None:
    """Return the (tier, style) cell the grid outlines, None without an outline."""
    found = driver.execute_script(_OUTLINE_JS, ids.VALUE_STYLE_GRID)
    if not found or not found["shapes"]:
        return None
    assert [s["colour"] for s in found["shapes"]] == OUTLINE, found
    assert found["drawn"] == 2, found
    centres = {(s["x"], s["y"]) for s in found["shapes"]}
    assert len(centres) == 1, found
    (x, y), width = centres.pop(), found["shapes"][0]["width"]
    assert width == 1, found  # one cell wide
    return found["y"][round(y)], found["x"][round(x)]


def wait_outlined(driver, cell) -> None:
    pages.wait(
        driver,
        lambda d: outlined(d) == cell,
        message=f"the grid never outlined {cell}; it outlines {outlined(driver)}",
    )


def cell_buttons(driver):
    return driver.find_elements(By.CSS_SELECTOR, f"#{GRID_CELLS} button.grid-cell")


def button_counts(driver) -> dict[tuple[str, str], int]:
    """Return {(tier, style): customers} as the cell buttons name them."""
    found = {}
    for button in cell_buttons(driver):
        match = LABEL.match(button.get_attribute("textContent"))
        assert match, button.get_attribute("textContent")
        found[match.group(1, 2)] = int(match.group(3).replace(",", ""))
    return found


def click_cell(driver, tier: str, style: str) -> None:
    show_grid(driver)
    pages.pointer_click(
        driver, pages.graph_position(driver, ids.VALUE_STYLE_GRID, style, tier)
    )


def show_grid(driver) -> None:
    driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({block: 'center'});",
        ids.VALUE_STYLE_GRID,
    )


def two_cells(driver) -> list[tuple[str, str]]:
    """The two largest cells of the grid (both with customers)."""
    grid = pages.grid_counts(driver)
    return [cell for cell, _ in sorted(grid.items(), key=lambda kv: -kv[1])[:2]]


def test_a_clicked_cell_is_outlined_until_the_selection_goes(page, screenshots):
    pages.wait_panels(page)
    assert outlined(page) is None
    first, second = two_cells(page)
    click_cell(page, *first)
    pages.wait_text(page, ids.SELECTION_SUMMARY, f"grid cell {first[0]} · {first[1]}")
    wait_outlined(page, first)
    pages.wait_idle(page)
    wait_outlined(page, first)  # the server's grid (selected counts) keeps it
    show_grid(page)
    shot(page, screenshots, "grid_cell_outlined")
    # another cell: the outline moves
    click_cell(page, *second)
    pages.wait_text(page, ids.SELECTION_SUMMARY, f"grid cell {second[0]} · {second[1]}")
    wait_outlined(page, second)
    # a persona card's selection: no cell outlined
    page.find_element(By.CSS_SELECTOR, f"#{ids.PERSONA_CARDS} .persona-card").click()
    pages.wait_text(page, ids.SELECTION_SUMMARY, r"value tier \(persona card\)")
    wait_outlined(page, None)
    pages.wait_idle(page)
    assert outlined(page) is None
    # a cell again, then clear: gone
    click_cell(page, *first)
    wait_outlined(page, first)
    pages.wait_idle(page)
    page.find_element(By.ID, ids.CLEAR_SELECTION).click()
    wait_outlined(page, None)
    pages.wait_idle(page)
    assert outlined(page) is None
    # a cell again, then a k change (which clears the selection): gone, and
    # the new k's grid has no outline of the old k's cell
    click_cell(page, *first)
    wait_outlined(page, first)
    pages.wait_idle(page)
    k = pages.k_value(page)
    pages.set_k(page, k + 1)
    pages.wait(
        page, lambda d: len(pages.heatmap(d, ids.VALUE_STYLE_GRID)["y"]) == k + 1
    )
    wait_outlined(page, None)
    pages.wait_idle(page)
    assert outlined(page) is None
    assert "grid cell" not in pages.text_of(page, ids.SELECTION_SUMMARY)
    # the cells' buttons follow the new k's grid (drawn in the browser)
    grid = pages.grid_counts(page)
    pages.wait(
        page,
        lambda d: button_counts(d) == grid,
        message=f"the cell buttons {button_counts(page)} are not the grid {grid}",
    )
    assert_console_clean(page)


def _tab_to_a_cell(driver):
    # from the page's start, as a keyboard user: Tab until a cell has the focus
    driver.find_element(By.CSS_SELECTOR, "h1.app-title").click()
    for _ in range(300):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        focused = driver.switch_to.active_element
        if "grid-cell" in (focused.get_attribute("class") or "").split():
            return focused
    pytest.fail("Tab never reached a grid cell")


def test_tab_reaches_each_grid_cell_and_enter_or_space_selects_it(page, screenshots):
    pages.wait_panels(page)
    grid = pages.grid_counts(page)
    buttons = cell_buttons(page)
    assert len(buttons) == len(grid)
    # every cell's button, named by its tier, style and customers
    names = {}
    for button in buttons:
        match = LABEL.match(button.get_attribute("textContent"))
        assert match, button.get_attribute("textContent")
        tier, style, n = match.group(1), match.group(2), match.group(3)
        names[(tier, style)] = button
        assert int(n.replace(",", "")) == grid[(tier, style)]
        assert button.get_attribute("aria-pressed") == "false"
    assert set(names) == set(grid)
    # Tab: the first button is the top tier's first style (reading order)
    focused = _tab_to_a_cell(page)
    top = pages.heatmap(page, ids.VALUE_STYLE_GRID)["y"][-1]
    name = focused.get_attribute("textContent")
    assert LABEL.match(name), (name, focused.get_attribute("outerHTML"))
    tier, style = LABEL.match(name).group(1, 2)
    assert (tier, style) == (top, "Regular")
    # the focused button lies on its cell and shows a ring
    x, y, width, height = page.execute_script(_BUTTON_BOX_JS, focused)
    cx, cy = pages.graph_position(page, ids.VALUE_STYLE_GRID, style, tier)
    assert abs(x - cx) < 3 and abs(y - cy) < 3, (x, y, cx, cy)
    assert width > 20 and height > 10
    ring = page.execute_script(_FOCUS_RING_JS, focused)
    assert ring[0] == "dashed" and ring[1] >= 2 and ring[3], ring
    show_grid(page)
    shot(page, screenshots, "grid_cell_keyboard_focus")
    # Enter selects it, as a click does
    focused.send_keys(Keys.ENTER)
    pages.wait_text(page, ids.SELECTION_SUMMARY, f"grid cell {tier} · {style}")
    wait_outlined(page, (tier, style))
    pages.wait_idle(page)
    selected, _ = pages.summary_counts(page)
    assert selected == grid[(tier, style)]
    # the pressed button kept the focus, and its name now counts the selection
    assert page.switch_to.active_element == focused
    assert focused.get_attribute("textContent").endswith(f", {selected:,} selected")
    pressed = page.find_elements(
        By.CSS_SELECTOR, f"#{GRID_CELLS} button[aria-pressed=true]"
    )
    assert [
        LABEL.match(b.get_attribute("textContent")).group(1, 2) for b in pressed
    ] == [(tier, style)]
    # Tab on to the next cell, Space selects that one
    ActionChains(page).send_keys(Keys.TAB).perform()
    nxt = page.switch_to.active_element
    tier2, style2 = LABEL.match(nxt.get_attribute("textContent")).group(1, 2)
    assert (tier2, style2) != (tier, style)
    nxt.send_keys(Keys.SPACE)
    pages.wait_text(page, ids.SELECTION_SUMMARY, f"grid cell {tier2} · {style2}")
    wait_outlined(page, (tier2, style2))
    pages.wait_idle(page)
    assert pages.summary_counts(page)[0] == grid[(tier2, style2)]
    shot(page, screenshots, "grid_cell_chosen_by_keyboard")
    assert_console_clean(page)
