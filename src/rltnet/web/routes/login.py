"""Logging in and out of the workspace, and home: each role's first page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from rltnet.service.deps import DbSession, PlatformDep
from rltnet.service.errors import TooManyAttempts, Unauthenticated
from rltnet.service.schemas import LoginCreate
from rltnet.service.security import Role
from rltnet.service.usecases import auth
from rltnet.web import render
from rltnet.web.auth import COOKIE, HOME, Poster, Viewer, safe_next

router = APIRouter()


@router.get("/")
def home(who: Viewer) -> RedirectResponse:
    return RedirectResponse(HOME[who.role], status_code=303)


@router.get("/login")
def login_page(request: Request, platform: PlatformDep, next: str = "/") -> Response:
    return render.page(request, platform, None, "login.html", next=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    platform: PlatformDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    back = safe_next(next)
    if not username or not password:
        return _refused(request, platform, "enter your username and password", back, username, 422)
    client = request.client.host if request.client else "unknown"
    try:
        token = auth.login(session, platform, LoginCreate(username=username, password=password), client)
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
    return response


def _refused(
    request: Request, platform: PlatformDep, message: str, back: str, username: str, status: int
) -> Response:
    return render.page(
        request, platform, None, "login.html", status=status, next=back, username=username, error=message
    )


@router.post("/logout")
def logout(request: Request, who: Poster, session: DbSession) -> Response:
    auth.logout(session, who, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
