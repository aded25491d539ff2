"""The gateway's own settings, beyond those every service shares (``DROPSHIP_*`` variables)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class GatewaySettings(Settings):
    smtp_url: str = Field(
        default="smtp://127.0.0.1:1025",
        description="Where e-mail vendors' orders are handed over: smtp://, smtp+starttls:// or smtps://host:port.",
    )
    smtp_from: str = Field(default="orders@dropship-router.invalid", description="The From of order e-mails.")
    delivery_attempts: int = Field(
        default=12, ge=1, description="Attempts before a delivery is given up (vendor_order.failed)."
    )
    delivery_first_retry_seconds: float = Field(default=2.0, gt=0)
    delivery_max_backoff_seconds: float = Field(default=600.0, gt=0)
    delivery_timeout_seconds: float = Field(default=20.0, gt=0, description="One send: an HTTP POST, an upload, SMTP.")
    vendor_discovery_seconds: float = Field(
        default=5.0, gt=0, description="How often the splitter's vendor list is read for new vendor queues."
    )
    pickup_check_seconds: float = Field(default=2.0, gt=0, description="How often due SFTP polls are looked for.")
    max_inbound_file_bytes: int = Field(default=20_000_000, ge=1)
