"""What the splitter does: one function per admin command and per event it consumes.

Event handlers (``on_<event>``) have the shape :meth:`shared.service.Runtime.consume` calls, ``(connection,
event)``, and run inside the inbox transaction, so an effect, the events it causes and the message id
commit together. Commands take plain data (ids, a validated request from :mod:`services.splitter.commands`)
and their ports (:mod:`services.splitter.ports`), own their transaction, and raise a :class:`SplitterError`
for the HTTP layer to answer. Decisions are the pure functions of :mod:`services.splitter.routing`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from services.splitter import repository
from services.splitter.commands import CatalogRequest, VendorRequest
from services.splitter.ports import Database, SplitterPorts, SplitterStore
from services.splitter.repository import Vendor
from services.splitter.routing import plan_routing, vendor_orders_to_cancel
from shared.contracts.inventory import InventoryUpdated
from shared.contracts.orders import OrderCancelled, OrderReceived, OrderReceivedData
from shared.contracts.vendor_orders import VendorOrderCancelled, VendorOrderCancelledData, VendorOrderCreated
from shared.db import Connection
from shared.logging import get_logger

log = get_logger(__name__)


class SplitterError(Exception):
    """A command that cannot be carried out as asked; nothing was changed."""


class NotFound(SplitterError):
    pass


class UnknownVendor(SplitterError):
    def __init__(self, codes: set[str]) -> None:
        super().__init__(f"unknown vendor(s): {', '.join(sorted(codes))}")
        self.codes = codes


class DuplicateSource(SplitterError):
    def __init__(self) -> None:
        super().__init__("a vendor appears twice")


@asynccontextmanager
async def _snapshot(pool: Database) -> AsyncIterator[Connection]:
    """A read-only transaction, so that the several queries of one answer see the same data."""
    async with pool.acquire() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
        yield connection


def new_vendor_order_id() -> str:
    return f"vo_{uuid.uuid4().hex}"


# ---------------------------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class VendorPut:
    vendor: Vendor
    created: bool


async def put_vendor(ports: SplitterPorts, code: str, request: VendorRequest) -> VendorPut:
    """Create or update vendor ``code`` (a valid vendor code) and declare its queue."""
    # The queue exists before any vendor order can be published to it: publishes are mandatory.
    await ports.declare_vendor_queue(code)
    vendor = Vendor(code, request.name, request.kind, request.settings)
    async with ports.pool.acquire() as connection, connection.transaction():
        created = await ports.store.upsert_vendor(connection, vendor)
    return VendorPut(vendor, created)


async def get_vendor(ports: SplitterPorts, code: str) -> Vendor:
    async with ports.pool.acquire() as connection:
        vendor = await ports.store.get_vendor(connection, code)
    if vendor is None:
        raise NotFound(f"no vendor {code!r}")
    return vendor


async def list_vendors(ports: SplitterPorts) -> list[Vendor]:
    async with ports.pool.acquire() as connection:
        return await ports.store.list_vendors(connection)


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
        unknown = set(vendors) - await ports.store.existing_vendors(connection, vendors)
        if unknown:
            raise UnknownVendor(unknown)
        await ports.store.replace_catalog_entry(connection, sku, request.name, [s.to_source() for s in request.sources])
        released = await _release_held_orders(ports.store, connection, sku)
        entry = await ports.store.get_catalog_entry(connection, sku)
    if released:
        ports.wake_relay()
    return CatalogEntryPut(entry or {}, released)


async def get_catalog_entry(ports: SplitterPorts, sku: str) -> dict[str, Any]:
    async with _snapshot(ports.pool) as connection:
        entry = await ports.store.get_catalog_entry(connection, sku)
    if entry is None:
        raise NotFound("no such SKU")
    return entry


async def get_routing(ports: SplitterPorts, order_id: str) -> dict[str, Any]:
    """Which vendor got which line of the order, and why, with its vendor orders."""
    async with _snapshot(ports.pool) as connection:
        view = await ports.store.routing_view(connection, order_id)
    if view is None:
        raise NotFound("the splitter has not seen this order (yet)")
    return view


# ---------------------------------------------------------------------------------------------- events


async def on_order_received(connection: Connection, event: OrderReceived, *, store: SplitterStore = repository) -> None:
    order = event.data
    if await store.routed_order_state(connection, order.order_id, lock=True) is not None:
        return  # seen before (routed, held, or cancelled before it arrived)
    await _route(store, connection, order, event.message_id)


async def on_order_cancelled(
    connection: Connection, event: OrderCancelled, *, store: SplitterStore = repository
) -> None:
    order_id = event.data.order_id
    state = await store.routed_order_state(connection, order_id, lock=True)
    if state is None:
        # The cancellation overtook its order: remembered, so the late order is not routed.
        await store.mark_cancelled_before_seen(connection, order_id)
        return
    if state == "cancelled":
        return
    withdrawn = vendor_orders_to_cancel(await store.vendor_orders_of(connection, order_id))
    notices = [
        VendorOrderCancelled(
            correlation_id=order_id,
            causation_id=event.message_id,
            occurred_at=event.occurred_at,
            data=VendorOrderCancelledData(
                vendor_order_id=vendor_order.id,
                vendor_order_number=vendor_order.number,
                vendor=vendor_order.vendor,
                order_id=order_id,
                reason=event.data.reason,
                cancelled_at=event.occurred_at,
            ),
        )
        for vendor_order in withdrawn
    ]
    await store.record_cancellation(connection, order_id, [v.id for v in withdrawn], notices)


async def on_inventory_updated(
    connection: Connection, event: InventoryUpdated, *, store: SplitterStore = repository
) -> None:
    await store.set_stock(connection, event.data.vendor, [(level.sku, level.stock) for level in event.data.levels])


# ---------------------------------------------------------------------------------------------- routing


async def _route(
    store: SplitterStore,
    connection: Connection,
    order: OrderReceivedData,
    causation_id: str | None,
    *,
    again: bool = False,
) -> int:
    """Route ``order`` and store the outcome with the events announcing its vendor orders (none if
    held); answers how many vendor orders it made. ``again``: routed before (held, now released)."""
    sources = await store.sources_for(connection, sorted({line.sku for line in order.lines}))
    outcome = plan_routing(order, sources, new_vendor_order_id)
    events = [
        VendorOrderCreated(correlation_id=order.order_id, causation_id=causation_id, data=vendor_order)
        for vendor_order in outcome.vendor_orders
    ]
    await store.save_routing(
        connection,
        order,
        outcome.state,
        outcome.hold_reason,
        outcome.decisions,
        outcome.vendor_orders,
        events,
        replace=again,
    )
    if outcome.state == "held":
        log.warning("order held", order_id=order.order_id, reason=outcome.hold_reason)
    else:
        log.debug("order split", order_id=order.order_id, vendors=[v.vendor for v in outcome.vendor_orders])
    return len(outcome.vendor_orders)


async def _release_held_orders(store: SplitterStore, connection: Connection, sku: str) -> int:
    """Route again the held orders that wait for ``sku``; answers how many vendor orders that made."""
    made = 0
    for order in await store.held_orders_with_sku(connection, sku):
        made += await _route(store, connection, order, None, again=True)
    return made
