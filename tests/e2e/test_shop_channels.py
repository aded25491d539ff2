"""A shop's order for two vendors, with every service (the channels service too) as its own process:
a Shopify (or WooCommerce) order with a line for a ShipStation warehouse and a line for a webhook
distributor arrives by the platform's webhook, is split, both vendors ship in their own way, and the
platform hears of each shipment exactly once: two Shopify fulfillments with the right line items and
tracking, or two WooCommerce notes and tracking items and ``completed``.

The platforms are the fakes in tests/fakes (real HTTP servers in the test process that check every
request as the platform's documented API does and sign their webhooks as the platform does).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from lxml import etree

from tests.e2e.harness import ProcessSystem
from tests.fakes.shopify import FakeShopify
from tests.fakes.woocommerce import FakeWooCommerce
from tests.gateway_servers import WebhookReceiver
from tests.integration.channels.conftest import (
    SHOPIFY_SECRET,
    SHOPIFY_TOKEN,
    WOO_KEY,
    WOO_SECRET,
    WOO_WEBHOOK_SECRET,
    shopify_order,
    woo_order,
)
from tests.support import Api, basic_auth, unique, wait_until

VENDOR_SECRET = "whsec_" + "c2hvcC1jaGFubmVscy12ZW5kb3Itc2VjcmV0LWtleQ=="
SETTLE_SECONDS = 3.0


@dataclass
class TwoVendors:
    """A ShipStation warehouse (east) and a webhook distributor (west), each carrying one SKU."""

    api: Api
    processes: ProcessSystem
    receiver: WebhookReceiver
    east: str
    west: str
    east_sku: str
    west_sku: str
    store_url: str
    store_auth: dict[str, str]
    west_key: str

    async def split(self, order_id: str) -> dict[str, dict[str, Any]]:
        async def split_two_ways() -> dict[str, dict[str, Any]] | None:
            status, routing = await self.api.call("GET", "splitter", f"/v1/orders/{order_id}/routing")
            if status != 200 or len(routing["vendor_orders"]) < 2:
                return None
            return {v["vendor"]: v for v in routing["vendor_orders"]}

        return await wait_until(split_two_ways, timeout=30)

    async def ship_both(self, vendor_orders: dict[str, dict[str, Any]]) -> None:
        """East ships through ShipStation's export and ship notice, west through the vendor API."""
        east_number = vendor_orders[self.east]["vendor_order_number"]

        async def east_in_export() -> etree._Element | None:
            query = urlencode({"action": "export", "start_date": "01/01/2026 00:00", "end_date": "12/31/2099 23:59"})
            async with self.api.session.get(f"{self.store_url}?{query}", headers=self.store_auth) as response:
                assert response.status == 200, await response.text()
                document = etree.fromstring(await response.read())
            return next((o for o in document.iter("Order") if o.findtext("OrderNumber") == east_number), None)

        exported = await wait_until(east_in_export, timeout=30)
        notice = (
            f"<ShipNotice><OrderNumber>{east_number}</OrderNumber><OrderID>{exported.findtext('OrderID')}</OrderID>"
            "<Carrier>USPS</Carrier><Service>Priority Mail</Service><TrackingNumber>9400111899223</TrackingNumber>"
            "<ShipDate>11/27/2026</ShipDate><ShippingCost>4.10</ShippingCost></ShipNotice>"
        )
        query = urlencode({"action": "shipnotify", "order_number": east_number, "carrier": "USPS"})
        async with self.api.session.post(f"{self.store_url}?{query}", data=notice, headers=self.store_auth) as response:
            assert response.status == 200, await response.text()
        await self.receiver.wait_for(1, timeout=30)  # the gateway delivered west's vendor order
        await self.api.ok(
            "POST",
            "gateway",
            f"/v1/vendor/orders/{vendor_orders[self.west]['vendor_order_id']}/shipments",
            {"carrier": "UPS", "service": "Ground", "tracking_number": "1Z999AA10123456784", "ship_date": "2026-11-27"},
            token=self.west_key,
        )


async def intake_order_of(api: Api, shop: str) -> dict[str, Any]:
    """The shop's first platform order that became an intake order, once the service has applied its webhook."""

    async def in_intake() -> dict[str, Any] | None:
        status, listed = await api.call("GET", "channels", f"/v1/shops/{shop}/orders")
        found = [o for o in listed.get("orders", []) if o["order_id"]] if status == 200 else []
        return found[0] if found else None

    return await wait_until(in_intake, timeout=30)


async def two_vendors(api: Api, processes: ProcessSystem, receiver: WebhookReceiver) -> TwoVendors:
    east, west = unique("east-"), unique("west-")
    await api.ok("PUT", "splitter", f"/v1/vendors/{east}", {"name": "East warehouse", "kind": "shipstation"})
    await api.ok("PUT", "splitter", f"/v1/vendors/{west}", {"name": "West distributor", "kind": "webhook"})
    east_sku, west_sku = unique("TS-"), unique("MUG-")
    await api.ok("PUT", "splitter", f"/v1/catalog/{east_sku}", {"name": "T-shirt", "sources": [{"vendor": east}]})
    await api.ok(
        "PUT", "splitter", f"/v1/catalog/{west_sku}", {"name": "Mug", "sources": [{"vendor": west, "stock": 20}]}
    )
    credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{east}/credentials")
    connection = await api.ok(
        "PUT",
        "gateway",
        f"/v1/connections/{west}",
        {"transport": "webhook", "format": "json", "webhook": {"url": receiver.url, "secret": VENDOR_SECRET}},
    )
    return TwoVendors(
        api,
        processes,
        receiver,
        east,
        west,
        east_sku,
        west_sku,
        processes.urls["shipstation"] + f"/shipstation/{east}",
        basic_auth(credentials["username"], credentials["password"]),
        connection["api_key"],
    )


async def test_a_shopify_order_for_two_vendors_ends_as_two_fulfillments(
    process_api: Api, processes: ProcessSystem
) -> None:
    api = process_api
    receiver = WebhookReceiver(VENDOR_SECRET)
    await receiver.start()
    shopify = FakeShopify(SHOPIFY_TOKEN, SHOPIFY_SECRET)
    await shopify.start()
    try:
        vendors = await two_vendors(api, processes, receiver)
        shop, channel = unique("shop-"), unique("sf-")
        await api.ok(
            "PUT",
            "channels",
            f"/v1/shops/{shop}",
            {
                "platform": "shopify",
                "channel": channel,
                "base_url": shopify.base_url,
                "access_token": SHOPIFY_TOKEN,
                "webhook_secret": SHOPIFY_SECRET,
            },
        )
        payload = shopify_order(id=random.randint(10**15, 10**16))
        pink, case = payload["line_items"][0], payload["line_items"][1]
        pink["sku"], case["sku"] = vendors.east_sku, vendors.west_sku
        order = shopify.add_order(payload)
        hook = f"{processes.urls['channels']}/hooks/shopify/{shop}"
        assert await shopify.send_webhook(hook, "orders/create", order) == 200

        record = await intake_order_of(api, shop)
        vendor_orders = await vendors.split(record["order_id"])
        assert {vendor: [line["sku"] for line in v["lines"]] for vendor, v in vendor_orders.items()} == {
            vendors.east: [vendors.east_sku],
            vendors.west: [vendors.west_sku],
        }
        await vendors.ship_both(vendor_orders)

        async def two_fulfillments() -> list[dict[str, Any]] | None:
            found = shopify.fulfillments(order["id"])
            return found if len(found) >= 2 else None

        fulfillments = await wait_until(two_fulfillments, timeout=60)
        by_number = {f["tracking"][0]["number"]: f for f in fulfillments}
        assert {
            number: [(line["line_item_id"], line["quantity"]) for line in f["lines"]] for number, f in by_number.items()
        } == {
            "9400111899223": [(pink["id"], 2)],
            "1Z999AA10123456784": [(case["id"], 1)],
        }
        assert by_number["9400111899223"]["tracking"][0]["company"] == "USPS"
        assert by_number["1Z999AA10123456784"]["tracking"][0]["company"] == "UPS"
        await asyncio.sleep(SETTLE_SECONDS)
        assert len(shopify.fulfillments(order["id"])) == 2
        remaining = {line["line_item_id"]: line["remaining"] for line in shopify.fulfillment_order_lines(order["id"])}
        assert (remaining[pink["id"]], remaining[case["id"]]) == (0, 0)
    finally:
        await shopify.stop()
        await receiver.stop()


async def test_a_woocommerce_order_for_two_vendors_ends_with_two_notes_and_completed(
    process_api: Api, processes: ProcessSystem
) -> None:
    api = process_api
    receiver = WebhookReceiver(VENDOR_SECRET)
    await receiver.start()
    woo = FakeWooCommerce(WOO_KEY, WOO_SECRET, shipment_tracking=True)
    await woo.start()
    try:
        vendors = await two_vendors(api, processes, receiver)
        shop, channel = unique("woo-"), unique("wc-")
        await api.ok(
            "PUT",
            "channels",
            f"/v1/shops/{shop}",
            {
                "platform": "woocommerce",
                "channel": channel,
                "base_url": woo.base_url,
                "consumer_key": WOO_KEY,
                "consumer_secret": WOO_SECRET,
                "webhook_secret": WOO_WEBHOOK_SECRET,
            },
        )
        modified = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
        payload = woo_order(id=random.randint(10**6, 10**9), date_modified_gmt=modified)
        single, variation = payload["line_items"]
        single["sku"], variation["sku"] = vendors.east_sku, vendors.west_sku
        order = woo.add_order(payload)
        hook = f"{processes.urls['channels']}/hooks/woocommerce/{shop}"
        assert await woo.send_webhook(hook, "order.created", order) == 200

        record = await intake_order_of(api, shop)
        await vendors.ship_both(await vendors.split(record["order_id"]))

        async def completed() -> bool:
            return woo.order(order["id"])["status"] == "completed" and len(woo.notes(order["id"])) == 2

        await wait_until(completed, timeout=60)
        await asyncio.sleep(SETTLE_SECONDS)
        notes = woo.notes(order["id"])
        assert len(notes) == 2
        assert sorted(t["tracking_number"] for t in woo.trackings(order["id"])) == [
            "1Z999AA10123456784",
            "9400111899223",
        ]
        assert any("9400111899223" in note["note"] for note in notes)
        assert any("1Z999AA10123456784" in note["note"] for note in notes)
    finally:
        await woo.stop()
        await receiver.stop()
