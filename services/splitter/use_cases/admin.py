"""The splitter's admin commands: vendors, catalog, routing settings, previews, the routing view, holds
and their release. Each owns its transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from services.splitter.commands import CatalogRequest, PreviewRequest, VendorRequest
from services.splitter.ports import Database, SplitterPorts
from services.splitter.routing.holds import order_holds
from services.splitter.routing.model import RoutingSettings
from services.splitter.routing.split import split_order
from services.splitter.store import catalog as catalog_store
from services.splitter.store import orders as order_store
from services.splitter.store import settings as settings_store
from services.splitter.store import stock as stock_store
from services.splitter.store import vendors as vendor_store
from services.splitter.store.vendors import Vendor
from services.splitter.use_cases import rounds
from services.splitter.use_cases.errors import Conflict, DuplicateSource, Invalid, NotFound, UnknownVendor
from services.splitter.use_cases.holds import Outcome, release_waiting, route_again
from shared.contracts.envelope import utc_now
from shared.db import Connection


@asynccontextmanager
async def _snapshot(pool: Database) -> AsyncIterator[Connection]:
    """A read-only transaction, so that the several queries of one answer see the same data."""
    async with pool.acquire() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
        yield connection


@dataclass(frozen=True)
class VendorPut:
    vendor: Vendor
    created: bool


async def put_vendor(ports: SplitterPorts, code: str, request: VendorRequest) -> VendorPut:
    """Create or update vendor ``code`` (a valid vendor code) and declare its queue. A vendor that
    becomes able to ship (active again, more countries) may release held orders."""
    # The queue exists before any vendor order can be published to it: publishes are mandatory.
    await ports.declare_vendor_queue(code)
    vendor = request.to_vendor(code)
    async with ports.pool.acquire() as connection, connection.transaction():
        created = await vendor_store.upsert_vendor(connection, vendor)
        skus = [row["sku"] for row in await connection.fetch("SELECT sku FROM sources WHERE vendor = $1", code)]
        await stock_store.mark_changed(connection, skus)
        released = await release_waiting(connection, skus, None) if skus else 0
    if released or skus:
        ports.wake_relay()
    return VendorPut(vendor, created)


async def get_vendor(ports: SplitterPorts, code: str) -> Vendor:
    async with ports.pool.acquire() as connection:
        vendor = await vendor_store.get_vendor(connection, code)
    if vendor is None:
        raise NotFound(f"no vendor {code!r}")
    return vendor


async def list_vendors(ports: SplitterPorts) -> list[Vendor]:
    async with ports.pool.acquire() as connection:
        return await vendor_store.list_vendors(connection)


@dataclass(frozen=True)
class CatalogEntryPut:
    entry: dict[str, Any]
    released_vendor_orders: int
    """Vendor orders made by routing again the held orders that waited for this SKU."""


async def put_catalog_entry(ports: SplitterPorts, sku: str, request: CatalogRequest) -> CatalogEntryPut:
    """Set ``sku``'s name and sources (replacing all), then route again the held orders that wait for it."""
    vendors = [source.vendor for source in request.sources]
    if len(set(vendors)) != len(vendors):
        raise DuplicateSource
    async with ports.pool.acquire() as connection, connection.transaction():
        unknown = set(vendors) - await vendor_store.existing_vendors(connection, vendors)
        if unknown:
            raise UnknownVendor(unknown)
        await catalog_store.replace_catalog_entry(
            connection, sku, request.name, [s.to_entry() for s in request.sources]
        )
        released = await release_waiting(connection, [sku], None)
        entry = await catalog_store.get_catalog_entry(connection, sku)
    ports.wake_relay()
    return CatalogEntryPut(entry or {}, released)


async def release_skus(connection: Connection, skus: Sequence[str]) -> None:
    """After a catalog import, in its transaction: the held orders waiting for ``skus`` are looked at
    again (the outbox's NOTIFY wakes the relay for what that sends)."""
    await stock_store.mark_changed(connection, skus)
    await release_waiting(connection, skus, None)


async def get_catalog_entry(ports: SplitterPorts, sku: str) -> dict[str, Any]:
    async with _snapshot(ports.pool) as connection:
        entry = await catalog_store.get_catalog_entry(connection, sku)
    if entry is None:
        raise NotFound("no such SKU")
    return entry


async def get_routing(ports: SplitterPorts, order_id: str) -> dict[str, Any]:
    """Which vendor got which line of the order, and why, with its vendor orders and whole history."""
    async with _snapshot(ports.pool) as connection:
        view = await order_store.routing_view(connection, order_id)
    if view is None:
        raise NotFound("the splitter has not seen this order (yet)")
    return view


async def get_settings(ports: SplitterPorts) -> RoutingSettings:
    async with ports.pool.acquire() as connection:
        return await settings_store.routing_settings(connection)


async def put_settings(ports: SplitterPorts, settings: RoutingSettings) -> RoutingSettings:
    async with ports.pool.acquire() as connection, connection.transaction():
        await settings_store.put_routing_settings(connection, settings)
    return settings


async def preview(ports: SplitterPorts, request: PreviewRequest) -> dict[str, Any]:
    """The decisions and reasons a draft order would get now; nothing is stored or sent."""
    order = request.to_order()
    moment = utc_now()
    async with _snapshot(ports.pool) as connection:
        settings = await settings_store.routing_settings(connection)
        lines = rounds.lines_of(order)
        routing, _ = await rounds.plan(connection, lines, order.ship_to.country, settings, moment)
    holds = [*order_holds(order, settings.holds, now=moment), *routing.holds]
    vendor_orders = (
        []
        if holds
        else split_order(order, routing.allocations, first_sequence=1, new_vendor_order_id=lambda: "preview")
    )
    return {
        "held": bool(holds),
        "holds": [{"code": h.code, "detail": h.detail, "line_id": h.line_id} for h in holds],
        "decisions": [
            {
                "line_id": a.line_id,
                "sku": a.sku,
                "quantity": a.quantity,
                "vendor": a.vendor,
                "reason": a.reason,
                "backorder": a.backorder,
            }
            for a in routing.allocations
        ],
        "vendor_orders": [
            {
                "vendor": v.vendor,
                "vendor_order_number": v.vendor_order_number,
                "lines": [{"line_id": li.line_id, "sku": li.sku, "quantity": li.quantity} for li in v.lines],
                "tax_amount": v.tax_amount,
                "shipping_amount": v.shipping_amount,
            }
            for v in vendor_orders
        ],
    }


async def list_holds(ports: SplitterPorts, limit: int = 500) -> list[dict[str, Any]]:
    async with ports.pool.acquire() as connection:
        return await order_store.held_orders(connection, limit)


async def release_order(ports: SplitterPorts, order_id: str, overrides: Mapping[str, str]) -> Outcome:
    """A person releases a held order (or its held lines), optionally choosing the vendor of lines."""
    async with ports.pool.acquire() as connection, connection.transaction():
        routed = await order_store.load(connection, order_id, lock=True)
        if routed is None or routed.order is None:
            raise NotFound("the splitter has not seen this order (yet)")
        if routed.state == "cancelled":
            raise Conflict("order_cancelled", "the order is cancelled")
        if not routed.holds:
            raise Conflict("not_held", "the order is not held")
        await _check_overrides(connection, routed.order.lines, routed.holds, overrides)
        outcome = await route_again(connection, routed, by="person", causation_id=None, overrides=overrides)
        if outcome.holds and routed.state == "held":
            raise Conflict("still_held", "; ".join(h["detail"] for h in outcome.holds))
    ports.wake_relay()
    return outcome


async def _check_overrides(
    connection: Connection, lines: Any, holds: list[dict[str, Any]], overrides: Mapping[str, str]
) -> None:
    by_id = {line.line_id: line for line in lines}
    fields: dict[str, str] = {}
    for line_id, vendor in overrides.items():
        line = by_id.get(line_id)
        if line is None:
            fields[f"overrides.{line_id}"] = "no such line on the order"
        elif vendor not in await catalog_store.carriers(connection, line.sku):
            fields[f"overrides.{line_id}"] = f"vendor {vendor!r} does not carry SKU {line.sku}"
    if fields:
        raise Invalid("an override names a line or vendor that does not fit", fields)


async def list_feeds(ports: SplitterPorts, vendor: str | None, limit: int = 200) -> list[dict[str, Any]]:
    async with ports.pool.acquire() as connection:
        return await stock_store.list_feeds(connection, vendor, limit)
