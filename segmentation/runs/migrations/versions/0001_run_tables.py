"""The run tables: runs, customer_segments, run_models, folder_imports.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

RUN_ID = sa.String(64)


def upgrade() -> None:
    """Create the four tables (and the indexes of ``runs``)."""
    op.create_table(
        "runs",
        sa.Column("run_id", RUN_ID, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16)),
        sa.Column("owner", sa.String(200)),
        sa.Column("source_file", sa.Text()),
        sa.Column("content_sha256", sa.String(64)),
        sa.Column("k", sa.Integer()),
        sa.Column("method", sa.String(32)),
        sa.Column("as_of", sa.Date()),
        sa.Column("seed", sa.Integer()),
        sa.Column("anomaly_share", sa.Float()),
        sa.Column("customers", sa.Integer()),
        sa.Column("settings", sa.JSON()),
        sa.Column("mapping", sa.JSON()),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("damaged_reason", sa.Text()),
    )
    op.create_index("ix_runs_created_at", "runs", ["created_at"])
    op.create_index("ix_runs_owner", "runs", ["owner"])
    op.create_index("ix_runs_content_sha256", "runs", ["content_sha256"])
    fk = sa.ForeignKey("runs.run_id", ondelete="CASCADE")
    op.create_table(
        "customer_segments",
        sa.Column("run_id", RUN_ID, fk, primary_key=True),
        sa.Column("customer_id", sa.Text(), primary_key=True),
        *(
            sa.Column(name, kind)
            for name, kind in [
                ("recency_days", sa.Integer()),
                ("frequency", sa.Integer()),
                ("monetary", sa.Float()),
                ("gross_monetary", sa.Float()),
                ("returned_value", sa.Float()),
                ("tenure_days", sa.Integer()),
                ("avg_order_value", sa.Float()),
                ("avg_items_per_order", sa.Float()),
                ("avg_line_quantity", sa.Float()),
                ("max_line_quantity", sa.Float()),
                ("distinct_products", sa.Integer()),
                ("return_rate", sa.Float()),
                ("largest_order_ratio", sa.Float()),
                ("order_value_cv", sa.Float()),
                ("r_score", sa.SmallInteger()),
                ("f_score", sa.SmallInteger()),
                ("m_score", sa.SmallInteger()),
                ("rfm_segment", sa.Text()),
                ("value_cluster", sa.Integer()),
                ("value_tier", sa.Text()),
                ("status", sa.Text()),
                ("persona", sa.Text()),
                ("purchase_style", sa.Text()),
                ("style_reason", sa.Text()),
                ("segment", sa.Text()),
                ("grid_label", sa.Text()),
                ("p_alive", sa.Float()),
                ("expected_orders", sa.Float()),
                ("expected_orders_days", sa.Integer()),
                ("expected_spend_per_order", sa.Float()),
                ("clv", sa.Float()),
                ("clv_days", sa.Integer()),
                ("value_tier_before", sa.Text()),
                ("status_before", sa.Text()),
            ]
        ),
    )
    op.create_table(
        "run_models",
        sa.Column(
            "run_id",
            RUN_ID,
            sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("part", sa.String(32), primary_key=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "folder_imports",
        sa.Column("run_id", RUN_ID, primary_key=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    """Drop the four tables (their rows with them)."""
    for table in ("folder_imports", "run_models", "customer_segments", "runs"):
        op.drop_table(table)
