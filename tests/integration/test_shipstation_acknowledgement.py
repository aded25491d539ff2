"""For ShipStation vendors the first export of a vendor order counts as its acknowledgement: the adapter
publishes one ``vendor_order.acknowledged`` (every line that stands accepted in full) per vendor order,
on the real database and broker, however many polls or adapter instances serve it."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
from aio_pika.abc import AbstractQueue

from services.shipstation.app import SERVICE as SHIPSTATION
from shared.contracts.vendor_orders import VendorOrderCreatedData
from shared.service import running_service
from tests.conftest import RunningSystem
from tests.integration.shipstation.support import (
    Merchant,
    deliver_vendor_orders,
    new_merchant,
    standin,
    vendor_order_data,
)
from tests.shipstation_standin import ShipStationStandIn
from tests.support import wait_until

ACKNOWLEDGED = "vendor_order.acknowledged"


@asynccontextmanager
async def acknowledgements_on_the_broker(system: RunningSystem) -> AsyncIterator[AbstractQueue]:
    """A queue of this test's own (gone with its channel) bound to every ``vendor_order.acknowledged``."""
    channel = await system.shipstation.amqp.channel()
    try:
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(system.shipstation.topology.exchange, routing_key=ACKNOWLEDGED)
        yield queue
    finally:
        await channel.close()


async def received(queue: AbstractQueue, vendor_order_ids: set[str], *, settle: float = 1.0) -> list[dict[str, Any]]:
    """The acknowledgements of ``vendor_order_ids`` that reached the broker, once nothing more arrives
    for ``settle`` seconds after each of them has come at least once."""
    messages: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    quiet_since = loop.time()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        message: aio_pika.abc.AbstractIncomingMessage | None = await queue.get(no_ack=True, fail=False)
        if message is None:
            seen = {m["data"]["vendor_order_id"] for m in messages}
            if vendor_order_ids <= seen and loop.time() - quiet_since >= settle:
                break
            await asyncio.sleep(0.05)
            continue
        body = json.loads(message.body)
        if body["data"]["vendor_order_id"] in vendor_order_ids:
            messages.append(body)
            quiet_since = loop.time()
    return messages


async def outbox_acknowledgements(system: RunningSystem, orders: list[VendorOrderCreatedData]) -> Counter[str]:
    rows = await system.shipstation.pool.fetch(
        "SELECT convert_from(body, 'UTF8')::jsonb -> 'data' ->> 'vendor_order_id' AS id FROM outbox"
        " WHERE message_type = $1 AND correlation_id = ANY($2::text[])",
        ACKNOWLEDGED,
        [order.order_id for order in orders],
    )
    return Counter(row["id"] for row in rows)


async def placed(system: RunningSystem, merchant: Merchant, count: int, prefix: str) -> list[VendorOrderCreatedData]:
    two_lines = [
        {"line_id": "L1", "sku": merchant.sku, "name": "Mug", "quantity": 2, "unit_price": "9.50"},
        {"line_id": "L2", "sku": merchant.sku, "name": "Cap", "quantity": 1, "unit_price": "5.00"},
    ]
    orders = [vendor_order_data(merchant, f"{prefix}{index}-1", lines=two_lines) for index in range(count)]
    await deliver_vendor_orders(system, orders)
    return orders


async def test_the_first_poll_acknowledges_each_vendor_order_once_and_the_next_poll_none(
    system: RunningSystem,
) -> None:
    merchant = await new_merchant(system)
    orders = await placed(system, merchant, 3, "ACK")
    ids = {order.vendor_order_id for order in orders}
    shipstation = standin(system, merchant)
    async with acknowledgements_on_the_broker(system) as queue:
        first = await shipstation.refresh()
        assert ids <= set(first.order_ids)
        published = await received(queue, ids)

        assert Counter(m["data"]["vendor_order_id"] for m in published) == Counter(ids)
        for message in published:
            assert message["type"] == ACKNOWLEDGED
            assert message["correlation_id"] == message["data"]["order_id"]
            assert [(line["line_id"], line["status"], line["quantity"]) for line in message["data"]["lines"]] == [
                ("L1", "accepted", 2),
                ("L2", "accepted", 1),
            ]

        shipstation.last_refresh = None  # the same window again: every order is exported once more
        again = await shipstation.refresh()
        assert ids <= set(again.order_ids)
        assert await received(queue, set(), settle=1.5) == []
    assert await outbox_acknowledgements(system, orders) == Counter(ids)
    stamped = await system.shipstation.pool.fetchval(
        "SELECT count(*) FROM vendor_orders WHERE id = ANY($1::text[]) AND first_exported_at IS NOT NULL", list(ids)
    )
    assert stamped == len(ids)


async def test_a_full_page_is_acknowledged_by_one_poll(system: RunningSystem) -> None:
    merchant = await new_merchant(system)  # pages of 100, the default
    orders = await placed(system, merchant, 100, "PAGE")
    shipstation = standin(system, merchant)

    walk = await shipstation.refresh()

    assert walk.pages == 1
    assert await outbox_acknowledgements(system, orders) == Counter(order.vendor_order_id for order in orders)


async def test_polls_served_at_once_by_two_adapter_instances_acknowledge_once_in_total(system: RunningSystem) -> None:
    merchant = await new_merchant(system, settings={"page_size": 50})
    async with running_service(SHIPSTATION, system.shipstation.settings, port=0) as second:
        other_url = f"http://127.0.0.1:{second.port}/shipstation/{merchant.vendor}"
        for round_number in range(3):
            orders = await placed(system, merchant, 40, f"RACE{round_number}x")
            polls = [
                standin(system, merchant),
                standin(system, merchant),
                ShipStationStandIn.connected(system.api.session, merchant.credentials, url=other_url),
                ShipStationStandIn.connected(system.api.session, merchant.credentials, url=other_url),
            ]

            walks = await asyncio.gather(*(poll.refresh() for poll in polls))

            ids = Counter(order.vendor_order_id for order in orders)
            assert all(set(ids) <= set(walk.order_ids) for walk in walks)
            assert await outbox_acknowledgements(system, orders) == ids


async def test_acknowledgements_reach_tracking_and_show_in_the_order_view(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    [order] = await placed(system, merchant, 1, "SHOWN")
    await standin(system, merchant).refresh()

    async def acknowledged() -> list[dict[str, Any]] | None:
        status, view = await system.api.call("GET", "tracking", f"/v1/orders/{order.order_id}/shipments")
        return view["acknowledgements"] if status == 200 and view["acknowledgements"] else None

    shown = await wait_until(acknowledged)
    assert [(a["vendor_order_id"], a["line_id"], a["status"], a["quantity"]) for a in shown] == [
        (order.vendor_order_id, "L1", "accepted", 2),
        (order.vendor_order_id, "L2", "accepted", 1),
    ]
