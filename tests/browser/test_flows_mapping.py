"""The column-mapping flow in a real browser: ask, preview, apply, remember.

An export whose headers match no synonym ("Cust Code") makes the app show the
mapping form with the file's first rows; choosing the column and "Apply mapping"
segments it; uploading the same file again later (a fresh page: the server
remembers) goes straight to the panels with that mapping (no form, no error).
"""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By

from app import ids
from app.callbacks.upload import REMEMBERED
from tests.browser import pages
from tests.browser.checks import SAMPLE_NAME, assert_console_clean, shot
from tests.test_app_callbacks import unusual_export

pytestmark = pytest.mark.browser
#: unusual_export() has 40 customers (K000..K039), 3 orders each.
CUSTOMERS = 40


def choose(driver, canonical: str, header: str) -> None:
    """Pick ``header`` in the mapping dropdown of ``canonical`` (click, click)."""
    dom_id = json.dumps(
        ids.mapping_choice(canonical), separators=(",", ":"), sort_keys=True
    )
    box = driver.find_element(By.CSS_SELECTOR, f"[id='{dom_id}']")
    inner = box.find_elements(By.CSS_SELECTOR, ".dash-dropdown")
    (inner[0] if inner else box).click()
    option = pages.wait(
        driver,
        lambda d: [
            o
            for o in d.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
            if o.text.strip() == header
        ],
        message=f"no option {header!r}",
    )[0]
    option.click()


def test_unmatched_headers_are_mapped_once_and_remembered(page, screenshots, tmp_path):
    export = tmp_path / "shop export.csv"
    export.write_bytes(unusual_export())
    pages.wait_panels(page)
    pages.upload(page, export)
    form = pages.wait_text(page, ids.MAPPING_PANEL, "First 5 rows")
    assert "Cust Code" in form and "K000" in form and "2024-03-01" in form
    shot(page, screenshots, "9_mapping_form")
    choose(page, "customer_id", "Cust Code")
    page.find_element(By.ID, ids.MAPPING_APPLY).click()
    pages.wait_text(page, ids.DATASET_TITLE, "shop export.csv")
    pages.wait_panels(page)
    assert pages.summary_counts(page) == (CUSTOMERS, CUSTOMERS)
    page.get(page.current_url)  # later, a fresh page (the sample again)
    pages.wait_text(page, ids.DATASET_TITLE, SAMPLE_NAME)
    pages.wait_panels(page)
    pages.wait(page, pages.controls_enabled, message="controls stay disabled")
    pages.upload(page, export)  # the same file again: no form this time
    pages.wait_text(page, ids.RUN_STATUS, REMEMBERED.rstrip("."))
    pages.wait_text(page, ids.DATASET_TITLE, "shop export.csv")
    pages.wait_panels(page)
    assert not page.find_element(By.ID, ids.MAPPING_PANEL).is_displayed()
    assert pages.summary_counts(page) == (CUSTOMERS, CUSTOMERS)
    shot(page, screenshots, "9_mapping_remembered")
    assert_console_clean(page)
