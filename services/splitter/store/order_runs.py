"""A run of new orders stored in one statement: what :func:`services.splitter.store.orders.save_new`
does for each, for the orders of an inbox batch (one round trip for the batch, not one per order)."""

from __future__ import annotations

from collections.abc import Sequence

from services.splitter.store.orders import NewOrder, history_columns, hold_text, save_new, vendor_order_columns_of
from shared.db import Queryable, dumps
from shared.messaging.outbox import insert_events_sql, outbox_rows

SAVE_NEW_ORDERS_SQL = (  # composed of constant SQL only
    "WITH routed AS ("  # noqa: S608
    " INSERT INTO routed_orders"
    "  (order_id, order_number, state, hold_reason, payload, holds, fingerprint, next_sequence)"
    " SELECT o.id, o.number, o.state, o.hold_reason, o.payload::jsonb, o.holds::jsonb, o.fingerprint, o.next"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[])"
    "  WITH ORDINALITY AS o(id, number, state, hold_reason, payload, holds, fingerprint, next, n) ORDER BY o.n"
    "), decided AS ("
    " INSERT INTO routing_decisions"
    "  (order_id, kind, reason, line_id, sku, quantity, vendor, vendor_order_id, hold_code)"
    " SELECT h.order_id, h.kind, h.reason, h.line_id, h.sku, h.quantity, h.vendor, h.vendor_order_id, h.hold_code"
    " FROM unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::int[], $15::text[],"
    "  $16::text[], $17::text[]) WITH ORDINALITY"
    "  AS h(order_id, kind, reason, line_id, sku, quantity, vendor, vendor_order_id, hold_code, n) ORDER BY h.n"
    "), split AS ("
    " INSERT INTO vendor_orders (id, order_id, vendor, number, payload, ack_due_at)"
    " SELECT v.id, v.order_id, v.vendor, v.number, v.payload::jsonb, v.due"
    " FROM unnest($18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::timestamptz[])"
    "  AS v(id, order_id, vendor, number, payload, due)"
    "), split_lines AS ("
    " INSERT INTO vendor_order_lines (vendor_order_id, line_id, sku, vendor, quantity)"
    " SELECT * FROM unnest($24::text[], $25::text[], $26::text[], $27::text[], $28::int[])"
    "), changed AS ("
    " INSERT INTO availability_changes (sku) SELECT DISTINCT unnest($29::text[])"
    "), announced AS (" + insert_events_sql(30) + ")"
    " SELECT 1"
)


async def save_new_many(db: Queryable, orders: Sequence[NewOrder]) -> None:
    """:func:`save_new` for the orders of a run, in one statement (what a batch of new orders costs the
    database is then one round trip, not one per order)."""
    if len(orders) == 1:
        await save_new(db, orders[0])
        return
    routed = [new.routed for new in orders]
    history = [(new.routed.order_id, entry) for new in orders for entry in new.history]
    owned = [(new.routed.order_id, vendor_order) for new in orders for vendor_order in new.vendor_orders]
    vendor_orders = [vendor_order for _, vendor_order in owned]
    vendor_order_columns = vendor_order_columns_of(vendor_orders)
    changed = sorted({line.sku for v in vendor_orders for line in v.data.lines})
    await db.execute(
        SAVE_NEW_ORDERS_SQL,
        [order.order_id for order in routed],
        [order.order.order_number if order.order else None for order in routed],
        [order.state for order in routed],
        [hold_text(order.holds) for order in routed],
        [dumps(order.order.model_dump(mode="json")) if order.order else None for order in routed],
        [dumps(order.holds) for order in routed],
        [new.fingerprint for new in orders],
        [order.next_sequence for order in routed],
        [order_id for order_id, _ in history],
        *history_columns([entry for _, entry in history]),
        vendor_order_columns[0],
        [order_id for order_id, _ in owned],
        *vendor_order_columns[1:],
        changed,
        *outbox_rows([event for new in orders for event in new.events]),
    )
