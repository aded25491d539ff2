"""The order flow through all four services (in this process) on the real broker and database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from lxml import etree

from tests.conftest import RunningSystem
from tests.support import ChannelReceiver, basic_auth, order_payload, unique, wait_until


async def _setup_merchant(system: RunningSystem, receiver: ChannelReceiver) -> dict[str, Any]:
    api = system.api
    channel, east, west = unique("shop-"), unique("east-"), unique("west-")
    created = await api.ok("PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop", "webhook_url": receiver.url})
    receiver.secret = created["webhook_secret"]
    await api.ok("PUT", "splitter", f"/v1/vendors/{east}", {"name": "East warehouse", "kind": "shipstation"})
    await api.ok("PUT", "splitter", f"/v1/vendors/{west}", {"name": "West distributor", "kind": "webhook"})
    await api.ok("PUT", "shipstation", f"/v1/shipstation/{east}/settings", {"timezone": "America/Chicago"})
    credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{east}/credentials")
    sku_east, sku_west = unique("TS-"), unique("MUG-")
    await api.ok("PUT", "splitter", f"/v1/catalog/{sku_east}", {"sources": [{"vendor": east, "priority": 1}]})
    await api.ok(
        "PUT", "splitter", f"/v1/catalog/{sku_west}", {"sources": [{"vendor": west, "stock": 40, "cost": "3.10"}]}
    )
    return {
        "channel": channel,
        "api_key": created["api_key"],
        "east": east,
        "west": west,
        "sku_east": sku_east,
        "sku_west": sku_west,
        "credentials": credentials,
    }


async def _export(system: RunningSystem, credentials: dict[str, Any], start: str, end: str) -> bytes:
    query = urlencode({"action": "export", "start_date": start, "end_date": end, "page": 1})
    auth = basic_auth(credentials["username"], credentials["password"])
    async with system.api.session.get(f"{credentials['url']}?{query}", headers=auth) as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "text/xml"
        return await response.read()


async def test_order_split_exported_shipped_and_reported_upstream(system: RunningSystem) -> None:
    receiver = await ChannelReceiver().start()
    try:
        merchant = await _setup_merchant(system, receiver)
        api = system.api
        credentials = merchant["credentials"]
        credentials["url"] = system.url("shipstation") + f"/shipstation/{merchant['east']}"
        payload = order_payload(
            merchant["channel"],
            [(merchant["sku_east"], 2, "19.75"), (merchant["sku_west"], 1, "9.50"), (merchant["sku_east"], 1, "5.00")],
        )
        status, order = await api.call("POST", "intake", "/v1/orders", payload, token=merchant["api_key"])
        assert status == 201, order
        order_id = order["id"]

        # The same channel order again: the stored order, nothing new published.
        status, again = await api.call("POST", "intake", "/v1/orders", payload, token=merchant["api_key"])
        assert (status, again["id"]) == (200, order_id)

        routing = await wait_until(lambda: _routing(system, order_id), timeout=20)
        vendor_orders = {v["vendor"]: v for v in routing["vendor_orders"]}
        assert set(vendor_orders) == {merchant["east"], merchant["west"]}
        east_order = vendor_orders[merchant["east"]]
        assert [line["line_id"] for line in east_order["lines"]] == ["L1", "L3"]
        assert {v["vendor_order_number"] for v in vendor_orders.values()} == {
            f"{payload['order_number']}-1",
            f"{payload['order_number']}-2",
        }
        # Shares of tax, shipping and discount add up to the order's.
        assert sum(Decimal(v["tax_amount"]) for v in vendor_orders.values()) == Decimal("3.99")
        assert sum(Decimal(v["shipping_amount"]) for v in vendor_orders.values()) == Decimal("5.99")

        async def exported() -> bytes | None:
            body = await _export(system, credentials, "11/26/2026 00:00", "12/31/2099 23:59")
            return body if east_order["vendor_order_id"].encode() in body else None

        body = await wait_until(exported)
        document = etree.fromstring(body)
        assert document.get("pages") == "1"
        [xml_order] = [o for o in document.iter("Order") if o.findtext("OrderID") == east_order["vendor_order_id"]]
        assert xml_order.findtext("OrderStatus") == "paid"
        assert [i.findtext("SKU") for i in xml_order.iter("Item") if i.findtext("Adjustment") != "true"] == [
            merchant["sku_east"],
            merchant["sku_east"],
        ]

        # ShipStation ships one of the two lines.
        notice = f"""<?xml version="1.0" encoding="utf-8"?>
<ShipNotice><OrderNumber>{east_order["vendor_order_number"]}</OrderNumber>
<OrderID>{east_order["vendor_order_id"]}</OrderID><Carrier>UPS</Carrier><Service>UPS Ground</Service>
<TrackingNumber>1Z999</TrackingNumber><ShipDate>11/27/2026</ShipDate><ShippingCost>7.42</ShippingCost>
<NotesToCustomer>Second box follows</NotesToCustomer><NotifyCustomer>true</NotifyCustomer>
<Items><Item><SKU>{merchant["sku_east"]}</SKU><Quantity>2</Quantity><LineItemID>L1</LineItemID></Item></Items>
</ShipNotice>"""
        auth = basic_auth(credentials["username"], credentials["password"])
        query = urlencode({"action": "shipnotify", "order_number": east_order["vendor_order_number"], "carrier": "UPS"})
        for _ in range(2):  # ShipStation sends duplicates; the second changes nothing
            async with api.session.post(
                f"{credentials['url']}?{query}", data=notice.encode(), headers=auth
            ) as response:
                assert response.status == 200, await response.text()

        delivery = await wait_until(lambda: _first(receiver), timeout=20)
        assert receiver.verify(delivery)
        event = delivery.json
        assert event["type"] == "order.shipment_created"
        assert event["status"] == "partially_shipped"
        assert event["shipment"]["tracking_number"] == "1Z999"
        assert event["shipment"]["shipping_cost"] == "7.42"
        assert event["shipment"]["notes_to_buyer"] == "Second box follows"
        assert event["shipment"]["lines"] == [{"line_id": "L1", "sku": merchant["sku_east"], "quantity": 2}]

        view = await api.ok("GET", "intake", f"/v1/orders/{order_id}", token=merchant["api_key"])
        assert view["status"] == "partially_shipped"
        assert len(view["shipments"]) == 1
        assert {v["vendor"] for v in view["split"]["vendor_orders"]} == {merchant["east"], merchant["west"]}

        # Cancel: only what has not shipped is cancelled. West shipped nothing: its vendor order is
        # cancelled. East shipped L1: only its unshipped L3 is withdrawn (vendor_order.lines_cancelled),
        # and ShipStation's export drops that item, with a newer LastModified.
        before = xml_order.findtext("LastModified")
        status, cancelled = await api.call("POST", "intake", f"/v1/orders/{order_id}/cancel", token=merchant["api_key"])
        assert status == 202, cancelled

        async def withdrawn_in_export() -> etree._Element | None:
            body = await _export(system, credentials, "11/26/2026 00:00", "12/31/2099 23:59")
            for o in etree.fromstring(body).iter("Order"):
                if o.findtext("OrderID") == east_order["vendor_order_id"]:
                    items = [i.findtext("LineItemID") for i in o.iter("Item") if i.findtext("Adjustment") != "true"]
                    return o if items == ["L1"] else None
            return None

        cancelled_order = await wait_until(withdrawn_in_export)
        assert (cancelled_order.findtext("LastModified") or "") >= (before or "")
        routing = await api.ok("GET", "splitter", f"/v1/orders/{order_id}/routing")
        states = {v["vendor"]: v for v in routing["vendor_orders"]}
        assert states[merchant["west"]]["status"] == "cancelled"
        east_lines = {line["line_id"]: line for line in states[merchant["east"]]["lines"]}
        assert (east_lines["L1"]["shipped"], east_lines["L1"]["withdrawn"]) == (2, 0)
        assert (east_lines["L3"]["shipped"], east_lines["L3"]["withdrawn"]) == (0, 1)
        assert len(receiver.deliveries) == 2
        assert receiver.deliveries[1].json["status"] == "partially_cancelled"
        assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == 2
    finally:
        await receiver.stop()


async def _routing(system: RunningSystem, order_id: str) -> dict[str, Any] | None:
    status, body = await system.api.call("GET", "splitter", f"/v1/orders/{order_id}/routing")
    return body if status == 200 and body["state"] == "routed" else None


async def _first(receiver: ChannelReceiver) -> Any:
    return receiver.deliveries[0] if receiver.deliveries else None


async def test_unmapped_sku_holds_the_order_with_the_reason(system: RunningSystem) -> None:
    api = system.api
    channel, vendor = unique("shop-"), unique("v-")
    created = await api.ok("PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop"})
    await api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", {"name": "V", "kind": "webhook"})
    known, unknown = unique("K-"), unique("NOPE-")
    await api.ok("PUT", "splitter", f"/v1/catalog/{known}", {"sources": [{"vendor": vendor}]})
    order = await api.ok(
        "POST",
        "intake",
        "/v1/orders",
        order_payload(channel, [(known, 1, "1.00"), (unknown, 1, "2.00")], discounts=[]),
        token=created["api_key"],
    )

    async def held() -> dict[str, Any] | None:
        view = await api.ok("GET", "intake", f"/v1/orders/{order['id']}", token=created["api_key"])
        return view if view["status"] == "held" else None

    view = await wait_until(held)
    assert unknown in view["hold_reason"]
    assert view["split"]["vendor_orders"] == []

    # Mapping the SKU releases the order: it is routed, whole, to the vendor.
    await api.ok("PUT", "splitter", f"/v1/catalog/{unknown}", {"sources": [{"vendor": vendor}]})

    async def routed() -> dict[str, Any] | None:
        view = await api.ok("GET", "intake", f"/v1/orders/{order['id']}", token=created["api_key"])
        return view if view["status"] == "routed" else None

    view = await wait_until(routed)
    [vendor_order] = view["split"]["vendor_orders"]
    assert len(vendor_order["lines"]) == 2
