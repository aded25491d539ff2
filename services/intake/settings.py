"""Intake's own settings: the shared ones and what only its webhook deliverer uses
(``DROPSHIP_WEBHOOK_TIMEOUT_SECONDS``, ``DROPSHIP_WEBHOOK_MAX_BACKOFF_SECONDS``)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class IntakeSettings(Settings):
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a channel's webhook endpoint may take to answer one delivery."
    )
    webhook_max_backoff_seconds: float = Field(
        default=600.0, gt=0, description="The longest wait between two attempts of an undelivered webhook."
    )
