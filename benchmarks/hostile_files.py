"""Time and memory to refuse each hostile file of issue 13 (done when: < 15 s, < 1 GB).

Not a test: run it by hand and read the table.

    .venv/bin/python benchmarks/hostile_files.py               # 3 repeats
    .venv/bin/python benchmarks/hostile_files.py --repeat 5

For each file of ``tests/hostile_files.py`` (built once in a temporary folder):

* ``command``: ``python -m segmentation FILE --quiet`` as a user runs it: wall
  time, the exit code, the ``error:`` line, and the peak resident memory of the
  command and any child it started (``ru_maxrss`` of the waited-for children,
  measured in a fresh process per run so runs do not share it);
* ``engine``: ``segmentation.io.load_transactions(path)`` in a fresh process:
  wall time and peak resident memory (itself and its children: the workbook
  parse runs in a child process).

Then the cost of the checks on a real workbook, Online Retail I's
(190 MB of sheet XML): the streaming worksheet scan alone, and a whole
``load_transactions`` of it, each the median of the repeats.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import hostile_files  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "online_retail_I.xlsx"

_MEASURE = """
import json, resource, subprocess, sys, time
mode, path = sys.argv[1], sys.argv[2]
started = time.perf_counter()
if mode == "command":
    done = subprocess.run([sys.executable, "-m", "segmentation", path, "--quiet"],
                          capture_output=True, text=True)
    code, message = done.returncode, done.stderr.strip()
elif mode == "engine":
    from segmentation.io import load_transactions
    try:
        load_transactions(path)
        code, message = 0, "read"
    except Exception as exc:
        code, message = 2, f"{type(exc).__name__}: {exc}"
else:  # scan
    import zipfile
    from segmentation.io import DEFAULT_LIMITS
    from segmentation.io._sheet_scan import scan_worksheets
    cpu = time.process_time()
    with zipfile.ZipFile(path) as zf:
        sizes = scan_worksheets(zf, path, DEFAULT_LIMITS)
    code, message = 0, f"{sizes[0]} cpu {time.process_time() - cpu:.2f} s"
wall = time.perf_counter() - started
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "own_mb": own / 1024, "child_mb": kids / 1024,
                  "code": code, "message": message}))
"""


def _once(mode: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, mode, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(label: str, mode: str, path: Path, repeat: int) -> None:
    runs = [_once(mode, path) for _ in range(repeat)]
    walls = [r["wall"] for r in runs]
    peak = max(max(r["own_mb"], r["child_mb"]) for r in runs)
    last = runs[-1]
    print(
        f"| {label} | {mode} | {statistics.median(walls):.2f} "
        f"({min(walls):.2f}..{max(walls):.2f}) | {peak:,.0f} | {last['code']} | "
        f"{last['message'][:150]} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(
            "| file | how | wall s, median (min..max) | peak RSS MB | exit | message |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for label, builder in hostile_files.BUILDERS.items():
            started = time.perf_counter()
            path = builder(Path(folder))
            built = time.perf_counter() - started
            print(f"| {label}: {path.stat().st_size:,} bytes, built in {built:.1f} s |")
            for mode in ("command", "engine"):
                _row(label, mode, path, args.repeat)
    if REAL.exists():
        _row("Online Retail I, worksheet scan only", "scan", REAL, args.repeat)
        _row("Online Retail I, load_transactions", "engine", REAL, args.repeat)


if __name__ == "__main__":
    main()
