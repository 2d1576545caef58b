"""A box drawn on the scatter while a what-if update is on its way stays drawn.

Real browser (headless Chromium, the app served by the Procfile's command, as in
``tests/browser``). The page holds back every callback answer that would set the
scatter's figure until the box is drawn, so the what-if update is in flight when
the user drags the box, whatever the machine's speed; then it lets them through.
The what-if star must appear and the box and its selection must survive.
Screenshots go to ``/tmp/shots/``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from app import ids
from tests.browser import pages
from tests.browser.checks import assert_console_clean
from tests.browser.conftest import (  # noqa: F401 (fixtures)
    app_url,
    browser,
    download_dir,
    page,
)

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
WHATIF_FREQUENCY = 12

#: Hold back the answers that set the scatter's figure until __release; record
#: what plotly selected and what the page sends as the scatter's selectedData.
_HOLD_JS = """
const gd = document.querySelector('#customer-scatter .js-plotly-plot');
window.__release = false;
window.__held = 0;
window.__selected = null;
window.__sent = [];
gd.on('plotly_selected', e => {
  if (window.__selected === null && e && e.points.length) {
    window.__selected = e.points.length;
  }
});
const send = window.fetch;
window.fetch = function (url, options) {
  let body = null;
  try { body = JSON.parse(options.body); } catch (err) { /* not a callback */ }
  if (body && (body.changedPropIds || []).includes('customer-scatter.selectedData')) {
    const input = body.inputs.find(i => i.id === 'customer-scatter');
    window.__sent.push(input && input.value ? input.value.points.length : null);
  }
  const answer = send.apply(this, arguments);
  const setsScatter = body && typeof body.output === 'string'
    && body.output.includes('customer-scatter.figure');
  if (!setsScatter || window.__release) { return answer; }
  window.__held += 1;
  return answer.then(response => new Promise(resolve => {
    const check = () => window.__release ? resolve(response) : setTimeout(check, 50);
    check();
  }));
};
"""

_STAR_JS = """
const gd = document.querySelector('#customer-scatter .js-plotly-plot');
const star = (gd._fullLayout.annotations || []).find(a => a.name === 'what-if');
return {
  star: star && star.visible ? [star.x, star.y] : null,
  boxes: (gd._fullLayout.selections || []).length,
};
"""


def scatter_state(driver) -> dict:
    """Return the visible star's (x, y) on the log axes (or None) and boxes drawn."""
    return driver.execute_script(_STAR_JS)


def test_box_survives_a_what_if_in_flight(page):  # noqa: F811 (the fixture)
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages.wait_panels(page)
    _, total = pages.summary_counts(page)
    # the medians fill the inputs: scored, but no star until the user types
    pages.wait_text(page, ids.WHATIF_RESULT, "change a value to place")
    assert scatter_state(page) == {"star": None, "boxes": 0}

    page.execute_script(_HOLD_JS)
    field = page.find_element(By.ID, ids.WHATIF_FREQUENCY)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(str(WHATIF_FREQUENCY), Keys.ENTER)
    pages.wait(
        page,
        lambda d: d.execute_script("return window.__held") >= 1,
        message="the what-if update never asked to set the scatter",
    )
    # the what-if answer is held back: now the box, over 1.5..6 orders and
    # 300..5,000 spent (log axes)
    start = pages.graph_position(page, ids.CUSTOMER_SCATTER, 1.5, 5000)
    end = pages.graph_position(page, ids.CUSTOMER_SCATTER, 6, 300)
    pages.pointer_drag(page, start, end)
    n = pages.wait(
        page,
        lambda d: d.execute_script("return window.__selected"),
        message="plotly never reported a box selection",
    )
    assert 0 < n < total
    pages.wait_text(
        page, ids.SELECTION_SUMMARY, f"{n:,} customers chosen on the scatter"
    )
    page.save_screenshot(str(SHOTS / "race_1_box_while_whatif_held.png"))

    page.execute_script("window.__release = true;")
    pages.wait(
        page,
        lambda d: scatter_state(d)["star"] is not None,
        message="the what-if star never appeared",
    )
    pages.wait_idle(page)
    page.save_screenshot(str(SHOTS / "race_2_after_whatif.png"))
    state = scatter_state(page)
    assert state["boxes"] == 1  # the box is still drawn
    assert math.isclose(state["star"][0], math.log10(WHATIF_FREQUENCY))
    # the page sent the box's n points, and never an empty selection after them
    sent = page.execute_script("return window.__sent")
    assert sent and all(count == n for count in sent), sent
    text = pages.wait_text(
        page, ids.SELECTION_SUMMARY, f"{n:,} customers chosen on the scatter"
    )
    assert pages.summary_counts(page) == (n, total), text
    assert re.search(
        r"the star on the scatter marks it", pages.text_of(page, ids.WHATIF_RESULT)
    )
    # the table of the selection shows each customer's status
    header = pages.table_header(page)
    rows = pages.table_rows(page)
    assert "Status" in header and len(rows) == min(n, 25)
    assert {r[header.index("Status")] for r in rows} <= {"Active", "Cooling", "Lapsed"}
    table = page.find_element(By.ID, ids.SELECTION_TABLE)
    page.execute_script("arguments[0].scrollIntoView();", table)
    page.save_screenshot(str(SHOTS / "race_3_table_with_status.png"))
    assert_console_clean(page)
