"""Channel webhooks: signed, kept in the database, retried until the channel answers 2xx, in order; no
transaction open while a channel answers, and deliverers side by side never send one delivery twice."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aiohttp import web
from prometheus_client import CollectorRegistry

from services.intake.upstream import UpstreamDeliverer
from shared.contracts.orders import OrderStatusChanged, OrderStatusChangedData, ShipmentSummary
from tests.conftest import RunningSystem
from tests.support import ChannelReceiver, order_payload, serve_on_loopback, unique, wait_until


async def _publish(system: RunningSystem, event: OrderStatusChanged) -> None:
    channel = await system.intake.amqp.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.get_exchange(system.intake.topology.exchange)
    await exchange.publish(
        aio_pika.Message(event.model_dump_json().encode(), message_id=event.message_id, delivery_mode=2),
        routing_key=event.routing_key(),
        mandatory=True,
    )
    await channel.close()


async def test_a_channel_that_is_down_gets_every_update_once_it_is_back_in_order(system: RunningSystem) -> None:
    receiver = await ChannelReceiver().start()
    try:
        code = unique("shop-")
        created = await system.api.ok(
            "PUT", "intake", f"/v1/channels/{code}", {"name": "S", "webhook_url": receiver.url}
        )
        receiver.secret = created["webhook_secret"]
        order = await system.api.ok(
            "POST",
            "intake",
            "/v1/orders",
            order_payload(code, [("SKU", 2, "1.00")], discounts=[]),
            token=created["api_key"],
        )
        receiver.fail_next = 3
        statuses = ["partially_shipped", "shipped"]
        events = [
            OrderStatusChanged(
                correlation_id=order["id"],
                data=OrderStatusChangedData(
                    order_id=order["id"],
                    channel=code,
                    external_id=order["external_id"],
                    order_number=order["order_number"],
                    status=status,
                    shipment=ShipmentSummary(shipment_id=f"shp_{i}", vendor="east", tracking_number=f"TRACK{i}"),
                ),
            )
            for i, status in enumerate(statuses)
        ]
        for event in events:
            await _publish(system, event)
        await _publish(system, events[0])  # a redelivered event queues no second webhook

        # The order's SKU is in no catalog, so the splitter may hold it meanwhile: the channel can hear
        # of that too (before or between), which is not what this test is about.
        def shipments() -> list[Any]:
            return [d for d in receiver.deliveries if d.json.get("shipment")]

        async def stored_deliveries() -> list[Any]:
            return list(
                await system.intake.pool.fetch(
                    "SELECT delivery_id, attempts, delivered_at FROM upstream_deliveries WHERE order_id = $1"
                    " ORDER BY seq",
                    order["id"],
                )
            )

        # The receiver has a webhook before intake records that it was delivered (the answer comes first),
        # so the wait is for both: the channel's deliveries and intake's record of each.
        async def both_delivered() -> bool:
            if len(shipments()) < 2:
                return False
            return all(row["delivered_at"] is not None for row in await stored_deliveries())

        await wait_until(both_delivered, timeout=30)
        assert [d.json["status"] for d in shipments()] == statuses
        assert all(receiver.verify(d) for d in receiver.deliveries)
        # The first webhook attempted failed three times and was retried with the same delivery id until
        # it got through; each webhook was delivered once.
        first_id = receiver.attempts[0].headers["webhook-id"]
        assert [a.headers["webhook-id"] for a in receiver.attempts[:4]] == [first_id] * 4
        delivered_ids = [d.headers["webhook-id"] for d in receiver.deliveries]
        assert len(set(delivered_ids)) == len(delivered_ids)
        stored = await stored_deliveries()
        assert {row["delivery_id"]: row["attempts"] for row in stored}[first_id] == 4
        assert sorted(row["attempts"] for row in stored) == [1] * (len(stored) - 1) + [4]
        assert all(row["delivered_at"] is not None for row in stored)
        view = await system.api.ok("GET", "intake", f"/v1/orders/{order['id']}")
        assert view["status"] == "shipped"
        metrics = await (await system.api.session.get(system.url("intake") + "/metrics")).text()
        assert "webhook_oldest_undelivered_age_seconds" in metrics
    finally:
        await receiver.stop()


@dataclass
class SlowReceiver:
    """A channel endpoint on loopback that answers 204 only once ``release`` is set (or after ``delay``)."""

    delay: float = 0.0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    waiting: int = 0
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append((request.headers["webhook-id"], json.loads(await request.read())))
        self.waiting += 1
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            else:
                await self.release.wait()
        finally:
            self.waiting -= 1
        return web.Response(status=204)

    async def start(self) -> SlowReceiver:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self.runner, self.port = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        self.release.set()
        if self.runner is not None:
            await self.runner.cleanup()


async def _channel_and_order(system: RunningSystem, webhook_url: str) -> tuple[str, dict[str, Any]]:
    code = unique("shop-")
    created = await system.api.ok("PUT", "intake", f"/v1/channels/{code}", {"name": "S", "webhook_url": webhook_url})
    order = await system.api.ok(
        "POST",
        "intake",
        "/v1/orders",
        order_payload(code, [("SKU", 1, "1.00")], discounts=[]),
        token=created["api_key"],
    )
    return code, order


async def test_no_transaction_is_open_and_no_row_locked_while_the_channel_answers(system: RunningSystem) -> None:
    receiver = await SlowReceiver().start()
    try:
        code, order = await _channel_and_order(system, receiver.url)
        event = OrderStatusChanged(
            correlation_id=order["id"],
            data=OrderStatusChangedData(
                order_id=order["id"], channel=code, external_id=order["external_id"],
                order_number=order["order_number"], status="shipped",
            ),
        )  # fmt: skip
        await _publish(system, event)

        async def held() -> bool:
            return receiver.waiting == 1

        await wait_until(held, timeout=20)
        pool = system.intake.pool
        idle_in_transaction = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%' AND query ILIKE '%upstream_deliveries%'"
        )
        assert idle_in_transaction == 0
        # Nobody holds the delivery's row: another connection locks it at once.
        async with pool.acquire() as connection, connection.transaction():
            locked = await connection.fetchval(
                "SELECT delivery_id FROM upstream_deliveries WHERE order_id = $1 FOR UPDATE NOWAIT", order["id"]
            )
        assert locked == receiver.received[0][0]
        receiver.release.set()

        async def delivered() -> bool:
            stamped = await pool.fetchval(
                "SELECT delivered_at IS NOT NULL FROM upstream_deliveries WHERE order_id = $1", order["id"]
            )
            return bool(stamped)

        await wait_until(delivered, timeout=20)
    finally:
        await receiver.stop()


async def test_deliverers_side_by_side_send_each_delivery_once_in_order_per_order(system: RunningSystem) -> None:
    receiver = await SlowReceiver(delay=0.02).start()
    # Two more deliverers beside the service's own: all three wake on the same NOTIFY.
    deliverers = [
        UpstreamDeliverer(
            system.intake.pool,
            system.intake.settings.database_url,
            CollectorRegistry(),
            system.intake.secrets,
            timeout_seconds=5.0,
            max_backoff_seconds=2.0,
            batch_size=8,
        )
        for _ in range(2)
    ]
    running = [asyncio.create_task(deliverer.run()) for deliverer in deliverers]
    try:
        # Each order of its own channel, all with the same URL: what matters is the order id.
        orders = [(await _channel_and_order(system, receiver.url))[1]["id"] for _ in range(4)]
        expected: dict[str, list[str]] = {}
        async with system.intake.pool.acquire() as connection:
            for step in range(10):
                rows = [(unique("whd_"), order_id, step) for order_id in orders]
                await connection.executemany(
                    "INSERT INTO upstream_deliveries (delivery_id, order_id, channel, event_type, body)"
                    " SELECT $1, $2, o.channel, 'order.status_changed', jsonb_build_object('order_id', $2::text,"
                    " 'step', $3::int) FROM orders o WHERE o.id = $2",
                    rows,
                )
                for delivery_id, order_id, _ in rows:
                    expected.setdefault(order_id, []).append(delivery_id)
        total = sum(len(ids) for ids in expected.values())

        async def all_delivered() -> bool:
            undelivered: int = await system.intake.pool.fetchval(
                "SELECT count(*) FROM upstream_deliveries WHERE order_id = ANY($1::text[]) AND delivered_at IS NULL",
                orders,
            )
            return undelivered == 0

        await wait_until(all_delivered, timeout=60)
        # The splitter holds these orders (their SKU has no source) and the channel is told of that as
        # well: only the deliveries this test queued are counted.
        ours = {delivery_id for delivery_ids in expected.values() for delivery_id in delivery_ids}
        sent = Counter(delivery_id for delivery_id, _ in receiver.received if delivery_id in ours)
        assert sum(sent.values()) == total and set(sent.values()) == {1}, sent.most_common(3)
        for order_id, delivery_ids in expected.items():
            in_arrival_order = [d for d, body in receiver.received if d in ours and body["order_id"] == order_id]
            assert in_arrival_order == delivery_ids
        assert sum(d.sent.labels("delivered")._value.get() for d in deliverers) > 0, "the extra deliverers idled"
    finally:
        for deliverer in deliverers:
            await deliverer.stop()
        await asyncio.gather(*running)
        await receiver.stop()
