"""The service's settings, read once at start from `RLTNET_*` environment variables.

| variable | default | meaning |
|---|---|---|
| `RLTNET_MODE` | `development` | `development` or `production`; production refuses placeholder secrets |
| `RLTNET_DATABASE_URL` | `sqlite:///var/rltnet.sqlite` | SQLite file or PostgreSQL URL |
| `RLTNET_NETWORK` | `england` | bundled network name or network file |
| `RLTNET_SECRET_KEY` | a development placeholder | seals patients' identifying details; 32+ characters |
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

DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RLTNET_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///var/rltnet.sqlite"
    network: str = "england"
    secret_key: str = Field(default=DEVELOPMENT_SECRET, min_length=32)
    token_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60)
    login_attempts: int = Field(default=5, ge=1, le=100)
    login_user_cap: int = Field(default=50, ge=1, le=10_000)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    demo: bool = False
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    prepare_placement: bool = True

    @model_validator(mode="after")
    def _no_placeholder_in_production(self) -> Settings:
        placeholder = self.secret_key == DEVELOPMENT_SECRET or "change" in self.secret_key.lower()
        if self.mode == "production" and placeholder:
            raise InvalidInput(
                "RLTNET_SECRET_KEY is a placeholder; in production set it to a long random value, "
                "e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return self
