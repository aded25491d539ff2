"""What each shipment became on its platform (a fulfillment, an order note)."""

from __future__ import annotations

from services.channels.ports import PushedShipment, PushOutcome
from shared.db import Queryable


async def of_order(db: Queryable, shop: str, platform_order_id: str) -> list[PushedShipment]:
    rows = await db.fetch(
        "SELECT shipment_id, vendor, remote_id, tracking_numbers FROM pushed_shipments"
        " WHERE shop = $1 AND platform_order_id = $2 ORDER BY pushed_at",
        shop,
        platform_order_id,
    )
    return [PushedShipment(r["shipment_id"], r["vendor"], r["remote_id"], tuple(r["tracking_numbers"])) for r in rows]


async def record(
    db: Queryable, shop: str, platform_order_id: str, shipment_id: str, vendor: str, outcome: PushOutcome
) -> None:
    await db.execute(
        "INSERT INTO pushed_shipments"
        " (shipment_id, shop, platform_order_id, vendor, remote_id, tracking_numbers, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (shipment_id) DO NOTHING",
        shipment_id,
        shop,
        platform_order_id,
        vendor,
        outcome.remote_id,
        list(outcome.tracking_numbers),
        outcome.detail,
    )
