"""What the channels service's integration tests share: the service in-process beside the other four
(module scope), fakes of Shopify and WooCommerce on loopback that implement the platforms' documented
API and sign webhooks as the platforms do, and helpers to add a shop and tell the service of a shipment.

Retries are quick here (backoff under a second) so outage and recovery paths finish fast.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from services.channels.app import SERVICE as CHANNELS
from services.channels.settings import ChannelsSettings
from shared.contracts.orders import OrderStatusChanged, OrderStatusChangedData, ShipmentSummary
from shared.processes import free_port
from shared.service import Runtime, running_service
from tests.conftest import RunningSystem
from tests.fakes.shopify import FakeShopify
from tests.fakes.woocommerce import FakeWooCommerce
from tests.support import publish_as_producer, unique, wait_until

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "channels"
SHOPIFY_TOKEN = "shpat_0123456789abcdef0123456789abcdef"
SHOPIFY_SECRET = "shopify-client-secret-for-webhooks"
WOO_KEY = "ck_4f6b1b0c8e1d4c2f9a7e3b5d6c8a0f1e2d3c4b5a"
WOO_SECRET = "cs_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
WOO_WEBHOOK_SECRET = "woo-webhook-secret"


def shopify_order(**changes: Any) -> dict[str, Any]:
    """Shopify's documented order example, with a customer of its own (the duplicate hold must not catch it)."""
    order: dict[str, Any] = json.loads((FIXTURES / "shopify_order.json").read_text())
    order = copy.deepcopy(order)
    order["email"] = f"{unique('buyer-')}@example.com"
    order.update(changes)
    return order


def woo_order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = json.loads((FIXTURES / "woocommerce_order.json").read_text())
    order = copy.deepcopy(order)
    order["billing"]["email"] = f"{unique('buyer-')}@example.com"
    order.update(changes)
    return order


@dataclass
class Channels:
    runtime: Runtime
    url: str
    system: RunningSystem

    async def call(self, method: str, path: str, json: Any = None) -> tuple[int, Any]:
        return await self.system.api.call(method, "channels", path, json=json)

    async def ok(self, method: str, path: str, json: Any = None) -> Any:
        return await self.system.api.ok(method, "channels", path, json=json)

    async def shopify_shop(self, fake: FakeShopify, **fields: Any) -> tuple[str, str]:
        """A Shopify shop on ``fake``; answers its code and intake channel."""
        code, channel = unique("shop-"), unique("sf-")
        body = {
            "platform": "shopify",
            "channel": channel,
            "base_url": fake.base_url,
            "access_token": SHOPIFY_TOKEN,
            "webhook_secret": SHOPIFY_SECRET,
            **fields,
        }
        status, answer = await self.call("PUT", f"/v1/shops/{code}", body)
        assert status == 201, answer
        return code, channel

    async def woo_shop(self, fake: FakeWooCommerce, **fields: Any) -> tuple[str, str]:
        code, channel = unique("woo-"), unique("wc-")
        body = {
            "platform": "woocommerce",
            "channel": channel,
            "base_url": fake.base_url,
            "consumer_key": WOO_KEY,
            "consumer_secret": WOO_SECRET,
            "webhook_secret": WOO_WEBHOOK_SECRET,
            **fields,
        }
        status, answer = await self.call("PUT", f"/v1/shops/{code}", body)
        assert status == 201, answer
        return code, channel

    def hook_url(self, platform: str, shop: str) -> str:
        return f"{self.url}/hooks/{platform}/{shop}"

    async def intake_order(self, shop: str, platform_order_id: Any, timeout: float = 20) -> dict[str, Any]:
        """The intake order a platform order became, once the worker has applied its webhook."""

        async def created() -> str | None:
            found: str | None = await self.runtime.pool.fetchval(
                "SELECT order_id FROM platform_orders WHERE shop = $1 AND platform_order_id = $2",
                shop,
                str(platform_order_id),
            )
            return found

        order_id = await wait_until(created, timeout=timeout)
        return dict(await self.system.api.ok("GET", "intake", f"/v1/orders/{order_id}"))

    async def tasks(self, shop: str, state: str | None = None) -> list[dict[str, Any]]:
        query = f"?state={state}" if state else ""
        return list((await self.ok("GET", f"/v1/shops/{shop}/tasks{query}"))["tasks"])

    async def ship(
        self,
        channel: str,
        order: dict[str, Any],
        lines: list[tuple[Any, int]],
        *,
        tracking: str | None,
        carrier: str | None = "UPS",
        status: str = "partially_shipped",
        shipment_id: str | None = None,
        vendor: str = "west",
    ) -> OrderStatusChanged:
        """Tell the service, as tracking does, that a package of the intake order ``order`` shipped."""
        event = OrderStatusChanged(
            correlation_id=order["id"],
            data=OrderStatusChangedData(
                order_id=order["id"],
                channel=channel,
                external_id=order["external_id"],
                order_number=order["order_number"],
                status=status,
                previous_status="routed",
                shipment=ShipmentSummary(
                    shipment_id=shipment_id or unique("shp_"),
                    vendor=vendor,
                    carrier=carrier,
                    service="Ground",
                    tracking_number=tracking,
                    ship_date="2026-11-28",
                    lines=[{"line_id": str(line_id), "sku": "", "quantity": quantity} for line_id, quantity in lines],
                ),
            ),
        )
        await publish_as_producer(self.system.intake.amqp, self.system.intake.topology, event)
        return event


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session for a platform client under test (the service gives its clients its own)."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture(scope="module")
async def channels(system: RunningSystem) -> AsyncIterator[Channels]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = system.env.settings(
        ChannelsSettings,
        channels_port=port,
        intake_port=system.intake.port,
        channels_public_url=url,
        task_first_retry_seconds=0.2,
        task_max_backoff_seconds=0.6,
        platform_timeout_seconds=5.0,
        reconcile_interval_seconds=3600.0,
    )
    system.api.urls["channels"] = url
    async with running_service(CHANNELS, settings) as runtime:
        yield Channels(runtime, url, system)


@pytest.fixture
async def shopify() -> AsyncIterator[FakeShopify]:
    """A shop of its own per test: a reconcile sees only that test's orders."""
    fake = FakeShopify(SHOPIFY_TOKEN, SHOPIFY_SECRET)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def woo() -> AsyncIterator[FakeWooCommerce]:
    fake = FakeWooCommerce(WOO_KEY, WOO_SECRET, shipment_tracking=True)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
