"""Passwords, login tokens, roles, and the sealing of patients' identifying details.

- Passwords are hashed with Argon2id (argon2-cffi's defaults).
- A login gives an opaque bearer token; only its SHA-256 is stored, so a stolen
  database does not give working tokens, and a token is revoked by deleting it.
- Identifying details are sealed with Fernet (AES-128-CBC + HMAC-SHA256) under a
  key derived from the installation's secret key (`service.keys`).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_HASHER = PasswordHasher()


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"  # a centre's coordinator: its patients, referrals, orders
    PHYSICIAN = "physician"  # a centre's nuclear-medicine physician: MDT, administrations
    MANUFACTURER = "manufacturer"  # the supply planner: every order, pseudonyms only
    ANALYST = "analyst"  # health-system analyst: de-identified aggregates only
    ADMIN = "admin"  # users, the audit trail, disruptions


CENTRE_ROLES = frozenset({Role.COORDINATOR, Role.PHYSICIAN})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: from their token, for every authorisation decision."""

    user_id: int
    username: str
    role: Role
    centre_id: str | None

    def sees_centre(self, centre_id: str) -> bool:
        """Patient-level data of a centre: its own staff, the manufacturer (pseudonyms
        only) and administrators."""
        if self.role in CENTRE_ROLES:
            return self.centre_id == centre_id
        return self.role in (Role.MANUFACTURER, Role.ADMIN)

    def sees_identity(self, centre_id: str) -> bool:
        """Identifying details: only the patient's own centre."""
        return self.role in CENTRE_ROLES and self.centre_id == centre_id


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str]:
    """A bearer token and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(12)


class Sealer:
    """Seals and opens identifying details: keys derived from the secret keys, newest first.

    The newest seals; any opens (cryptography's MultiFernet), so values sealed before a
    rotation still open until `reseal` has moved them to the newest key.
    """

    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys:
            raise ValueError("a sealer needs at least one key")
        self._fernet = MultiFernet([Fernet(_derived(key)) for key in secret_keys])

    def seal(self, details: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(details, sort_keys=True).encode())

    def open(self, sealed: bytes) -> dict[str, Any]:
        try:
            opened: dict[str, Any] = json.loads(self._fernet.decrypt(sealed))
        except InvalidToken:
            raise ValueError("identity cannot be opened with this secret key") from None
        return opened

    def reseal(self, sealed: bytes) -> bytes:
        """The value sealed again under the newest key (ValueError if no key opens it)."""
        try:
            return self._fernet.rotate(sealed)
        except InvalidToken:
            raise ValueError("a sealed value cannot be opened with these keys") from None


_NOT_SIGNIFICANT = re.compile(r"[\s\-/.]+")


def normalised_hospital_number(number: str) -> str:
    """The hospital number as it is matched: Unicode-normalised, any case, without spaces,
    hyphens, slashes or dots ("rx 12-345" is "RX12345")."""
    return _NOT_SIGNIFICANT.sub("", unicodedata.normalize("NFKC", number)).upper()


class Matcher:
    """Keyed hashes (HMAC-SHA256) that let the service find an equal value without storing it:
    a hospital number already referred at a centre, a referral sent twice. The key is derived
    from the secret key (apart from the sealing key), so a stolen database alone cannot test
    guessed numbers against the hashes."""

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"rltnet-match:" + secret_key.encode()).digest()

    def digest(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def hospital_number(self, number: str) -> str:
        return self.digest("hospital-number", normalised_hospital_number(number))


def _derived(secret_key: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(b"rltnet-identity:" + secret_key.encode()).digest())
