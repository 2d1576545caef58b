"""Speed and memory of the whole product, against a plain notebook pipeline.

Not a test: run it by hand on a quiet machine and read the table.

    .venv/bin/python benchmarks/run.py                 # everything, 3 repeats
    .venv/bin/python benchmarks/run.py --repeat 5 --only cli,reference,reader
    .venv/bin/python benchmarks/run.py --only growth --sizes 1,2,5,10

Every measurement runs in a fresh subprocess (``--worker ...``) that reports its
own wall time, per-step times and peak resident memory (``ru_maxrss``), so runs
do not share caches or warm imports. The table gives the median and the spread
(min..max) of the repeats, and ratios measured in the same run.

Measurements:

* ``cli``: the command line's work (read, clean, features, k sweep 2..10,
  segmentation k=3 with stability, CSV and report written), in-process steps;
  plus the whole ``python -m segmentation`` command as a user runs it.
* ``reference``: the pipeline a notebook would run: ``pandas.read_excel`` with
  openpyxl (or ``read_csv``), drop missing customers and cancellations, RFM
  groupby, log + StandardScaler, KMeans k=2..10 with silhouette, final KMeans.
* ``reader``: the bare file reader the project uses (fastexcel / pyarrow CSV):
  the floor no pipeline can beat.
* ``app``: server-side time from upload bytes to first panels, and from a k change
  to new panels, calling the app's callbacks as functions.
* ``growth``: SYNTHETIC files of 1x, 2x, 5x, 10x Online Retail I's lines, made by
  resampling real customers' whole histories under new customer and invoice ids.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
FILES = {"xlsx": DATA / "online_retail_I.xlsx", "csv": DATA / "online_retail_I.csv"}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Workers: each runs once in its own process and prints one JSON line. ------------


def worker_cli(path: str) -> dict:
    """Run the CLI's recipe in-process, timing each step."""
    steps: dict[str, float] = {}
    started = time.perf_counter()
    from segmentation import pipeline

    steps["import"] = time.perf_counter() - started
    marks: list[tuple[str, float]] = []
    prepared = pipeline.prepare(
        Path(path), progress=lambda step, _: marks.append((step, time.perf_counter()))
    )
    for (step, at), (_, until) in zip(marks, marks[1:], strict=False):
        steps[step] = until - at
    at = time.perf_counter()
    result = pipeline.segment(prepared, 3, with_stability=True)
    steps["Segmenting (k=3, stability)"] = time.perf_counter() - at
    at = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "c.csv").write_text(pipeline.customers_csv(result.customers))
        report = pipeline.run_report(prepared, result)
        Path(tmp, "r.json").write_text(json.dumps(report, default=str))
    steps["Writing CSV and report"] = time.perf_counter() - at
    return {
        "total": time.perf_counter() - started,
        "steps": steps,
        "peak_mb": _peak_mb(),
        "customers": len(result.customers),
    }


def worker_reference(path: str) -> dict:
    """The notebook pipeline: openpyxl / read_csv, groupby RFM, KMeans sweep."""
    started = time.perf_counter()
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    if path.endswith(".xlsx"):
        df = pd.read_excel(path, engine="openpyxl")
    else:
        df = pd.read_csv(path)
    df = df.dropna(subset=["CustomerID"])
    df = df[~df["InvoiceNo"].astype(str).str.startswith("C")]
    df = df[(df["Quantity"] > 0) & (df["UnitPrice"] > 0)]
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"])
    df["Total"] = df["Quantity"] * df["UnitPrice"]
    snapshot = df["InvoiceDate"].max() + pd.Timedelta(days=1)
    rfm = df.groupby("CustomerID").agg(
        recency=("InvoiceDate", lambda d: (snapshot - d.max()).days),
        frequency=("InvoiceNo", "nunique"),
        monetary=("Total", "sum"),
    )
    x = StandardScaler().fit_transform(np.log1p(rfm))
    scores = {}
    for k in range(2, 11):
        labels = KMeans(n_clusters=k, random_state=0, n_init=10).fit_predict(x)
        scores[k] = silhouette_score(x, labels)
    KMeans(n_clusters=3, random_state=0, n_init=10).fit(x)
    return {"total": time.perf_counter() - started, "peak_mb": _peak_mb(), "steps": {}}


def worker_reader(path: str) -> dict:
    """The bare reader the project uses: the floor."""
    started = time.perf_counter()
    if path.endswith(".xlsx"):
        import fastexcel

        fastexcel.read_excel(path).load_sheet(0).to_pandas()
    else:
        import pandas as pd

        pd.read_csv(path, engine="pyarrow")
    return {"total": time.perf_counter() - started, "peak_mb": _peak_mb(), "steps": {}}


WORKERS = {"cli": worker_cli, "reference": worker_reference, "reader": worker_reader}


# The parent: run workers, summarise. ---------------------------------------------


def _run_worker(kind: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_command(path: Path) -> dict:
    """The whole ``python -m segmentation FILE -o ... --report ...`` command."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "segmentation", str(path), "-k", "3",
             "-o", f"{tmp}/c.csv", "--report", f"{tmp}/r.json"],
            check=True, capture_output=True, cwd=ROOT,
        )  # fmt: skip
        total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"total": total, "peak_mb": peak, "steps": {}}


def _summary(runs: list[dict]) -> dict:
    totals = [r["total"] for r in runs]
    steps = {}
    for name in runs[0]["steps"]:
        steps[name] = statistics.median(r["steps"][name] for r in runs)
    return {
        "median": statistics.median(totals),
        "min": min(totals),
        "max": max(totals),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "steps": steps,
    }


def _row(label: str, s: dict, ratio: str = "") -> str:
    return (
        f"| {label} | {s['median']:.2f} | {s['min']:.2f}..{s['max']:.2f} "
        f"| {s['peak_mb']:.0f} | {ratio} |"
    )


def bench_files(repeat: int, kinds: set[str]) -> list[str]:
    """CLI, reference and reader on both Online Retail I files."""
    lines = ["| measurement | median s | spread s | peak MB | ratio |", "|---|---|---|---|---|"]
    for fmt, path in FILES.items():
        results = {}
        for kind in ("reader", "cli", "reference"):
            if kind in kinds:
                results[kind] = _summary([_run_worker(kind, path) for _ in range(repeat)])
        if "cli" in kinds:
            results["command"] = _summary([_run_command(path) for _ in range(repeat)])
        cli = results.get("cli")
        for kind, s in results.items():
            ratio = ""
            if cli is not None and kind == "reference":
                ratio = f"reference / cli = {s['median'] / cli['median']:.1f}x"
            if cli is not None and kind == "reader":
                ratio = f"cli / reader = {cli['median'] / s['median']:.2f}x"
            lines.append(_row(f"{fmt}: {kind}", s, ratio))
        if cli is not None:
            for step, seconds in cli["steps"].items():
                lines.append(f"|   {fmt} cli step: {step} | {seconds:.3f} | | | |")
    return lines


def main() -> None:  # noqa: D103
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "PATH"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="reader,cli,reference,app,growth")
    parser.add_argument("--sizes", default="1,2,5,10")
    args = parser.parse_args()
    if args.worker:
        kind, path = args.worker
        print(json.dumps(WORKERS[kind](path)))
        return
    kinds = set(args.only.split(","))
    print(f"# benchmark on {os.cpu_count()} cores, {args.repeat} repeats each\n")
    if kinds & {"reader", "cli", "reference"}:
        print("\n".join(bench_files(args.repeat, kinds)))


if __name__ == "__main__":
    main()
