"""Logging in and out of the workspace, and home: each role's first page."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from rltnet.service.deps import DbSession, PlatformDep
from rltnet.service.errors import TooManyAttempts, Unauthenticated
from rltnet.service.schemas import LoginCreate
from rltnet.service.security import Role
from rltnet.service.usecases import auth
from rltnet.web import render
from rltnet.web.auth import COOKIE, HOME, LOGIN_COOKIE, Poster, Viewer, login_csrf, safe_next

router = APIRouter()


@router.get("/")
def home(who: Viewer) -> RedirectResponse:
    return RedirectResponse(HOME[who.role], status_code=303)


@router.get("/login")
def login_page(request: Request, platform: PlatformDep, next: str = "/") -> Response:
    return _login_page(request, platform, next=safe_next(next))


def _login_page(request: Request, platform: PlatformDep, status: int = 200, **context: str) -> Response:
    """The login form, with a new login CSRF token: its nonce goes in a cookie, its MAC in the
    form, so only a form this site gave the browser logs it in (not another site's page)."""
    nonce = secrets.token_urlsafe(16)
    secret = platform.secret_key
    response = render.page(
        request, platform, None, "login.html", status=status, login_csrf=login_csrf(secret, nonce), **context
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=12 * 60 * 60,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    platform: PlatformDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    back = safe_next(next)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(csrf, login_csrf(platform.secret_key, nonce)):
        message = "this login form has expired or came from another site; log in on this page"
        return _refused(request, platform, message, back, username, 403)
    if not username or not password:
        return _refused(request, platform, "enter your username and password", back, username, 422)
    client = request.client.host if request.client else "unknown"
    try:
        body = LoginCreate(username=username, password=password)
    except ValidationError:  # a NUL character, say: as wrong as a wrong password, said the same
        return _refused(request, platform, auth.WRONG, back, "", 401)
    try:
        token = auth.login(session, platform, body, client)
    except (Unauthenticated, TooManyAttempts) as refused:
        status = 429 if isinstance(refused, TooManyAttempts) else 401
        return _refused(request, platform, str(refused), back, username, status)
    response = RedirectResponse(back if back != "/" else HOME[Role(token.role)], status_code=303)
    response.set_cookie(
        COOKIE,
        token.access_token,
        max_age=platform.settings.token_minutes * 60,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


def _refused(
    request: Request, platform: PlatformDep, message: str, back: str, username: str, status: int
) -> Response:
    return _login_page(request, platform, status, next=back, username=username, error=message)


@router.post("/logout")
def logout(request: Request, who: Poster, session: DbSession, platform: PlatformDep) -> Response:
    auth.logout(session, platform, who, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
