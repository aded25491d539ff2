"""What the use cases are given: the repository (the adapter's tables) and the Custom Store's ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from services.shipstation import repository as postgres
from services.shipstation.metrics import AdapterMetrics
from services.shipstation.repository import ExportSnapshot, PollRecord, StoreConnection, StoredVendorOrder
from shared.contracts.envelope import Envelope
from shared.db import Connection, Queryable


class Repository(Protocol):
    """The adapter's tables as the use cases use them; :mod:`services.shipstation.repository` is the
    PostgreSQL implementation, unit tests pass a fake."""

    async def get_connection(self, db: Queryable, vendor: str) -> StoreConnection | None: ...

    async def set_credentials(self, db: asyncpg.Pool, vendor: str, username: str, password_hash: str) -> None: ...

    async def update_settings(self, db: asyncpg.Pool, vendor: str, changes: dict[str, Any]) -> None: ...

    async def record_zone_warning(self, db: asyncpg.Pool, vendor: str, warning: str | None) -> None: ...

    async def snapshot_window(
        self, db: asyncpg.Pool, vendor: str, start: datetime, end: datetime, page_size: int
    ) -> ExportSnapshot: ...

    async def latest_snapshot(
        self, db: asyncpg.Pool, vendor: str, start: datetime, end: datetime
    ) -> ExportSnapshot | None: ...

    async def snapshot_page(self, db: asyncpg.Pool, snapshot: ExportSnapshot, page: int) -> list[StoredVendorOrder]: ...

    async def find_vendor_order(
        self, connection: Connection, vendor: str, order_id: str | None, number: str | None
    ) -> StoredVendorOrder | None: ...

    async def mark_first_exported(
        self, connection: Connection, vendor_order_ids: Sequence[str]
    ) -> list[StoredVendorOrder]: ...

    async def enqueue_events(self, connection: Connection, events: Sequence[Envelope]) -> None: ...

    async def record_shipment(
        self,
        connection: Connection,
        shipment_id: str,
        vendor: str,
        vendor_order_id: str,
        payload: dict[str, Any],
        shipped: dict[str, int],
        state: str,
        state_changed: bool,
        event: Envelope,
    ) -> bool: ...

    async def record_problem(
        self, db: Queryable, vendor: str, kind: str, vendor_order_id: str | None, detail: str
    ) -> None: ...

    async def list_problems(self, db: asyncpg.Pool, vendor: str, limit: int = 200) -> list[dict[str, Any]]: ...

    async def record_poll(self, db: asyncpg.Pool, poll: PollRecord) -> None: ...

    async def list_polls(self, db: asyncpg.Pool, vendor: str, limit: int = 200) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class StorePorts:
    """What every use case behind the Custom Store endpoint and the admin API needs: the database,
    the repository over it and the adapter's metrics."""

    pool: asyncpg.Pool
    metrics: AdapterMetrics
    repository: Repository = postgres


@dataclass(frozen=True)
class StoreCall:
    """One call ShipStation made to a vendor's Custom Store endpoint."""

    vendor: str
    started: float
    """``time.perf_counter()`` when the call arrived: the poll log records how long its answer took."""
