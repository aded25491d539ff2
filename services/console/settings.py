"""The console's own settings, beyond those every service shares (``DROPSHIP_*`` variables)."""

from __future__ import annotations

from pydantic import Field

from services.console.sessions import DEFAULT_IDLE_SECONDS, MAX_IDLE_SECONDS
from shared.settings import Settings


class ConsoleSettings(Settings):
    console_session_idle_seconds: float = Field(
        default=DEFAULT_IDLE_SECONDS,
        gt=0,
        le=MAX_IDLE_SECONDS,
        description="A session unused this long is over (8 h): sign in again. A live region's refresh is no use.",
    )
    console_rabbitmq_management_url: str | None = Field(
        default=None, description="RabbitMQ's management UI (http://localhost:15672), linked from the pages when set."
    )
    console_call_timeout_seconds: float = Field(
        default=3.0, gt=0, description="One call to another service; a slower one makes its panel say so."
    )
    console_refresh_seconds: float = Field(
        default=5.0, gt=0, description="How often the pages' live regions and the queue gauges are refreshed."
    )
