"""Helpers for the service tests: the test users, and a clinic that walks patients along."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from rltnet.domain.clock import Clock, SettableClock
from rltnet.domain.decay import activity_at
from rltnet.domain.products import Catalogue, TherapyProduct
from rltnet.domain.units import Activity
from rltnet.service.platform import Platform
from rltnet.service.schemas import (
    ImagingRequestCreate,
    ImagingResultCreate,
    MdtDecisionCreate,
    PatientCreate,
    UserCreate,
)
from rltnet.service.security import Principal
from rltnet.service.settings import Settings
from rltnet.service.usecases import patients as patient_cases
from rltnet.service.usecases.users import add_user

PASSWORD = "correct-horse-battery-staple"
Headers = dict[str, str]

# username: (role, centre)
USERS: dict[str, tuple[str, str | None]] = {
    "coord-leeds": ("coordinator", "leeds"),
    "doc-leeds": ("physician", "leeds"),
    "coord-london": ("coordinator", "london"),
    "doc-london": ("physician", "london"),
    "maker": ("manufacturer", None),
    "analyst": ("analyst", None),
    "admin": ("admin", None),
}


def hospital_number() -> str:
    """A hospital number not referred before: one number is one patient at a centre."""
    return f"H-{secrets.token_hex(6).upper()}"


def start_with_users(settings: Settings, clock: Clock | None = None) -> Platform:
    """The service's platform on `settings`, with every user of `USERS` (password `PASSWORD`),
    on `clock` (the system's by default; a `SettableClock` for tests that let time pass)."""
    platform = Platform.start(settings, clock)
    with platform.sessions() as session:
        for username, (role, centre) in USERS.items():
            body = {"username": username, "password": PASSWORD, "role": role, "centre_id": centre}
            add_user(session, platform, UserCreate.model_validate(body))
        session.commit()
    return platform


def approved_patients(
    session: Session,
    platform: Platform,
    coordinator: Principal,
    physician: Principal,
    count: int,
    product: str = "lu177-vipivotide-tetraxetan",
) -> list[str]:
    """`count` patients of the coordinator's centre referred, imaged positive and approved at
    MDT through the use cases; their ids."""
    ids = []
    for n in range(count):
        referral = PatientCreate.model_validate(
            {
                "centre_id": coordinator.centre_id,
                "product": product,
                "indication": "mCRPC",
                "identity": {
                    "name": f"Patient {n}",
                    "date_of_birth": "1950-01-01",
                    "hospital_number": hospital_number(),
                },
            }
        )
        patient = patient_cases.refer(session, platform, coordinator, referral).id
        patient_cases.request_imaging(
            session, platform, coordinator, patient, ImagingRequestCreate(agent="Locametz")
        )
        patient_cases.record_imaging(
            session, platform, coordinator, patient, ImagingResultCreate(result="positive")
        )
        patient_cases.decide(session, platform, physician, patient, MdtDecisionCreate(decision="approve"))
        ids.append(patient)
    return ids


def bearer_headers(client: TestClient) -> dict[str, Headers]:
    """Bearer headers for every user of `USERS`, logged in through the API."""
    headers = {}
    for username in USERS:
        response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        headers[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return headers


class Clinic:
    """Walks patients along the pathway through the API, as a centre would."""

    def __init__(self, client: TestClient, auth: dict[str, Headers]) -> None:
        self.client = client
        self.auth = auth
        self._fresh_until: datetime | None = None  # the tokens in `auth` live until then

    @property
    def clock(self) -> SettableClock:
        clock = self.client.app.state.platform.clock  # type: ignore[attr-defined]
        assert isinstance(clock, SettableClock), "the clinic needs a platform on a SettableClock"
        return clock

    def advance(self, by: timedelta) -> datetime:
        """Let `by` pass on the service clock; once the tokens would have expired, everyone logs
        in again, in place, so every holder of these headers has live ones."""
        return self.advance_to(self.clock.now() + by)

    def advance_to(self, at: datetime) -> datetime:
        """Let time pass on the service clock until `at` (nothing happens if it is there already)."""
        clock = self.clock
        if self._fresh_until is None:
            lifetime = timedelta(minutes=self.client.app.state.platform.settings.token_minutes)  # type: ignore[attr-defined]
            self._fresh_until = clock.now() + lifetime - timedelta(minutes=1)
        now = clock.set(max(at, clock.now()))
        if now >= self._fresh_until:
            self.auth.update(bearer_headers(self.client))
            self._fresh_until = None
        return now

    def product(self, product_id: str) -> TherapyProduct:
        catalogue: Catalogue = self.client.app.state.platform.catalogue  # type: ignore[attr-defined]
        return catalogue.therapy(product_id)

    def expected_gbq(self, order: dict[str, Any], at: datetime) -> float:
        """The dose's activity at `at`, decayed from its planned calibration (what a calibrator reads)."""
        placed = order["placement"]
        nuclide = self.product(order["product_id"]).nuclide
        calibrated = datetime.fromisoformat(placed["calibration_at"])
        made = Activity.from_gbq(placed["calibration_gbq"])
        return round(activity_at(nuclide, made, calibrated, at).gbq, 3)

    def deliver(self, order: dict[str, Any], until: str = "deliver") -> dict[str, Any]:
        """The manufacturer confirms the order (if waiting), and makes, releases, ships and
        delivers its dose, each step when the placement plans it: the clock is advanced to it."""
        path = f"/orders/{order['id']}"
        order = self.call("GET", path, "maker")
        if order["status"] == "requested":
            order = self.call("POST", f"{path}/confirmation", "maker")
        placed = order["placement"]
        steps: tuple[tuple[str, str, dict[str, Any]], ...] = (
            ("start_production", placed["calibration_at"], {}),
            ("release", placed["released_at"], {"lot": f"LOT-{order['id'][-4:]}"}),
            ("ship", placed["departs_at"], {"courier": "Movianto", "tracking": f"MV-{order['id'][-6:]}"}),
            ("deliver", placed["arrives_at"], {}),
        )
        for step, planned, facts in steps:
            at = self.advance_to(datetime.fromisoformat(planned))
            if step == "release":
                facts = {**facts, "calibration_gbq": self.expected_gbq(order, at)}
            order = self.call("POST", f"{path}/progress", "maker", json={"step": step, **facts})
            if step == until:
                break
        return order

    def administer(self, order: dict[str, Any], centre: str = "leeds") -> dict[str, Any]:
        """The physician records the delivered dose given at its planned administration."""
        at = self.advance_to(datetime.fromisoformat(order["placement"]["administration_at"]))
        body = {"order_id": order["id"], "assayed_gbq": self.expected_gbq(order, at), "residual_gbq": 0.05}
        patient: dict[str, Any] = self.call(
            "POST", f"/patients/{order['patient_id']}/administrations", f"doc-{centre}", json=body
        )
        return patient

    def call(self, method: str, path: str, user: str, **kwargs: Any) -> Any:
        response = self.client.request(method, f"/api/v1{path}", headers=self.auth[user], **kwargs)
        assert response.status_code < 300, (
            f"{method} {path} as {user}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def refer(self, centre: str = "leeds", product: str = "Pluvicto") -> str:
        body = {
            "centre_id": centre,
            "product": product,
            "indication": "mCRPC" if product == "Pluvicto" else "GEP-NET",
            "identity": {
                "name": "Test Patient",
                "date_of_birth": "1955-05-05",
                "hospital_number": hospital_number(),
            },
        }
        patient: str = self.call("POST", "/patients", f"coord-{centre}", json=body)["id"]
        return patient

    def approve(self, centre: str = "leeds", product: str = "Pluvicto") -> str:
        patient = self.refer(centre, product)
        agent = "Locametz" if product == "Pluvicto" else "NETSPOT"
        self.call("POST", f"/patients/{patient}/imaging-requests", f"coord-{centre}", json={"agent": agent})
        self.call(
            "POST", f"/patients/{patient}/imaging-results", f"coord-{centre}", json={"result": "positive"}
        )
        self.call("POST", f"/patients/{patient}/mdt-decisions", f"doc-{centre}", json={"decision": "approve"})
        return patient

    def order(self, patient: str, centre: str = "leeds", **body: Any) -> dict[str, Any]:
        key = f"test-{secrets.token_hex(8)}"
        headers = {**self.auth[f"coord-{centre}"], "Idempotency-Key": key}
        response = self.client.post("/api/v1/orders", headers=headers, json={"patient_id": patient, **body})
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        return order
