"""The outbox: events are written in the transaction that makes the state change, and a relay
publishes them with publisher confirms, persistent and mandatory.

This module is the only writer of the outbox table: a service either calls :func:`enqueue` or puts
:func:`insert_event_sql` / :func:`insert_events_sql` / :func:`insert_events_of_rows_sql` into its own
statement.

The relay runs in a :class:`shared.messaging.relay.RelayLoop`. The service that writes outbox rows
wakes the relay of its own process after the commit (:meth:`OutboxRelay.wake`); rows written from
anywhere else wake it through ``LISTEN outbox_<schema>`` (the table's trigger, which a service's own
pool leaves out: :data:`shared.db.RELAY_IN_PROCESS_SETTING`), and a slow poll finds what neither
announced. It locks a batch of rows in a transaction (``FOR UPDATE SKIP LOCKED``, so several
relays can share a table), and marks rows published only after the broker confirmed them. A crash
between publish and commit leaves those rows unpublished, and they go out again: consumers
deduplicate on ``message_id`` (the inbox), so at-least-once is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import aio_pika
import asyncpg
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection

from shared.backoff import backoff_seconds
from shared.contracts.envelope import Envelope
from shared.db import Connection
from shared.logging import get_logger
from shared.messaging.relay import RelayLoop
from shared.messaging.topology import Topology

log = get_logger(__name__)


OUTBOX_COLUMNS = "message_id, routing_key, message_type, correlation_id, body"
OUTBOX_ARRAY_TYPES = ("text", "text", "text", "text", "bytea")


def outbox_row(event: Envelope) -> tuple[str, str, str, str | None, bytes]:
    """The outbox columns of ``event``, in :data:`OUTBOX_COLUMNS` order: five statement parameters."""
    return event.message_id, event.routing_key(), event.type, event.correlation_id, event.model_dump_json().encode()


def outbox_rows(events: Sequence[Envelope]) -> tuple[list[Any], ...]:
    """The outbox columns of ``events`` as five arrays, for :func:`insert_events_sql`."""
    rows = [outbox_row(event) for event in events]
    return tuple([row[column] for row in rows] for column in range(len(OUTBOX_ARRAY_TYPES)))


def insert_event_sql(first_parameter: int, *, for_each_row_of: str | None = None) -> str:
    """The outbox's INSERT of one event whose :func:`outbox_row` is bound from ``$first_parameter`` on.

    Services put it in a data-modifying CTE of their own statement, so a state change and its event
    cost one round trip; ``for_each_row_of`` names a CTE of that statement: the event is written only
    when (and as often as) that CTE yields a row, e.g. only when the order was new.
    """
    parameters = ", ".join(f"${first_parameter + i}" for i in range(len(OUTBOX_ARRAY_TYPES)))
    source = f" FROM {for_each_row_of}" if for_each_row_of else ""
    return f"INSERT INTO outbox ({OUTBOX_COLUMNS}) SELECT {parameters}{source}"


def insert_events_sql(first_parameter: int) -> str:
    """The outbox's INSERT of any number of events bound as the five arrays of :func:`outbox_rows`."""
    arrays = ", ".join(f"${first_parameter + i}::{kind}[]" for i, kind in enumerate(OUTBOX_ARRAY_TYPES))
    return f"INSERT INTO outbox ({OUTBOX_COLUMNS}) SELECT * FROM unnest({arrays})"  # noqa: S608 - constant SQL


def insert_events_of_rows_sql(first_parameter: int, *, keys_parameter: int, rows_of: str, key_column: str) -> str:
    """The outbox's INSERT of events bound as the five arrays of :func:`outbox_rows` (from
    ``$first_parameter``), each with a key (the array ``$keys_parameter``): an event is written only
    when the CTE ``rows_of`` of the same statement yielded a row whose ``key_column`` is its key (e.g.
    only for the orders of a batch that were new), in the arrays' order."""
    arrays = ", ".join(f"${first_parameter + i}::{kind}[]" for i, kind in enumerate(OUTBOX_ARRAY_TYPES))
    return (
        f"INSERT INTO outbox ({OUTBOX_COLUMNS}) SELECT {', '.join('e.' + c for c in OUTBOX_COLUMNS.split(', '))}"  # noqa: S608
        f" FROM unnest({arrays}, ${keys_parameter}::text[]) WITH ORDINALITY"
        f" AS e({OUTBOX_COLUMNS}, event_key, n) JOIN {rows_of} r ON r.{key_column} = e.event_key ORDER BY e.n"
    )


INSERT_SQL = insert_event_sql(1)


async def enqueue(connection: Connection, event: Envelope) -> None:
    """Write ``event`` to the outbox. Call inside the transaction of the change that caused it."""
    await connection.execute(INSERT_SQL, *outbox_row(event))


async def enqueue_once(connection: Connection, event: Envelope) -> bool:
    """Write ``event`` unless a row of its ``message_id`` is still in the outbox: for events whose id is
    derived from their content (the same answer posted twice). Answers whether it was written."""
    status: str = await connection.execute(INSERT_SQL + " ON CONFLICT (message_id) DO NOTHING", *outbox_row(event))
    return status.endswith(" 1")


async def enqueue_many(connection: Connection, events: Sequence[Envelope]) -> None:
    if events:
        await connection.execute(insert_events_sql(1), *outbox_rows(events))


CLAIM_SQL = (
    "SELECT id, message_id, routing_key, message_type, correlation_id, body, created_at, attempts FROM outbox"
    " WHERE published_at IS NULL AND next_attempt_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
)
BEGIN_SQL = "BEGIN; SET LOCAL synchronous_commit TO off"
"""One round trip opens the relay's transaction. Its commit need not wait for its WAL flush: what it
records (published, or a refusal) may be lost only to a database crash, and then the rows are
published again, which the inbox absorbs. Every commit a consumer acknowledges after stays synchronous."""


def mark_published_and_commit_sql(ids: Sequence[int]) -> str:
    """The stamp and the commit in one round trip (the simple protocol takes no parameters; the ids are
    the table's own integers). clock_timestamp(), not now(): the stamp is when the broker confirmed,
    not when the batch began."""
    listed = ",".join(str(int(row_id)) for row_id in ids)
    return (
        "UPDATE outbox SET published_at = clock_timestamp(), attempts = attempts + 1"  # noqa: S608 - integers only
        f" WHERE id = ANY('{{{listed}}}'::bigint[]); COMMIT"
    )


MARK_FAILED_SQL = (
    "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + make_interval(secs => $3)"
    " WHERE id = $1"
)
REFUSED_ROW_FIRST_RETRY_SECONDS = 1.0
REFUSED_ROW_MAX_RETRY_SECONDS = 300.0


class OutboxRelay:
    """Publishes a schema's outbox rows in id order until stopped."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        dsn: str,
        schema: str,
        connection: AbstractRobustConnection,
        topology: Topology,
        app_id: str,
        batch_size: int = 200,
        idle_poll_seconds: float = 5.0,
    ) -> None:
        self._pool = pool
        self._dsn = dsn
        self._schema = schema
        self._amqp = connection
        self._topology = topology
        self._app_id = app_id
        self._batch_size = batch_size
        self._loop = RelayLoop(
            name=f"outbox-{schema}",
            dsn=dsn,
            channel=f"outbox_{schema}",
            run_round=self._round,
            batch_size=batch_size,
            idle_seconds=idle_poll_seconds,
        )
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self.published = 0
        self.failed = 0

    async def _ensure_exchange(self) -> AbstractExchange:
        if self._channel is None or self._channel.is_closed or self._exchange is None:
            self._channel = await self._amqp.channel(publisher_confirms=True, on_return_raises=True)
            self._exchange = await self._channel.get_exchange(self._topology.exchange, ensure=True)
        return self._exchange

    async def publish_batch(self) -> int:
        """Publish up to one batch; answers how many rows were handled (published or failed).

        One transaction per batch: it locks the oldest due rows (``FOR UPDATE SKIP LOCKED``, so
        relays side by side take different rows), publishes them, waits for the broker's confirms and
        stamps the confirmed ones published before it commits. The claim is a row lock, not a write:
        an earlier version pushed each row's ``next_attempt_at`` one lease ahead first, in a
        transaction of its own: a second row version and a second commit per batch, and with the
        stamp the services' most frequent statements on the database under load. The commit does not
        wait for its WAL flush (``BEGIN_SQL``). A relay that dies mid-batch has its
        transaction rolled back with its connection, so its rows are due again at once for any relay
        (the inbox absorbs what had already gone out).

        A row the broker refuses (unroutable, say) stays unpublished with its error and is tried
        again later with a growing delay, while the rows behind it still go out: one bad event must
        not stop every other order.
        """
        async with self._pool.acquire() as connection:
            await connection.execute(BEGIN_SQL)
            try:
                rows = await connection.fetch(CLAIM_SQL, self._batch_size)
                if not rows:
                    await connection.execute("COMMIT")
                    return 0
                exchange = await self._ensure_exchange()
                outcomes = await asyncio.gather(*(self._publish(exchange, row) for row in rows), return_exceptions=True)
                published = [row["id"] for row, outcome in zip(rows, outcomes, strict=True) if outcome is None]
                failed = [(row, outcome) for row, outcome in zip(rows, outcomes, strict=True) if outcome is not None]
                if failed:
                    await connection.executemany(MARK_FAILED_SQL, [_failed_row(row, error) for row, error in failed])
                await connection.execute(mark_published_and_commit_sql(published) if published else "COMMIT")
            except BaseException:
                # Rolled back here when the connection still answers; a broken one is closed by the pool.
                with contextlib.suppress(Exception):
                    if connection.is_in_transaction():
                        await connection.execute("ROLLBACK")
                raise
        self.published += len(published)
        if failed:
            self.failed += len(failed)
            log.warning(
                "outbox rows not accepted by the broker, will retry",
                schema=self._schema,
                count=len(failed),
                error=str(failed[0][1])[:300],
            )
            if all(isinstance(error, (ConnectionError, OSError)) for _, error in failed):
                raise failed[0][1]  # the broker is away: back off as a whole (the errors are committed)
        return len(rows)

    async def _publish(self, exchange: AbstractExchange, row: Any) -> None:
        created_at: datetime = row["created_at"]
        message = aio_pika.Message(
            bytes(row["body"]),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=row["message_id"],
            correlation_id=row["correlation_id"],
            type=row["message_type"],
            app_id=self._app_id,
            timestamp=created_at.astimezone(UTC),
        )
        # mandatory + on_return_raises: an unroutable event is an error here, never a silent drop.
        await exchange.publish(message, routing_key=row["routing_key"], mandatory=True, timeout=30)

    async def _round(self) -> int:
        try:
            return await self.publish_batch()
        except Exception:
            self._channel = None  # reopen the channel on the next round
            raise

    def wake(self) -> None:
        self._loop.wake()

    async def run(self) -> None:
        await self._loop.run()

    async def stop(self) -> None:
        """Finish the batch under way, then stop."""
        await self._loop.stop()


def _failed_row(row: Any, error: BaseException) -> tuple[int, str, float]:
    """MARK_FAILED_SQL's parameters: the row, its error and when it is next due."""
    retry_in = backoff_seconds(
        row["attempts"] + 1,
        first=REFUSED_ROW_FIRST_RETRY_SECONDS,
        cap=REFUSED_ROW_MAX_RETRY_SECONDS,
        jitter=random.random(),  # noqa: S311 - spreading retries, not a secret
    )
    return row["id"], f"{type(error).__name__}: {error}"[:500], retry_in


async def purge_published(pool: asyncpg.Pool, older_than_hours: int = 24) -> int:
    """Published rows are only history; keep a day of it for inspection."""
    result: str = await pool.execute(
        "DELETE FROM outbox WHERE published_at < now() - make_interval(hours => $1)", older_than_hours
    )
    return int(result.split()[-1])
