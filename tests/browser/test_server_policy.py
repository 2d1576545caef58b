"""In a real browser: the page works under the server's Content-Security-Policy.

The server is the Procfile's (tests/browser/conftest.py). Policy violations are
recorded by a listener installed before the page's own scripts run. (Without
``'unsafe-eval'`` the panels never finish drawing: plotly's WebGL scatter
compiles code at run time.)
"""

from __future__ import annotations

import urllib.request

import pytest

from app import ids
from tests.browser import pages
from tests.browser.checks import assert_console_clean, shot

pytestmark = pytest.mark.browser

_RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(
    e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
"""


@pytest.fixture
def watched_page(browser, app_url):
    """The page loaded with a recorder of policy violations installed first."""
    script = browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": _RECORD_VIOLATIONS}
    )
    browser.get("about:blank")
    browser.get_log("browser")
    browser.get(app_url + "/")
    yield browser
    browser.execute_cdp_cmd(
        "Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]}
    )


def test_the_page_draws_every_panel_under_its_policy(
    watched_page, app_url, screenshots
):
    with urllib.request.urlopen(app_url + "/", timeout=30) as response:
        policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy and "script-src 'self'" in policy
    pages.wait_panels(watched_page)
    shot(watched_page, screenshots, "csp_panels")
    traces = {t["type"] for t in pages.graph(watched_page, ids.CUSTOMER_SCATTER)}
    assert traces & {"scatter", "scattergl"}
    assert len(pages.persona_cards(watched_page)) >= 2
    assert watched_page.execute_script("return window.__violations") == []
    assert_console_clean(watched_page)
