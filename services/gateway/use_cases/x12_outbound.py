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
    render_ship_to_change,
)
from shared.contracts.orders import Address
from shared.contracts.vendor_orders import VendorOrderCreatedData

MEDIA_TYPE = "application/edi-x12"


class UnsentChange(ValueError):
    """A change the partner is not sent as EDI: lines withdrawn from a vendor order it holds (told by a
    cancellation of the rest is not what happened, and 860 line changes are not written), or a new
    ship-to for a partner that takes no 860s (``cancel_as`` 850). The delivery fails: ops tell the partner."""


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
    payload: dict[str, object] | None = None,
) -> OutboundDocument:
    """The interchange this delivery sends: the one stored for it, or a new one with fresh numbers.
    ``payload`` is the delivery's event data (a ship-to change's new address).

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
        if event == "vendor_order.ship_to_changed" and partner.cancel_as != "860":
            raise UnsentChange(
                "the partner takes no 860 change orders (cancel_as 850), so a new ship-to is not sent as EDI:"
                " tell the partner by hand"
            )
        ship_to = None
        if event == "vendor_order.ship_to_changed":
            if payload is None:
                raise ValueError("a ship-to change without its stored address")
            ship_to = Address.model_validate(payload["ship_to"])
        try:
            stored = await _reserve_and_store(
                ports, connection, partner, delivery_id, event, vendor_order, ship_to=ship_to
            )
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
    *,
    ship_to: Address | None = None,
) -> x12_store.StoredInterchange:
    now = datetime.now(UTC)
    async with ports.pool.acquire() as db, db.transaction():
        reserved = await x12_store.reserve_numbers(db, connection.vendor)
        numbers = ControlNumbers(reserved.interchange, reserved.group, reserved.transaction)
        # PoNumberTooLong rolls the numbers back
        if ship_to is not None:
            content = render_ship_to_change(vendor_order, ship_to, partner, numbers, now)
        elif event == "vendor_order.created":
            content = render_purchase_order(vendor_order, partner, numbers, now)
        else:
            content = render_cancellation(vendor_order, partner, numbers, now)
        changes_as_860 = ship_to is not None or (event == "vendor_order.cancelled" and partner.cancel_as == "860")
        kind = "860" if changes_as_860 else "850"
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
    action = {"vendor_order.created": "Order", "vendor_order.ship_to_changed": "New ship-to of order"}.get(
        event, "Cancellation of order"
    )
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
