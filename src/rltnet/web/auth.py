"""Who is looking at a page: the login cookie, CSRF tokens, and the roles a page allows."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request

from rltnet.service.deps import DbSession, PlatformDep, who_holds
from rltnet.service.errors import Forbidden
from rltnet.service.security import Principal, Role

COOKIE = "rltnet_session"
LOGIN_COOKIE = "rltnet_login"  # the login form's CSRF nonce, before there is a session


class LoginRequired(Exception):
    """No live login cookie: the page answers with a redirect to the login page."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


def login_url(back_to: str) -> str:
    return f"/login?next={quote(back_to, safe='/')}"


def safe_next(path: str | None) -> str:
    """A local path to go back to after login; never another site (`//evil`, `https://...`)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def csrf_token(secret_key: str, token: str) -> str:
    """A per-login token every form sends back: a page of another site cannot read it."""
    return hmac.new(secret_key.encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()[:32]


def login_csrf(secret_key: str, nonce: str) -> str:
    """The login form's CSRF token: bound to the nonce in the browser's cookie for /login."""
    return hmac.new(secret_key.encode(), b"login:" + nonce.encode(), hashlib.sha256).hexdigest()[:32]


def viewer(request: Request, session: DbSession, platform: PlatformDep) -> Principal:
    token = request.cookies.get(COOKIE)
    who = who_holds(session, token, platform.clock.now()) if token else None
    if who is None:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(back if request.method == "GET" else "/")
    return who


Viewer = Annotated[Principal, Depends(viewer)]


async def checked(
    request: Request, who: Viewer, platform: PlatformDep, csrf: Annotated[str, Form(max_length=64)] = ""
) -> Principal:
    """The viewer of a form post, whose CSRF token matches their login."""
    token = request.cookies.get(COOKIE, "")
    if not hmac.compare_digest(csrf, csrf_token(platform.secret_key, token)):
        raise Forbidden("this form has expired or came from another site; reload the page and try again")
    return who


Poster = Annotated[Principal, Depends(checked)]


def only(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A page for `roles` only; anyone else gets a 403 page that says who it is for."""

    async def check(who: Viewer) -> Principal:
        if who.role not in roles:
            raise Forbidden(
                f"this page is for: {', '.join(r.value for r in roles)}; you are {who.role.value}"
            )
        return who

    return check


def posting(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A form post for `roles` only, CSRF-checked."""

    async def check(who: Poster) -> Principal:
        if who.role not in roles:
            raise Forbidden(f"this is done by: {', '.join(r.value for r in roles)}; you are {who.role.value}")
        return who

    return check


HOME: dict[Role, str] = {
    Role.COORDINATOR: "/board",
    Role.PHYSICIAN: "/board",
    Role.MANUFACTURER: "/queue",
    Role.ADMIN: "/disruptions",
    Role.ANALYST: "/aggregates",
}

# The pages each role's menu shows: (path, label)
MENU: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.COORDINATOR: (
        ("/board", "Pathway board"),
        ("/patients/new", "Refer a patient"),
        ("/calendar", "Calendar"),
    ),
    Role.PHYSICIAN: (("/board", "Pathway board"), ("/calendar", "Calendar")),
    Role.MANUFACTURER: (("/queue", "Order queue"), ("/disruptions", "Disruptions")),
    Role.ADMIN: (
        ("/disruptions", "Disruptions"),
        ("/queue", "Order queue"),
        ("/reads", "Reads of patient data"),
    ),
    Role.ANALYST: (("/aggregates", "Aggregates"),),
}
