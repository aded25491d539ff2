"""``POST /v1/orders/{id}/status`` on the real broker and database: the channel's status is kept and
``order.updated`` published once per change (the same status again publishes nothing), only for the
order's own channel (or the admin), and bad requests get the 4xx they deserve.

Intake runs alone (see test_intake_holds.py); a queue of the test's own, bound to ``order.updated``,
sees what intake publishes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest

from shared.messaging.topology import QueueSpec, declare_queue
from tests.conftest import SuiteEnvironment
from tests.integration.test_intake_holds import IntakeAlone, intake_alone
from tests.support import order_payload, unique, wait_until


@pytest.fixture(scope="module")
async def intake(test_env: SuiteEnvironment) -> AsyncIterator[IntakeAlone]:
    async with intake_alone(test_env) as running:
        yield running


@pytest.fixture(scope="module")
async def order_updates(intake: IntakeAlone) -> AsyncIterator[aio_pika.abc.AbstractQueue]:
    """A queue of the test's own that every ``order.updated`` of this run reaches."""
    spec = QueueSpec(unique("test.order-updates."), (), "tests", ("order.updated",))
    channel = await intake.runtime.amqp.channel()
    await declare_queue(channel, intake.runtime.topology, spec)
    queue = await channel.get_queue(intake.runtime.topology.queue(spec))
    try:
        yield queue
    finally:
        await queue.delete(if_unused=False, if_empty=False)
        await channel.close()


class Updates:
    """The ``order.updated`` messages seen on the test's queue, by order."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self._queue = queue
        self.seen: list[dict[str, Any]] = []

    async def drain(self) -> None:
        while (message := await self._queue.get(no_ack=True, fail=False)) is not None:
            self.seen.append({"routing_key": message.routing_key, **json.loads(message.body)})

    async def for_order(self, order_id: str) -> list[dict[str, Any]]:
        await self.drain()
        return [event for event in self.seen if event["correlation_id"] == order_id]


@pytest.fixture(scope="module")
def updates(order_updates: aio_pika.abc.AbstractQueue) -> Updates:
    return Updates(order_updates)


@pytest.fixture
async def channel(intake: IntakeAlone) -> dict[str, str]:
    code = unique("shop-")
    created = await intake.api.ok("PUT", "intake", f"/v1/channels/{code}", {"name": "S"})
    return {"code": code, "key": created["api_key"]}


async def place_order(intake: IntakeAlone, channel: dict[str, str], **extra: Any) -> dict[str, Any]:
    payload = order_payload(channel["code"], [("MUG", 1, "9.50")], discounts=[], **extra)
    order: dict[str, Any] = await intake.api.ok("POST", "intake", "/v1/orders", payload, channel["key"])
    return order


def status_path(order_id: str) -> str:
    return f"/v1/orders/{order_id}/status"


async def test_a_new_status_is_kept_and_order_updated_published_once_and_the_same_again_publishes_nothing(
    intake: IntakeAlone, channel: dict[str, str], updates: Updates
) -> None:
    order = await place_order(intake, channel, status="unpaid")

    status, changed = await intake.api.call(
        "POST", "intake", status_path(order["id"]), {"status": "paid"}, channel["key"]
    )

    assert status == 202
    assert (changed["id"], changed["channel_status"], changed["status"]) == (order["id"], "paid", "received")

    async def published() -> list[dict[str, Any]] | None:
        return await updates.for_order(order["id"]) or None

    [event] = await wait_until(published)
    assert event["routing_key"] == "order.updated" and event["type"] == "order.updated"
    assert event["data"] == {"order_id": order["id"], "status": "paid"}

    for _ in range(3):
        status, again = await intake.api.call(
            "POST", "intake", status_path(order["id"]), {"status": "paid"}, channel["key"]
        )
        assert (status, again["channel_status"]) == (200, "paid")
    await asyncio.sleep(1.0)  # time enough for a wrongly written event to be published
    assert len(await updates.for_order(order["id"])) == 1

    view = await intake.api.ok("GET", "intake", f"/v1/orders/{order['id']}", token=channel["key"])
    assert view["channel_status"] == "paid"
    assert [entry["cause"] for entry in view["status_history"]] == ["intake", "channel status paid"]
    rows = await intake.runtime.pool.fetch(
        "SELECT message_type, published_at FROM outbox WHERE correlation_id = $1 ORDER BY id", order["id"]
    )
    assert [row["message_type"] for row in rows] == ["order.received", "order.updated"]
    assert all(row["published_at"] is not None for row in rows)


async def test_each_change_is_published_in_order(
    intake: IntakeAlone, channel: dict[str, str], updates: Updates
) -> None:
    order = await place_order(intake, channel)
    for channel_status in ("on_hold", "unpaid", "paid"):
        await intake.api.ok("POST", "intake", status_path(order["id"]), {"status": channel_status}, channel["key"])

    async def all_three() -> list[dict[str, Any]] | None:
        seen = await updates.for_order(order["id"])
        return seen if len(seen) >= 3 else None

    assert [event["data"]["status"] for event in await wait_until(all_three)] == ["on_hold", "unpaid", "paid"]


async def test_the_admin_token_may_change_any_channels_order(intake: IntakeAlone, channel: dict[str, str]) -> None:
    order = await place_order(intake, channel)

    status, body = await intake.api.call("POST", "intake", status_path(order["id"]), {"status": "on_hold"})

    assert (status, body["channel_status"]) == (202, "on_hold")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"status": "shipped"}, (422, "invalid", "status")),
        ({"status": "PAID"}, (422, "invalid", "status")),
        ({"status": None}, (422, "invalid", "status")),
        ({"status": 1}, (422, "invalid", "status")),
        ({}, (422, "invalid", "status")),
        ({"state": "paid"}, (422, "invalid", "status")),
        (["paid"], (400, "malformed_json", None)),
        ("paid", (400, "malformed_json", None)),
    ],
)
async def test_a_body_other_than_a_known_status_is_refused_naming_the_field(
    intake: IntakeAlone, channel: dict[str, str], updates: Updates, body: Any, expected: tuple[int, str, str | None]
) -> None:
    order = await place_order(intake, channel)

    status, answer = await intake.api.call("POST", "intake", status_path(order["id"]), body, channel["key"])

    code, error, field = expected
    assert (status, answer["error"]) == (code, error)
    if field is not None:
        assert field in answer["fields"]
    assert (await intake.api.ok("GET", "intake", f"/v1/orders/{order['id']}"))["channel_status"] == "paid"
    assert await updates.for_order(order["id"]) == []


async def test_a_body_that_is_empty_or_not_json_is_400(intake: IntakeAlone, channel: dict[str, str]) -> None:
    order = await place_order(intake, channel)
    url = intake.api.urls["intake"] + status_path(order["id"])
    headers = {"Authorization": f"Bearer {channel['key']}", "Content-Type": "application/json"}

    for raw, error in (
        (b"", "empty_body"),
        (b"  ", "empty_body"),
        (b"{", "malformed_json"),
        (b"status=paid", "malformed_json"),
    ):
        async with intake.api.session.post(url, data=raw, headers=headers) as response:
            assert (response.status, (await response.json())["error"]) == (400, error), raw


async def test_who_may_change_which_order(intake: IntakeAlone, channel: dict[str, str]) -> None:
    order = await place_order(intake, channel)
    other = await intake.api.ok("PUT", "intake", f"/v1/channels/{unique('other-')}", {"name": "Other"})
    paid = {"status": "paid"}

    status, body = await intake.api.call("POST", "intake", status_path(order["id"]), paid, other["api_key"])
    assert (status, body["error"]) == (403, "forbidden")
    status, body = await intake.api.call("POST", "intake", status_path(order["id"]), paid, "dsk_wrong")
    assert (status, body["error"]) == (401, "unauthorized")
    status, body = await intake.api.call("POST", "intake", status_path("ord_missing"), paid, channel["key"])
    assert (status, body["error"]) == (404, "not_found")


async def test_a_cancelled_order_is_409_and_nothing_is_published(
    intake: IntakeAlone, channel: dict[str, str], updates: Updates
) -> None:
    order = await place_order(intake, channel)
    await intake.api.ok("POST", "intake", f"/v1/orders/{order['id']}/cancel", token=channel["key"])

    status, body = await intake.api.call("POST", "intake", status_path(order["id"]), {"status": "paid"}, channel["key"])

    assert (status, body["error"]) == (409, "order_cancelled")
    await asyncio.sleep(0.5)
    assert await updates.for_order(order["id"]) == []
