"""The FastAPI application: routes under /api/v1, errors mapped once, a body-size limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rltnet import __version__
from rltnet.domain.errors import InvalidInput
from rltnet.service import errors
from rltnet.service.admission import THREADS, Admission
from rltnet.service.intake import Intake
from rltnet.service.platform import Platform
from rltnet.service.preparer import Preparer
from rltnet.service.routes import admin, auth, logistics, orders, patients, plan, reference
from rltnet.service.schemas import ErrorPublic, ValidationErrorPublic
from rltnet.service.settings import Settings

# Threads for sync endpoints and dependencies per worker (`admission.THREADS`). Fewer
# threads than requests in flight keep the GIL from thrashing: 12 gave 96 orders/s
# against 88 with 1,000 (bench/bench_service.py, PostgreSQL, 50 clients, 2 workers).
# A worker admits no more requests that use the database at once than it has threads
# (`service.admission`), so none waits for a thread while it holds a connection.


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    """The service; `platform` may be given (tests), else it is started from `settings`."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # sync endpoints and dependencies run on AnyIO's threads (40 by default)
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        if not hasattr(app.state, "platform"):
            app.state.platform = Platform.start(settings)
            app.state.intake = Intake(app.state.platform)
        preparer = Preparer(app.state.platform)
        if settings.prepare_placement:
            preparer.start()
        yield
        if settings.prepare_placement:
            preparer.stop()
        app.state.intake.stop()
        app.state.platform.close()

    app = FastAPI(
        title="rltnet",
        version=__version__,
        description="Radioligand therapy delivery: patients' pathway, dose orders and their plan.",
        lifespan=lifespan,
        dependencies=[Depends(_no_nul_in_query)],
    )
    app.state.admission = Admission()
    if platform is not None:
        app.state.platform = platform
        app.state.intake = Intake(platform)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)

    # FastAPI tries the routers in turn, tens of microseconds each: the busiest first (orders),
    # each under the app, not nested, and the API before the pages. POST /api/v1/orders was
    # matched in 134 us behind auth and patients in a nested router, now in 30 us.
    for module in (orders, auth, patients, plan, reference, logistics, admin):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(auth.me_router, prefix="/api/v1")

    _document_errors(app)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    from rltnet.web.app import install as install_workspace  # the pages: an outer ring on the API

    install_workspace(app)  # also maps errors: JSON for the API, pages for the rest
    return app


def _document_errors(app: FastAPI) -> None:
    """The OpenAPI document declares the error bodies the service sends (`errors.body`): every
    4xx and 5xx an operation lists gets `ErrorPublic`, a 422 `ValidationErrorPublic`."""
    build = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        built = build()
        schemas = built.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorPublic, ValidationErrorPublic):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        for operations in built.get("paths", {}).values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    if status.startswith(("4", "5")):
                        name = "ValidationErrorPublic" if status == "422" else "ErrorPublic"
                        answer["content"] = {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                        }
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        app.openapi_schema = built
        return built

    app.openapi = document  # type: ignore[method-assign]


async def _no_nul_in_query(request: Request) -> None:
    """PostgreSQL cannot compare text with a NUL character (a 500 there): refuse it up front.
    Bodies are checked by `schemas.Body`; path parameters have patterns that exclude it."""
    for name, value in request.query_params.multi_items():
        if "\x00" in value:
            raise InvalidInput(f"query parameter {name!r} holds a NUL character (%00); remove it")


# Scripts and styles from this site's own files only (no inline script: the order form's
# script is /static/order-check.js), never framed (clickjacking), nothing sniffed, and the
# full address sent to this site only (its form errors go back to the Referer page).
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc: an inline start-up script and their bundle from jsDelivr
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the security headers to every answer, pages and API alike."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.page = [*_HEADERS, (b"content-security-policy", PAGE_POLICY.encode())]
        self.docs = [*_HEADERS, (b"content-security-policy", DOCS_POLICY.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self.docs if scope["path"].startswith(("/docs", "/redoc")) else self.page

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *added]
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Refuses a request body over `limit` bytes with a 413: at once when its Content-Length
    says so, else as it streams in (a chunked body has no Content-Length to check)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            body = errors.body(413, errors.too_large(self.limit), "TooLarge")
            await JSONResponse(body, 413)(scope, receive, send)
        else:
            await self.app(scope, self._counted(receive), send)

    def _counted(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                # FastAPI re-raises an HTTPException from reading the body; errors.py answers it
                raise HTTPException(413, errors.too_large(self.limit))
            return message

        return counted


def _content_length(scope: Scope) -> int | None:
    """The declared size; None when absent or malformed (the bytes are counted as they come)."""
    try:
        return int(Headers(scope=scope)["content-length"])
    except (KeyError, ValueError):
        return None
