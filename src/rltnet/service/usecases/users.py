"""Users: created by administrators (and by the demo seed), passwords hashed with Argon2."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rltnet.domain.errors import InvalidInput
from rltnet.service import audit
from rltnet.service.errors import Conflict, Forbidden, Unauthenticated
from rltnet.service.platform import Platform
from rltnet.service.schemas import PasswordChange, UserCreate, UserPublic
from rltnet.service.security import CENTRE_ROLES, Principal, Role, hash_password, verify_password
from rltnet.store import tables


def add_user(session: Session, platform: Platform, body: UserCreate) -> tables.User:
    """A new user row (not committed); a centre role needs a centre of the network."""
    role = Role(body.role)
    if role in CENTRE_ROLES and body.centre_id not in platform.network.centres:
        raise InvalidInput(
            f"a {role.value} belongs to a centre; give centre_id, one of: "
            f"{', '.join(platform.network.centres)}"
        )
    if role not in CENTRE_ROLES and body.centre_id is not None:
        raise InvalidInput(f"a {role.value} does not belong to a centre; leave centre_id out")
    user = tables.User(
        username=body.username,
        password_hash=hash_password(body.password),
        role=role.value,
        centre_id=body.centre_id,
        active=True,
        created_at=platform.clock.now(),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"user {body.username!r} exists; choose another username") from None
    return user


def create(session: Session, platform: Platform, who: Principal, body: UserCreate) -> UserPublic:
    if who.role is not Role.ADMIN:
        raise Forbidden("users are created by an administrator")
    user = add_user(session, platform, body)
    audit.record(
        session,
        who,
        "create_user",
        "user",
        str(user.id),
        after=audit.snapshot(user, leave_out=frozenset({"password_hash"})),
        at=platform.clock.now(),
    )
    session.commit()
    return public(user)


def listing(session: Session, who: Principal) -> list[UserPublic]:
    if who.role is not Role.ADMIN:
        raise Forbidden("users are listed by an administrator")
    return [public(u) for u in session.scalars(select(tables.User).order_by(tables.User.username))]


def public(user: tables.User) -> UserPublic:
    return UserPublic(
        id=user.id, username=user.username, role=user.role, centre_id=user.centre_id, active=user.active
    )


def count(session: Session) -> int:
    """How many accounts exist (none on a fresh database: the first administrator is made with
    `rltnet users create --role admin`)."""
    return session.scalar(select(func.count()).select_from(tables.User)) or 0


def set_password(session: Session, user: tables.User, password: str) -> int:
    """A new password for `user`, which ends every login they hold (API tokens and workspace
    sessions are the same tokens); how many were ended. Not committed."""
    user.password_hash = hash_password(password)
    ended = session.execute(
        update(tables.Token)
        .where(tables.Token.user_id == user.id, tables.Token.revoked.is_(False))
        .values(revoked=True)
    )
    return int(getattr(ended, "rowcount", 0) or 0)


def change_own_password(session: Session, platform: Platform, who: Principal, body: PasswordChange) -> None:
    """The caller changes their password, proving the current one; all their logins end."""
    user = session.get(tables.User, who.user_id)
    if user is None or not verify_password(user.password_hash, body.current_password):
        raise Unauthenticated("the current password is wrong; give the password you logged in with")
    if body.new_password == body.current_password:
        raise InvalidInput("the new password is the current one; choose a different password")
    ended = set_password(session, user, body.new_password)
    logins = {"logins_ended": ended}
    audit.record(session, who, "change_password", "user", str(user.id), after=logins, at=platform.clock.now())
    session.commit()
