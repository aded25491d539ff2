"""Vendors: who they are, how they receive orders, and the fields routing and feeds read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.splitter.routing.feeds import FeedGuards
from services.splitter.routing.model import VendorProfile
from shared.contracts.vendors import VendorKind
from shared.db import Queryable


@dataclass(frozen=True)
class Vendor:
    code: str
    name: str
    kind: VendorKind
    settings: dict[str, Any] = field(default_factory=dict)
    active: bool = True
    countries: tuple[str, ...] = ()
    accepts_backorders: bool = False
    handling_fee: Decimal = Decimal("0")
    stock_buffer: int = 0
    feed_stale_after_hours: int | None = None
    ack_deadline_hours: int | None = None
    min_inventory_rows: int | None = None
    feed_max_drop_ratio: Decimal = Decimal("0.5")
    feed_max_zeroed_ratio: Decimal = Decimal("0.5")
    last_feed_as_of: datetime | None = None

    def profile(self) -> VendorProfile:
        return VendorProfile(
            code=self.code,
            active=self.active,
            countries=frozenset(self.countries),
            accepts_backorders=self.accepts_backorders,
            handling_fee=self.handling_fee,
            stock_buffer=self.stock_buffer,
            feed_stale_after_hours=self.feed_stale_after_hours,
            ack_deadline_hours=self.ack_deadline_hours,
        )

    def feed_guards(self) -> FeedGuards:
        return FeedGuards(self.min_inventory_rows, self.feed_max_drop_ratio, self.feed_max_zeroed_ratio)

    def view(self) -> dict[str, Any]:
        return {**self.__dict__, "countries": list(self.countries)}


_COLUMNS = (
    "code, name, kind, settings, active, countries, accepts_backorders, handling_fee, stock_buffer,"
    " feed_stale_after_hours, ack_deadline_hours, min_inventory_rows, feed_max_drop_ratio, feed_max_zeroed_ratio,"
    " last_feed_as_of"
)


def _vendor(row: Any) -> Vendor:
    values = dict(row)
    values["countries"] = tuple(values["countries"])
    return Vendor(**values)


async def upsert_vendor(db: Queryable, vendor: Vendor) -> bool:
    """Create or replace ``vendor`` (its feed history kept); answers whether it was created."""
    created: bool = await db.fetchval(
        "INSERT INTO vendors (code, name, kind, settings, active, countries, accepts_backorders, handling_fee,"
        "   stock_buffer, feed_stale_after_hours, ack_deadline_hours, min_inventory_rows, feed_max_drop_ratio,"
        "   feed_max_zeroed_ratio)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, settings = excluded.settings,"
        "   active = excluded.active, countries = excluded.countries, accepts_backorders = excluded.accepts_backorders,"
        "   handling_fee = excluded.handling_fee, stock_buffer = excluded.stock_buffer,"
        "   feed_stale_after_hours = excluded.feed_stale_after_hours, ack_deadline_hours = excluded.ack_deadline_hours,"
        "   min_inventory_rows = excluded.min_inventory_rows, feed_max_drop_ratio = excluded.feed_max_drop_ratio,"
        "   feed_max_zeroed_ratio = excluded.feed_max_zeroed_ratio, updated_at = now()"
        " RETURNING (xmax = 0)",
        vendor.code,
        vendor.name,
        vendor.kind,
        vendor.settings,
        vendor.active,
        list(vendor.countries),
        vendor.accepts_backorders,
        vendor.handling_fee,
        vendor.stock_buffer,
        vendor.feed_stale_after_hours,
        vendor.ack_deadline_hours,
        vendor.min_inventory_rows,
        vendor.feed_max_drop_ratio,
        vendor.feed_max_zeroed_ratio,
    )
    return created


async def get_vendor(db: Queryable, code: str, *, lock: bool = False) -> Vendor | None:
    sql = f"SELECT {_COLUMNS} FROM vendors WHERE code = $1" + (" FOR UPDATE" if lock else "")  # noqa: S608
    row = await db.fetchrow(sql, code)
    return _vendor(row) if row else None


async def list_vendors(db: Queryable) -> list[Vendor]:
    return [_vendor(row) for row in await db.fetch(f"SELECT {_COLUMNS} FROM vendors ORDER BY code")]  # noqa: S608


async def existing_vendors(db: Queryable, codes: Sequence[str]) -> set[str]:
    rows = await db.fetch("SELECT code FROM vendors WHERE code = ANY($1::text[])", list(codes))
    return {row["code"] for row in rows}


async def profiles(db: Queryable, codes: Sequence[str]) -> dict[str, VendorProfile]:
    """The routing fields of ``codes`` (the vendors that carry an order's SKUs)."""
    rows = await db.fetch(f"SELECT {_COLUMNS} FROM vendors WHERE code = ANY($1::text[])", list(codes))  # noqa: S608
    return {row["code"]: _vendor(row).profile() for row in rows}
