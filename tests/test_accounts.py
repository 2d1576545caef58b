"""Accounts and API keys: the ``python -m app users|keys`` commands and the store."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import argon2
import pytest

from app.accounts import (
    ACCOUNTS_FILE,
    API_KEYS,
    KEY_PREFIX,
    METADATA,
    USERS,
    AccountError,
    Accounts,
    check_name,
    check_password,
)
from segmentation.runs import SQLITE_FILE
from tests import run_db

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
    files = [data / SQLITE_FILE, *data.glob(SQLITE_FILE + "-*")]
    raw = b"".join(path.read_bytes() for path in files)
    assert PASSWORD.encode() not in raw
    assert key.encode() not in raw
    assert key[len(KEY_PREFIX) + 8 :].encode() not in raw  # no tail of it either
    # what is stored: an Argon2id hash and the key's SHA-256
    with sqlite3.connect(data / SQLITE_FILE) as db:
        (hashed,) = db.execute("SELECT password_hash FROM users").fetchone()
        digests = {row[0] for row in db.execute("SELECT key_sha256 FROM api_keys")}
    assert hashed.startswith("$argon2id$")
    assert hashlib.sha256(key.encode()).hexdigest() in digests
    assert oct((data / SQLITE_FILE).stat().st_mode & 0o777) == "0o600"
    assert not (data / ACCOUNTS_FILE).exists()  # one database: runs and accounts


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


def test_a_database_url_of_another_kind_is_refused(tmp_path):
    env = {**os.environ, "DATABASE_URL": "mysql://user:secret@127.0.0.1/shop"}
    done = subprocess.run(
        [sys.executable, "-m", "app", "users", "list"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "SEGMENTATION_DATA_DIR": str(tmp_path)},
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "error: DATABASE_URL must name SQLite or PostgreSQL, got 'mysql'\n"
    )


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


# The accounts' tables in the run database's Alembic history -----------------------
MIGRATIONS = ROOT / "segmentation" / "runs" / "migrations"
OPEN_ACCOUNTS = (
    "import sys; from app.accounts import Accounts; "
    "print(Accounts(directory=sys.argv[1]).has_users())"
)


def head_revision() -> str:
    """The one head of the migrations (two heads would be a forked history)."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    return heads[0]


def stored_revision(database: Path) -> str:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT version_num FROM runs_alembic_version").fetchone()[0]


def table_names(database: Path) -> set[str]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_a_fresh_database_ends_at_head_with_runs_and_accounts(tmp_path):
    accounts = Accounts(directory=tmp_path)
    assert accounts.has_users() is False
    database = tmp_path / SQLITE_FILE
    assert stored_revision(database) == head_revision()
    assert {"runs", "customer_segments", "users", "api_keys"} <= table_names(database)
    accounts.add_user("erin", PASSWORD)
    assert accounts.verify_password("erin", PASSWORD)


def old_style_accounts(url: str) -> str:
    """Make the accounts tables as earlier versions did (create_all), one user and
    one key in them; return the key."""
    from sqlalchemy import create_engine, insert

    engine = create_engine(url)
    METADATA.create_all(engine)
    key = KEY_PREFIX + "k" * 43
    with engine.begin() as db:
        db.execute(
            insert(USERS).values(
                id=7,
                name="olga",
                password_hash=argon2.PasswordHasher().hash(PASSWORD),
                created=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            )
        )
        db.execute(
            insert(API_KEYS).values(
                user_id=7,
                key_sha256=hashlib.sha256(key.encode()).hexdigest(),
                shown=key[:12],
                created=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
            )
        )
    engine.dispose()
    return key


backend = run_db.backend  # SQLite, and PostgreSQL when a server is named


def test_tables_made_by_create_all_beside_revision_0001_end_at_head(backend):
    # a database of the previous version: the run tables at revision 0001 and
    # the accounts tables made outside the history, with an account in them
    from alembic import command
    from sqlalchemy import create_engine, text

    from segmentation.runs import _database

    engine = create_engine(_database.database_url(Path("."), backend))
    with engine.begin() as connection:
        command.upgrade(_database.alembic_config(connection), "0001")
    key = old_style_accounts(str(engine.url.render_as_string(hide_password=False)))
    version = text("SELECT version_num FROM runs_alembic_version")
    with engine.connect() as connection:
        assert connection.execute(version).scalar_one() == "0001"

    accounts = Accounts(backend)
    with engine.connect() as connection:
        assert connection.execute(version).scalar_one() == head_revision()
    engine.dispose()
    assert accounts.users()[0][0] == "olga"
    assert accounts.users()[0][1] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert accounts.verify_password("olga", PASSWORD)
    assert accounts.user_for_key(key) == "olga"
    # new accounts get ids after the kept ones
    accounts.add_user("paul", PASSWORD)
    assert [name for name, _ in accounts.users()] == ["olga", "paul"]


def test_accounts_of_the_old_accounts_file_are_copied_once(tmp_path):
    # earlier versions kept the accounts in data/accounts.db, apart from the runs
    key = old_style_accounts(f"sqlite:///{tmp_path / ACCOUNTS_FILE}")
    accounts = Accounts(directory=tmp_path)
    assert [name for name, _ in accounts.users()] == ["olga"]
    assert accounts.verify_password("olga", PASSWORD)
    assert accounts.user_for_key(key) == "olga"
    assert [k.id for k in accounts.keys("olga")] == [1]
    # the new database is the one written from now on
    accounts.remove_user("olga")
    assert Accounts(directory=tmp_path).users() == []
    with sqlite3.connect(tmp_path / ACCOUNTS_FILE) as old:
        assert old.execute("SELECT name FROM users").fetchall() == [("olga",)]


def test_processes_opening_a_new_database_together_make_the_tables_once(tmp_path):
    # the web server and a Celery worker open the database at the same moment
    # (seen before the migration: "table users already exists" stopped a worker)
    env = {**os.environ}
    env.pop("DATABASE_URL", None)
    started = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_ACCOUNTS, str(tmp_path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    answers = [process.communicate(timeout=120) for process in started]
    assert [process.returncode for process in started] == [0, 0, 0, 0], answers
    assert [out.strip() for out, _ in answers] == ["False"] * 4
    assert stored_revision(tmp_path / SQLITE_FILE) == head_revision()
