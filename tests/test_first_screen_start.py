"""The built-in sample is ready when the server first answers.

The server's master process prepares the sample before it listens
(``on_starting`` in ``app/gunicorn_conf.py``), and its web processes, forked
from it, serve the first page with the sample's panels in its layout. Both
ways of starting it (``python -m app`` and the Procfile) are checked on a free
loopback port with an empty data folder.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

import segmentation
from app import create_app, first_screen, ids, storage
from tests.procfile_server import free_port
from tests.procfile_server import procfile_command as procfile
from tests.test_server_front import running

pytestmark = pytest.mark.slow


def _components(node):
    """Every component (type, namespace, props) in a Dash layout's JSON."""
    if isinstance(node, dict):
        if "props" in node and "type" in node:
            yield node
            yield from _components(node["props"].get("children"))
        else:
            for value in node.values():
                yield from _components(value)
    elif isinstance(node, list):
        for item in node:
            yield from _components(item)


def _dataset_in_layout(base: str) -> dict | None:
    with urllib.request.urlopen(base + "/_dash-layout", timeout=30) as answer:
        layout = json.loads(answer.read())
    for component in _components(layout):
        if component["props"].get("id") == ids.DATASET_STORE:
            return component["props"].get("data")
    raise AssertionError("the layout has no dataset store")


@pytest.mark.parametrize("how", ["procfile", "python -m app"])
def test_the_first_page_after_a_start_has_the_sample_drawn(how, tmp_path):
    port = free_port()
    command = procfile(port) if how == "procfile" else [sys.executable, "-m", "app"]
    log = tmp_path / "server.log"
    with running(command, port, tmp_path / "data", log) as (base, _process):
        # at once, as a visitor would: every request may reach either process
        datasets = [_dataset_in_layout(base) for _ in range(6)]
    sample = storage.content_id(segmentation.load_sample())
    assert [d and d["id"] for d in datasets] == [sample] * 6
    text = log.read_text()
    assert "Preparing the built-in sample before listening" in text
    assert text.index("The built-in sample is ready") < text.index("Listening at")


def test_a_web_process_with_the_sample_ready_prepares_nothing(monkeypatch):
    monkeypatch.setattr(first_screen, "_READY", {"dataset": {"id": "x"}})
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    assert first_screen.start() is None
    assert started == []


def test_without_the_sample_a_web_process_prepares_it_in_the_background(monkeypatch):
    monkeypatch.setattr(first_screen, "_READY", {})
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    thread = first_screen.start()
    assert started == [thread] and thread.daemon and thread.name == "first-screen"


def _page_files(tmp_path) -> list[str]:
    """The component-suite files (scripts, styles) the page asks for."""
    app = create_app(tmp_path / "page-data", first_screen=False)
    html = app.server.test_client().get("/").get_data(as_text=True)
    files = re.findall(r'(?:src|href)="(/_dash-component-suites/[^"]+)"', html)
    assert len(files) > 5, html[:500]
    return files


def test_every_web_process_serves_the_page_files_before_any_page(tmp_path):
    # Dash registers the files it may serve while it sets itself up on its
    # first request, and answers the requests that arrive meanwhile with 404:
    # a page right after a start stayed on "Loading..." (its scripts were
    # asked of a process that had answered no page)
    files = _page_files(tmp_path)
    port = free_port()
    log = tmp_path / "server.log"
    with running(procfile(port), port, tmp_path / "data", log) as (base, process):
        children = psutil.Process(process.pid).children()
        workers = [c for c in children if "gunicorn" in " ".join(c.cmdline())]
        assert len(workers) == 2  # the default: WEB_CONCURRENCY unset
        # as a browser does: many files at once, on several connections, to
        # processes that have answered no page yet
        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(lambda path: _status(base + path), files * 3))
    assert statuses == [200] * len(files) * 3


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_new_app_may_serve_its_page_files_before_any_request(tmp_path):
    # registered while the app is made, not during its first request, when
    # requests that arrive meanwhile were answered 404
    app = create_app(tmp_path / "data", first_screen=False)
    assert app._got_first_request["setup_server"] is False  # no request yet
    registered = app.registered_paths
    assert {"dash", "dash_bootstrap_components", "dash_ag_grid", "plotly"} <= set(
        registered
    )
    assert any(path.startswith("deps/react@") for path in registered["dash"])
