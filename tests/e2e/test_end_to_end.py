"""Steps 2 to 6 of the order flow, through HTTP only, against the four services running as their own
processes on the real broker and database; the export is checked against the strict export schema and
the channel webhook's signature is verified by a real HTTP server playing the channel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from lxml import etree

from tests.e2e.harness import ProcessSystem
from tests.support import Api, ChannelReceiver, basic_auth, order_payload, unique, wait_until
from tests.unit.shipstation.support import export_schema


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return export_schema()


async def export(api: Api, url: str, auth: dict[str, str], page: int = 1) -> bytes:
    query = urlencode(
        {"action": "export", "start_date": "01/01/2026 00:00", "end_date": "12/31/2099 23:59", "page": page}
    )
    async with api.session.get(f"{url}?{query}", headers=auth) as response:
        assert response.status == 200, await response.text()
        return await response.read()


async def test_order_flow_across_processes(process_api: Api, processes: ProcessSystem, schema: etree.XMLSchema) -> None:
    api = process_api
    receiver = await ChannelReceiver().start()
    try:
        # 2. Set up a channel, a ShipStation vendor, a webhook vendor and the catalog.
        channel, east, west = unique("shop-"), unique("east-"), unique("west-")
        created = await api.ok(
            "PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop", "webhook_url": receiver.url}
        )
        receiver.secret, key = created["webhook_secret"], created["api_key"]
        await api.ok("PUT", "splitter", f"/v1/vendors/{east}", {"name": "East", "kind": "shipstation"})
        await api.ok("PUT", "splitter", f"/v1/vendors/{west}", {"name": "West", "kind": "webhook"})
        credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{east}/credentials")
        assert set(credentials["status_names"]) == {"unpaid", "paid", "shipped", "cancelled", "on_hold"}
        store_url = processes.urls["shipstation"] + f"/shipstation/{east}"
        auth = basic_auth(credentials["username"], credentials["password"])
        tshirt, mug = unique("TS-"), unique("MUG-")
        await api.ok("PUT", "splitter", f"/v1/catalog/{tshirt}", {"sources": [{"vendor": east, "priority": 1}]})
        await api.ok("PUT", "splitter", f"/v1/catalog/{mug}", {"sources": [{"vendor": west, "stock": 5}]})

        # 3. An order for both vendors is split; ShipStation's export shows the east half, valid.
        payload = order_payload(
            channel,
            [(tshirt, 2, "19.75"), (mug, 1, "9.50")],
            gift=True,
            gift_message="Happy birthday, Jo!",
            customer_notes="Leave at the back door",
            shipping_method="UPS Ground",
        )
        status, order = await api.call("POST", "intake", "/v1/orders", payload, token=key)
        assert status == 201, order

        async def east_vendor_order() -> etree._Element | None:
            for element in etree.fromstring(await export(api, store_url, auth)).iter("Order"):
                if element.findtext("OrderNumber") == f"{payload['order_number']}-1":
                    return element
            return None

        xml_order = await wait_until(east_vendor_order)
        document = await export(api, store_url, auth)
        schema.assertValid(etree.fromstring(document))
        assert xml_order.findtext("Gift") == "true"
        assert xml_order.findtext("ShippingMethod") == "UPS Ground"
        items = [(i.findtext("SKU"), i.findtext("Quantity")) for i in xml_order.iter("Item")]
        assert (tshirt, "2") in items and all(sku != mug for sku, _ in items)
        total = sum(
            Decimal(i.findtext("UnitPrice") or "0") * int(i.findtext("Quantity") or "0") for i in xml_order.iter("Item")
        )
        total += Decimal(xml_order.findtext("TaxAmount") or "0") + Decimal(xml_order.findtext("ShippingAmount") or "0")
        assert total == Decimal(xml_order.findtext("OrderTotal") or "")

        view = await api.ok("GET", "intake", f"/v1/orders/{order['id']}", token=key)
        west_order = next(v for v in view["split"]["vendor_orders"] if v["vendor"] == west)
        assert [(li["line_id"], li["sku"], li["quantity"]) for li in west_order["lines"]] == [("L2", mug, 1)]

        # 4. ShipStation reports the shipment; the channel receives a signed webhook; status is shipped
        #    for the east lines (partially shipped for the order, since the mug is still out).
        notice = (
            f"<ShipNotice><OrderNumber>{xml_order.findtext('OrderNumber')}</OrderNumber>"
            f"<OrderID>{xml_order.findtext('OrderID')}</OrderID><Carrier>USPS</Carrier>"
            "<Service>Priority Mail</Service><TrackingNumber>9400111899223</TrackingNumber>"
            "<ShipDate>11/27/2026</ShipDate><ShippingCost>4.10</ShippingCost></ShipNotice>"
        )
        query = urlencode(
            {"action": "shipnotify", "order_number": xml_order.findtext("OrderNumber"), "carrier": "USPS"}
        )
        async with api.session.post(f"{store_url}?{query}", data=notice, headers=auth) as response:
            assert response.status == 200

        delivery = await wait_until(lambda: _nth(receiver, 0))
        assert receiver.verify(delivery)
        assert delivery.json["status"] == "partially_shipped"
        assert delivery.json["shipment"]["tracking_number"] == "9400111899223"
        assert delivery.json["shipment"]["lines"] == [{"line_id": "L1", "sku": tshirt, "quantity": 2}]

        async def shows_shipment() -> dict[str, Any] | None:
            current = await api.ok("GET", "intake", f"/v1/orders/{order['id']}", token=key)
            return current if current["status"] == "partially_shipped" and current["shipments"] else None

        await wait_until(shows_shipment)

        # 5. Cancelling stops the mug; the east order already shipped stays shipped.
        status, _ = await api.call("POST", "intake", f"/v1/orders/{order['id']}/cancel", token=key)
        assert status == 202
        cancelled = await wait_until(lambda: _nth(receiver, 1))
        assert cancelled.json["status"] == "partially_cancelled"
        assert receiver.verify(cancelled)

        # 6. An order with an unmapped SKU is held, naming the SKU.
        ghost = unique("GHOST-")
        held = await api.ok(
            "POST", "intake", "/v1/orders", order_payload(channel, [(ghost, 1, "1.00")], discounts=[]), token=key
        )

        async def is_held() -> dict[str, Any] | None:
            current = await api.ok("GET", "intake", f"/v1/orders/{held['id']}", token=key)
            return current if current["status"] == "held" else None

        held_view = await wait_until(is_held)
        assert ghost in held_view["hold_reason"]
    finally:
        await receiver.stop()


async def _nth(receiver: ChannelReceiver, index: int) -> Any:
    return receiver.deliveries[index] if len(receiver.deliveries) > index else None


async def test_services_answer_health_readiness_and_metrics(process_api: Api, processes: ProcessSystem) -> None:
    for name, url in processes.urls.items():
        async with process_api.session.get(f"{url}/healthz") as response:
            assert response.status == 200, name
        async with process_api.session.get(f"{url}/readyz") as response:
            assert response.status == 200, (name, await response.text())
        async with process_api.session.get(f"{url}/metrics") as response:
            assert "http_requests_total" in await response.text()
