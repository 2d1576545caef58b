"""The main flows of the app in a real browser (DESIGN section 7).

Each flow starts from a freshly loaded page (which segments the built-in sample),
acts as a user would (mouse, keyboard, a file chosen in the upload's file input),
and checks what the user sees against independent facts: the data README's
counts, and the panels against each other (every customer is in exactly one
grid cell, one scatter point and one persona card). Every flow ends with no
SEVERE browser-console entry and leaves screenshots of its key states in
``tests/screenshots/<flow>*.png``.
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from app import ids
from tests.browser import pages

pytestmark = pytest.mark.browser

SAMPLE_NAME = "online_retail_sample.csv"
STYLES = {"Regular", "Bulk", "Anomaly"}
#: Stock codes that are not products, as the data README lists them.
NON_PRODUCT_CODES = ("POST", "DOT", "M", "C2", "D", "S", "BANK CHARGES",
                     "AMAZONFEE", "CRUK", "PADS", "B")


def shot(driver, screenshots, name: str) -> None:
    driver.save_screenshot(str(screenshots / f"{name}.png"))


def assert_console_clean(driver) -> None:
    severe = pages.severe_console(driver)
    assert severe == [], f"SEVERE browser console entries: {severe}"


def card_sizes(cards: list[str]) -> list[int]:
    sizes = [re.search(r"([\d,]+) customers", card) for card in cards]
    assert all(sizes), cards
    return [int(m.group(1).replace(",", "")) for m in sizes]


def card_selected(cards: list[str]) -> list[int]:
    found = [re.search(r"([\d,]+) selected", card) for card in cards]
    return [int(m.group(1).replace(",", "")) for m in found if m]


def receipt_value(driver, label: str) -> str:
    """Return the value after ``label`` in the receipt's facts list."""
    terms = driver.find_elements(By.CSS_SELECTOR, f"#{ids.CLEANING_RECEIPT} dt")
    values = driver.find_elements(By.CSS_SELECTOR, f"#{ids.CLEANING_RECEIPT} dd")
    facts = {t.text: v.text for t, v in zip(terms, values, strict=True)}
    assert label in facts, facts
    return facts[label]


def assert_panels_agree(driver, k: int) -> int:
    """Check grid, scatter, cards and summary show the same k tiers and customers."""
    grid = pages.grid_counts(driver)
    tiers = list(dict.fromkeys(tier for tier, _ in grid))
    assert len(tiers) == k, tiers
    assert {style for _, style in grid} == STYLES
    selected, total = pages.summary_counts(driver)
    assert selected == total > 0
    assert sum(grid.values()) == total  # every customer sits in one cell
    points = pages.scatter_points(driver)
    assert sum(t["n"] for t in points) == total  # one point per customer
    assert {t["meta"]["tier"] for t in points} == set(tiers)
    by_trace = {(t["meta"]["tier"], t["meta"]["style"]): t["n"] for t in points}
    assert by_trace == {cell: n for cell, n in grid.items() if n}
    cards = pages.persona_cards(driver)
    assert len(cards) == k
    assert sum(card_sizes(cards)) == total
    assert all(re.search(r"\d+(\.\d)? % of revenue", c) for c in cards), cards
    assert pages.heatmap(driver, ids.FEATURE_HEATMAP)["y"] == tiers
    return total


def test_first_load_shows_the_sample_segmented(page, screenshots):
    pages.wait_panels(page)
    shot(page, screenshots, "1_first_load")
    pages.full_page_screenshot(page, screenshots / "1_first_load_full.png")
    assert SAMPLE_NAME in pages.text_of(page, ids.DATASET_TITLE)
    total = assert_panels_agree(page, 3)  # k = 3 by default (DESIGN 6)
    assert pages.heatmap(page, ids.VALUE_STYLE_GRID)["y"] == ["Low", "Mid", "High"]
    assert receipt_value(page, "Customers") == f"{total:,}"
    assert pages.text_of(page, ids.K_RULE).startswith("Recommended k =")
    assert "Chosen k = 3" in pages.text_of(page, ids.K_RULE)
    assert pages.k_value(page) == 3
    assert pages.controls_enabled(page)
    assert len(pages.table_rows(page)) == min(total, 25)
    assert_console_clean(page)
    pages.set_viewport(page, 1920, 1080)
    page.execute_script("window.dispatchEvent(new Event('resize'))")
    pages.wait_idle(page)
    shot(page, screenshots, "1_first_load_1920x1080")


@pytest.mark.realdata
def test_upload_of_a_two_sheet_workbook_shows_its_receipt(page, screenshots,
                                                          retail_ii_sample):
    # Independent facts: the data README (34,766 lines: 14,269 + 20,497 on two
    # sheets) and, in plain pandas, the classic cleaning plus the README's
    # non-product codes (DESIGN 4) for the customers: 260 customers have a
    # positive line, one of them (12737) only on C2 and M lines -> 259.
    sheets = pd.read_excel(retail_ii_sample, sheet_name=None, engine="calamine")
    lines = pd.concat(sheets.values(), ignore_index=True)
    code = lines["StockCode"].astype(str).str.upper()
    kept = (lines["Customer ID"].notna()
            & ~lines["Invoice"].astype(str).str.startswith("C")
            & (lines["Quantity"] > 0) & (lines["Price"] > 0)
            & ~code.isin(NON_PRODUCT_CODES) & ~code.str.startswith("GIFT_0001"))
    customers = lines.loc[kept, "Customer ID"].nunique()
    pages.wait_panels(page)
    pages.upload(page, retail_ii_sample)
    pages.wait_text(page, ids.DATASET_TITLE, re.escape(retail_ii_sample.name))
    pages.wait_text(page, ids.CLEANING_RECEIPT, "34,766")
    pages.wait_panels(page)
    shot(page, screenshots, "2_upload_workbook")
    assert receipt_value(page, "Lines read") == "34,766"
    assert receipt_value(page, "Sheets") == "Year 2009-2010, Year 2010-2011"
    assert receipt_value(page, "File").startswith(retail_ii_sample.name)
    total = assert_panels_agree(page, 3)
    assert total == customers
    assert receipt_value(page, "Customers") == f"{customers:,}"
    assert re.search(rf"Loaded {re.escape(retail_ii_sample.name)}: {customers:,} "
                     "customers", pages.text_of(page, ids.RUN_STATUS))
    assert not [a for a in page.find_elements(By.ID, ids.ERROR_ALERT)
                if a.is_displayed()]  # a closed dbc.Alert leaves the DOM
    assert_console_clean(page)


def test_grid_cell_click_filters_every_panel(page, screenshots):
    pages.wait_panels(page)
    grid = pages.grid_counts(page)
    _, total = pages.summary_counts(page)
    # the smallest non-empty cell that is not the whole tier
    cell = min((c for c, n in grid.items() if n), key=lambda c: grid[c])
    tier, style = cell
    pages.pointer_click(page, pages.graph_position(page, ids.VALUE_STYLE_GRID,
                                                   style, tier))
    pages.wait_text(page, ids.SELECTION_SUMMARY, f"grid cell {tier} · {style}")
    pages.wait_idle(page)
    shot(page, screenshots, "3_grid_cell_selected")
    n = int(grid[cell])
    assert pages.summary_counts(page) == (n, total)
    assert pages.grid_selected(page) == {c: (n if c == cell else 0) for c in grid}
    points = pages.scatter_points(page)
    highlighted = {(t["meta"]["tier"], t["meta"]["style"]): len(t["selectedpoints"])
                   for t in points}
    assert highlighted == {c: (n if c == cell else 0) for c in highlighted}
    cards = pages.persona_cards(page)
    assert sorted(card_selected(cards)) == sorted([n] + [0] * (len(cards) - 1))
    assert any(c.startswith(tier.upper()) and f"{n:,} selected" in c for c in cards)
    rows = pages.table_rows(page)
    header = pages.table_header(page)
    assert len(rows) == min(n, 25)
    assert {(r[header.index("value tier")], r[header.index("purchase style")])
            for r in rows} == {cell}
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
    tier = card.text.splitlines()[0]  # e.g. "HIGH" (shown upper-case)
    persona = card.text.splitlines()[1]
    size = card_sizes([card.text])[0]
    card.click()
    pages.wait_text(page, ids.SELECTION_SUMMARY, re.escape(f"({persona})"))
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
    pages.pointer_click(page, pages.graph_position(page, ids.VALUE_STYLE_GRID,
                                                   style, tier))
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
    chosen = pages.wait(page, lambda d: d.execute_script("return window.__selected"),
                        message="plotly never reported a box selection")
    per_cell = Counter(tuple(c) for c in chosen)  # what plotly selected
    n = len(chosen)
    assert 0 < n < total
    pages.wait(page, lambda d: d.execute_script("return window.__sent.length"),
               message="the selection never reached the server")
    pages.wait_idle(page)
    shot(page, screenshots, "4_scatter_box_selected")
    sent = page.execute_script("return window.__sent")
    if "no selection" in pages.text_of(page, ids.SELECTION_SUMMARY):
        assert sent[0] == n and 0 in sent[1:], sent  # else a test problem
        pytest.xfail(
            f"APP BUG: the box selection ({n} points) is dropped right after it is "
            f"made (selectedData sent: {sent} points): re-rendering the scatter "
            "makes plotly emit plotly_selected with no points, and "
            "update_selection (app/callbacks/selection.py) turns that into "
            "selection None")
    pages.wait_text(page, ids.SELECTION_SUMMARY,
                    f"{n:,} customers chosen on the scatter")
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
    pages.wait(page, lambda d: len(pages.persona_cards(d)) == 4,
               message="persona cards never became 4")
    pages.wait_text(page, ids.K_RULE, "Chosen k = 4")
    pages.wait_panels(page)
    shot(page, screenshots, "5_k4")
    assert pages.k_value(page) == 4
    assert assert_panels_agree(page, 4) == total  # same customers, re-tiered
    pages.press_on_k(page, Keys.END)  # the highest k the slider offers
    pages.wait(page, lambda d: len(pages.persona_cards(d)) == 10,
               message="persona cards never became 10")
    pages.wait_text(page, ids.K_RULE, "Chosen k = 10")
    pages.wait_panels(page)
    shot(page, screenshots, "5_k10")
    pages.full_page_screenshot(page, screenshots / "5_k10_full.png")
    assert pages.k_value(page) == 10
    assert assert_panels_agree(page, 10) == total
    assert_console_clean(page)


def downloaded(driver, download_dir, name: str) -> pd.DataFrame:
    """Wait for ``name`` to be fully downloaded; return it read as text."""
    path = download_dir / name
    pages.wait(driver, lambda d: path.exists() and not list(
        download_dir.glob("*.crdownload")), message=f"{name} never arrived in "
        f"{download_dir}: {sorted(p.name for p in download_dir.iterdir())}")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_download_matches_the_panels(page, screenshots, download_dir,
                                     cleanup_downloads):
    cleanup_downloads()
    pages.wait_panels(page)
    grid = pages.grid_counts(page)
    _, total = pages.summary_counts(page)
    page.find_element(By.ID, ids.DOWNLOAD_BUTTON).click()
    table = downloaded(page, download_dir, "online_retail_sample_k3_customers.csv")
    assert len(table) == total
    assert table["customer_id"].is_unique
    assert set(table["value_tier"]) == {tier for tier, _ in grid}
    assert set(table["purchase_style"]) <= STYLES
    cells = Counter(zip(table["value_tier"], table["purchase_style"], strict=True))
    assert cells == Counter({c: int(n) for c, n in grid.items() if n})
    assert (table["segment"] == table["value_tier"] + " · "
            + table["purchase_style"]).all()
    # the selection only: one grid cell
    tier, style = cell = max(grid, key=grid.get)
    pages.pointer_click(page, pages.graph_position(page, ids.VALUE_STYLE_GRID,
                                                   style, tier))
    pages.wait_text(page, ids.SELECTION_SUMMARY, f"grid cell {tier} · {style}")
    page.find_element(By.XPATH, f"//*[@id='{ids.DOWNLOAD_SCOPE}']"
                                "//label[contains(., 'Selection only')]").click()
    pages.wait_idle(page)
    page.find_element(By.ID, ids.DOWNLOAD_BUTTON).click()
    chosen = downloaded(page, download_dir, "online_retail_sample_k3_selection.csv")
    shot(page, screenshots, "6_download_selection")
    assert len(chosen) == grid[cell] == pages.summary_counts(page)[0]
    assert set(zip(chosen["value_tier"], chosen["purchase_style"],
                   strict=True)) == {cell}
    assert_console_clean(page)


def test_bad_files_show_an_error_and_keep_the_dataset(page, screenshots, tmp_path):
    pdf = tmp_path / "quarterly report.xlsx"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
                    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
    empty = tmp_path / "empty export.csv"
    empty.write_bytes(b"")
    pages.wait_panels(page)
    _, total = pages.summary_counts(page)
    for bad, problem in ((pdf, "PDF"), (empty, "empty")):
        pages.upload(page, bad)
        alert = pages.wait_text(page, ids.ERROR_ALERT, re.escape(bad.name))
        assert problem in alert, alert
        shot(page, screenshots, f"7_bad_file_{bad.suffix[1:]}")
        pages.wait(page, pages.controls_enabled, message="controls stay disabled")
        assert SAMPLE_NAME in pages.text_of(page, ids.DATASET_TITLE)
        assert pages.summary_counts(page) == (total, total)
        assert len(pages.persona_cards(page)) == 3
    pages.set_k(page, 4)  # the previous dataset is still usable
    pages.wait(page, lambda d: len(pages.persona_cards(d)) == 4,
               message="k no longer works after a bad file")
    pages.wait_panels(page)
    assert assert_panels_agree(page, 4) == total
    shot(page, screenshots, "7_bad_file_then_k4")
    assert_console_clean(page)


@pytest.mark.realdata
def test_cancel_stops_a_running_job(page, screenshots, retail_csv):
    pages.wait_panels(page)
    _, total = pages.summary_counts(page)
    pages.upload(page, retail_csv)  # 48 MB: reading it takes seconds
    cancel = page.find_element(By.ID, ids.CANCEL_BUTTON)
    pages.wait(page, lambda d: cancel.is_displayed()
               and not pages.controls_enabled(d), message="the job never started")
    pages.wait_text(page, ids.RUN_STATUS, "…")  # a step is reported
    shot(page, screenshots, "8_running")
    cancel.click()
    pages.wait(page, pages.controls_enabled, message="controls stay disabled")
    pages.wait(page, lambda d: not cancel.is_displayed(),
               message="the cancel button stays shown")
    status = pages.wait_text(page, ids.RUN_STATUS, "stopped")
    shot(page, screenshots, "8_cancelled")
    assert retail_csv.name not in status
    assert SAMPLE_NAME in pages.text_of(page, ids.DATASET_TITLE)
    assert pages.summary_counts(page) == (total, total)
    assert len(pages.persona_cards(page)) == 3
    page.find_element(By.ID, ids.SAMPLE_BUTTON).click()  # a new job runs again
    pages.wait_text(page, ids.RUN_STATUS, f"Loaded {SAMPLE_NAME}")
    pages.wait_panels(page)
    assert_console_clean(page)
