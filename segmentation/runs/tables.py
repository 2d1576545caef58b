"""The saved-run tables (SQLAlchemy 2), readable by BI tools such as Tableau.

Five tables, made and upgraded by the Alembic migrations in
``segmentation/runs/migrations`` (run when a :class:`segmentation.runs.RunStore`
first opens the database):

``runs``
    One row per saved run: ``run_id``, ``created_at`` (UTC), ``source`` ("cli"
    or "app"), ``owner`` (the account that saved it; NULL for the local
    workspace), ``source_file`` (the input file's name), ``content_sha256``,
    ``k``, ``method``, ``as_of``, ``seed``, ``anomaly_share``, ``customers``,
    ``settings`` and ``mapping`` (JSON), ``report`` (the whole run report,
    JSON, as :func:`segmentation.reports.run_report` plus ``id``, ``created``
    and ``source``), ``status`` ("saved" or "damaged") and ``damaged_reason``.
``customer_segments``
    One row per customer per run (``run_id``, ``customer_id``): every column of
    the labelled customer CSV (:data:`segmentation.schema.OUTPUT_COLUMNS`) as a
    typed column of the same name, then the lifetime and migration columns
    when the run has them: ``p_alive``, ``expected_orders`` over
    ``expected_orders_days`` days (the CSV's ``expected_orders_<N>d``),
    ``expected_spend_per_order``, ``clv`` over ``clv_days`` days (the CSV's
    ``clv_<N>d``), ``value_tier_before`` and ``status_before``. Missing values
    are NULL. Money is in the input file's currency.
``run_models``
    The fitted models of a run (``part`` "segmentation": the
    :class:`segmentation.results.Segmentation`) and the data to reopen it
    (``part`` "prepared": the :class:`segmentation.results.PreparedData`), as
    bytes in ``format`` "pickle". Pickles run code when loaded: the database is
    a trusted store (see :mod:`segmentation.runs`).
``folder_imports``
    The run folders of earlier versions already imported (``run_id``,
    ``imported_at``, ``result``), so each is imported once.
``run_shares``
    The read-only share links of runs (``run_id``, ``token_sha256``: the
    SHA-256 of the link's random token, never the token; ``created_at``,
    ``created_by``, ``revoked_at``: NULL while the link opens the run).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "VERSION_TABLE",
    "Base",
    "CustomerSegment",
    "FolderImport",
    "Run",
    "RunModel",
    "RunShare",
]

#: Alembic's table of the applied revision (its own name, so that other tables
#: of a shared database may have their own migrations).
VERSION_TABLE = "runs_alembic_version"
#: Longest run id (``YYYYmmddTHHMMSS-<8 hex>-k<k>-<n>`` is ~30 characters).
RUN_ID_LENGTH = 64


class Base(DeclarativeBase):
    """The declarative base of the run tables."""


class Run(Base):
    """One saved run (table ``runs``)."""

    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(RUN_ID_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    source: Mapped[str | None] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(200), index=True)
    source_file: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    k: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str | None] = mapped_column(String(32))
    as_of: Mapped[date | None] = mapped_column(Date)
    seed: Mapped[int | None] = mapped_column(Integer)
    anomaly_share: Mapped[float | None] = mapped_column(Float)
    customers: Mapped[int | None] = mapped_column(Integer)
    settings: Mapped[dict | None] = mapped_column(JSON)
    mapping: Mapped[dict | None] = mapped_column(JSON)
    report: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    damaged_reason: Mapped[str | None] = mapped_column(Text)


class CustomerSegment(Base):
    """One labelled customer of one run (table ``customer_segments``)."""

    __tablename__ = "customer_segments"

    run_id: Mapped[str] = mapped_column(
        String(RUN_ID_LENGTH),
        ForeignKey("runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    )
    customer_id: Mapped[str] = mapped_column(Text, primary_key=True)
    # Features (DESIGN section 5)
    recency_days: Mapped[int | None] = mapped_column(Integer)
    frequency: Mapped[int | None] = mapped_column(Integer)
    monetary: Mapped[float | None] = mapped_column(Float)
    gross_monetary: Mapped[float | None] = mapped_column(Float)
    returned_value: Mapped[float | None] = mapped_column(Float)
    tenure_days: Mapped[int | None] = mapped_column(Integer)
    avg_order_value: Mapped[float | None] = mapped_column(Float)
    avg_items_per_order: Mapped[float | None] = mapped_column(Float)
    avg_line_quantity: Mapped[float | None] = mapped_column(Float)
    max_line_quantity: Mapped[float | None] = mapped_column(Float)
    distinct_products: Mapped[int | None] = mapped_column(Integer)
    return_rate: Mapped[float | None] = mapped_column(Float)
    largest_order_ratio: Mapped[float | None] = mapped_column(Float)
    order_value_cv: Mapped[float | None] = mapped_column(Float)
    r_score: Mapped[int | None] = mapped_column(SmallInteger)
    f_score: Mapped[int | None] = mapped_column(SmallInteger)
    m_score: Mapped[int | None] = mapped_column(SmallInteger)
    rfm_segment: Mapped[str | None] = mapped_column(Text)
    # Labels (DESIGN sections 6 and 8)
    value_cluster: Mapped[int | None] = mapped_column(Integer)
    value_tier: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    persona: Mapped[str | None] = mapped_column(Text)
    purchase_style: Mapped[str | None] = mapped_column(Text)
    style_reason: Mapped[str | None] = mapped_column(Text)
    segment: Mapped[str | None] = mapped_column(Text)
    grid_label: Mapped[str | None] = mapped_column(Text)
    # Customers over time (DESIGN section 10)
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_orders: Mapped[float | None] = mapped_column(Float)
    expected_orders_days: Mapped[int | None] = mapped_column(Integer)
    expected_spend_per_order: Mapped[float | None] = mapped_column(Float)
    clv: Mapped[float | None] = mapped_column(Float)
    clv_days: Mapped[int | None] = mapped_column(Integer)
    value_tier_before: Mapped[str | None] = mapped_column(Text)
    status_before: Mapped[str | None] = mapped_column(Text)


class RunModel(Base):
    """A run's fitted models or prepared data, as bytes (table ``run_models``)."""

    __tablename__ = "run_models"

    run_id: Mapped[str] = mapped_column(
        String(RUN_ID_LENGTH),
        ForeignKey("runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    )
    part: Mapped[str] = mapped_column(String(32), primary_key=True)
    format: Mapped[str] = mapped_column(String(16))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FolderImport(Base):
    """A run folder of an earlier version, imported once (``folder_imports``)."""

    __tablename__ = "folder_imports"

    run_id: Mapped[str] = mapped_column(String(RUN_ID_LENGTH), primary_key=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    result: Mapped[str] = mapped_column(Text)


class RunShare(Base):
    """A read-only share link of one run (table ``run_shares``).

    The link's token is random (32 bytes); only its SHA-256 is stored, so the
    table cannot give a link back. A revoked link keeps its row, with the time
    it was revoked, and opens nothing.
    """

    __tablename__ = "run_shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        String(RUN_ID_LENGTH),
        ForeignKey("runs.run_id", ondelete="CASCADE"),
        index=True,
    )
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
