"""dose records: what was recorded of each order's dose (release, shipping, delivery, administration)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    instant = sa.DateTime(timezone=True)
    op.create_table(
        "dose_records",
        sa.Column("order_id", sa.String(length=32), sa.ForeignKey("orders.id"), primary_key=True),
        sa.Column("production_started_at", instant, nullable=True),
        sa.Column("released_at", instant, nullable=True),
        sa.Column("calibration_at", instant, nullable=True),
        sa.Column("calibration_bq", sa.Float(), nullable=True),
        sa.Column("qc_result", sa.String(length=200), nullable=True),
        sa.Column("lot", sa.String(length=64), nullable=True),
        sa.Column("qc_failed_at", instant, nullable=True),
        sa.Column("shipped_at", instant, nullable=True),
        sa.Column("courier", sa.String(length=100), nullable=True),
        sa.Column("tracking", sa.String(length=100), nullable=True),
        sa.Column("delivered_at", instant, nullable=True),
        sa.Column("missed_at", instant, nullable=True),
        sa.Column("administered_at", instant, nullable=True),
        sa.Column("assayed_bq", sa.Float(), nullable=True),
        sa.Column("residual_bq", sa.Float(), nullable=True),
        sa.Column("given_by", sa.String(length=100), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("dose_records")
