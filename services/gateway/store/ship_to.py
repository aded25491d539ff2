"""A vendor order's new ship-to, owed to its vendor as a delivery of its own, numbered per vendor order."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from services.gateway.store.deliveries import delivery_id
from shared.db import Queryable


async def record_ship_to_change(
    db: Queryable, change: dict[str, Any], changed_at: datetime
) -> Literal["owed", "older", "unknown"]:
    """Owe the vendor the ship-to change (``owed``), unless a later change was owed already (``older``)
    or the vendor order was never received (``unknown``).

    The stored vendor order keeps the address it was sent with: every delivery renders the same bytes on
    each attempt, and the change carries its own address."""
    row = await db.fetchrow(
        "UPDATE vendor_orders SET ship_to_changes = ship_to_changes + 1, ship_to_changed_at = $2"
        " WHERE vendor_order_id = $1 AND (ship_to_changed_at IS NULL OR ship_to_changed_at < $2)"
        " RETURNING ship_to_changes, vendor",
        change["vendor_order_id"],
        changed_at,
    )
    if row is None:
        known = await db.fetchval("SELECT 1 FROM vendor_orders WHERE vendor_order_id = $1", change["vendor_order_id"])
        return "older" if known else "unknown"
    sequence: int = row["ship_to_changes"]
    await db.execute(
        "INSERT INTO deliveries (delivery_id, vendor_order_id, vendor, event, payload)"
        " VALUES ($1, $2, $3, 'vendor_order.ship_to_changed', $4::jsonb) ON CONFLICT (delivery_id) DO NOTHING",
        delivery_id(change["vendor_order_id"], "vendor_order.ship_to_changed", sequence),
        change["vendor_order_id"],
        row["vendor"],
        {**change, "sequence": sequence},
    )
    return "owed"
