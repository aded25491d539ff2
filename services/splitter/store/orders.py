"""Orders the splitter has seen (routed, held or cancelled, with their holds and the vendors tried per
line), the history of every decision, and vendor orders with their lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from services.splitter.routing.holds import DuplicateMatch
from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderReceivedData
from shared.contracts.vendor_orders import VendorOrderCreatedData
from shared.db import Queryable, dumps
from shared.messaging.outbox import insert_events_sql, outbox_rows

RoutedState = Literal["routed", "held", "cancelled"]


@dataclass
class RoutedOrder:
    """An order as the splitter keeps it. ``holds``: the current reasons as stored ({code, detail,
    line_id, since}); ``tried``: per line, the vendors that had it and gave it back."""

    order_id: str
    state: RoutedState
    order: OrderReceivedData | None
    holds: list[dict[str, Any]] = field(default_factory=list)
    tried: dict[str, list[str]] = field(default_factory=dict)
    next_sequence: int = 1


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an order's routing history: a decision, a hold, a reroute, a release…"""

    kind: str
    reason: str
    line_id: str | None = None
    sku: str | None = None
    quantity: int | None = None
    vendor: str | None = None
    vendor_order_id: str | None = None
    hold_code: str | None = None


@dataclass(frozen=True)
class NewVendorOrder:
    data: VendorOrderCreatedData
    ack_due_at: datetime | None


async def load(db: Queryable, order_id: str, *, lock: bool = False) -> RoutedOrder | None:
    columns = "order_id, state, payload, holds, tried, next_sequence"
    sql = f"SELECT {columns} FROM routed_orders WHERE order_id = $1" + (" FOR UPDATE" if lock else "")  # noqa: S608
    row = await db.fetchrow(sql, order_id)
    if row is None:
        return None
    order = OrderReceivedData.model_validate(row["payload"]) if row["payload"] is not None else None
    return RoutedOrder(row["order_id"], row["state"], order, row["holds"], row["tried"], row["next_sequence"])


def history_columns(entries: Sequence[HistoryEntry]) -> list[list[Any]]:
    return [
        [e.kind for e in entries],
        [e.reason for e in entries],
        [e.line_id for e in entries],
        [e.sku for e in entries],
        [e.quantity for e in entries],
        [e.vendor for e in entries],
        [e.vendor_order_id for e in entries],
        [e.hold_code for e in entries],
    ]


def vendor_order_columns_of(vendor_orders: Sequence[NewVendorOrder]) -> list[list[Any]]:
    lines = [(v.data, line) for v in vendor_orders for line in v.data.lines]
    return [
        [v.data.vendor_order_id for v in vendor_orders],
        [v.data.vendor for v in vendor_orders],
        [v.data.vendor_order_number for v in vendor_orders],
        [dumps(v.data.model_dump(mode="json")) for v in vendor_orders],
        [v.ack_due_at for v in vendor_orders],
        [vo.vendor_order_id for vo, _ in lines],
        [line.line_id for _, line in lines],
        [line.sku for _, line in lines],
        [vo.vendor for vo, _ in lines],
        [line.quantity for _, line in lines],
    ]


# The effects of a routing round, composed into one statement: history ($2-$9), vendor orders and their
# lines ($10-$19), SKUs whose availability changed ($20); the order's own columns and the outbox rows follow.
_EFFECTS = """
decided AS (
    INSERT INTO routing_decisions
        (order_id, kind, reason, line_id, sku, quantity, vendor, vendor_order_id, hold_code)
    SELECT $1, h.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[],
        $9::text[]) AS h
), split AS (
    INSERT INTO vendor_orders (id, order_id, vendor, number, payload, ack_due_at)
    SELECT v.id, $1, v.vendor, v.number, v.payload::jsonb, v.due
    FROM unnest($10::text[], $11::text[], $12::text[], $13::text[], $14::timestamptz[])
        AS v(id, vendor, number, payload, due)
), split_lines AS (
    INSERT INTO vendor_order_lines (vendor_order_id, line_id, sku, vendor, quantity)
    SELECT * FROM unnest($15::text[], $16::text[], $17::text[], $18::text[], $19::int[])
), changed AS (
    -- Appended to a log, no key: orders of a popular SKU in concurrent transactions never wait on each other.
    INSERT INTO availability_changes (sku) SELECT DISTINCT unnest($20::text[])
), announced AS ({events})
SELECT 1
"""

SAVE_NEW_ORDER_SQL = (  # composed of constant SQL only
    "WITH routed AS ("  # noqa: S608
    " INSERT INTO routed_orders"
    "  (order_id, order_number, state, hold_reason, payload, holds, fingerprint, next_sequence)"
    " VALUES ($1, $21, $22, $23, $24, $25, $26, $27)"
    "), " + _EFFECTS.format(events=insert_events_sql(28))
)

SAVE_ORDER_SQL = (  # composed of constant SQL only
    "WITH routed AS ("  # noqa: S608
    " UPDATE routed_orders SET state = $21, hold_reason = $22, holds = $23, tried = $24, next_sequence = $25,"
    " payload = coalesce($26, payload), updated_at = now() WHERE order_id = $1"
    "), " + _EFFECTS.format(events=insert_events_sql(27))
)


def hold_text(holds: Sequence[dict[str, Any]]) -> str | None:
    return "; ".join(h["detail"] for h in holds) or None


def _effects(
    history: Sequence[HistoryEntry], vendor_orders: Sequence[NewVendorOrder], changed_skus: Sequence[str]
) -> list[Any]:
    return [*history_columns(history), *vendor_order_columns_of(vendor_orders), sorted(set(changed_skus))]


@dataclass(frozen=True)
class NewOrder:
    """A newly seen order as routing left it, ready to store with all it caused."""

    routed: RoutedOrder
    fingerprint: str | None
    history: Sequence[HistoryEntry]
    vendor_orders: Sequence[NewVendorOrder]
    events: Sequence[Envelope]


async def save_new(db: Queryable, new: NewOrder) -> None:
    """Store a newly seen order with its outcome, vendor orders, history and events: one statement."""
    routed = new.routed
    assert routed.order is not None
    changed = [line.sku for v in new.vendor_orders for line in v.data.lines]
    await db.execute(
        SAVE_NEW_ORDER_SQL,
        routed.order_id,
        *_effects(new.history, new.vendor_orders, changed),
        routed.order.order_number,
        routed.state,
        hold_text(routed.holds),
        routed.order.model_dump(mode="json"),
        routed.holds,
        new.fingerprint,
        routed.next_sequence,
        *outbox_rows(new.events),
    )


async def save(
    db: Queryable,
    routed: RoutedOrder,
    *,
    history: Sequence[HistoryEntry] = (),
    vendor_orders: Sequence[NewVendorOrder] = (),
    events: Sequence[Envelope] = (),
    changed_skus: Sequence[str] = (),
    payload_changed: bool = False,
) -> None:
    """Store what a routing round changed on a known order: one statement."""
    changed = [*changed_skus, *(line.sku for v in vendor_orders for line in v.data.lines)]
    payload = routed.order.model_dump(mode="json") if payload_changed and routed.order is not None else None
    await db.execute(
        SAVE_ORDER_SQL,
        routed.order_id,
        *_effects(history, vendor_orders, changed),
        routed.state,
        hold_text(routed.holds),
        routed.holds,
        routed.tried,
        routed.next_sequence,
        payload,
        *outbox_rows(events),
    )


async def mark_cancelled_before_seen(db: Queryable, order_id: str) -> None:
    """A cancellation that overtook its order: remember it, so the late order is not routed."""
    await db.execute(
        "INSERT INTO routed_orders (order_id, state) VALUES ($1, 'cancelled') ON CONFLICT (order_id) DO NOTHING",
        order_id,
    )


async def remember_early_status(db: Queryable, order_id: str, status: str, occurred_at: datetime) -> None:
    """A channel status that overtook its order; the newest one wins when the order arrives."""
    await db.execute(
        "INSERT INTO early_updates (order_id, status, occurred_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, occurred_at = excluded.occurred_at"
        " WHERE early_updates.occurred_at <= excluded.occurred_at",
        order_id,
        status,
        occurred_at,
    )


async def lock_known(db: Queryable, order_ids: Sequence[str]) -> set[str]:
    """Which of ``order_ids`` are stored (routed, held or cancelled before they arrived), their rows
    locked for this transaction as :func:`load` with ``lock`` does."""
    rows = await db.fetch("SELECT order_id FROM routed_orders WHERE order_id = ANY($1::text[]) FOR UPDATE", order_ids)
    return {row["order_id"] for row in rows}


async def take_early_statuses(db: Queryable, order_ids: Sequence[str]) -> dict[str, str]:
    """:func:`take_early_status` for several orders: one statement."""
    rows = await db.fetch(
        "DELETE FROM early_updates WHERE order_id = ANY($1::text[]) RETURNING order_id, status", order_ids
    )
    return {row["order_id"]: row["status"] for row in rows}


async def take_early_status(db: Queryable, order_id: str) -> str | None:
    status: str | None = await db.fetchval("DELETE FROM early_updates WHERE order_id = $1 RETURNING status", order_id)
    return status


async def find_duplicate(
    db: Queryable, fingerprint: str, order: OrderReceivedData, since: datetime
) -> DuplicateMatch | None:
    """The latest order seen since ``since`` with the same fingerprint under another external id."""
    row = await db.fetchrow(
        "SELECT order_id, order_number, payload ->> 'external_id' AS external_id, created_at FROM routed_orders"
        " WHERE fingerprint = $1 AND created_at >= $2 AND order_id <> $3 AND payload ->> 'external_id' <> $4"
        " ORDER BY created_at DESC LIMIT 1",
        fingerprint,
        since,
        order.order_id,
        order.external_id,
    )
    if row is None:
        return None
    return DuplicateMatch(row["order_id"], row["order_number"], row["external_id"], row["created_at"])


async def find_duplicates(
    db: Queryable, orders: Sequence[tuple[str, OrderReceivedData]], since: datetime
) -> dict[str, DuplicateMatch]:
    """:func:`find_duplicate` for several ``(fingerprint, order)`` pairs in one statement, by order id
    (an order with no match is left out)."""
    rows = await db.fetch(
        "SELECT q.for_order, d.*"
        " FROM unnest($1::text[], $2::text[], $3::text[]) AS q(fingerprint, for_order, external_id)"
        " CROSS JOIN LATERAL ("
        "  SELECT r.order_id, r.order_number, r.payload ->> 'external_id' AS external_id, r.created_at"
        "  FROM routed_orders r WHERE r.fingerprint = q.fingerprint AND r.created_at >= $4"
        "   AND r.order_id <> q.for_order AND r.payload ->> 'external_id' <> q.external_id"
        "  ORDER BY r.created_at DESC LIMIT 1"
        " ) d",
        [fingerprint for fingerprint, _ in orders],
        [order.order_id for _, order in orders],
        [order.external_id for _, order in orders],
        since,
    )
    return {
        row["for_order"]: DuplicateMatch(row["order_id"], row["order_number"], row["external_id"], row["created_at"])
        for row in rows
    }


async def orders_waiting_for(db: Queryable, skus: Sequence[str], codes: Sequence[str]) -> list[str]:
    """Orders with a hold of one of ``codes`` on a line of one of ``skus``, oldest first, locked for
    this transaction (another instance releasing them skips them)."""
    rows = await db.fetch(
        "SELECT order_id FROM routed_orders WHERE jsonb_array_length(holds) > 0"
        " AND EXISTS (SELECT 1 FROM jsonb_array_elements(holds) h WHERE h ->> 'code' = ANY($2::text[])"
        "             AND h ->> 'sku' = ANY($1::text[]))"
        " ORDER BY created_at FOR UPDATE SKIP LOCKED",
        list(skus),
        list(codes),
    )
    return [row["order_id"] for row in rows]


async def held_orders(db: Queryable, limit: int) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT order_id, order_number, state, holds, created_at, updated_at FROM routed_orders"
        " WHERE jsonb_array_length(holds) > 0 AND state <> 'cancelled' ORDER BY created_at LIMIT $1",
        limit,
    )
    return [dict(row) for row in rows]


async def routing_view(db: Queryable, order_id: str) -> dict[str, Any] | None:
    head = await db.fetchrow(
        "SELECT order_id, order_number, state, hold_reason, holds, tried, created_at, updated_at FROM routed_orders"
        " WHERE order_id = $1",
        order_id,
    )
    if head is None:
        return None
    history = await db.fetch(
        "SELECT kind, line_id, sku, quantity, vendor, vendor_order_id, hold_code, reason, decided_at"
        " FROM routing_decisions WHERE order_id = $1 ORDER BY seq",
        order_id,
    )
    vendor_orders = await db.fetch(
        "SELECT v.id, v.vendor, v.number, v.status, v.payload, v.created_at, v.cancelled_at, v.acknowledged_at,"
        "  v.failed_reason, v.shipped_after_cancel,"
        "  (SELECT jsonb_agg(jsonb_build_object('line_id', l.line_id, 'sku', l.sku, 'quantity', l.quantity,"
        "     'accepted', l.accepted, 'backordered', l.backordered, 'rejected', l.rejected, 'shipped', l.shipped,"
        "     'withdrawn', l.withdrawn) ORDER BY l.line_id) FROM vendor_order_lines l WHERE l.vendor_order_id = v.id)"
        "   AS lines"
        " FROM vendor_orders v WHERE v.order_id = $1 ORDER BY v.created_at, v.number",
        order_id,
    )
    entries = [dict(entry) for entry in history]
    return {
        **dict(head),
        # A person's release (with or without overrides) is recorded as "released": a decision too.
        "decisions": [e for e in entries if e["kind"] in ("routed", "rerouted", "released", "override")],
        "history": entries,
        "vendor_orders": [
            {
                "vendor_order_id": v["id"],
                "vendor_order_number": v["number"],
                "vendor": v["vendor"],
                "status": v["status"],
                "created_at": v["created_at"],
                "acknowledged_at": v["acknowledged_at"],
                "cancelled_at": v["cancelled_at"],
                "failed_reason": v["failed_reason"],
                "shipped_after_cancel": v["shipped_after_cancel"],
                "tax_amount": v["payload"]["tax_amount"],
                "shipping_amount": v["payload"]["shipping_amount"],
                "discounts": v["payload"]["discounts"],
                "lines": v["lines"] or [],
            }
            for v in vendor_orders
        ],
    }
