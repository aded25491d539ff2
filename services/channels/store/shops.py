"""Shops and the platform orders seen from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.db import Queryable

SHOP_COLUMNS = (
    "code, platform, channel, base_url, api_version, push_stock, options, sealed_secrets, webhook_topics,"
    " webhooks_registered_at, webhook_error, seen_through, reconcile_due_at, reconciled_at, reconcile_error,"
    " created_at, updated_at"
)


@dataclass(frozen=True)
class StoredShop:
    code: str
    platform: str
    channel: str
    base_url: str
    api_version: str | None
    push_stock: bool
    options: dict[str, Any]
    sealed_secrets: str
    webhook_topics: list[str]
    webhooks_registered_at: datetime | None
    webhook_error: str | None
    seen_through: datetime
    reconcile_due_at: datetime
    reconciled_at: datetime | None
    reconcile_error: str | None
    created_at: datetime
    updated_at: datetime


def _shop(row: asyncpg.Record) -> StoredShop:
    return StoredShop(**{key: row[key] for key in row.keys()})  # noqa: SIM118 - asyncpg records iterate values


async def get(db: Queryable, code: str) -> StoredShop | None:
    row = await db.fetchrow(f"SELECT {SHOP_COLUMNS} FROM shops WHERE code = $1", code)  # noqa: S608 - constant
    return _shop(row) if row else None


async def by_channel(db: Queryable, channel: str) -> StoredShop | None:
    row = await db.fetchrow(f"SELECT {SHOP_COLUMNS} FROM shops WHERE channel = $1", channel)  # noqa: S608 - constant
    return _shop(row) if row else None


async def all_shops(db: Queryable) -> list[StoredShop]:
    rows = await db.fetch(f"SELECT {SHOP_COLUMNS} FROM shops ORDER BY code")  # noqa: S608 - constant
    return [_shop(row) for row in rows]


async def upsert(
    db: Queryable,
    *,
    code: str,
    platform: str,
    channel: str,
    base_url: str,
    api_version: str | None,
    push_stock: bool,
    options: dict[str, Any],
    sealed_secrets: str,
) -> bool:
    """Store the shop; answers whether it is new."""
    inserted = await db.fetchval(
        "INSERT INTO shops (code, platform, channel, base_url, api_version, push_stock, options, sealed_secrets)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (code) DO UPDATE SET platform = excluded.platform, channel = excluded.channel,"
        "   base_url = excluded.base_url, api_version = excluded.api_version, push_stock = excluded.push_stock,"
        "   options = excluded.options, sealed_secrets = excluded.sealed_secrets, updated_at = now()"
        " RETURNING (xmax = 0)",
        code,
        platform,
        channel,
        base_url,
        api_version,
        push_stock,
        options,
        sealed_secrets,
    )
    return bool(inserted)


async def record_webhooks(db: Queryable, code: str, topics: list[str], error: str | None) -> None:
    await db.execute(
        "UPDATE shops SET webhook_topics = CASE WHEN $3::text IS NULL THEN $2 ELSE webhook_topics END,"
        " webhooks_registered_at = CASE WHEN $3::text IS NULL THEN now() ELSE webhooks_registered_at END,"
        " webhook_error = $3 WHERE code = $1",
        code,
        topics,
        error,
    )


async def claim_reconcile(db: asyncpg.Pool, interval_seconds: float) -> StoredShop | None:
    """The shop whose reconcile is most overdue, leased for one interval (no other instance takes it)."""
    row = await db.fetchrow(
        f"UPDATE shops SET reconcile_due_at = now() + make_interval(secs => $1)"  # noqa: S608 - constant SQL
        " WHERE code = (SELECT code FROM shops WHERE reconcile_due_at <= now()"
        "               ORDER BY reconcile_due_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
        f" RETURNING {SHOP_COLUMNS}",
        interval_seconds,
    )
    return _shop(row) if row else None


async def reconcile_now(db: asyncpg.Pool, code: str | None = None) -> int:
    """Make a shop's reconcile (every shop's: none) due at once."""
    result = await db.execute("UPDATE shops SET reconcile_due_at = now() WHERE $1::text IS NULL OR code = $1", code)
    return int(result.split()[-1])


async def record_reconciled(db: Queryable, code: str, seen_through: datetime | None, error: str | None) -> None:
    await db.execute(
        "UPDATE shops SET seen_through = greatest(seen_through, coalesce($2, seen_through)),"
        " reconciled_at = CASE WHEN $3::text IS NULL THEN now() ELSE reconciled_at END, reconcile_error = $3"
        " WHERE code = $1",
        code,
        seen_through,
        error,
    )


# ------------------------------------------------------------------------------------------ platform orders


@dataclass(frozen=True)
class PlatformOrder:
    shop: str
    platform_order_id: str
    order_id: str | None
    order_number: str | None
    channel_status: str | None
    fingerprint: str
    state: str
    reason: str | None
    platform_updated_at: datetime | None
    recorded_at: datetime
    ship_to_digest: str | None


ORDER_COLUMNS = (
    "shop, platform_order_id, order_id, order_number, channel_status, fingerprint, state, reason,"
    " platform_updated_at, recorded_at, ship_to_digest"
)


async def platform_order(db: Queryable, shop: str, platform_order_id: str) -> PlatformOrder | None:
    row = await db.fetchrow(
        f"SELECT {ORDER_COLUMNS} FROM platform_orders WHERE shop = $1 AND platform_order_id = $2",  # noqa: S608
        shop,
        platform_order_id,
    )
    return PlatformOrder(**{key: row[key] for key in row.keys()}) if row else None  # noqa: SIM118


async def record_platform_order(
    db: Queryable,
    *,
    shop: str,
    platform_order_id: str,
    state: str,
    order_id: str | None = None,
    order_number: str | None = None,
    channel_status: str | None = None,
    fingerprint: str = "",
    reason: str | None = None,
    platform_updated_at: datetime | None = None,
    ship_to_digest: str | None = None,
) -> None:
    """What the platform order is to us now; an order id (and a ship-to) once known is kept."""
    await db.execute(
        "INSERT INTO platform_orders (shop, platform_order_id, order_id, order_number, channel_status,"
        "  fingerprint, state, reason, platform_updated_at, ship_to_digest)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (shop, platform_order_id) DO UPDATE SET"
        "   order_id = coalesce(platform_orders.order_id, excluded.order_id),"
        "   order_number = coalesce(excluded.order_number, platform_orders.order_number),"
        "   channel_status = coalesce(excluded.channel_status, platform_orders.channel_status),"
        "   fingerprint = excluded.fingerprint, state = excluded.state, reason = excluded.reason,"
        "   platform_updated_at = greatest(platform_orders.platform_updated_at, excluded.platform_updated_at),"
        "   ship_to_digest = coalesce(platform_orders.ship_to_digest, excluded.ship_to_digest),"
        "   recorded_at = now()",
        shop,
        platform_order_id,
        order_id,
        order_number,
        channel_status,
        fingerprint,
        state,
        reason,
        platform_updated_at,
        ship_to_digest,
    )


async def set_ship_to_digest(db: Queryable, shop: str, platform_order_id: str, digest: str) -> None:
    """The ship-to intake has now for the platform order (after a change was passed on)."""
    await db.execute(
        "UPDATE platform_orders SET ship_to_digest = $3 WHERE shop = $1 AND platform_order_id = $2",
        shop,
        platform_order_id,
        digest,
    )


async def platform_orders(db: Queryable, shop: str, state: str | None, limit: int) -> list[PlatformOrder]:
    rows = await db.fetch(
        f"SELECT {ORDER_COLUMNS} FROM platform_orders WHERE shop = $1 AND ($2::text IS NULL OR state = $2)"  # noqa: S608
        " ORDER BY recorded_at DESC LIMIT $3",
        shop,
        state,
        limit,
    )
    return [PlatformOrder(**{key: row[key] for key in row.keys()}) for row in rows]  # noqa: SIM118
