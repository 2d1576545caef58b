"""Accounts and API keys: the ``python -m app users|keys`` commands and the store."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.accounts import (
    ACCOUNTS_FILE,
    KEY_PREFIX,
    AccountError,
    Accounts,
    check_name,
    check_password,
)

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"


def cli(data: Path, *words: str, stdin: str = "") -> subprocess.CompletedProcess:
    """Run ``python -m app WORDS`` on the data folder ``data``."""
    env = {**os.environ, "SEGMENTATION_DATA_DIR": str(data)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "app", *words],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A data folder where the command line added alice (and removed carol)."""
    folder = tmp_path_factory.mktemp("accounts")
    assert cli(folder, "users", "add", "alice", stdin=PASSWORD + "\n").returncode == 0
    assert (
        cli(folder, "users", "add", "carol", stdin="another password\n").returncode == 0
    )
    assert cli(folder, "users", "remove", "carol").returncode == 0
    return folder


def test_users_add_list_remove(data):
    listed = cli(data, "users", "list")
    assert listed.returncode == 0
    names = [line.split("\t")[0] for line in listed.stdout.splitlines()]
    assert names == ["alice"]  # carol was removed
    assert Accounts(directory=data).verify_password("alice", PASSWORD)
    assert not Accounts(directory=data).verify_password("alice", PASSWORD + "!")
    assert not Accounts(directory=data).verify_password("carol", "another password")


def test_key_is_the_last_line_and_works_until_revoked(data):
    made = cli(data, "keys", "create", "alice")
    assert made.returncode == 0
    key = made.stdout.splitlines()[-1]
    assert key.startswith(KEY_PREFIX) and len(key) == len(KEY_PREFIX) + 43
    accounts = Accounts(directory=data)
    assert accounts.user_for_key(key) == "alice"
    assert accounts.user_for_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    key_id = next(k.id for k in accounts.keys("alice") if key.startswith(k.shown))
    listed = cli(data, "keys", "list")
    row = next(r for r in listed.stdout.splitlines() if r.startswith(f"{key_id}\t"))
    assert "\talice\t" in row and row.endswith("active") and key not in listed.stdout
    assert cli(data, "keys", "revoke", str(key_id)).returncode == 0
    assert accounts.user_for_key(key) is None
    assert "revoked" in cli(data, "keys", "list", "alice").stdout.splitlines()[-1]


def test_secrets_are_hashed_at_rest(data):
    key = cli(data, "keys", "create", "alice").stdout.splitlines()[-1]
    files = [data / ACCOUNTS_FILE, *data.glob(ACCOUNTS_FILE + "-*")]
    raw = b"".join(path.read_bytes() for path in files)
    assert PASSWORD.encode() not in raw
    assert key.encode() not in raw
    assert key[len(KEY_PREFIX) + 8 :].encode() not in raw  # no tail of it either
    # what is stored: an Argon2id hash and the key's SHA-256
    with sqlite3.connect(data / ACCOUNTS_FILE) as db:
        (hashed,) = db.execute("SELECT password_hash FROM users").fetchone()
        digests = {row[0] for row in db.execute("SELECT key_sha256 FROM api_keys")}
    assert hashed.startswith("$argon2id$")
    assert hashlib.sha256(key.encode()).hexdigest() in digests
    assert oct((data / ACCOUNTS_FILE).stat().st_mode & 0o777) == "0o600"


def test_removing_a_user_removes_their_keys(tmp_path):
    accounts = Accounts(directory=tmp_path)
    accounts.add_user("dave", PASSWORD)
    _, key = accounts.create_key("dave")
    accounts.remove_user("dave")
    assert accounts.user_for_key(key) is None
    assert accounts.count_keys() == 0
    assert not accounts.has_users()


# Refusals: (command, stdin, message) ------------------------------------------------
REFUSED = [
    (("users", "add", "alice"), PASSWORD + "\n", "user 'alice' exists already"),
    (("users", "add", "eve"), "short\n", "5 characters; at least 8"),
    (("users", "add", "eve"), "", "no password on standard input"),
    (("users", "add", "a b"), PASSWORD + "\n", "user name 'a b' is not allowed"),
    (("users", "remove", "nobody"), "", "no user 'nobody'"),
    (("keys", "create", "nobody"), "", "no user 'nobody'"),
    (("keys", "list", "nobody"), "", "no user 'nobody'"),
    (("keys", "revoke", "999"), "", "no API key 999"),
]


@pytest.mark.parametrize(("words", "stdin", "message"), REFUSED)
def test_refusals_say_why(data, words, stdin, message):
    done = cli(data, *words, stdin=stdin)
    assert done.returncode == 1
    assert message in done.stderr
    assert done.stdout == ""


def test_bad_command_is_argparse_usage(data):
    done = cli(data, "keys", "revoke", "first")
    assert done.returncode == 2 and "invalid int value: 'first'" in done.stderr


@pytest.mark.parametrize(
    "name", ["", "a" * 65, "x/y", "name\n", "ünï", "<script>", "a b"]
)
def test_bad_names(name):
    with pytest.raises(AccountError, match="is not allowed"):
        check_name(name)


def test_names_and_passwords_at_the_limits():
    assert check_name("a" * 64) == "a" * 64
    assert check_name("ann.lee@shop-1_x") == "ann.lee@shop-1_x"
    assert check_password("8 chars!") == "8 chars!"
    with pytest.raises(AccountError, match="7 characters"):
        check_password("7 chars")
    with pytest.raises(AccountError, match="1,025 characters; at most 1,024"):
        check_password("p" * 1025)


def test_an_unknown_command_is_refused_not_served(data):
    # python -m app with any word is the account commands, never the server
    done = cli(data, "serve")
    assert done.returncode == 2
    assert "invalid choice: 'serve' (choose from 'users', 'keys')" in done.stderr


def test_tables_made_by_another_process_meanwhile_are_not_a_fault(
    tmp_path, monkeypatch
):
    # the web server and a Celery worker open the accounts database at the same
    # moment: one's CREATE TABLE meets the table the other just made (seen:
    # "table users already exists" stopped a worker from starting)
    from sqlalchemy import create_engine

    from app import accounts

    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    real = accounts.METADATA.create_all
    calls = []

    def racing(engine, *args, **kwargs):
        calls.append(engine)
        if len(calls) == 1:  # the other process wins the race, then ours fails
            real(create_engine(url))
            with engine.begin() as db:
                db.exec_driver_sql("CREATE TABLE users (id INTEGER)")
        return real(engine, *args, **kwargs)

    monkeypatch.setattr(accounts.METADATA, "create_all", racing)
    store = accounts.Accounts(url)
    assert len(calls) == 2
    assert store.has_users() is False
