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
  the floor no pipeline can beat; in-process, and as a whole command
  (``reader command``, interpreter start-up and exit included) to compare with
  the whole CLI ``command``.
* ``app``: server-side time from upload bytes to first panels, and from a k change
  to new panels, calling the app's callbacks as functions.
* ``growth``: SYNTHETIC files of 1x, 2x, 5x, 10x Online Retail I's lines, made by
  resampling real customers' whole histories under new customer and invoice ids.
"""

from __future__ import annotations

import argparse
import itertools
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
    import segmentation.pipeline
    from segmentation.io import COMMAND_LINE_LIMITS

    steps["import"] = time.perf_counter() - started
    marks: list[tuple[str, float]] = []
    prepared = segmentation.prepare(
        Path(path),
        limits=COMMAND_LINE_LIMITS,
        progress=lambda step, _: marks.append((step, time.perf_counter())),
    )
    for (step, at), (_, until) in itertools.pairwise(marks):
        steps[step] = until - at
    at = time.perf_counter()
    result = segmentation.segment(prepared, 3, with_stability=True)
    steps["Segmenting (k=3, stability)"] = time.perf_counter() - at
    at = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "c.csv").write_text(segmentation.customers_csv(result.customers))
        report = segmentation.run_report(prepared, result)
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


def _payload_bytes(outputs) -> int:
    """Bytes of a callback's outputs as Dash serialises them for the browser."""
    import plotly.io

    return len(plotly.io.json.to_json_plotly(list(outputs)))


def worker_app(path: str) -> dict:
    """Server time of the app's callbacks: upload -> first panels; k change."""
    import base64

    os.environ["SEGMENTATION_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-app-")
    from app import create_app
    from app.callbacks import panels, selection, upload

    create_app()
    raw = Path(path).read_bytes()
    contents = "data:application/octet-stream;base64," + base64.b64encode(raw).decode()
    steps: dict[str, float] = {}
    started = time.perf_counter()
    dataset, _ = upload.ingest(
        upload.decode_contents(contents, Path(path).name), Path(path).name
    )
    first = [
        *panels.render_panels(dataset, 3, 2, None, "customers"),
        *panels.render_diagnostics(dataset, 3),
        *panels.render_receipt(dataset),
    ]
    steps["upload to first panels"] = time.perf_counter() - started
    steps["first panels payload MB"] = _payload_bytes(first) / 1e6
    at = time.perf_counter()
    panels.segment_every_k(dataset, 2)  # the background job after first panels
    steps["segment every k (background job)"] = time.perf_counter() - at
    k_times, payloads = [], []
    for k in (4, 5, 3, 6):
        # what a k change runs: the panels, the chosen-k Patch on the k curves,
        # the selection summary and table
        at = time.perf_counter()
        outputs = [
            *panels.render_panels(dataset, k, 2, None, "customers"),
            *panels.move_chosen_k(k, dataset),
            *selection.render_selection(dataset, k, 2, None),
        ]
        k_times.append(time.perf_counter() - at)
        payloads.append(_payload_bytes(outputs))
    steps["k change to new panels (median of 4)"] = statistics.median(k_times)
    steps["k change payload MB"] = max(payloads) / 1e6
    return {
        "total": steps["upload to first panels"],
        "steps": steps,
        "peak_mb": _peak_mb(),
    }


def worker_growth(path: str) -> dict:
    """The CLI recipe on a synthetic file (same as worker_cli, kept apart)."""
    return worker_cli(path)


WORKERS = {
    "cli": worker_cli,
    "reference": worker_reference,
    "reader": worker_reader,
    "app": worker_app,
    "growth": worker_growth,
}


# The parent: run workers, summarise. ---------------------------------------------


def _run_worker(kind: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(path)],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if out.returncode != 0:
        raise SystemExit(f"worker {kind} {path} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _timed_child(argv: list[str]) -> dict:
    """Run one command; its wall time and its own peak memory (from ``wait4``)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(child.pid, 0)
        total = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{argv} failed:\n{errors.read().decode()}")
    return {"total": total, "peak_mb": usage.ru_maxrss / 1024, "steps": {}}


def _run_command(path: Path) -> dict:
    """The whole ``python -m segmentation FILE -o ... --report ...`` command."""
    with tempfile.TemporaryDirectory() as tmp:
        return _timed_child(
            [sys.executable, "-m", "segmentation", str(path), "-k", "3",
             "-o", f"{tmp}/c.csv", "--report", f"{tmp}/r.json"]
        )  # fmt: skip


def _run_reader_command(path: Path) -> dict:
    """The bare reader as a whole command, to compare with the CLI command."""
    if path.suffix == ".xlsx":
        code = f"import fastexcel; fastexcel.read_excel({str(path)!r})"
        code += ".load_sheet(0).to_pandas()"
    else:
        code = f"import pandas; pandas.read_csv({str(path)!r}, engine='pyarrow')"
    return _timed_child([sys.executable, "-c", code])


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
    lines = [
        "| measurement | median s | spread s | peak MB | ratio |",
        "|---|---|---|---|---|",
    ]
    for fmt, path in FILES.items():
        results = {}
        for kind in ("reader", "cli", "reference"):
            if kind in kinds:
                results[kind] = _summary(
                    [_run_worker(kind, path) for _ in range(repeat)]
                )
        if "cli" in kinds:
            results["command"] = _summary([_run_command(path) for _ in range(repeat)])
            results["reader command"] = _summary(
                [_run_reader_command(path) for _ in range(repeat)]
            )
        cli, command = results.get("cli"), results.get("command")
        for kind, s in results.items():
            ratio = ""
            if cli is not None and kind == "reference":
                ratio = f"reference / cli = {s['median'] / cli['median']:.1f}x"
            if cli is not None and kind == "reader":
                ratio = f"cli / reader = {cli['median'] / s['median']:.2f}x"
            if command is not None and kind == "reader command":
                ratio = f"command / reader = {command['median'] / s['median']:.2f}x"
            lines.append(_row(f"{fmt}: {kind}", s, ratio))
        if cli is not None:
            for step, seconds in cli["steps"].items():
                lines.append(f"|   {fmt} cli step: {step} | {seconds:.3f} | | | |")
    return lines


def bench_app(repeat: int) -> list[str]:
    """App server time on Online Retail I (xlsx upload, then k changes)."""
    runs = [_run_worker("app", FILES["xlsx"]) for _ in range(repeat)]
    lines = [
        "",
        "| app (server side, online_retail_I.xlsx) | median | min..max |",
        "|---|---|---|",
    ]
    for step in runs[0]["steps"]:
        values = [r["steps"][step] for r in runs]
        lines.append(
            f"| {step} | {statistics.median(values):.3f} "
            f"| {min(values):.3f}..{max(values):.3f} |"
        )
    return lines


def make_synthetic(factor: int, out: Path) -> int:
    """Write a SYNTHETIC CSV of ``factor`` x Online Retail I's lines.

    Real customers' whole histories (all their lines, and the lines without a
    customer, by invoice) are resampled with replacement; each copy gets new
    customer and invoice ids, so the copies are distinct customers.
    """
    import numpy as np
    import pandas as pd

    real = pd.read_csv(FILES["csv"], dtype=str, keep_default_na=False, engine="pyarrow")
    groups = real["CustomerID"].where(
        real["CustomerID"] != "", "inv" + real["InvoiceNo"]
    )
    codes, uniques = pd.factorize(groups)
    rng = np.random.default_rng(factor)
    chunks, order = [], np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    for copy in range(factor):
        picked = rng.choice(len(uniques), size=len(uniques), replace=copy > 0)
        rows = np.concatenate([order[bounds[g] : bounds[g + 1]] for g in picked])
        part = real.iloc[rows]
        tag = f"{copy:02d}"
        has_customer = part["CustomerID"] != ""
        chunks.append(
            part.assign(
                CustomerID=part["CustomerID"].where(
                    ~has_customer, tag + part["CustomerID"]
                ),
                InvoiceNo=part["InvoiceNo"].str.replace(
                    r"^(C?)", rf"\g<1>{tag}", regex=True
                ),
            )
        )
    synthetic = pd.concat(chunks, ignore_index=True)
    synthetic.to_csv(out, index=False)
    return len(synthetic)


def bench_growth(sizes: list[int]) -> list[str]:
    """CLI time and peak memory on SYNTHETIC 1x..10x files (one run each)."""
    lines = [
        "",
        "| SYNTHETIC lines (resampled real histories) | seconds | peak MB "
        "| seconds per million lines |",
        "|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for factor in sizes:
            path = Path(tmp) / f"synthetic_{factor}x.csv"
            n = make_synthetic(factor, path)
            run = _run_worker("growth", path)
            lines.append(
                f"| {factor}x = {n:,} | {run['total']:.1f} | "
                f"{run['peak_mb']:.0f} | {run['total'] / n * 1e6:.2f} |"
            )
            path.unlink()
    return lines


def main() -> None:
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
    if "app" in kinds:
        print("\n".join(bench_app(args.repeat)))
    if "growth" in kinds:
        print("\n".join(bench_growth([int(x) for x in args.sizes.split(",")])))


if __name__ == "__main__":
    main()
