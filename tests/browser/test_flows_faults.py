"""Real browser: a server restart mid-job is named; two tabs sending one file.

Each test starts its own server with ``python -m app`` (``PORT`` and
``SEGMENTATION_DATA_DIR`` set), so it can kill and restart it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from app import ids
from tests.browser import pages
from tests.dash_pages import wait_until_up
from tests.procfile_server import ROOT, free_port

SHARED = ROOT.parent / "shared" / "data"


class Server:
    """``python -m app`` on one port and data folder; can be killed and restarted."""

    def __init__(self, data: Path, log: Path):
        self.port, self.data, self.log = free_port(), data, log
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> None:
        env = {
            **os.environ,
            "PORT": str(self.port),
            "SEGMENTATION_DATA_DIR": str(self.data),
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_up(self.base)

    def kill(self) -> None:
        """Kill the server and its job processes at once, as a crash would."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


@pytest.fixture
def server(tmp_path, browser):
    running = Server(tmp_path / "data", tmp_path / "server.log")
    running.start()
    yield running
    # leave no page polling a server that is about to go: its failed requests
    # would land in the next test's console log
    for handle in browser.window_handles[1:]:
        browser.switch_to.window(handle)
        browser.close()
    browser.switch_to.window(browser.window_handles[0])
    browser.get("about:blank")
    browser.get_log("browser")
    running.kill()


def _file(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is not available on this machine")
    return path


def _loaded(driver) -> None:
    # the sample comes with the page when the server prepared it at start, or
    # from the page's loading job when it had not yet: panels either way
    pages.wait(driver, pages.panels_ready, message="no panels")
    pages.wait(driver, pages.controls_enabled, message="controls stayed disabled")


def test_a_restart_mid_job_is_named_and_the_controls_come_back(browser, server):
    slow = _file("online_retail_I.xlsx")  # several seconds of parsing
    browser.get(server.base + "/")
    _loaded(browser)  # the sample, at first load
    pages.upload(browser, slow)
    pages.wait(
        browser,
        lambda d: not d.find_element(By.ID, ids.SAMPLE_BUTTON).is_enabled(),
        message="the upload job never started",
    )
    # the controls turn off as soon as the page sends the job; kill the server
    # only once the job runs there (it reported an engine step): a kill before
    # the server took the request would have the page send it again, not lose it
    pages.wait_text(browser, ids.PROGRESS_TEXT, re.escape(f"({slow.name}, "))
    server.kill()
    banner = pages.wait(
        browser,
        lambda d: d.find_elements(By.ID, "server-gone-banner"),
        message="the page did not notice the server went away",
    )
    assert "not answering" in banner[0].text
    server.start()
    back = time.monotonic()
    status = pages.wait_text(browser, ids.RUN_RESULT, r"restarted", timeout=60)
    pages.wait(browser, pages.controls_enabled, timeout=60, message="still disabled")
    print(f"\ncontrols enabled {time.monotonic() - back:.1f} s after the server was up")
    assert status == (
        f"The server restarted and the job loading {slow.name} was lost: choose the "
        "file again. The panels still show the data loaded before."
    )
    assert not browser.find_elements(By.ID, "server-gone-banner")
    # the page works again: the same file loads
    pages.upload(browser, _file("online_retail_II_head.xlsx"))
    pages.wait_text(browser, ids.RUN_RESULT, r"^Loaded online_retail_II_head\.xlsx")


def test_two_tabs_uploading_the_same_file_both_get_it(browser, server):
    path = _file("online_retail_II_head.xlsx")
    browser.get(server.base + "/")
    first = browser.current_window_handle
    _loaded(browser)
    browser.switch_to.new_window("tab")
    second = browser.current_window_handle
    browser.get(server.base + "/")
    _loaded(browser)
    try:
        for handle in (first, second):  # one right after the other
            browser.switch_to.window(handle)
            pages.upload(browser, path)
        for handle in (first, second):
            browser.switch_to.window(handle)
            status = pages.wait_text(browser, ids.RUN_RESULT, r"^Loaded |stopped")
            assert status.startswith(f"Loaded {path.name}: "), status
            # the title follows the dataset store in a callback of its own
            title = pages.wait_text(
                browser, ids.DATASET_TITLE, re.escape(f"Dataset: {path.name}")
            )
            assert title == f"Dataset: {path.name}"
    finally:
        browser.switch_to.window(second)
        browser.close()
        browser.switch_to.window(first)
