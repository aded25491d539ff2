"""Which service publishes each event, and which queue carries it to whom: the map the AsyncAPI
document is generated from (``python -m shared.asyncapi``)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts.envelope import Envelope
from shared.contracts.inventory import InventoryUpdated
from shared.contracts.orders import OrderCancelled, OrderReceived, OrderStatusChanged
from shared.contracts.shipments import ShipmentReported
from shared.contracts.vendor_orders import VendorOrderCancelled, VendorOrderCreated
from shared.messaging.topology import (
    INTAKE_STATUS,
    SPLITTER_INVENTORY,
    SPLITTER_ORDERS,
    TRACKING_ORDERS,
    TRACKING_SHIPMENTS,
    QueueSpec,
    vendor_queue,
)


@dataclass(frozen=True)
class Publication:
    event: type[Envelope]
    publisher: str
    routing_key: str


@dataclass(frozen=True)
class Subscription:
    queue: QueueSpec
    events: tuple[type[Envelope], ...]
    consumer: str


PUBLICATIONS: tuple[Publication, ...] = (
    Publication(OrderReceived, "intake", "order.received"),
    Publication(OrderCancelled, "intake", "order.cancelled"),
    Publication(VendorOrderCreated, "splitter", "vendor_order.created.<vendor>"),
    Publication(VendorOrderCancelled, "splitter", "vendor_order.cancelled.<vendor>"),
    Publication(ShipmentReported, "shipstation adapter (and any vendor adapter)", "shipment.reported"),
    Publication(OrderStatusChanged, "tracking", "order.status_changed"),
    Publication(InventoryUpdated, "vendor feeds and adapters", "inventory.updated"),
)

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(SPLITTER_ORDERS, (OrderReceived, OrderCancelled), "splitter"),
    Subscription(SPLITTER_INVENTORY, (InventoryUpdated,), "splitter"),
    Subscription(TRACKING_ORDERS, (OrderReceived, OrderCancelled), "tracking"),
    Subscription(TRACKING_SHIPMENTS, (ShipmentReported,), "tracking"),
    Subscription(INTAKE_STATUS, (OrderStatusChanged,), "intake"),
    Subscription(
        vendor_queue("example"),
        (VendorOrderCreated, VendorOrderCancelled),
        "the vendor's adapter (the ShipStation adapter for ShipStation vendors; anyone's for others)",
    ),
)
