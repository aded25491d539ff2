"""Work owed to intake and to the platforms: webhooks received and shipments to push, in order per lane.

A round leases what is due by moving ``next_attempt_at`` one lease ahead (one statement; SKIP LOCKED
keeps instances apart) and holds no transaction while a platform answers; a task is due only while no
earlier pending task of its lane exists, so an order's webhooks (or its shipments) go in the order received.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from shared.db import Queryable

TaskKind = Literal["webhook", "shipment"]


@dataclass(frozen=True)
class DueTask:
    seq: int
    shop: str
    kind: TaskKind
    lane: str
    topic: str
    body: dict[str, Any]
    attempts: int
    """Counting this one."""
    created_at: datetime


@dataclass(frozen=True)
class TaskResult:
    seq: int
    state: Literal["done", "pending", "failed"]
    outcome: str | None = None
    error: str | None = None
    retry_in: float = 0.0


async def add(db: Queryable, shop: str, kind: TaskKind, dedupe_key: str, lane: str, topic: str, body: Any) -> bool:
    """Queue the task; answers False when the same one (the same webhook id, the same shipment) is queued already."""
    seq = await db.fetchval(
        "INSERT INTO tasks (shop, kind, dedupe_key, lane, topic, body) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (shop, kind, dedupe_key) DO NOTHING RETURNING seq",
        shop,
        kind,
        dedupe_key,
        lane,
        topic,
        body,
    )
    return seq is not None


async def add_many(db: Queryable, shop: str, kind: TaskKind, rows: Sequence[tuple[str, str, str, Any]]) -> int:
    """Queue ``(dedupe_key, lane, topic, body)`` rows in one statement; answers how many were new."""
    if not rows:
        return 0
    keys, lanes, topics, bodies = (list(column) for column in zip(*rows, strict=True))
    inserted = await db.fetch(
        "INSERT INTO tasks (shop, kind, dedupe_key, lane, topic, body)"
        " SELECT $1, $2, k, l, t, b FROM unnest($3::text[], $4::text[], $5::text[], $6::jsonb[]) AS r(k, l, t, b)"
        " ON CONFLICT (shop, kind, dedupe_key) DO NOTHING RETURNING seq",
        shop,
        kind,
        keys,
        lanes,
        topics,
        bodies,
    )
    return len(inserted)


CLAIM_SQL = (
    "UPDATE tasks t SET next_attempt_at = now() + make_interval(secs => $2), attempts = t.attempts + 1"
    " WHERE t.seq IN ("
    "   SELECT f.seq FROM tasks f WHERE f.state = 'pending' AND f.next_attempt_at <= now()"
    "     AND NOT EXISTS (SELECT 1 FROM tasks e WHERE e.shop = f.shop AND e.kind = f.kind AND e.lane = f.lane"
    "                     AND e.state = 'pending' AND e.seq < f.seq)"
    "   ORDER BY f.seq LIMIT $1 FOR UPDATE SKIP LOCKED)"
    " RETURNING t.seq, t.shop, t.kind, t.lane, t.topic, t.body, t.attempts, t.created_at"
)


async def claim(db: asyncpg.Pool, limit: int, lease_seconds: float) -> list[DueTask]:
    rows = await db.fetch(CLAIM_SQL, limit, lease_seconds)
    return [DueTask(**{key: row[key] for key in row.keys()}) for row in rows]  # noqa: SIM118


async def finish(db: Queryable, results: Sequence[TaskResult]) -> None:
    """Record a round's results in one statement: done, failed for good, or due again after ``retry_in``."""
    if not results:
        return
    await db.execute(
        "UPDATE tasks t SET state = r.state, outcome = coalesce(r.outcome, t.outcome), last_error = r.error,"
        "  next_attempt_at = now() + make_interval(secs => r.retry_in),"
        "  done_at = CASE WHEN r.state = 'pending' THEN NULL ELSE now() END"
        " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::float8[])"
        "   AS r(seq, state, outcome, error, retry_in)"
        " WHERE t.seq = r.seq",
        [r.seq for r in results],
        [r.state for r in results],
        [r.outcome for r in results],
        [r.error for r in results],
        [r.retry_in for r in results],
    )


async def retry_failed(db: Queryable, shop: str, seq: int) -> bool:
    """A failed task is due again (ops after mending its cause); answers whether there was one."""
    result = await db.execute(
        "UPDATE tasks SET state = 'pending', attempts = 0, next_attempt_at = now(), done_at = NULL"
        " WHERE shop = $1 AND seq = $2 AND state = 'failed'",
        shop,
        seq,
    )
    return result.endswith(" 1")


async def listed(db: Queryable, shop: str, state: str | None, limit: int) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT seq, kind, dedupe_key, lane, topic, state, outcome, attempts, next_attempt_at, last_error,"
        " created_at, done_at FROM tasks WHERE shop = $1 AND ($2::text IS NULL OR state = $2)"
        " ORDER BY seq DESC LIMIT $3",
        shop,
        state,
        limit,
    )
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class Backlog:
    shop: str
    kind: str
    pending: int
    oldest_seconds: float
    failed: int


async def backlog(db: Queryable) -> list[Backlog]:
    """Per shop and kind: what is owed, how long the oldest has waited, and what was given up."""
    rows = await db.fetch(
        "SELECT s.code AS shop, k.kind,"
        "  count(t.seq) FILTER (WHERE t.state = 'pending') AS pending,"
        "  coalesce(extract(epoch FROM now() - min(t.created_at) FILTER (WHERE t.state = 'pending')), 0) AS oldest,"
        "  count(t.seq) FILTER (WHERE t.state = 'failed') AS failed"
        " FROM shops s CROSS JOIN (VALUES ('webhook'), ('shipment')) AS k(kind)"
        " LEFT JOIN tasks t ON t.shop = s.code AND t.kind = k.kind AND t.state <> 'done'"
        " GROUP BY s.code, k.kind"
    )
    return [Backlog(r["shop"], r["kind"], r["pending"], float(r["oldest"]), r["failed"]) for r in rows]


async def purge_done(db: Queryable, older_than_days: int) -> int:
    result = await db.execute(
        "DELETE FROM tasks WHERE state = 'done' AND done_at < now() - make_interval(days => $1)", older_than_days
    )
    return int(result.split()[-1])
