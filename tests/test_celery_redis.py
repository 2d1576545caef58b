"""Scale-out on Redis: API runs and a background callback finish on a Celery worker.

Needs a Redis server: ``SEGMENTATION_TEST_REDIS_URL`` (``.ci/run`` starts
Debian's ``redis-server`` on loopback and sets it). The test starts the
Procfile's worker line (``celery -A app.worker worker ...``) and the app's server
(``python -m app``) as processes of their own, both with ``REDIS_URL`` and one
data dir, and checks that the work ran in the worker's processes, not the web's.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest

from app import api_runs
from tests.dash_pages import Page, upload_body, wait_until_up
from tests.procfile_server import free_port, procfile_line

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("SEGMENTATION_TEST_REDIS_URL")
#: Seconds to wait for the worker and the server on a busy 2-core machine.
STARTUP_SECONDS = 120
#: A run or a job gives up after this long (not a speed check).
FINISH_SECONDS = 300

pytestmark = pytest.mark.skipif(
    not REDIS_URL,
    reason="SEGMENTATION_TEST_REDIS_URL is unset: no Redis server to test the "
    "Celery workers against (.ci/run starts one)",
)


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _tree(pid: int) -> set[int]:
    """Return ``pid`` and the pids of all its descendants now."""
    parent = psutil.Process(pid)
    return {pid, *(child.pid for child in parent.children(recursive=True))}


def _team_database(data: Path):
    """Yield the runs' database URL: a fresh PostgreSQL schema when there is a server.

    With ``SEGMENTATION_TEST_POSTGRES_URL`` (``.ci/run`` sets it) the web and
    worker processes save to PostgreSQL, as a team's would; without it to the
    SQLite file of the data dir they share.
    """
    from sqlalchemy import create_engine, text

    from tests import run_db

    if not run_db.POSTGRES_URL:
        yield None  # DATABASE_URL unset: SQLite files in the data dir
        return
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(run_db._database.database_url(Path("."), run_db.POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield run_db._postgres_schema_url(name)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def _running(data: Path, logs: Path, url: str, database: str | None = None):
    """Run the Procfile's worker and ``python -m app`` on Redis ``url``; yield them."""
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    env = {
        **os.environ,
        "REDIS_URL": url,
        **({"DATABASE_URL": database} if database else {}),
        "SEGMENTATION_DATA_DIR": str(data),
        "PYTHONPATH": str(ROOT),
    }
    words = shlex.split(procfile_line("worker"))
    assert words[:4] == ["celery", "-A", "app.worker", "worker"], words
    worker_cmd = [str(Path(sys.executable).parent / "celery"), *words[1:], "-n", name]
    worker_log = logs / "worker.log"
    port = free_port()
    web_log = logs / "web.log"
    with worker_log.open("wb") as wlog, web_log.open("wb") as slog:
        worker = subprocess.Popen(
            worker_cmd, cwd=ROOT, env=env, stdout=wlog, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        web = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=ROOT, env={**env, "PORT": str(port)},
            stdout=slog, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while " ready." not in worker_log.read_text(errors="replace"):
                if worker.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the worker did not start:\n" + worker_log.read_text())
                time.sleep(0.5)
            base = f"http://127.0.0.1:{port}"
            try:
                wait_until_up(base, STARTUP_SECONDS)
            except AssertionError:
                pytest.fail("the server did not start:\n" + web_log.read_text())
            yield {
                "base": base,
                "data": data,
                "worker": worker,
                "worker_name": name.replace("%h", os.uname().nodename),
                "worker_log": worker_log,
                "web": web,
                "redis": url,
                "database": database,
            }
        finally:
            _stop(web)
            _stop(worker)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The Procfile's worker and ``python -m app`` on Redis, nobody logged in."""
    data = tmp_path_factory.mktemp("celery-data")
    with _running(data, tmp_path_factory.mktemp("celery-logs"), REDIS_URL) as running:
        yield running


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """The same for a team: accounts alice and bob, an API key each."""
    from app.accounts import Accounts

    data = tmp_path_factory.mktemp("celery-team-data")
    databases = _team_database(data)
    database = next(databases)
    accounts = Accounts(url=database) if database else Accounts(directory=data)
    keys = {}
    for name in ("alice", "bob"):
        accounts.add_user(name, f"{name}'s long password")
        keys[name] = {"Authorization": f"Bearer {accounts.create_key(name)[1]}"}
    # another Redis database: its own queue, so the first stack's worker (alive
    # for the whole module) does not take these runs
    url = urllib.parse.urlsplit(REDIS_URL)._replace(path="/1").geturl()
    logs = tmp_path_factory.mktemp("celery-team-logs")
    try:
        with _running(data, logs, url, database=database) as running:
            yield {**running, "keys": keys}
    finally:
        accounts.engine.dispose()
        databases.close()  # drops the PostgreSQL schema, if one was made


def _post_run(
    base: str, name: str, data: bytes, headers: dict | None = None, **fields: str
) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
        f"{value}\r\n".encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        base + "/api/runs",
        data=body,
        method="POST",
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            **(headers or {}),
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())


def _get(url: str, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _poll(base: str, status_url: str, headers: dict | None = None) -> dict:
    deadline = time.monotonic() + FINISH_SECONDS
    while time.monotonic() < deadline:
        answer = _get(base + status_url, headers)
        if answer["status"] in ("done", "failed"):
            return answer
        time.sleep(0.5)
    pytest.fail(f"{status_url} did not finish")


def test_an_api_run_finishes_on_the_worker_not_the_web_process(stack, retail_ii_head):
    status, started = _post_run(
        stack["base"], retail_ii_head.name, retail_ii_head.read_bytes(), k="3"
    )
    assert status == 202, started
    assert started["status"] == "queued"
    done = _poll(stack["base"], started["status_url"])
    assert done["status"] == "done", done
    assert done["k"] == 3
    assert done["customers"] > 0

    record = api_runs.JobRecords(stack["data"], REDIS_URL).get(started["run_id"])
    ran_by = record["ran_by"]
    assert ran_by["worker"] == stack["worker_name"]
    assert ran_by["pid"] in _tree(stack["worker"].pid)
    assert ran_by["pid"] not in _tree(stack["web"].pid)
    assert record["saved_run_id"] == done["id"]
    # the upload was in Redis only until the worker took it
    assert api_runs.JobRecords(stack["data"], REDIS_URL).take_upload(
        started["run_id"]
    ) is None  # fmt: skip
    assert not (stack["data"] / "api_runs").exists()  # nothing on the web's disk


def test_a_bad_file_fails_on_the_worker_with_the_engines_message(stack):
    status, started = _post_run(stack["base"], "people.csv", b"name,age\nAda,36\n")
    assert status == 202
    failed = _poll(stack["base"], started["status_url"])
    assert failed["status"] == "failed"
    assert failed["message"].startswith("people.csv: no column for customer_id")


def test_a_background_callback_runs_as_a_celery_task(stack, retail_ii_head):
    from celery import Celery

    page = Page(stack["base"])
    body = upload_body(page, retail_ii_head)
    handles = page.start(body)  # signed by the app: the task id is inside
    deadline = time.monotonic() + FINISH_SECONDS
    result = None
    while result is None and time.monotonic() < deadline:
        time.sleep(0.5)
        status, answer = page.poll_once(body, handles)
        assert status != 204, "the job was lost"
        if answer is not None and "response" in answer:
            result = answer["response"]
    assert result is not None, "the upload job did not end"
    assert result["dataset-store"]["data"] is not None

    log = stack["worker_log"].read_text(errors="replace")
    ran = re.findall(
        r"Task (background_callback_\w+)\[([0-9a-f-]{36})\] succeeded", log
    )
    assert ran, log[-3000:]
    client = Celery(broker=REDIS_URL, backend=REDIS_URL)
    assert client.AsyncResult(ran[-1][1]).state == "SUCCESS"


def test_an_oversized_content_length_is_413_from_the_real_server(stack):
    over = api_runs.MAX_REQUEST_BYTES + 1
    request = urllib.request.Request(
        stack["base"] + "/api/runs",
        data=io.BytesIO(b""),
        method="POST",
        headers={
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(over),
        },
    )
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)
    assert answer.value.code == 413
    assert f"{api_runs.MAX_REQUEST_BYTES:,} bytes" in answer.value.read().decode()


def test_two_users_runs_finish_on_the_worker_each_seeing_its_own(
    team, retail_ii_head, retail_ii_sample
):
    import sqlalchemy

    files = {"alice": retail_ii_head, "bob": retail_ii_sample}
    started = {}
    for user, path in files.items():
        status, answer = _post_run(
            team["base"], path.name, path.read_bytes(), team["keys"][user], k="3"
        )
        assert status == 202, answer
        started[user] = answer
    done = {
        user: _poll(team["base"], answer["status_url"], team["keys"][user])
        for user, answer in started.items()
    }
    worker_pids = _tree(team["worker"].pid)
    records = api_runs.JobRecords(team["data"], team["redis"])
    from segmentation.runs import _database

    engine = sqlalchemy.create_engine(
        _database.database_url(team["data"], team["database"])
    )
    for user, answer in done.items():
        assert answer["status"] == "done", answer
        record = records.get(started[user]["run_id"])
        assert record["owner"] == user
        assert record["ran_by"]["pid"] in worker_pids
        assert record["ran_by"]["worker"] == team["worker_name"]
        listed = _get(team["base"] + "/api/runs", team["keys"][user])["runs"]
        assert [run["id"] for run in listed] == [answer["id"]]
        with engine.connect() as db:
            rows = db.execute(
                sqlalchemy.text(
                    "SELECT count(*) FROM customer_segments WHERE run_id = :id"
                ),
                {"id": answer["id"]},
            ).scalar_one()
        assert rows == answer["customers"] > 0
    engine.dispose()
    with pytest.raises(urllib.error.HTTPError) as other:
        _get(team["base"] + started["bob"]["status_url"], team["keys"]["alice"])
    assert other.value.code == 404
    assert done["alice"]["customers"] != done["bob"]["customers"]
