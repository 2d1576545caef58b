"""Log-in, API keys, runs that belong to users, rate limits and the exposure check.

The app is built by ``create_app`` on a temporary data folder and driven with
Flask's test client; one test starts the Procfile's gunicorn on 0.0.0.0.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import flask
import pytest

import segmentation
from app import create_app, ids
from app.accounts import Accounts
from app.auth import (
    ExposedWithoutAccountsError,
    RateLimiter,
    check_exposure,
    is_loopback,
    parse_rate,
)
from app.callbacks import runs as run_callbacks
from segmentation.errors import RunNotFoundError
from segmentation.runs import RunStore
from tests.test_runs import tiny_prepared

ROOT = Path(__file__).resolve().parents[1]
ALICE_PASSWORD = "alice's long password"
BOB_PASSWORD = "bob's long password"
HIGH = {"recency_days": 5, "frequency": 25, "monetary": 7_000}


class Served:
    """A data folder with alice and bob, a key and a run each, and the app."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.accounts = Accounts(directory=folder)
        self.accounts.add_user("alice", ALICE_PASSWORD)
        self.accounts.add_user("bob", BOB_PASSWORD)
        self.alice_key = self.accounts.create_key("alice")[1]
        self.bob_key = self.accounts.create_key("bob")[1]
        store = RunStore(folder)
        seg = segmentation.segment(tiny_prepared(), 2, seed=0, anomaly_share=0.1)
        self.alice_run = store.save(tiny_prepared(), seg, source="app", owner="alice")
        self.bob_run = store.save(
            tiny_prepared(sha256="ee" * 32), seg, source="app", owner="bob"
        )
        self.local_run = store.save(tiny_prepared(sha256="dd" * 32), seg)
        self.app = create_app(folder)

    def client(self):
        return self.app.server.test_client()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    os.environ.pop("SEGMENTATION_REQUIRE_LOGIN", None)
    return Served(tmp_path_factory.mktemp("auth"))


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def log_in(client, name: str, password: str, target: str = "/"):
    return client.post(
        "/login", data={"name": name, "password": password, "next": target}
    )


# Without a session or a key --------------------------------------------------------
def test_pages_redirect_to_the_login_page(served):
    client = served.client()
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=%2F"
    response = client.get("/?dataset=abc&k=4")
    assert response.headers["Location"] == "/login?next=%2F%3Fdataset%3Dabc%26k%3D4"
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="password" type="password"' in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/runs"),
        ("GET", "/api/runs/20200101T000000-abcdef12-k3"),
        ("POST", "/api/segment"),
        ("GET", "/_dash-layout"),
        ("GET", "/_dash-dependencies"),
        ("POST", "/_dash-update-component"),
        ("POST", "/upload"),
    ],
)
def test_everything_else_is_401_json(served, method, path):
    response = served.client().open(path, method=method, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "log in first" in response.json["error"]


@pytest.mark.parametrize("path", ["/api/health", "/api/openapi.json", "/api/docs"])
def test_open_paths(served, path):
    assert served.client().get(path).status_code == 200


@pytest.mark.parametrize("header", ["Bearer seg_nothing", "Bearer ", "bearer x"])
def test_a_bad_key_is_401_everywhere(served, header):
    for path in ("/api/runs", "/api/health", "/"):
        response = served.client().get(path, headers={"Authorization": header})
        assert response.status_code == 401, path
        assert response.json == {"error": "the API key is unknown or revoked"}


# With a key: each user sees their own runs -----------------------------------------
def test_a_key_lists_its_users_runs_only(served):
    client = served.client()
    alice = client.get("/api/runs", headers=bearer(served.alice_key))
    assert alice.status_code == 200
    assert [r["id"] for r in alice.json["runs"]] == [served.alice_run]
    bob = client.get("/api/runs", headers=bearer(served.bob_key))
    assert [r["id"] for r in bob.json["runs"]] == [served.bob_run]


@pytest.mark.parametrize("suffix", ["", "/summary", "/migration"])
def test_another_users_run_is_404(served, suffix):
    client = served.client()
    mine = client.get(
        f"/api/runs/{served.alice_run}{suffix}", headers=bearer(served.alice_key)
    )
    theirs = client.get(
        f"/api/runs/{served.bob_run}{suffix}", headers=bearer(served.alice_key)
    )
    local = client.get(
        f"/api/runs/{served.local_run}{suffix}", headers=bearer(served.alice_key)
    )
    # alice's run has no migration: 404 that says so; bob's and the local one: unknown
    assert mine.status_code == (404 if suffix == "/migration" else 200)
    assert theirs.status_code == local.status_code == 404
    assert theirs.json == {"error": f"no saved run {served.bob_run!r}"}


def test_scoring_uses_the_users_own_runs(served):
    client = served.client()
    scored = client.post("/api/segment", json=HIGH, headers=bearer(served.bob_key))
    assert scored.status_code == 200
    assert scored.json["run_id"] == served.bob_run  # not alice's, nor the local one
    theirs = client.post(
        "/api/segment",
        json={**HIGH, "run_id": served.alice_run},
        headers=bearer(served.bob_key),
    )
    assert theirs.status_code == 404


# With a session --------------------------------------------------------------------
def test_log_in_and_out(served):
    client = served.client()
    wrong = log_in(client, "alice", BOB_PASSWORD)
    assert wrong.status_code == 401
    assert "Unknown user name or wrong password." in wrong.get_data(as_text=True)
    assert log_in(client, "nobody", BOB_PASSWORD).status_code == 401
    right = log_in(client, "alice", ALICE_PASSWORD, "/?k=4")
    assert right.status_code == 303 and right.headers["Location"] == "/?k=4"
    assert client.get("/").status_code == 200
    listed = client.get("/api/runs").json["runs"]  # the session works for the API
    assert [r["id"] for r in listed] == [served.alice_run]
    assert client.post("/logout").status_code == 303
    assert client.get("/").status_code == 303


@pytest.mark.parametrize(
    "target",
    ["https://elsewhere.example/", "//elsewhere.example/", "/\\elsewhere", "x"],
)
def test_after_log_in_only_local_pages(served, target):
    response = log_in(served.client(), "alice", ALICE_PASSWORD, target)
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_a_removed_users_session_ends(served):
    served.accounts.add_user("carol", "carol's long password")
    client = served.client()
    assert log_in(client, "carol", "carol's long password").status_code == 303
    assert client.get("/").status_code == 200
    served.accounts.remove_user("carol")
    assert client.get("/").status_code == 303


def reopen_buttons(component) -> list:
    """Return the ids of the Reopen buttons in a Dash component tree."""
    if isinstance(component, list | tuple):
        return [i for child in component for i in reopen_buttons(child)]
    found = getattr(component, "id", None)
    own = [found] if isinstance(found, dict) and found["type"] == "run-reopen" else []
    children = getattr(component, "children", None)
    return own + (reopen_buttons(children) if children is not None else [])


def test_the_app_lists_and_reopens_the_users_runs_only(served):
    with served.app.server.test_request_context("/"):
        flask.g.segmentation_user = "alice"
        listed = reopen_buttons(run_callbacks.list_runs(None))
        with pytest.raises(RunNotFoundError):
            run_callbacks.reopen(served.bob_run)
    assert listed == [ids.run_reopen(served.alice_run)]


def test_session_secret_is_private_and_kept(served):
    path = served.folder / "flask_secret_key"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert served.app.server.secret_key == bytes.fromhex(path.read_text())
    again = create_app(served.folder)
    assert again.server.secret_key == served.app.server.secret_key


# Without accounts ------------------------------------------------------------------
def test_no_account_on_loopback_stays_open(tmp_path, monkeypatch):
    monkeypatch.delenv("SEGMENTATION_REQUIRE_LOGIN", raising=False)
    client = create_app(tmp_path).server.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/api/runs").json == {"runs": []}


def test_require_login_without_accounts(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGMENTATION_REQUIRE_LOGIN", "1")
    client = create_app(tmp_path).server.test_client()
    assert client.get("/").status_code == 303
    assert client.get("/api/runs").status_code == 401


# Rate limit ------------------------------------------------------------------------
def test_rate_limit_per_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGMENTATION_API_RATE", "3/hour")
    accounts = Accounts(directory=tmp_path)
    accounts.add_user("alice", ALICE_PASSWORD)
    accounts.add_user("bob", BOB_PASSWORD)
    alice, bob = accounts.create_key("alice")[1], accounts.create_key("bob")[1]
    client = create_app(tmp_path).server.test_client()
    codes = [
        client.get("/api/runs", headers=bearer(alice)).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/runs", headers=bearer(alice))
    # 3 an hour: the next one is free 1,200 s after the bucket emptied
    assert refused.headers["Retry-After"] == "1200"
    assert "rate limit of 3 requests per 3600 s" in refused.json["error"]
    assert client.get("/api/runs", headers=bearer(bob)).status_code == 200


def test_token_bucket_by_hand():
    now = [0.0]
    limiter = RateLimiter(2, 10, clock=lambda: now[0])  # 2 at once, 1 per 5 s
    assert [limiter.take("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("a") == pytest.approx(5.0)
    now[0] = 2.0  # 0.4 of a token back
    assert limiter.take("a") == pytest.approx(3.0)
    now[0] = 5.0
    assert limiter.take("a") == 0.0
    assert limiter.take("b") == 0.0  # another key has its own bucket
    now[0] = 1000.0
    assert [limiter.take("a") for _ in range(3)][2] == pytest.approx(5.0)  # burst 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [("120/minute", (120, 60)), ("5 / second", (5, 1)), ("1/hour", (1, 3600))],
)
def test_rates(text, expected):
    assert parse_rate(text) == expected


@pytest.mark.parametrize(
    "text", ["", "0/minute", "10", "10/day", "-1/second", "a/hour"]
)
def test_bad_rates(text):
    with pytest.raises(ValueError, match=r"SEGMENTATION_API_RATE=.* is not a rate"):
        parse_rate(text)


# Exposure --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("fe80::1%eth0", False),
        ("localhost", False),  # not an address: not trusted
    ],
)
def test_loopback_addresses(address, loopback):
    assert is_loopback(address) is loopback


REFUSE = [
    (["0.0.0.0"], False, {}, True),
    (["::"], False, {}, True),
    (["127.0.0.1", "10.0.0.4"], False, {}, True),
    (["127.0.0.1"], False, {}, False),
    ([], False, {}, False),
    (["0.0.0.0"], True, {}, False),
    (["0.0.0.0"], False, {"SEGMENTATION_ALLOW_ANONYMOUS": "1"}, False),
    (["0.0.0.0"], False, {"SEGMENTATION_REQUIRE_LOGIN": "1"}, False),
    (["0.0.0.0"], False, {"SEGMENTATION_ALLOW_ANONYMOUS": "0"}, True),
]


@pytest.mark.parametrize(("addresses", "accounts", "environ", "refused"), REFUSE)
def test_exposure_table(addresses, accounts, environ, refused):
    if refused:
        with pytest.raises(ExposedWithoutAccountsError, match="refusing to serve on"):
            check_exposure(addresses, accounts, environ)
    else:
        check_exposure(addresses, accounts, environ)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_on_every_address_without_accounts_refuses_to_start(tmp_path):
    env = {**os.environ, "SEGMENTATION_DATA_DIR": str(tmp_path)}
    for name in ("SEGMENTATION_ALLOW_ANONYMOUS", "SEGMENTATION_REQUIRE_LOGIN"):
        env.pop(name, None)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c",
        "app/gunicorn_conf.py",
        "app.asgi:application",
        "--bind",
        f"0.0.0.0:{_free_port()}",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    assert process.returncode != 0
    assert "refusing to serve on 0.0.0.0" in output
    assert "python -m app users add NAME" in output
