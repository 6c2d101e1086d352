"""Users: created by administrators (and by the demo seed), passwords hashed with Argon2."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rltnet.domain.errors import InvalidInput
from rltnet.service import audit
from rltnet.service.errors import Conflict, Forbidden
from rltnet.service.platform import Platform
from rltnet.service.schemas import UserCreate, UserPublic
from rltnet.service.security import CENTRE_ROLES, Principal, Role, hash_password
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
        created_at=datetime.now(UTC),
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
