"""The network's centres and staff, written to the database so they can be listed and filtered."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rltnet.domain.network import Network
from rltnet.store import tables


def sync_network(session: Session, network: Network) -> None:
    """Insert or update every centre and staff member of `network` (the file is the truth)."""
    for centre in network.centres.values():
        session.merge(
            tables.Centre(
                id=centre.centre_id,
                name=centre.name,
                region=centre.region,
                chairs=centre.chairs,
                products=list(centre.products),
                time_zone=str(centre.calendar.time_zone),
                latitude=centre.location.latitude,
                longitude=centre.location.longitude,
                mdt_weekday=centre.mdt_weekday.name.lower()[:3],
                daily_activity_limit_bq=centre.daily_activity_limit.bq,
            )
        )
    session.flush()
    for centre in network.centres.values():
        for member in centre.staff:
            licences = [
                {"kind": lic.kind, "covers": list(lic.covers), "expires_on": lic.expires_on.isoformat()}
                for lic in member.licences
            ]
            session.merge(
                tables.StaffMember(
                    id=member.staff_id,
                    centre_id=centre.centre_id,
                    role=member.role.value,
                    weekdays=sorted(d.name.lower()[:3] for d in member.weekdays),
                    licences=licences,
                    first_licence_expiry=min((lic.expires_on for lic in member.licences), default=None),
                )
            )
