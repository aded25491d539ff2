"""What the splitter's use cases need from outside, as small interfaces: its tables (each call given
the connection of the transaction it belongs to), the pool a command borrows a connection from, the
broker's vendor queues and the outbox relay. The real ones are :mod:`services.splitter.repository`,
the asyncpg pool and the runtime, wired once by :mod:`services.splitter.app`; unit tests pass fakes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from services.splitter import repository
from services.splitter.repository import Vendor
from services.splitter.routing import LineDecision, RoutedState, Source, VendorOrderRef
from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderReceivedData
from shared.contracts.vendor_orders import VendorOrderCreatedData
from shared.db import Connection


class SplitterStore(Protocol):
    """The splitter's tables, as the use cases use them (:mod:`services.splitter.repository`)."""

    async def upsert_vendor(self, db: Connection, vendor: Vendor) -> bool: ...
    async def get_vendor(self, db: Connection, code: str) -> Vendor | None: ...
    async def list_vendors(self, db: Connection) -> list[Vendor]: ...
    async def existing_vendors(self, connection: Connection, codes: Sequence[str]) -> set[str]: ...
    async def replace_catalog_entry(
        self, connection: Connection, sku: str, name: str | None, sources: Sequence[Source]
    ) -> None: ...
    async def get_catalog_entry(self, db: Connection, sku: str) -> dict[str, Any] | None: ...
    async def sources_for(self, connection: Connection, skus: Sequence[str]) -> dict[str, list[Source]]: ...
    async def set_stock(self, connection: Connection, vendor: str, levels: Sequence[tuple[str, int]]) -> None: ...
    async def routed_order_state(
        self, connection: Connection, order_id: str, *, lock: bool = False
    ) -> RoutedState | None: ...
    async def save_routing(
        self,
        connection: Connection,
        order: OrderReceivedData,
        state: RoutedState,
        hold_reason: str | None,
        decisions: Sequence[LineDecision],
        vendor_orders: Sequence[VendorOrderCreatedData] = (),
        events: Sequence[Envelope] = (),
        *,
        replace: bool = False,
    ) -> None: ...
    async def mark_cancelled_before_seen(self, connection: Connection, order_id: str) -> None: ...
    async def vendor_orders_of(self, connection: Connection, order_id: str) -> list[VendorOrderRef]: ...
    async def record_cancellation(
        self, connection: Connection, order_id: str, vendor_order_ids: Sequence[str], events: Sequence[Envelope]
    ) -> None: ...
    async def held_orders_with_sku(self, connection: Connection, sku: str) -> list[OrderReceivedData]: ...
    async def routing_view(self, db: Connection, order_id: str) -> dict[str, Any] | None: ...


class Database(Protocol):
    """Where a command borrows its connection (an asyncpg pool)."""

    def acquire(self) -> AbstractAsyncContextManager[Connection]: ...


@dataclass(frozen=True)
class SplitterPorts:
    """What the commands use from outside, built once by the composition root."""

    pool: Database
    declare_vendor_queue: Callable[[str], Awaitable[None]]
    """Declares ``vendor.<code>`` on the broker (idempotent)."""
    wake_relay: Callable[[], None]
    """Tells the outbox relay that committed events wait."""
    store: SplitterStore = repository
