"""What the splitter's integration tests share: the bus as a third-party adapter sees it (publish an
event, observe every event published), a channel in intake to place orders through, vendors and
catalog entries made per test, and routing settings put back to their defaults after each test.

Routing settings are one row for the whole install, so every test sets what it needs and the
``routing_defaults`` fixture restores the defaults (other test modules share the same services).
Duplicate detection is off unless a test turns it on: tests place alike orders on purpose.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import pytest

from shared.contracts.envelope import Envelope
from shared.contracts.shipments import ShipmentLine, ShipmentReported, ShipmentReportedData
from shared.messaging.broker import connect
from tests.conftest import RunningSystem, remove_vendor_queues
from tests.support import AMQP_URL, order_payload, publish_as_producer, unique, wait_until

Message = dict[str, Any]


@dataclass
class Observer:
    """Every event published on the exchange while it listens (an exclusive queue bound to ``#``)."""

    messages: list[Message] = field(default_factory=list)

    def of(self, kind: str, order_id: str | None = None) -> list[Message]:
        return [m for m in self.messages if m["type"] == kind and (order_id is None or m["correlation_id"] == order_id)]

    async def wait_for(
        self, kind: str, order_id: str | None = None, count: int = 1, timeout: float = 20
    ) -> list[Message]:
        async def enough() -> list[Message] | None:
            found = self.of(kind, order_id)
            return found if len(found) >= count else None

        return await wait_until(enough, timeout=timeout)

    async def wait_match(self, check: Callable[[Message], bool], timeout: float = 20) -> Message:
        async def first() -> Message | None:
            return next((m for m in self.messages if check(m)), None)

        return await wait_until(first, timeout=timeout)


@dataclass
class Bus:
    system: RunningSystem
    connection: aio_pika.abc.AbstractRobustConnection

    async def publish(self, event: Envelope) -> None:
        """Publish ``event`` as its producer's relay would (persistent, mandatory, confirmed)."""
        await publish_as_producer(self.connection, self.system.splitter.topology, event)

    async def applied(self, event: Envelope) -> bool:
        """Whether the splitter has applied ``event`` (its inbox holds the message id)."""
        found = await self.system.splitter.pool.fetchval("SELECT 1 FROM inbox WHERE message_id = $1", event.message_id)
        return found is not None


@pytest.fixture(scope="module")
async def bus(system: RunningSystem) -> AsyncIterator[Bus]:
    connection = await connect(AMQP_URL, name="dropship-tests-splitter")
    try:
        yield Bus(system, connection)
    finally:
        await connection.close()


@pytest.fixture
async def events(bus: Bus) -> AsyncIterator[Observer]:
    channel = await bus.connection.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(bus.system.splitter.topology.exchange, routing_key="#")
    observer = Observer()

    async def take(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            observer.messages.append(json.loads(message.body))

    tag = await queue.consume(take)
    try:
        yield observer
    finally:
        await queue.cancel(tag)
        await channel.close()


@pytest.fixture(autouse=True)
async def routing_defaults(system: RunningSystem) -> AsyncIterator[None]:
    await system.api.ok("PUT", "splitter", "/v1/routing/settings", {"holds": {"duplicate_window_minutes": 0}})
    yield
    await system.api.ok("PUT", "splitter", "/v1/routing/settings", {})


@dataclass
class Shop:
    """A sales channel in intake and the admin calls the splitter's tests make."""

    system: RunningSystem
    channel: str
    api_key: str
    vendors: list[str] = field(default_factory=list)
    """Made by this module's tests: their queues are removed when the module ends."""

    @property
    def api(self) -> Any:
        return self.system.api

    async def vendor(self, prefix: str = "v-", **fields: Any) -> str:
        code = unique(prefix)
        body = {"name": f"Vendor {code}", "kind": "webhook", **fields}
        await self.api.ok("PUT", "splitter", f"/v1/vendors/{code}", body)
        self.vendors.append(code)
        return code

    async def catalog(self, sources: list[dict[str, Any]], sku: str | None = None) -> str:
        sku = sku or unique("SKU-")
        await self.api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": sources})
        return sku

    async def settings(self, **body: Any) -> None:
        body.setdefault("holds", {"duplicate_window_minutes": 0})
        await self.api.ok("PUT", "splitter", "/v1/routing/settings", body)

    async def preview(self, lines: list[tuple[str, int]], country: str = "US", **extra: Any) -> Any:
        body = {
            "lines": [{"sku": sku, "quantity": qty, "unit_price": "10.00"} for sku, qty in lines],
            "ship_to": {
                "name": "Jo",
                "address1": "1 Main St",
                "city": "Springfield",
                "postal_code": "1",
                "country": country,
            },
            **extra,
        }
        return await self.api.ok("POST", "splitter", "/v1/routing/preview", body)

    def payload(self, lines: list[tuple[str, int, str]], **extra: Any) -> dict[str, Any]:
        return order_payload(self.channel, lines, **extra)

    async def place(self, lines: list[tuple[str, int, str]], **extra: Any) -> str:
        """Post an order as the channel would; answers intake's (and the splitter's) order id."""
        status, body = await self.api.call(
            "POST", "intake", "/v1/orders", self.payload(lines, **extra), token=self.api_key
        )
        assert status == 201, body
        order_id: str = body["id"]
        return order_id

    async def place_payload(self, payload: dict[str, Any]) -> str:
        status, body = await self.api.call("POST", "intake", "/v1/orders", payload, token=self.api_key)
        assert status == 201, body
        order_id: str = body["id"]
        return order_id

    async def routing(self, order_id: str, until: Callable[[Any], bool] | None = None, timeout: float = 20) -> Any:
        """The order's routing view, once the splitter has seen it (and ``until`` holds)."""

        async def view() -> Any:
            status, body = await self.api.call("GET", "splitter", f"/v1/orders/{order_id}/routing")
            if status != 200:
                return None
            return body if until is None or until(body) else None

        return await wait_until(view, timeout=timeout)

    async def stock(self, sku: str) -> Any:
        return await self.api.ok("GET", "splitter", f"/v1/stock/{sku}")

    async def cancel(self, order_id: str) -> None:
        status, body = await self.api.call("POST", "intake", f"/v1/orders/{order_id}/cancel", token=self.api_key)
        assert status == 202, body

    async def set_status(self, order_id: str, status: str) -> None:
        code, body = await self.api.call(
            "POST", "intake", f"/v1/orders/{order_id}/status", {"status": status}, token=self.api_key
        )
        assert code in (200, 202), body


@pytest.fixture(scope="module")
async def shop(system: RunningSystem) -> AsyncIterator[Shop]:
    channel = unique("shop-")
    created = await system.api.ok("PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop"})
    shop = Shop(system, channel, created["api_key"])
    yield shop
    await remove_vendor_queues(system, shop.vendors)


async def settled(seconds: float = 0.5) -> None:
    """Give the relay and consumers a moment, before asserting that something did not happen."""
    await asyncio.sleep(seconds)


def routed_vendors(view: Any) -> dict[str, str]:
    """line_id → vendor of the view's open vendor orders."""
    return {
        line["line_id"]: vo["vendor"]
        for vo in view["vendor_orders"]
        if vo["status"] not in ("cancelled", "failed")
        for line in vo["lines"]
    }


def shipment_of(created: Message, lines: list[tuple[str, int]]) -> ShipmentReported:
    """A vendor's ``shipment.reported`` for ``lines`` (line id, units) of the vendor order ``created``
    announced, with a tracking number of its own."""
    data = created["data"]
    sku = {line["line_id"]: line["sku"] for line in data["lines"]}
    return ShipmentReported(
        correlation_id=data["order_id"],
        data=ShipmentReportedData(
            shipment_id=f"shp_{uuid.uuid4().hex}",
            vendor=data["vendor"],
            vendor_order_id=data["vendor_order_id"],
            vendor_order_number=data["vendor_order_number"],
            order_id=data["order_id"],
            carrier="UPS",
            tracking_number=f"1Z{uuid.uuid4().hex[:10]}",
            lines=[ShipmentLine(line_id=line_id, sku=sku[line_id], quantity=qty) for line_id, qty in lines],
        ),
    )
