"""Channel webhooks: signed, kept in the database, retried until the channel answers 2xx, in order."""

from __future__ import annotations

import aio_pika

from shared.contracts.orders import OrderStatusChanged, OrderStatusChangedData, ShipmentSummary
from tests.conftest import RunningSystem
from tests.support import ChannelReceiver, order_payload, unique, wait_until


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

        async def both_delivered() -> bool:
            return len(receiver.deliveries) >= 2

        await wait_until(both_delivered, timeout=30)
        assert [d.json["status"] for d in receiver.deliveries] == statuses
        assert all(receiver.verify(d) for d in receiver.deliveries)
        # Each failed attempt was retried with the same delivery id until it got through.
        first_id = receiver.deliveries[0].headers["webhook-id"]
        assert [a.headers["webhook-id"] for a in receiver.attempts[:4]] == [first_id] * 4
        assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == 2
        stored = await system.intake.pool.fetch(
            "SELECT attempts, delivered_at FROM upstream_deliveries WHERE order_id = $1 ORDER BY seq", order["id"]
        )
        assert [row["attempts"] for row in stored] == [4, 1]
        assert all(row["delivered_at"] is not None for row in stored)
        view = await system.api.ok("GET", "intake", f"/v1/orders/{order['id']}")
        assert view["status"] == "shipped"
        metrics = await (await system.api.session.get(system.url("intake") + "/metrics")).text()
        assert "webhook_oldest_undelivered_age_seconds" in metrics
    finally:
        await receiver.stop()
