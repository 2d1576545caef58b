"""What a person waits for in the browser: the first screen and a k change.

Not a test: a script run by hand that prints medians and percentiles (see
``benchmarks/README.md``). It drives headless Chromium (Debian's ``chromium`` and
``chromedriver``, through Selenium) against the app started here:

    .venv/bin/python benchmarks/browser.py                       # this checkout
    .venv/bin/python benchmarks/browser.py --presses 40 --loads 7
    git worktree add /tmp/k_before HEAD~3                          # older code
    .venv/bin/python benchmarks/browser.py --code /tmp/k_before --code .

Each ``--code`` (a checkout; default this one) is served with ``python -m app``
(the project's virtual environment, ``PYTHONPATH`` the checkout) on a free port
of 127.0.0.1, with a new temporary ``SEGMENTATION_DATA_DIR``; its log is
``server.log`` there. With two or more, a table compares them.

Measured, per checkout:

1. **first screen**: the page loaded ``--loads`` times, the first as soon as the
   server answers ``GET /`` (the first visitor), the others one after another;
   time from navigation start (``performance.timeOrigin``) to the panels drawn:
   the value × style grid and the feature heatmap with a heatmap trace, the
   scatter with its customers' points and the persona cards present (checked
   by a MutationObserver installed before the page's own scripts);
2. **k change**: Online Retail I (``--csv``) chosen in ``#upload
   input[type=file]``; once the panels show it and nothing is pending (the
   every-k warm-up job included), ``--presses`` arrow keys on the k slider's
   ``role=slider`` handle, sweeping k up to 10, down to 2 and up again, one at
   a time. For each press: the time from the key's ``keydown`` (``performance
   .now()`` in a capturing listener) to the **last DOM change** (MutationObserver
   on ``#value-style-grid``, ``#customer-scatter``, ``#feature-heatmap`` and
   ``#persona-cards``; plotly's ``plotly_afterplot`` too, since a WebGL redraw
   changes no DOM), waited for until no change came for ``--quiet`` seconds
   and no callback is pending. Where the time goes: key → first callback
   request (``fetch`` of ``_dash-update-component``), request → last answer
   (server and network), last answer → last DOM change (the browser's
   drawing), and the bytes answered.

Nothing here asserts; the exit code is 0 unless the page never showed panels.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CSV = ROOT.parent / "shared" / "data" / "online_retail_I.csv"
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--window-size=1366,900",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
PANELS = ("value-style-grid", "customer-scatter", "feature-heatmap", "persona-cards")

#: Installed before the page's scripts: marks of the first screen, key presses,
#: callback requests and DOM changes of the four panels, in performance.now() ms.
PROBE_JS = r"""
(function () {
  const PANELS = __PANELS__;
  const probe = window.__probe = {
    ready: null, keys: [], changes: [], requests: [], plots: [],
    watched: new Set(),
  };
  function plotOf(id) {
    return document.querySelector('#' + id + ' .js-plotly-plot');
  }
  function hasTrace(id, test) {
    const gd = plotOf(id);
    return Boolean(gd && gd._fullData && gd._fullData.some(test));
  }
  function panelsReady() {
    return hasTrace('value-style-grid', t => t.type === 'heatmap')
      && hasTrace('feature-heatmap', t => t.type === 'heatmap')
      && hasTrace('customer-scatter',
                  t => t.x && Array.from(t.x).some(v => v !== null))
      && document.querySelectorAll('#persona-cards .persona-card').length > 0;
  }
  function watch() {
    PANELS.forEach(function (id) {
      const node = document.getElementById(id);
      if (!node || probe.watched.has(node)) { return; }
      probe.watched.add(node);
      new MutationObserver(function () {
        probe.changes.push({t: performance.now(), id: id});
      }).observe(node, {subtree: true, childList: true, attributes: true,
                        characterData: true});
      const gd = plotOf(id);
      if (gd && gd.on) {
        gd.on('plotly_afterplot', function () {
          probe.plots.push({t: performance.now(), id: id});
        });
      }
    });
  }
  new MutationObserver(function () {
    if (probe.ready === null && panelsReady()) { probe.ready = performance.now(); }
    watch();
  }).observe(document, {subtree: true, childList: true, attributes: true});
  document.addEventListener('keydown', function (event) {
    probe.keys.push({t: performance.now(), key: event.key});
  }, true);
  const realFetch = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input.url;
    if (!url.includes('_dash-update-component')) {
      return realFetch.apply(this, arguments);
    }
    let output = '';
    try { output = JSON.parse(init.body).output; } catch (err) { output = '?'; }
    const entry = {start: performance.now(), end: null, bytes: 0, output: output};
    probe.requests.push(entry);
    return realFetch.apply(this, arguments).then(function (response) {
      return response.clone().arrayBuffer().then(function (body) {
        entry.end = performance.now();
        entry.bytes = body.byteLength;
        return response;
      });
    });
  };
})();
""".replace("__PANELS__", repr(list(PANELS)))

_IDLE_JS = """
if (!window.store) { return false; }
const state = Object.assign({}, window.store.getState().callbacks);
delete state.stored; delete state.completed;
return Object.values(state).every(list => !list || list.length === 0);
"""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(code: Path):
    """Run ``python -m app`` of the checkout ``code``; yield (base URL, data dir)."""
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    env = {
        **os.environ,
        "PORT": str(port),
        "SEGMENTATION_DATA_DIR": str(data),
        "PYTHONPATH": str(code),
    }
    log = (data / "server.log").open("wb")
    process = subprocess.Popen(
        [str(PYTHON), "-m", "app"],
        cwd=code,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server stopped; see {data / 'server.log'}")
            try:
                with urllib.request.urlopen(base + "/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"no answer from {base}; see {data / 'server.log'}")
            time.sleep(0.2)
        yield base, data
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        log.close()


def start_browser():
    """Return a headless Chromium with :data:`PROBE_JS` installed on every page."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='bench-chr-')}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": PROBE_JS}
    )
    return driver


def wait_for(condition, timeout: float, what: str, step: float = 0.05):
    """Poll ``condition()`` until truthy; return it, or raise naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(step)


def probe(driver, expression: str):
    """Return ``window.__probe.<expression>`` from the page."""
    return driver.execute_script(f"return window.__probe.{expression};")


def idle(driver) -> bool:
    """Return True when the Dash renderer has no callback pending."""
    return bool(driver.execute_script(_IDLE_JS))


def settle(driver, quiet: float, timeout: float = 120) -> None:
    """Wait until nothing is pending and the panels did not change for ``quiet`` s."""

    def calm():
        if not idle(driver):
            return False
        last = driver.execute_script(
            "const p = window.__probe;"
            "const t = p.changes.concat(p.plots).map(c => c.t);"
            "return [performance.now(), t.length ? Math.max(...t) : 0];"
        )
        return last[0] - last[1] >= quiet * 1000

    wait_for(calm, timeout, "the page to settle", step=0.1)


def first_screens(driver, base: str, loads: int) -> list[dict]:
    """Load the page ``loads`` times; return each load's marks (ms)."""
    marks = []
    for _ in range(loads):
        driver.get("about:blank")
        driver.get(base + "/")
        ready = wait_for(lambda: probe(driver, "ready"), 120, "the first panels")
        loaded = driver.execute_script(
            "const n = performance.getEntriesByType('navigation')[0];"
            "return [n.domContentLoadedEventEnd, n.loadEventEnd];"
        )
        marks.append({"ready": ready, "dom": loaded[0], "load": loaded[1]})
        settle(driver, 1.0)
    return marks


def upload(driver, csv: Path, quiet: float) -> float:
    """Choose ``csv`` in the upload input; return seconds until the panels settle."""
    from selenium.webdriver.common.by import By

    before = k_total(driver)
    started = time.monotonic()
    field = driver.find_element(By.CSS_SELECTOR, "#upload input[type=file]")
    field.send_keys(str(csv))
    wait_for(lambda: k_total(driver) not in (None, before), 600, "the upload's panels")
    settle(driver, quiet, timeout=600)
    return time.monotonic() - started


def k_total(driver):
    """Return the customers the scatter draws (a sum over its traces)."""
    return driver.execute_script(
        "const gd = document.querySelector('#customer-scatter .js-plotly-plot');"
        "if (!gd || !gd._fullData) { return null; }"
        "let n = 0; gd._fullData.forEach(t => { if (t.x) {"
        "  n += Array.from(t.x).filter(v => v !== null).length; } });"
        "return n;"
    )


def k_now(driver) -> int:
    from selenium.webdriver.common.by import By

    thumb = driver.find_element(By.CSS_SELECTOR, "#k-slider [role=slider]")
    return int(thumb.get_attribute("aria-valuenow"))


def k_presses(driver, presses: int, quiet: float) -> list[dict]:
    """Press arrow keys on the k slider; return each press's marks (ms)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    results, direction = [], 1
    for _ in range(presses):
        k = k_now(driver)
        if k >= 10:
            direction = -1
        elif k <= 2:
            direction = 1
        key = Keys.ARROW_RIGHT if direction > 0 else Keys.ARROW_LEFT
        driver.execute_script(
            "window.__probe.keys = []; window.__probe.changes = [];"
            "window.__probe.requests = []; window.__probe.plots = [];"
        )
        thumb = driver.find_element(By.CSS_SELECTOR, "#k-slider [role=slider]")
        ActionChains(driver).send_keys_to_element(thumb, key).perform()
        wait_for(lambda: k_now(driver) == k + direction, 10, "the slider to move")
        settle(driver, quiet)
        p = driver.execute_script("return window.__probe;")
        downs = [e["t"] for e in p["keys"] if e["key"].startswith("Arrow")]
        if not downs:
            continue
        key_t = downs[0]
        marks = [c for c in p["changes"] + p["plots"] if c["t"] >= key_t]
        changes = [c["t"] for c in marks]
        last = max(marks, key=lambda c: c["t"], default={"id": ""})["id"]
        requests = [r for r in p["requests"] if r["start"] >= key_t and r["end"]]
        results.append(
            {
                "k": k + direction,
                "last": last,
                "total": (max(changes) - key_t) if changes else float("nan"),
                "first": (min(changes) - key_t) if changes else float("nan"),
                "to_request": (
                    min(r["start"] for r in requests) - key_t if requests else 0.0
                ),
                "to_answer": (
                    max(r["end"] for r in requests) - key_t if requests else 0.0
                ),
                "requests": len(requests),
                "bytes": sum(r["bytes"] for r in requests),
                "slowest": max(
                    requests, key=lambda r: r["end"] - r["start"], default=None
                ),
            }
        )
        print_press(results[-1])  # as it comes: a press waits for the page to settle
    return results


def print_press(p: dict) -> None:
    """Print one press's marks (:func:`k_presses`)."""
    slow = p["slowest"]
    took = (slow["end"] - slow["start"]) if slow else 0
    print(
        f"  k={p['k']:>2}: {p['total']:6.0f} ms, last {p['last'][:14]:14}"
        f" first change {p['first']:5.0f}; {p['requests']} requests "
        f"({p['bytes'] / 1024:4.0f} KiB), last answer {p['to_answer']:5.0f}"
        f", slowest {took:4.0f} ms {(slow or {}).get('output', '')[:50]}",
        flush=True,
    )


def pct(values: list[float], q: float) -> float:
    """Return the q-th percentile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def measure(code: Path, args) -> dict:
    """Serve ``code`` and measure it; return the summary."""
    driver = start_browser()
    try:
        with serve(code) as (base, data):
            print(f"\n== {code}  ({base}, data {data})", flush=True)
            screens = first_screens(driver, base, args.loads)
            for i, m in enumerate(screens):
                print(
                    f"  load {i + 1}: panels at {m['ready']:.0f} ms after navigation "
                    f"start ({m['ready'] - m['load']:.0f} ms after the load event)"
                )
            if args.shots:
                driver.save_screenshot(str(Path(args.shots) / "first_screen.png"))
            seconds = upload(driver, args.csv, args.quiet)
            print(f"  {args.csv.name}: {k_total(driver)} customers, {seconds:.1f} s")
            presses = k_presses(driver, args.presses, args.quiet)
    finally:
        driver.quit()
    return {
        "code": str(code),
        "first_visit": screens[0]["ready"],
        "screen_median": statistics.median(m["ready"] for m in screens[1:] or screens),
        "screen_after_load": statistics.median(
            m["ready"] - m["load"] for m in screens[1:] or screens
        ),
        "k_median": statistics.median(p["total"] for p in presses),
        "k_p95": pct([p["total"] for p in presses], 95),
        "answer_median": statistics.median(p["to_answer"] for p in presses),
        "first_median": statistics.median(p["first"] for p in presses),
        "kib_median": statistics.median(p["bytes"] / 1024 for p in presses),
        "requests_median": statistics.median(p["requests"] for p in presses),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", action="append", type=Path, help="a checkout")
    parser.add_argument("--csv", type=Path, default=CSV)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--loads", type=int, default=5, help="page loads")
    parser.add_argument(
        "--quiet", type=float, default=1.0, help="seconds without change = settled"
    )
    parser.add_argument("--shots", help="folder for a first-screen screenshot")
    args = parser.parse_args(argv)
    for path in (CHROMIUM, CHROMEDRIVER, args.csv):
        if not path.exists():
            raise SystemExit(f"{path} is not there")
    rows = [measure(code.resolve(), args) for code in args.code or [ROOT]]
    print(
        "\n| checkout | first visit | first screen (median, later loads) | "
        "after load event | k change median | k p95 | first panel change (median) "
        "| last answer (median) | KiB / k change | requests |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['code']} | {r['first_visit']:.0f} ms | {r['screen_median']:.0f} ms "
            f"| {r['screen_after_load']:.0f} ms | {r['k_median']:.0f} ms "
            f"| {r['k_p95']:.0f} ms | {r['first_median']:.0f} ms "
            f"| {r['answer_median']:.0f} ms | {r['kib_median']:.0f} "
            f"| {r['requests_median']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
