"""Logging in and out: Argon2 passwords, opaque bearer tokens, throttled failures, all audited.

Throttling counts failed logins in a window per user *and client* (`RLTNET_LOGIN_ATTEMPTS`),
so one client's guesses never lock the user out of another client, and per user over
every client (`RLTNET_LOGIN_USER_CAP`), so guesses spread over many clients stay bounded.
Each attempt takes its place in the count *before* its password is checked, one at a time
per username (an advisory lock on PostgreSQL, SQLite's write lock), so a burst of
concurrent guesses checks at most the limit, and a right password sent after the limit is
refused like a wrong one. An unknown or inactive user's password is checked against a
dummy hash, so the answer takes as long as for a real user.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rltnet.service import audit
from rltnet.service.errors import TooManyAttempts, Unauthenticated
from rltnet.service.platform import Platform
from rltnet.service.schemas import LoginCreate, TokenPublic
from rltnet.service.security import Principal, hash_password, new_token, token_hash, verify_password
from rltnet.store import tables

WRONG = "wrong username or password"
# pg_advisory_xact_lock(class, key): this class is logins', the key the username's hash
_LOGIN_LOCK_CLASS = 0x4C47  # "LG"
FAILURE = tables.LoginFailure


@cache
def _dummy_hash() -> str:
    """A hash no password matches, checked for unknown users: made once, when first needed."""
    return hash_password(new_token()[0])


def login(session: Session, platform: Platform, body: LoginCreate, client: str) -> TokenPublic:
    """A token for the right password; refused after too many recent failures."""
    at = platform.clock.now()
    client = client[:64]
    _take_a_turn(session, platform, body.username, client, at)
    user = session.scalars(select(tables.User).where(tables.User.username == body.username)).first()
    live = user is not None and user.active
    stored_hash = user.password_hash if user is not None and live else _dummy_hash()
    if not verify_password(stored_hash, body.password) or user is None or not live:
        role = user.role if user is not None else "unknown"
        audit.record_login(session, body.username, role, "login_failed", client, WRONG, at=at)
        session.commit()
        raise Unauthenticated(WRONG)
    # this client's failures are forgiven (its own turn among them); other clients' still count
    session.execute(delete(FAILURE).where(FAILURE.username == body.username, FAILURE.client == client))
    token, stored = new_token()
    expires = at + timedelta(minutes=platform.settings.token_minutes)
    session.add(
        tables.Token(token_hash=stored, user_id=user.id, created_at=at, expires_at=expires, revoked=False)
    )
    audit.record_login(session, user.username, user.role, "login", client, at=at)
    session.commit()
    return TokenPublic(access_token=token, expires_at=expires, role=user.role, centre_id=user.centre_id)


def _take_a_turn(session: Session, platform: Platform, username: str, client: str, at: datetime) -> None:
    """Count this attempt as a failure until it succeeds, or refuse it when over the limits.

    Written and counted under one lock per username and committed before the password is
    checked (which takes a tenth of a second): concurrent attempts each see the others.
    """
    settings = platform.settings
    session.rollback()  # the attempt's own transaction, begun by its write (SQLite's lock)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_LOGIN_LOCK_CLASS, func.hashtext(username))))
    session.add(FAILURE(username=username, client=client, at=at))
    session.flush()
    since = at - timedelta(minutes=settings.login_window_minutes)
    recent = (
        select(func.count()).select_from(FAILURE).where(FAILURE.username == username, FAILURE.at >= since)
    )
    from_client = session.scalar(recent.where(FAILURE.client == client)) or 0
    from_all = session.scalar(recent) or 0
    if from_client <= settings.login_attempts and from_all <= settings.login_user_cap:
        session.commit()
        return
    session.rollback()  # a refused attempt is not counted: the window ends on time
    refused = "too many failed logins"
    audit.record_login(session, username, "unknown", "login_refused", client, refused, at=at)
    session.commit()
    if from_client > settings.login_attempts:
        raise TooManyAttempts(
            f"too many failed logins for {username!r} from this client; wait "
            f"{settings.login_window_minutes} minutes or ask an administrator"
        )
    raise TooManyAttempts(
        f"too many failed logins for {username!r} from all clients; wait "
        f"{settings.login_window_minutes} minutes or ask an administrator"
    )


def logout(session: Session, platform: Platform, who: Principal, token: str) -> None:
    row = session.get(tables.Token, token_hash(token))
    if row is not None and row.user_id == who.user_id:
        row.revoked = True
        audit.record(session, who, "logout", "user", who.username, at=platform.clock.now())
        session.commit()
