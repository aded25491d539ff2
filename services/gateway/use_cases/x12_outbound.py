"""What an EDI X12 partner is sent: each vendor order event as one interchange, its control numbers
reserved and its bytes stored in one transaction before the file is uploaded.

So a retry (after a timeout, a crash, a restart) sends the same bytes under the same ``<ISA13>.x12``,
which the partner recognises as a repeat; a number reserved for a document that is never sent is a
gap, never handed out again. A vendor order number longer than BEG03 allows (22) is refused once,
visibly (``vendor_order.failed`` with reason ``po_number_too_long``), never cut.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from services.gateway.connections import Connection
from services.gateway.ports import DeliveryEvent, OutboundDocument
from services.gateway.store import x12 as x12_store
from services.gateway.use_cases.context import GatewayPorts
from services.gateway.x12 import (
    ControlNumbers,
    PartnerSettings,
    render_cancellation,
    render_purchase_order,
)
from shared.contracts.vendor_orders import VendorOrderCreatedData

MEDIA_TYPE = "application/edi-x12"


class UnsentChange(ValueError):
    """Lines withdrawn from a vendor order an X12 partner holds: told by a cancellation of the rest is
    not what happened, and 860 line changes are not written: ops tell the partner."""


def interchange_file_name(control_number: int) -> str:
    return f"{control_number:09d}.x12"


def partner_of(connection: Connection) -> PartnerSettings:
    return PartnerSettings.model_validate(connection.x12 or {})


async def x12_document(
    ports: GatewayPorts,
    connection: Connection,
    delivery_id: str,
    event: DeliveryEvent,
    order: dict[str, object] | None,
) -> OutboundDocument:
    """The interchange this delivery sends: the one stored for it, or a new one with fresh numbers.

    Raises ``PoNumberTooLong`` (nothing reserved), :class:`UnsentChange`, ``ValueError`` for settings
    the partner's connection does not validate with."""
    if order is None:
        raise ValueError("the vendor order this delivery belongs to is not stored")
    vendor_order = VendorOrderCreatedData.model_validate(order)
    async with ports.pool.acquire() as db:
        stored = await x12_store.outbound_of_delivery(db, delivery_id)
    if stored is None:
        if event == "vendor_order.lines_cancelled":
            raise UnsentChange(
                "lines withdrawn from an EDI order are not sent as an 860 change: tell the partner by hand"
            )
        partner = partner_of(connection)
        try:
            stored = await _reserve_and_store(ports, connection, partner, delivery_id, event, vendor_order)
        except asyncpg.UniqueViolationError:
            # Another deliverer stored this delivery's interchange first (its lease ran out while this
            # one waited): send that one, under its number; the number reserved here is a gap.
            async with ports.pool.acquire() as db:
                stored = await x12_store.outbound_of_delivery(db, delivery_id)
            assert stored is not None
    return _document(delivery_id, event, vendor_order, stored)


async def _reserve_and_store(
    ports: GatewayPorts,
    connection: Connection,
    partner: PartnerSettings,
    delivery_id: str,
    event: DeliveryEvent,
    vendor_order: VendorOrderCreatedData,
) -> x12_store.StoredInterchange:
    now = datetime.now(UTC)
    async with ports.pool.acquire() as db, db.transaction():
        reserved = await x12_store.reserve_numbers(db, connection.vendor)
        numbers = ControlNumbers(reserved.interchange, reserved.group, reserved.transaction)
        render = render_purchase_order if event == "vendor_order.created" else render_cancellation
        content = render(vendor_order, partner, numbers, now)  # PoNumberTooLong rolls the numbers back
        kind = "860" if event == "vendor_order.cancelled" and partner.cancel_as == "860" else "850"
        return await x12_store.record_outbound(
            db,
            vendor=connection.vendor,
            kind=kind,
            sender_id=partner.sender_id,
            numbers=reserved,
            file_name=interchange_file_name(reserved.interchange),
            folder=connection.sftp.outbound_dir if connection.sftp else None,
            content=content,
            delivery_id=delivery_id,
            vendor_order_id=vendor_order.vendor_order_id,
            po_number=vendor_order.vendor_order_number,
            ack_requested=partner.acknowledgement_requested,
            ack_within_hours=partner.ack_997_within_hours,
            summary={"event": event},
        )


def _document(
    delivery_id: str, event: DeliveryEvent, vendor_order: VendorOrderCreatedData, stored: x12_store.StoredInterchange
) -> OutboundDocument:
    action = "Order" if event == "vendor_order.created" else "Cancellation of order"
    return OutboundDocument(
        delivery_id=delivery_id,
        event_type=event,
        vendor_order_number=vendor_order.vendor_order_number,
        file_name=stored.file_name,
        content=stored.content,
        media_type=MEDIA_TYPE,
        subject=f"{action} {vendor_order.vendor_order_number} (X12 {stored.control_number:09d})",
        text=f"{action} {vendor_order.vendor_order_number} as X12 interchange {stored.control_number:09d}.",
    )


async def x12_sent(ports: GatewayPorts, delivery_id: str) -> None:
    async with ports.pool.acquire() as db:
        stored = await x12_store.outbound_of_delivery(db, delivery_id)
        if stored is not None:
            await x12_store.mark_sent(db, [stored.id])
