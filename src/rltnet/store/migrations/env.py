"""Alembic environment: runs migrations on the engine `rltnet.store.migrate` hands over."""

from __future__ import annotations

from alembic import context

from rltnet.store.tables import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
