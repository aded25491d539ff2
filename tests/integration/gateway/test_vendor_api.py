"""The gateway's vendor API against the running services: acknowledgements (the splitter and tracking
see backordered and rejected lines; the same answer twice changes nothing), shipments (no lines = all
that remains; the same tracking number twice changes nothing), stock in the vendor's SKUs reaching the
splitter, the admin token acting for any vendor, and every kind of bad call refused with its status."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.gateway_servers import WebhookReceiver
from tests.integration.gateway.conftest import Gateway
from tests.support import wait_until


@dataclass
class Placed:
    """A webhook vendor's order, delivered: what its vendor answers about."""

    vendor: str
    api_key: str
    order_id: str
    vendor_order_id: str
    skus: list[str]


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def connected_vendor(gateway: Gateway, receiver: WebhookReceiver, **fields: Any) -> tuple[str, str]:
    """A webhook vendor connected to ``receiver``: (vendor, its API key)."""
    vendor = await gateway.vendor("webhook", **fields)
    connected = await gateway.connect(
        vendor, {"transport": "webhook", "format": "json", "webhook": {"url": receiver.url}}
    )
    return vendor, str(connected["api_key"])


async def placed(gateway: Gateway, receiver: WebhookReceiver, quantities: list[int], **fields: Any) -> Placed:
    """An order of one line per quantity (L1, L2, …), all for one new webhook vendor, delivered to it."""
    vendor, api_key = await connected_vendor(gateway, receiver, **fields)
    skus = [f"SKU-{vendor}-{n}" for n in range(1, len(quantities) + 1)]
    for sku in skus:
        await gateway.catalog(sku, vendor, vendor_sku=f"V-{sku}")
    order_id = await gateway.place(
        await gateway.channel(), [(sku, quantity, "25.00") for sku, quantity in zip(skus, quantities, strict=True)]
    )
    [sent] = await gateway.wait_delivery(vendor, "sent")
    return Placed(vendor, api_key, order_id, sent["vendor_order_id"], skus)


async def vendor_call(gateway: Gateway, method: str, path: str, body: Any, token: str) -> tuple[int, Any]:
    return await gateway.call(method, path, body, token=token)


async def tracking_view(gateway: Gateway, order_id: str) -> dict[str, Any]:
    return dict(await gateway.system.api.ok("get", "tracking", f"/v1/orders/{order_id}/shipments"))


async def splitter_vendor_order(gateway: Gateway, order: Placed) -> dict[str, Any]:
    view = await gateway.system.api.ok("get", "splitter", f"/v1/orders/{order.order_id}/routing")
    [found] = [v for v in view["vendor_orders"] if v["vendor_order_id"] == order.vendor_order_id]
    return dict(found)


async def test_an_acknowledgement_with_backordered_and_rejected_lines_reaches_the_splitter_and_tracking(
    gateway: Gateway, receiver: WebhookReceiver
) -> None:
    order = await placed(gateway, receiver, [3, 2], accepts_backorders=True)
    answer = {
        "lines": [
            {"line_id": "L1", "status": "backordered", "quantity": 1, "expected_ship_date": "2026-12-14"},
            {"line_id": "L2", "status": "rejected", "quantity": 2, "reason": "discontinued"},
        ]
    }
    path = f"/v1/vendor/orders/{order.vendor_order_id}/acknowledgement"
    status, first = await vendor_call(gateway, "post", path, answer, order.api_key)
    assert (status, first["new"]) == (202, True), first

    async def acknowledged() -> dict[str, Any] | None:
        found = await splitter_vendor_order(gateway, order)
        return found if found["acknowledged_at"] else None

    vendor_order = await wait_until(acknowledged, timeout=20)
    figures = {
        line["line_id"]: (line["accepted"], line["backordered"], line["rejected"]) for line in vendor_order["lines"]
    }
    assert figures == {"L1": (2, 1, 0), "L2": (0, 0, 2)}
    # The rejected units have no other source: the splitter withdraws them from the vendor and holds them.
    routing = await gateway.system.api.ok("get", "splitter", f"/v1/orders/{order.order_id}/routing")
    assert [(hold["code"], hold.get("line_id")) for hold in routing["holds"]] == [("vendor_rejected", "L2")]
    withdrawal = await receiver.wait_for(2, timeout=20)
    body = json.loads(withdrawal[1].body)
    assert body["type"] == "vendor_order.lines_cancelled"
    assert [(line["line_id"], line["quantity"]) for line in body["data"]["lines"]] == [("L2", 2)]

    async def tracked() -> list[dict[str, Any]] | None:
        shown = (await tracking_view(gateway, order.order_id))["acknowledgements"]
        return shown or None

    shown = await wait_until(tracked, timeout=20)
    assert [
        (a["vendor"], a["line_id"], a["status"], a["quantity"], a["expected_ship_date"], a["reason"]) for a in shown
    ] == [
        (order.vendor, "L1", "backordered", 1, "2026-12-14", None),
        (order.vendor, "L2", "rejected", 2, None, "discontinued"),
    ]
    [delivery] = [d for d in await gateway.deliveries(order.vendor) if d["event"] == "vendor_order.created"]
    assert delivery["state"] == "acknowledged"

    # The same answer again: recorded before, nothing new published.
    status, again = await vendor_call(gateway, "post", path, answer, order.api_key)
    assert (status, again["new"], again["acknowledgement_id"]) == (200, False, first["acknowledgement_id"])
    published = await gateway.runtime.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE message_type = 'vendor_order.acknowledged' AND correlation_id = $1",
        order.order_id,
    )
    assert published == 1


async def test_shipments_take_what_remains_and_the_same_tracking_number_twice_changes_nothing(
    gateway: Gateway, receiver: WebhookReceiver
) -> None:
    order = await placed(gateway, receiver, [2, 1])
    path = f"/v1/vendor/orders/{order.vendor_order_id}/shipments"
    part = {"carrier": "UPS", "tracking_number": "1ZPART", "lines": [{"line_id": "L1", "quantity": 1}]}
    status, first = await vendor_call(gateway, "post", path, part, order.api_key)
    assert (status, first["new"]) == (202, True), first

    too_many = {"carrier": "UPS", "tracking_number": "1ZMORE", "lines": [{"line_id": "L1", "quantity": 2}]}
    status, refused = await vendor_call(gateway, "post", path, too_many, order.api_key)
    assert status == 422, refused
    assert list(refused["fields"]) == ["lines.0.quantity"]

    # No lines: everything not yet shipped (L1's other unit and L2), sent by ops with the admin token.
    rest = {"carrier": "FedEx", "tracking_number": "7946REST", "ship_date": "2026-12-02", "shipping_cost": "8.40"}
    status, second = await gateway.call("post", path, rest)
    assert (status, second["new"]) == (202, True), second

    async def shipped() -> dict[str, Any] | None:
        shown = await tracking_view(gateway, order.order_id)
        return shown if shown["status"] == "shipped" else None

    shown = await wait_until(shipped, timeout=20)
    assert {line["line_id"]: (line["ordered"], line["shipped"]) for line in shown["lines"]} == {
        "L1": (2, 2),
        "L2": (1, 1),
    }
    by_number = {s["tracking_number"]: s for s in shown["shipments"]}
    assert set(by_number) == {"1ZPART", "7946REST"}
    assert [(line["line_id"], line["quantity"]) for line in by_number["7946REST"]["lines"]] == [("L1", 1), ("L2", 1)]
    assert by_number["7946REST"]["shipping_cost"] == "8.40"

    status, again = await vendor_call(gateway, "post", path, rest, order.api_key)
    assert (status, again["new"], again["shipment_id"]) == (200, False, second["shipment_id"])
    status, nothing_left = await vendor_call(
        gateway, "post", path, {"carrier": "UPS", "tracking_number": "1ZNEW"}, order.api_key
    )
    assert status == 422 and "lines" in nothing_left["fields"], nothing_left
    assert len((await tracking_view(gateway, order.order_id))["shipments"]) == 2
    vendor_order = await splitter_vendor_order(gateway, order)
    assert vendor_order["status"] == "shipped"
    assert {line["line_id"]: line["shipped"] for line in vendor_order["lines"]} == {"L1": 2, "L2": 1}


async def test_bad_calls_are_refused_with_their_status(gateway: Gateway, receiver: WebhookReceiver) -> None:
    order = await placed(gateway, receiver, [2])
    _, other_key = await connected_vendor(gateway, receiver)
    ack = f"/v1/vendor/orders/{order.vendor_order_id}/acknowledgement"
    ship = f"/v1/vendor/orders/{order.vendor_order_id}/shipments"
    session = gateway.system.api.session

    headers = {"Authorization": f"Bearer {order.api_key}", "Content-Type": "application/json"}
    async with session.post(gateway.url + ack, data=b'{"lines": [', headers=headers) as response:
        assert response.status == 400, await response.text()
    async with session.post(gateway.url + ack, json={"lines": []}) as response:
        assert response.status == 401
        assert (await response.json())["error"] == "unauthorized"
    status, _ = await vendor_call(gateway, "post", ack, {"lines": []}, "dsv_not-a-key-of-anyone")
    assert status == 401
    status, foreign = await vendor_call(gateway, "post", ack, {"lines": []}, other_key)
    assert (status, foreign["error"]) == (403, "forbidden")
    status, unknown = await vendor_call(gateway, "post", "/v1/vendor/orders/vo_nobody/shipments", {}, order.api_key)
    assert (status, unknown["error"]) == (404, "unknown_vendor_order")

    status, no_line = await vendor_call(
        gateway, "post", ack, {"lines": [{"line_id": "L9", "status": "rejected"}]}, order.api_key
    )
    assert status == 422 and list(no_line["fields"]) == ["lines.0.line_id"], no_line
    status, over = await vendor_call(
        gateway, "post", ack, {"lines": [{"line_id": "L1", "status": "accepted", "quantity": 3}]}, order.api_key
    )
    assert status == 422 and list(over["fields"]) == ["lines.0.quantity"], over
    status, over_shipped = await vendor_call(
        gateway, "post", ship, {"tracking_number": "1ZX", "lines": [{"line_id": "L1", "quantity": 3}]}, order.api_key
    )
    assert status == 422 and list(over_shipped["fields"]) == ["lines.0.quantity"], over_shipped
    status, ship_unknown_line = await vendor_call(
        gateway, "post", ship, {"tracking_number": "1ZY", "lines": [{"line_id": "L7", "quantity": 1}]}, order.api_key
    )
    assert status == 422 and list(ship_unknown_line["fields"]) == ["lines.0.line_id"], ship_unknown_line

    # None of it was recorded: the vendor order is as delivered.
    [delivery] = await gateway.deliveries(order.vendor)
    assert delivery["state"] == "sent"
    recorded = await gateway.runtime.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE correlation_id = $1", order.order_id
    )
    assert recorded == 0


async def test_stock_in_the_vendors_skus_reaches_the_splitter(gateway: Gateway, receiver: WebhookReceiver) -> None:
    vendor, api_key = await connected_vendor(gateway, receiver)
    skus = [f"SKU-{vendor}-{n}" for n in (1, 2)]
    # The first is known to the vendor by a SKU of its own; the second by ours (its source names none).
    await gateway.catalog(skus[0], vendor, vendor_sku=f"V-{skus[0]}", stock=5)
    await gateway.catalog(skus[1], vendor, stock=5)

    feed = {
        "mode": "snapshot",
        "items": [{"vendor_sku": f"V-{skus[0]}", "quantity": 40}, {"sku": skus[1], "quantity": 7}],
    }
    status, answer = await vendor_call(gateway, "put", "/v1/vendor/inventory", feed, api_key)
    assert status == 202, answer
    assert (answer["new"], answer["items"]) == (True, 2), answer

    async def stock_is(sku: str, quantity: int) -> bool:
        shown = await gateway.system.api.ok("get", "splitter", f"/v1/stock/{sku}")
        return any(s["vendor"] == vendor and s["feed_quantity"] == quantity for s in shown["sources"])

    await wait_until(lambda: stock_is(skus[0], 40), timeout=20)
    await wait_until(lambda: stock_is(skus[1], 7), timeout=20)

    unknown = {"items": [{"vendor_sku": f"V-{skus[0]}", "quantity": 1}, {"vendor_sku": "NOT-OURS", "quantity": 3}]}
    status, refused = await vendor_call(gateway, "put", "/v1/vendor/inventory", unknown, api_key)
    assert status == 422, refused
    assert list(refused["fields"]) == ["items.1"] and "NOT-OURS" in refused["fields"]["items.1"]

    # The admin token names the vendor in the path; on the vendor's own route it has none to act for.
    status, needs_vendor = await gateway.call("put", "/v1/vendor/inventory", feed)
    assert (status, needs_vendor["error"]) == (400, "vendor_required")
    by_ops = {"mode": "delta", "items": [{"sku": skus[1], "quantity": 12}]}
    status, answer = await gateway.call("put", f"/v1/inventory/{vendor}", by_ops)
    assert status == 202, answer
    await wait_until(lambda: stock_is(skus[1], 12), timeout=20)
    assert await stock_is(skus[0], 40), "a delta changes only what it lists"
