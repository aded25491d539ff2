"""A ship-to change on the splitter's side: the order's newest change kept, and the new address on the
vendor orders that were told of it (so the routing view and a reroute of theirs show where they go)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.contracts.orders import Address
from shared.db import Queryable


async def take_if_newer(db: Queryable, order_id: str, changed_at: datetime) -> bool:
    """Record ``changed_at`` as the order's latest ship-to change unless a later one was applied; answers
    whether this one is the latest. The order's row is locked by the caller."""
    result: str = await db.execute(
        "UPDATE routed_orders SET ship_to_changed_at = $2"
        " WHERE order_id = $1 AND (ship_to_changed_at IS NULL OR ship_to_changed_at < $2)",
        order_id,
        changed_at,
    )
    return result.endswith(" 1")


async def readdress_vendor_orders(db: Queryable, vendor_order_ids: Sequence[str], ship_to: Address) -> None:
    if vendor_order_ids:
        await db.execute(
            "UPDATE vendor_orders SET payload = jsonb_set(payload, '{ship_to}', $2::jsonb) WHERE id = ANY($1::text[])",
            list(vendor_order_ids),
            ship_to.model_dump(mode="json"),
        )
