"""The channels service's own settings, beyond those every service shares (``DROPSHIP_*`` variables)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class ChannelsSettings(Settings):
    channels_public_url: str | None = Field(
        default=None,
        description="Where the platforms reach this service's webhook routes (https://hooks.example.com);"
        " default the local URL of the service.",
    )
    platform_timeout_seconds: float = Field(default=20.0, gt=0, description="One call to a platform or to intake.")
    task_attempts: int = Field(
        default=40, ge=1, description="Attempts at a webhook or a shipment push before it is given up (failed)."
    )
    task_first_retry_seconds: float = Field(default=2.0, gt=0)
    task_max_backoff_seconds: float = Field(
        default=60.0, gt=0, description="The longest wait between attempts: a platform back up is caught up within it."
    )
    reconcile_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often each shop is asked for orders changed since the last one seen."
    )
    max_webhook_bytes: int = Field(default=5_000_000, ge=1, description="A larger webhook body is refused (413).")

    def hooks_url(self) -> str:
        return (self.channels_public_url or self.service_url("channels")).rstrip("/")
