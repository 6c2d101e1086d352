"""The sealing keys: where they come from, and their rotation (`rltnet keys rotate`).

- Production: `RLTNET_SECRET_KEY`, required (a missing or placeholder key is refused
  at start), with `RLTNET_PREVIOUS_SECRET_KEYS` (comma-separated) still opening what
  was sealed before a rotation.
- Development, without `RLTNET_SECRET_KEY`: a random key made for this installation
  on first start and kept in the data folder (`RLTNET_DATA_DIR`, `var/`) as
  `secret.key`, one key a line, newest first. Values sealed under the old built-in
  development key are re-sealed under it at that first start.

Rotation re-seals every sealed value under the newest key in one transaction: all
or nothing; the hospital numbers' match keys (HMACs under a key derived from the
newest) are worked out again from the identities in the same transaction. In
development it first writes the new key ahead of the old one (both open), then
re-seals, then drops the old one, so a crash at any point loses nothing.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from rltnet.domain.errors import InvalidInput
from rltnet.service import notes
from rltnet.service.security import Matcher, Sealer
from rltnet.service.settings import DEVELOPMENT_SECRET, Settings
from rltnet.store import tables

KEY_FILE = "secret.key"


@dataclass(frozen=True, slots=True)
class SealingKeys:
    """The keys that open sealed values, newest first (the first seals), and where they are kept."""

    keys: tuple[str, ...]
    kept_in: str  # the environment variable, or the key file's path
    created: bool = False  # made at this start (development)

    def sealer(self) -> Sealer:
        return Sealer(self.keys)

    @property
    def newest(self) -> str:
        return self.keys[0]


def key_file(settings: Settings) -> Path:
    return Path(settings.data_dir) / KEY_FILE


def sealing_keys(settings: Settings) -> SealingKeys:
    """The installation's keys: from the environment, else (development) from the key file,
    made now if there is none."""
    if settings.secret_key is not None:
        return SealingKeys((settings.secret_key, *settings.previous_keys()), "RLTNET_SECRET_KEY")
    path = key_file(settings)
    created = _create(path, [_new_key()])
    return SealingKeys(tuple(_read(path)), str(path), created)


def start_message(keys: SealingKeys) -> str:
    """What `rltnet serve` says about the sealing key at start."""
    if keys.kept_in == "RLTNET_SECRET_KEY":
        return "patients' identities are sealed with RLTNET_SECRET_KEY"
    made = "made now for this installation and kept" if keys.created else "kept"
    return (
        f"development mode: patients' identities are sealed with a random key {made} in {keys.kept_in}; "
        "keep that file with the database (without it they cannot be read). "
        "In production set RLTNET_MODE=production and RLTNET_SECRET_KEY"
    )


def adopt_development_values(engine: Engine, keys: SealingKeys) -> int:
    """Re-seal under a newly made key what the built-in development key sealed (before keys were
    made per installation): a value that key opens is re-sealed; others are left as they are."""
    if not keys.created:
        return 0
    return _reseal(engine, Sealer((keys.newest, DEVELOPMENT_SECRET)), keys.newest, skip_unopened=True)


@dataclass(frozen=True, slots=True)
class Rotation:
    resealed: int
    kept_in: str


def rotate(engine: Engine, settings: Settings) -> Rotation:
    """Re-seal every sealed value under the newest key.

    Development (key file): a new key is made and put first, every value re-sealed under
    it, and the old key dropped. Production: RLTNET_SECRET_KEY is the new key and
    RLTNET_PREVIOUS_SECRET_KEYS the old ones; remove those after the rotation.
    A value no key opens stops the rotation before anything is changed.
    """
    if settings.secret_key is not None:
        if not settings.previous_keys():
            raise InvalidInput(
                "set RLTNET_SECRET_KEY to the new key and RLTNET_PREVIOUS_SECRET_KEYS to the one in use "
                "until now, then run `rltnet keys rotate` again"
            )
        keys = sealing_keys(settings)
        return Rotation(_reseal(engine, keys.sealer(), keys.newest), keys.kept_in)
    path = key_file(settings)
    if not path.exists():
        raise InvalidInput(
            f"no key file at {path}: start the service once (it makes one), or set RLTNET_DATA_DIR"
        )
    old = _read(path)
    new = _new_key()
    _write(path, [new, *old])  # both open from now on, whatever happens next
    resealed = _reseal(engine, Sealer((new, *old)), new)
    _write(path, [new])
    return Rotation(resealed, str(path))


def _reseal(engine: Engine, sealer: Sealer, newest: str, *, skip_unopened: bool = False) -> int:
    """Every sealed value (identities, pathway-event notes, follow-up data) re-sealed under the
    newest key, and each patient's hospital-number match key worked out again under it
    (`security.Matcher`), in one transaction."""
    matcher = Matcher(newest)
    count = 0

    def moved(where: str, token: bytes) -> bytes | None:
        nonlocal count
        try:
            resealed = sealer.reseal(token)
        except ValueError:
            if skip_unopened:
                return None
            raise InvalidInput(
                f"a value of {where} opens with none of the keys; nothing was changed. "
                "Set RLTNET_PREVIOUS_SECRET_KEYS to the key that sealed it"
            ) from None
        count += 1
        return resealed

    def moved_text(where: str, stored: str) -> str | None:
        token = moved(where, stored.removeprefix(notes.SEALED).encode("ascii"))
        return None if token is None else notes.SEALED + token.decode("ascii")

    with Session(engine) as session:
        for identity in session.scalars(select(tables.PatientIdentity).with_for_update()).all():
            sealed = moved("patient_identities.sealed", identity.sealed)
            if sealed is not None:
                identity.sealed = sealed
                _rematch(session, matcher, identity.patient_id, sealer.open(sealed))
        event = tables.PathwayEventRow
        for row in session.scalars(
            select(event).where(event.reason.startswith(notes.SEALED)).with_for_update()
        ):
            reason = moved_text("pathway_events.reason", row.reason)
            if reason is not None:
                row.reason = reason
        for follow_up in session.scalars(select(tables.FollowUp).with_for_update()).all():
            stored = (follow_up.data or {}).get("sealed")
            if isinstance(stored, str) and stored.startswith(notes.SEALED):
                data = moved_text("follow_ups.data", stored)
                if data is not None:
                    follow_up.data = {**follow_up.data, "sealed": data}
        session.commit()
    return count


def _rematch(session: Session, matcher: Matcher, patient_id: str, identity: dict[str, str]) -> None:
    patient = session.get(tables.Patient, patient_id)
    if patient is not None and patient.hospital_number_key is not None:
        patient.hospital_number_key = matcher.hospital_number(identity["hospital_number"])


def _new_key() -> str:
    return secrets.token_urlsafe(48)


def _read(path: Path) -> list[str]:
    keys = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not keys or any(len(key) < 32 for key in keys):
        raise InvalidInput(f"the key file {path} is damaged (a key is missing or too short); restore it")
    return keys


def _create(path: Path, keys: Sequence[str]) -> bool:
    """Write the key file unless it exists (another process may make it at the same moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as file:
        file.write("".join(f"{key}\n" for key in keys))
        file.flush()
        os.fsync(file.fileno())
    return True


def _write(path: Path, keys: Sequence[str]) -> None:
    """Replace the key file whole (a new file renamed over it): never half written."""
    fresh = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write("".join(f"{key}\n" for key in keys))
        file.flush()
        os.fsync(file.fileno())
    os.replace(fresh, path)
