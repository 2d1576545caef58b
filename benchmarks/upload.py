"""Upload in headless Chromium: file chosen to panels, and the tab's memory.

Serves the app as the Procfile does (tests/procfile_server.py), opens the page in
Debian's headless Chromium, and

1. chooses a 48 MB CSV (Online Retail I's lines, then its first lines again up to
   48 MB: made in a temporary folder) in ``#upload input[type=file]`` and times
   file chosen -> panels drawn ("Loaded ..." status, every panel showing data,
   nothing pending); median of ``--repeats`` runs, each on a fresh page with a
   file of its own (a few lines shorter each time: new bytes, so no run finds
   them prepared already). Each run also prints when the status said
   "Uploaded ..." (the bytes on the server), when it said "Loaded ..." (the
   job's answer), when the first panels of the file were drawn (``panels``:
   the title names the file, the grid, scatter, heatmap and cards show data,
   no callback that writes them is pending and the scatter drew the last
   figure sent) and when nothing was pending any more (``settled``: the
   every-k warm-up, the method comparison, customers over time and the other
   background jobs done: the headline time above);
2. chooses a 150 MB CSV (Online Retail I's lines repeated) and samples, every
   0.25 s until its panels show (or ``--timeout``), the page's JS heap
   (CDP ``Performance.getMetrics`` ``JSHeapUsedSize``) and the resident memory
   of Chromium's renderer processes (psutil); prints the peaks.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/upload.py [--repeats 3]
[--skip-large] [--server-log FILE]`` (``--skip-large``: no 150 MB step;
``--server-log``: keep the server's output). Run from another checkout's root
(``cd OTHER && PYTHONPATH=. /work/main/.venv/bin/python benchmarks/upload.py``)
it serves that checkout, to compare two commits in the same minutes.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil

from app import ids
from app.layout import PANELS_REQUEST
from tests.browser import pages
from tests.browser.conftest import CHROME_ARGS, CHROMEDRIVER, CHROMIUM
from tests.procfile_server import serve

RETAIL = Path("/work/shared/data/online_retail_I.csv")

#: Whether a pending callback writes one of the first panels.
_PANELS_PENDING_JS = """
const names = arguments[0];
const state = window.store.getState().callbacks;
return Object.entries(state).some(([kind, list]) =>
  kind !== 'stored' && kind !== 'completed' && Array.isArray(list) &&
  list.some(cb => {
    const out = (cb.callback && cb.callback.output) || '';
    return names.some(name => out.includes(name));
  }));
"""
PANEL_OUTPUTS = [
    f"{ids.VALUE_STYLE_GRID}.figure",
    f"{ids.CUSTOMER_SCATTER}.figure",
    f"{ids.FEATURE_HEATMAP}.figure",
    f"{ids.PERSONA_CARDS_DATA}.data",
    f"{PANELS_REQUEST}.data",
]


def panels_drawn(driver, name: str) -> bool:
    """Whether the first panels of the file ``name`` are drawn (see the docstring)."""
    return bool(
        pages.text_of(driver, ids.DATASET_TITLE) == f"Dataset: {name}"
        and pages.panels_ready(driver)
        and not driver.execute_script(_PANELS_PENDING_JS, PANEL_OUTPUTS)
        and pages.drawn(driver, ids.CUSTOMER_SCATTER)
    )


def make_csv(path: Path, size: int) -> Path:
    """Write Online Retail I's header and lines, repeated, up to ``size`` bytes."""
    text = RETAIL.read_bytes()
    header, _, body = text.partition(b"\n")
    lines = body.splitlines(keepends=True)
    with path.open("wb") as out:
        out.write(header + b"\n")
        written = len(header) + 1
        while written < size:
            for line in lines:
                if written + len(line) > size:
                    break
                out.write(line)
                written += len(line)
            else:
                continue
            break
    return path


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='upload-bench-')}")
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def loaded(driver, name: str, timeout: float) -> None:
    pages.wait_text(driver, "run-result", rf"^Loaded {name}", timeout=timeout)
    pages.wait_panels(driver, timeout=timeout)


#: Records in the page when the status first said "Uploaded ..." and "Loaded
#: <name>" (a poll from here can miss a text the next step replaces at once).
_MARKS_JS = """
const name = arguments[0];
window.uploadMarks = {};
const marks = window.uploadMarks;
const look = () => {
  const text = id => (document.getElementById(id) || {}).textContent || '';
  if (!marks.uploaded && text('progress-text').startsWith('Uploaded ')) {
    marks.uploaded = Date.now();
  }
  if (!marks.status && text('run-result').startsWith('Loaded ' + name)) {
    marks.status = Date.now();
  }
};
new MutationObserver(look).observe(
  document.body, {subtree: true, childList: true, characterData: true});
return Date.now();
"""


def time_to_panels(driver, url: str, path: Path, timeout: float) -> dict:
    """Choose ``path``; return the seconds to each milestone (see the docstring).

    ``uploaded`` is None if the page never showed "Uploaded ..." (it does
    unless the upload fails).
    """
    driver.get(url + "/")
    pages.wait_panels(driver, timeout)
    page_start = driver.execute_script(_MARKS_JS, path.name)
    started = time.perf_counter()
    pages.upload(driver, path)
    pages.wait(
        driver,
        lambda d: panels_drawn(d, path.name),
        timeout,
        "the file's panels were never drawn",
    )
    shown = time.perf_counter() - started
    loaded(driver, path.name, timeout)
    settled = time.perf_counter() - started
    marks = driver.execute_script("return window.uploadMarks;") or {}
    return {
        "uploaded": None
        if marks.get("uploaded") is None
        else (marks["uploaded"] - page_start) / 1000,
        "status": (marks["status"] - page_start) / 1000,
        "panels": shown,
        "settled": settled,
    }


def renderer_rss(driver) -> int:
    """Resident bytes of Chromium's renderer processes (the tabs)."""
    root = psutil.Process(driver.service.process.pid)
    total = 0
    for proc in root.children(recursive=True):
        try:
            if "--type=renderer" in " ".join(proc.cmdline()):
                total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def tab_memory(driver, url: str, path: Path, timeout: float) -> dict:
    driver.get(url + "/")
    pages.wait_panels(driver, timeout)
    driver.execute_cdp_cmd("Performance.enable", {})
    peaks = {"js_heap": 0, "renderer_rss": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
            heap = next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize")
            peaks["js_heap"] = max(peaks["js_heap"], heap)
            peaks["renderer_rss"] = max(peaks["renderer_rss"], renderer_rss(driver))
            time.sleep(0.25)

    before = renderer_rss(driver)
    page_start = driver.execute_script(_MARKS_JS, path.name)
    started = time.perf_counter()
    pages.upload(driver, path)
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        loaded(driver, path.name, timeout)
        panels = time.perf_counter() - started
    finally:
        done.set()
        thread.join()
    marks = driver.execute_script("return window.uploadMarks;") or {}
    if marks.get("uploaded") is None:
        raise AssertionError(f"{path.name}: the page never said 'Uploaded ...'")
    return {
        **peaks,
        "renderer_rss_before": before,
        "upload_s": (marks["uploaded"] - page_start) / 1000,
        "panels_s": panels,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--server-log", type=Path)
    args = parser.parse_args()
    mb = 2**20
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv48 = [
            make_csv(folder / f"orders_48mb_{i}.csv", 48_000_000 - 1000 * i)
            for i in range(args.repeats)
        ]
        if not args.skip_large:
            csv150 = make_csv(folder / "orders_150mb.csv", 150_000_000)
        log = folder / "server.log"
        with serve(folder / "data", log) as url:
            driver = browser()
            try:
                runs = [
                    time_to_panels(driver, url, path, args.timeout) for path in csv48
                ]
                times = [run["settled"] for run in runs]
                print(
                    f"48 MB CSV ({csv48[0].stat().st_size:,} bytes), file chosen -> "
                    f"panels: median of {len(times)} "
                    f"{statistics.median(times):.2f} s; all "
                    + ", ".join(f"{t:.2f}" for t in times)
                )
                for what in ("uploaded", "status", "panels", "settled"):
                    values = [run[what] for run in runs if run[what] is not None]
                    if not values:
                        continue
                    print(
                        f"  {what:>8}: median {statistics.median(values):.2f} s; all "
                        + ", ".join(f"{v:.2f}" for v in values)
                    )
                if args.skip_large:
                    return
                memory = tab_memory(driver, url, csv150, args.timeout)
                print(
                    f"150 MB CSV ({csv150.stat().st_size:,} bytes): uploaded in "
                    f"{memory['upload_s']:.1f} s, panels at {memory['panels_s']:.1f} "
                    f"s; tab JS heap peak {memory['js_heap'] / mb:.0f} MB; renderer "
                    f"RSS peak {memory['renderer_rss'] / mb:.0f} MB (before: "
                    f"{memory['renderer_rss_before'] / mb:.0f} MB)"
                )
            finally:
                driver.quit()
                if args.server_log:
                    shutil.copyfile(log, args.server_log)


if __name__ == "__main__":
    main()
