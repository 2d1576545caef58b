"""Two browsers of an anonymous server: each has its own workspace.

The Procfile's gunicorn with ``SEGMENTATION_ALLOW_ANONYMOUS=1`` (no account),
two headless Chromium instances (two profiles: two browsers with their own
cookies). The first uploads a real export; its panels come through the
background jobs as usual (their handles are claimed for its workspace and
polled). The second opens the first one's address (``?view=``, copied from
its address bar): it is told the link's dataset is not in its workspace and
sees the sample.
"""

from __future__ import annotations

import re

import pytest

from app import ids
from segmentation import SAMPLE_NAME
from tests.browser import pages
from tests.browser.conftest import CHROME_ARGS, CHROMEDRIVER, CHROMIUM, WINDOW
from tests.procfile_server import serve


@pytest.fixture(scope="module")
def anonymous_url(tmp_path_factory):
    """The app served for others without accounts (each browser private)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("SEGMENTATION_ALLOW_ANONYMOUS", "1")
    patch.delenv("SEGMENTATION_REQUIRE_LOGIN", raising=False)
    data_dir = tmp_path_factory.mktemp("anonymous-data")
    log_path = tmp_path_factory.mktemp("anonymous-log") / "gunicorn.log"
    try:
        with serve(data_dir, log_path) as base:
            yield base
    finally:
        patch.undo()
        print(f"\ngunicorn log: {log_path}")


def _chromium(profile):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            pytest.skip(
                f"{path} is not installed (apt install chromium chromium-driver)"
            )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    pages.set_viewport(driver, *WINDOW)
    return driver


@pytest.fixture(scope="module")
def two_browsers(tmp_path_factory):
    first = _chromium(tmp_path_factory.mktemp("first-profile"))
    try:
        second = _chromium(tmp_path_factory.mktemp("second-profile"))
    except BaseException:
        first.quit()
        raise
    yield first, second
    first.quit()
    second.quit()


def test_a_link_from_one_browser_does_not_open_in_another(
    anonymous_url, two_browsers, retail_ii_head
):
    first, second = two_browsers
    first.get(anonymous_url)
    pages.wait_text(first, ids.DATASET_TITLE, re.escape(SAMPLE_NAME))
    pages.upload(first, retail_ii_head)
    pages.wait_text(first, ids.DATASET_TITLE, re.escape(retail_ii_head.name))
    pages.wait_panels(first)
    pages.wait(
        first,
        lambda d: "view=" in d.current_url,
        message="the address never got its view link",
    )
    link = first.current_url
    # the first browser's own link reopens its dataset (a reload)
    first.get(link)
    pages.wait_text(first, ids.DATASET_TITLE, re.escape(retail_ii_head.name))
    # the second browser is refused, says why, and shows the sample
    second.get(link)
    alert = pages.wait_text(second, ids.ERROR_ALERT, "not in your workspace")
    assert retail_ii_head.name not in alert
    pages.wait_text(second, ids.DATASET_TITLE, re.escape(SAMPLE_NAME))
    assert retail_ii_head.name not in second.page_source
    assert pages.severe_console(first) == []
