"""Settings: production refuses default and placeholder secrets at start; a service gets its own
settings type, completed from what it is given."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import Settings, is_placeholder

STRONG_TOKEN = "q7Vt2mXb9LkPz4RwYc8NdF3hJs6GaE1u"
SAFE = {
    "amqp_url": "amqp://router:Xk29dLq@rabbit-0.internal:5672/",
    "database_url": "postgresql://router:p4ss@db.internal:5432/dropship",
    "admin_token": STRONG_TOKEN,
    "secret_key": "3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
}


def test_development_takes_the_defaults() -> None:
    assert Settings(env="development").production_problems()  # the defaults are not for production...
    Settings(env="development")  # ...but development starts with them


def test_production_with_real_secrets_starts() -> None:
    assert Settings(env="production", **SAFE).production_problems() == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"amqp_url": "amqp://guest:guest@rabbit:5672/"}, "DROPSHIP_AMQP_URL"),
        ({"amqp_url": "amqp://rabbit:5672/"}, "DROPSHIP_AMQP_URL"),
        ({"database_url": "postgresql://postgres@127.0.0.1:5432/dropship"}, "DROPSHIP_DATABASE_URL"),
        ({"secret_key": None}, "DROPSHIP_SECRET_KEY"),
        ({"admin_token": None}, "DROPSHIP_ADMIN_TOKEN is not set"),
        ({"admin_token": "change-me-please-change-me-please-1234"}, "placeholder"),
        ({"admin_token": "short"}, "placeholder"),
        ({"admin_token": "a" * 40}, "placeholder"),
    ],
)
def test_production_refuses_default_and_placeholder_secrets(override: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError, match=named) as refused:
        Settings(env="production", **{**SAFE, **override})  # type: ignore[arg-type]
    assert STRONG_TOKEN not in str(refused.value)  # the refusal never shows a secret


def test_the_first_node_of_a_cluster_list_is_checked_too() -> None:
    with pytest.raises(ValidationError, match="guest"):
        Settings(env="production", **{**SAFE, "amqp_url": "amqp://guest:guest@a:5672/,amqp://guest:guest@b:5672/"})  # type: ignore[arg-type]


def test_production_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPSHIP_ENV", "production")
    monkeypatch.delenv("DROPSHIP_ADMIN_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="DROPSHIP_ENV=production refuses"):
        Settings()


@pytest.mark.parametrize(
    ("secret", "placeholder"),
    [(STRONG_TOKEN, False), ("your-secret-goes-here-0123456789abcdef", True), ("x" * 64, True), ("abc", True)],
)
def test_placeholders_are_recognised(secret: str, placeholder: bool) -> None:
    assert is_placeholder(secret) is placeholder


class OwnSettings(Settings):
    own_limit: int = 7


async def _no_setup(runtime: object) -> None:
    """A service that adds nothing: only its settings are under test."""


def test_a_service_gets_its_own_settings_type_completed_from_the_ones_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from shared.service import ServiceDefinition

    monkeypatch.setenv("DROPSHIP_OWN_LIMIT", "9")
    definition = ServiceDefinition(name="intake", package_dir=Path("."), setup=_no_setup, settings_type=OwnSettings)

    own = definition.settings_from(Settings(namespace="ns1"))

    assert isinstance(own, OwnSettings)
    assert (own.namespace, own.own_limit) == ("ns1", 9)  # given values kept, the service's own from the environment
    assert definition.settings_from(own) is own
