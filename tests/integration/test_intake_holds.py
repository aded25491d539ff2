"""Intake's own copy of the splitter's holds, on the real broker and database: ``order.held`` and
``order.released`` published to the bus reach intake.status, the order's view shows them, and the
channel is told through its signed webhook; late or older events do not undo newer news.

Intake runs alone here (the splitter and tracking are not started): the events a splitter would
publish are published by the test, so nothing else holds or releases these orders meanwhile."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import aiohttp
import pytest

from services.intake.app import SERVICE as INTAKE
from services.intake.settings import IntakeSettings
from shared.contracts.envelope import Envelope
from shared.contracts.orders import (
    HoldReason,
    OrderHeld,
    OrderHeldData,
    OrderReleased,
    OrderReleasedData,
    OrderStatusChanged,
    OrderStatusChangedData,
)
from shared.db import drop_database
from shared.messaging.topology import SERVICE_QUEUES, Topology, delete_namespace
from shared.processes import free_port
from shared.service import Runtime, running_service
from tests.conftest import SuiteEnvironment
from tests.support import Api, ChannelReceiver, order_payload, publish_as_producer, unique, wait_until


@dataclass
class IntakeAlone:
    runtime: Runtime
    api: Api

    async def publish(self, event: Envelope) -> None:
        """Publish ``event`` to the exchange as its producer's relay would (persistent, mandatory)."""
        await publish_as_producer(self.runtime.amqp, self.runtime.topology, event)

    async def applied(self, event: Envelope) -> bool:
        """Whether intake's consumer has applied ``event`` (its inbox holds the message id)."""
        found = await self.runtime.pool.fetchval("SELECT 1 FROM inbox WHERE message_id = $1", event.message_id)
        return found is not None


@asynccontextmanager
async def intake_alone(test_env: SuiteEnvironment) -> AsyncIterator[IntakeAlone]:
    """Intake on a free loopback port, with the run's database and namespace; the splitter and tracking
    it would ask for an order's progress are not there (the view says they are unavailable)."""
    # A database and namespace of its own ("f" keeps the run's names, so a killed run's leftovers are
    # still found): the suite's splitter, when it runs, must not route and hold these orders itself.
    settings = test_env.settings(
        IntakeSettings,
        database_url=test_env.database_url + "f",
        namespace=test_env.namespace + "f",
        intake_port=free_port(),
        splitter_port=free_port(),
        tracking_port=free_port(),
        webhook_max_backoff_seconds=2.0,
    )
    try:
        async with running_service(INTAKE, settings, port=0) as runtime, aiohttp.ClientSession() as session:
            urls = {"intake": f"http://127.0.0.1:{runtime.port}"}
            yield IntakeAlone(runtime, Api(session, urls, test_env.admin_token))
    finally:
        connection = await aio_pika.connect(settings.amqp_url)
        async with connection:
            await delete_namespace(await connection.channel(), Topology(settings.namespace), SERVICE_QUEUES)
        await drop_database(settings.database_url)


@pytest.fixture(scope="module")
async def intake(test_env: SuiteEnvironment) -> AsyncIterator[IntakeAlone]:
    async with intake_alone(test_env) as running:
        yield running


@dataclass
class PlacedOrder:
    channel: str
    key: str
    order: dict[str, Any]

    @property
    def id(self) -> str:
        order_id: str = self.order["id"]
        return order_id


@pytest.fixture
async def receiver() -> AsyncIterator[ChannelReceiver]:
    started = await ChannelReceiver().start()
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
async def placed(intake: IntakeAlone, receiver: ChannelReceiver) -> PlacedOrder:
    code = unique("shop-")
    created = await intake.api.ok("PUT", "intake", f"/v1/channels/{code}", {"name": "S", "webhook_url": receiver.url})
    receiver.secret = created["webhook_secret"]
    order = await intake.api.ok(
        "POST", "intake", "/v1/orders", order_payload(code, [("MUG", 2, "9.50")], discounts=[]), created["api_key"]
    )
    return PlacedOrder(code, created["api_key"], order)


NOW = datetime.now(UTC)
UNPAID = HoldReason(code="unpaid", detail="the channel says the order is unpaid")
NO_STOCK = HoldReason(code="no_stock", detail="MUG: east has 0 of 2", line_id="L1")


def held(order_id: str, at: datetime, *reasons: HoldReason) -> OrderHeld:
    return OrderHeld(correlation_id=order_id, occurred_at=at, data=OrderHeldData(order_id=order_id, reasons=reasons))


def released(order_id: str, at: datetime) -> OrderReleased:
    return OrderReleased(correlation_id=order_id, occurred_at=at, data=OrderReleasedData(order_id=order_id, by="auto"))


async def view_of(intake: IntakeAlone, placed: PlacedOrder) -> dict[str, Any]:
    view: dict[str, Any] = await intake.api.ok("GET", "intake", f"/v1/orders/{placed.id}", token=placed.key)
    return view


async def deliveries(receiver: ChannelReceiver, count: int) -> list[dict[str, Any]]:
    async def arrived() -> list[dict[str, Any]] | None:
        return [d.json for d in receiver.deliveries] if len(receiver.deliveries) >= count else None

    return await wait_until(arrived, timeout=30)


async def test_a_held_order_shows_held_with_its_holds_and_the_channel_gets_a_signed_webhook(
    intake: IntakeAlone, placed: PlacedOrder, receiver: ChannelReceiver
) -> None:
    event = held(placed.id, NOW, UNPAID, NO_STOCK)
    await intake.publish(event)

    [body] = await deliveries(receiver, 1)
    view = await view_of(intake, placed)
    since = NOW.isoformat()
    expected_holds = [
        {"code": "unpaid", "detail": "the channel says the order is unpaid", "line_id": None, "since": since},
        {"code": "no_stock", "detail": "MUG: east has 0 of 2", "line_id": "L1", "since": since},
    ]
    assert view["status"] == "held"
    assert view["holds"] == expected_holds
    assert view["hold_reason"] == "the channel says the order is unpaid; MUG: east has 0 of 2"
    assert [entry["status"] for entry in view["status_history"]] == ["received", "held"]
    assert "unavailable" in view["split"]  # the splitter is not running here
    delivery = receiver.deliveries[0]
    assert receiver.verify(delivery)
    assert delivery.headers["webhook-id"] == f"whd_{event.message_id.removeprefix('msg_')}"
    assert (body["type"], body["order_id"], body["status"]) == ("order.status_changed", placed.id, "held")
    assert (body["previous_status"], body["channel"]) == ("received", placed.channel)
    assert body["holds"] == expected_holds


async def test_a_release_clears_the_holds_and_the_channel_hears_the_order_is_routed(
    intake: IntakeAlone, placed: PlacedOrder, receiver: ChannelReceiver
) -> None:
    await intake.publish(held(placed.id, NOW, UNPAID))
    await deliveries(receiver, 1)
    # The same reason again, later: the hold keeps its ``since`` and the channel hears nothing new.
    again = held(placed.id, NOW + timedelta(seconds=5), UNPAID)
    await intake.publish(again)
    await wait_until(lambda: intake.applied(again))
    assert (await view_of(intake, placed))["holds"][0]["since"] == NOW.isoformat()

    await intake.publish(released(placed.id, NOW + timedelta(seconds=10)))

    bodies = await deliveries(receiver, 2)
    assert [(b["status"], b["previous_status"]) for b in bodies] == [("held", "received"), ("routed", "held")]
    assert bodies[1]["holds"] == []
    assert all(receiver.verify(d) for d in receiver.deliveries)
    view = await view_of(intake, placed)
    assert (view["status"], view["holds"], view["hold_reason"]) == ("routed", [], None)
    assert [entry["status"] for entry in view["status_history"]] == ["received", "held", "routed"]


async def test_a_release_older_than_the_hold_applied_does_not_clear_it(
    intake: IntakeAlone, placed: PlacedOrder, receiver: ChannelReceiver
) -> None:
    await intake.publish(held(placed.id, NOW, NO_STOCK))
    await deliveries(receiver, 1)

    stale = released(placed.id, NOW - timedelta(seconds=30))
    await intake.publish(stale)
    await wait_until(lambda: intake.applied(stale))

    view = await view_of(intake, placed)
    assert view["status"] == "held" and [hold["code"] for hold in view["holds"]] == ["no_stock"]
    assert len(await intake.runtime.pool.fetch("SELECT 1 FROM upstream_deliveries WHERE order_id = $1", placed.id)) == 1


async def test_a_hold_arriving_after_the_order_shipped_keeps_it_shipped(
    intake: IntakeAlone, placed: PlacedOrder, receiver: ChannelReceiver
) -> None:
    order = placed.order
    shipped = OrderStatusChanged(
        correlation_id=placed.id,
        data=OrderStatusChangedData(
            order_id=placed.id,
            channel=placed.channel,
            external_id=order["external_id"],
            order_number=order["order_number"],
            status="shipped",
            previous_status="routed",
        ),
    )
    await intake.publish(shipped)
    await deliveries(receiver, 1)

    late = held(placed.id, NOW, NO_STOCK)
    await intake.publish(late)
    await wait_until(lambda: intake.applied(late))

    view = await view_of(intake, placed)
    assert view["status"] == "shipped"
    assert [hold["code"] for hold in view["holds"]] == ["no_stock"]  # kept, and shown alongside
    assert [entry["status"] for entry in view["status_history"]] == ["received", "shipped"]
    stored = await intake.runtime.pool.fetch("SELECT body FROM upstream_deliveries WHERE order_id = $1", placed.id)
    assert [row["body"]["status"] for row in stored] == ["shipped"]


async def test_a_status_from_tracking_after_a_hold_wins(
    intake: IntakeAlone, placed: PlacedOrder, receiver: ChannelReceiver
) -> None:
    await intake.publish(held(placed.id, NOW, UNPAID))
    await deliveries(receiver, 1)
    order = placed.order
    await intake.publish(
        OrderStatusChanged(
            correlation_id=placed.id,
            data=OrderStatusChangedData(
                order_id=placed.id,
                channel=placed.channel,
                external_id=order["external_id"],
                order_number=order["order_number"],
                status="partially_shipped",
                previous_status="routed",
            ),
        )
    )

    bodies = await deliveries(receiver, 2)
    assert [b["status"] for b in bodies] == ["held", "partially_shipped"]
    assert (await view_of(intake, placed))["status"] == "partially_shipped"
