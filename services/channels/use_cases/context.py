"""What the use cases are given: the pool, intake, the platform clients per shop, metrics and settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg

from services.channels.intake import IntakeClient
from services.channels.metrics import ChannelsMetrics
from services.channels.platforms import PLATFORMS, PlatformKind
from services.channels.ports import Platform, ShopConfig
from services.channels.settings import ChannelsSettings
from services.channels.store import shops as shop_store
from services.channels.store.shops import StoredShop
from shared.secrets import SecretBox


@dataclass(frozen=True)
class OpenShop:
    """A shop with its secrets opened and its platform's record beside it."""

    stored: StoredShop
    kind: PlatformKind
    config: ShopConfig

    @property
    def code(self) -> str:
        return self.stored.code

    @property
    def channel_key(self) -> str:
        return self.config.secrets["channel_key"]

    @property
    def webhook_secret(self) -> str:
        return self.config.secrets["webhook_secret"]


def open_shop(stored: StoredShop, secrets: SecretBox) -> OpenShop:
    kind = PLATFORMS[stored.platform]
    opened: dict[str, str] = json.loads(secrets.open(stored.sealed_secrets))
    config = ShopConfig(
        code=stored.code,
        platform=kind.name,
        base_url=stored.base_url.rstrip("/"),
        secrets=opened,
        api_version=stored.api_version or kind.default_api_version,
        options=stored.options,
    )
    return OpenShop(stored, kind, config)


class UnknownShop(Exception):
    pass


@dataclass
class ChannelsPorts:
    pool: asyncpg.Pool
    secrets: SecretBox
    intake: IntakeClient
    session: aiohttp.ClientSession
    metrics: ChannelsMetrics
    settings: ChannelsSettings
    wake_worker: Callable[[], None] = lambda: None
    wake_reconciler: Callable[[], None] = lambda: None
    _clients: dict[str, tuple[str, Platform]] = field(default_factory=dict)
    """Per shop: the client, made again when the shop's settings change (keyed by its updated_at)."""

    async def shop(self, code: str) -> OpenShop:
        stored = await shop_store.get(self.pool, code)
        if stored is None:
            raise UnknownShop(code)
        return open_shop(stored, self.secrets)

    def platform(self, shop: OpenShop) -> Platform:
        """The shop's API client; one per shop, so what it learns (a location, SKUs, an extension) is kept."""
        version = shop.stored.updated_at.isoformat()
        cached = self._clients.get(shop.code)
        if cached is not None and cached[0] == version:
            return cached[1]
        client = shop.kind.client(shop.config, self.session)
        self._clients[shop.code] = (version, client)
        return client

    def options(self, shop: OpenShop) -> dict[str, Any]:
        return dict(shop.stored.options)
