"""Typed settings from ``DROPSHIP_*`` environment variables, with defaults that work on a developer machine."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.messaging.linger import DEFAULT_LINGER_SECONDS

if TYPE_CHECKING:
    from shared.secrets import SecretBox

ServiceName = Literal["intake", "splitter", "shipstation", "tracking", "gateway", "channels", "console"]
Environment = Literal["development", "production"]

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/dropship"
MIN_PRODUCTION_TOKEN_LENGTH = 32
PLACEHOLDER_WORDS = ("change", "replace", "placeholder", "example", "secret", "password")
"""Words that mark a value someone meant to replace (``change-me``, ``<your token>``, ``secret``)."""


class Settings(BaseSettings):
    """What every service and the CLI read. A service's own settings subclass it
    (``services/<name>/settings.py``) and are given to that service alone."""

    model_config = SettingsConfigDict(env_prefix="DROPSHIP_", extra="ignore")

    env: Environment = Field(
        default="development", description="production: placeholder or default secrets are refused at start."
    )
    amqp_url: str = Field(
        default=DEFAULT_AMQP_URL,
        description="RabbitMQ: one amqp:// URL, or the comma-separated URLs of one cluster's nodes, tried in turn"
        " on connect and on every reconnect.",
    )
    database_url: str = DEFAULT_DATABASE_URL
    namespace: str = Field(default="", description="Prefix for exchanges and queues, so installs can share a broker.")
    log_format: Literal["console", "json"] | None = None
    log_level: str = "INFO"

    admin_token: SecretStr | None = None
    admin_token_file: Path = Path(".dropship/admin-token")
    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet keys that seal stored secrets, comma-separated: the first seals, every one opens.",
    )
    secret_key_file: Path = Field(
        default=Path(".dropship/secret-key"),
        description="Read when DROPSHIP_SECRET_KEY is not set (make run creates it; development only).",
    )

    bind_host: str = "127.0.0.1"
    intake_port: int = 8001
    splitter_port: int = 8002
    shipstation_port: int = 8003
    tracking_port: int = 8004
    gateway_port: int = 8005
    channels_port: int = 8006
    console_port: int = 8000
    intake_url: str | None = None
    splitter_url: str | None = None
    shipstation_url: str | None = None
    tracking_url: str | None = None
    gateway_url: str | None = None
    channels_url: str | None = None
    console_url: str | None = None

    max_body_bytes: int = 1_048_576
    auth_failure_limit: int = Field(
        default=20,
        ge=0,
        description="Failed authentications from one address within the window before it gets 429; 0: no limit.",
    )
    auth_failure_window_seconds: float = Field(
        default=60.0, gt=0, description="The window the failed authentications are counted in."
    )
    prefetch_count: int = 64
    delivery_limit: int = Field(default=10, description="Deliveries before a failing message is parked.")
    batch_linger_seconds: float = Field(
        default=DEFAULT_LINGER_SECONDS,
        ge=0,
        le=1,
        description="How long a batch that is forming under load (a consumer's inbox transaction, intake's "
        "group commit) may wait for more after its first item; it never waits when arrivals are sparse. 0: never.",
    )
    db_pool_size: int = 10

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production" and (problems := self.production_problems()):
            raise ValueError("DROPSHIP_ENV=production refuses these settings: " + "; ".join(problems))
        return self

    def production_problems(self) -> list[str]:
        """Why these settings are not fit for production (never naming a secret's value)."""
        problems: list[str] = []
        nodes = [urlsplit(node.strip()) for node in self.amqp_url.split(",") if node.strip()]
        if any(node.username in (None, "guest") or node.password in (None, "guest") for node in nodes):
            problems.append("DROPSHIP_AMQP_URL uses RabbitMQ's default guest account")
        if self.database_url == DEFAULT_DATABASE_URL:
            problems.append("DROPSHIP_DATABASE_URL is the development default")
        if self.admin_token is None:
            problems.append("DROPSHIP_ADMIN_TOKEN is not set (the generated development token file is not used)")
        elif is_placeholder(self.admin_token.get_secret_value()):
            problems.append(
                f"DROPSHIP_ADMIN_TOKEN looks like a placeholder (use {MIN_PRODUCTION_TOKEN_LENGTH}+ random characters)"
            )
        if self.secret_key is None:
            problems.append("DROPSHIP_SECRET_KEY is not set (the generated development key file is not used)")
        return problems

    def port(self, service: ServiceName) -> int:
        ports: dict[ServiceName, int] = {
            "intake": self.intake_port,
            "splitter": self.splitter_port,
            "shipstation": self.shipstation_port,
            "tracking": self.tracking_port,
            "gateway": self.gateway_port,
            "channels": self.channels_port,
            "console": self.console_port,
        }
        return ports[service]

    def service_url(self, service: ServiceName) -> str:
        explicit = {
            "intake": self.intake_url,
            "splitter": self.splitter_url,
            "shipstation": self.shipstation_url,
            "tracking": self.tracking_url,
            "gateway": self.gateway_url,
            "channels": self.channels_url,
            "console": self.console_url,
        }[service]
        return (explicit or f"http://127.0.0.1:{self.port(service)}").rstrip("/")

    @cached_property
    def resolved_admin_token(self) -> str:
        """The admin token: from the environment, else from the token file (created by ``make run``)."""
        if self.admin_token is not None:
            return self.admin_token.get_secret_value()
        try:
            return self.admin_token_file.read_text().strip()
        except FileNotFoundError:
            raise RuntimeError(
                f"no admin token: set DROPSHIP_ADMIN_TOKEN or create {self.admin_token_file} (make run does)"
            ) from None

    @cached_property
    def secret_box(self) -> SecretBox:
        """What seals and opens stored secrets: the keys from the environment, else from the key file
        (created by ``make run``). A key that is not a Fernet key raises
        :class:`shared.secrets.SecretKeyError`, naming its position, never its value."""
        # Imported here: shared.secrets builds on the HTTP and OpenAPI modules, which import this one.
        from shared.secrets import SecretBox

        if self.secret_key is not None:
            return SecretBox(self.secret_key.get_secret_value())
        try:
            keys = self.secret_key_file.read_text()
        except FileNotFoundError:
            raise NoSecretKey(
                f"no secret key: set DROPSHIP_SECRET_KEY or create {self.secret_key_file} (make run does)"
            ) from None
        return SecretBox(keys.strip())


class NoSecretKey(RuntimeError):
    """Neither ``DROPSHIP_SECRET_KEY`` nor the key file is there: stored secrets can be neither sealed nor opened."""


def is_placeholder(secret: str) -> bool:
    """Too short, one repeated character, or a word people put where a secret goes."""
    lowered = secret.lower()
    return (
        len(secret) < MIN_PRODUCTION_TOKEN_LENGTH
        or len(set(secret)) < 8
        or any(word in lowered for word in PLACEHOLDER_WORDS)
    )


def ensure_admin_token_file(path: Path) -> bool:
    """Create the admin token file (mode 0600) if it is missing. Answers whether it was created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as token_file:
        token_file.write(secrets.token_urlsafe(32) + "\n")
    return True


def ensure_secret_key_file(path: Path) -> bool:
    """Create the secret key file (mode 0600) with a fresh Fernet key if it is missing. Answers whether
    it was created. Development only: production sets ``DROPSHIP_SECRET_KEY``."""
    from shared.secrets import new_secret_key

    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as key_file:
        key_file.write(new_secret_key() + "\n")
    return True
