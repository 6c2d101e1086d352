"""Request dependencies: the platform, a database session, and who is calling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from rltnet.service.errors import Forbidden, Unauthenticated
from rltnet.service.platform import Platform
from rltnet.service.security import Principal, Role, token_hash
from rltnet.store import tables

_bearer = HTTPBearer(auto_error=False, description="The token from POST /api/v1/auth/login")


def platform(request: Request) -> Platform:
    found: Platform = request.app.state.platform
    return found


PlatformDep = Annotated[Platform, Depends(platform)]


def database(platform: PlatformDep) -> Iterator[Session]:
    """A session for the request; whatever it did not commit is rolled back."""
    session = platform.sessions()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


DbSession = Annotated[Session, Depends(database)]


def who_holds(session: Session, token: str) -> Principal | None:
    """The user a live token belongs to, or None (unknown, revoked, expired, user inactive).

    The read is ended, so the connection goes back to the pool: FastAPI runs the
    endpoint on another thread, and a request must not hold a connection while it
    waits for one.
    """
    found = session.execute(
        select(tables.Token, tables.User)
        .join(tables.User, tables.User.id == tables.Token.user_id)
        .where(tables.Token.token_hash == token_hash(token))
    ).first()
    who = None
    if found is not None:
        token_row, user = found
        if not token_row.revoked and token_row.expires_at > datetime.now(UTC) and user.active:
            who = Principal(user.id, user.username, Role(user.role), user.centre_id)
    session.rollback()
    return who


def principal(
    session: DbSession, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise Unauthenticated(
            "log in first: POST /api/v1/auth/login, then send 'Authorization: Bearer <token>'"
        )
    who = who_holds(session, credentials.credentials)
    if who is None:
        raise Unauthenticated("the token is unknown, revoked or expired; log in again")
    return who


CurrentUser = Annotated[Principal, Depends(principal)]


def allow(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only `roles` through."""

    def check(user: CurrentUser) -> Principal:
        if user.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this needs the role {allowed}; you are {user.role.value}")
        return user

    return check
