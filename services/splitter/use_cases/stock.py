"""Stock: feeds from vendors and ops (``inventory.updated``), the quarantine a person settles, the
arithmetic behind a SKU's availability, and ``inventory.available`` for the SKUs that changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.splitter.routing.feeds import assess_feed, next_levels, resolve_levels
from services.splitter.routing.stock import availability
from services.splitter.store import catalog as catalog_store
from services.splitter.store import stock as stock_store
from services.splitter.store import vendors as vendor_store
from services.splitter.store.vendors import Vendor
from services.splitter.use_cases.errors import Conflict, NotFound
from services.splitter.use_cases.holds import release_waiting
from shared.contracts.envelope import utc_now
from shared.contracts.inventory import (
    AvailableLevel,
    InventoryAvailable,
    InventoryAvailableData,
    InventoryUpdated,
    InventoryUpdatedData,
)
from shared.db import Connection
from shared.logging import get_logger
from shared.messaging.outbox import enqueue

log = get_logger(__name__)


@dataclass(frozen=True)
class FeedOutcome:
    feed_id: str
    state: str
    reason: str
    changed: int
    unknown: tuple[str, ...]
    released_vendor_orders: int = 0


async def on_inventory_updated(connection: Connection, event: InventoryUpdated) -> None:
    outcome = await take_feed(connection, event.data, event.occurred_at, event.message_id)
    log.info("feed", vendor=event.data.vendor, feed_id=outcome.feed_id, state=outcome.state, reason=outcome.reason)


async def take_feed(
    connection: Connection, feed: InventoryUpdatedData, received_at: datetime, causation_id: str | None
) -> FeedOutcome:
    """Apply, ignore or quarantine a vendor's feed, and record it; the same feed id again is a no-op."""
    vendor = await vendor_store.get_vendor(connection, feed.vendor, lock=True)
    if vendor is None:
        # A feed for a vendor nobody set up: nothing to apply it to; recorded nowhere (feeds belong to vendors).
        log.warning("feed for an unknown vendor", vendor=feed.vendor, feed_id=feed.feed_id)
        return FeedOutcome(feed.feed_id, "ignored", f"no vendor {feed.vendor!r}", 0, ())
    previous = await stock_store.get_feed(connection, feed.feed_id)
    if previous is not None:
        return FeedOutcome(
            feed.feed_id, previous["state"], previous["reason"], previous["changed"], tuple(previous["unknown"])
        )
    as_of = feed.as_of or received_at
    current, by_vendor_sku = await stock_store.vendor_levels(connection, vendor.code)
    resolved = resolve_levels(feed.levels, by_vendor_sku, current.keys())
    verdict = assess_feed(
        feed.mode, resolved.levels, current, vendor.feed_guards(), last_as_of=vendor.last_feed_as_of, as_of=as_of
    )
    changed = next_levels(feed.mode, resolved.levels, current) if verdict.action == "apply" else {}
    state = {"apply": "applied", "ignore": "ignored", "quarantine": "quarantined"}[verdict.action]
    await stock_store.record_feed(
        connection,
        feed_id=feed.feed_id,
        vendor=vendor.code,
        mode=feed.mode,
        source=feed.source,
        as_of=as_of,
        state=state,
        reason=verdict.reason,
        rows=len(feed.levels),
        changed=len(changed),
        unknown=resolved.unknown,
        levels=resolved.levels if verdict.action == "quarantine" else None,
    )
    released = 0
    if verdict.action == "apply":
        released = await _apply(
            connection, vendor, feed.mode == "snapshot", changed, list(resolved.levels), as_of, causation_id
        )
    return FeedOutcome(feed.feed_id, state, verdict.reason, len(changed), resolved.unknown, released)


async def _apply(
    connection: Connection,
    vendor: Vendor,
    snapshot: bool,
    changed: dict[str, int],
    counted: list[str],
    as_of: datetime,
    causation_id: str | None,
) -> int:
    skus = await stock_store.apply_levels(connection, vendor.code, changed, counted, as_of, snapshot=snapshot)
    return await release_waiting(connection, skus, causation_id) if skus else 0


async def accept_feed(pool: Any, feed_id: str) -> FeedOutcome:
    """A person accepts a quarantined feed: it is applied as it came."""
    async with pool.acquire() as connection, connection.transaction():
        feed = await stock_store.get_feed(connection, feed_id, lock=True)
        if feed is None:
            raise NotFound(f"no feed {feed_id!r}")
        if feed["state"] != "quarantined":
            raise Conflict("not_quarantined", f"feed {feed_id} is {feed['state']}, not quarantined")
        vendor = await vendor_store.get_vendor(connection, feed["vendor"], lock=True)
        assert vendor is not None
        if vendor.last_feed_as_of is not None and feed["as_of"] <= vendor.last_feed_as_of:
            reason = "accepted, but a newer feed was applied since: nothing changed"
            await stock_store.settle_feed(connection, feed_id, "ignored", reason, 0)
            return FeedOutcome(feed_id, "ignored", reason, 0, tuple(feed["unknown"]))
        current, _ = await stock_store.vendor_levels(connection, vendor.code)
        levels = {sku: int(stock) for sku, stock in feed["levels"].items()}
        changed = next_levels(feed["mode"], levels, current)
        reason = f"accepted by a person after quarantine ({feed['reason']})"
        await stock_store.settle_feed(connection, feed_id, "accepted", reason, len(changed))
        released = await _apply(
            connection, vendor, feed["mode"] == "snapshot", changed, list(levels), feed["as_of"], None
        )
    return FeedOutcome(feed_id, "accepted", reason, len(changed), tuple(feed["unknown"]), released)


async def post_feed(pool: Any, feed: InventoryUpdatedData) -> FeedOutcome:
    """A feed posted by ops (``PUT /v1/stock/{vendor}``): taken as the vendor's own would be."""
    async with pool.acquire() as connection, connection.transaction():
        return await take_feed(connection, feed, utc_now(), None)


async def stock_view(pool: Any, sku: str) -> dict[str, Any]:
    """Per source: the feed's quantity and time, reserved units, buffer and what is available, with the
    arithmetic in words."""
    async with pool.acquire() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
        sources = (await catalog_store.sources_for(connection, [sku], untracked_reservations=True)).get(sku)
        if sources is None:
            raise NotFound(f"no sources for SKU {sku!r}")
        vendors = await vendor_store.profiles(connection, [s.vendor for s in sources])
    now = utc_now()
    rows = []
    for source in sources:
        profile = vendors[source.vendor]
        figure = availability(source, profile, now)
        rows.append(
            {
                "vendor": source.vendor,
                "active": profile.active,
                "feed_quantity": source.stock,
                "as_of": source.stock_as_of,
                "reserved": source.reserved,
                "buffer": profile.stock_buffer,
                "available": figure.units,
                "tracked": figure.tracked,
                "stale": figure.stale,
                "explanation": figure.text,
            }
        )
    return {"sku": sku, "available": _total([r for r in rows if r["active"]]), "sources": rows}


def _total(rows: list[dict[str, Any]]) -> int | None:
    """What may be sold across active sources: ``None`` (no limit known) when one of them is untracked."""
    if any(not row["tracked"] for row in rows):
        return None
    return sum(row["available"] or 0 for row in rows)


async def fold_reservations(connection: Connection, limit: int) -> int:
    """Fold the latest changes of what open vendor orders reserve into the per-source totals, so that
    reading a source's reservations stays one row and a few changes however many orders are open."""
    return await catalog_store.fold_reservation_changes(connection, limit)


async def announce_availability(connection: Connection, limit: int = 500) -> int:
    """Publish ``inventory.available`` for the SKUs of up to ``limit`` logged availability changes (one
    message, each SKU once); answers how many changes it took, so a full round is followed by another at
    once. Call in a transaction."""
    logged = await stock_store.claim_changes(connection, limit)
    if not logged:
        return 0
    skus = sorted(set(logged))
    sources = await catalog_store.sources_for(connection, skus)
    vendors = await vendor_store.profiles(connection, sorted({s.vendor for group in sources.values() for s in group}))
    now = utc_now()
    levels = []
    for sku in skus:
        figures = [
            availability(source, vendors[source.vendor], now)
            for source in sources.get(sku, ())
            if source.vendor in vendors and vendors[source.vendor].active
        ]
        untracked = any(not f.tracked for f in figures)
        levels.append(AvailableLevel(sku=sku, available=None if untracked else sum(f.known_units for f in figures)))
    await enqueue(
        connection,
        InventoryAvailable(correlation_id=f"availability:{skus[0]}", data=InventoryAvailableData(levels=levels)),
    )
    return len(logged)
