"""Tracking on the real broker and database: what vendors acknowledge per line shows in the order's
shipments view (the latest answer per vendor order and line) without moving its status; and a shipment
reported after the order was cancelled wins: the status follows it, the channel is told through
``order.status_changed``, and the view says it shipped after the cancellation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aio_pika.abc import AbstractQueue

from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderCancelled, OrderCancelledData
from shared.contracts.shipments import ShipmentLine, ShipmentReported, ShipmentReportedData
from shared.contracts.vendor_orders import AcknowledgedLine, VendorOrderAcknowledged, VendorOrderAcknowledgedData
from tests.conftest import RunningSystem
from tests.support import order_payload, publish_as_producer, unique, wait_until


async def publish(system: RunningSystem, event: Envelope) -> None:
    """As the event's producer's relay would: persistent, mandatory, confirmed."""
    await publish_as_producer(system.tracking.amqp, system.tracking.topology, event)


@asynccontextmanager
async def status_changes(system: RunningSystem) -> AsyncIterator[AbstractQueue]:
    """A queue of this test's own (gone with its channel) bound to ``order.status_changed``."""
    channel = await system.tracking.amqp.channel()
    try:
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(system.tracking.topology.exchange, routing_key="order.status_changed")
        yield queue
    finally:
        await channel.close()


async def next_change_of(queue: AbstractQueue, order_id: str) -> dict[str, Any]:
    async def arrived() -> dict[str, Any] | None:
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            body: dict[str, Any] = json.loads(message.body)
            if body["data"]["order_id"] == order_id:
                return body
        return None

    return await wait_until(arrived)


async def view(system: RunningSystem, order_id: str) -> dict[str, Any] | None:
    status, body = await system.api.call("GET", "tracking", f"/v1/orders/{order_id}/shipments")
    return dict(body) if status == 200 else None


async def received_order(system: RunningSystem) -> str:
    """An order posted by a channel, once tracking has its lines (L1: 2 units, L2: 1)."""
    channel = unique("shop-")
    created = await system.api.ok("PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop"})
    payload = order_payload(channel, [(unique("MUG-"), 2, "9.50"), (unique("CAP-"), 1, "5.00")])
    status, order = await system.api.call("POST", "intake", "/v1/orders", payload, token=created["api_key"])
    assert status == 201, order
    order_id = str(order["id"])

    async def tracked() -> dict[str, Any] | None:
        shown = await view(system, order_id)
        return shown if shown is not None and shown["lines"] else None

    await wait_until(tracked)
    return order_id


def shipment_of(order_id: str, tracking_number: str, *lines: ShipmentLine) -> ShipmentReported:
    data = ShipmentReportedData(
        shipment_id=f"shp_{tracking_number}_{order_id}",
        vendor="acme",
        vendor_order_id=f"vo_{order_id}",
        vendor_order_number="1-1",
        order_id=order_id,
        carrier="UPS",
        tracking_number=tracking_number,
        lines=list(lines),
    )
    return ShipmentReported(correlation_id=order_id, data=data)


def answer(order_id: str, at: datetime, *lines: AcknowledgedLine) -> VendorOrderAcknowledged:
    return VendorOrderAcknowledged(
        correlation_id=order_id,
        occurred_at=at,
        data=VendorOrderAcknowledgedData(
            vendor_order_id=f"vo_{order_id}",
            vendor_order_number="1-1",
            vendor="acme",
            order_id=order_id,
            lines=list(lines),
        ),
    )


async def test_acknowledged_lines_show_latest_first_and_move_no_status(system: RunningSystem) -> None:
    order_id = await received_order(system)
    now = datetime.now(UTC)
    latest = answer(
        order_id,
        now,
        AcknowledgedLine(line_id="L1", sku="MUG", status="accepted", quantity=1),
        AcknowledgedLine(
            line_id="L1", sku="MUG", status="backordered", quantity=1, expected_ship_date=date(2026, 12, 14)
        ),
        AcknowledgedLine(line_id="L2", sku="CAP", status="rejected", quantity=1, reason="discontinued"),
    )
    older = answer(
        order_id, now - timedelta(minutes=5), AcknowledgedLine(line_id="L1", sku="MUG", status="accepted", quantity=2)
    )

    await publish(system, latest)
    await publish(system, older)  # delivered late: it must not replace the newer answer

    async def both_applied() -> bool:
        found = await system.tracking.pool.fetchval(
            "SELECT count(*) FROM inbox WHERE message_id = ANY($1::text[])", [latest.message_id, older.message_id]
        )
        return bool(found == 2)

    await wait_until(both_applied)
    shown = await view(system, order_id)
    assert shown is not None
    assert [
        (a["vendor"], a["line_id"], a["status"], a["quantity"], a["expected_ship_date"], a["reason"])
        for a in shown["acknowledgements"]
    ] == [
        ("acme", "L1", "accepted", 1, None, None),
        ("acme", "L1", "backordered", 1, "2026-12-14", None),
        ("acme", "L2", "rejected", 1, None, "discontinued"),
    ]
    assert shown["status"] is None and shown["shipped_after_cancel"] is False
    announced = await system.tracking.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE correlation_id = $1 AND message_type = 'order.status_changed'", order_id
    )
    assert announced == 0


async def test_a_shipment_after_the_cancellation_ships_the_order_and_the_channel_is_told(system: RunningSystem) -> None:
    order_id = await received_order(system)
    async with status_changes(system) as changes:
        await publish(system, OrderCancelled(correlation_id=order_id, data=OrderCancelledData(order_id=order_id)))
        cancelled = await next_change_of(changes, order_id)
        assert cancelled["data"]["status"] == "cancelled"

        # The vendor ships the mugs, then the cap, after the cancellation was sent.
        await publish(system, shipment_of(order_id, "1Z001", ShipmentLine(line_id="L1", sku="MUG", quantity=2)))
        partly = await next_change_of(changes, order_id)
        await publish(system, shipment_of(order_id, "1Z002", ShipmentLine(line_id="L2", sku="CAP", quantity=1)))
        shipped = await next_change_of(changes, order_id)

    assert (partly["data"]["status"], partly["data"]["previous_status"]) == ("partially_shipped", "cancelled")
    assert (shipped["data"]["status"], shipped["data"]["previous_status"]) == ("shipped", "partially_shipped")
    assert shipped["data"]["shipment"]["tracking_number"] == "1Z002"
    shown = await view(system, order_id)
    assert shown is not None
    assert (shown["status"], shown["cancelled"], shown["shipped_after_cancel"]) == ("shipped", True, True)
