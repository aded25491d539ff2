"""What the gateway's use cases are given: the database, the secret box, metrics, the splitter client
and settings; and the one way a stored connection is opened (its secrets unsealed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.gateway.connections import Connection, ConnectionSecrets
from services.gateway.metrics import GatewayMetrics
from services.gateway.settings import GatewaySettings
from services.gateway.splitter import SplitterClient
from shared.secrets import SecretBox


@dataclass(frozen=True)
class GatewayPorts:
    pool: asyncpg.Pool
    secrets: SecretBox
    metrics: GatewayMetrics
    splitter: SplitterClient
    settings: GatewaySettings
    wake_relay: Callable[[], None]
    """Called after a use case wrote outbox events: the relay publishes them now."""


def open_connection(box: SecretBox, vendor: str, settings: dict[str, Any], sealed_secrets: str) -> Connection:
    secrets = ConnectionSecrets.model_validate_json(box.open(sealed_secrets))
    return Connection.assemble(vendor, settings, secrets)
