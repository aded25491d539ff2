"""The one subscription map: every queue, the event types it carries and who consumes it, and who
publishes each event.

Everything else derives from this module: the broker declarations (:mod:`shared.messaging.topology`),
each service's consumers (:meth:`shared.service.Runtime.consume` takes a handler per event type of the
spec and refuses a missing or extra one), the parking CLI's queue list and the AsyncAPI document
(:mod:`shared.asyncapi`). Pure: it imports contracts, never the broker client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Union

from pydantic import Field

from shared.contracts.envelope import Envelope
from shared.contracts.inventory import InventoryAvailable, InventoryUpdated
from shared.contracts.orders import (
    OrderCancelled,
    OrderHeld,
    OrderReceived,
    OrderReleased,
    OrderShipToChanged,
    OrderStatusChanged,
    OrderUpdated,
)
from shared.contracts.shipments import ShipmentReported
from shared.contracts.vendor_orders import (
    VendorOrderAcknowledged,
    VendorOrderCancelled,
    VendorOrderCreated,
    VendorOrderFailed,
    VendorOrderLinesCancelled,
    VendorOrderShipToChanged,
)

VENDOR_CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")

VENDOR_ADDRESSED_EVENTS: tuple[type[Envelope], ...] = (
    VendorOrderCreated,
    VendorOrderCancelled,
    VendorOrderLinesCancelled,
    VendorOrderShipToChanged,
)
"""Events whose routing key ends in the vendor code (``vendor_order.created.acme``)."""


@dataclass(frozen=True)
class QueueSpec:
    """A queue, the events it carries and its consumer.

    ``bindings`` are derived from ``events`` (one per event type) unless given: a vendor queue binds
    one pattern for all of its vendor's events, and tests bind queues to keys of their own.
    """

    name: str
    events: tuple[type[Envelope], ...]
    consumer: str
    bindings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.bindings:
            object.__setattr__(self, "bindings", tuple(event.event_type for event in self.events))

    @property
    def message_type(self) -> Any:
        """What a body on this queue is validated as: the one event type, or the union of them by ``type``."""
        if len(self.events) == 1:
            return self.events[0]
        return Annotated[Union[self.events], Field(discriminator="type")]  # noqa: UP007 - a runtime tuple of types


SPLITTER_ORDERS = QueueSpec(
    "splitter.orders", (OrderReceived, OrderCancelled, OrderUpdated, OrderShipToChanged), "splitter"
)
SPLITTER_INVENTORY = QueueSpec("splitter.inventory", (InventoryUpdated,), "splitter")
SPLITTER_VENDOR_EVENTS = QueueSpec(
    "splitter.vendor_events", (VendorOrderAcknowledged, VendorOrderFailed, ShipmentReported), "splitter"
)
TRACKING_SHIPMENTS = QueueSpec("tracking.shipments", (ShipmentReported,), "tracking")
TRACKING_ORDERS = QueueSpec("tracking.orders", (OrderReceived, OrderCancelled, VendorOrderAcknowledged), "tracking")
INTAKE_STATUS = QueueSpec("intake.status", (OrderStatusChanged, OrderHeld, OrderReleased), "intake")
CHANNELS_STATUS = QueueSpec("channels.status", (OrderStatusChanged, InventoryAvailable), "channels")
"""The channel connectors' queue: shipments and status changes of shop orders go back to their platform,
and ``inventory.available`` (coalesced: at most one message per SKU change round) becomes the shops' stock."""

SERVICE_QUEUES: tuple[QueueSpec, ...] = (
    SPLITTER_ORDERS,
    SPLITTER_INVENTORY,
    SPLITTER_VENDOR_EVENTS,
    TRACKING_SHIPMENTS,
    TRACKING_ORDERS,
    INTAKE_STATUS,
    CHANNELS_STATUS,
)
"""The queues of the services themselves; vendor queues come and go with the vendors."""

VENDOR_QUEUE_CONSUMER = "the vendor's adapter (the ShipStation adapter for ShipStation vendors; anyone's for others)"


def is_valid_vendor_code(code: str) -> bool:
    return bool(VENDOR_CODE_PATTERN.match(code))


def vendor_queue(vendor_code: str) -> QueueSpec:
    """``vendor.<code>``: every vendor-addressed event for that vendor. A public API."""
    if not is_valid_vendor_code(vendor_code):
        raise ValueError(f"invalid vendor code {vendor_code!r}")
    return QueueSpec(
        f"vendor.{vendor_code}", VENDOR_ADDRESSED_EVENTS, VENDOR_QUEUE_CONSUMER, (f"vendor_order.*.{vendor_code}",)
    )


def service_queues(service: str) -> tuple[QueueSpec, ...]:
    """The queues ``service`` consumes (vendor queues aside)."""
    return tuple(spec for spec in SERVICE_QUEUES if spec.consumer == service)


@dataclass(frozen=True)
class Publication:
    event: type[Envelope]
    publisher: str
    routing_key: str


PUBLICATIONS: tuple[Publication, ...] = (
    Publication(OrderReceived, "intake", "order.received"),
    Publication(OrderCancelled, "intake", "order.cancelled"),
    Publication(VendorOrderCreated, "splitter", "vendor_order.created.<vendor>"),
    Publication(VendorOrderCancelled, "splitter", "vendor_order.cancelled.<vendor>"),
    Publication(VendorOrderLinesCancelled, "splitter", "vendor_order.lines_cancelled.<vendor>"),
    Publication(OrderUpdated, "intake", "order.updated"),
    Publication(OrderShipToChanged, "intake", "order.ship_to_changed"),
    Publication(VendorOrderShipToChanged, "splitter", "vendor_order.ship_to_changed.<vendor>"),
    Publication(OrderHeld, "splitter", "order.held"),
    Publication(OrderReleased, "splitter", "order.released"),
    Publication(InventoryAvailable, "splitter", "inventory.available"),
    Publication(
        VendorOrderAcknowledged,
        "vendor adapters (the shipstation adapter on first export)",
        "vendor_order.acknowledged",
    ),
    Publication(VendorOrderFailed, "vendor adapters", "vendor_order.failed"),
    Publication(ShipmentReported, "shipstation adapter (and any vendor adapter)", "shipment.reported"),
    Publication(OrderStatusChanged, "tracking", "order.status_changed"),
    Publication(InventoryUpdated, "vendor feeds and adapters", "inventory.updated"),
)
