"""The real server (Procfile, ``python -m app``) under slow and large requests.

Each server runs on a free loopback port with an empty temporary data folder.
Slow clients send one byte a second; the health check must still answer within
2 s (a bound far above its few milliseconds: it fails only when a slow client
holds what the health check needs, as the former server's threads were, where
it took 19-29 s). Large bodies must be refused with 413 before they are read.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from app.guards import REQUEST_BODY_BYTES, UPLOAD_LIMIT_BYTES
from tests.procfile_server import ROOT, _stop, _wait_until_up, free_port
from tests.procfile_server import procfile_command as procfile

pytestmark = pytest.mark.slow

HEALTH_BOUND_SECONDS = 2.0
SLOW_CLIENTS = 8
TRICKLE_SECONDS = 10
MB = 2**20


@contextlib.contextmanager
def running(command, port: int, data_dir: Path, log_path: Path):
    """Run ``command`` with ``PORT`` and the data folder; yield (base URL, process)."""
    env = {**os.environ, "PORT": str(port), "SEGMENTATION_DATA_DIR": str(data_dir)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base, process, log_path)
            yield base, process
        finally:
            _stop(process)


@pytest.fixture(scope="module")
def procfile_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("procfile-data")
    log_path = tmp_path_factory.mktemp("procfile-log") / "server.log"
    port = free_port()
    with running(procfile(port), port, data_dir, log_path) as (base, process):
        yield base, process, data_dir


@pytest.fixture(scope="module")
def main_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("main-data")
    log_path = tmp_path_factory.mktemp("main-log") / "server.log"
    port = free_port()
    command = [sys.executable, "-m", "app"]
    with running(command, port, data_dir, log_path) as (base, process):
        yield base, process, data_dir


def workers_of(process: subprocess.Popen) -> list[psutil.Process]:
    """The gunicorn workers: the master's children (``WEB_CONCURRENCY`` of them)."""
    workers = psutil.Process(process.pid).children()
    assert workers, "the server has no worker"
    return workers


def rss_of(workers: list[psutil.Process]) -> int:
    """Resident memory of the workers together, in bytes."""
    return sum(worker.memory_info().rss for worker in workers)


def fetch(url: str, timeout: float = 30, **kwargs) -> tuple[int, dict, bytes]:
    """Send a request; return status, headers (lower-case names) and body."""
    request = urllib.request.Request(url, **kwargs)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    return status, {k.lower(): v for k, v in headers.items()}, body


def raw_request(base: str, head: bytes, body_parts=()) -> bytes:
    """Send ``head`` and ``body_parts`` on one socket; return what comes back."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def files_in(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in folder.rglob("*")
        if p.is_file()
    }


class SlowClients:
    """Sockets that each send a request one byte per second."""

    def __init__(self, base: str, count: int, head: bytes, trickle: bytes):
        host, port = base.removeprefix("http://").split(":")
        self.sockets = [
            socket.create_connection((host, int(port)), timeout=5) for _ in range(count)
        ]
        for sock in self.sockets:
            sock.sendall(head)
        self.trickle = trickle
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.sent = 0

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            for sock in self.sockets:
                sock.sendall(self.trickle)
            self.sent += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        for sock in self.sockets:
            sock.close()

    def still_waiting(self) -> int:
        """How many sockets are open with no answer (nothing to read yet)."""
        waiting = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                got = sock.recv(1)
            except BlockingIOError:
                waiting += 1
            else:
                assert got, "the server closed a slow client's connection"
            finally:
                sock.setblocking(True)
        return waiting


def poll_health_while(base: str, clients: SlowClients) -> list[float]:
    """Ask /api/health until the clients have trickled TRICKLE_SECONDS bytes."""
    seconds = []
    while clients.sent < TRICKLE_SECONDS:
        start = time.perf_counter()
        try:
            status, _, body = fetch(base + "/api/health", timeout=HEALTH_BOUND_SECONDS)
        except TimeoutError:
            pytest.fail(
                f"/api/health gave no answer within {HEALTH_BOUND_SECONDS} s "
                f"after {len(seconds)} answers (seconds: {seconds}), with "
                f"{len(clients.sockets)} slow clients at byte {clients.sent}"
            )
        seconds.append(round(time.perf_counter() - start, 3))
        assert status == 200 and json.loads(body)["status"] == "ok"
        time.sleep(0.2)
    print(f"health seconds under slow clients: {seconds}")
    return seconds


HEADERS_HEAD = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: "


@pytest.mark.parametrize("server", ["procfile_server", "main_server"])
def test_health_answers_while_slow_clients_trickle_headers(server, request):
    base, _, _ = request.getfixturevalue(server)
    with SlowClients(base, SLOW_CLIENTS, HEADERS_HEAD, b"a") as clients:
        seconds = poll_health_while(base, clients)
        # The slow clients were still connected and unanswered throughout.
        assert clients.still_waiting() == SLOW_CLIENTS
        # The app's own threads were free too: the page's layout is served.
        status, _, _ = fetch(base + "/_dash-layout", timeout=30)
        assert status == 200
    assert len(seconds) >= TRICKLE_SECONDS  # polled all along (each under 2 s)


def test_health_answers_while_slow_clients_trickle_bodies(procfile_server):
    base, _, _ = procfile_server
    head = (
        b"POST /_dash-update-component HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n"
    )
    with SlowClients(base, SLOW_CLIENTS, head, b" ") as clients:
        poll_health_while(base, clients)
        assert clients.still_waiting() == SLOW_CLIENTS
        # Their bodies are being read in the event loop, not in the app's
        # threads: the app answers other requests meanwhile.
        status, _, _ = fetch(base + "/_dash-layout", timeout=30)
        assert status == 200


def test_the_app_answers_while_clients_leave_their_answers_unread(procfile_server):
    base, _, _ = procfile_server
    _, _, html = fetch(base + "/")
    plotly = re.search(r'src="(/_dash-component-suites/[^"]+)"', html.decode())
    assert plotly, "no script on the page"
    host, port = base.removeprefix("http://").split(":")
    readers = []
    try:
        for _ in range(SLOW_CLIENTS):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect((host, int(port)))
            # The largest files the page loads, asked for and never read.
            for _ in range(3):
                sock.sendall(
                    b"GET /_dash-component-suites/plotly/package_data/plotly.min.js"
                    b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
                )
            readers.append(sock)
        time.sleep(2)
        # The app's threads are free: another page's requests are answered.
        for path in ("/_dash-layout", "/_dash-dependencies", plotly.group(1)):
            assert fetch(base + path, timeout=30)[0] == 200, path
        status, _, _ = fetch(base + "/api/health", timeout=HEALTH_BOUND_SECONDS)
        assert status == 200
    finally:
        for sock in readers:
            sock.close()


def post_head(path: str, length: int | None, content_type: str) -> bytes:
    framing = (
        f"Content-Length: {length}"
        if length is not None
        else "Transfer-Encoding: chunked"
    )
    return (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Type: {content_type}\r\n{framing}\r\n\r\n"
    ).encode()


def upload_head(length: int | None) -> bytes:
    return post_head("/upload", length, "application/octet-stream")


def callback_head(length: int | None) -> bytes:
    return post_head("/_dash-update-component", length, "application/json")


def status_and_json(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def chunked(megabytes: int) -> list[bytes]:
    block = b" " * MB
    return [b"%x\r\n" % len(block) + block + b"\r\n"] * megabytes + [b"0\r\n\r\n"]


def test_a_300_mb_upload_is_refused_before_it_is_read(procfile_server):
    base, process, data_dir = procfile_server
    workers = workers_of(process)
    before_files = files_in(data_dir)
    before_rss = rss_of(workers)
    declared = 300 * 10**6
    answer = raw_request(base, upload_head(declared), [b"Invoice,Customer\r\n"])
    status, body = status_and_json(answer)
    assert status == 413
    assert body["error"] == (
        "The file is larger than the upload limit of 200 MB (209,715,200 bytes); "
        "nothing was uploaded."
    )
    assert UPLOAD_LIMIT_BYTES == 209_715_200
    # The whole 300 MB sent: answered 413 too (read and dropped, not kept).
    answer = raw_request(base, upload_head(declared), [b" " * MB] * (declared // MB))
    assert status_and_json(answer)[0] == 413
    grown = rss_of(workers) - before_rss
    assert grown < 200 * MB, f"the workers grew by {grown / MB:.0f} MB"
    assert files_in(data_dir) == before_files  # nothing stored
    assert fetch(base + "/api/health")[0] == 200


def test_a_callback_body_over_16_mib_is_refused(procfile_server):
    base, _, _ = procfile_server
    answer = raw_request(base, callback_head(REQUEST_BODY_BYTES + 1), [b"{}"])
    status, body = status_and_json(answer)
    assert status == 413
    assert body == {"error": "The request body is over the limit of 16,777,216 bytes."}
    status, body = status_and_json(raw_request(base, callback_head(None), chunked(20)))
    assert status == 413
    assert body == {"error": "The request body is over the limit of 16,777,216 bytes."}


def test_a_chunked_upload_is_refused_once_past_the_limit(procfile_server):
    base, process, data_dir = procfile_server
    workers = workers_of(process)
    before_files = files_in(data_dir)
    before_rss = rss_of(workers)
    status, body = status_and_json(raw_request(base, upload_head(None), chunked(300)))
    assert status == 413
    assert "larger than the upload limit of 200 MB" in body["error"]
    grown = rss_of(workers) - before_rss
    assert grown < 200 * MB, f"the workers grew by {grown / MB:.0f} MB"
    assert files_in(data_dir) == before_files


def test_a_large_body_waits_on_disk_not_in_memory(procfile_server):
    base, process, _ = procfile_server
    workers = workers_of(process)
    before_rss = rss_of(workers)
    answer = raw_request(base, upload_head(150 * MB), [b" " * MB] * 150)
    # The whole body reached the upload route, which refuses it for its own
    # reason (no page token): not 413, not a server error.
    status, body = status_and_json(answer)
    assert status == 400, body
    grown = rss_of(workers) - before_rss
    assert grown < 64 * MB, f"the workers grew by {grown / MB:.0f} MB"


def test_a_chunked_body_under_the_limit_reaches_the_app(procfile_server):
    base, _, _ = procfile_server
    customer = {"recency_days": 5, "frequency": 2, "monetary": 80.5}
    payload = json.dumps({**customer, "run_id": "run-from-the-last-chunk"}).encode()
    head = (
        b"POST /api/segment HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    parts = [b"%x\r\n%s\r\n" % (len(p), p) for p in (payload[:9], payload[9:])]
    status, body = status_and_json(raw_request(base, head, [*parts, b"0\r\n\r\n"]))
    # The app read the whole JSON: it names the run id sent in the last chunk.
    assert status == 404
    assert "'run-from-the-last-chunk'" in body["error"]


def test_answers_carry_the_security_headers(procfile_server):
    base, _, _ = procfile_server
    for path in ("/", "/api/health", "/api/runs", "/api/nope", "/_dash-layout"):
        _, headers, _ = fetch(base + path)
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        assert "frame-ancestors 'self'" in headers["content-security-policy"], path
        assert headers["server"] == "segmentation-studio", path
    _, headers, _ = fetch(base + "/")
    policy = headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


def test_the_page_shows_no_versions(procfile_server):
    import dash
    import dash_bootstrap_components
    import plotly

    base, _, _ = procfile_server
    _, _, html = fetch(base + "/")
    page = html.decode()
    for version in (
        dash.__version__,
        plotly.__version__,
        dash_bootstrap_components.__version__,
        sys.version.split()[0],
    ):
        assert version not in page
        assert version.replace(".", "_") not in page
    assert '"dash_version":null' in page and '"python_version":null' in page
    # The scripts still load under their new names.
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert len(scripts) >= 5
    for src in scripts:
        assert fetch(base + src)[0] == 200, src


def test_unknown_paths_get_404(procfile_server):
    base, _, _ = procfile_server
    status, headers, body = fetch(base + "/api/no-such-route")
    assert (status, headers["content-type"]) == (404, "application/json")
    assert json.loads(body) == {"error": "no API route at /api/no-such-route"}
    status, _, body = fetch(base + "/api/segment")  # GET of a POST route
    assert status == 405
    assert json.loads(body)["error"] == "GET is not allowed at /api/segment: use POST"
    for path in (
        "/_dash-component-suites/dash/no-such-file.js",
        "/_dash-component-suites/no_such_package/x.js",
        "/_dash-component-suites/dash/deps/react@18.v1m1.9.9.min.js",
    ):
        assert fetch(base + path)[0] == 404, path


@pytest.mark.parametrize("server", ["procfile_server", "main_server"])
def test_the_server_runs_with_a_private_umask(server, request):
    base, process, data_dir = request.getfixturevalue(server)
    for pid in (process.pid, *(w.pid for w in workers_of(process))):
        status = Path(f"/proc/{pid}/status").read_text()
        assert re.search(r"^Umask:\s+0077$", status, re.M), status
    fetch(base + "/")
    written = [p for p in data_dir.rglob("*") if p.is_file()]
    assert written  # the store and the job cache are created at start
    loose = [str(p) for p in written if p.stat().st_mode & 0o077]
    assert loose == []


def test_python_m_app_listens_on_loopback_only(main_server):
    base, process, _ = main_server
    port = int(base.rsplit(":", 1)[1])
    listening = {
        c.laddr
        for c in psutil.Process(process.pid).net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN
    }
    assert listening == {("127.0.0.1", port)}
    status, headers, body = fetch(base + "/api/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert headers["server"] == "segmentation-studio"
