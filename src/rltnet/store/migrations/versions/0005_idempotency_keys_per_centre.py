"""idempotency keys in the namespace of the ordering centre: stored as '<centre>:<key>'

Before, a key was global: another centre's resent key answered 404 naming that
centre's order, and the key was blocked for everyone. The column keeps its unique
constraint (SQLite cannot drop it without rebuilding a table other tables refer to);
each key is now prefixed with the order's centre, which is the caller's (an order is
placed by a coordinator of the patient's centre), and the column is widened for it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not enforce a VARCHAR's length
        op.alter_column("orders", "idempotency_key", type_=sa.String(200), existing_nullable=False)
    op.execute("UPDATE orders SET idempotency_key = centre_id || ':' || idempotency_key")


def downgrade() -> None:
    op.execute("UPDATE orders SET idempotency_key = substr(idempotency_key, length(centre_id) + 2)")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("orders", "idempotency_key", type_=sa.String(100), existing_nullable=False)
