"""Many customers in a real browser: the scatter draws a sample, a box selects all.

The file is SYNTHETIC: the first six lines of every real customer of Online
Retail I, three times over under new customer ids (``17850`` -> ``178501``,
``178502``, ``178503``) and invoice numbers, so that there are more customers
than the scatter draws (``app.figures.scatter_points.MAX_POINTS``). The expected
counts come from the engine run on the same file and plain pandas comparisons,
not from the app.
"""

from __future__ import annotations

import pandas as pd
import pytest
from selenium.common.exceptions import TimeoutException

import segmentation
from app import ids
from app.figures import scatter_points
from segmentation import schema
from tests.browser import pages
from tests.browser.checks import assert_console_clean, card_selected, shot

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

COPIES = 3
LINES_PER_CUSTOMER = 6


@pytest.fixture(scope="module")
def many_customers(tmp_path_factory, retail_text):
    """Write the synthetic export; return its path and the engine's customers."""
    lines = retail_text[retail_text["CustomerID"] != ""]
    firsts = lines.groupby("CustomerID", sort=False).head(LINES_PER_CUSTOMER)
    number = firsts["CustomerID"].astype(float).astype(int).astype(str)
    copies = [
        firsts.assign(
            CustomerID=number + str(copy), InvoiceNo=firsts["InvoiceNo"] + f"-{copy}"
        )
        for copy in range(1, COPIES + 1)
    ]
    path = tmp_path_factory.mktemp("many") / "many_customers_SYNTHETIC.csv"
    pd.concat(copies, ignore_index=True).to_csv(path, index=False)
    prepared = segmentation.prepare(path, diagnostics=False)
    customers = segmentation.segment(prepared, 3, anomaly_share=0.02).customers
    assert len(customers) > scatter_points.MAX_POINTS
    return path, customers


_LISTEN = """
const gd = document.querySelector('#customer-scatter .js-plotly-plot');
window.__box = null;
gd.on('plotly_selected', e => {
  if (window.__box === null && e && e.range) {
    window.__box = {range: e.range, n: e.points.length};
  }
});
"""


def _sample_note(driver) -> str:
    return driver.execute_script(
        "const gd = document.querySelector('#customer-scatter .js-plotly-plot');"
        "return (gd.layout.annotations || []).map(a => a.text)"
        "  .filter(t => t.startsWith('a sample')).join(' | ');"
    )


def _box_select(driver, tries: int = 2) -> dict:
    """Drag a box over 1.5..4 orders and 200..3,000; return plotly's report of it.

    A late re-render of the scatter (the what-if star follows a new dataset
    through two chained callbacks) can drop a box drawn just before it; then the
    summary falls back to "no selection" and the box is drawn once more.
    """
    for attempt in range(1, tries + 1):
        pages.wait_idle(driver)
        driver.execute_script(_LISTEN)
        start = pages.graph_position(driver, ids.CUSTOMER_SCATTER, 1.5, 3000)
        end = pages.graph_position(driver, ids.CUSTOMER_SCATTER, 4, 200)
        pages.pointer_drag(driver, start, end)
        box = pages.wait(
            driver,
            lambda d: d.execute_script("return window.__box"),
            message="plotly never reported a box selection",
        )
        try:
            pages.wait_text(
                driver,
                ids.SELECTION_SUMMARY,
                "every customer inside the scatter's box",
                timeout=30,
            )
            return box
        except TimeoutException:
            shown = pages.text_of(driver, ids.SELECTION_SUMMARY)
            if "no selection" not in shown or attempt == tries:
                raise
            print(f"box {attempt} was dropped by a re-render; summary: {shown!r}")
    raise AssertionError("unreachable")


def test_a_box_on_a_sampled_scatter_selects_every_customer_inside(
    page, screenshots, many_customers
):
    path, customers = many_customers
    total = len(customers)
    pages.wait_panels(page)
    pages.upload(page, path)
    pages.wait_text(page, ids.DATASET_TITLE, path.name)
    pages.wait_text(page, ids.SELECTION_SUMMARY, f"of {total:,} customers")
    pages.wait_panels(page)
    drawn = sum(t["n"] for t in pages.scatter_points(page))
    assert scatter_points.MAX_POINTS <= drawn < total
    assert _sample_note(page) == (
        f"a sample of {drawn:,} of {total:,} customers<br>"
        "a box or lasso selects everyone inside"
    )
    assert sum(pages.grid_counts(page).values()) == total  # the grid counts all
    shot(page, screenshots, "6_many_customers")

    box = _box_select(page)
    (x0, x1), (y0, y1) = sorted(box["range"]["x"]), sorted(box["range"]["y"])
    frequency, monetary = customers[schema.FREQUENCY], customers[schema.MONETARY]
    inside = int((frequency.between(x0, x1) & monetary.between(y0, y1)).sum())
    assert 0 < box["n"] < inside  # plotly saw only the drawn ones
    pages.wait_idle(page)
    shot(page, screenshots, "6_many_customers_box")
    assert pages.summary_counts(page) == (inside, total)
    assert sum(pages.grid_selected(page).values()) == inside
    assert sum(card_selected(pages.persona_cards(page))) == inside
    assert_console_clean(page)
