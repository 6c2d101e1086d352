"""referral keys: an idempotency key per referral, and a keyed hash of the hospital number

A referral sent twice (a double-clicked form, a retried request) carries the same key
and gives the patient already made. The hospital number itself stays sealed with the
identity; `hospital_number_key` is an HMAC of its normalised form under a key derived
from the service's secret, unique per centre, so the same number cannot be referred
twice at one centre. Patients referred before this revision have no key (NULL, which
the unique indexes allow any number of times).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral_key", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("referral_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hospital_number_key", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_patients_referral_key", ["referral_key"], unique=True)
        batch_op.create_index(
            "ix_patients_centre_hospital_number", ["centre_id", "hospital_number_key"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index("ix_patients_centre_hospital_number")
        batch_op.drop_index("ix_patients_referral_key")
        batch_op.drop_column("hospital_number_key")
        batch_op.drop_column("referral_digest")
        batch_op.drop_column("referral_key")
