"""Accounts and API keys: who may use a served app, stored hashed in a database.

Where they live
    In the run database (:func:`segmentation.runs.database_engine`): the
    database of ``DATABASE_URL`` when that environment variable is set
    (PostgreSQL), else the SQLite file ``segmentation.db`` in the data folder
    (``SEGMENTATION_DATA_DIR``, default ``data/``), written 0600. The tables
    ``users`` and ``api_keys`` are made by the run database's Alembic
    migrations (``segmentation/runs/migrations``, revision 0002), which run
    under the database's write lock when a process first opens it, so a web
    process and a worker starting together make them once. That revision keeps
    tables an earlier version made itself, and copies the accounts of the
    SQLite file earlier versions used (:data:`ACCOUNTS_FILE`) when the database
    holds none yet. A new column here needs a new migration there.
Passwords
    Hashed with Argon2id (``argon2-cffi``'s :class:`argon2.PasswordHasher`,
    RFC 9106 parameters: 64 MiB, 3 passes, 4 lanes; the parameters and a random
    salt are stored in each hash, and a hash made with older parameters is
    rehashed at the next successful log-in). Argon2id is OWASP's first choice
    for password storage; scrypt through ``werkzeug.security`` would have added
    no dependency, but its default cost (N = 2**15) is below OWASP's minimum.
API keys
    ``seg_`` + 43 URL-safe characters (32 random bytes, :func:`secrets.token_urlsafe`).
    Only the key's SHA-256 is stored (a random 256-bit key needs no slow hash:
    it cannot be guessed from a dictionary), with its first 12 characters so
    that a person can tell keys apart in ``keys list``. A revoked key stays
    listed, with the time it was revoked, and opens nothing.

Command line (``python -m app ...``, :func:`add_commands` / :func:`run_command`)::

    users add NAME      password from standard input (not echoed on a terminal)
    users list
    users remove NAME   also deletes the user's API keys
    keys create NAME    the new key is the last line printed
    keys list [NAME]
    keys revoke KEY_ID
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import argon2
from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from segmentation.errors import SegmentationError
from segmentation.runs import database_engine

#: The SQLite file in the data folder where earlier versions kept the accounts
#: (copied into the run database by its migration 0002, then unread).
ACCOUNTS_FILE = "accounts.db"
#: A user name: letters, digits and ``_ . @ -``, 1 to 64 characters.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
#: Shortest password accepted (characters).
MIN_PASSWORD_CHARS = 8
#: Longest password accepted (characters): a bound on the work one log-in costs.
MAX_PASSWORD_CHARS = 1024
#: Every API key starts with this (so that a leaked one is recognisable).
KEY_PREFIX = "seg_"
#: Characters of a key kept in clear to tell keys apart.
KEY_SHOWN_CHARS = 12

#: The two tables as the queries here see them; the migration makes them.
METADATA = MetaData()
USERS = Table(
    "users",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)
API_KEYS = Table(
    "api_keys",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column(
        "user_id",
        Integer,
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("key_sha256", String(64), nullable=False, unique=True),
    Column("shown", String(KEY_SHOWN_CHARS), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("revoked", DateTime(timezone=True), nullable=True),
)

_HASHER = argon2.PasswordHasher()
#: Verified against when the user does not exist, so that a log-in with an
#: unknown name costs as long as one with a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A bad name, password or key id, or an account that does (not) exist."""


@dataclass(frozen=True)
class ApiKey:
    """One API key as listed (never the key itself).

    Attributes
    ----------
    id : int
        What ``keys revoke`` takes.
    user : str
    shown : str
        The key's first :data:`KEY_SHOWN_CHARS` characters.
    created : datetime
        UTC.
    revoked : datetime or None
        UTC; None while the key works.
    """

    id: int
    user: str
    shown: str
    created: datetime
    revoked: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def key_digest(key: str) -> str:
    """Return the SHA-256 (64 hex digits) under which an API key is stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid user name.

    Raises
    ------
    AccountError
        Naming the rule (:data:`NAME_PATTERN`).
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise AccountError(
            f"user name {name!r} is not allowed: use 1 to 64 letters, digits "
            "and _ . @ -"
        )
    return name


def check_password(password: str) -> str:
    """Return ``password`` if long enough and not too long.

    Raises
    ------
    AccountError
        Shorter than :data:`MIN_PASSWORD_CHARS` or longer than
        :data:`MAX_PASSWORD_CHARS` characters.
    """
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(
            f"the password has {len(password)} characters; at least "
            f"{MIN_PASSWORD_CHARS} are needed"
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(
            f"the password has {len(password):,} characters; at most "
            f"{MAX_PASSWORD_CHARS:,} are accepted"
        )
    return password


class Accounts:
    """The users and API keys of one database.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL; default ``$DATABASE_URL``, else the SQLite file
        ``segmentation.db`` in ``directory`` (the run database).
    directory : path-like, optional
        The data folder; default :func:`segmentation.runs.data_dir` (created
        0700 if missing when given).

    Raises
    ------
    segmentation.errors.SegmentationError
        A URL that is not SQLite or PostgreSQL.

    Notes
    -----
    Safe to share between threads (SQLAlchemy's connection pool). Every method
    opens its own transaction, so a user added by the command line is seen by a
    running server at its next request.
    """

    def __init__(self, url: str | None = None, directory=None) -> None:
        if url is None and directory is not None:
            Path(directory).mkdir(mode=0o700, parents=True, exist_ok=True)
        self.engine: Engine = database_engine(directory, url)
        self.url = self.engine.url.render_as_string(hide_password=True)
        self.path: Path | None = None
        if self.engine.dialect.name == "sqlite" and self.engine.url.database:
            self.path = Path(self.engine.url.database)

    # Users ---------------------------------------------------------------------------
    def has_users(self) -> bool:
        """Return True when at least one account exists."""
        with self.engine.connect() as db:
            return db.execute(select(USERS.c.id).limit(1)).first() is not None

    def users(self) -> list[tuple[str, datetime]]:
        """Return ``(name, created)`` of every account, by name."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(USERS.c.name, USERS.c.created).order_by(USERS.c.name)
            )
            return [(name, _utc(created)) for name, created in rows]

    def user_exists(self, name: str) -> bool:
        """Return True when an account of this name exists."""
        with self.engine.connect() as db:
            found = db.execute(select(USERS.c.id).where(USERS.c.name == name))
            return found.first() is not None

    def add_user(self, name: str, password: str) -> None:
        """Create an account.

        Raises
        ------
        AccountError
            Bad name or password, or the name is taken.
        """
        check_name(name)
        hashed = _HASHER.hash(check_password(password))
        with self.engine.begin() as db:
            if db.execute(select(USERS.c.id).where(USERS.c.name == name)).first():
                raise AccountError(f"user {name!r} exists already")
            db.execute(
                insert(USERS).values(name=name, password_hash=hashed, created=_now())
            )

    def remove_user(self, name: str) -> None:
        """Delete an account and its API keys (its saved runs stay, unlisted).

        Raises
        ------
        AccountError
            No account of this name.
        """
        with self.engine.begin() as db:
            user_id = self._user_id(db, name)
            db.execute(delete(API_KEYS).where(API_KEYS.c.user_id == user_id))
            db.execute(delete(USERS).where(USERS.c.id == user_id))

    def verify_password(self, name: str, password: str) -> bool:
        """Return True when ``password`` is ``name``'s (constant work otherwise).

        A hash made with older Argon2 parameters is replaced by a new one.
        """
        with self.engine.connect() as db:
            row = db.execute(
                select(USERS.c.id, USERS.c.password_hash).where(USERS.c.name == name)
            ).first()
        hashed = row.password_hash if row else _DUMMY_HASH
        try:
            _HASHER.verify(hashed, password[:MAX_PASSWORD_CHARS])
        except argon2.exceptions.VerificationError:
            return False
        except argon2.exceptions.InvalidHashError:
            return False
        if row is None:
            return False
        if _HASHER.check_needs_rehash(hashed):
            with self.engine.begin() as db:
                db.execute(
                    update(USERS)
                    .where(USERS.c.id == row.id)
                    .values(password_hash=_HASHER.hash(password))
                )
        return True

    @staticmethod
    def _user_id(db, name: str) -> int:
        row = db.execute(select(USERS.c.id).where(USERS.c.name == name)).first()
        if row is None:
            raise AccountError(f"no user {name!r} (python -m app users list)")
        return row.id

    # API keys ------------------------------------------------------------------------
    def create_key(self, name: str) -> tuple[int, str]:
        """Create an API key for a user; return ``(key id, key)``.

        The key itself is returned only here: only its SHA-256 is stored.

        Raises
        ------
        AccountError
            No account of this name.
        """
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as db:
            user_id = self._user_id(db, name)
            result = db.execute(
                insert(API_KEYS).values(
                    user_id=user_id,
                    key_sha256=key_digest(key),
                    shown=key[:KEY_SHOWN_CHARS],
                    created=_now(),
                )
            )
            return result.inserted_primary_key[0], key

    def keys(self, name: str | None = None) -> list[ApiKey]:
        """Return the API keys (of one user when ``name`` is given), oldest first.

        Raises
        ------
        AccountError
            ``name`` given and no account of this name.
        """
        query = (
            select(
                API_KEYS.c.id,
                USERS.c.name,
                API_KEYS.c.shown,
                API_KEYS.c.created,
                API_KEYS.c.revoked,
            )
            .join(USERS, USERS.c.id == API_KEYS.c.user_id)
            .order_by(API_KEYS.c.id)
        )
        with self.engine.connect() as db:
            if name is not None:
                query = query.where(API_KEYS.c.user_id == self._user_id(db, name))
            return [
                ApiKey(
                    row.id, row.name, row.shown, _utc(row.created), _utc(row.revoked)
                )
                for row in db.execute(query)
            ]

    def revoke_key(self, key_id: int) -> None:
        """Revoke an API key (it stays listed, and opens nothing).

        Raises
        ------
        AccountError
            No key of this id, or revoked already.
        """
        with self.engine.begin() as db:
            row = db.execute(
                select(API_KEYS.c.revoked).where(API_KEYS.c.id == key_id)
            ).first()
            if row is None:
                raise AccountError(f"no API key {key_id} (python -m app keys list)")
            if row.revoked is not None:
                raise AccountError(f"API key {key_id} is revoked already")
            db.execute(
                update(API_KEYS).where(API_KEYS.c.id == key_id).values(revoked=_now())
            )

    def user_for_key(self, key: str) -> str | None:
        """Return the user of a working API key, or None (unknown or revoked)."""
        with self.engine.connect() as db:
            row = db.execute(
                select(USERS.c.name)
                .join(API_KEYS, API_KEYS.c.user_id == USERS.c.id)
                .where(
                    API_KEYS.c.key_sha256 == key_digest(key),
                    API_KEYS.c.revoked.is_(None),
                )
            ).first()
        return row.name if row else None

    def count_keys(self) -> int:
        """Return how many API keys exist (revoked ones included)."""
        with self.engine.connect() as db:
            return db.execute(select(func.count()).select_from(API_KEYS)).scalar_one()


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: they were stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


# Command line ----------------------------------------------------------------------
def add_commands(subparsers) -> None:
    """Add the ``users`` and ``keys`` commands to an argparse sub-parser set.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers()`` returned.
    """
    users = subparsers.add_parser("users", help="accounts that may log in")
    users_sub = users.add_subparsers(dest="action", required=True)
    add = users_sub.add_parser(
        "add", help="add an account (password from standard input)"
    )
    add.add_argument("name")
    users_sub.add_parser("list", help="list the accounts")
    remove = users_sub.add_parser("remove", help="remove an account and its keys")
    remove.add_argument("name")

    keys = subparsers.add_parser("keys", help="API keys (Authorization: Bearer KEY)")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    create = keys_sub.add_parser("create", help="create a key; printed last")
    create.add_argument("name", help="the user the key acts as")
    listing = keys_sub.add_parser("list", help="list keys (never the keys)")
    listing.add_argument("name", nargs="?")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id", type=int)


def main(argv: list[str]) -> int:
    """Run ``python -m app`` with a command (``users ...``, ``keys ...``, ``--help``).

    Parameters
    ----------
    argv : list of str
        The words after ``python -m app``.

    Returns
    -------
    int
        The exit status (argparse exits with 2 itself on a bad command).
    """
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="Serve the app on 127.0.0.1:$PORT (no command), or manage "
        "the accounts and API keys that may use it.",
    )
    add_commands(parser.add_subparsers(dest="command", required=True))
    return run_command(parser.parse_args(argv))


def read_password(stdin=None) -> str:
    """Read a new password: asked twice on a terminal (not echoed), else one line.

    Raises
    ------
    AccountError
        The two entries differ, or standard input is empty.
    """
    stdin = stdin if stdin is not None else sys.stdin
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != first:
            raise AccountError("the two passwords differ; nothing was changed")
        return first
    line = stdin.readline()
    if not line:
        raise AccountError("no password on standard input; nothing was changed")
    return line.rstrip("\r\n")


def run_command(args: argparse.Namespace, out=None) -> int:
    """Run ``users ...`` or ``keys ...``; return the exit status (0, or 1 + message).

    Parameters
    ----------
    args : argparse.Namespace
        ``command`` ("users" or "keys"), ``action`` and its arguments.
    out : file, optional
        Where to print (default standard output); errors go to standard error.
    """
    out = out if out is not None else sys.stdout
    try:
        accounts = Accounts()
        if args.command == "users":
            _users(accounts, args, out)
        else:
            _keys(accounts, args, out)
    except (AccountError, SegmentationError) as err:  # the latter: DATABASE_URL
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _users(accounts: Accounts, args, out) -> None:
    if args.action == "add":
        check_name(args.name)
        if accounts.user_exists(args.name):
            raise AccountError(f"user {args.name!r} exists already")
        accounts.add_user(args.name, read_password())
        print(f"Added user {args.name}.", file=out)
    elif args.action == "list":
        for name, created in accounts.users():
            print(f"{name}\tcreated {created:%Y-%m-%d %H:%M} UTC", file=out)
    else:
        accounts.remove_user(args.name)
        print(f"Removed user {args.name} and their API keys.", file=out)


def _keys(accounts: Accounts, args, out) -> None:
    if args.action == "create":
        key_id, key = accounts.create_key(args.name)
        print(
            f"API key {key_id} for {args.name}; it is shown only now "
            "(send it as 'Authorization: Bearer KEY'):",
            file=out,
        )
        print(key, file=out)
    elif args.action == "list":
        for key in accounts.keys(args.name):
            state = (
                f"revoked {key.revoked:%Y-%m-%d %H:%M} UTC" if key.revoked else "active"
            )
            print(
                f"{key.id}\t{key.user}\t{key.shown}...\t"
                f"created {key.created:%Y-%m-%d %H:%M} UTC\t{state}",
                file=out,
            )
    else:
        accounts.revoke_key(args.key_id)
        print(f"Revoked API key {args.key_id}.", file=out)
