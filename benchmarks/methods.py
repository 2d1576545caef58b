"""Fit time and peak memory of each clustering method of the value tiers.

Not a test: run it by hand on a quiet machine and read the table.

    .venv/bin/python benchmarks/methods.py                  # Online Retail I and 10x
    .venv/bin/python benchmarks/methods.py --sizes 1 --repeat 5

For each file (Online Retail I, and SYNTHETIC files of N x its lines made by
``benchmarks/run.py``'s ``make_synthetic``: 10x = 43,340 customers), the customer
features are built once and pickled; then each method runs in a fresh
subprocess that loads them and times ``ValueTiers(k, method=...).fit`` (order
tries and fallbacks included) ``--repeat`` times, and reports the median, the
spread and its own peak resident memory (``VmHWM``, the features included).
Targets (issue 15): each method within 2 s on Online Retail I, within 30 s and
4 GB on the 10x file.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
METHODS = ("kmeans", "gmm", "ward", "hdbscan")


def _peak_mb() -> float:
    """This process's peak resident memory, MB: ``VmHWM`` (reset at exec, unlike
    ``ru_maxrss``, which keeps the forking parent's peak), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(features_pickle: str, method: str, k: int, repeat: int) -> dict:
    """Time ``repeat`` fits of one method; print seconds and peak MB."""
    from segmentation.models import ValueTiers

    with open(features_pickle, "rb") as handle:
        features = pickle.load(handle)
    times, model = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        model = ValueTiers(k, method=method).fit(features)
        times.append(time.perf_counter() - started)
    return {
        "times": times,
        "peak_mb": _peak_mb(),
        "kept": model.method_,
        "tiers": model.n_tiers_,
        "customers": len(features),
    }


def _features(factor: int, tmp: Path) -> Path:
    from benchmarks.run import FILES, make_synthetic
    from segmentation import pipeline
    from segmentation.io import COMMAND_LINE_LIMITS

    path = FILES["csv"]
    if factor > 1:
        path = tmp / f"synthetic_{factor}x.csv"
        make_synthetic(factor, path)
    prepared = pipeline.prepare(path, diagnostics=False, limits=COMMAND_LINE_LIMITS)
    out = tmp / f"features_{factor}x.pkl"
    with open(out, "wb") as handle:
        pickle.dump(prepared.features, handle)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=4, metavar=("PICKLE", "METHOD", "K", "N"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,10", help="1 = Online Retail I")
    parser.add_argument("-k", type=int, default=4)
    args = parser.parse_args()
    if args.worker:
        pkl, method, k, n = args.worker
        print(json.dumps(worker(pkl, method, int(k), int(n))))
        return
    print(f"# value-tier fit per method, k={args.k}, {os.cpu_count()} cores\n")
    print(
        "| file | customers | method | kept | tiers | median s | spread s | peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for factor in (int(x) for x in args.sizes.split(",")):
            pkl = _features(factor, Path(tmp))
            for method in METHODS:
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", str(pkl), method,
                     str(args.k), str(args.repeat)],
                    check=True, capture_output=True, text=True, cwd=ROOT,
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                )  # fmt: skip
                r = json.loads(out.stdout.strip().splitlines()[-1])
                t = r["times"]
                name = "Online Retail I" if factor == 1 else f"SYNTHETIC {factor}x"
                print(
                    f"| {name} | {r['customers']:,} | {method} | {r['kept']} "
                    f"| {r['tiers']} | {statistics.median(t):.2f} "
                    f"| {min(t):.2f}..{max(t):.2f} | {r['peak_mb']:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
