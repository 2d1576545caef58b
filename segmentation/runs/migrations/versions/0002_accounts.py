"""The accounts tables: users and api_keys (app.accounts), in the run database.

Earlier versions made these two tables outside this history (SQLAlchemy's
``create_all`` when the app first opened its accounts), in the database of
``DATABASE_URL`` or, without it, in a SQLite file ``accounts.db`` beside
``segmentation.db``. This revision

- creates each table only where it is missing: a database where ``create_all``
  made them already keeps them and their rows, and ends at this revision too;
- on SQLite, copies the accounts and API keys of an ``accounts.db`` beside the
  database (same ids, hashes and dates) when this database holds no account
  yet; the old file is left in place, unread from then on.

It runs under the run database's write lock (``segmentation.runs._database``),
so a web process and a worker opening the database at once make the tables
once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlite3
from contextlib import closing
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: The SQLite file of earlier versions' accounts, beside ``segmentation.db``.
OLD_ACCOUNTS_FILE = "accounts.db"
#: Characters of a key kept in clear (app.accounts.KEY_SHOWN_CHARS).
KEY_SHOWN_CHARS = 12
USER_COLUMNS = ("id", "name", "password_hash", "created")
KEY_COLUMNS = ("id", "user_id", "key_sha256", "shown", "created", "revoked")


def upgrade() -> None:
    """Create ``users`` and ``api_keys`` where missing; import ``accounts.db``."""
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    if "users" not in existing:
        op.create_table(
            "users",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("name", sa.String(64), nullable=False, unique=True),
            sa.Column("password_hash", sa.String(256), nullable=False),
            sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        )
    if "api_keys" not in existing:
        op.create_table(
            "api_keys",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column(
                "user_id",
                sa.Integer(),
                sa.ForeignKey("users.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("key_sha256", sa.String(64), nullable=False, unique=True),
            sa.Column("shown", sa.String(KEY_SHOWN_CHARS), nullable=False),
            sa.Column("created", sa.DateTime(timezone=True), nullable=False),
            sa.Column("revoked", sa.DateTime(timezone=True), nullable=True),
        )
        op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    if bind.dialect.name == "sqlite":
        _import_old_accounts(bind)


def _import_old_accounts(bind) -> None:
    """Copy the rows of an ``accounts.db`` beside this SQLite database, once."""
    database = bind.engine.url.database
    if not database or database == ":memory:":
        return
    old = Path(database).with_name(OLD_ACCOUNTS_FILE)
    if not old.is_file():
        return
    if bind.execute(sa.text("SELECT 1 FROM users LIMIT 1")).first() is not None:
        return  # this database has accounts of its own: they are kept as they are
    uri = f"{old.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as source:
        tables = {
            row[0]
            for row in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        users = (
            source.execute(f"SELECT {', '.join(USER_COLUMNS)} FROM users").fetchall()
            if "users" in tables
            else []
        )
        keys = (
            source.execute(f"SELECT {', '.join(KEY_COLUMNS)} FROM api_keys").fetchall()
            if "api_keys" in tables and users
            else []
        )
    for table, columns, rows in (
        ("users", USER_COLUMNS, users),
        ("api_keys", KEY_COLUMNS, keys),
    ):
        if rows:
            statement = sa.text(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                f"({', '.join(':' + c for c in columns)})"
            )
            bind.execute(statement, [dict(zip(columns, row)) for row in rows])


def downgrade() -> None:
    """Drop ``api_keys`` and ``users`` (the accounts with them)."""
    op.drop_index("ix_api_keys_user_id", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("users")
