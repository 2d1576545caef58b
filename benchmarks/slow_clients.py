"""Health and page latency while slow clients hold connections open.

Not a test: run it by hand and read the table.

    .venv/bin/python benchmarks/slow_clients.py                  # python -m app
    .venv/bin/python benchmarks/slow_clients.py --server procfile
    .venv/bin/python benchmarks/slow_clients.py --url http://127.0.0.1:8050
    .venv/bin/python benchmarks/slow_clients.py --clients 8 --seconds 20 --mode body

It starts the server on a free loopback port (``python -m app``, or the
Procfile's command with ``--server procfile``) with an empty temporary data
folder, unless ``--url`` names one already running. Then ``--clients`` sockets
each send a request one byte per second (``--mode headers``: the request
headers never end; ``--mode body``: complete headers and a 1 MB body that never
ends), while one client asks ``GET /api/health`` (answered in the event loop)
and ``GET /_dash-layout`` (answered by the app's threads) one after the other,
each on a new connection, for ``--seconds`` seconds. The table gives p50, p95
and the maximum of each, in milliseconds, and how many of the slow connections
were still open at the end (an answer before the end means the server dropped
the client). A request with no answer within 30 s counts as 30 s.

The same measurement with the former server (gthread, 4 threads) gave health
answers of 19-29 s with 4 slow clients: each held a thread.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(kind: str, port: int) -> list[str]:
    if kind == "main":
        return [sys.executable, "-m", "app"]
    line = (ROOT / "Procfile").read_text().strip().split(":", 1)[1]
    words = shlex.split(
        line.replace("$PORT", str(port)).replace("0.0.0.0:", "127.0.0.1:")
    )
    return [str(Path(sys.executable).parent / words[0]), *words[1:]]


@contextlib.contextmanager
def started(kind: str):
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "PORT": str(port), "SEGMENTATION_DATA_DIR": data}
        log = open(Path(data) / "server.log", "wb")
        process = subprocess.Popen(
            server_command(kind, port),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                try:
                    get(base + "/api/health", timeout=5)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.close()
                        sys.exit((Path(data) / "server.log").read_text()[-3000:])
                    time.sleep(0.5)
            yield base
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
            log.close()


def get(url: str, timeout: float = 30) -> float:
    """GET ``url`` on a new connection; return the seconds to the whole answer.

    A request with no answer within ``timeout`` counts as ``timeout`` seconds.
    """
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
    except TimeoutError:
        return timeout
    return time.perf_counter() - start


def slow_client(host: str, port: int, mode: str, stop: threading.Event, open_at_end):
    """Send a request one byte per second until ``stop``; note if still open."""
    if mode == "headers":
        head = f"GET / HTTP/1.1\r\nHost: {host}\r\nX-Slow: "
        trickle = b"a"
    else:
        head = (
            "POST /_dash-update-component HTTP/1.1\r\n"
            f"Host: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {2**20}\r\n\r\n"
        )
        trickle = b" "
    sock = socket.create_connection((host, port), timeout=5)
    try:
        sock.sendall(head.encode())
        while not stop.wait(1.0):
            sock.sendall(trickle)
        sock.setblocking(False)
        try:
            answered = sock.recv(1)
        except BlockingIOError:
            answered = None  # nothing came back: still waiting, as it should
        open_at_end.append(answered is None)
    except OSError:
        open_at_end.append(False)
    finally:
        sock.close()


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return max(values)
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure(base: str, clients: int, seconds: float, mode: str) -> None:
    host, port = base.removeprefix("http://").split(":")
    stop = threading.Event()
    open_at_end: list[bool] = []
    threads = [
        threading.Thread(
            target=slow_client, args=(host, int(port), mode, stop, open_at_end)
        )
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(2)  # let them connect and start trickling
    timings: dict[str, list[float]] = {"/api/health": [], "/_dash-layout": []}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for path, values in timings.items():
            values.append(get(base + path))
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join()
    print(
        f"{clients} slow clients ({mode}, 1 byte/s) for {seconds:.0f} s; "
        f"still open at the end: {sum(open_at_end)}/{clients}"
    )
    print(f"{'request':<16}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for path, values in timings.items():
        ms = [v * 1000 for v in values]
        print(
            f"{path:<16}{len(ms):>6}{statistics.median(ms):>10.1f}"
            f"{percentile(ms, 95):>10.1f}{max(ms):>10.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("main", "procfile"), default="main")
    parser.add_argument("--url", help="a server already running (not started here)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--mode", choices=("headers", "body"), default="headers")
    args = parser.parse_args()
    if args.url:
        measure(args.url.rstrip("/"), args.clients, args.seconds, args.mode)
        return
    with started(args.server) as base:
        get(base + "/")  # the first page request builds the page's policy
        measure(base, args.clients, args.seconds, args.mode)


if __name__ == "__main__":
    main()
