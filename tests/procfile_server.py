"""Serve the app the way the Procfile does, for the server and browser tests."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: gunicorn imports pandas and scikit-learn: give a busy 2-core machine time.
STARTUP_SECONDS = 90


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_line(kind: str) -> str:
    """Return the command of the Procfile's ``kind:`` line (``web``, ``worker``)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == kind:
            return command.strip()
    raise AssertionError(f"the Procfile has no {kind}: line")


def procfile_command(port: int) -> list[str]:
    """Return the Procfile's web command for ``port``, bound to 127.0.0.1."""
    command = procfile_line("web")
    words = shlex.split(command.replace("$PORT", str(port)))
    assert words[0] == "gunicorn"
    words = [w.replace("0.0.0.0:", "127.0.0.1:") for w in words]
    assert f"127.0.0.1:{port}" in words, words
    return [str(Path(sys.executable).parent / "gunicorn"), *words[1:]]


def get(url: str) -> tuple[int, str]:
    """GET ``url``; return the status and the body text."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def post(url: str, payload: dict) -> tuple[int, dict]:
    """POST JSON to ``url``; return the status and the JSON body."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())


@contextlib.contextmanager
def serve(data_dir: Path, log_path: Path) -> Iterator[str]:
    """Run the Procfile's gunicorn on a free port; yield its base URL.

    The server's output goes to ``log_path`` (shown if it fails to start); its
    whole process group (gunicorn and its background-job processes) is stopped
    on exit.
    """
    port = free_port()
    env = {**os.environ, "PORT": str(port), "SEGMENTATION_DATA_DIR": str(data_dir)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            procfile_command(port),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base, process, log_path)
            yield base
        finally:
            _stop(process)


def _wait_until_up(base: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            get(base + "/")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "gunicorn did not start:\n"
                    + log_path.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.5)


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
