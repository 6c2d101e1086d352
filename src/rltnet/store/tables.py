"""The database tables of the platform service (SQLAlchemy 2).

These are persistence records, not the domain: the service layer turns them into
domain objects (a patient's pathway is rebuilt from its events through the
domain's state machine) and back. Instants are stored in UTC and read back aware.
Identifying details of patients live in their own table, encrypted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware instant, stored in UTC; SQLite's naive read-back is made aware again."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; give an aware one")
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    centre_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Token(Base):
    __tablename__ = "tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginFailure(Base):
    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)


class Centre(Base):
    """A treatment centre, synchronised from the network file at start."""

    __tablename__ = "centres"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100))
    chairs: Mapped[int]
    products: Mapped[list[Any]]
    time_zone: Mapped[str] = mapped_column(String(64))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    mdt_weekday: Mapped[str] = mapped_column(String(10))
    daily_activity_limit_bq: Mapped[float] = mapped_column(Float)


class StaffMember(Base):
    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    weekdays: Mapped[list[Any]]
    licences: Mapped[list[Any]]
    first_licence_expiry: Mapped[date | None] = mapped_column(Date, nullable=True)


class Patient(Base):
    """A patient by pseudonym; the pathway stage is derived from the events and kept here
    for filtering."""

    __tablename__ = "patients"
    __table_args__ = (
        Index("ix_patients_referral_key", "referral_key", unique=True),
        Index("ix_patients_centre_hospital_number", "centre_id", "hospital_number_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"), index=True)
    product_id: Mapped[str] = mapped_column(String(64))
    indication: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(32), index=True)
    stage_since: Mapped[datetime]
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    cycles_given: Mapped[int] = mapped_column(Integer, default=0)
    weight_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    referred_at: Mapped[datetime]
    events: Mapped[int] = mapped_column(Integer, default=0)
    # migration 0004: the referral's idempotency key and the HMAC of its body, and the
    # HMAC of the normalised hospital number (the number itself is sealed with the identity)
    referral_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    referral_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hospital_number_key: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PatientIdentity(Base):
    """Identifying details, encrypted; shown only to the patient's own centre."""

    __tablename__ = "patient_identities"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class PathwayEventRow(Base):
    __tablename__ = "pathway_events"
    __table_args__ = (UniqueConstraint("patient_id", "seq"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    seq: Mapped[int]
    move: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]]


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "<centre>:<key>": a key is the caller's centre's own (migration 0005)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_digest: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    product_id: Mapped[str] = mapped_column(String(64))
    cycle: Mapped[int]
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"), index=True)
    earliest_at: Mapped[datetime]
    latest_at: Mapped[datetime]
    preferred_at: Mapped[datetime]
    prescribed_bq: Mapped[float] = mapped_column(Float)
    reduction: Mapped[str | None] = mapped_column(String(100), nullable=True)
    weight_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    placed_at: Mapped[datetime] = mapped_column(index=True)
    placed_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    cancellation_fee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    plan_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # another date the manufacturer proposes, until the centre accepts it (migration 0002)
    proposed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    proposal_note: Mapped[str | None] = mapped_column(String(500), nullable=True)


class Batch(Base):
    """A production batch and how many of its doses are booked."""

    __tablename__ = "batches"
    # the last guard under the service's locks (migration 0006)
    __table_args__ = (
        CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_batches_booked_within_capacity"),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    start_at: Mapped[datetime] = mapped_column(index=True)  # placements read by range
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)


class CentreDay(Base):
    """Activity booked at a centre on a local day, against the site permit; the row is
    also the lock that serialises bookings at a centre on a day."""

    __tablename__ = "centre_days"
    # a float sum: a Bq below 0 is rounding, more is a fault (migration 0006)
    __table_args__ = (CheckConstraint("activity_bq > -1.0", name="ck_centre_days_activity_not_negative"),)

    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    activity_bq: Mapped[float] = mapped_column(Float, default=0.0)


class Dose(Base):
    __tablename__ = "doses"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    site_id: Mapped[str] = mapped_column(String(64))
    calibration_at: Mapped[datetime]
    calibration_bq: Mapped[float] = mapped_column(Float)
    released_at: Mapped[datetime]
    expiry_at: Mapped[datetime]
    dose_of: Mapped[str | None] = mapped_column(String(32), nullable=True)


class Shipment(Base):
    __tablename__ = "shipments"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    lane_id: Mapped[str] = mapped_column(String(80))
    departs_at: Mapped[datetime]
    arrives_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="planned")


class DoseRecordRow(Base):
    """What was recorded of an order's dose, step by step (facts, not the plan): rebuilt from
    the patient's pathway events, corrections applied, whenever one is recorded."""

    __tablename__ = "dose_records"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    production_started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(nullable=True)
    calibration_at: Mapped[datetime | None] = mapped_column(nullable=True)  # measured at release
    calibration_bq: Mapped[float | None] = mapped_column(Float, nullable=True)
    qc_result: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lot: Mapped[str | None] = mapped_column(String(64), nullable=True)
    qc_failed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    shipped_at: Mapped[datetime | None] = mapped_column(nullable=True)
    courier: Mapped[str | None] = mapped_column(String(100), nullable=True)
    tracking: Mapped[str | None] = mapped_column(String(100), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    missed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    administered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    assayed_bq: Mapped[float | None] = mapped_column(Float, nullable=True)
    residual_bq: Mapped[float | None] = mapped_column(Float, nullable=True)
    given_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("centre_id", "chair", "start_at"),
        Index("ix_appointments_centre_start", "centre_id", "start_at"),
        CheckConstraint("chair >= 1", name="ck_appointments_chair_from_one"),
    )

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    chair: Mapped[int]
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    administration_at: Mapped[datetime]
    delay_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class FollowUp(Base):
    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    cycle: Mapped[int]
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]


class Disruption(Base):
    __tablename__ = "disruptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    declared_at: Mapped[datetime]
    declared_by: Mapped[str] = mapped_column(String(64))
    events: Mapped[list[Any]]
    changes: Mapped[list[Any]]


class AuditEntry(Base):
    """Append-only: triggers in the migration refuse UPDATE and DELETE."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
