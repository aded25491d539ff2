"""Shops: adding one sets up its intake channel (no webhook URL: the shop hears through this service)
and a channel key, seals the platform's secrets, and registers the shop's webhooks with the platform."""

from __future__ import annotations

import json
from typing import Any

from services.channels.platforms import PLATFORMS
from services.channels.ports import PlatformError
from services.channels.requests import ShopRequest
from services.channels.store import shops as shop_store
from services.channels.store import stock, tasks
from services.channels.store.shops import StoredShop
from services.channels.use_cases.context import ChannelsPorts, OpenShop, open_shop
from shared.logging import get_logger

log = get_logger(__name__)


class InvalidShop(Exception):
    def __init__(self, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.fields = fields


class ChannelTaken(Exception):
    """The intake channel is another shop's, or has a webhook URL of its own."""


async def put_shop(ports: ChannelsPorts, code: str, request: ShopRequest) -> tuple[dict[str, Any], bool]:
    """Store the shop and register its webhooks; answers its view and whether it is new."""
    kind = PLATFORMS[request.platform]
    existing = await shop_store.get(ports.pool, code)
    secrets: dict[str, str] = {}
    if existing is not None and existing.platform == request.platform:
        secrets = json.loads(ports.secrets.open(existing.sealed_secrets))
    secrets.update(request.secrets())
    missing = {name: "required" for name in (*kind.credentials, "webhook_secret") if not secrets.get(name)}
    if missing:
        raise InvalidShop(f"a {request.platform} shop needs {', '.join(missing)}", missing)
    other = await shop_store.by_channel(ports.pool, request.channel)
    if other is not None and other.code != code:
        raise ChannelTaken(f"channel {request.channel} belongs to shop {other.code}")
    channel = await ports.intake.channel(request.channel)
    if channel is None:
        await ports.intake.create_channel(request.channel, f"{request.platform} shop {code}")
    elif channel.get("webhook_url"):
        raise ChannelTaken(
            f"channel {request.channel} has a webhook URL of its own: a shop's channel is told through this service"
        )
    if existing is None or existing.channel != request.channel or "channel_key" not in secrets:
        secrets["channel_key"] = await ports.intake.new_channel_key(request.channel)
    created = await shop_store.upsert(
        ports.pool,
        code=code,
        platform=request.platform,
        channel=request.channel,
        base_url=request.base_url.rstrip("/"),
        api_version=request.api_version or kind.default_api_version,
        push_stock=request.push_stock,
        options=request.options.model_dump(mode="json"),
        sealed_secrets=ports.secrets.seal(json.dumps(secrets)),
    )
    shop = await ports.shop(code)
    await register_webhooks(ports, shop)
    log.info("shop stored", shop=code, platform=request.platform, channel=request.channel, created=created)
    return await shop_view(ports, code), created


async def register_webhooks(ports: ChannelsPorts, shop: OpenShop) -> None:
    """Subscribe the shop's webhooks to our route; a platform that does not answer is tried again by the reconciler."""
    url = f"{ports.settings.hooks_url()}/hooks/{shop.kind.name}/{shop.code}"
    try:
        topics = await ports.platform(shop).register_webhooks(url)
    except PlatformError as error:
        log.warning("webhooks not registered, will try again", shop=shop.code, error=error.message)
        await shop_store.record_webhooks(ports.pool, shop.code, [], error.message)
        return
    await shop_store.record_webhooks(ports.pool, shop.code, topics, None)


def _public(stored: StoredShop) -> dict[str, Any]:
    return {
        "code": stored.code,
        "platform": stored.platform,
        "channel": stored.channel,
        "base_url": stored.base_url,
        "api_version": stored.api_version,
        "push_stock": stored.push_stock,
        "options": stored.options,
        "webhooks": {
            "topics": stored.webhook_topics,
            "registered_at": stored.webhooks_registered_at,
            "error": stored.webhook_error,
        },
        "reconcile": {
            "seen_through": stored.seen_through,
            "last_at": stored.reconciled_at,
            "next_at": stored.reconcile_due_at,
            "error": stored.reconcile_error,
        },
    }


async def shop_view(ports: ChannelsPorts, code: str) -> dict[str, Any]:
    """The shop as ops see it: settings without secrets, webhooks, reconcile and the backlog."""
    shop = await ports.shop(code)
    view = _public(shop.stored)
    view["credentials"] = sorted(name for name in shop.config.secrets if name != "channel_key")
    backlog = [row for row in await tasks.backlog(ports.pool) if row.shop == code]
    view["backlog"] = {
        row.kind: {"pending": row.pending, "oldest_seconds": round(row.oldest_seconds, 1), "failed": row.failed}
        for row in backlog
    }
    view["backlog"]["stock"] = {"pending": (await stock.pending(ports.pool)).get(code, 0)}
    return view


async def list_shops(ports: ChannelsPorts) -> list[dict[str, Any]]:
    return [_public(stored) for stored in await shop_store.all_shops(ports.pool)]


__all__ = ["ChannelTaken", "InvalidShop", "list_shops", "open_shop", "put_shop", "register_webhooks", "shop_view"]
