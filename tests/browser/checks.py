"""Shared checks of the browser flows: what the panels show, against each other."""

from __future__ import annotations

import re

from selenium.webdriver.common.by import By

from app import ids
from tests.browser import pages

SAMPLE_NAME = "online_retail_sample.csv"
STYLES = {"Regular", "Bulk", "Anomaly"}
#: Stock codes that are not products, as the data README lists them.
NON_PRODUCT_CODES = (
    "POST",
    "DOT",
    "M",
    "C2",
    "D",
    "S",
    "BANK CHARGES",
    "AMAZONFEE",
    "CRUK",
    "PADS",
    "B",
)


def shot(driver, screenshots, name: str) -> None:
    driver.save_screenshot(str(screenshots / f"{name}.png"))


def assert_console_clean(driver) -> None:
    severe = pages.severe_console(driver)
    assert severe == [], f"SEVERE browser console entries: {severe}"


def card_sizes(cards: list[str]) -> list[int]:
    sizes = [re.search(r"([\d,]+) customers?\b", card) for card in cards]
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
