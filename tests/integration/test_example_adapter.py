"""The example vendor adapter (``examples/vendor_adapter.py``) against the real services, broker and
database: a vendor left to its own adapter gets its order on ``vendor.<code>``, the adapter accepts and
ships it, and the splitter and tracking see it acknowledged and shipped, once. A restarted adapter that
answers the same vendor order again (its memory lost) changes nothing, thanks to its derived ids; a
message that breaks the contract is parked; its stock snapshot reaches the splitter. And the guide,
``docs/writing-an-adapter.md``, quotes the example as it is."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from examples import vendor_adapter
from shared.messaging.topology import Topology, vendor_queue
from tests.conftest import RunningSystem
from tests.support import AMQP_URL, order_payload, unique, wait_until

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "writing-an-adapter.md"
EXAMPLE = ROOT / "examples" / "vendor_adapter.py"
QUOTE_MARK = "# from examples/vendor_adapter.py"


@dataclass
class Vendor:
    code: str
    sku: str
    channel: str
    api_key: str


@dataclass
class Tap:
    """A queue of the test's own (gone with its channel) with a copy of what some routing keys carry."""

    queue: AbstractQueue
    vendor: str
    pending: list[AbstractIncomingMessage] = field(default_factory=list)

    async def next(self, count: int) -> list[AbstractIncomingMessage]:
        """The next ``count`` messages about this tap's vendor, in the order they arrived."""

        async def arrived() -> list[AbstractIncomingMessage] | None:
            while (message := await self.queue.get(no_ack=True, fail=False)) is not None:
                if json.loads(message.body)["data"]["vendor"] == self.vendor:
                    self.pending.append(message)
            if len(self.pending) < count:
                return None
            taken, self.pending[:] = self.pending[:count], self.pending[count:]
            return taken

        return await wait_until(arrived)


@asynccontextmanager
async def tap(system: RunningSystem, vendor: str, *routing_keys: str) -> AsyncIterator[Tap]:
    channel = await system.splitter.amqp.channel()
    try:
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in routing_keys:
            await queue.bind(system.splitter.topology.exchange, routing_key=key)
        yield Tap(queue, vendor)
    finally:
        await channel.close()


@asynccontextmanager
async def running_adapter(system: RunningSystem, vendor: str) -> AsyncIterator[None]:
    """The example adapter in this process, as ``python -m examples.vendor_adapter`` runs it."""
    stop = asyncio.Event()
    task = asyncio.create_task(vendor_adapter.run(AMQP_URL, system.env.namespace, vendor, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)


async def publish_raw(system: RunningSystem, body: bytes, message_id: str, routing_key: str) -> None:
    channel = await system.splitter.amqp.channel(publisher_confirms=True, on_return_raises=True)
    try:
        exchange = await channel.get_exchange(system.splitter.topology.exchange)
        message = aio_pika.Message(body, message_id=message_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await exchange.publish(message, routing_key=routing_key, mandatory=True)
    finally:
        await channel.close()


async def ready_messages(system: RunningSystem, queue_name: str) -> int:
    channel = await system.splitter.amqp.channel()
    try:
        queue = await channel.declare_queue(queue_name, passive=True)
        return int(queue.declaration_result.message_count or 0)
    finally:
        await channel.close()


async def own_vendor(system: RunningSystem) -> Vendor:
    """A vendor left to its own adapter, a SKU it ships (under its own SKU) and a channel."""
    api = system.api
    vendor = Vendor(unique("own-"), unique("BOX-"), unique("shop-"), "")
    body = {"name": "Own adapter", "kind": "webhook", "settings": {"adapter": "own"}}
    created = await api.ok("PUT", "splitter", f"/v1/vendors/{vendor.code}", body)
    assert created["settings"] == {"adapter": "own"}
    source = {"vendor": vendor.code, "vendor_sku": f"V-{vendor.sku}", "stock": 50, "cost": "2.00"}
    await api.ok("PUT", "splitter", f"/v1/catalog/{vendor.sku}", {"sources": [source]})
    vendor.api_key = (await api.ok("PUT", "intake", f"/v1/channels/{vendor.channel}", {"name": "Shop"}))["api_key"]
    return vendor


async def shipped_vendor_order(system: RunningSystem, order_id: str) -> dict[str, Any] | None:
    status, routing = await system.api.call("GET", "splitter", f"/v1/orders/{order_id}/routing")
    if status != 200 or not routing["vendor_orders"]:
        return None
    [vendor_order] = routing["vendor_orders"]
    return dict(vendor_order) if vendor_order["status"] == "shipped" else None


async def tracked_shipped(system: RunningSystem, order_id: str) -> dict[str, Any] | None:
    status, view = await system.api.call("GET", "tracking", f"/v1/orders/{order_id}/shipments")
    return dict(view) if status == 200 and view["status"] == "shipped" else None


async def test_the_example_ships_an_order_once_even_when_it_answers_it_twice(system: RunningSystem) -> None:
    vendor = await own_vendor(system)
    async with (
        tap(system, vendor.code, f"vendor_order.created.{vendor.code}") as orders,
        tap(system, vendor.code, "vendor_order.acknowledged", "shipment.reported") as answers,
    ):
        async with running_adapter(system, vendor.code):
            payload = order_payload(vendor.channel, [(vendor.sku, 2, "12.00"), (vendor.sku, 1, "12.00")])
            status, order = await system.api.call("POST", "intake", "/v1/orders", payload, token=vendor.api_key)
            assert status == 201, order
            order_id = order["id"]

            vendor_order = await wait_until(lambda: shipped_vendor_order(system, order_id))
            assert vendor_order["acknowledged_at"] is not None
            assert [(line["accepted"], line["shipped"]) for line in vendor_order["lines"]] == [(2, 2), (1, 1)]
            view = await wait_until(lambda: tracked_shipped(system, order_id))
            [package] = view["shipments"]
            assert (package["carrier"], package["vendor_order_id"]) == ("UPS", vendor_order["vendor_order_id"])
            assert {(a["line_id"], a["status"]) for a in view["acknowledgements"]} == {
                ("L1", "accepted"),
                ("L2", "accepted"),
            }
            first = await answers.next(2)
            assert [json.loads(m.body)["type"] for m in first] == ["vendor_order.acknowledged", "shipment.reported"]

        # The adapter restarted with its memory lost (it keeps it in memory) and the vendor order is
        # delivered again: it answers again, with the same message ids and the same shipment id.
        [created] = await orders.next(1)
        async with running_adapter(system, vendor.code):
            routing_key = f"vendor_order.created.{vendor.code}"
            await publish_raw(system, created.body, str(created.message_id), routing_key)
            again = await answers.next(2)
        assert [m.message_id for m in again] == [m.message_id for m in first]
        assert json.loads(again[1].body)["data"]["shipment_id"] == package["shipment_id"]

    async def consumed_by_tracking() -> bool:
        queue = system.tracking.topology.name("tracking.shipments")
        return await ready_messages(system, queue) == 0

    await wait_until(consumed_by_tracking)
    await asyncio.sleep(0.5)  # the copy tracking took last is applied (or skipped) by now
    view = await wait_until(lambda: tracked_shipped(system, order_id))
    assert len(view["shipments"]) == 1
    vendor_order = await wait_until(lambda: shipped_vendor_order(system, order_id))
    assert [line["shipped"] for line in vendor_order["lines"]] == [2, 1]


async def test_a_message_that_breaks_the_contract_is_parked(system: RunningSystem) -> None:
    vendor = await own_vendor(system)
    parked = system.splitter.topology.parked_queue(vendor_queue(vendor.code))
    async with running_adapter(system, vendor.code):
        await publish_raw(
            system, b'{"type": "vendor_order.created"}', unique("msg_"), f"vendor_order.created.{vendor.code}"
        )

        async def parked_once() -> bool:
            return await ready_messages(system, parked) == 1

        await wait_until(parked_once)
    live = system.splitter.topology.queue(vendor_queue(vendor.code))
    assert await ready_messages(system, live) == 0
    # Rejected at once, not redelivered until the queue's delivery limit gave up on it.
    channel = await system.splitter.amqp.channel()
    try:
        queue = await channel.declare_queue(parked, passive=True)
        message = await queue.get(no_ack=True)
        assert message is not None
        deaths: Any = message.headers["x-death"]
        assert [death["reason"] for death in deaths] == ["rejected"]
    finally:
        await channel.close()


async def test_the_stock_snapshot_reaches_the_splitter(system: RunningSystem) -> None:
    vendor = await own_vendor(system)
    snapshot = vendor_adapter.stock_snapshot(vendor.code, {f"V-{vendor.sku}": 48}, datetime.now(UTC))
    channel = await system.splitter.amqp.channel(publisher_confirms=True, on_return_raises=True)
    try:
        await vendor_adapter.publish(await channel.get_exchange(system.splitter.topology.exchange), snapshot)
    finally:
        await channel.close()

    async def counted() -> dict[str, Any] | None:
        stock = await system.api.ok("GET", "splitter", f"/v1/stock/{vendor.sku}")
        [source] = stock["sources"]
        return dict(source) if source["feed_quantity"] == 48 else None

    await wait_until(counted)


def test_the_example_names_queues_as_the_services_do() -> None:
    topology = Topology(namespace="acme")
    assert vendor_adapter.broker_name("acme", vendor_adapter.EVENTS_EXCHANGE) == topology.exchange
    assert vendor_adapter.broker_name("acme", "vendor.west") == topology.queue(vendor_queue("west"))
    assert vendor_adapter.broker_name("", "vendor.west") == Topology().queue(vendor_queue("west"))


def test_the_guide_quotes_the_example_as_it_is() -> None:
    example = EXAMPLE.read_text()
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)
    quotes = [block.removeprefix(QUOTE_MARK + "\n") for block in blocks if block.startswith(QUOTE_MARK)]
    assert len(quotes) >= 4, "the guide quotes the example's main parts"
    for quote in quotes:
        assert quote in example, f"the guide quotes lines the example does not have:\n{quote}"
    assert len(example.splitlines()) <= 200, "the example stays short enough to read in one go"
