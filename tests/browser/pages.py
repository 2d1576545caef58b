"""What a browser test reads from and does to the page (ids from DESIGN section 7).

Reading goes through the DOM and through the plotly graph divs' ``data`` (what
plotly has drawn), never through the app's Python code; doing goes through real
input (pointer and keyboard actions, a file path sent to the upload's
``input[type=file]``).
"""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

from selenium.common.exceptions import (
    JavascriptException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from app import ids

#: Seconds to wait for anything the user waits for (2 busy cores).
TIMEOUT = 90
#: Console entries that are the headless machine's, not the app's.
HARMLESS_CONSOLE = ("WebGL", "GPU stall", "GL Driver")

_GRAPH_JS = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
if (!gd || !gd._fullData) { return null; }
const plain = a => (a == null ? null : Array.from(a, v =>
    (v != null && typeof v === 'object' && v.length !== undefined)
        ? Array.from(v) : v));
return gd._fullData.map(t => ({
    type: t.type, name: t.name === undefined ? null : t.name,
    meta: t.meta === undefined ? null : t.meta,
    x: t.type === 'heatmap' ? plain(t.x) : null,
    y: t.type === 'heatmap' ? plain(t.y) : null,
    z: t.type === 'heatmap' ? plain(t.z) : null,
    text: t.type === 'heatmap' ? plain(t.text) : null,
    n: t.x == null ? 0 : Array.from(t.x).filter(v => v !== null).length,
    selectedpoints: t.selectedpoints == null ? null : Array.from(t.selectedpoints),
}));
"""

_IDLE_JS = """
if (!window.store) { return false; }
const state = Object.assign({}, window.store.getState().callbacks);
delete state.stored; delete state.completed;
return Object.values(state).every(list => !list || list.length === 0);
"""


def wait(driver, condition, timeout: float = TIMEOUT, message: str = ""):
    """Wait until ``condition(driver)`` is truthy (stale elements are retried)."""
    return WebDriverWait(
        driver,
        timeout,
        poll_frequency=0.25,
        ignored_exceptions=(StaleElementReferenceException, JavascriptException),
    ).until(condition, message)


def text_of(driver, element_id: str) -> str:
    """Return the visible text of an element (empty when absent)."""
    found = driver.find_elements(By.ID, element_id)
    return found[0].text if found else ""


def wait_text(driver, element_id: str, pattern: str, timeout: float = TIMEOUT) -> str:
    """Wait until the element's text matches the regex ``pattern``; return the text."""

    def matches(d):
        text = text_of(d, element_id)
        return text if re.search(pattern, text) else False

    return wait(
        driver,
        matches,
        timeout,
        f"#{element_id} never showed /{pattern}/; it shows: "
        f"{text_of(driver, element_id)[:500]!r}",
    )


def idle(driver) -> bool:
    """Return True when the Dash renderer has no callback pending."""
    return bool(driver.execute_script(_IDLE_JS))


def wait_idle(driver, timeout: float = TIMEOUT) -> None:
    """Wait until no callback is pending (twice, 0.3 s apart: chains settle)."""

    def settled(d):
        if not idle(d):
            return False
        time.sleep(0.3)
        return idle(d)

    wait(driver, settled, timeout, "callbacks still pending")


def graph(driver, element_id: str) -> list[dict] | None:
    """Return the traces plotly drew in a ``dcc.Graph`` (heatmaps in full)."""
    return driver.execute_script(_GRAPH_JS, element_id)


def heatmap(driver, element_id: str) -> dict | None:
    """Return the first heatmap trace of a graph, or None while it has none."""
    traces = graph(driver, element_id) or []
    maps = [t for t in traces if t["type"] == "heatmap"]
    return maps[0] if maps else None


def grid_counts(driver) -> dict[tuple[str, str], float]:
    """Return the grid as {(tier, style): z}: the whole, not the selection."""
    grid = heatmap(driver, ids.VALUE_STYLE_GRID)
    return {
        (tier, style): grid["z"][i][j]
        for i, tier in enumerate(grid["y"])
        for j, style in enumerate(grid["x"])
    }


def grid_selected(driver) -> dict[tuple[str, str], int]:
    """Return the "selected: n" figure of each grid cell (empty when none shown)."""
    grid = heatmap(driver, ids.VALUE_STYLE_GRID)
    found = {}
    for i, tier in enumerate(grid["y"]):
        for j, style in enumerate(grid["x"]):
            match = re.search(r"selected: ([\d,]+)", grid["text"][i][j])
            if match:
                found[(tier, style)] = int(match.group(1).replace(",", ""))
    return found


def scatter_points(driver) -> list[dict]:
    """Return the scatter's per-tier × style traces (legend-only traces dropped)."""
    return [
        t
        for t in graph(driver, ids.CUSTOMER_SCATTER) or []
        if t["type"] == "scattergl" and t["meta"]
    ]


def persona_cards(driver) -> list[str]:
    """Return the text of each persona card, in page order."""
    return [
        card.text
        for card in driver.find_elements(
            By.CSS_SELECTOR, f"#{ids.PERSONA_CARDS} .persona-card"
        )
    ]


def summary_counts(driver) -> tuple[int, int]:
    """Return (selected, total) customers from ``selection-summary``."""
    text = text_of(driver, ids.SELECTION_SUMMARY)
    match = re.search(r"([\d,]+) of ([\d,]+) customers", text)
    assert match, f"selection summary reads {text!r}"
    return tuple(int(g.replace(",", "")) for g in match.groups())


_TABLE_JS = """
const root = document.getElementById(arguments[0]);
if (!root) { return null; }
const byIndex = (a, b, attr) =>
    Number(a.getAttribute(attr)) - Number(b.getAttribute(attr));
const header = Array.from(root.querySelectorAll(
    '.ag-header-row-column .ag-header-cell')).sort(
    (a, b) => byIndex(a, b, 'aria-colindex'));
const rows = Array.from(root.querySelectorAll(
    '.ag-center-cols-container .ag-row')).sort(
    (a, b) => byIndex(a, b, 'row-index'));
return {
    header: header.map(h => h.innerText.trim()),
    rows: rows.map(r => Array.from(r.querySelectorAll('.ag-cell')).sort(
        (a, b) => byIndex(a, b, 'aria-colindex')).map(c => c.innerText.trim())),
};
"""


def _table(driver) -> dict:
    return driver.execute_script(_TABLE_JS, ids.SELECTION_TABLE) or {
        "header": [],
        "rows": [],
    }


def table_rows(driver) -> list[list[str]]:
    """Return the cells of the selected-customers table's page, row by row."""
    return _table(driver)["rows"]


def table_header(driver) -> list[str]:
    """Return the column headings of the selected-customers table."""
    return _table(driver)["header"]


def panels_ready(driver) -> bool:
    """Return True when grid, scatter, heatmap, cards and summary all show data."""
    try:
        return bool(
            heatmap(driver, ids.VALUE_STYLE_GRID)
            and scatter_points(driver)
            and heatmap(driver, ids.FEATURE_HEATMAP)
            and persona_cards(driver)
            and re.search(
                r"of [\d,]+ customers", text_of(driver, ids.SELECTION_SUMMARY)
            )
        )
    except (StaleElementReferenceException, JavascriptException):
        return False


_DRAWN_JS = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
if (!gd || !gd._fullLayout || gd.classList.contains('dash-graph--pending')) {
  return false;
}
const find = node => {
  if (!node || typeof node !== 'object') { return null; }
  if (node.props && node.props.id === arguments[0]) { return node; }
  for (const child of Object.values(node.props || node)) {
    const found = find(child);
    if (found) { return found; }
  }
  return null;
};
const held = (find(window.store.getState().layout).props.figure || {}).layout || {};
return held.selectionrevision === gd.layout.selectionrevision;
"""


def drawn(driver, element_id: str) -> bool:
    """Return True when plotly has drawn the figure Dash last set on a graph.

    Compares the ``selectionrevision`` of the figure the renderer holds with
    the one plotly drew (the scatter gets a new one on every re-render), and
    that no draw is under way. A box drawn before a pending re-render lands
    would be dropped by it.
    """
    return bool(driver.execute_script(_DRAWN_JS, element_id))


def wait_panels(driver, timeout: float = TIMEOUT) -> None:
    """Wait until the panels show data, nothing is pending and the scatter is drawn.

    A box drawn next then stays: no re-render of the scatter is on its way.
    """
    wait(driver, panels_ready, timeout, "the panels never all showed data")
    wait_idle(driver, timeout)
    wait(
        driver,
        lambda d: drawn(d, ids.CUSTOMER_SCATTER),
        timeout,
        "the scatter never drew the last figure sent",
    )


def upload(driver, path: Path) -> None:
    """Choose ``path`` in the upload's file input (as the file dialog would)."""
    field = driver.find_element(By.CSS_SELECTOR, f"#{ids.UPLOAD} input[type=file]")
    field.send_keys(str(path))


def controls_enabled(driver) -> bool:
    """Return True when upload, sample button and k slider accept input."""
    box = driver.find_element(By.CSS_SELECTOR, f"#{ids.UPLOAD} .upload-box")
    sample = driver.find_element(By.ID, ids.SAMPLE_BUTTON)
    thumb = driver.find_element(By.CSS_SELECTOR, f"#{ids.K_SLIDER} [role=slider]")
    return (
        box.get_attribute("aria-disabled") != "true"
        and sample.is_enabled()
        and thumb.get_attribute("aria-disabled") != "true"
        and not thumb.get_attribute("data-disabled")
    )


def k_value(driver) -> int:
    """Return the k the slider shows."""
    thumb = driver.find_element(By.CSS_SELECTOR, f"#{ids.K_SLIDER} [role=slider]")
    return int(thumb.get_attribute("aria-valuenow"))


def set_k(driver, k: int) -> None:
    """Move the k slider to ``k`` with the keyboard (arrow keys on its handle)."""
    thumb = driver.find_element(By.CSS_SELECTOR, f"#{ids.K_SLIDER} [role=slider]")
    steps = k - k_value(driver)
    key = Keys.ARROW_RIGHT if steps > 0 else Keys.ARROW_LEFT
    ActionChains(driver).send_keys_to_element(thumb, *[key] * abs(steps)).perform()


def press_on_k(driver, key: str) -> None:
    """Press one key (e.g. ``Keys.END``) on the k slider's handle."""
    thumb = driver.find_element(By.CSS_SELECTOR, f"#{ids.K_SLIDER} [role=slider]")
    ActionChains(driver).send_keys_to_element(thumb, key).perform()


def set_viewport(driver, width: int, height: int) -> None:
    """Resize the window so that the page's viewport is ``width`` x ``height``."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def full_page_screenshot(driver, path: Path) -> None:
    """Save the whole page (not only the viewport) as a PNG."""
    size = driver.execute_script(
        "return [document.documentElement.scrollWidth,"
        " document.documentElement.scrollHeight]"
    )
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def severe_console(driver) -> list[dict]:
    """Return the console's SEVERE entries since the last call (headless noise out)."""
    return [
        entry
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE"
        and not any(h in entry["message"] for h in HARMLESS_CONSOLE)
    ]


_CELL_JS = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
const box = gd.querySelector('.main-svg').getBoundingClientRect();
return [box.left + xa._offset + xa.l2p(xa.d2l(arguments[1])),
        box.top + ya._offset + ya.l2p(ya.d2l(arguments[2]))];
"""


def graph_position(driver, element_id: str, x, y) -> tuple[float, float]:
    """Return the viewport position (CSS px) of data point (x, y) in a graph."""
    return tuple(driver.execute_script(_CELL_JS, element_id, x, y))


def pointer_click(driver, position: tuple[float, float]) -> None:
    """Move the mouse to a viewport position, let plotly see the hover, click."""
    x, y = (round(v) for v in position)
    actions = ActionChains(driver, duration=50)
    actions.w3c_actions.pointer_action.move_to_location(x - 3, y - 3)
    actions.w3c_actions.pointer_action.move_to_location(x, y)
    actions.w3c_actions.pointer_action.pause(0.3)
    actions.w3c_actions.pointer_action.click()
    actions.perform()


def pointer_drag(
    driver, start: tuple[float, float], end: tuple[float, float], steps: int = 8
) -> None:
    """Press at ``start``, move to ``end`` in steps, release (a box selection)."""
    (x0, y0), (x1, y1) = start, end
    actions = ActionChains(driver, duration=30)
    pointer = actions.w3c_actions.pointer_action
    pointer.move_to_location(round(x0), round(y0))
    pointer.pointer_down()
    for i in range(1, steps + 1):
        pointer.move_to_location(
            round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps)
        )
    pointer.pause(0.2)
    pointer.pointer_up()
    actions.perform()


_GRAPH_BOXES_JS = """
return arguments[0].map(id => {
  const graph = document.getElementById(id);
  const card = graph.closest('.card');
  const g = graph.getBoundingClientRect(), c = card.getBoundingClientRect();
  return {id: id, height: g.height, inline: graph.style.height,
          inside: g.top >= c.top - 1 && g.bottom <= c.bottom + 1};
});
"""
GRAPHS = (
    ids.VALUE_STYLE_GRID,
    ids.CUSTOMER_SCATTER,
    ids.FEATURE_HEATMAP,
    ids.K_DIAGNOSTICS,
)


def graph_boxes(driver) -> list[dict]:
    """Return each graph's height (px), inline CSS height, and if it fits its card."""
    return driver.execute_script(_GRAPH_BOXES_JS, list(GRAPHS))
