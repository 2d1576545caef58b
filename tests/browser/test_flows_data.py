"""Data flows in a real browser: first load, upload, bad files, cancel, download.

Each flow starts from a freshly loaded page (which segments the built-in
sample), acts as a user would (a file chosen in the upload's file input, clicks),
and checks what the user sees against independent facts: the data README's
counts, plain pandas, and the panels against each other (every customer is in
exactly one grid cell, one scatter point and one persona card). Every flow ends
with no SEVERE browser-console entry and leaves screenshots of its key states
in ``tests/screenshots/``.
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import pytest
from selenium.webdriver.common.by import By

from app import ids
from tests.browser import pages
from tests.browser.checks import (
    NON_PRODUCT_CODES,
    SAMPLE_NAME,
    STYLES,
    assert_console_clean,
    assert_panels_agree,
    receipt_value,
    shot,
)

pytestmark = pytest.mark.browser


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
def test_upload_of_a_two_sheet_workbook_shows_its_receipt(
    page, screenshots, retail_ii_sample
):
    # Independent facts: the data README (34,766 lines: 14,269 + 20,497 on two
    # sheets) and, in plain pandas, the classic cleaning plus the README's
    # non-product codes (DESIGN 4) for the customers: 260 customers have a
    # positive line, one of them (12737) only on C2 and M lines -> 259.
    sheets = pd.read_excel(retail_ii_sample, sheet_name=None, engine="calamine")
    lines = pd.concat(sheets.values(), ignore_index=True)
    code = lines["StockCode"].astype(str).str.upper()
    kept = (
        lines["Customer ID"].notna()
        & ~lines["Invoice"].astype(str).str.startswith("C")
        & (lines["Quantity"] > 0)
        & (lines["Price"] > 0)
        & ~code.isin(NON_PRODUCT_CODES)
        & ~code.str.startswith("GIFT_0001")
    )
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
    assert re.search(
        rf"Loaded {re.escape(retail_ii_sample.name)}: {customers:,} "
        "customers",
        pages.text_of(page, ids.RUN_STATUS),
    )
    assert not [
        a for a in page.find_elements(By.ID, ids.ERROR_ALERT) if a.is_displayed()
    ]  # a closed dbc.Alert leaves the DOM
    assert_console_clean(page)


def downloaded(driver, download_dir, name: str) -> pd.DataFrame:
    """Wait for ``name`` to be fully downloaded; return it read as text."""
    path = download_dir / name
    pages.wait(
        driver,
        lambda d: path.exists() and not list(download_dir.glob("*.crdownload")),
        message=f"{name} never arrived in "
        f"{download_dir}: {sorted(p.name for p in download_dir.iterdir())}",
    )
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_download_matches_the_panels(
    page, screenshots, download_dir, cleanup_downloads
):
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
    assert (
        table["segment"] == table["value_tier"] + " · " + table["purchase_style"]
    ).all()
    # the selection only: one grid cell
    tier, style = cell = max(grid, key=grid.get)
    pages.pointer_click(
        page, pages.graph_position(page, ids.VALUE_STYLE_GRID, style, tier)
    )
    pages.wait_text(page, ids.SELECTION_SUMMARY, f"grid cell {tier} · {style}")
    page.find_element(
        By.XPATH,
        f"//*[@id='{ids.DOWNLOAD_SCOPE}']//label[contains(., 'Selection only')]",
    ).click()
    pages.wait_idle(page)
    page.find_element(By.ID, ids.DOWNLOAD_BUTTON).click()
    chosen = downloaded(page, download_dir, "online_retail_sample_k3_selection.csv")
    shot(page, screenshots, "6_download_selection")
    assert len(chosen) == grid[cell] == pages.summary_counts(page)[0]
    assert set(zip(chosen["value_tier"], chosen["purchase_style"], strict=True)) == {
        cell
    }
    assert_console_clean(page)


def test_bad_files_show_an_error_and_keep_the_dataset(page, screenshots, tmp_path):
    pdf = tmp_path / "quarterly report.xlsx"
    pdf.write_bytes(
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
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
    pages.wait(
        page,
        lambda d: len(pages.persona_cards(d)) == 4,
        message="k no longer works after a bad file",
    )
    pages.wait_panels(page)
    assert assert_panels_agree(page, 4) == total
    shot(page, screenshots, "7_bad_file_then_k4")
    page.find_element(By.ID, ids.SAMPLE_BUTTON).click()  # a new job closes the alert
    pages.wait(
        page,
        lambda d: (
            not [a for a in d.find_elements(By.ID, ids.ERROR_ALERT) if a.is_displayed()]
        ),
        message="the old error stays open",
    )
    pages.wait(page, pages.controls_enabled, message="controls stay disabled")
    assert_console_clean(page)


@pytest.mark.realdata
def test_cancel_stops_a_running_job(page, screenshots, retail_csv):
    pages.wait_panels(page)
    _, total = pages.summary_counts(page)
    pages.upload(page, retail_csv)  # 48 MB: reading it takes seconds
    cancel = page.find_element(By.ID, ids.CANCEL_BUTTON)
    pages.wait(
        page,
        lambda d: cancel.is_displayed() and not pages.controls_enabled(d),
        message="the job never started",
    )
    # a step of the engine is reported, with the file, its size and the time
    pages.wait_text(
        page, ids.PROGRESS_TEXT, re.escape(f"({retail_csv.name}, 45.8 MB): ")
    )
    shot(page, screenshots, "8_running")
    cancel.click()
    pages.wait(page, pages.controls_enabled, message="controls stay disabled")
    pages.wait(
        page,
        lambda d: not cancel.is_displayed(),
        message="the cancel button stays shown",
    )
    status = pages.wait_text(page, ids.RUN_STATUS, "stopped")
    shot(page, screenshots, "8_cancelled")
    assert f"Loading {retail_csv.name} stopped" in status, status  # names the file
    assert f"Loaded {retail_csv.name}" not in status
    assert SAMPLE_NAME in pages.text_of(page, ids.DATASET_TITLE)
    assert pages.summary_counts(page) == (total, total)
    assert len(pages.persona_cards(page)) == 3
    page.find_element(By.ID, ids.SAMPLE_BUTTON).click()  # a new job runs again
    pages.wait_text(page, ids.RUN_STATUS, f"Loaded {SAMPLE_NAME}")
    pages.wait_panels(page)
    assert_console_clean(page)
