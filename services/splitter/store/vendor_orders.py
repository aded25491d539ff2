"""Vendor orders as their lifecycle sees them: per line what was sent, accepted, backordered, rejected,
shipped and withdrawn; and the ones waiting for an acknowledgement past their deadline."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.splitter.routing.lifecycle import VendorLine, VendorOrderState
from shared.db import Queryable

_STATE_SQL = """
SELECT v.id, v.order_id, v.number, v.vendor, v.status, v.counted_at,
       coalesce(jsonb_agg(jsonb_build_object(
           'line_id', l.line_id, 'sku', l.sku, 'quantity', l.quantity, 'accepted', l.accepted,
           'backordered', l.backordered, 'rejected', l.rejected, 'shipped', l.shipped, 'withdrawn', l.withdrawn)
           ORDER BY l.line_id) FILTER (WHERE l.line_id IS NOT NULL), '[]'::jsonb) AS lines
FROM vendor_orders v LEFT JOIN vendor_order_lines l ON l.vendor_order_id = v.id
"""


@dataclass(frozen=True)
class TrackedVendorOrder:
    order_id: str
    state: VendorOrderState
    counted_at: datetime | None


def _tracked(row: Any) -> TrackedVendorOrder:
    lines = tuple(VendorLine(**line) for line in row["lines"])
    state = VendorOrderState(row["id"], row["number"], row["vendor"], row["status"], lines)
    return TrackedVendorOrder(row["order_id"], state, row["counted_at"])


async def of_order(db: Queryable, order_id: str) -> list[TrackedVendorOrder]:
    """The order's vendor orders, by number. Lock the order's row first: it guards its vendor orders."""
    rows = await db.fetch(_STATE_SQL + " WHERE v.order_id = $1 GROUP BY v.id ORDER BY v.created_at, v.number", order_id)
    return [_tracked(row) for row in rows]


async def get(db: Queryable, vendor_order_id: str) -> TrackedVendorOrder | None:
    row = await db.fetchrow(_STATE_SQL + " WHERE v.id = $1 GROUP BY v.id", vendor_order_id)
    return _tracked(row) if row else None


async def order_of(db: Queryable, vendor_order_id: str) -> str | None:
    order_id: str | None = await db.fetchval("SELECT order_id FROM vendor_orders WHERE id = $1", vendor_order_id)
    return order_id


async def save_state(
    db: Queryable,
    state: VendorOrderState,
    *,
    acknowledged_at: datetime | None = None,
    failed_reason: str | None = None,
    shipped_after_cancel: bool = False,
) -> None:
    """Store ``state``'s status and per-line figures. ``acknowledged_at`` also counts as the moment the
    vendor counted the order's units in its stock (its reservations end with the next feed after it)."""
    await db.execute(
        "WITH head AS ("
        "  UPDATE vendor_orders SET status = $2,"
        "    acknowledged_at = coalesce(acknowledged_at, $3), counted_at = coalesce(counted_at, $3),"
        "    failed_reason = coalesce($4, failed_reason), shipped_after_cancel = shipped_after_cancel OR $5,"
        "    cancelled_at = CASE WHEN $2 = 'cancelled' THEN coalesce(cancelled_at, now()) ELSE cancelled_at END"
        "  WHERE id = $1"
        ")"
        " UPDATE vendor_order_lines l SET accepted = u.accepted, backordered = u.backordered, rejected = u.rejected,"
        "   shipped = u.shipped, withdrawn = u.withdrawn,"
        # Rejected units are also withdrawn once rerouted: count the larger, so a partly rejected line
        # keeps reserving the units the vendor still ships.
        "   reserving = l.reserving AND u.shipped + greatest(u.withdrawn, u.rejected) < l.quantity"
        " FROM unnest($6::text[], $7::int[], $8::int[], $9::int[], $10::int[], $11::int[])"
        "   AS u(line_id, accepted, backordered, rejected, shipped, withdrawn)"
        " WHERE l.vendor_order_id = $1 AND l.line_id = u.line_id",
        state.id,
        state.status,
        acknowledged_at,
        failed_reason,
        shipped_after_cancel,
        [line.line_id for line in state.lines],
        [line.accepted for line in state.lines],
        [line.backordered for line in state.lines],
        [line.rejected for line in state.lines],
        [line.shipped for line in state.lines],
        [line.withdrawn for line in state.lines],
    )


async def claim_overdue(db: Queryable, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(vendor order, order) pairs past their acknowledgement deadline. The orders' rows are locked for
    this transaction, the lock every change of an order takes first, so others skip them.

    The vendor orders' rows are locked too: a row another instance rerouted and committed while this
    statement ran is then read again at its latest version, now cancelled, and left out. Locking only
    the order would recheck the order alone, keep the vendor order as this statement's snapshot saw it
    (still open and overdue) and reroute it a second time."""
    rows = await db.fetch(
        "SELECT v.id, v.order_id FROM vendor_orders v JOIN routed_orders r ON r.order_id = v.order_id"
        " WHERE v.ack_due_at < $1 AND v.acknowledged_at IS NULL AND v.status = 'open'"
        " ORDER BY v.ack_due_at LIMIT $2 FOR UPDATE OF r, v SKIP LOCKED",
        now,
        limit,
    )
    return [(row["id"], row["order_id"]) for row in rows]


async def clear_deadline(db: Queryable, vendor_order_ids: Sequence[str]) -> None:
    await db.execute("UPDATE vendor_orders SET ack_due_at = NULL WHERE id = ANY($1::text[])", list(vendor_order_ids))


async def next_free_sequence(db: Queryable, base: str, vendors: Sequence[str]) -> int:
    """One more than the highest ``<base>-<n>`` these vendors have: where an order whose number is
    ``base`` continues its count, so two channels' order "1001" never give a vendor one number twice."""
    pattern = "^" + re.escape(base) + "-([0-9]+)$"
    highest = await db.fetchval(
        "SELECT max(substring(number from $2)::bigint) FROM vendor_orders"
        " WHERE number LIKE $1 AND number ~ $2 AND vendor = ANY($3::text[])",
        base.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "-%",
        pattern,
        list(vendors),
    )
    return int(highest or 0) + 1


async def highest_sequences(db: Queryable, bases: Sequence[str]) -> dict[tuple[str, str], int]:
    """For each of ``bases``, the highest ``<base>-<n>`` each vendor has, by ``(base, vendor)``:
    :func:`next_free_sequence` for several order numbers in one statement."""
    rows = await db.fetch(
        "SELECT b.base, h.vendor, h.highest FROM unnest($1::text[], $2::text[]) AS b(base, pattern)"
        " CROSS JOIN LATERAL ("
        # The prefix as a range in the text_pattern_ops index's own order: a LIKE whose pattern comes
        # from a column is not turned into an index range.
        "  SELECT v.vendor, max(substring(v.number from b.pattern)::bigint) AS highest FROM vendor_orders v"
        "  WHERE v.number ~>=~ (b.base || '-') AND v.number ~<~ (b.base || '.') AND v.number ~ b.pattern"
        "  GROUP BY v.vendor"
        " ) h",
        list(bases),
        ["^" + re.escape(base) + "-([0-9]+)$" for base in bases],
    )
    return {(row["base"], row["vendor"]): int(row["highest"]) for row in rows}
