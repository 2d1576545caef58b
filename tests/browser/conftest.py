"""Real-browser fixtures: the app served by the Procfile's gunicorn, headless Chromium.

The server is started exactly as the Procfile says (``$PORT`` replaced by a free
port, bound to 127.0.0.1) with ``SEGMENTATION_DATA_DIR`` in a tmp dir; Chromium
and ChromeDriver are Debian's (``/usr/bin``), started through an explicit
``Service`` (never Selenium Manager: there is no internet). Without them every
browser test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
from pathlib import Path

import pytest

from tests.browser.pages import set_viewport
from tests.test_server import ROOT, free_port, get, procfile_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "tests" / "screenshots"
STARTUP_SECONDS = 90
#: Waits are generous: the machine has 2 cores shared by several busy processes.
WAIT_SECONDS = 90
WINDOW = (1366, 900)
CHROME_ARGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--disable-dev-shm-usage",
    f"--window-size={WINDOW[0]},{WINDOW[1]}", "--disable-component-update",
    "--disable-sync", "--no-first-run",
)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """Serve the app with the Procfile's command; yield its base URL."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    log_path = tmp_path_factory.mktemp("browser-log") / "gunicorn.log"
    port = free_port()
    command = procfile_command(port)
    command = [w.replace("0.0.0.0:", "127.0.0.1:") for w in command]
    assert f"127.0.0.1:{port}" in command, command
    env = {**os.environ, "PORT": str(port), "SEGMENTATION_DATA_DIR": str(data_dir)}
    log = log_path.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            get(base + "/")
            break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                _stop(process)
                log.close()
                pytest.fail("gunicorn did not start:\n"
                            + log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.5)
    yield base
    _stop(process)
    log.close()
    print(f"\ngunicorn log: {log_path}")


def _stop(process: subprocess.Popen) -> None:
    """Terminate the server's process group (gunicorn and its job processes)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="session")
def download_dir(tmp_path_factory) -> Path:
    """Where Chromium saves downloads."""
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def browser(tmp_path_factory, download_dir):
    """One headless Chromium for the session (each test loads the page afresh)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            pytest.skip(f"{path} is not installed (apt install chromium "
                        "chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    profile = tmp_path_factory.mktemp("chromium-profile")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {
        "download.default_directory": str(download_dir),
        "download.prompt_for_download": False,
    })
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(download_dir)})
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
