"""Tracking's tables: orders and their lines, shipments."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from services.tracking.fulfilment import LineProgress, TrackedOrder
from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderReceivedData, OrderStatus
from shared.contracts.shipments import ShipmentReportedData
from shared.contracts.vendor_orders import VendorOrderAcknowledgedData
from shared.db import Connection, Queryable
from shared.messaging.outbox import insert_event_sql, insert_events_sql, outbox_row, outbox_rows

_LOCK_ORDER = "pg_advisory_xact_lock(hashtext('tracking.order:' || $1))"
"""The per-order lock, held to the end of the transaction; ``$1`` is the order id."""


async def lock_order(connection: Connection, order_id: str) -> None:
    """Serialise the order's arrival with its shipments' (see :func:`insert_order`)."""
    await connection.execute(f"SELECT {_LOCK_ORDER}", order_id)


async def insert_order(connection: Connection, order: OrderReceivedData) -> bool:
    """Store a new order and its lines in one statement; False when the order was known already.

    It first takes the order's lock, as :func:`lock_order` does for a shipment: a shipment reported
    while its order is being stored is then either seen by the order's transaction or sees the
    order, never neither (the statement that looks for waiting shipments must come after this one,
    with a snapshot that includes a shipment committed while this one waited).
    """
    inserted: bool = await connection.fetchval(
        f"WITH locked AS (SELECT {_LOCK_ORDER}"  # noqa: S608 - a constant of this module
        "), new_order AS ("
        "  INSERT INTO orders (order_id, channel, external_id, order_number) SELECT $1, $2, $3, $4 FROM locked"
        "  ON CONFLICT (order_id) DO NOTHING RETURNING order_id"
        "), new_lines AS ("
        "  INSERT INTO order_lines (order_id, line_id, sku, ordered)"
        "  SELECT n.order_id, l.line_id, l.sku, l.ordered"
        "  FROM new_order n, unnest($5::text[], $6::text[], $7::int[]) AS l(line_id, sku, ordered)"
        ") SELECT EXISTS (SELECT 1 FROM new_order)",
        order.order_id,
        order.channel,
        order.external_id,
        order.order_number,
        [line.line_id for line in order.lines],
        [line.sku for line in order.lines],
        [line.quantity for line in order.lines],
    )
    return inserted


INSERT_ORDERS_SQL = (
    "WITH locked AS MATERIALIZED ("
    # Each order's lock before its row, as in insert_order; taken in id order, so two batches sharing
    # orders cannot deadlock on them.
    "  SELECT id, pg_advisory_xact_lock(hashtext('tracking.order:' || id))"
    "  FROM (SELECT DISTINCT id FROM unnest($1::text[]) AS u(id) ORDER BY id) ids"
    "), new_orders AS ("
    "  INSERT INTO orders (order_id, channel, external_id, order_number)"
    "  SELECT o.order_id, o.channel, o.external_id, o.order_number"
    "  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY"
    "   AS o(order_id, channel, external_id, order_number, n) JOIN locked ON locked.id = o.order_id"
    "  ORDER BY o.n ON CONFLICT (order_id) DO NOTHING RETURNING order_id"
    "), new_lines AS ("
    "  INSERT INTO order_lines (order_id, line_id, sku, ordered)"
    "  SELECT l.order_id, l.line_id, l.sku, l.ordered"
    "  FROM unnest($5::text[], $6::text[], $7::text[], $8::int[]) AS l(order_id, line_id, sku, ordered)"
    "  JOIN new_orders n ON n.order_id = l.order_id"
    ") SELECT order_id FROM new_orders"
)


async def insert_orders(connection: Connection, orders: Sequence[OrderReceivedData]) -> set[str]:
    """What :func:`insert_order` does for each of ``orders``, in one statement; answers the ids of the
    orders that were new (an order twice in ``orders`` is stored once, as it first comes)."""
    first: dict[str, OrderReceivedData] = {}
    for order in orders:
        first.setdefault(order.order_id, order)
    kept = list(first.values())
    lines = [(order.order_id, line) for order in kept for line in order.lines]
    rows = await connection.fetch(
        INSERT_ORDERS_SQL,
        [order.order_id for order in kept],
        [order.channel for order in kept],
        [order.external_id for order in kept],
        [order.order_number for order in kept],
        [order_id for order_id, _ in lines],
        [line.line_id for _, line in lines],
        [line.sku for _, line in lines],
        [line.quantity for _, line in lines],
    )
    return {row["order_id"] for row in rows}


async def unapplied_shipments_of(
    connection: Connection, order_ids: Sequence[str]
) -> dict[str, list[ShipmentReportedData]]:
    """:func:`unapplied_shipments` of several orders in one statement, by order (orders with none are
    left out)."""
    rows = await connection.fetch(
        "SELECT order_id, payload FROM shipments WHERE order_id = ANY($1::text[]) AND NOT applied"
        " ORDER BY order_id, reported_at",
        list(order_ids),
    )
    waiting: dict[str, list[ShipmentReportedData]] = {}
    for row in rows:
        waiting.setdefault(row["order_id"], []).append(ShipmentReportedData.model_validate(row["payload"]))
    return waiting


async def get_order(connection: Queryable, order_id: str, *, lock: bool = False) -> TrackedOrder | None:
    sql = (
        "SELECT order_id, channel, external_id, order_number, status, cancelled, shipped_after_cancel"
        " FROM orders WHERE order_id = $1"
    )
    row = await connection.fetchrow(sql + (" FOR UPDATE" if lock else ""), order_id)
    return TrackedOrder(**dict(row)) if row else None


async def lines(connection: Queryable, order_id: str) -> list[LineProgress]:
    rows = await connection.fetch(
        "SELECT line_id, ordered, shipped FROM order_lines WHERE order_id = $1 ORDER BY line_id", order_id
    )
    return [LineProgress(r["line_id"], r["ordered"], r["shipped"]) for r in rows]


APPLY_SHIPMENT_SQL = (
    "WITH shipped AS ("  # noqa: S608 - composed of constant SQL only
    "  UPDATE order_lines l SET shipped = p.shipped"
    "  FROM unnest($2::text[], $3::int[]) AS p(line_id, shipped)"
    "  WHERE l.order_id = $1 AND l.line_id = p.line_id"
    "), applied AS ("
    "  UPDATE shipments SET applied = true WHERE shipment_id = $4"
    "), status AS ("
    "  UPDATE orders SET status = $5, cancelled = $6, shipped_after_cancel = $7, updated_at = now()"
    "  WHERE order_id = $1"
    f") {insert_event_sql(8)}"
)


async def record_progress(
    connection: Connection,
    order_id: str,
    progress: Sequence[LineProgress],
    shipment_id: str,
    status: OrderStatus,
    cancelled: bool,
    event: Envelope,
    *,
    shipped_after_cancel: bool = False,
) -> None:
    """Store the lines' shipped quantities, mark the shipment applied, set the order's status (and
    whether it shipped after its cancellation) and queue the event announcing it: one statement."""
    await connection.execute(
        APPLY_SHIPMENT_SQL,
        order_id,
        [line.line_id for line in progress],
        [line.shipped for line in progress],
        shipment_id,
        status,
        cancelled,
        shipped_after_cancel,
        *outbox_row(event),
    )


RECORD_CANCELLATION_SQL = (
    "WITH status AS ("  # noqa: S608 - composed of constant SQL only
    "  UPDATE orders SET status = $2, cancelled = true, updated_at = now() WHERE order_id = $1"
    f") {insert_events_sql(3)}"
)


async def record_cancellation(
    connection: Connection, order_id: str, status: OrderStatus | None, events: Sequence[Envelope]
) -> None:
    """Mark the order cancelled with its status now and queue the events announcing it: one statement."""
    await connection.execute(RECORD_CANCELLATION_SQL, order_id, status, *outbox_rows(events))


async def insert_shipment(connection: Connection, shipment: ShipmentReportedData) -> bool:
    inserted = await connection.fetchval(
        "INSERT INTO shipments (shipment_id, order_id, vendor, vendor_order_id, payload) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (shipment_id) DO NOTHING RETURNING true",
        shipment.shipment_id,
        shipment.order_id,
        shipment.vendor,
        shipment.vendor_order_id,
        shipment.model_dump(mode="json"),
    )
    return bool(inserted)


async def unapplied_shipments(connection: Connection, order_id: str) -> list[ShipmentReportedData]:
    rows = await connection.fetch(
        "SELECT payload FROM shipments WHERE order_id = $1 AND NOT applied ORDER BY reported_at", order_id
    )
    return [ShipmentReportedData.model_validate(r["payload"]) for r in rows]


RECORD_ACKNOWLEDGEMENT_SQL = (
    "INSERT INTO acknowledgements"
    " (vendor_order_id, line_id, order_id, vendor, vendor_order_number, entries, acknowledged_at)"
    " SELECT $1, line.line_id, $2, $3, $4, line.entries::jsonb, $5"
    # JSON text, not jsonb[]: a list per line would be read as another dimension of the array.
    " FROM unnest($6::text[], $7::text[]) AS line(line_id, entries)"
    " ON CONFLICT (vendor_order_id, line_id) DO UPDATE SET entries = excluded.entries,"
    "   vendor_order_number = excluded.vendor_order_number, acknowledged_at = excluded.acknowledged_at"
    " WHERE acknowledgements.acknowledged_at <= excluded.acknowledged_at"
)


async def record_acknowledgement(
    connection: Connection,
    acknowledgement: VendorOrderAcknowledgedData,
    acknowledged_at: datetime,
    entries: Mapping[str, list[dict[str, Any]]],
) -> None:
    """Each line's answer (``entries`` by line id), replacing an older answer for that line and
    never a newer one (deliveries can come out of order): one statement."""
    await connection.execute(
        RECORD_ACKNOWLEDGEMENT_SQL,
        acknowledgement.vendor_order_id,
        acknowledgement.order_id,
        acknowledgement.vendor,
        acknowledgement.vendor_order_number,
        acknowledged_at,
        list(entries),
        [json.dumps(line_entries) for line_entries in entries.values()],
    )


async def shipments_view(db: Queryable, order_id: str) -> dict[str, Any] | None:
    order = await get_order(db, order_id)
    rows = await db.fetch(
        "SELECT payload, reported_at, applied FROM shipments WHERE order_id = $1 ORDER BY reported_at", order_id
    )
    acknowledged = await db.fetch(
        "SELECT a.vendor, a.vendor_order_id, a.vendor_order_number, a.line_id, entry->>'sku' AS sku,"
        "  entry->>'status' AS status, (entry->>'quantity')::int AS quantity,"
        "  (entry->>'expected_ship_date')::date AS expected_ship_date, entry->>'reason' AS reason,"
        "  a.acknowledged_at"
        " FROM acknowledgements a CROSS JOIN LATERAL jsonb_array_elements(a.entries) WITH ORDINALITY AS e(entry, n)"
        " WHERE a.order_id = $1 ORDER BY a.vendor_order_id, a.line_id, e.n",
        order_id,
    )
    if order is None and not rows and not acknowledged:
        return None
    line_rows = await db.fetch(
        "SELECT line_id, sku, ordered, shipped FROM order_lines WHERE order_id = $1 ORDER BY line_id", order_id
    )
    return {
        "order_id": order_id,
        "status": order.status if order else None,
        "cancelled": order.cancelled if order else False,
        "shipped_after_cancel": order.shipped_after_cancel if order else False,
        "lines": [dict(r) for r in line_rows],
        "shipments": [{**r["payload"], "reported_at": r["reported_at"], "applied": r["applied"]} for r in rows],
        "acknowledgements": [dict(r) for r in acknowledged],
    }
