"""The disruptions declared so far: they shape every later placement and plan."""

from __future__ import annotations

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from rltnet.files.event_file import EventFile
from rltnet.planning.replan import Event
from rltnet.store import tables

_EVENTS = TypeAdapter(list[EventFile])


def stored_events(session: Session) -> list[Event]:
    """Every disruption declared so far, oldest first."""
    rows = session.scalars(select(tables.Disruption).order_by(tables.Disruption.id))
    return [item.to_event() for row in rows for item in _EVENTS.validate_python(row.events)]
