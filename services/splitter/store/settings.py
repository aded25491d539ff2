"""The merchant's routing settings: one row."""

from __future__ import annotations

from services.splitter.routing.model import HoldRules, RoutingSettings
from shared.db import Queryable


async def routing_settings(db: Queryable) -> RoutingSettings:
    row = await db.fetchrow("SELECT * FROM routing_settings")
    if row is None:
        return RoutingSettings()
    return RoutingSettings(
        strategy=row["strategy"],
        prefer_single_vendor=row["prefer_single_vendor"],
        split_quantities=row["split_quantities"],
        holds=HoldRules(
            unpaid=row["hold_unpaid"],
            max_order_value=row["max_order_value"],
            po_box=row["hold_po_box"],
            duplicate_window_minutes=row["duplicate_window_minutes"],
        ),
    )


async def put_routing_settings(db: Queryable, settings: RoutingSettings) -> None:
    await db.execute(
        "UPDATE routing_settings SET strategy = $1, prefer_single_vendor = $2, split_quantities = $3,"
        " hold_unpaid = $4, max_order_value = $5, hold_po_box = $6, duplicate_window_minutes = $7, updated_at = now()",
        settings.strategy,
        settings.prefer_single_vendor,
        settings.split_quantities,
        settings.holds.unpaid,
        settings.holds.max_order_value,
        settings.holds.po_box,
        settings.holds.duplicate_window_minutes,
    )
