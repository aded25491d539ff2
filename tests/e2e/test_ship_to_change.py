"""A customer's new shipping address on Shopify reaches both vendors of the order, every service (the
channels service too) as its own process: a Shopify order for a ShipStation warehouse (east) and a webhook
distributor (west) is split and sent; the shop's ``orders/updated`` with another shipping address goes to
intake's ship-to route, the splitter tells both vendor orders, ShipStation's next export shows the new
ShipTo with a later LastModified, and west receives the signed change document after its order."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from lxml import etree

from tests.e2e.harness import ProcessSystem
from tests.e2e.test_shop_channels import VENDOR_SECRET, intake_order_of, two_vendors
from tests.fakes.shopify import FakeShopify
from tests.gateway_servers import WebhookReceiver
from tests.integration.channels.conftest import SHOPIFY_SECRET, SHOPIFY_TOKEN, shopify_order
from tests.support import Api, unique, wait_until

SHIPSTATION_TIME = "%m/%d/%Y %H:%M"
"""How an export writes LastModified (to the minute; the vendor's zone is UTC here)."""


async def exported_order(api: Api, store_url: str, auth: dict[str, str], number: str) -> etree._Element | None:
    query = urlencode({"action": "export", "start_date": "01/01/2026 00:00", "end_date": "12/31/2099 23:59"})
    async with api.session.get(f"{store_url}?{query}", headers=auth) as response:
        assert response.status == 200, await response.text()
        document = etree.fromstring(await response.read())
    return next((o for o in document.iter("Order") if o.findtext("OrderNumber") == number), None)


def street_of(order: etree._Element) -> str:
    return order.findtext("Customer/ShipTo/Address1") or ""


async def test_a_new_shopify_shipping_address_reaches_the_shipstation_export_and_the_webhook_vendor(
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
        payload = shopify_order(id=random.randint(10**15, 10**16), updated_at="2026-11-26T17:45:00-05:00")
        payload["line_items"][0]["sku"], payload["line_items"][1]["sku"] = vendors.east_sku, vendors.west_sku
        order = shopify.add_order(payload)
        hook = f"{processes.urls['channels']}/hooks/shopify/{shop}"
        assert await shopify.send_webhook(hook, "orders/create", order) == 200
        record = await intake_order_of(api, shop)
        vendor_orders = await vendors.split(record["order_id"])
        east_number = vendor_orders[vendors.east]["vendor_order_number"]

        async def east_exported() -> etree._Element | None:
            return await exported_order(api, vendors.store_url, vendors.store_auth, east_number)

        before = await wait_until(east_exported, timeout=30)
        assert street_of(before) == "123 Shipping Street"
        [west_order] = await receiver.wait_for(1, timeout=30)
        assert json.loads(west_order.body)["type"] == "vendor_order.created"

        moved = {**order["shipping_address"], "address1": "9 Other Street", "address2": None, "zip": "40004"}
        updated = {**order, "shipping_address": moved, "updated_at": "2026-11-26T18:10:00-05:00"}
        assert await shopify.send_webhook(hook, "orders/updated", updated) == 200

        async def east_moved() -> etree._Element | None:
            found = await east_exported()
            return found if found is not None and street_of(found) == "9 Other Street" else None

        after = await wait_until(east_moved, timeout=30)
        assert after.findtext("Customer/ShipTo/PostalCode") == "40004"
        assert (after.findtext("Customer/ShipTo/Address2") or "") == ""
        # To the minute, so within the same minute as the order it can only be equal (the integration test
        # of the adapter shows it strictly later); never earlier, or ShipStation's refresh would miss it.
        modified_before = datetime.strptime(before.findtext("LastModified") or "", SHIPSTATION_TIME).replace(tzinfo=UTC)
        modified_after = datetime.strptime(after.findtext("LastModified") or "", SHIPSTATION_TIME).replace(tzinfo=UTC)
        assert modified_after >= modified_before

        _, change = await receiver.wait_for(2, timeout=30)
        assert change.verified
        document = json.loads(change.body)
        assert document["type"] == "vendor_order.ship_to_changed"
        assert document["data"]["vendor_order_id"] == vendor_orders[vendors.west]["vendor_order_id"]
        assert document["data"]["ship_to"]["address1"] == "9 Other Street"
        assert document["data"]["ship_to"]["postal_code"] == "40004"

        view = await api.ok("GET", "intake", f"/v1/orders/{record['order_id']}")
        assert view["ship_to"]["address1"] == "9 Other Street"

        async def reason_applied() -> dict[str, Any] | None:
            listed = await api.ok("GET", "channels", f"/v1/shops/{shop}/orders")
            row = next((o for o in listed["orders"] if o["order_id"] == record["order_id"]), None)
            return row if row and "applied" in (row["reason"] or "") else None

        row = await wait_until(reason_applied, timeout=30)
        assert "not applied" not in row["reason"]
        routing = await api.ok("GET", "splitter", f"/v1/orders/{record['order_id']}/routing")
        sent_to = {e["vendor"] for e in routing["history"] if e["kind"] == "ship_to_sent"}
        assert sent_to == {vendors.east, vendors.west}
    finally:
        await shopify.stop()
        await receiver.stop()
