"""Real-browser fixtures: the app served by the Procfile's gunicorn, headless Chromium.

The server is started exactly as the Procfile says (``$PORT`` replaced by a free
port, bound to 127.0.0.1) with ``SEGMENTATION_DATA_DIR`` in a tmp dir; Chromium
and ChromeDriver are Debian's (``/usr/bin``), started through an explicit
``Service`` (never Selenium Manager: there is no internet). Without them every
browser test is skipped with the reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser.pages import set_viewport
from tests.procfile_server import ROOT, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "tests" / "screenshots"
#: Waits are generous: the machine has 2 cores shared by several busy processes.
WAIT_SECONDS = 90
WINDOW = (1366, 900)
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """Serve the app with the Procfile's command; yield its base URL."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    log_path = tmp_path_factory.mktemp("browser-log") / "gunicorn.log"
    with serve(data_dir, log_path) as base:
        yield base
    print(f"\ngunicorn log: {log_path}")


@pytest.fixture(scope="session")
def download_dir(tmp_path_factory) -> Path:
    """Where Chromium saves downloads."""
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def browser(tmp_path_factory, download_dir):
    """One headless Chromium for the session (each test loads the page afresh)."""
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
    profile = tmp_path_factory.mktemp("chromium-profile")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
        },
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(download_dir)},
    )
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The (git-ignored) folder of screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def page(browser, app_url):
    """The page freshly loaded in a 1366x900 viewport, the console log emptied first."""
    browser.get("about:blank")
    set_viewport(browser, *WINDOW)
    browser.get_log("browser")  # drop what earlier tests left
    browser.get(app_url + "/")
    return browser


@pytest.fixture(scope="session")
def cleanup_downloads(download_dir):
    """Empty the download folder (used before a download is awaited)."""

    def empty() -> None:
        for path in download_dir.iterdir():
            if path.is_file():
                path.unlink()
            else:
                shutil.rmtree(path)

    return empty
