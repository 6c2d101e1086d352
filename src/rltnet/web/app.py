"""Installing the workspace on the service's FastAPI app: its pages, static files and errors."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from rltnet.domain.errors import RltnetError
from rltnet.service import errors
from rltnet.service.errors import Unauthenticated
from rltnet.web import render
from rltnet.web.auth import HOME, LoginRequired, login_url, safe_next
from rltnet.web.routes import (
    aggregates,
    board,
    calendar,
    disruptions,
    login,
    manufacturer,
    orders,
    patients,
    reads,
)

PAGES = (login, board, patients, orders, manufacturer, calendar, disruptions, aggregates, reads)


def install(app: FastAPI) -> None:
    """Add the pages and their error answers to `app` (whose API keeps its JSON errors)."""
    for module in PAGES:
        app.include_router(module.router, include_in_schema=False)
    app.mount("/static", StaticFiles(packages=[("rltnet.web", "static")]), name="static")
    errors.install(app, pages=page_error)

    @app.exception_handler(LoginRequired)
    async def _login(_: Request, error: LoginRequired) -> Response:
        return RedirectResponse(login_url(error.back_to), status_code=303)


def page_error(request: Request, error: RltnetError | HTTPException | RequestValidationError) -> Response:
    """A form's error goes back to the page it came from, said at the top; a page that cannot
    be shown says why, with its status."""
    if isinstance(error, Unauthenticated):
        return RedirectResponse(login_url(request.url.path), status_code=303)
    if isinstance(error, RequestValidationError):
        status, message = 422, errors.validation_message(error)
    elif isinstance(error, HTTPException):
        status, message = error.status_code, _http_message(request, error)
    else:
        status, message = errors.status_of(error), str(error)
    if request.method == "POST" and status != 404:
        return render.redirect(_came_from(request), message, kind="error")
    platform = request.app.state.platform
    return render.page(
        request, platform, None, "error.html", status=status, status_code=status, message=message
    )


def _http_message(request: Request, error: HTTPException) -> str:
    if error.status_code == 404:
        return f"there is no page at {request.url.path}; use the menu"
    if error.status_code == 405:
        return f"{request.method} {request.url.path} is not allowed here; use the page's own forms"
    return str(error.detail)


def _came_from(request: Request) -> str:
    """The page a form was posted from (its Referer, when it is this site), else home."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


__all__ = ["HOME", "install"]
