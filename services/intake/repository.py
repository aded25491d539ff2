"""Intake's tables: channels, orders (with the channel's status and the splitter's holds), status
history and upstream deliveries.

:class:`IntakeRepository` runs each statement on what it is given: the pool (a single statement commits
by itself) or a connection inside a transaction that a use case opened (:class:`PostgresDatabase`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.intake.holds import Hold, HoldState
from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderReceivedData
from shared.db import Queryable
from shared.messaging.batching import Batcher
from shared.messaging.linger import DEFAULT_LINGER_SECONDS
from shared.messaging.outbox import insert_event_sql, insert_events_of_rows_sql, outbox_row, outbox_rows
from shared.secrets import SealedColumn

SEALED_COLUMNS = (SealedColumn("channels", "code", "webhook_secret"),)
"""Where intake keeps secrets sealed (:mod:`shared.secrets`): sealed at start if still in clear, and
resealed by ``POST /v1/admin/secrets:reseal``."""


@dataclass(frozen=True)
class Channel:
    code: str
    name: str
    webhook_url: str | None
    webhook_secret: str
    """Sealed (:class:`shared.secrets.SecretBox`): opened only to sign a webhook."""


@dataclass(frozen=True)
class StoredOrder:
    id: str
    channel: str
    status: str
    payload: dict[str, Any]
    received_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    channel_status: str
    """The channel's status now (paid, unpaid, on_hold): as sent with the order, or changed since."""
    hold_state: HoldState


@dataclass(frozen=True)
class DueDelivery:
    seq: int
    delivery_id: str
    order_id: str
    event_type: str
    body: dict[str, Any]
    attempts: int
    webhook_url: str | None
    webhook_secret: str
    """The channel's secret as stored: sealed."""


@dataclass(frozen=True)
class FailedDelivery:
    seq: int
    status: int | None
    error: str
    retry_in_seconds: float


_ORDER_COLUMNS = (
    "id, channel, status, payload, received_at, updated_at, cancelled_at, channel_status, holds, holds_as_of"
)
_SET_STATUS = (
    "UPDATE orders SET status = $2, updated_at = now(),"
    " cancelled_at = CASE WHEN $2 = 'cancelled' THEN coalesce(cancelled_at, now()) ELSE cancelled_at END"
    " WHERE id = $1"
)
INSERT_ORDER_SQL = (
    "WITH new_order AS ("  # noqa: S608 - composed of constant SQL only
    "  INSERT INTO orders (id, channel, external_id, order_number, payload, channel_status)"
    "  VALUES ($1, $2, $3, $4, $5, $6)"
    "  ON CONFLICT (channel, external_id) DO NOTHING RETURNING id, received_at"
    "), history AS ("
    "  INSERT INTO order_status_history (order_id, status, cause) SELECT id, 'received', 'intake' FROM new_order"
    f"), announced AS ({insert_event_sql(7, for_each_row_of='new_order')})"
    " SELECT received_at FROM new_order"
)
# The orders posted at the same moment, in one statement (group commit): as INSERT_ORDER_SQL for each.
INSERT_ORDERS_SQL = (
    "WITH given AS ("  # noqa: S608 - composed of constant SQL only
    "  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[]) WITH ORDINALITY"
    "  AS g(id, channel, external_id, order_number, payload, channel_status, n)"
    "), new_order AS ("
    "  INSERT INTO orders (id, channel, external_id, order_number, payload, channel_status)"
    "  SELECT id, channel, external_id, order_number, payload, channel_status FROM given ORDER BY n"
    "  ON CONFLICT (channel, external_id) DO NOTHING RETURNING id, received_at"
    "), history AS ("
    "  INSERT INTO order_status_history (order_id, status, cause) SELECT id, 'received', 'intake' FROM new_order"
    f"), announced AS ({insert_events_of_rows_sql(7, keys_parameter=1, rows_of='new_order', key_column='id')})"
    " SELECT id, received_at FROM new_order"
)
SET_STATUS_ANNOUNCED_SQL = (
    f"WITH changed AS ({_SET_STATUS} RETURNING id),"  # noqa: S608 - composed of constant SQL only
    " history AS (INSERT INTO order_status_history (order_id, status, cause) SELECT id, $2, $3 FROM changed)"
    f" {insert_event_sql(4, for_each_row_of='changed')}"
)
# The order's status does not change, but its history says when the channel changed its own.
SET_CHANNEL_STATUS_ANNOUNCED_SQL = (
    "WITH changed AS (UPDATE orders SET channel_status = $2, updated_at = now() WHERE id = $1"  # noqa: S608 - constant SQL
    "  RETURNING id, status),"
    " history AS (INSERT INTO order_status_history (order_id, status, cause) SELECT id, status, $3 FROM changed)"
    f" {insert_event_sql(4, for_each_row_of='changed')}"
)
RECORD_STATUS_CHANGE_SQL = (
    f"WITH changed AS ({_SET_STATUS}),"  # noqa: S608 - composed of constant SQL only
    " history AS (INSERT INTO order_status_history (order_id, status, cause) VALUES ($1, $2, $3))"
    # A channel without a webhook URL (a shop, told by the channels service) is owed no webhook.
    " INSERT INTO upstream_deliveries (delivery_id, order_id, channel, event_type, body)"
    " SELECT $4, $1, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM channels WHERE code = $5 AND webhook_url IS NOT NULL)"
    " ON CONFLICT (delivery_id) DO NOTHING"
)
# Leases the due deliveries that are first in line for their order: pushing ``next_attempt_at`` one
# lease ahead takes them out of every other deliverer's claim (SKIP LOCKED while this statement runs,
# the WHERE clause re-checked on the updated row after), without a transaction held open while sending.
# A later delivery of an order is never due while an earlier one is undelivered, leased or not.
CLAIM_DELIVERIES_SQL = (
    "UPDATE upstream_deliveries d SET next_attempt_at = now() + make_interval(secs => $2)"
    " FROM channels c"
    " WHERE c.code = d.channel AND d.seq IN ("
    "   SELECT f.seq FROM upstream_deliveries f"
    "   WHERE f.delivered_at IS NULL AND f.next_attempt_at <= now()"
    "     AND NOT EXISTS (SELECT 1 FROM upstream_deliveries e"
    "                     WHERE e.order_id = f.order_id AND e.delivered_at IS NULL AND e.seq < f.seq)"
    "   ORDER BY f.seq LIMIT $1 FOR UPDATE SKIP LOCKED)"
    " RETURNING d.seq, d.delivery_id, d.order_id, d.event_type, d.body, d.attempts, c.webhook_url, c.webhook_secret"
)
# ``delivered_at IS NULL``: a round that outlived its lease does not count twice what another sent.
MARK_DELIVERED_SQL = (
    "UPDATE upstream_deliveries d SET delivered_at = now(), attempts = d.attempts + 1,"
    " last_status = s.status, last_error = NULL"
    " FROM unnest($1::bigint[], $2::int[]) AS s(seq, status) WHERE d.seq = s.seq AND d.delivered_at IS NULL"
)
RESCHEDULE_SQL = (
    "UPDATE upstream_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3,"
    " next_attempt_at = now() + make_interval(secs => $4) WHERE seq = $1 AND delivered_at IS NULL"
)


def _order(row: asyncpg.Record) -> StoredOrder:
    return StoredOrder(
        row["id"],
        row["channel"],
        row["status"],
        row["payload"],
        row["received_at"],
        row["updated_at"],
        row["cancelled_at"],
        row["channel_status"],
        HoldState(tuple(Hold.from_json(hold) for hold in row["holds"]), row["holds_as_of"]),
    )


NewOrder = tuple[OrderReceivedData, Envelope]
"""An order to store and its ``order.received`` event."""


class IntakeRepository:
    def __init__(self, db: Queryable, *, orders_together: Batcher[NewOrder, datetime | None] | None = None) -> None:
        self._db = db
        self._orders_together = orders_together

    # ------------------------------------------------------------------------------------------ channels

    async def get_channel(self, code: str) -> Channel | None:
        row = await self._db.fetchrow(
            "SELECT code, name, webhook_url, webhook_secret FROM channels WHERE code = $1", code
        )
        return Channel(row["code"], row["name"], row["webhook_url"], row["webhook_secret"]) if row else None

    async def channel_for_key(self, key_hash: str) -> str | None:
        code: str | None = await self._db.fetchval("SELECT code FROM channels WHERE api_key_hash = $1", key_hash)
        return code

    async def upsert_channel(
        self,
        code: str,
        name: str,
        webhook_url: str | None,
        webhook_secret: str | None,
        new_secret: str,
        new_key_hash: str,
    ) -> bool:
        """Create or update a channel. Answers whether it was created (the caller then shows the key).
        ``webhook_secret`` and ``new_secret`` are sealed already."""
        created: bool = await self._db.fetchval(
            "INSERT INTO channels (code, name, webhook_url, webhook_secret, api_key_hash)"
            " VALUES ($1, $2, $3, coalesce($4, $5), $6)"
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, webhook_url = excluded.webhook_url,"
            "   webhook_secret = coalesce($4, channels.webhook_secret), updated_at = now()"
            " RETURNING (xmax = 0)",
            code,
            name,
            webhook_url,
            webhook_secret,
            new_secret,
            new_key_hash,
        )
        return created

    async def rotate_key(self, code: str, key_hash: str) -> bool:
        result: str = await self._db.execute(
            "UPDATE channels SET api_key_hash = $2, updated_at = now() WHERE code = $1", code, key_hash
        )
        return result.endswith(" 1")

    # ------------------------------------------------------------------------------------------ orders

    async def insert_order_announced(self, order: OrderReceivedData, event: Envelope) -> datetime | None:
        """Store a new order, its first status and its ``order.received`` event in one statement (a
        single statement commits atomically without a transaction block: one round trip per order).

        Answers when it was received, or ``None`` when the channel sent this order before. An unknown
        channel raises :class:`asyncpg.ForeignKeyViolationError`. On the pool, orders posted at the
        same moment share one statement (:class:`PostgresDatabase`); each caller gets its own answer.
        """
        if self._orders_together is not None:
            return await self._orders_together((order, event))
        received_at: datetime | None = await self._db.fetchval(
            INSERT_ORDER_SQL,
            order.order_id,
            order.channel,
            order.external_id,
            order.order_number,
            order.model_dump(mode="json"),
            order.status,
            *outbox_row(event),
        )
        return received_at

    async def insert_orders_announced(self, new_orders: Sequence[NewOrder]) -> list[datetime | None]:
        """:meth:`insert_order_announced` for many orders in one statement, answers in their order. One
        unknown channel fails them all (the caller then stores them one by one)."""
        orders = [order for order, _ in new_orders]
        rows = await self._db.fetch(
            INSERT_ORDERS_SQL,
            [o.order_id for o in orders],
            [o.channel for o in orders],
            [o.external_id for o in orders],
            [o.order_number for o in orders],
            [o.model_dump(mode="json") for o in orders],
            [o.status for o in orders],
            *outbox_rows([event for _, event in new_orders]),
        )
        received = {row["id"]: row["received_at"] for row in rows}
        return [received.get(order.order_id) for order in orders]

    async def get_order(self, order_id: str, *, lock: bool = False) -> StoredOrder | None:
        suffix = " FOR UPDATE" if lock else ""
        row = await self._db.fetchrow(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = $1{suffix}", order_id)  # noqa: S608
        return _order(row) if row else None

    async def get_order_by_external_id(self, channel: str, external_id: str) -> StoredOrder | None:
        row = await self._db.fetchrow(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE channel = $1 AND external_id = $2",  # noqa: S608
            channel,
            external_id,
        )
        return _order(row) if row else None

    async def set_status_announced(self, order_id: str, status: str, cause: str, event: Envelope) -> None:
        """Set the order's status, add it to the history and write ``event`` to the outbox: one statement."""
        await self._db.execute(SET_STATUS_ANNOUNCED_SQL, order_id, status, cause, *outbox_row(event))

    async def set_channel_status_announced(
        self, order_id: str, channel_status: str, cause: str, event: Envelope
    ) -> None:
        """Set the channel's status, note it in the history and write ``event`` to the outbox: one statement."""
        await self._db.execute(SET_CHANNEL_STATUS_ANNOUNCED_SQL, order_id, channel_status, cause, *outbox_row(event))

    async def set_holds(self, order_id: str, state: HoldState) -> None:
        await self._db.execute(
            "UPDATE orders SET holds = $2, holds_as_of = $3, updated_at = now() WHERE id = $1",
            order_id,
            [hold.as_json() for hold in state.holds],
            state.as_of,
        )

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
        """Set the order's status, add it to the history and queue the channel's webhook, in one statement."""
        await self._db.execute(
            RECORD_STATUS_CHANGE_SQL, order_id, status, cause, delivery_id, channel, event_type, body
        )

    async def status_history(self, order_id: str) -> list[dict[str, Any]]:
        rows = await self._db.fetch(
            "SELECT status, cause, changed_at FROM order_status_history WHERE order_id = $1 ORDER BY id", order_id
        )
        return [dict(row) for row in rows]

    # ------------------------------------------------------------------------------------------ webhooks

    async def deliveries_for_order(self, order_id: str) -> list[dict[str, Any]]:
        rows = await self._db.fetch(
            "SELECT delivery_id, event_type, created_at, attempts, delivered_at, last_status, last_error,"
            " next_attempt_at FROM upstream_deliveries WHERE order_id = $1 ORDER BY seq",
            order_id,
        )
        return [dict(row) for row in rows]

    async def claim_due_deliveries(self, limit: int, lease_seconds: float) -> list[DueDelivery]:
        """Lease up to ``limit`` due deliveries, each first in line for its order, in ``seq`` order."""
        rows = await self._db.fetch(CLAIM_DELIVERIES_SQL, limit, lease_seconds)
        deliveries = [
            DueDelivery(
                r["seq"],
                r["delivery_id"],
                r["order_id"],
                r["event_type"],
                r["body"],
                r["attempts"],
                r["webhook_url"],
                r["webhook_secret"],
            )
            for r in rows
        ]
        # UPDATE ... RETURNING answers in no particular order.
        return sorted(deliveries, key=lambda delivery: delivery.seq)

    async def mark_delivered(self, delivered: Sequence[tuple[int, int]]) -> None:
        """Stamp deliveries (seq, HTTP status) delivered: one statement for the whole round."""
        if delivered:
            await self._db.execute(
                MARK_DELIVERED_SQL, [seq for seq, _ in delivered], [status for _, status in delivered]
            )

    async def reschedule_failed(self, failed: Sequence[FailedDelivery]) -> None:
        """Count the failed attempts and set when each is due again: one round trip for the whole round."""
        if failed:
            await self._db.executemany(
                RESCHEDULE_SQL, [(f.seq, f.status, f.error[:500], f.retry_in_seconds) for f in failed]
            )

    async def oldest_undelivered_age_seconds(self) -> float:
        age = await self._db.fetchval(
            "SELECT extract(epoch FROM now() - min(created_at)) FROM upstream_deliveries WHERE delivered_at IS NULL"
        )
        return float(age or 0.0)


class PostgresDatabase:
    """The database port of the use cases: single statements on the pool, or one transaction.

    New orders posted at the same moment are stored together (group commit): while one statement
    commits, the orders that arrive wait and go in the next, lingering up to ``linger_seconds`` for
    more under load; every request is answered after the commit that stored its order."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        linger_seconds: float = DEFAULT_LINGER_SECONDS,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.pool = pool
        alone = IntakeRepository(pool)
        self.orders_together: Batcher[NewOrder, datetime | None] = Batcher(
            "intake-orders",
            alone.insert_orders_announced,
            lambda new_order: alone.insert_order_announced(*new_order),
            linger_seconds=linger_seconds,
            on_batch=on_batch,
        )
        self.tables = IntakeRepository(pool, orders_together=self.orders_together)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[IntakeRepository]:
        async with self.pool.acquire() as connection, connection.transaction():
            yield IntakeRepository(connection)
