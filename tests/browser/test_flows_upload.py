"""Real browser: a file streamed to ``POST /upload`` with progress in bytes, the same
file chosen twice, a reload that keeps dataset and k, and the route's limit
behind the server's front (the Procfile's server, :mod:`app.asgi`)."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from app import ids
from app.upload_route import UPLOAD_LIMIT_BYTES
from tests.browser import pages
from tests.browser.checks import assert_console_clean, shot

SHARED = Path("/work/shared/data")
EXPORTS = Path(__file__).parents[1] / "data" / "exports"
PAGE = "0123456789abcdef0123456789abcdef"

#: Every text #progress-text and #run-result show, in order (set before acting).
_WATCH_JS = """
window.__texts = [];
const watch = id => {
  const node = document.getElementById(id);
  new MutationObserver(() => window.__texts.push([id, node.textContent]))
    .observe(node, {childList: true, subtree: true, characterData: true});
};
watch(arguments[0]); watch(arguments[1]);
"""


def _file(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available on this machine")
    return path


def watch(driver) -> None:
    driver.execute_script(_WATCH_JS, ids.PROGRESS_TEXT, ids.RUN_RESULT)


def texts(driver, element_id: str) -> list[str]:
    return [
        t for i, t in driver.execute_script("return window.__texts") if i == element_id
    ]


def loaded(driver, name: str) -> str:
    text = pages.wait_text(driver, ids.RUN_RESULT, rf"^Loaded {re.escape(name)}")
    pages.wait_panels(driver)
    return text


def test_a_large_csv_streams_with_its_bytes_shown(page, screenshots, tmp_path):
    # bytes of their own (one more blank line): another test may have loaded
    # Online Retail I on this server, and a file prepared before shows no steps
    path = tmp_path / "online_retail_I_streamed.csv"
    path.write_bytes(_file(SHARED / "online_retail_I.csv").read_bytes() + b"\n")
    pages.wait_panels(page)
    watch(page)
    # a slow link, so that the bar is seen (and photographed) mid-way
    page.execute_cdp_cmd("Network.enable", {})
    page.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": 8 * 2**20,
        },
    )
    try:
        pages.upload(page, path)
        size = f"{path.stat().st_size / 2**20:.1f}"
        pages.wait_text(page, ids.PROGRESS_TEXT, rf"[1-9][\d.]* of {size} MB")
        shot(page, screenshots, "upload_progress_bytes")
    finally:
        page.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 0,
                "downloadThroughput": -1,
                "uploadThroughput": -1,
            },
        )
    loaded(page, path.name)
    shot(page, screenshots, "upload_loaded_online_retail_I")
    # the title follows the dataset store in a callback of its own
    title = pages.wait_text(page, ids.DATASET_TITLE, re.escape(f"Dataset: {path.name}"))
    assert title == f"Dataset: {path.name}"
    sent = [t for t in texts(page, ids.PROGRESS_TEXT) if t.startswith("Uploading")]
    amounts = [float(re.search(r": ([\d.]+) of", t).group(1)) for t in sent]
    assert amounts == sorted(amounts) and amounts[0] < float(size)
    assert all(t.endswith(f" of {size} MB") for t in sent)
    # then the engine's steps, named with the file and its size ("Reading
    # lines", "Cleaning lines", "Choosing k: k = 4 of 10", ...: the page polls
    # the job, so which steps it sees depends on the machine's speed)
    engine = [
        t
        for t in texts(page, ids.PROGRESS_TEXT)
        if not t.startswith("Uploading") and f"({path.name}, {size} MB)" in t
    ]
    assert engine, texts(page, ids.PROGRESS_TEXT)
    assert_console_clean(page)


def test_the_same_file_chosen_twice_runs_twice(page):
    path = EXPORTS / "uci_returns.csv"
    pages.wait_panels(page)
    watch(page)
    pages.upload(page, path)
    loaded(page, path.name)
    pages.wait(page, pages.controls_enabled, message="controls stayed disabled")
    pages.upload(page, path)
    pages.wait(
        page,
        lambda d: (
            len([t for t in texts(d, ids.RUN_RESULT) if t.startswith("Loaded")]) >= 2
        ),
        message="the second choice of the same file did not run",
    )
    uploaded = [t for t in texts(page, ids.PROGRESS_TEXT) if t.startswith("Uploaded")]
    assert len(uploaded) == 2, uploaded
    assert_console_clean(page)


def test_a_reload_keeps_dataset_and_k(page, screenshots):
    path = EXPORTS / "uci_returns.csv"
    pages.wait_panels(page)
    pages.upload(page, path)
    loaded(page, path.name)
    pages.set_k(page, 4)
    pages.wait(page, lambda d: "k=4" in d.current_url, message="k not in the address")
    address = page.current_url
    assert re.search(r"\?view=[0-9a-f]{32}&k=4$", address), address
    page.refresh()
    pages.wait_text(page, ids.DATASET_TITLE, re.escape(path.name))
    pages.wait_panels(page)
    assert pages.k_value(page) == 4
    assert pages.text_of(page, ids.RUN_RESULT).startswith("Reopened from the page")
    assert page.current_url == address
    shot(page, screenshots, "upload_reload_kept")
    assert_console_clean(page)


def _post(url: str, size: int, page: str = PAGE) -> tuple[int, str]:
    def body():
        block = b"x" * 2**20
        left = size
        while left:
            yield block[: min(left, len(block))]
            left -= min(left, len(block))

    request = urllib.request.Request(
        url + "/upload",
        data=body(),
        method="POST",
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            "X-File-Name": "year.csv",
            "X-Page-Token": page,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except (ConnectionError, urllib.error.URLError) as err:
        return -1, str(err)


def test_the_server_front_admits_the_limit_and_refuses_one_byte_more(app_url):
    status, text = _post(app_url, UPLOAD_LIMIT_BYTES)
    assert status == 201, text
    status, text = _post(app_url, UPLOAD_LIMIT_BYTES + 1)
    assert status == 413, text
    assert "upload limit of 200 MB (209,715,200 bytes)" in text
