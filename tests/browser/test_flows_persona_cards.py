"""The persona cards drawn by the browser (``assets/persona_cards.js``).

The cards are built in the page from plain data (no Dash component per
card): a click and Enter on a focused card still choose the tier (the
summary, the grid and the table follow), a k change redraws them (one per
tier), and a persona name or action that looks like markup is shown as text.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from app import ids
from tests.browser import pages
from tests.browser.checks import assert_console_clean, card_sizes, shot

pytestmark = pytest.mark.browser

CARDS = f"#{ids.PERSONA_CARDS} .persona-card"

#: Cards drawn from data whose words look like markup; what the page then holds.
_MARKUP_JS = """
window.__injected = false;
const cards = [{
    cluster: 1, tier: "<b>x</b> value", colour: "#482474",
    size: "1 customer · 100.0 % of revenue",
    medians: "median: 1 day since last order, 1 order, ",
    spend: {sign: "", digits: "<i>5</i>"},
    groups: [{persona: "<b>x</b>", status: "Active", size: "1 customer",
              action: "<img src=x onerror='window.__injected = true'>"}],
    selected_words: null, selected: false, dimmed: false,
    title: "<b>t</b>", label: "<b>l</b>",
}];
const box = document.createElement("div");
box.appendChild(window.personaCards.build(cards));
const card = box.querySelector(".persona-card");
return {
    elements: Array.from(box.querySelectorAll("*")).map(e => e.tagName),
    persona: card.querySelector(".persona-groups b").textContent,
    action: card.querySelector(".persona-groups .text-muted").textContent,
    tier: card.querySelector("h3").textContent,
    money: card.querySelector(".money").textContent,
    title: card.getAttribute("title"),
};
"""


def _selected_cluster(driver) -> list[str]:
    return [
        c.get_attribute("data-cluster")
        for c in driver.find_elements(By.CSS_SELECTOR, CARDS + ".selected")
    ]


def test_a_click_and_enter_choose_a_tier_and_a_k_change_redraws(page, screenshots):
    pages.wait_panels(page)
    _, total = pages.summary_counts(page)
    cards = page.find_elements(By.CSS_SELECTOR, CARDS)
    assert len(cards) == pages.k_value(page)
    # a click on the second card: its tier is chosen, the others dimmed
    second = cards[1]
    cluster = second.get_attribute("data-cluster")
    size = card_sizes([second.text])[0]
    second.click()
    pages.wait(page, lambda d: _selected_cluster(d) == [cluster], message="no card")
    pages.wait_idle(page)
    assert pages.summary_counts(page) == (size, total)
    assert sum(pages.grid_selected(page).values()) == size
    assert len(pages.table_rows(page)) == min(size, 25)
    dimmed = page.find_elements(By.CSS_SELECTOR, CARDS + ".dimmed")
    assert len(dimmed) == len(cards) - 1
    shot(page, screenshots, "persona_cards_clicked")
    # Enter on the focused first card: its tier instead, and it keeps the focus
    first = page.find_elements(By.CSS_SELECTOR, CARDS)[0]
    page.execute_script("arguments[0].focus()", first)
    first_cluster = first.get_attribute("data-cluster")
    first_size = card_sizes([first.text])[0]
    page.switch_to.active_element.send_keys(Keys.ENTER)
    pages.wait(
        page, lambda d: _selected_cluster(d) == [first_cluster], message="no Enter"
    )
    pages.wait_idle(page)
    assert pages.summary_counts(page) == (first_size, total)
    focused = page.switch_to.active_element
    assert focused.get_attribute("data-cluster") == first_cluster
    assert focused.get_attribute("aria-pressed") == "true"
    # a k change: one card per tier, none chosen (a k change clears it)
    pages.set_k(page, 5)
    pages.wait(
        page,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, CARDS)) == 5,
        message="the cards did not follow k",
    )
    pages.wait_idle(page)
    assert _selected_cluster(page) == []
    clusters = [
        c.get_attribute("data-cluster")
        for c in page.find_elements(By.CSS_SELECTOR, CARDS)
    ]
    assert clusters == ["4", "3", "2", "1", "0"]  # highest tier first
    assert sum(card_sizes(pages.persona_cards(page))) == total
    # the "coming" line is hidden under drawn cards
    coming = page.find_element(By.CSS_SELECTOR, f"#{ids.PERSONA_CARDS} .panel-coming")
    assert not coming.is_displayed()
    shot(page, screenshots, "persona_cards_k5")
    assert_console_clean(page)


def test_words_that_look_like_markup_are_shown_as_text(page):
    pages.wait_panels(page)
    found = page.execute_script(_MARKUP_JS)
    # only the card's own elements: nothing made from the words
    assert found["elements"] == [
        "DIV", "DIV", "DIV", "H3", "DIV", "DIV", "SPAN", "UL", "LI", "B", "DIV",
    ]  # fmt: skip
    assert found["persona"] == "<b>x</b>"
    assert found["action"] == "<img src=x onerror='window.__injected = true'>"
    assert found["tier"] == "<b>x</b> value"
    assert found["money"] == "<i>5</i>"
    assert found["title"] == "<b>t</b>"
    assert page.execute_script("return window.__injected") is False
