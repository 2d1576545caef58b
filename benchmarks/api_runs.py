"""A run through the API against the command line, on one real file.

Not a test: run it by hand on loopback and read the medians.

    .venv/bin/python benchmarks/api_runs.py                       # 3 of each
    .venv/bin/python benchmarks/api_runs.py --runs 5 --file FILE -k 4
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python benchmarks/api_runs.py

It starts ``python -m app`` on a free loopback port with a fresh
``SEGMENTATION_DATA_DIR`` (and, with ``REDIS_URL`` set, the Procfile's worker
line beside it), then for each run: ``POST /api/runs`` and polls the status URL
every 0.2 s until ``done``, timing from the POST to the first ``done`` answer
(the worker's time plus up to one poll). The command line is timed as a whole
command (``python -m segmentation FILE -k K --save -q``: interpreter start,
imports, read, segment, save). Both print the median and the spread.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dash_pages import wait_until_up  # noqa: E402
from tests.procfile_server import free_port, procfile_line  # noqa: E402

DEFAULT_FILE = ROOT.parent / "shared" / "data" / "online_retail_II_sample.xlsx"


def _post(base: str, path: Path, k: int) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="k"\r\n\r\n{k}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{path.name}"\r\n\r\n'
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        base + "/api/runs",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def api_run(base: str, path: Path, k: int) -> float:
    """Return the seconds from the POST to the first ``done`` answer."""
    start = time.perf_counter()
    started = _post(base, path, k)
    while True:
        with urllib.request.urlopen(base + started["status_url"], timeout=30) as r:
            answer = json.loads(r.read())
        if answer["status"] == "done":
            return time.perf_counter() - start
        if answer["status"] == "failed":
            raise SystemExit(f"the run failed: {answer['message']}")
        time.sleep(0.2)


def cli_run(path: Path, k: int, data_dir: str) -> float:
    """Return the seconds of the whole command line run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SEGMENTATION_DATA_DIR": data_dir}
    command = [sys.executable, "-m", "segmentation", str(path), "-k", str(k)]
    start = time.perf_counter()
    subprocess.run(
        [*command, "--save", "-q"],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def _line(name: str, seconds: list[float]) -> str:
    return (
        f"{name:<34} median {statistics.median(seconds):6.2f} s  "
        f"(min {min(seconds):.2f}, max {max(seconds):.2f}, n={len(seconds)})"
    )


def main() -> None:
    """Time the runs; print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("-k", type=int, default=4)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="api-runs-bench-")
    env = {**os.environ, "SEGMENTATION_DATA_DIR": data_dir, "PYTHONPATH": str(ROOT)}
    port = free_port()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "app"],
            env={**env, "PORT": str(port)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    ]
    if os.environ.get("REDIS_URL"):
        words = shlex.split(procfile_line("worker"))
        celery = str(Path(sys.executable).parent / "celery")
        processes.append(
            subprocess.Popen(
                [celery, *words[1:]],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, 120)
        api_run(base, args.file, args.k)  # warm: the pool's first process starts
        where = "Celery worker" if os.environ.get("REDIS_URL") else "local pool"
        api = [api_run(base, args.file, args.k) for _ in range(args.runs)]
        cli = [cli_run(args.file, args.k, data_dir) for _ in range(args.runs)]
        print(f"{args.file.name}, k={args.k}")
        print(_line(f"POST /api/runs to done ({where})", api))
        print(_line("python -m segmentation --save", cli))
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
