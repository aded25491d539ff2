"""A run of new vendor orders stored in one statement: what
:func:`services.shipstation.repository.insert_vendor_order` does for each, for an inbox batch. The
statement joins the inbox's insert when the batch holds nothing else (see
:class:`shared.messaging.inbox.OneStatementRun`), so such a batch costs one round trip."""

from __future__ import annotations

from collections.abc import Sequence

from shared.contracts.vendor_orders import VendorOrderCreated
from shared.messaging.inbox import OneStatementRun

INSERT_VENDOR_ORDERS_SQL = (
    "INSERT INTO vendor_orders (id, vendor, order_id, number, state, payload)"
    " SELECT v.id, v.vendor, v.order_id, v.number, v.state, v.payload::jsonb"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])"
    "  WITH ORDINALITY AS v(message_id, id, vendor, order_id, number, state, payload, n)"
    " JOIN fresh ON fresh.message_id = v.message_id"
    " ORDER BY v.n ON CONFLICT (id) DO NOTHING"
)


def _columns(events: Sequence[VendorOrderCreated]) -> tuple[list[str], ...]:
    orders = [event.data for event in events]
    return (
        [event.message_id for event in events],
        [order.vendor_order_id for order in orders],
        [order.vendor for order in orders],
        [order.order_id for order in orders],
        [order.vendor_order_number for order in orders],
        [order.status for order in orders],
        [order.model_dump_json() for order in orders],
    )


STORE_VENDOR_ORDERS = OneStatementRun(INSERT_VENDOR_ORDERS_SQL, _columns)
"""``vendor_order.created`` for a run of them (a vendor order already stored, or twice in the run, is
kept as first stored)."""
