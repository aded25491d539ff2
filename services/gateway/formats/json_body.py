"""The body a webhook vendor receives: ``{"type": <event type>, "data": <the event's data>}``.

The data is the vendor order event's payload exactly as the bus carries it (money as decimal strings,
times in UTC), so a vendor reads the same document whether it takes our webhook or subscribes to its
``vendor.<code>`` queue. Compact UTF-8 JSON, the same bytes on every attempt: the body is what the
Standard Webhooks signature covers. Pure: standard library and pydantic only.
"""

from __future__ import annotations

import json

from services.gateway.ports import DeliveryEvent, OutboundDocument
from shared.contracts.envelope import Contract
from shared.contracts.vendor_orders import (
    VendorOrderCancelledData,
    VendorOrderCreatedData,
    VendorOrderLinesCancelledData,
    VendorOrderShipToChangedData,
)

MEDIA_TYPE = "application/json"


def webhook_body(event_type: DeliveryEvent, data: Contract) -> bytes:
    """The exact bytes posted (and signed)."""
    document = {"type": event_type, "data": data.model_dump(mode="json")}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _file_name(event_type: DeliveryEvent, number: str, sequence: int | None) -> str:
    if event_type == "vendor_order.created":
        return f"{number}.json"
    if event_type == "vendor_order.cancelled":
        return f"{number}-cancel.json"
    if event_type == "vendor_order.ship_to_changed":
        return f"{number}-ship-to.json" if sequence is None else f"{number}-ship-to-{sequence}.json"
    if sequence is None:
        return f"{number}-cancel-lines.json"
    if sequence < 1:
        raise ValueError("a withdrawal's sequence number is 1 or more")
    return f"{number}-cancel-{sequence}.json"


def _subject(event_type: DeliveryEvent, number: str) -> str:
    if event_type == "vendor_order.created":
        return f"Order {number}"
    if event_type == "vendor_order.cancelled":
        return f"Cancel order {number}"
    if event_type == "vendor_order.ship_to_changed":
        return f"Change to order {number}: new ship-to address"
    return f"Change to order {number}"


def _summary(event_type: DeliveryEvent, data: Contract, number: str) -> str:
    """One or two sentences a person reading a delivery log understands."""
    if isinstance(data, VendorOrderCreatedData):
        units = sum(line.quantity for line in data.lines)
        ship_to = data.ship_to
        return (
            f"Order {number}: {len(data.lines)} line(s), {units} unit(s), "
            f"to {ship_to.name}, {ship_to.city}, {ship_to.country}."
        )
    if isinstance(data, VendorOrderCancelledData):
        reason = f" Reason: {data.reason}." if data.reason else ""
        return f"Order {number} is cancelled: ship none of it.{reason}"
    if isinstance(data, VendorOrderLinesCancelledData):
        withdrawn = ", ".join(f"{line.line_id} x {line.quantity}" for line in data.lines)
        return f"Withdrawn from order {number}: {withdrawn}. Reason: {data.reason}."
    if isinstance(data, VendorOrderShipToChangedData):
        ship_to = data.ship_to
        return f"Order {number} ships to a new address: {ship_to.name}, {ship_to.city}, {ship_to.country}."
    return f"{_subject(event_type, number)}."


def webhook_document(
    delivery_id: str,
    event_type: DeliveryEvent,
    data: Contract,
    vendor_order_number: str,
    *,
    sequence: int | None = None,
) -> OutboundDocument:
    """A vendor order event as a webhook delivery. ``sequence`` numbers the withdrawals of one vendor
    order (``<number>-cancel-<sequence>.json``; ``<number>-cancel-lines.json`` without one), and its
    ship-to changes likewise (``<number>-ship-to-<sequence>.json``). The file name
    only names the delivery in logs: the body is the same either way."""
    return OutboundDocument(
        delivery_id=delivery_id,
        event_type=event_type,
        vendor_order_number=vendor_order_number,
        file_name=_file_name(event_type, vendor_order_number, sequence),
        content=webhook_body(event_type, data),
        media_type=MEDIA_TYPE,
        subject=_subject(event_type, vendor_order_number),
        text=_summary(event_type, data, vendor_order_number),
    )
