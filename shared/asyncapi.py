"""Generates the AsyncAPI document of the bus from the contracts and the topology.

``python -m shared.asyncapi > docs/asyncapi.json`` (``make asyncapi``); a test fails when the
committed document differs from what the code generates.
"""

from __future__ import annotations

import json
from typing import Any

from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.specification import AsyncAPI

from shared.messaging.subscriptions import PUBLICATIONS, SERVICE_QUEUES, QueueSpec, vendor_queue
from shared.messaging.topology import EVENTS_EXCHANGE

DESCRIPTION = """Dropship Router's events. Every message is JSON in an envelope with `message_id` (also the
AMQP message_id; consumers deduplicate on it), `type`, `schema_version`, `occurred_at` (UTC),
`correlation_id` (the order id) and `causation_id`. All events go through the durable topic exchange
`dropship.events` with the event type as routing key (vendor-addressed events end in the vendor code).
Queues are quorum queues with a delivery limit; a message that keeps failing is dead-lettered to
`<queue>.parked`. A namespace prefix (DROPSHIP_NAMESPACE) may precede every exchange and queue name."""


DOCUMENTED_QUEUES: tuple[QueueSpec, ...] = (*SERVICE_QUEUES, vendor_queue("example"))
"""Every service queue, and one vendor queue standing for all of them."""


def _handler_for(spec: QueueSpec) -> Any:
    message_type = spec.message_type

    async def handler(event: Any) -> None:
        """Documentation only: the services' own handlers take the same contract types."""

    # Set after the fact: with postponed annotations a local type would not resolve by name.
    handler.__annotations__ = {"event": message_type, "return": None}
    handler.__doc__ = f"Consumed by {spec.consumer}."
    return handler


def build_document() -> dict[str, Any]:
    broker = RabbitBroker("amqp://guest:guest@localhost:5672/", description=DESCRIPTION)
    exchange = RabbitExchange(EVENTS_EXCHANGE, type=ExchangeType.TOPIC, durable=True)
    for spec in DOCUMENTED_QUEUES:
        queue = RabbitQueue(spec.name, queue_type=QueueType.QUORUM, declare=False)
        broker.subscriber(
            queue,
            title=spec.name,
            description=(
                f"Bound to {', '.join(spec.bindings)}. Consumed by {spec.consumer}."
                f" Failing messages are parked in {spec.name}.parked."
            ),
        )(_handler_for(spec))
    for publication in PUBLICATIONS:
        broker.publisher(
            exchange=exchange,
            routing_key=publication.routing_key,
            title=publication.event.event_type,
            description=f"{(publication.event.__doc__ or '').strip()} Routing key `{publication.routing_key}`.",
            schema=publication.event,
            persist=True,
        )
    document = AsyncAPI(broker, title="Dropship Router events", version="1.0.0").to_specification().to_jsonable()
    result: dict[str, Any] = json.loads(json.dumps(document, sort_keys=True))
    return result


def main() -> None:
    print(json.dumps(build_document(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
