"""A vendor's answers, however they arrive (the vendor API, files picked up over SFTP, ops entering an
e-mail vendor's reply): an acknowledgement, a package shipped, a stock feed. Each is checked against
the vendor order the gateway keeps, recorded with its event in one transaction, and idempotent: the
same answer twice changes nothing (acknowledgements by content, packages by shipment id, feeds by id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.gateway.store import answers, deliveries
from services.gateway.use_cases.context import GatewayPorts
from services.gateway.vendor_answers import (
    AckLine,
    AnswerRefused,
    acknowledged_lines,
    content_digest,
    ordered_lines,
    shipment_id,
    shipped_lines,
    stable_id,
)
from shared.contracts.inventory import FeedMode, FeedSource, InventoryUpdated, InventoryUpdatedData, StockLevel
from shared.contracts.shipments import ShipmentLine, ShipmentReported, ShipmentReportedData
from shared.contracts.vendor_orders import AcknowledgedLine, VendorOrderAcknowledged, VendorOrderAcknowledgedData
from shared.db import Connection
from shared.messaging.outbox import enqueue_once


class UnknownVendorOrder(LookupError):
    pass


class ForeignVendorOrder(PermissionError):
    """The vendor order belongs to another vendor than the key's."""


@dataclass(frozen=True)
class Recorded:
    id: str
    new: bool
    """False: the same answer was recorded before; nothing changed."""


async def vendor_order_for(db: Connection, vendor: str | None, vendor_order_id: str) -> dict[str, Any]:
    """The vendor order, checked to belong to ``vendor`` (None: ops, who may act for any vendor)."""
    found = await deliveries.vendor_order(db, vendor_order_id)
    if found is None:
        raise UnknownVendorOrder(vendor_order_id)
    if vendor is not None and found["vendor"] != vendor:
        raise ForeignVendorOrder(vendor_order_id)
    return found


async def acknowledge(
    ports: GatewayPorts, vendor: str | None, vendor_order_id: str, answered: Sequence[tuple[str, AckLine]]
) -> Recorded:
    async with ports.pool.acquire() as db, db.transaction():
        found = await vendor_order_for(db, vendor, vendor_order_id)
        recorded = await acknowledge_in(db, found, answered)
    if recorded.new:
        ports.wake_relay()
    return recorded


async def acknowledge_in(db: Connection, found: dict[str, Any], answered: Sequence[tuple[str, AckLine]]) -> Recorded:
    """Inside the caller's transaction: the acknowledgement of ``found`` (a stored vendor order)."""
    lines = acknowledged_lines(ordered_lines(found["data"]), answered)
    digest = content_digest(lines)
    event = VendorOrderAcknowledged(
        message_id=stable_id("msg", "ack", found["vendor_order_id"], digest),
        correlation_id=found["order_id"],
        data=VendorOrderAcknowledgedData(
            vendor_order_id=found["vendor_order_id"],
            vendor_order_number=found["vendor_order_number"],
            vendor=found["vendor"],
            order_id=found["order_id"],
            lines=[AcknowledgedLine.model_validate(line) for line in lines],
        ),
    )
    new = await answers.record_acknowledgement(db, found["vendor_order_id"], digest, event)
    await deliveries.mark_acknowledged(db, found["vendor_order_id"])
    return Recorded(event.message_id, new)


@dataclass(frozen=True)
class ShipmentReport:
    carrier: str | None = None
    service: str | None = None
    tracking_number: str | None = None
    ship_date: date | None = None
    shipping_cost: Decimal | None = None
    lines: Sequence[tuple[str, str, int]] | None = None
    """(field, line_id, quantity); None: every unit not yet shipped."""


async def report_shipment(
    ports: GatewayPorts, vendor: str | None, vendor_order_id: str, report: ShipmentReport
) -> Recorded:
    async with ports.pool.acquire() as db, db.transaction():
        found = await vendor_order_for(db, vendor, vendor_order_id)
        recorded = await report_shipment_in(db, found, report)
    if recorded.new:
        ports.wake_relay()
    return recorded


async def report_shipment_in(db: Connection, found: dict[str, Any], report: ShipmentReport) -> Recorded:
    # The row lock serialises packages of one vendor order: two at once cannot both take what remains.
    await db.execute("SELECT 1 FROM vendor_orders WHERE vendor_order_id = $1 FOR UPDATE", found["vendor_order_id"])
    package_id = shipment_id(
        found["vendor"],
        found["vendor_order_id"],
        report.tracking_number,
        [report.carrier, report.ship_date, report.lines],
    )
    if await answers.known_shipments(db, [package_id]):
        return Recorded(package_id, False)
    shipped = await answers.shipped_quantities(db, found["vendor_order_id"])
    lines = ordered_lines(found["data"])
    if report.lines is not None and not report.lines and report.tracking_number:
        chosen: list[dict[str, Any]] = []  # a further box of lines already reported: tracking only
    else:
        chosen = shipped_lines(lines, shipped, report.lines)
    event = ShipmentReported(
        message_id=stable_id("msg", "shipment", package_id),
        correlation_id=found["order_id"],
        data=ShipmentReportedData(
            shipment_id=package_id,
            vendor=found["vendor"],
            vendor_order_id=found["vendor_order_id"],
            vendor_order_number=found["vendor_order_number"],
            order_id=found["order_id"],
            carrier=report.carrier,
            service=report.service,
            tracking_number=report.tracking_number,
            ship_date=report.ship_date,
            shipping_cost=report.shipping_cost,
            lines=[ShipmentLine.model_validate(line) for line in chosen],
        ),
    )
    new = await answers.record_shipment(
        db,
        package_id,
        found["vendor_order_id"],
        [{"line_id": line["line_id"], "quantity": line["quantity"]} for line in chosen],
        event,
    )
    await deliveries.mark_acknowledged(db, found["vendor_order_id"])
    return Recorded(package_id, new)


@dataclass(frozen=True)
class StockRow:
    field: str
    """``items.3`` or ``row 7``: how an error names it."""
    name: str
    quantity: int
    vendor_sku: bool = True
    """The name is the vendor's SKU (False: ours, given as ``sku``)."""


async def post_inventory(
    ports: GatewayPorts,
    vendor: str,
    mode: FeedMode,
    as_of: datetime | None,
    rows: Sequence[StockRow],
    source: FeedSource,
    *,
    feed_key: str | None = None,
) -> Recorded:
    """Publish a stock feed of ``vendor``; rows naming a product the vendor does not carry are refused
    (:class:`AnswerRefused` naming the first, after checking them all). ``feed_key``: what makes the
    feed the same feed again (a file's digest); by default its ``as_of`` and content."""
    catalog = await ports.splitter.vendor_catalog(vendor)
    unknown = [row for row in rows if not catalog.carries(row.name, vendor_sku=row.vendor_sku)]
    if unknown:
        names = ", ".join(f"{row.field} ({row.name})" for row in unknown[:20])
        raise AnswerRefused(unknown[0].field, f"not in the catalog for {vendor}: {names}")
    async with ports.pool.acquire() as db, db.transaction():
        recorded = await post_inventory_in(db, vendor, mode, as_of, rows, source, feed_key=feed_key)
    ports.wake_relay()
    return recorded


async def post_inventory_in(
    db: Connection,
    vendor: str,
    mode: FeedMode,
    as_of: datetime | None,
    rows: Sequence[StockRow],
    source: FeedSource,
    *,
    feed_key: str | None = None,
) -> Recorded:
    levels = [
        StockLevel(vendor_sku=row.name, stock=row.quantity)
        if row.vendor_sku
        else StockLevel(sku=row.name, stock=row.quantity)
        for row in rows
    ]
    key = feed_key or content_digest([mode, as_of, [(row.name, row.quantity) for row in rows]])
    feed_id = stable_id("feed", vendor, key)
    event = InventoryUpdated(
        message_id=stable_id("msg", "feed", feed_id),
        correlation_id=feed_id,  # a feed belongs to no order: it is what its messages share
        data=InventoryUpdatedData(
            vendor=vendor, feed_id=feed_id, mode=mode, as_of=as_of or datetime.now(UTC), source=source, levels=levels
        ),
    )
    # The splitter applies a feed id once; a repeat still in the outbox is not written again.
    new = await enqueue_once(db, event)
    return Recorded(feed_id, new)


__all__ = ["AnswerRefused", "ForeignVendorOrder", "Recorded", "UnknownVendorOrder"]
