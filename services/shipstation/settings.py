"""The adapter's own settings, beyond those every service shares (``DROPSHIP_*`` variables)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class ShipStationSettings(Settings):
    shipstation_public_url: str | None = Field(
        default=None, description="Base URL ShipStation reaches the adapter on (printed with the credentials)."
    )
