"""Many users on one server: what the browser does, measured from outside.

Not a test: a bounded load script for loopback only. Run it by hand and read
the table (see ``benchmarks/README.md``).

    .venv/bin/python benchmarks/load.py                      # 20 users x 300 s
    .venv/bin/python benchmarks/load.py --users 5 --duration 30
    .venv/bin/python benchmarks/load.py --procfile --json load.json
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:8050

Without ``--url`` it starts the server itself on a free loopback port with a
fresh temporary ``SEGMENTATION_DATA_DIR``: ``python -m app``, or with
``--procfile`` the Procfile's ``web:`` command with ``PORT`` set (an address
``0.0.0.0`` in it is replaced by ``127.0.0.1``: the benchmark stays on
loopback). ``--url`` must name a loopback host.

Each simulated user is a browser tab doing, in a loop until the time is up:

1. **page**: ``GET /`` (its ``_dash-config`` carries the page's ``end_id``),
   ``GET /_dash-layout`` and ``GET /_dash-dependencies``: a new page with its
   own layout values and stores each time;
2. **first load**: every callback the renderer fires at load (the sample's
   background job included), in the renderer's order;
3. **k change** (``--k-changes`` times): the k slider moved to another value;
4. **what-if**: recency, frequency and monetary typed one after another;
5. sometimes (``--vary``) a **sensitivity** change or **read settings** change
   (the "Remove duplicate lines" switch), so that pages' job inputs differ;
6. **save run** (first page of each user), then **runs list**
   (``GET /api/runs``) and **API scoring** (``POST /api/segment``: one customer
   and a batch of 50).

The callbacks are not hard-coded: this script is a small Dash renderer. It
reads the callback graph from ``/_dash-dependencies`` and the component values
from ``/_dash-layout``, fills every Input and State of a callback from the
page's current values (layout values updated by every output, ``running`` and
``sideUpdate`` the page received), fires the callbacks a changed property feeds,
waits for a callback whose inputs are still being computed upstream (as
``getReadyCallbacks`` does), and runs at most 6 requests of a page at a time
(a browser's connections per host). Background callbacks follow the renderer's
protocol (``dash-renderer`` ``handleServerside``): the first POST answers
``cacheKey`` and ``job`` (signed for the page's ``end_id``); the page polls the
same URL with ``endId``, ``cacheKey`` and ``job`` in the query and the inputs
set to null, every ``interval`` ms, until an answer has ``response`` (done) or
is HTTP 204 (the job ended with nothing for this page). A new run of the same
background callback sends ``oldJob`` and drops the old result. Browser-side
(clientside) callbacks are not run: they send no request; but a relay whose
output feeds server callbacks is (``RELAYS``: the k slider's rested value,
counted in the k change). Static files
(``/_dash-component-suites``, ``/assets``) are not fetched (a browser caches
them).

A user acts when the page is ready for input: no request pending except
background jobs without a ``running`` spec (those do not disable any control);
before reloading, the page waits for those too, so that their results are
checked.

Counted:

* **requests** and latency per action (each HTTP request; a background job
  counts as one entry from its first POST to its answer, polls included) and
  per callback (``--detail``); **settled** time per action (from the user's
  change until the page is ready again);
* **errors**: HTTP >= 400, connection errors and timeouts, and callback errors
  in the JSON (an answer that opens the page's error alert);
* **lost results**: a background job that ended without a result for the page
  that started it (HTTP 204 while polling, not cancelled by the page), a page
  load that ended with no dataset, and a result for other inputs than the
  page's (the dataset store's read settings, the warm store's dataset and
  sensitivity);
* ``/api/health`` latency from a separate poller (every 0.5 s);
* the server's memory: RSS summed over the server's process tree (and PSS
  where readable), every 5 s.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import re
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import ids  # noqa: E402  (constants only: nothing heavy is imported)

#: Browser-side relays whose outputs feed server callbacks: ``{(id, prop): (id,
#: prop)}``. The page's clientside callbacks send no request, but the k slider's
#: value reaches the ``k-settled`` store once the slider rests
#: (``assets/k_settled.js``, 400 ms; ``app.layout.K_SETTLED``), and the
#: distributions, the method comparison, the what-if's words and the over-time
#: panel follow it. Here it is set at once with the user's change (no wait), and
#: its callbacks count in the same action.
RELAYS = {(ids.K_SLIDER, "value"): ("k-settled", "data")}

#: Requests of one page at a time (a browser's HTTP/1.1 connections per host).
PAGE_CONNECTIONS = 6
#: Longest wait for one HTTP answer, and for one background job.
REQUEST_TIMEOUT_S = 120.0
JOB_TIMEOUT_S = 300.0
HEALTH_EVERY_S = 0.5
MEMORY_EVERY_S = 5.0
#: Think time between two actions of a user, seconds (uniform).
THINK_S = (0.5, 2.0)
LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$")
_MISSING = object()


# Results ----------
def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile ``q`` (0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict:
    """Count, p50/p95/p99 and max of latencies in ms."""
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50),
        "p95_ms": percentile(values, 95),
        "p99_ms": percentile(values, 99),
        "max_ms": max(values) if values else None,
    }


class Recorder:
    """Thread-safe tallies of every request, error and lost result."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.latency: dict[str, list[float]] = {}
        self.by_callback: dict[tuple[str, str], list[float]] = {}
        self.settled: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.lost: dict[str, int] = {}
        self.error_examples: list[str] = []
        self.lost_examples: list[str] = []
        self.page_loads = 0
        self.resent = 0
        self.pages_without_data = 0
        self.lost_kinds: dict[str, int] = {}

    def request(self, action: str, name: str, ms: float, count: int = 1) -> None:
        """Record one measured entry (``count`` HTTP requests, ``ms`` long)."""
        with self.lock:
            self.requests[action] = self.requests.get(action, 0) + count
            self.latency.setdefault(action, []).append(ms)
            self.by_callback.setdefault((action, name), []).append(ms)

    def settle(self, action: str, ms: float) -> None:
        """Record the time from a user's change until the page is ready."""
        with self.lock:
            self.settled.setdefault(action, []).append(ms)

    def error(self, action: str, what: str) -> None:
        """Count one error of ``action``; keep the first 30 as examples."""
        with self.lock:
            self.errors[action] = self.errors.get(action, 0) + 1
            if len(self.error_examples) < 20:
                self.error_examples.append(f"{action}: {what[:500]}")

    def lose(self, action: str, kind: str, what: str) -> None:
        """Count one lost result of ``action`` (``kind``: how it was lost)."""
        with self.lock:
            self.lost[action] = self.lost.get(action, 0) + 1
            self.lost_kinds[kind] = self.lost_kinds.get(kind, 0) + 1
            if len(self.lost_examples) < 20:
                self.lost_examples.append(f"{action}: {kind}: {what}")

    def resend(self) -> None:
        """Count a request resent on a new connection."""
        with self.lock:
            self.resent += 1

    def page_loaded(self, with_data: bool, status: object = None) -> None:
        """Count one page load, and whether it ended with a dataset."""
        with self.lock:
            self.page_loads += 1
            if not with_data:
                self.pages_without_data += 1
                if len(self.lost_examples) < 20:
                    self.lost_examples.append(f"page without data, status: {status}")


# The app's callback graph -----------------------------------------------------------
def stringify_id(component_id) -> str:
    """Dash's string form of an id (sorted compact JSON for a dict id)."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return component_id


def _parse_id(text: str):
    if text.startswith("{"):
        return json.loads(text)
    return text


def _is_wild(value) -> bool:
    return isinstance(value, list) and len(value) == 1 and isinstance(value[0], str)


@dataclass
class Dep:
    """One Input, State or Output of a callback."""

    id: object  # str, or dict (possibly with ["ALL"]-style wildcards)
    prop: str  # as in the dependencies, "@hash" suffix included for outputs

    @property
    def clean_prop(self) -> str:
        return self.prop.split("@", 1)[0]

    @property
    def wildcard(self) -> bool:
        return isinstance(self.id, dict) and any(_is_wild(v) for v in self.id.values())

    @property
    def key(self) -> str:
        return f"{stringify_id(self.id)}.{self.clean_prop}"

    def matches(self, component_id) -> bool:
        """Whether a concrete dict id fits this (wildcard) id."""
        if not isinstance(component_id, dict) or not isinstance(self.id, dict):
            return False
        if set(component_id) != set(self.id):
            return False
        return all(_is_wild(v) or component_id[k] == v for k, v in self.id.items())


@dataclass
class Callback:
    """A server callback from ``/_dash-dependencies``."""

    index: int
    output: str
    outputs: list[Dep]
    multi: bool
    inputs: list[Dep]
    state: list[Dep]
    prevent_initial_call: bool
    background: dict | None
    running: dict | None
    downstream: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        first = self.outputs[0]
        more = f"+{len(self.outputs) - 1}" if len(self.outputs) > 1 else ""
        return f"{stringify_id(first.id)}.{first.clean_prop}{more}"

    @property
    def output_keys(self) -> set[str]:
        return {o.key for o in self.outputs}

    def input_keys(self) -> set[str]:
        return {i.key for i in self.inputs}


def _split(id_and_prop: str) -> Dep:
    dot = id_and_prop.rfind(".")
    return Dep(_parse_id(id_and_prop[:dot]), id_and_prop[dot + 1 :])


def parse_dependencies(raw: list[dict]) -> tuple[list[Callback], int]:
    """Return the server callbacks and how many browser-side ones were skipped."""
    callbacks, clientside = [], 0
    for spec in raw:
        if spec.get("clientside_function"):
            clientside += 1
            continue
        out = spec["output"]
        multi = out.startswith("..")
        parts = out[2:-2].split("...") if multi else [out]
        deps = lambda items: [Dep(_parse_id(d["id"]), d["property"]) for d in items]  # noqa: E731
        callbacks.append(
            Callback(
                index=len(callbacks),
                output=out,
                outputs=[_split(p) for p in parts],
                multi=multi,
                inputs=deps(spec.get("inputs", [])),
                state=deps(spec.get("state", [])),
                prevent_initial_call=bool(spec.get("prevent_initial_call")),
                background=spec.get("background"),
                running=spec.get("running"),
            )
        )
    by_input: dict[str, list[Callback]] = {}
    for cb in callbacks:
        for key in cb.input_keys():
            by_input.setdefault(key, []).append(cb)
    for cb in callbacks:  # every output a callback's answer may lead to
        seen, todo = set(), list(cb.output_keys)
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            seen.add(key)
            for nxt in by_input.get(key, []):
                todo.extend(nxt.output_keys - seen)
        cb.downstream = seen
    return callbacks, clientside


def apply_patch(old, patch: dict):
    """Apply a ``dash.Patch`` answer to the old value (the renderer's patch.ts)."""
    value = copy.deepcopy(old) if old is not None else {}
    for op in patch.get("operations", []):
        *path, last = op["location"] or [None]
        name, params = op["operation"], op.get("params", {})
        target = value
        for step in path:
            # as ramda's assocPath in the renderer: an Assign or Merge makes a
            # missing object on its way (a missing list item stays an error)
            if isinstance(target, dict) and name in ("Assign", "Merge"):
                target = target.setdefault(step, {})
            else:
                target = target[step]
        if last is None:  # the whole value
            if name == "Assign":
                value = params["value"]
            elif name == "Merge":
                value.update(params["value"])
            continue
        if name == "Assign":
            target[last] = params["value"]
        elif name == "Delete":
            del target[last]
        elif name == "Merge":
            target.setdefault(last, {}).update(params["value"])
        else:
            item = target[last]
            if name == "Append":
                item.append(params["value"])
            elif name == "Prepend":
                item.insert(0, params["value"])
            elif name == "Extend":
                item.extend(params["value"])
            elif name == "Insert":
                item.insert(params["index"], params["value"])
            elif name == "Remove":
                item.remove(params["value"])
            elif name == "Clear":
                item.clear()
            elif name == "Reverse":
                item.reverse()
            elif name in ("Add", "Sub", "Mul", "Div"):
                v = params["value"]
                target[last] = {
                    "Add": lambda x: x + v,
                    "Sub": lambda x: x - v,
                    "Mul": lambda x: x * v,
                    "Div": lambda x: x / v,
                }[name](item)
    return value


# One browser page ----------
@dataclass
class Job:
    """A callback request in flight (a background job while it is polled)."""

    cb: Callback
    payload: dict
    action: str
    started: float
    job_id: str | None = None
    outdated: bool = False


@dataclass
class Answer:
    """What a callback request (and its polls) came back with."""

    status: int | None = None
    data: dict | None = None
    error: str | None = None
    requests: int = 0
    ms: float = 0.0
    side_updates: list = field(default_factory=list)
    outdated: bool = False


class Page:
    """A browser tab: layout values, stores, callback graph, requests in flight."""

    def __init__(self, base: str, rec: Recorder, pool: ThreadPoolExecutor) -> None:
        self.base = base.rstrip("/")
        self.rec = rec
        self.pool = pool
        self.http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=PAGE_CONNECTIONS)
        self.http.mount("http://", adapter)
        self.end_id: str | None = None
        self.layout: dict = {}
        self.components: dict[str, dict] = {}
        self.callbacks: list[Callback] = []
        self.requested: dict[int, set[str]] = {}
        self.running: dict = {}  # future -> Job
        self.clientside = 0

    # -- HTTP --------------------------------------------------------------------
    def get(self, action: str, path: str, name: str | None = None, **kw):
        """GET a path, recording it; returns the response or None on error."""
        return self._call("GET", action, path, name or path, **kw)

    def post(self, action: str, path: str, name: str | None = None, **kw):
        """POST to a path, recording it; returns the response or None on error."""
        return self._call("POST", action, path, name or path, **kw)

    def send(self, method: str, url: str, **kw) -> requests.Response:
        """One HTTP request; resent once if a kept-alive connection was closed.

        A browser resends a request whose reused connection the server had
        closed (idle keep-alive) before any answer; so does this page, and
        counts it (``resent``). A second failure is an error.
        """
        try:
            return self.http.request(method, url, timeout=REQUEST_TIMEOUT_S, **kw)
        except requests.ConnectionError:
            self.rec.resend()
            return self.http.request(method, url, timeout=REQUEST_TIMEOUT_S, **kw)

    def _call(self, method, action, path, name, **kw):
        start = time.perf_counter()
        try:
            resp = self.send(method, self.base + path, **kw)
        except requests.RequestException as err:
            self.rec.request(action, name, 1000 * (time.perf_counter() - start))
            self.rec.error(action, f"{method} {path}: {type(err).__name__}: {err}")
            return None
        self.rec.request(action, name, 1000 * (time.perf_counter() - start))
        if resp.status_code >= 400:
            self.rec.error(
                action, f"{method} {path}: HTTP {resp.status_code} {resp.text[:200]}"
            )
            return None
        return resp

    # -- the page's values -------------------------------------------------------
    def _index(self) -> None:
        found: dict[str, dict] = {}

        def walk(node) -> None:
            if isinstance(node, list):
                for item in node:
                    walk(item)
            elif isinstance(node, dict):
                props = node.get("props")
                if "namespace" in node and isinstance(props, dict):
                    if "id" in props:
                        found[stringify_id(props["id"])] = node
                    for key, value in props.items():
                        if key not in ("figure", "data") and isinstance(
                            value, list | dict
                        ):
                            walk(value)
                else:
                    for value in node.values():
                        if isinstance(value, list | dict):
                            walk(value)

        walk(self.layout)
        self.components = found

    def value(self, component_id, prop: str):
        """The page's current value of a property (``_MISSING`` if unset/absent)."""
        node = self.components.get(stringify_id(component_id))
        if node is None:
            return _MISSING
        return node["props"].get(prop, _MISSING)

    def exists(self, component_id) -> bool:
        """Whether the component is on the page now."""
        return stringify_id(component_id) in self.components

    def _matching(self, dep: Dep) -> list[dict]:
        return [
            node["props"]["id"]
            for node in self.components.values()
            if dep.matches(node["props"]["id"])
        ]

    def set_props(self, updates: dict[str, dict], exclude: Callback | None = None):
        """Apply ``{id string: {prop: value}}`` and fire the callbacks it feeds."""
        reindex = False
        for id_str, props in updates.items():
            node = self.components.get(id_str)
            if node is None:
                continue
            for prop, value in props.items():
                if isinstance(value, dict) and "__dash_patch_update" in value:
                    try:
                        value = apply_patch(node["props"].get(prop), value)
                    except (LookupError, TypeError, ValueError) as err:
                        self.rec.error("patch", f"{id_str}.{prop}: {err!r}")
                        continue
                node["props"][prop] = value
                if prop == "children" or (
                    isinstance(value, list | dict)
                    and '"namespace"' in json.dumps(value)
                ):
                    reindex = True
        if reindex:
            self._index()
        for id_str, props in updates.items():
            for prop in props:
                self._fire(_parse_id(id_str), prop, exclude)

    def _fire(self, component_id, prop: str, exclude: Callback | None) -> None:
        key = f"{stringify_id(component_id)}.{prop}"
        for cb in self.callbacks:
            if cb is exclude:
                continue
            for dep in cb.inputs:
                if dep.clean_prop != prop:
                    continue
                if dep.id == component_id or (
                    dep.wildcard and dep.matches(component_id)
                ):
                    self.requested.setdefault(cb.index, set()).add(key)

    def user_sets(self, component_id, prop: str, value) -> None:
        """A user's change of one property (fires the callbacks it feeds)."""
        self.set_props({stringify_id(component_id): {prop: value}})

    @staticmethod
    def _side_pairs(updates: dict) -> dict[str, dict]:
        """``running``/``sideUpdate``/``progress`` maps to ``{id: {prop: value}}``."""
        pairs: dict[str, dict] = {}
        for key, value in (updates or {}).items():
            if key.startswith("{") and "}." in key:
                cut = key.rfind(".")
                id_str, prop = stringify_id(json.loads(key[:cut])), key[cut + 1 :]
                pairs.setdefault(id_str, {})[prop] = value
            elif "." in key and not key.startswith("{"):
                id_str, prop = key.rsplit(".", 1)
                pairs.setdefault(id_str, {})[prop] = value
            elif isinstance(value, dict):
                pairs.setdefault(key, {}).update(value)
        return pairs

    # -- loading -----------------------------------------------------------------
    def load(self, action: str = "page") -> bool:
        """GET the page, its layout and dependencies; fire the initial callbacks."""
        resp = self.get(action, "/", "GET /")
        if resp is None:
            return False
        found = re.search(
            r'<script id="_dash-config" type="application/json">(.*?)</script>',
            resp.text,
            re.S,
        )
        config = json.loads(found.group(1)) if found else {}
        self.end_id = config.get("end_id")
        layout = self.get(action, "/_dash-layout", "GET /_dash-layout")
        deps = self.get(action, "/_dash-dependencies", "GET /_dash-dependencies")
        if layout is None or deps is None:
            return False
        self.layout = layout.json()
        self._index()
        self.callbacks, self.clientside = parse_dependencies(deps.json())
        for cb in self._initial_callbacks():
            self.requested.setdefault(cb.index, set())
        return True

    def _initial_callbacks(self) -> list[Callback]:
        """The renderer's layout callbacks: not prevent_initial_call, inputs present."""
        candidates = [
            cb
            for cb in self.callbacks
            if not cb.prevent_initial_call
            and all(o.wildcard or self.exists(o.id) for o in cb.outputs)
        ]
        excluded: set[str] = set()
        while True:
            keep, drop = [], []
            for cb in candidates:
                present = [
                    d
                    for d in cb.inputs
                    if d.wildcard or (self.exists(d.id) and d.key not in excluded)
                ]
                (keep if present else drop).append(cb)
            if not drop:
                return keep
            candidates = keep
            for cb in drop:
                excluded |= cb.output_keys

    # -- running callbacks -------------------------------------------------------
    def _fill(self, deps: list[Dep]) -> list | None:
        filled = []
        for dep in deps:
            if dep.wildcard:
                filled.append(
                    [self._entry(cid, dep.clean_prop) for cid in self._matching(dep)]
                )
            elif not self.exists(dep.id):
                return None
            else:
                filled.append(self._entry(dep.id, dep.clean_prop))
        return filled

    def _entry(self, component_id, prop: str) -> dict:
        entry = {"id": component_id, "property": prop}
        value = self.value(component_id, prop)
        if value is not _MISSING:
            entry["value"] = value
        return entry

    def _payload(self, cb: Callback, changed: set[str]) -> dict | None:
        inputs = self._fill(cb.inputs)
        state = self._fill(cb.state)
        if inputs is None or state is None:
            return None
        outputs = []
        for dep in cb.outputs:
            if dep.wildcard:
                outputs.append(
                    [{"id": cid, "property": dep.prop} for cid in self._matching(dep)]
                )
            else:
                outputs.append({"id": dep.id, "property": dep.prop})
        payload = {
            "output": cb.output,
            "outputs": outputs if cb.multi else outputs[0],
            "inputs": inputs,
            "changedPropIds": sorted(changed),
        }
        if cb.state:
            payload["state"] = state
        return payload

    def _ready(self) -> list[int]:
        pending = [self.callbacks[i] for i in self.requested]
        pending += [job.cb for job in self.running.values() if not job.outdated]
        blocked: set[str] = set()
        for cb in pending:
            blocked |= cb.downstream
        ready = []
        for index in self.requested:
            cb = self.callbacks[index]
            if not ((cb.input_keys() - cb.output_keys) & blocked):
                ready.append(index)
        return ready

    def _start(self, index: int, action: str) -> None:
        cb = self.callbacks[index]
        changed = self.requested.pop(index)
        payload = self._payload(cb, changed)
        if payload is None:
            return
        extra = []
        for job in self.running.values():  # a newer run makes the older one outdated
            if job.cb is cb and cb.background and not job.outdated:
                job.outdated = True
                if job.job_id:
                    extra.append(("oldJob", job.job_id))
        if cb.running:
            self.set_props(self._side_pairs(cb.running.get("running")), exclude=cb)
        job = Job(cb, payload, action, time.perf_counter())
        self.running[self.pool.submit(self._request, job, extra)] = job

    def _request(self, job: Job, extra: list) -> Answer:
        """Worker thread: one callback request, polled to its end if background."""
        answer = Answer()
        url = self.base + "/_dash-update-component"
        body = job.payload
        cache_key = None
        background = job.cb.background
        interval = (background or {}).get("interval", 500) / 1000
        first = True
        while True:
            params = [("endId", self.end_id)] if self.end_id else []
            if cache_key or job.job_id:
                params += [("cacheKey", cache_key), ("job", job.job_id)]
            if first:
                params += extra
            try:
                resp = self.send("POST", url, params=params, json=body)
            except requests.RequestException as err:
                answer.error = f"{type(err).__name__}: {err}"
                break
            finally:
                answer.requests += 1
            first = False
            answer.status = resp.status_code
            if resp.status_code != 200:
                if resp.status_code >= 400:
                    answer.error = f"HTTP {resp.status_code}: {resp.text[:300]}"
                break
            data = resp.json()
            for key in ("sideUpdate", "progress"):
                if data.get(key):
                    answer.side_updates.append(data[key])
            if not background or "response" in data:
                answer.data = data
                break
            if cache_key is None and data.get("cacheKey"):
                cache_key, job.job_id = data["cacheKey"], data.get("job")
                body = copy.deepcopy(job.payload)  # polls send no values
                for item in [*body["inputs"], *body.get("state", [])]:
                    for entry in item if isinstance(item, list) else [item]:
                        entry["value"] = None
            if job.outdated:
                answer.outdated = True
                break
            if time.perf_counter() - job.started > JOB_TIMEOUT_S:
                answer.error = f"job still running after {JOB_TIMEOUT_S:.0f} s"
                break
            time.sleep(interval)
        answer.ms = 1000 * (time.perf_counter() - job.started)
        return answer

    def _finish(self, job: Job, answer: Answer) -> None:
        cb, action = job.cb, job.action
        name = cb.name + (" (job)" if cb.background else "")
        self.rec.request(action, name, answer.ms, answer.requests)
        if job.outdated or answer.outdated:
            return  # the renderer drops an outdated job's answer
        if cb.running:
            self.set_props(self._side_pairs(cb.running.get("runningOff")), exclude=cb)
        if answer.error:
            self.rec.error(action, f"{cb.name}: {answer.error}")
            return
        for side in answer.side_updates:
            self.set_props(self._side_pairs(side))
            self._check_alert(action, cb, self._side_pairs(side))
        if answer.data is None:  # 204: PreventUpdate, or a job without a result
            if cb.background and answer.status == 204:
                self.rec.lose(
                    action,
                    "job ended with no result",
                    f"{cb.name}: HTTP 204 after {answer.requests} requests",
                )
            return
        response = answer.data.get("response", {})
        if cb.background:
            self._check_owner(action, cb, job.payload, response)
        self._check_alert(action, cb, response)
        self.set_props(response, exclude=cb)

    def _check_alert(self, action: str, cb: Callback, updates: dict) -> None:
        alert = updates.get(ids.ERROR_ALERT) or {}
        if alert.get("is_open"):
            text = alert.get("children")
            self.rec.error(action, f"callback error via {cb.name}: {text}")

    def _check_owner(self, action, cb: Callback, payload: dict, response: dict):
        """A background result must answer this page's inputs, not another's."""
        sent = {}
        for item in [*payload["inputs"], *payload.get("state", [])]:
            if isinstance(item, dict):
                sent[f"{stringify_id(item['id'])}.{item['property']}"] = item.get(
                    "value"
                )
        problems = []
        dataset = (response.get(ids.DATASET_STORE) or {}).get("data")
        if isinstance(dataset, dict):
            switch = sent.get(f"{ids.DUPLICATES_SWITCH}.value", True)
            if dataset.get("drop_duplicates", True) != (switch is not False):
                problems.append(
                    f"dataset drop_duplicates={dataset.get('drop_duplicates', True)}"
                    f" for a page whose switch is {switch}"
                )
        warm = (response.get(ids.WARM_STORE) or {}).get("data")
        if isinstance(warm, dict):
            mine = sent.get(f"{ids.DATASET_STORE}.data") or {}
            if warm.get("id") != mine.get("id"):
                problems.append(f"warm store of dataset {warm.get('id')}")
            percent = sent.get(f"{ids.ANOMALY_SLIDER}.value")
            share = warm.get("anomaly_share")
            if percent is not None and share is not None:
                if abs(float(share) - float(percent) / 100) > 1e-9:
                    problems.append(f"warm store share {share} for slider {percent}")
        for problem in problems:
            self.rec.lose(action, "result for other inputs", f"{cb.name}: {problem}")

    def settle(self, action: str, wait_background: bool = False) -> float:
        """Run callbacks until the page is ready for the user; return ms taken.

        Ready: nothing requested and nothing in flight except background jobs
        without a ``running`` spec (unless ``wait_background``).
        """
        start = time.perf_counter()
        while True:
            for index in self._ready():
                self._start(index, action)
            if self.requested and not self._ready() and not self.running:
                for index in list(self.requested):  # a cycle: start them anyway
                    self._start(index, action)
            waiting = [
                f
                for f, job in self.running.items()
                if wait_background or not job.cb.background or job.cb.running
            ]
            if not waiting and not self.requested:
                return 1000 * (time.perf_counter() - start)
            done, _ = wait(list(self.running), return_when=FIRST_COMPLETED)
            for future in done:
                job = self.running.pop(future)
                self._finish(job, future.result())

    def close(self) -> None:
        """Drop the page (its connections)."""
        self.http.close()


# One user ----------
class User(threading.Thread):
    """A user reloading the page and working with it until ``deadline``."""

    def __init__(self, number, base, rec, deadline, rng, options) -> None:
        super().__init__(name=f"user-{number}", daemon=True)
        self.number, self.base, self.rec = number, base, rec
        self.deadline, self.rng, self.options = deadline, rng, options
        self.pool = ThreadPoolExecutor(PAGE_CONNECTIONS, f"user-{number}-http")
        self.saved = False
        self.failure: str | None = None

    def run(self) -> None:
        try:
            time.sleep(self.rng.uniform(0, self.options.ramp))
            while time.monotonic() < self.deadline:
                self.one_page()
        except Exception as err:
            self.failure = f"{type(err).__name__}: {err}"
            self.rec.error("user", f"user {self.number} stopped: {self.failure}")
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def think(self) -> bool:
        time.sleep(self.rng.uniform(*THINK_S))
        return time.monotonic() < self.deadline

    def one_page(self) -> None:
        page = Page(self.base, self.rec, self.pool)
        try:
            start = time.perf_counter()
            if not page.load("page"):
                time.sleep(1)
                return
            self.rec.settle("page", 1000 * (time.perf_counter() - start))
            self.rec.settle("first load", page.settle("first load"))
            dataset = page.value(ids.DATASET_STORE, "data")
            has_data = isinstance(dataset, dict) and bool(dataset.get("id"))
            status = page.value(ids.RUN_RESULT, "children")
            self.rec.page_loaded(has_data, status)
            if not has_data:
                page.settle("first load", wait_background=True)
                return
            self.work(page)
            page.settle("background", wait_background=True)
        finally:
            page.close()

    def change(self, page: Page, action: str, component, prop, value) -> None:
        page.user_sets(component, prop, value)
        relay = RELAYS.get((component, prop))
        if relay is not None:
            page.set_props({relay[0]: {relay[1]: value}})
        self.rec.settle(action, page.settle(action))

    def work(self, page: Page) -> None:
        rng = self.rng
        for _ in range(self.options.k_changes):
            if not self.think():
                return
            low = page.value(ids.K_SLIDER, "min")
            high = page.value(ids.K_SLIDER, "max")
            now = page.value(ids.K_SLIDER, "value")
            choices = [k for k in range(int(low), int(high) + 1) if k != now]
            self.change(page, "k change", ids.K_SLIDER, "value", rng.choice(choices))
        if rng.random() < self.options.vary and self.think():
            now = page.value(ids.ANOMALY_SLIDER, "value")
            low = page.value(ids.ANOMALY_SLIDER, "min")
            high = page.value(ids.ANOMALY_SLIDER, "max")
            choices = [p for p in range(int(low), int(high) + 1) if p != now]
            value = rng.choice(choices)
            self.change(page, "sensitivity", ids.ANOMALY_SLIDER, "value", value)
        if rng.random() < self.options.vary and self.think():
            now = page.value(ids.DUPLICATES_SWITCH, "value")
            self.change(
                page, "read settings", ids.DUPLICATES_SWITCH, "value", now is False
            )
        if not self.think():
            return
        typed = {}
        for field_id, scale in (
            (ids.WHATIF_RECENCY, 1),
            (ids.WHATIF_FREQUENCY, 1),
            (ids.WHATIF_MONETARY, 1),
        ):
            shown = page.value(field_id, "value")
            base = shown if isinstance(shown, int | float) else 10 * scale
            value = round(float(base) * rng.uniform(0.3, 3.0), 1)
            typed[field_id] = value
            page.user_sets(field_id, "value", value)
            self.rec.settle("what-if", page.settle("what-if"))
            time.sleep(rng.uniform(0.2, 0.8))  # moving to the next field
        if not self.saved and self.think():
            clicks = page.value(ids.SAVE_RUN_BUTTON, "n_clicks")
            clicks = 0 if clicks is _MISSING or clicks is None else clicks
            self.change(page, "save run", ids.SAVE_RUN_BUTTON, "n_clicks", clicks + 1)
            self.saved = True
        if not self.think():
            return
        resp = page.get("runs list", "/api/runs?limit=20", "GET /api/runs")
        runs = resp.json().get("runs", []) if resp is not None else []
        if not runs or not self.think():
            return
        run_id = rng.choice(runs)["id"]
        one = {
            "run_id": run_id,
            "recency_days": typed[ids.WHATIF_RECENCY],
            "frequency": typed[ids.WHATIF_FREQUENCY],
            "monetary": typed[ids.WHATIF_MONETARY],
        }
        page.post("API scoring", "/api/segment", "POST /api/segment (1)", json=one)
        batch = [
            {
                "customer_id": f"u{self.number}-{i}",
                "recency_days": rng.randint(0, 400),
                "frequency": rng.randint(1, 40),
                "monetary": round(rng.uniform(5, 5000), 2),
            }
            for i in range(50)
        ]
        page.post(
            "API scoring",
            "/api/segment",
            "POST /api/segment (50)",
            json={"run_id": run_id, "customers": batch},
        )


# The server and its observers ----------
def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command() -> str:
    """The Procfile's ``web:`` command, kept on loopback."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line[4:].strip().replace("0.0.0.0", "127.0.0.1")
    raise SystemExit(f"error: no 'web:' line in {ROOT / 'Procfile'}")


def start_server(procfile: bool, data_dir: str) -> tuple[subprocess.Popen, str, str]:
    """Start the app on a free loopback port; return (process, url, command)."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "SEGMENTATION_DATA_DIR": data_dir}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    if procfile:
        command = procfile_command()
        argv = ["sh", "-c", "exec " + command]
    else:
        argv = [sys.executable, "-m", "app"]
        command = shlex.join(argv)
    log = open(Path(data_dir) / "server.log", "wb")
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}", command


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (it was started in its own), then KILL."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def wait_ready(url: str, proc: subprocess.Popen | None, timeout: float = 180) -> None:
    """Wait until ``GET /api/health`` answers 200."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"error: the server exited with code {proc.returncode}")
        try:
            if requests.get(url + "/api/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"error: {url}/api/health did not answer in {timeout:.0f} s")


def listening_pid(port: int) -> int | None:
    """The pid of the process listening on a loopback port, if it can be seen."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port:
                return conn.pid
    except psutil.AccessDenied:
        return None
    return None


class Poller(threading.Thread):
    """``/api/health`` latency, and the server tree's memory, until stopped."""

    def __init__(self, url: str, pid: int | None) -> None:
        super().__init__(name="observer", daemon=True)
        self.url, self.pid = url, pid
        self.stop = threading.Event()
        self.health: list[float] = []
        self.health_errors = 0
        self.memory: list[dict] = []

    def sample_memory(self, t0: float) -> None:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        rss = pss = 0
        pss_ok = True
        for proc in procs:
            try:
                rss += proc.memory_info().rss
                if pss_ok:
                    pss += proc.memory_full_info().pss
            except (psutil.AccessDenied, AttributeError):
                pss_ok = False
            except psutil.Error:
                continue
        self.memory.append(
            {
                "t_s": round(time.monotonic() - t0, 1),
                "rss_mb": round(rss / 2**20, 1),
                "pss_mb": round(pss / 2**20, 1) if pss_ok else None,
                "processes": len(procs),
            }
        )

    def run(self) -> None:
        http = requests.Session()
        t0 = time.monotonic()
        next_memory = t0
        while not self.stop.is_set():
            if self.pid and time.monotonic() >= next_memory:
                self.sample_memory(t0)
                next_memory += MEMORY_EVERY_S
            start = time.perf_counter()
            try:
                ok = http.get(self.url + "/api/health", timeout=30).status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                self.health.append(1000 * (time.perf_counter() - start))
            else:
                self.health_errors += 1
            self.stop.wait(HEALTH_EVERY_S)


# Report ----------
ACTIONS = (
    "page",
    "first load",
    "k change",
    "sensitivity",
    "read settings",
    "what-if",
    "save run",
    "runs list",
    "API scoring",
    "background",
    "patch",
    "user",
)


def report(rec: Recorder, poller: Poller, meta: dict, detail: bool) -> dict:
    """Print the tables; return everything as a JSON-ready dict."""

    def ms(value) -> str:
        return "-" if value is None else f"{value:,.0f}"

    actions = [a for a in ACTIONS if a in rec.requests or a in rec.errors] + sorted(
        set(rec.requests) - set(ACTIONS)
    )
    rows = {}
    print(
        f"\n{meta['users']} users x {meta['duration_s']} s against {meta['url']}"
        f" ({meta['server']})\n"
    )
    head = f"{'action':<14}{'requests':>9}{'errors':>7}{'lost':>6}"
    head += f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    head += f"{'settled p50':>13}{'p95':>8}"
    print(head)
    print("-" * len(head))
    for action in actions:
        lat = summary(rec.latency.get(action, []))
        settled = summary(rec.settled.get(action, []))
        rows[action] = {
            "requests": rec.requests.get(action, 0),
            "errors": rec.errors.get(action, 0),
            "lost": rec.lost.get(action, 0),
            "latency": lat,
            "settled": settled,
        }
        print(
            f"{action:<14}{rows[action]['requests']:>9,}{rows[action]['errors']:>7}"
            f"{rows[action]['lost']:>6}{ms(lat['p50_ms']):>9}{ms(lat['p95_ms']):>9}"
            f"{ms(lat['p99_ms']):>9}{ms(lat['max_ms']):>9}"
            f"{ms(settled['p50_ms']):>13}{ms(settled['p95_ms']):>8}"
        )
    total_requests = sum(rec.requests.values())
    total_errors = sum(rec.errors.values())
    total_lost = sum(rec.lost.values())
    print("-" * len(head))
    print(f"{'all':<14}{total_requests:>9,}{total_errors:>7}{total_lost:>6}")
    callbacks = {}
    for (action, name), values in sorted(rec.by_callback.items()):
        callbacks[f"{action} | {name}"] = summary(values)
    if detail:
        print(f"\n{'action | request or callback':<64}{'n':>6}{'p50':>8}{'p95':>8}")
        for key, stats in callbacks.items():
            print(
                f"{key[:63]:<64}{stats['n']:>6}{ms(stats['p50_ms']):>8}"
                f"{ms(stats['p95_ms']):>8}"
            )
    health = summary(poller.health)
    print(
        f"\npage loads: {rec.page_loads}, without data: {rec.pages_without_data};"
        f" lost results: {total_lost} {rec.lost_kinds or ''};"
        f" requests resent on a new connection: {rec.resent}"
    )
    print(
        f"/api/health (every {HEALTH_EVERY_S} s, separate poller): n={health['n']}"
        f" p50 {ms(health['p50_ms'])} ms, p95 {ms(health['p95_ms'])} ms,"
        f" p99 {ms(health['p99_ms'])} ms, max {ms(health['max_ms'])} ms,"
        f" failed {poller.health_errors}"
    )
    memory = None
    if poller.memory:
        rss = [m["rss_mb"] for m in poller.memory]
        memory = {
            "rss_mb_min": min(rss),
            "rss_mb_median": statistics.median(rss),
            "rss_mb_max": max(rss),
            "rss_mb_last": rss[-1],
            "samples": poller.memory,
        }
        pss = [m["pss_mb"] for m in poller.memory if m["pss_mb"] is not None]
        pss_text = ""
        if pss:
            memory["pss_mb_max"] = max(pss)
            memory["pss_mb_last"] = pss[-1]
            pss_text = f"; PSS max {max(pss):,.0f}, last {pss[-1]:,.0f}"
        print(
            f"server memory (RSS of the process tree, every {MEMORY_EVERY_S:.0f} s,"
            f" {len(rss)} samples): min {min(rss):,.0f} MB, median"
            f" {statistics.median(rss):,.0f} MB, max {max(rss):,.0f} MB,"
            f" last {rss[-1]:,.0f} MB{pss_text}"
        )
    else:
        print("server memory: not sampled (server process not found; --server-pid)")
    for title, examples in (
        ("errors", rec.error_examples),
        ("lost results", rec.lost_examples),
    ):
        if examples:
            print(f"\nfirst {title}:")
            for example in examples[:6]:
                print(f"  {example}")
    return {
        **meta,
        "actions": rows,
        "totals": {
            "requests": total_requests,
            "errors": total_errors,
            "lost": total_lost,
            "lost_kinds": rec.lost_kinds,
            "page_loads": rec.page_loads,
            "pages_without_data": rec.pages_without_data,
            "resent": rec.resent,
        },
        "callbacks": callbacks,
        "health": {**health, "failed": poller.health_errors},
        "memory": memory,
        "error_examples": rec.error_examples,
        "lost_examples": rec.lost_examples,
    }


def git_commit() -> str | None:
    """The checkout's commit (with "+dirty" for local changes), if git is there."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
            text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "app", "segmentation", "Procfile"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    """Run the load; print the table; write ``--json``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=300, help="seconds")
    parser.add_argument("--url", help="a running server (loopback only)")
    parser.add_argument("--procfile", action="store_true", help="start the Procfile")
    parser.add_argument("--server-pid", type=int, help="for memory, with --url")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--k-changes", type=int, default=3, help="per page")
    parser.add_argument(
        "--vary", type=float, default=0.2,
        help="chance per page of a sensitivity and of a read-settings change",
    )  # fmt: skip
    parser.add_argument(
        "--ramp", type=float, default=5.0, help="users start within this many s"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--note", default="", help="kept in the JSON (e.g. commit)")
    parser.add_argument("--detail", action="store_true", help="per-callback table")
    options = parser.parse_args(argv)
    if options.url and options.procfile:
        parser.error("give --url or --procfile, not both")

    proc = None
    data_dir = None
    if options.url:
        url = options.url.rstrip("/")
        host = urlsplit(url).hostname or ""
        if not LOOPBACK.match(host):
            parser.error(f"--url must be a loopback address, got host {host!r}")
        server = "given by --url"
        pid = options.server_pid or listening_pid(urlsplit(url).port or 80)
    else:
        data_dir = tempfile.mkdtemp(prefix="segmentation-load-")
        proc, url, server = start_server(options.procfile, data_dir)
        pid = proc.pid
        print(f"started: {server} (data in {data_dir})", flush=True)
    poller = None
    try:
        wait_ready(url, proc)
        graph, browser_side = parse_dependencies(
            requests.get(url + "/_dash-dependencies", timeout=60).json()
        )
        rec = Recorder()
        poller = Poller(url, pid)
        poller.start()
        deadline = time.monotonic() + options.duration
        users = [
            User(n, url, rec, deadline, random.Random(options.seed * 1000 + n), options)
            for n in range(options.users)
        ]
        started = time.monotonic()
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        for user in users:
            user.start()
        for user in users:
            user.join()
        elapsed = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
        poller.stop.set()
        poller.join()
        meta = {
            "users": options.users,
            "duration_s": options.duration,
            "elapsed_s": round(elapsed, 1),
            "client_cpu_s": round(client_cpu, 1),
            "machine_cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
            "url": url,
            "server": server,
            "commit": git_commit(),
            "note": options.note,
            "seed": options.seed,
            "k_changes": options.k_changes,
            "vary": options.vary,
            "server_callbacks": len(graph),
            "browser_side_callbacks_not_run": browser_side,
        }
        results = report(rec, poller, meta, options.detail)
        print(
            f"\nelapsed {elapsed:.0f} s (last actions finish after the deadline);"
            f" this script used {client_cpu:.0f} s of CPU (the server's machine)"
        )
    finally:
        if poller is not None:
            poller.stop.set()
        if proc is not None:
            stop_server(proc)
            print(f"server log: {Path(data_dir) / 'server.log'}")
    if options.json:
        options.json.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {options.json}")
    return 1 if results["totals"]["errors"] or results["totals"]["lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
