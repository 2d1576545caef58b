"""The over-time panel in a real browser: it fills after the first panels, and a
click on its Sankey filters the selected-customers table.

The page's own record of when things appeared (a ``MutationObserver`` noting
the order, not durations) shows the first panels before the over-time panel.
The Sankey link is clicked with the pointer at its middle; the table then holds
that link's customers, each with the earlier tier the link starts from.
Screenshots go to ``tests/screenshots/`` (and ``/tmp/shots`` when it exists).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app import ids
from tests.browser import pages
from tests.browser.checks import assert_console_clean, shot

pytestmark = pytest.mark.browser

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
#: Filled once the over-time job answered (the status names the two dates).
FILLED = r"compared with \d{4}-\d\d-\d\d"

#: Records, in order, when the persona cards first showed the uploaded file's
#: customers (their sizes add up to ``arguments[1]``) and when the over-time
#: status said it was waiting, then filled (``window.overtimeOrder``).
_WATCH_JS = """
window.overtimeOrder = ['uploaded'];
const seen = name => {
  if (!window.overtimeOrder.includes(name)) { window.overtimeOrder.push(name); }
};
const check = () => {
  const cards = Array.from(document.querySelectorAll('#%(cards)s .persona-card'));
  const sizes = cards.map(c => {
    const m = c.textContent.match(/([\\d,]+) customers?/);
    return m ? parseInt(m[1].replace(/,/g, ''), 10) : 0;
  });
  const title = document.getElementById('%(title)s');
  if (cards.length && sizes.reduce((a, b) => a + b, 0) === arguments[1]
      && title && title.textContent.includes(arguments[0])) { seen('panels'); }
  const status = (document.getElementById('%(status)s') || {}).textContent || '';
  if (status.includes('computed after the panels')) { seen('waiting'); }
  if (/%(filled)s/.test(status) && window.overtimeOrder.includes('waiting')) {
    seen('over-time');
  }
};
new MutationObserver(check).observe(document.body,
  {subtree: true, childList: true, characterData: true});
"""

_LINKS_JS = """
const gd = document.querySelector('#%(sankey)s .js-plotly-plot');
if (!gd || !gd._fullData || !gd._fullData.length) { return null; }
const link = gd._fullData[0].link;
return {label: Array.from(link.label), value: Array.from(link.value)};
"""

_LINK_CENTRE_JS = """
const paths = document.querySelectorAll('#%(sankey)s .sankey-link');
const path = paths[arguments[0]];
if (!path) { return null; }
const box = path.getBoundingClientRect();
return [box.left + box.width / 2, box.top + box.height / 2];
"""


def _keep(driver, screenshots, name: str) -> None:
    shot(driver, screenshots, name)
    extra = Path("/tmp/shots")
    if extra.is_dir():
        shutil.copy(screenshots / f"{name}.png", extra / f"{name}.png")


def _scroll_to(driver, element_id: str) -> None:
    driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({block: 'start'})",
        element_id,
    )


def _links(driver) -> dict | None:
    return driver.execute_script(_LINKS_JS % {"sankey": ids.MIGRATION_SANKEY})


def _shown_file(driver, path: Path, customers: int) -> None:
    """Upload ``path`` and watch the order in which the panels fill."""
    watch = _WATCH_JS % {
        "cards": ids.PERSONA_CARDS,
        "title": ids.DATASET_TITLE,
        "status": ids.OVERTIME_STATUS,
        "filled": FILLED,
    }
    driver.execute_script(watch, path.name, customers)
    pages.upload(driver, path)


def test_over_time_fills_after_the_panels_and_a_link_filters_the_table(
    page, screenshots
):
    head = SHARED / "online_retail_II_head.xlsx"
    if not head.exists():
        pytest.skip(f"{head} is not available")
    pages.wait_panels(page)
    _shown_file(page, head, 50)
    pages.wait_text(page, ids.DATASET_TITLE, head.name)
    pages.wait_text(page, ids.OVERTIME_STATUS, FILLED)
    pages.wait_idle(page)
    order = page.execute_script("return window.overtimeOrder")
    assert order[0] == "uploaded" and "waiting" in order, order
    assert order.index("panels") < order.index("over-time"), order
    # the head file: the engine's reason instead of numbers
    assert pages.text_of(page, ids.LIFETIME_MODEL) == (
        "No lifetime numbers: 8 of 50 customers have a repeat order; the "
        "lifetime models need at least 200."
    )
    links = _links(page)
    assert links and sum(links["value"]) == 50
    _scroll_to(page, ids.OVERTIME_PANEL)
    _keep(page, screenshots, "overtime_head_file")

    # click the largest link that is not new customers
    kept = [
        i
        for i, label in enumerate(links["label"])
        if not label.startswith("Not yet a customer")
    ]
    number = max(kept, key=lambda i: links["value"][i])
    label, value = links["label"][number], links["value"][number]
    before, now = label.split(" → ")
    centre = page.execute_script(
        _LINK_CENTRE_JS % {"sankey": ids.MIGRATION_SANKEY}, number
    )
    pages.pointer_click(page, tuple(centre))
    said = (
        f"stayed in the {now} tier"
        if before == now
        else f"moved from {before} to {now}"
    )
    pages.wait_text(page, ids.SELECTION_SUMMARY, said)
    pages.wait_idle(page)
    assert pages.summary_counts(page) == (value, 50)
    header = pages.table_header(page)
    rows = pages.table_rows(page)
    assert len(rows) == min(value, 25)
    assert "Tier before" in header, header
    assert {
        (r[header.index("Tier before")], r[header.index("Value tier")]) for r in rows
    } == {(before, now)}
    _scroll_to(page, ids.OVERTIME_PANEL)
    _keep(page, screenshots, "overtime_link_selected")
    _scroll_to(page, ids.SELECTION_SUMMARY)
    _keep(page, screenshots, "overtime_link_selected_table")
    assert_console_clean(page)


def test_sample_over_time_panel_shows_the_models_and_moves(page, screenshots):
    pages.wait_panels(page)
    pages.wait_text(page, ids.OVERTIME_STATUS, FILLED)
    pages.wait_idle(page)
    model = pages.text_of(page, ids.LIFETIME_MODEL)
    assert re.search(r"BG/NBD \+ Gamma-Gamma .* time unit: days", model), model
    tiers = pages.text_of(page, ids.LIFETIME_TIERS)
    assert "Median p_alive" in tiers and "All customers" in tiers
    links = _links(page)
    _, total = pages.summary_counts(page)
    assert sum(links["value"]) == total
    _scroll_to(page, ids.OVERTIME_PANEL)
    _keep(page, screenshots, "overtime_sample")
    assert_console_clean(page)
