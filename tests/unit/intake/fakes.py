"""In-memory stand-ins for intake's ports (services/intake/ports.py), for the use cases' unit tests."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.intake.holds import NO_HOLDS, HoldState
from services.intake.repository import Channel, StoredOrder
from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderReceivedData

NOW = datetime(2026, 11, 27, 5, 41, tzinfo=UTC)


@dataclass
class FakeTables:
    """Intake's tables as dictionaries. ``statements`` counts the round trips a use case made."""

    channels: dict[str, Channel] = field(default_factory=dict)
    key_hashes: dict[str, str] = field(default_factory=dict)
    orders: dict[str, StoredOrder] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    outbox: list[Envelope] = field(default_factory=list)
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)
    statements: list[str] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)

    def _count(self, name: str) -> None:
        self.statements.append(name)

    async def get_channel(self, code: str) -> Channel | None:
        self._count("get_channel")
        return self.channels.get(code)

    async def channel_for_key(self, key_hash: str) -> str | None:
        self._count("channel_for_key")
        return next((code for code, known in self.key_hashes.items() if known == key_hash), None)

    async def upsert_channel(
        self,
        code: str,
        name: str,
        webhook_url: str | None,
        webhook_secret: str | None,
        new_secret: str,
        new_key_hash: str,
    ) -> bool:
        self._count("upsert_channel")
        existing = self.channels.get(code)
        secret = webhook_secret or (existing.webhook_secret if existing else new_secret)
        self.channels[code] = Channel(code, name, webhook_url, secret)
        if existing is None:
            self.key_hashes[code] = new_key_hash
        return existing is None

    async def rotate_key(self, code: str, key_hash: str) -> bool:
        self._count("rotate_key")
        if code not in self.channels:
            return False
        self.key_hashes[code] = key_hash
        return True

    async def insert_order_announced(self, order: OrderReceivedData, event: Envelope) -> datetime | None:
        self._count("insert_order_announced")
        if order.channel not in self.channels:
            raise asyncpg.ForeignKeyViolationError("orders_channel_fkey")
        if any(
            o.channel == order.channel and o.payload["external_id"] == order.external_id for o in self.orders.values()
        ):
            return None
        payload = order.model_dump(mode="json")
        self.orders[order.order_id] = StoredOrder(
            order.order_id, order.channel, "received", payload, NOW, NOW, None, order.status, NO_HOLDS
        )
        self.history[order.order_id] = [{"status": "received", "cause": "intake", "changed_at": NOW}]
        self.outbox.append(event)
        return NOW

    async def get_order(self, order_id: str, *, lock: bool = False) -> StoredOrder | None:
        self._count("get_order")
        if lock:
            self.locked.append(order_id)
        return self.orders.get(order_id)

    async def get_order_by_external_id(self, channel: str, external_id: str) -> StoredOrder | None:
        self._count("get_order_by_external_id")
        return next(
            (o for o in self.orders.values() if o.channel == channel and o.payload["external_id"] == external_id), None
        )

    def _set_status(self, order_id: str, status: str, cause: str) -> None:
        order = self.orders[order_id]
        cancelled_at = order.cancelled_at or (NOW if status == "cancelled" else None)
        self.orders[order_id] = replace(order, status=status, cancelled_at=cancelled_at)
        self.history[order_id].append({"status": status, "cause": cause, "changed_at": NOW})

    async def set_status_announced(self, order_id: str, status: str, cause: str, event: Envelope) -> None:
        self._count("set_status_announced")
        self._set_status(order_id, status, cause)
        self.outbox.append(event)

    async def set_channel_status_announced(
        self, order_id: str, channel_status: str, cause: str, event: Envelope
    ) -> None:
        self._count("set_channel_status_announced")
        order = self.orders[order_id]
        self.orders[order_id] = replace(order, channel_status=channel_status)
        self.history[order_id].append({"status": order.status, "cause": cause, "changed_at": NOW})
        self.outbox.append(event)

    async def set_holds(self, order_id: str, state: HoldState) -> None:
        self._count("set_holds")
        self.orders[order_id] = replace(self.orders[order_id], hold_state=state)

    async def record_status_change(
        self,
        order_id: str,
        status: str,
        cause: str,
        delivery_id: str,
        channel: str,
        event_type: str,
        body: dict[str, Any],
    ) -> None:
        self._count("record_status_change")
        self._set_status(order_id, status, cause)
        self.deliveries.setdefault(
            delivery_id, {"order_id": order_id, "channel": channel, "event_type": event_type, "body": body}
        )

    async def status_history(self, order_id: str) -> list[dict[str, Any]]:
        self._count("status_history")
        return list(self.history.get(order_id, []))

    async def deliveries_for_order(self, order_id: str) -> list[dict[str, Any]]:
        self._count("deliveries_for_order")
        return [{"delivery_id": k, **v} for k, v in self.deliveries.items() if v["order_id"] == order_id]


class FakeDatabase:
    """Transactions over :class:`FakeTables`: committed when the block ends, undone when it raises."""

    def __init__(self, tables: FakeTables | None = None) -> None:
        self._tables = tables or FakeTables()
        self.transactions = 0

    @property
    def tables(self) -> FakeTables:
        return self._tables

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeTables]:
        self.transactions += 1
        before = copy.deepcopy(self._tables.__dict__)
        try:
            yield self._tables
        except BaseException:
            self._tables.__dict__.update(before)
            raise


@dataclass
class FakeProgress:
    """The splitter's and tracking's answers, as given."""

    routing_answer: Any = None
    shipments_answer: Any = None
    asked: list[str] = field(default_factory=list)

    async def routing(self, order_id: str) -> Any:
        self.asked.append(f"routing {order_id}")
        return self.routing_answer

    async def shipments(self, order_id: str) -> Any:
        self.asked.append(f"shipments {order_id}")
        return self.shipments_answer


@dataclass
class Wakes:
    """Counts the relay wake-ups a use case asked for."""

    count: int = 0

    def __call__(self) -> None:
        self.count += 1
