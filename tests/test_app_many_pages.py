"""Every job's result reaches the page that started it (DESIGN section 9).

A real server (``python -m app``, loopback, its own data folder) and pages
driven over HTTP as Dash's renderer drives them (:mod:`tests.dash_pages`). Ten
pages send the same file at once: Dash keys a job's result by the callback's
inputs, so before each page had its own token, the first page to poll took the
result and the others were told nothing (6 of 10 lost in the load test).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dash_pages import Page, upload_body, wait_until_up
from tests.procfile_server import ROOT, free_port

SHARED = ROOT.parent / "shared" / "data"
PAGES = 10


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("many-pages-data")


@pytest.fixture(scope="module")
def server(tmp_path_factory, data_dir):
    """``python -m app`` on a free port with a fresh data folder; its base URL."""
    port = free_port()
    data = data_dir
    log = tmp_path_factory.mktemp("many-pages-log") / "server.log"
    env = {**os.environ, "PORT": str(port), "SEGMENTATION_DATA_DIR": str(data)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def small_workbook() -> Path:
    path = SHARED / "online_retail_II_head.xlsx"
    if not path.exists():
        pytest.skip(f"{path} is not available on this machine")
    return path


def _upload(base: str, path: Path) -> dict | None:
    page = Page(base)
    return page.run(upload_body(page, path))


def test_ten_pages_sending_the_same_file_each_get_the_result(server, small_workbook):
    sha = hashlib.sha256(small_workbook.read_bytes()).hexdigest()
    with concurrent.futures.ThreadPoolExecutor(PAGES) as pool:
        results = list(
            pool.map(lambda _: _upload(server, small_workbook), range(PAGES))
        )
    lost = [i for i, r in enumerate(results) if r is None]
    assert lost == [], f"pages {lost} of {PAGES} got no result"
    for result in results:
        dataset = result["dataset-store"]["data"]
        assert dataset["id"] == sha
        assert dataset["filename"] == small_workbook.name
        status = result["run-result"]["children"]
        assert status.startswith(f"Loaded {small_workbook.name}: ")


def test_after_the_jobs_the_data_folder_is_private(server, data_dir, small_workbook):
    assert _upload(server, small_workbook) is not None
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.parent.name == "jobs" for p in files)  # the job cache, secret
    assert any(p.parent.name == "store" for p in files)
    loose = {str(p): oct(p.stat().st_mode & 0o777) for p in files}
    assert {p: m for p, m in loose.items() if int(m, 8) & 0o077} == {}
    assert data_dir.stat().st_mode & 0o777 == 0o700


def test_each_page_has_its_own_token(server):
    first, second = Page(server), Page(server)
    token = "page-token"
    assert first.props[token]["data"] != second.props[token]["data"]
    assert len(first.props[token]["data"]) == 32
