"""Where an order's time goes between intake and the adapter, from the timestamps each service
already writes (read-only, after the fact). Every timestamp is its transaction's start (``now()``):

- ``intake_to_relay``: intake's transaction began → intake's relay began the batch that published it;
- ``relay_to_splitter``: that batch began (publish, broker confirm, queue, prefetch) → the splitter's
  transaction for it began;
- ``splitter_to_relay`` and ``relay_to_adapter``: the same for the vendor order event;
- ``total``: intake's transaction began → the adapter's transaction that stored the vendor order began.

Each table is read once with an index or one scan and the rows are joined here: the services' tables
have no index for this (nor should they), and a join in SQL over fresh, unanalysed tables can take
minutes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bench.environment import connect_database
from bench.stats import summary

HOPS = ("intake_to_relay", "relay_to_splitter", "splitter_to_relay", "relay_to_adapter", "total")


async def breakdown(dsn: str, channel: str, order_numbers: list[str]) -> dict[str, Any]:
    """p50/p95/p99 of each hop over the vendor orders of ``order_numbers``."""
    try:
        return await _breakdown(dsn, channel, order_numbers)
    except Exception as error:  # a diagnostic: never worth losing the run's numbers over
        return {"error": f"{type(error).__name__}: {error}"}


async def _breakdown(dsn: str, channel: str, order_numbers: list[str]) -> dict[str, Any]:
    connection = await connect_database(dsn)
    try:
        await connection.execute("SET statement_timeout = '60s'")
        orders = await connection.fetch(
            "SELECT id, received_at FROM intake.orders WHERE channel = $1 AND external_id = ANY($2::text[])",
            channel,
            [f"ext-{number}" for number in order_numbers],
        )
        received = {row["id"]: row["received_at"] for row in orders}
        ids = list(received)
        intake_out = await connection.fetch(
            "SELECT message_id, correlation_id, created_at, published_at FROM intake.outbox"
            " WHERE message_type = 'order.received' AND correlation_id = ANY($1::text[])",
            ids,
        )
        splitter_in = await connection.fetch(
            "SELECT message_id, processed_at FROM splitter.inbox"
            " WHERE consumer = 'splitter.orders' AND message_id = ANY($1::text[])",
            [row["message_id"] for row in intake_out],
        )
        splitter_out = await connection.fetch(
            "SELECT message_id, correlation_id, created_at, published_at FROM splitter.outbox"
            " WHERE message_type = 'vendor_order.created' AND correlation_id = ANY($1::text[])",
            ids,
        )
        adapter_in = await connection.fetch(
            "SELECT message_id, processed_at FROM shipstation.inbox"
            " WHERE consumer = 'shipstation.vendor' AND message_id = ANY($1::text[])",
            [row["message_id"] for row in splitter_out],
        )
    finally:
        await connection.close()
    order_event = {row["correlation_id"]: row for row in intake_out}
    split_at = {row["message_id"]: row["processed_at"] for row in splitter_in}
    stored_at = {row["message_id"]: row["processed_at"] for row in adapter_in}
    hops: dict[str, list[float]] = {hop: [] for hop in HOPS}

    def seconds(later: datetime | None, earlier: datetime | None) -> float | None:
        return None if later is None or earlier is None else (later - earlier).total_seconds()

    for vendor_event in splitter_out:
        order_id = vendor_event["correlation_id"]
        first = order_event.get(order_id)
        if first is None:
            continue
        values = {
            "intake_to_relay": seconds(first["published_at"], first["created_at"]),
            "relay_to_splitter": seconds(split_at.get(first["message_id"]), first["published_at"]),
            "splitter_to_relay": seconds(vendor_event["published_at"], vendor_event["created_at"]),
            "relay_to_adapter": seconds(stored_at.get(vendor_event["message_id"]), vendor_event["published_at"]),
            "total": seconds(stored_at.get(vendor_event["message_id"]), received.get(order_id)),
        }
        for hop, value in values.items():
            if value is not None:
                hops[hop].append(value)
    return {hop: summary(values) for hop, values in hops.items()}
