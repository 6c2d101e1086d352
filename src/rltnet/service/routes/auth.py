"""Log in, log out, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rltnet.service.deps import CurrentUser, DbSession, PlatformDep
from rltnet.service.schemas import LoginCreate, MePublic, PasswordChange, TokenPublic
from rltnet.service.usecases import auth, users

router = APIRouter(prefix="/auth", tags=["auth"])
_bearer = HTTPBearer(auto_error=False)


@router.post("/login", responses={401: {}, 429: {}})
def login(body: LoginCreate, request: Request, session: DbSession, platform: PlatformDep) -> TokenPublic:
    """A bearer token for a username and password (throttled after repeated failures)."""
    client = request.client.host if request.client else "unknown"
    return auth.login(session, platform, body, client)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses={401: {}})
def logout(
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Revoke the token used for this request."""
    if credentials is not None:
        auth.logout(session, platform, who, credentials.credentials)


me_router = APIRouter(tags=["auth"])


@me_router.get("/me", responses={401: {}})
def me(who: CurrentUser) -> MePublic:
    """Who the token belongs to."""
    return MePublic(username=who.username, role=who.role.value, centre_id=who.centre_id)


@me_router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT, responses={401: {}, 422: {}})
def change_password(
    body: PasswordChange, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> None:
    """Change your password; every login you hold (API tokens, workspace sessions) ends: log in again."""
    users.change_own_password(session, platform, who, body)
