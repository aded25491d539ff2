"""The platforms a shop can be on, each as one record: its webhook headers, the topics subscribed,
the pure decision for a webhook, and how its API client is made. The core reads this table and
nothing platform-specific besides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from services.channels.ports import InboundDecision, Platform, PlatformName, ShopConfig
from services.channels.shopify import orders as shopify_orders
from services.channels.shopify.client import ShopifyClient
from services.channels.shopify.graphql import DEFAULT_API_VERSION
from services.channels.woocommerce import orders as woo_orders
from services.channels.woocommerce.client import WooClient
from services.channels.woocommerce.webhooks import is_creation_ping


def _never_a_ping(_content_type: str, _body: bytes) -> bool:
    return False


@dataclass(frozen=True)
class PlatformKind:
    name: PlatformName
    signature_header: str
    delivery_header: str
    """The platform's id of one webhook delivery: the same id again is the same webhook."""
    topic_header: str
    topics: tuple[str, ...]
    credentials: tuple[str, ...]
    """The secrets a shop on this platform must be given (besides ``webhook_secret``)."""
    decide: Callable[[str, dict[str, Any]], InboundDecision]
    client: Callable[[ShopConfig, aiohttp.ClientSession], Platform]
    is_unsigned_ping: Callable[[str, bytes], bool] = _never_a_ping
    default_api_version: str | None = None


PLATFORMS: dict[str, PlatformKind] = {
    "shopify": PlatformKind(
        name="shopify",
        signature_header="X-Shopify-Hmac-Sha256",
        delivery_header="X-Shopify-Webhook-Id",
        topic_header="X-Shopify-Topic",
        topics=shopify_orders.TOPICS,
        credentials=("access_token",),
        decide=shopify_orders.decide,
        client=ShopifyClient,
        default_api_version=DEFAULT_API_VERSION,
    ),
    "woocommerce": PlatformKind(
        name="woocommerce",
        signature_header="X-WC-Webhook-Signature",
        delivery_header="X-WC-Webhook-Delivery-ID",
        topic_header="X-WC-Webhook-Topic",
        topics=woo_orders.TOPICS,
        credentials=("consumer_key", "consumer_secret"),
        decide=woo_orders.decide,
        client=WooClient,
        is_unsigned_ping=is_creation_ping,
    ),
}
