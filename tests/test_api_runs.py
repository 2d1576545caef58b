"""Runs through the API without Redis: ``POST /api/runs`` on the local process pool.

The work runs in a pool process of the web process (:mod:`app.api_runs`); the
tests poll ``GET /api/runs/<job id>`` as a client would, and compare the saved
run with the command line's answer for the same real file.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import flask
import pytest

from app import api_runs
from app.api import register_api
from segmentation.io import DEFAULT_LIMITS
from segmentation.runs import RunStore

ROOT = Path(__file__).resolve().parents[1]
#: A poll gives up after this long (a busy 2-core machine; not a speed check).
POLL_SECONDS = 300


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.delenv(api_runs.ENV_REDIS_URL, raising=False)
    server = flask.Flask("api-runs-test")
    register_api(server, store_factory=lambda: RunStore(tmp_path))
    return server.test_client()


def _start(client, name: str, data: bytes, **fields) -> flask.Response:
    form = {"file": (io.BytesIO(data), name), **fields}
    return client.post("/api/runs", data=form, content_type="multipart/form-data")


def poll(get, status_url: str) -> dict:
    """Ask ``status_url`` until the run is done or failed; return the last answer."""
    seen = []
    deadline = time.monotonic() + POLL_SECONDS
    while time.monotonic() < deadline:
        answer = get(status_url)
        if not seen or seen[-1] != answer["status"]:
            seen.append(answer["status"])
        assert answer["status"] in api_runs.STATUSES, answer
        if answer["status"] in ("done", "failed"):
            return answer
        time.sleep(0.5)
    pytest.fail(f"the run did not finish; statuses seen: {seen}")


def test_a_run_is_queued_then_done_with_the_command_lines_customers(
    client, retail_ii_sample, tmp_path
):
    started = _start(
        client, retail_ii_sample.name, retail_ii_sample.read_bytes(), k="4"
    )
    assert started.status_code == 202, started.json
    job = started.json["run_id"]
    assert api_runs.is_job_id(job)
    assert started.json == {
        "run_id": job,
        "status": "queued",
        "status_url": f"/api/runs/{job}",
    }
    assert started.headers["Location"] == f"/api/runs/{job}"

    done = poll(lambda url: client.get(url).json, started.json["status_url"])
    assert done["status"] == "done", done
    assert done["run_id"] == job
    assert done["k"] == 4
    assert done["file"] == retail_ii_sample.name

    out = tmp_path / "cli.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "segmentation",
            str(retail_ii_sample),
            "-k",
            "4",
            "-o",
            str(out),
            "-q",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=POLL_SECONDS,
    )
    with out.open(newline="", encoding="utf-8") as rows:
        cli_customers = sum(1 for _ in csv.DictReader(rows))
    assert done["customers"] == cli_customers > 0

    # the saved run is the store's: its own id answers, and the job ran elsewhere
    saved = client.get(f"/api/runs/{done['id']}")
    assert saved.status_code == 200
    assert saved.json["customers"] == cli_customers
    # the job id stands for the saved run on the run's other routes
    summary = client.get(f"/api/runs/{job}/summary")
    assert summary.status_code == 200
    assert summary.json == client.get(f"/api/runs/{done['id']}/summary").json

    record = api_runs.JobRecords(tmp_path).get(job)
    assert record["ran_by"]["pid"] != os.getpid()
    assert record["saved_run_id"] == done["id"]
    assert record["owner"] is None  # no accounts: the local workspace
    assert not list((tmp_path / "api_runs").glob("*.upload"))  # taken by the job


def test_a_bad_file_fails_with_the_engines_message(client):
    started = _start(client, "people.csv", b"name,age\nAda,36\nAlan,41\n")
    assert started.status_code == 202
    failed = poll(lambda url: client.get(url).json, started.json["status_url"])
    assert failed["status"] == "failed"
    assert failed["message"].startswith("people.csv: no column for customer_id")
    assert "headers are: name, age" in failed["message"]
    summary = client.get(f"/api/runs/{started.json['run_id']}/summary")
    assert summary.status_code == 409
    assert summary.json["error"] == (
        f"run {started.json['run_id']} failed: {failed['message']}"
    )


def test_a_content_length_over_the_limit_is_413_before_reading(client):
    over = DEFAULT_LIMITS.max_bytes + api_runs.RUN_FORM_BYTES + 1
    answer = client.post(
        "/api/runs",
        data=b"--x--\r\n",  # the body is never read: the length alone decides
        content_type="multipart/form-data; boundary=x",
        environ_overrides={"CONTENT_LENGTH": str(over)},
    )
    assert answer.status_code == 413
    assert answer.json == {
        "error": f"the request is {over:,} bytes, over the limit of "
        f"{over - 1:,} (a file of at most {DEFAULT_LIMITS.max_bytes:,} bytes)"
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"k": "11"}, "k must be 2..10, got 11"),
        ({"k": "four"}, "k must be a whole number 2..10"),
        ({"method": "dbscan"}, "method must be one of kmeans, gmm, ward, hdbscan"),
        ({"mapping": "{not json"}, "mapping is not valid JSON"),
        ({"as_of": "false"}, "as_of must be a date YYYY-MM-DD, got 'false'"),
        ({"mapping": '["Customer ID"]'}, "mapping must be a JSON object"),
    ],
)
def test_bad_fields_are_400_naming_them(client, tmp_path, fields, message):
    answer = _start(client, "x.csv", b"a,b\n1,2\n", **fields)
    assert answer.status_code == 400
    assert message in answer.json["error"]
    assert not list(tmp_path.glob("api_runs/*.json"))  # no job kept


def test_no_file_is_400(client):
    answer = client.post(
        "/api/runs", data={"k": "3"}, content_type="multipart/form-data"
    )
    assert answer.status_code == 400
    assert answer.json == {
        "error": "file: send the export as the multipart field 'file'"
    }


def test_an_unknown_job_is_404(client):
    answer = client.get("/api/runs/job-20260101T000000-0123abcd")
    assert answer.status_code == 404
    assert "job-20260101T000000-0123abcd" in answer.json["error"]


def test_a_queued_runs_results_are_409_until_done(client, tmp_path):
    job = api_runs.new_job_id()
    record = {"run_id": job, "status": "queued", "owner": None}
    api_runs.JobRecords(tmp_path).create(job, record, b"")
    answer = client.get(f"/api/runs/{job}")
    assert answer.status_code == 200
    assert answer.json == {"run_id": job, "status": "queued"}
    migration = client.get(f"/api/runs/{job}/migration")
    assert migration.status_code == 409
    assert migration.json["error"] == (
        f"run {job} is queued: its results are there once GET /api/runs/{job} says done"
    )


def test_a_run_belongs_to_the_keys_user(tmp_path, monkeypatch, retail_ii_head):
    from app import create_app
    from app.accounts import Accounts

    monkeypatch.delenv(api_runs.ENV_REDIS_URL, raising=False)
    accounts = Accounts(directory=tmp_path)
    accounts.add_user("alice", "alice's long password")
    accounts.add_user("bob", "bob's long password")
    alice = {"Authorization": f"Bearer {accounts.create_key('alice')[1]}"}
    bob = {"Authorization": f"Bearer {accounts.create_key('bob')[1]}"}
    client = create_app(tmp_path, first_screen=False).server.test_client()
    data = retail_ii_head.read_bytes()

    assert _start(client, retail_ii_head.name, data).status_code == 401
    started = client.post(
        "/api/runs",
        data={"file": (io.BytesIO(data), retail_ii_head.name)},
        headers=alice,
        content_type="multipart/form-data",
    )
    assert started.status_code == 202, started.json
    url = started.json["status_url"]
    done = poll(lambda u: client.get(u, headers=alice).json, url)
    assert done["status"] == "done", done

    assert client.get(url, headers=bob).status_code == 404
    assert client.get(f"/api/runs/{done['id']}", headers=bob).status_code == 404
    assert client.get(f"{url}/summary", headers=bob).status_code == 404
    assert RunStore(tmp_path).entry(done["id"])["owner"] == "alice"
    assert api_runs.JobRecords(tmp_path).get(started.json["run_id"])["owner"] == "alice"


def test_a_running_job_whose_process_is_gone_answers_failed(client, tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    job = api_runs.new_job_id()
    record = {
        "run_id": job,
        "status": "running",
        "owner": None,
        "ran_by": {"hostname": os.uname().nodename, "pid": int(gone.stdout)},
    }
    api_runs.JobRecords(tmp_path).create(job, record, b"")
    answer = client.get(f"/api/runs/{job}").json
    assert answer["status"] == "failed"
    assert answer["message"].startswith("the run's process stopped before it finished")
    assert api_runs.JobRecords(tmp_path).get(job)["status"] == "failed"
