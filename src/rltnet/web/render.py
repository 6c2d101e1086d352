"""Rendering pages: the Jinja2 environment, times in the centre's own zone, flash messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from rltnet.domain import disclosure
from rltnet.domain.units import format_local
from rltnet.service.platform import Platform
from rltnet.service.security import Principal
from rltnet.web.auth import COOKIE, MENU, csrf_token

FLASH = "rltnet_flash"
UTC_ZONE = ZoneInfo("UTC")

_env = Environment(
    loader=PackageLoader("rltnet.web", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def zone_of(platform: Platform, centre_id: str | None) -> ZoneInfo:
    """A centre's time zone; for a viewer of no centre, the network's if it has one zone, else UTC."""
    centres = platform.network.centres
    if centre_id is not None and centre_id in centres:
        return centres[centre_id].calendar.time_zone
    zones = {c.calendar.time_zone.key for c in centres.values()}
    return ZoneInfo(zones.pop()) if len(zones) == 1 else UTC_ZONE


def when(instant: datetime | None, zone: ZoneInfo) -> str:
    """'Wed 25 Nov 2026 14:00 GMT': the day, the time and the zone, never ambiguous."""
    return "—" if instant is None else format_local(instant, zone)


def waited(hours: float | None) -> str:
    """How long, in the unit a person reads at a glance: minutes, hours or days."""
    if hours is None:
        return "—"
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.0f} d"


def local_input(instant: datetime | None, zone: ZoneInfo) -> str:
    """The value of a datetime-local input: the instant on the zone's wall clock."""
    return "" if instant is None else instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def from_input(value: str, zone: ZoneInfo) -> datetime:
    """A datetime-local input's wall-clock time in the zone, as an aware instant."""
    return datetime.fromisoformat(value).replace(tzinfo=zone).astimezone(UTC)


def stage_label(stage: str) -> str:
    """'mdt_approved' as a person writes it: 'MDT approved'."""
    words = stage.split("_")
    words = [w.upper() if w in ("mdt", "qc") else w for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def shown(count: int | None) -> str:
    """A count of an aggregate, or '<5' where the small-number rule hides it."""
    return f"<{disclosure.THRESHOLD}" if count is None else str(count)


_env.filters["waited"] = waited
_env.filters["stage"] = stage_label
_env.filters["shown"] = shown


def page(
    request: Request,
    platform: Platform,
    who: Principal | None,
    template: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page, with the viewer's menu, CSRF token, times in their zone and any flash message."""
    zone = zone_of(platform, who.centre_id if who else None)
    token = request.cookies.get(COOKIE, "")
    flash = _read_flash(request)
    html = _env.get_template(template).render(
        request=request,
        who=who,
        menu=MENU[who.role] if who else (),
        csrf=csrf_token(platform.secret_key, token) if who else "",
        zone=zone,
        when=lambda instant, z=None: when(instant, z or zone),
        local_input=lambda instant, z=None: local_input(instant, z or zone),
        flash=flash,
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status)
    if flash is not None:
        response.delete_cookie(FLASH, path="/")
    return response


def redirect(to: str, message: str | None = None, kind: str = "done") -> RedirectResponse:
    """After a form: see the result (303, so a reload does not post again), with a message."""
    response = RedirectResponse(to, status_code=303)
    if message:
        response.set_cookie(
            FLASH, quote(f"{kind}|{message[:1500]}"), path="/", httponly=True, samesite="strict"
        )
    return response


def _read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH)
    if not raw:
        return None
    kind, _, message = unquote(raw).partition("|")
    return {"kind": "error" if kind == "error" else "done", "message": message}
