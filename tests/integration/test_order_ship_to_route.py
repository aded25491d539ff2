"""``POST /v1/orders/{id}/ship_to`` on the real broker and database: the stored order takes the new
address, its history shows the change and ``order.ship_to_changed`` is published once per change (the
same address again publishes nothing); only the order's own channel (or the admin) may change it, and
every bad request gets its 4xx, an order with nothing left to ship a 409.

Intake runs alone (see test_intake_holds.py); a queue of the test's own, bound to
``order.ship_to_changed``, sees what intake publishes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest

from shared.contracts.orders import OrderStatusChanged, OrderStatusChangedData
from shared.messaging.topology import QueueSpec, declare_queue
from tests.conftest import SuiteEnvironment
from tests.integration.test_intake_holds import IntakeAlone, intake_alone
from tests.support import order_payload, unique, wait_until

MOVED = {
    "name": "Jo Müller", "address1": "9 Other Street", "address2": "Apt 3", "city": "Springfield", "state": "IL",
    "postal_code": "62704", "country": "US", "phone": "+1 217 555 0100",
}  # fmt: skip


@pytest.fixture(scope="module")
async def intake(test_env: SuiteEnvironment) -> AsyncIterator[IntakeAlone]:
    async with intake_alone(test_env) as running:
        yield running


class Changes:
    """The ``order.ship_to_changed`` messages seen on the test's queue, by order."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self._queue = queue
        self.seen: list[dict[str, Any]] = []

    async def for_order(self, order_id: str) -> list[dict[str, Any]]:
        while (message := await self._queue.get(no_ack=True, fail=False)) is not None:
            self.seen.append({"routing_key": message.routing_key, **json.loads(message.body)})
        return [event for event in self.seen if event["correlation_id"] == order_id]


@pytest.fixture(scope="module")
async def changes(intake: IntakeAlone) -> AsyncIterator[Changes]:
    spec = QueueSpec(unique("test.ship-to-changes."), (), "tests", ("order.ship_to_changed",))
    channel = await intake.runtime.amqp.channel()
    await declare_queue(channel, intake.runtime.topology, spec)
    queue = await channel.get_queue(intake.runtime.topology.queue(spec))
    try:
        yield Changes(queue)
    finally:
        await queue.delete(if_unused=False, if_empty=False)
        await channel.close()


@pytest.fixture
async def channel(intake: IntakeAlone) -> dict[str, str]:
    code = unique("shop-")
    created = await intake.api.ok("PUT", "intake", f"/v1/channels/{code}", {"name": "S"})
    return {"code": code, "key": created["api_key"]}


async def place_order(intake: IntakeAlone, channel: dict[str, str]) -> dict[str, Any]:
    payload = order_payload(channel["code"], [("MUG", 1, "9.50")], discounts=[])
    order: dict[str, Any] = await intake.api.ok("POST", "intake", "/v1/orders", payload, channel["key"])
    return order


def ship_to_path(order_id: str) -> str:
    return f"/v1/orders/{order_id}/ship_to"


async def test_a_new_address_is_stored_shown_in_the_history_and_published_once(
    intake: IntakeAlone, channel: dict[str, str], changes: Changes
) -> None:
    order = await place_order(intake, channel)

    status, changed = await intake.api.call("POST", "intake", ship_to_path(order["id"]), MOVED, channel["key"])

    assert status == 202
    assert changed["ship_to"] == {**MOVED, "company": None, "email": None}
    assert changed["lines"] == order["lines"] and changed["status"] == "received"

    async def published() -> list[dict[str, Any]] | None:
        return await changes.for_order(order["id"]) or None

    [event] = await wait_until(published)
    assert (event["routing_key"], event["type"]) == ("order.ship_to_changed", "order.ship_to_changed")
    assert event["data"]["order_id"] == order["id"]
    assert event["data"]["ship_to"] == changed["ship_to"]
    assert event["data"]["changed_at"].endswith("Z") or event["data"]["changed_at"].endswith("+00:00")

    for _ in range(3):  # the same address again (in another letter case of the country, trimmed): no change
        status, again = await intake.api.call(
            "POST", "intake", ship_to_path(order["id"]), {**MOVED, "country": "us", "city": " Springfield "}
        )
        assert (status, again["ship_to"]["address1"]) == (200, "9 Other Street")
    await asyncio.sleep(1.0)  # time enough for a wrongly written event to be published
    assert len(await changes.for_order(order["id"])) == 1

    history = await intake.api.ok("GET", "intake", f"/v1/orders/{order['id']}/history", token=channel["key"])
    causes = [event["cause"] for event in history["events"] if event["kind"] == "status"]
    assert causes == ["intake", "ship-to changed: now Springfield, IL, 62704, US"]
    assert history["status"] == "received"
    view = await intake.api.ok("GET", "intake", f"/v1/orders/{order['id']}")
    assert view["ship_to"]["address1"] == "9 Other Street"
    rows = await intake.runtime.pool.fetch(
        "SELECT message_type FROM outbox WHERE correlation_id = $1 ORDER BY id", order["id"]
    )
    assert [row["message_type"] for row in rows] == ["order.received", "order.ship_to_changed"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({**MOVED, "country": "XX"}, (422, "invalid", "country")),
        ({**MOVED, "state": None}, (422, "invalid", None)),
        ({k: v for k, v in MOVED.items() if k != "address1"}, (422, "invalid", "address1")),
        ({**MOVED, "postal_code": ""}, (422, "invalid", "postal_code")),
        ({**MOVED, "name": 5}, (422, "invalid", "name")),
        ({}, (422, "invalid", "name")),
        ([MOVED], (400, "malformed_json", None)),
        ("9 Other Street", (400, "malformed_json", None)),
    ],
)
async def test_a_body_that_is_not_an_address_an_order_takes_is_refused(
    intake: IntakeAlone, channel: dict[str, str], changes: Changes, body: Any, expected: tuple[int, str, str | None]
) -> None:
    order = await place_order(intake, channel)

    status, answer = await intake.api.call("POST", "intake", ship_to_path(order["id"]), body, channel["key"])

    code, error, field = expected
    assert (status, answer["error"]) == (code, error), answer
    if field is not None:
        assert any(field in name for name in answer["fields"]), answer
    assert (await intake.api.ok("GET", "intake", f"/v1/orders/{order['id']}"))["ship_to"] == order["ship_to"]
    assert await changes.for_order(order["id"]) == []


async def test_an_empty_body_or_not_json_is_400(intake: IntakeAlone, channel: dict[str, str]) -> None:
    order = await place_order(intake, channel)
    url = intake.api.urls["intake"] + ship_to_path(order["id"])
    headers = {"Authorization": f"Bearer {channel['key']}", "Content-Type": "application/json"}
    for raw, error in ((b"", "empty_body"), (b"{", "malformed_json")):
        async with intake.api.session.post(url, data=raw, headers=headers) as response:
            assert (response.status, (await response.json())["error"]) == (400, error), raw


async def test_who_may_change_which_order(intake: IntakeAlone, channel: dict[str, str]) -> None:
    order = await place_order(intake, channel)
    other = await intake.api.ok("PUT", "intake", f"/v1/channels/{unique('other-')}", {"name": "Other"})

    status, body = await intake.api.call("POST", "intake", ship_to_path(order["id"]), MOVED, other["api_key"])
    assert (status, body["error"]) == (403, "forbidden")
    status, body = await intake.api.call("POST", "intake", ship_to_path(order["id"]), MOVED, "dsk_wrong")
    assert (status, body["error"]) == (401, "unauthorized")
    status, body = await intake.api.call("POST", "intake", ship_to_path("ord_missing"), MOVED, channel["key"])
    assert (status, body["error"]) == (404, "not_found")
    status, _ = await intake.api.call("POST", "intake", ship_to_path(order["id"]), MOVED)  # the admin token
    assert status == 202


async def test_a_cancelled_or_shipped_order_is_409_and_nothing_is_published(
    intake: IntakeAlone, channel: dict[str, str], changes: Changes
) -> None:
    cancelled = await place_order(intake, channel)
    await intake.api.ok("POST", "intake", f"/v1/orders/{cancelled['id']}/cancel", token=channel["key"])
    shipped = await place_order(intake, channel)
    event = OrderStatusChanged(
        correlation_id=shipped["id"],
        data=OrderStatusChangedData(
            order_id=shipped["id"], channel=channel["code"], external_id=shipped["external_id"],
            order_number=shipped["order_number"], status="shipped", previous_status="received",
        ),
    )  # fmt: skip
    await intake.publish(event)
    await wait_until(lambda: intake.applied(event))

    for order, status_now in ((cancelled, "cancelled"), (shipped, "shipped")):
        status, body = await intake.api.call("POST", "intake", ship_to_path(order["id"]), MOVED, channel["key"])
        assert (status, body["error"]) == (409, "ship_to_closed")
        assert status_now in body["detail"]
    await asyncio.sleep(0.5)
    assert await changes.for_order(cancelled["id"]) == [] and await changes.for_order(shipped["id"]) == []
