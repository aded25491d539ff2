"""A vendor adapter of one's own, runnable: what ``docs/writing-an-adapter.md`` explains.

It plays a vendor that ships every order at once: for each ``vendor_order.created`` on ``vendor.<code>``
it publishes ``vendor_order.acknowledged`` (every line accepted), then ``shipment.reported`` (one
package), and only then acks the delivery. A cancellation stops an order not shipped yet. Only aio-pika
and the contract models. ``python -m examples.vendor_adapter --vendor west`` (``DROPSHIP_AMQP_URL``,
``DROPSHIP_NAMESPACE`` as the services read them); Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import uuid
from datetime import UTC, datetime
from typing import Annotated

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage
from pydantic import Field, TypeAdapter, ValidationError

from shared.contracts.envelope import Envelope
from shared.contracts.inventory import InventoryUpdated, InventoryUpdatedData, StockLevel
from shared.contracts.shipments import ShipmentLine, ShipmentReported, ShipmentReportedData
from shared.contracts.vendor_orders import (
    AcknowledgedLine,
    VendorOrderAcknowledged,
    VendorOrderAcknowledgedData,
    VendorOrderCancelled,
    VendorOrderCreated,
    VendorOrderLinesCancelled,
    VendorOrderShipToChanged,
)

log = logging.getLogger("examples.vendor_adapter")

EVENTS_EXCHANGE = "dropship.events"
PREFETCH = 10  # deliveries unacknowledged at once; the broker waits for acks before sending more
IDS = uuid.UUID("6f1c2a52-5d0e-4d3b-9a57-0c8e0c1f7e21")  # namespace of the derived ids (uuid5)

VendorMessage = VendorOrderCreated | VendorOrderCancelled | VendorOrderLinesCancelled | VendorOrderShipToChanged
VENDOR_MESSAGES: TypeAdapter[VendorMessage] = TypeAdapter(Annotated[VendorMessage, Field(discriminator="type")])


def broker_name(namespace: str, base: str) -> str:
    """An exchange or queue name with the install's namespace prefix, when it has one."""
    return f"{namespace}.{base}" if namespace else base


def stable_id(prefix: str, *facts: str) -> str:
    """An id derived from what it names, so a re-publish after a crash carries the same id again."""
    return f"{prefix}_{uuid.uuid5(IDS, '/'.join(facts)).hex}"


def _names(created: VendorOrderCreated) -> dict[str, str]:  # what names the vendor order in every answer
    return created.data.model_dump(include={"vendor_order_id", "vendor_order_number", "vendor", "order_id"})


def acknowledgement(created: VendorOrderCreated) -> VendorOrderAcknowledged:
    order = created.data
    lines = [
        AcknowledgedLine(line_id=x.line_id, sku=x.sku, status="accepted", quantity=x.quantity) for x in order.lines
    ]
    return VendorOrderAcknowledged(
        message_id=stable_id("msg", order.vendor, order.vendor_order_id, "acknowledged"),
        correlation_id=order.order_id,
        causation_id=created.message_id,
        data=VendorOrderAcknowledgedData(**_names(created), lines=lines),
    )


def shipment(created: VendorOrderCreated, carrier: str, tracking_number: str) -> ShipmentReported:
    order = created.data
    return ShipmentReported(
        message_id=stable_id("msg", order.vendor, order.vendor_order_id, "shipped", tracking_number),
        correlation_id=order.order_id,
        causation_id=created.message_id,
        data=ShipmentReportedData(
            **_names(created),
            # One package, one id: the same package reported again is the same shipment.
            shipment_id=stable_id("shp", order.vendor, order.vendor_order_id, tracking_number),
            carrier=carrier,
            tracking_number=tracking_number,
            ship_date=datetime.now(UTC).date(),
            lines=[ShipmentLine(line_id=x.line_id, sku=x.sku, quantity=x.quantity) for x in order.lines],
        ),
    )


def stock_snapshot(vendor: str, counts: dict[str, int], as_of: datetime) -> InventoryUpdated:
    """Every SKU the vendor has (its own SKUs), counted at ``as_of``; a SKU left out has none."""
    feed_id = stable_id("feed", vendor, as_of.isoformat())
    levels = [StockLevel(vendor_sku=sku, stock=count) for sku, count in counts.items()]
    return InventoryUpdated(
        message_id=stable_id("msg", feed_id),
        correlation_id=feed_id,
        data=InventoryUpdatedData(vendor=vendor, feed_id=feed_id, mode="snapshot", as_of=as_of, levels=levels),
    )


async def publish(exchange: AbstractExchange, event: Envelope) -> None:
    """Persistent and mandatory, on a channel with publisher confirms: returns once a queue holds it."""
    body = event.model_dump_json().encode()
    message = aio_pika.Message(body, message_id=event.message_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
    await exchange.publish(message, routing_key=event.routing_key(), mandatory=True)


class Adapter:
    """Turns each message of ``vendor.<code>`` into the vendor's answers."""

    def __init__(self, exchange: AbstractExchange) -> None:
        self.exchange = exchange
        # In memory, to stay short: a real adapter stores each message_id with its effect, in one transaction.
        self.seen: set[str] = set()
        self.cancelled: set[str] = set()
        self.in_flight: set[asyncio.Task[None]] = set()

    async def handle(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.create_task(self.handle_one(message))
        self.in_flight.add(task)  # so a stop waits for the deliveries in hand
        task.add_done_callback(self.in_flight.discard)
        await task

    async def handle_one(self, message: AbstractIncomingMessage) -> None:
        try:
            event = VENDOR_MESSAGES.validate_json(message.body)
        except ValidationError as error:
            # It breaks the contract and never will pass: straight to vendor.<code>.parked.
            log.error("parking message %s: %s", message.message_id, error.errors()[:3])
            await message.nack(requeue=False)
            return
        if event.message_id in self.seen:
            await message.ack()  # a redelivery of what we already did
            return
        try:
            await self.apply(event)
        except Exception:
            # Transient (the broker refused the publish, the vendor's system is down): once more later.
            # The queue's delivery limit parks a message that keeps failing.
            log.exception("could not apply %s %s; it comes back", event.type, event.message_id)
            await asyncio.sleep(1)  # not at once: give the cause a moment to pass
            await message.nack(requeue=True)
            return
        self.seen.add(event.message_id)
        await message.ack()  # only after the effect: a crash before this line redelivers the message

    async def apply(self, event: VendorMessage) -> None:
        if isinstance(event, VendorOrderCancelled):
            self.cancelled.add(event.data.vendor_order_id)
            log.info("vendor order %s cancelled", event.data.vendor_order_number)
        elif isinstance(event, VendorOrderLinesCancelled | VendorOrderShipToChanged):  # all shipped: told the vendor
            log.info("vendor order %s: %s after it shipped", event.data.vendor_order_number, event.type)
        elif event.data.vendor_order_id in self.cancelled:
            log.info("vendor order %s was cancelled before it shipped", event.data.vendor_order_number)
        else:
            await publish(self.exchange, acknowledgement(event))
            tracking_number = stable_id("1Z", event.data.vendor_order_id)[3:19].upper()
            await publish(self.exchange, shipment(event, "UPS", tracking_number))
            log.info("vendor order %s shipped, tracking %s", event.data.vendor_order_number, tracking_number)


async def run(amqp_url: str, namespace: str, vendor: str, stop: asyncio.Event) -> None:
    """Consume ``vendor.<vendor>`` until ``stop`` is set, then let the deliveries in hand finish."""
    connection = await aio_pika.connect_robust(amqp_url, client_properties={"connection_name": f"adapter-{vendor}"})
    async with connection:
        # on_return_raises: a mandatory publish no queue takes raises instead of vanishing.
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        await channel.set_qos(prefetch_count=PREFETCH)
        # Both exist already: the splitter declares vendor.<code> when the vendor is created.
        exchange = await channel.get_exchange(broker_name(namespace, EVENTS_EXCHANGE))
        queue = await channel.get_queue(broker_name(namespace, f"vendor.{vendor}"))
        adapter = Adapter(exchange)
        consumer_tag = await queue.consume(adapter.handle)  # manual acks: no_ack is False
        await stop.wait()
        await queue.cancel(consumer_tag)
        await asyncio.gather(*adapter.in_flight)


async def _until_signalled(amqp_url: str, namespace: str, vendor: str) -> None:
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await run(amqp_url, namespace, vendor, stop)


def main() -> None:
    parser = argparse.ArgumentParser(description="An example vendor adapter: ships every order at once.")
    parser.add_argument("--vendor", required=True, help="The vendor code whose queue to consume.")
    parser.add_argument("--amqp-url", default=os.environ.get("DROPSHIP_AMQP_URL", "amqp://guest:guest@127.0.0.1/"))
    parser.add_argument("--namespace", default=os.environ.get("DROPSHIP_NAMESPACE", ""))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(_until_signalled(args.amqp_url, args.namespace, args.vendor))


if __name__ == "__main__":
    main()
