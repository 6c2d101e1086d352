"""Logging in and out: Argon2 passwords, opaque bearer tokens, throttled failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rltnet.service.errors import TooManyAttempts, Unauthenticated
from rltnet.service.platform import Platform
from rltnet.service.schemas import LoginCreate, TokenPublic
from rltnet.service.security import Principal, new_token, token_hash, verify_password
from rltnet.store import tables


def login(session: Session, platform: Platform, body: LoginCreate, client: str) -> TokenPublic:
    """A token for the right password; refused after too many recent failures."""
    settings = platform.settings
    at = datetime.now(UTC)
    since = at - timedelta(minutes=settings.login_window_minutes)
    failures = session.scalar(
        select(func.count())
        .select_from(tables.LoginFailure)
        .where(tables.LoginFailure.username == body.username)
        .where(tables.LoginFailure.at >= since)
    )
    if (failures or 0) >= settings.login_attempts:
        raise TooManyAttempts(
            f"too many failed logins for {body.username!r}; wait {settings.login_window_minutes} minutes "
            f"or ask an administrator"
        )
    user = session.scalars(select(tables.User).where(tables.User.username == body.username)).first()
    if user is None or not user.active or not verify_password(user.password_hash, body.password):
        session.add(tables.LoginFailure(username=body.username, client=client[:64], at=at))
        session.commit()
        raise Unauthenticated("wrong username or password")
    session.execute(delete(tables.LoginFailure).where(tables.LoginFailure.username == body.username))
    token, stored = new_token()
    expires = at + timedelta(minutes=settings.token_minutes)
    session.add(
        tables.Token(token_hash=stored, user_id=user.id, created_at=at, expires_at=expires, revoked=False)
    )
    session.commit()
    return TokenPublic(access_token=token, expires_at=expires, role=user.role, centre_id=user.centre_id)


def logout(session: Session, who: Principal, token: str) -> None:
    row = session.get(tables.Token, token_hash(token))
    if row is not None and row.user_id == who.user_id:
        row.revoked = True
        session.commit()
