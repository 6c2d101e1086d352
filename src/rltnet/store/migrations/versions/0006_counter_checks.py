"""counters guarded by the database: a batch's booked doses within 0..capacity, a centre-day's
activity not below 0, chairs numbered from 1

The service keeps them so by its locks (service.placement); these CHECK constraints are
the last guard, so a fault fails its transaction instead of corrupting a counter. A
database whose counters a race corrupted before (issue 15) is repaired first: each
batch's booked count is recounted from its doses, a negative activity set to 0.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# (table, name, condition); activity is a float sum: a Bq below 0 is rounding, not a fault
CHECKS = (
    ("batches", "ck_batches_booked_within_capacity", "booked >= 0 AND booked <= capacity"),
    ("centre_days", "ck_centre_days_activity_not_negative", "activity_bq > -1.0"),
    ("appointments", "ck_appointments_chair_from_one", "chair >= 1"),
)


def upgrade() -> None:
    op.execute("UPDATE batches SET booked = (SELECT count(*) FROM doses WHERE doses.batch_id = batches.id)")
    op.execute("UPDATE batches SET capacity = booked WHERE booked > capacity")  # honest, if overbooked
    op.execute("UPDATE centre_days SET activity_bq = 0 WHERE activity_bq < 0")
    for table, name, condition in CHECKS:
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(name, condition)


def downgrade() -> None:
    for table, name, _ in reversed(CHECKS):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="check")
