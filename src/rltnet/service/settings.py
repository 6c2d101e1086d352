"""The service's settings, read once at start from `RLTNET_*` environment variables.

| variable | default | meaning |
|---|---|---|
| `RLTNET_MODE` | `development` | `development` or `production`; production refuses placeholder secrets |
| `RLTNET_DATABASE_URL` | `sqlite:///var/rltnet.sqlite` | SQLite file or PostgreSQL URL |
| `RLTNET_NETWORK` | `england` | bundled network name or network file |
| `RLTNET_SECRET_KEY` | dev: made in the data dir | seals identities, signs forms; needed in production |
| `RLTNET_PREVIOUS_SECRET_KEYS` | none | comma-separated old keys that still open (`rltnet keys rotate`) |
| `RLTNET_DATA_DIR` | `var` | the data folder: the development key file `secret.key` |
| `RLTNET_TOKEN_MINUTES` | `480` | how long a login token lasts |
| `RLTNET_LOGIN_ATTEMPTS` | `5` | failed logins allowed per user and client in `RLTNET_LOGIN_WINDOW_MINUTES` |
| `RLTNET_LOGIN_USER_CAP` | `50` | failed logins allowed per user from all clients together in the window |
| `RLTNET_LOGIN_WINDOW_MINUTES` | `15` | the throttling window |
| `RLTNET_DEMO` | `false` | fill an empty database with demo users and patients |
| `RLTNET_MAX_BODY_BYTES` | `65536` | request bodies larger than this are refused (413) |
| `RLTNET_PREPARE_PLACEMENT` | `true` | build each hour's placement tables ahead (a thread per worker) |
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rltnet.domain.errors import InvalidInput

# The key every installation shared before keys were made per installation (service.keys):
# never used to seal, only to re-seal what it sealed, and refused in production.
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RLTNET_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///var/rltnet.sqlite"
    network: str = "england"
    secret_key: str | None = Field(default=None, min_length=32)
    previous_secret_keys: str = ""
    data_dir: str = "var"
    token_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60)
    login_attempts: int = Field(default=5, ge=1, le=100)
    login_user_cap: int = Field(default=50, ge=1, le=10_000)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    demo: bool = False
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    prepare_placement: bool = True

    def previous_keys(self) -> tuple[str, ...]:
        return tuple(key.strip() for key in self.previous_secret_keys.split(",") if key.strip())

    @model_validator(mode="after")
    def _no_placeholder_in_production(self) -> Settings:
        if self.mode != "production":
            return self
        key = self.secret_key
        if key is None or key == DEVELOPMENT_SECRET or "change" in key.lower():
            said = "is not set" if key is None else "is a placeholder"
            raise InvalidInput(
                f"RLTNET_SECRET_KEY {said}; in production set it to a long random value, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`, and keep it: identities "
                "sealed with one key cannot be read with another"
            )
        if any(len(previous) < 32 for previous in self.previous_keys()):
            raise InvalidInput("each key of RLTNET_PREVIOUS_SECRET_KEYS has 32 or more characters")
        return self
