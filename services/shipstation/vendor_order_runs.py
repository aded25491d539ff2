"""A run of new vendor orders stored in one statement: what
:func:`services.shipstation.repository.insert_vendor_order` does for each, for an inbox batch."""

from __future__ import annotations

from collections.abc import Sequence

from shared.contracts.vendor_orders import VendorOrderCreatedData
from shared.db import Connection

INSERT_VENDOR_ORDERS_SQL = (
    "INSERT INTO vendor_orders (id, vendor, order_id, number, state, payload)"
    " SELECT v.id, v.vendor, v.order_id, v.number, v.state, v.payload::jsonb"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY"
    "  AS v(id, vendor, order_id, number, state, payload, n)"
    " ORDER BY v.n ON CONFLICT (id) DO NOTHING"
)


async def insert_vendor_orders(connection: Connection, orders: Sequence[VendorOrderCreatedData]) -> None:
    """What :func:`insert_vendor_order` does for each of ``orders``, in one statement (a vendor order
    already stored, or twice in ``orders``, is kept as first stored)."""
    await connection.execute(
        INSERT_VENDOR_ORDERS_SQL,
        [order.vendor_order_id for order in orders],
        [order.vendor for order in orders],
        [order.order_id for order in orders],
        [order.vendor_order_number for order in orders],
        [order.status for order in orders],
        [order.model_dump_json() for order in orders],
    )
