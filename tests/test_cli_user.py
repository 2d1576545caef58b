"""``python -m segmentation FILE --save --user NAME``: whose saved run it is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from segmentation.runs import RunStore

ROOT = Path(__file__).resolve().parents[1]
EXPORT = ROOT / "tests" / "data" / "exports" / "uci_returns.csv"


def segment(data: Path, *words: str) -> subprocess.CompletedProcess:
    """Run the command line on the test export, saving in the data folder ``data``."""
    env = {**os.environ, "SEGMENTATION_DATA_DIR": str(data)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "segmentation", str(EXPORT), "--no-lifetime", *words],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """A data folder with accounts alice and bob, a run saved as alice's and one
    saved without --user; returns (folder, {user: API key}, {owner: run id})."""
    from app.accounts import Accounts

    data = tmp_path_factory.mktemp("team")
    accounts = Accounts(directory=data)
    accounts.add_user("alice", "alice's long password")
    accounts.add_user("bob", "bob's long password")
    keys = {name: accounts.create_key(name)[1] for name in ("alice", "bob")}
    saved = segment(data, "--save", "--user", "alice", "-q")
    assert saved.returncode == 0, saved.stderr
    local = segment(data, "--save", "-k", "3", "-q")
    assert local.returncode == 0, local.stderr
    runs = {"alice": saved.stdout.splitlines()[-1], None: local.stdout.splitlines()[-1]}
    return data, keys, runs


def test_the_run_is_saved_as_the_users(team):
    data, _, runs = team
    store = RunStore(data)
    assert store.entry(runs["alice"])["owner"] == "alice"
    assert store.entry(runs[None])["owner"] is None


def test_the_users_key_lists_the_run_and_another_users_key_does_not(team, monkeypatch):
    from app import create_app

    data, keys, runs = team
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    client = create_app(data, first_screen=False).server.test_client()
    alice = {"Authorization": f"Bearer {keys['alice']}"}
    bob = {"Authorization": f"Bearer {keys['bob']}"}

    listed = client.get("/api/runs", headers=alice)
    assert listed.status_code == 200
    assert [run["id"] for run in listed.json["runs"]] == [runs["alice"]]
    assert client.get("/api/runs", headers=bob).json["runs"] == []
    assert client.get(f"/api/runs/{runs['alice']}", headers=alice).status_code == 200
    assert client.get(f"/api/runs/{runs['alice']}", headers=bob).status_code == 404
    # the local workspace's run is no account's
    assert client.get(f"/api/runs/{runs[None]}", headers=alice).status_code == 404


def test_without_user_the_run_is_the_local_workspaces(tmp_path, monkeypatch):
    # python -m app on loopback without accounts lists it: the runs list (a
    # Dash callback, called as a function in a request to that app)
    from app import create_app
    from app.callbacks.runs import list_runs

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    saved = segment(tmp_path, "--save", "-k", "3")
    assert saved.returncode == 0, saved.stderr
    run_id = saved.stdout.splitlines()[-1]
    database = tmp_path / "segmentation.db"
    assert f"Saved run {run_id} for the local workspace in {database}" in saved.stderr
    assert RunStore(tmp_path).entry(run_id)["owner"] is None
    app = create_app(tmp_path, first_screen=False)
    with app.server.test_request_context("/"):
        rows = list_runs(None).children
    assert [row.title for row in rows] == [run_id]


# Refusals: (arguments, the error line) ----------------------------------------------
REFUSED = [
    (
        ("--save", "--user", "carol"),
        "error: --user: no account 'carol' in {db} (add it with python -m app "
        "users add carol, or leave --user out to save the run in the local "
        "workspace); nothing was saved",
    ),
    (
        ("--user", "alice"),
        "error: --user names whose saved run it is: give --save too",
    ),
    (
        ("--save", "--user", "a b"),
        "error: argument --user: --user: 'a b' is not an account name (1 to 64 "
        "letters, digits and _ . @ -)",
    ),
]


@pytest.mark.parametrize(("words", "message"), REFUSED)
def test_refusals_say_why_and_save_nothing(team, words, message):
    data, _, runs = team
    done = segment(data, *words)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == message.format(
        db=data / "segmentation.db"
    )
    assert done.stdout == ""
    assert {run["id"] for run in RunStore(data).list(50)} == set(runs.values())
