"""Share links of runs: the table run_shares.

A run is shared only by a link (read-only, revocable): each row is one link,
its random token stored as a SHA-256 (``token_sha256``), who made it and when,
and when it was revoked (NULL while it opens the run). Removing a run removes
its links (``ON DELETE CASCADE``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``run_shares`` and its index on ``run_id``."""
    op.create_table(
        "run_shares",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.String(64),
            sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_run_shares_run_id", "run_shares", ["run_id"])


def downgrade() -> None:
    """Drop ``run_shares`` (every share link stops opening its run)."""
    op.drop_index("ix_run_shares_run_id", table_name="run_shares")
    op.drop_table("run_shares")
