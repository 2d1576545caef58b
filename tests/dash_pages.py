"""Pages of the app driven over HTTP, as Dash's renderer drives them.

A :class:`Page` loads ``/`` (its signed ``end_id``) and ``/_dash-layout`` (its
components' props, the page token among them), then runs a background callback
the renderer's way: one POST starts the job and answers with signed
``cacheKey`` and ``job`` handles; further POSTs with the handles (inputs nulled)
poll until the answer holds ``response`` (the result), or is 204 (the server
found no result and no running job: the renderer then gives up, the result is
lost). Used by the many-pages and restart tests; no Dash code is imported.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

#: Seconds between polls (the upload job's ``interval``).
POLL_SECONDS = 0.5


def _request(url: str, body: dict | None = None, timeout: float = 60):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        text = response.read().decode()
        return response.status, text


def _props_by_id(node, found: dict) -> dict:
    """Collect ``{id: props}`` of every component in a layout JSON tree."""
    if isinstance(node, list):
        for child in node:
            _props_by_id(child, found)
    elif isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict):
            if isinstance(props.get("id"), str):
                found[props["id"]] = props
            for value in props.values():
                _props_by_id(value, found)
    return found


class Page:
    """One page load of the app at ``base`` (an ``http://host:port`` URL)."""

    def __init__(self, base: str):
        self.base = base
        _, html = _request(base + "/")
        config = re.search(
            r'<script id="_dash-config" type="application/json">(.*?)</script>',
            html,
            re.DOTALL,
        )
        self.end_id = json.loads(config.group(1))["end_id"]
        _, layout = _request(base + "/_dash-layout")
        self.props = _props_by_id(json.loads(layout), {})
        _, deps = _request(base + "/_dash-dependencies")
        self.callbacks = json.loads(deps)

    def _callback(self, output_part: str) -> dict:
        """The background callback whose output string contains ``output_part``."""
        found = [
            c
            for c in self.callbacks
            if output_part in c["output"] and c.get("background")
        ]
        assert len(found) == 1, [c["output"] for c in found]
        return found[0]

    def _values(self, deps: list[dict], given: dict) -> list:
        values = []
        for dep in deps:
            if isinstance(dep["id"], str) and dep["id"].startswith("{"):
                values.append([])  # pattern-matching: none on a fresh page
                continue
            key = f"{dep['id']}.{dep['property']}"
            value = given.get(key, self.props.get(dep["id"], {}).get(dep["property"]))
            values.append({**dep, "value": value})
        return values

    def payload(self, output_part: str, trigger: str, given: dict) -> dict:
        """Return the renderer's request body for a callback fired by ``trigger``."""
        cb = self._callback(output_part)
        outputs = [
            {"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]}
            for o in cb["output"].strip(".").split("...")
        ]
        return {
            "output": cb["output"],
            "outputs": outputs,
            "inputs": self._values(cb["inputs"], given),
            "state": self._values(cb["state"], given),
            "changedPropIds": [trigger],
            "parsedChangedPropsIds": [trigger],
        }

    def start(self, body: dict) -> dict:
        """Start a background job; return its handles (cacheKey, job)."""
        query = urllib.parse.urlencode({"endId": self.end_id})
        _, text = _request(f"{self.base}/_dash-update-component?{query}", body)
        return json.loads(text)

    def poll_once(self, body: dict, handles: dict) -> tuple[int, dict | None]:
        """Poll a job once; return the status and the JSON answer (None on 204)."""
        nulled = json.loads(json.dumps(body))
        for group in ("inputs", "state"):
            for dep in nulled[group]:
                if isinstance(dep, dict):
                    dep["value"] = None
        query = urllib.parse.urlencode(
            {
                "endId": self.end_id,
                "cacheKey": handles["cacheKey"],
                "job": handles["job"],
            }
        )
        status, text = _request(f"{self.base}/_dash-update-component?{query}", nulled)
        return status, (json.loads(text) if status == 200 and text else None)

    def run(self, body: dict, timeout: float = 240) -> dict | None:
        """Start a job and poll it to its end; return its result, None if lost."""
        handles = self.start(body)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            status, answer = self.poll_once(body, handles)
            if status == 204:
                return None  # no result, no job: the renderer stops here
            if answer is not None and "response" in answer:
                return answer["response"]
        raise AssertionError(f"the job did not end in {timeout} s")


def send_file(page: Page, path: Path) -> dict:
    """Send a file as ``assets/upload.js`` does: ``POST /upload`` with the page token.

    Returns the ``uploaded-store`` value the script sets from the 201 answer.
    """
    path = Path(path)
    request = urllib.request.Request(
        f"{page.base}/upload",
        data=path.read_bytes(),
        method="POST",
        headers={
            "Content-Type": "application/octet-stream",
            "X-File-Name": urllib.parse.quote(path.name),
            "X-Page-Token": page.props["page-token"]["data"],
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 201, response.status
        answer = json.loads(response.read().decode())
    return {
        "upload": answer["upload"],
        "filename": answer["filename"],
        "bytes": answer["bytes"],
        "sent": int(time.time() * 1000),
    }


def upload_body(page: Page, path: Path) -> dict:
    """The body of the upload job for the file at ``path`` sent from ``page``."""
    uploaded = send_file(page, path)
    return page.payload(
        "dataset-store.data",
        "uploaded-store.data",
        {"uploaded-store.data": uploaded},
    )


def wait_until_up(base: str, seconds: float = 120) -> None:
    """Wait until ``base + /api/health`` answers 200."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if _request(base + "/api/health", timeout=5)[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{base} did not start in {seconds} s")
        time.sleep(0.3)
