"""The service's errors, and their HTTP status: mapped once, here, at the edge."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from rltnet.domain.errors import (
    DoseOutsideWindow,
    InvalidInput,
    OrderStateError,
    PathwayError,
    RltnetError,
    UnknownName,
)
from rltnet.domain.products import DoseNotAllowed

log = logging.getLogger(__name__)


class Unauthenticated(RltnetError):
    """No valid token: log in first."""


class Forbidden(RltnetError):
    """The caller's role may not do this."""


class NotFound(RltnetError):
    """No such thing, or not one the caller may see (the two are not told apart)."""

    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"{what} {key!r} not found; check the id (or your centre's access to it)")


class Conflict(RltnetError):
    """The request contradicts what is stored (an idempotency key reused, a full batch)."""


class DuplicatePatient(Conflict):
    """The hospital number is referred at this centre already: the existing patient is named."""

    def __init__(self, patient_id: str, centre_name: str) -> None:
        super().__init__(
            f"a patient with this hospital number is referred at {centre_name} already: {patient_id} "
            f"(/patients/{patient_id}, API /api/v1/patients/{patient_id}); open that record instead of "
            f"referring again"
        )
        self.patient_id = patient_id


class TooManyAttempts(RltnetError):
    """Too many failed logins; wait before trying again."""


RETRY_AFTER_S = 1  # what a request turned away for load is told to wait before it tries again


class Overloaded(RltnetError):
    """The service could not serve the request now and changed nothing: send it again later."""

    def __init__(self, message: str, retry_after_s: int = RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


# What the databases say when a transaction waited too long for a lock or was chosen to
# give way (a deadlock, a serialisation failure): nothing was written, and the same
# request may succeed a moment later.
_TRANSIENT = (
    "database is locked",  # SQLite: the busy timeout passed
    "deadlock detected",
    "could not serialize access",
    "lock timeout",
    "canceling statement due to lock timeout",
)


def transient(error: BaseException) -> Overloaded | None:
    """The `Overloaded` a database error amounts to, if it is one a retry can cure."""
    if isinstance(error, sqlalchemy.exc.TimeoutError):  # no pooled connection came in time
        return Overloaded("the service is busy: no database connection came free in time; send it again")
    if isinstance(error, sqlalchemy.exc.OperationalError):
        text = str(error.orig).lower()
        if any(words in text for words in _TRANSIENT):
            return Overloaded("the service is busy: the database was locked; nothing changed, send it again")
    return None


_STATUS: tuple[tuple[type[RltnetError], int], ...] = (
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PathwayError, 409),
    (OrderStateError, 409),
    (DoseOutsideWindow, 409),
    (TooManyAttempts, 429),
    (Overloaded, 503),
    (DoseNotAllowed, 422),
    (UnknownName, 422),
    (InvalidInput, 422),
)


def status_of(error: RltnetError) -> int:
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 400)


def too_large(limit: int) -> str:
    return f"the body is larger than the limit of {limit} bytes; send a smaller one"


def _explain(request: Request, error: HTTPException) -> tuple[int, str, str]:
    """The status, message and name of an error the framework raised (not rltnet's own)."""
    where = f"{request.method} {request.url.path}"
    if error.status_code == 400 and error.__cause__ is not None:
        # FastAPI's "error parsing the body": bytes that are not UTF-8 text, so not JSON either
        return 422, f"{where}: the body is not JSON; send a UTF-8 JSON object", "InvalidRequest"
    if error.status_code == 404:
        return 404, f"no such path: {where}; the API's paths are listed at /docs", "NotFound"
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        return 405, f"{where} is not allowed; use {allowed or 'another method'}", "MethodNotAllowed"
    if error.status_code == 413:
        return 413, str(error.detail), "TooLarge"
    return error.status_code, str(error.detail), "HTTPError"


# pydantic's words where they do not say what to do
_HINTS = {
    "extra_forbidden": "not a field of this request; remove it or check its spelling",
    "model_attributes_type": "should be a JSON object ({...}), sent as application/json",
    "timezone_aware": "has no time zone; add one, e.g. 2026-03-02T09:00:00+00:00 or 2026-03-02T09:00Z",
}


def _problem(item: Mapping[str, Any]) -> str:
    if item.get("type") == "json_invalid":  # its `loc` is a character position, not a field
        position = item.get("loc", ("body", "?"))[-1]
        reason = item.get("ctx", {}).get("error", "not JSON")
        return f"body: not valid JSON ({reason} at character {position}); send a JSON object"
    where = ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "body"
    return f"{where}: {_HINTS.get(item.get('type', ''), item.get('msg', 'invalid'))}"


PageErrors = Callable[[Request, RltnetError | HTTPException | RequestValidationError], Response]
"""How the web workspace answers an error on one of its pages (an HTML page, or a redirect)."""


def is_api(request: Request) -> bool:
    """Requests answered in JSON: the API, its docs and the health check; the rest are pages."""
    return request.url.path.startswith(("/api/", "/openapi.json", "/docs", "/redoc", "/health"))


def install(app: FastAPI, pages: PageErrors | None = None) -> None:
    """Every rltnet error becomes a 4xx with its message; validation errors say what to change.
    On a page (not the API) `pages` answers instead, where given."""

    def on_page(request: Request) -> bool:
        return pages is not None and not is_api(request)

    @app.exception_handler(RltnetError)
    async def _rltnet(request: Request, error: RltnetError) -> Response:
        if pages is not None and on_page(request):
            return pages(request, error)
        status = status_of(error)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(error, Overloaded):
            headers = {"Retry-After": str(error.retry_after_s)}
        return JSONResponse(body(status, str(error), type(error).__name__), status, headers=headers)

    @app.exception_handler(sqlalchemy.exc.DBAPIError)
    @app.exception_handler(sqlalchemy.exc.TimeoutError)
    async def _database(request: Request, error: Exception) -> Response:
        shed = transient(error)
        if shed is None:
            raise error  # a fault, not load: the server's error page and its log
        log.warning("%s %s: %s", request.method, request.url.path, str(error).splitlines()[0])
        return await _rltnet(request, shed)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        if pages is not None and on_page(request):
            return pages(request, error)
        status, message, name = _explain(request, error)
        return JSONResponse(body(status, message, name), status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        if pages is not None and on_page(request):
            return pages(request, error)
        message = validation_message(error)
        return JSONResponse(body(422, message, "InvalidRequest", _fields(error)), 422)


def body(status: int, message: str, name: str, fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An error's JSON body: `message` says what is wrong and what to do, `error` names it.

    `detail` is as the OpenAPI document declares it: for a 422 (FastAPI's HTTPValidationError)
    an array of `{loc, msg, type}`, one per field at fault (the body as a whole when the fault
    is not one field's); for any other status the message again.
    """
    if status != 422:
        return {"detail": message, "message": message, "error": name}
    detail = fields or [{"loc": ["body"], "msg": message, "type": _snake(name)}]
    return {"detail": detail, "message": message, "error": name}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def validation_message(error: RequestValidationError) -> str:
    problems = [_problem(item) for item in error.errors()]
    return "the request is not valid: " + "; ".join(problems) + ". Fix those fields and send it again"


def _fields(error: RequestValidationError) -> list[dict[str, Any]]:
    fields = []
    for item in error.errors():
        loc = [part if isinstance(part, int) else str(part) for part in item.get("loc", ())]
        kind = str(item.get("type", "invalid"))
        fields.append({"loc": loc or ["body"], "msg": _problem(item), "type": kind})
    return fields
