"""Request dependencies: the platform, a database session, and who is calling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from rltnet.service.admission import Admission
from rltnet.service.errors import Forbidden, Unauthenticated
from rltnet.service.platform import Platform
from rltnet.service.security import Principal, Role, token_hash
from rltnet.store import tables

_bearer = HTTPBearer(auto_error=False, description="The token from POST /api/v1/auth/login")


async def platform(request: Request) -> Platform:
    # async: a dependency that does no I/O runs on the event loop, not on a pool thread
    found: Platform = request.app.state.platform
    return found


PlatformDep = Annotated[Platform, Depends(platform)]


READING_METHODS = frozenset({"GET", "HEAD"})


async def database(request: Request, platform: PlatformDep) -> AsyncIterator[Session]:
    """A session for the request, once the worker admits it; whatever it did not commit is
    rolled back.

    The request waits its turn first (`service.admission`: a 503 when the worker is
    full), since it will hold a connection from its first statement to its answer. A
    GET or HEAD reads: on SQLite it takes no write lock (`store.db.reading`).

    Async, so opening it costs no hop to a pool thread: a session connects only when
    first used (on the endpoint's thread), and the use cases end their transaction
    before they return, so the clean-up does no I/O unless a request failed midway.
    """
    admission: Admission = request.app.state.admission
    async with admission.turn():
        reads = request.method in READING_METHODS
        session = platform.reads() if reads else platform.sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()


DbSession = Annotated[Session, Depends(database)]


TOKENS: Table = tables.Token.__table__  # type: ignore[assignment]
USERS: Table = tables.User.__table__  # type: ignore[assignment]
# Every request runs it: built once, and read as plain rows (no ORM objects to track)
_TOKEN_HOLDERS = (
    select(
        TOKENS.c.token_hash,
        TOKENS.c.revoked,
        TOKENS.c.expires_at,
        USERS.c.id,
        USERS.c.username,
        USERS.c.role,
        USERS.c.centre_id,
        USERS.c.active,
    )
    .join(USERS, USERS.c.id == TOKENS.c.user_id)
    .where(TOKENS.c.token_hash.in_(bindparam("hashes", expanding=True)))
)


def who_holds(session: Session, token: str, at: datetime) -> Principal | None:
    """The user a token live `at` belongs to, or None (unknown, revoked, expired, user inactive).

    The read is ended, so the connection goes back to the pool: FastAPI runs the
    endpoint on another thread, and a request must not hold a connection while it
    waits for one.
    """
    who = holders(session, [token], at).get(token)
    session.rollback()
    return who


def holders(session: Session, tokens: Sequence[str], at: datetime) -> dict[str, Principal]:
    """The users the tokens among `tokens` live `at` (the service clock's now) belong to, by
    token: one read for them all."""
    hashes = {token_hash(token): token for token in tokens}
    return {
        hashes[row.token_hash]: Principal(row.id, row.username, Role(row.role), row.centre_id)
        for row in session.execute(_TOKEN_HOLDERS, {"hashes": list(hashes)}).all()
        if not row.revoked and row.expires_at > at and row.active
    }


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The request's bearer token, not yet checked (the order intake checks a batch's at once)."""
    if credentials is None:
        raise Unauthenticated(NOT_LOGGED_IN)
    return credentials.credentials


BearerToken = Annotated[str, Depends(bearer_token)]
NOT_LOGGED_IN = "log in first: POST /api/v1/auth/login, then send 'Authorization: Bearer <token>'"
NOT_LIVE = "the token is unknown, revoked or expired; log in again"


def principal(
    session: DbSession,
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthenticated(NOT_LOGGED_IN)
    who = who_holds(session, credentials.credentials, platform.clock.now())
    if who is None:
        raise Unauthenticated(NOT_LIVE)
    return who


CurrentUser = Annotated[Principal, Depends(principal)]


def allow(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only `roles` through."""

    async def check(user: CurrentUser) -> Principal:
        if user.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this needs the role {allowed}; you are {user.role.value}")
        return user

    return check
