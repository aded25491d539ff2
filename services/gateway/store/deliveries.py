"""Vendor orders as received and their deliveries: what is owed to each vendor, in order per vendor
order, leased by one deliverer at a time and recorded before and after every send."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.contracts.envelope import Envelope
from shared.db import Queryable
from shared.messaging.outbox import insert_event_sql, outbox_row


def delivery_id(vendor_order_id: str, event: str, sequence: int | None = None) -> str:
    """Stable per vendor order and event: created and cancelled differ, each withdrawal and each ship-to
    change has its number."""
    suffix = {
        "vendor_order.created": "order",
        "vendor_order.cancelled": "cancel",
        "vendor_order.ship_to_changed": "moved",  # short: a Message-ID header stays on one line
    }.get(event, "withdrawal")
    return f"dlv_{vendor_order_id}_{suffix}" + (f"_{sequence}" if sequence is not None else "")


async def record_created(db: Queryable, vendor_order: dict[str, Any]) -> bool:
    """Keep the vendor order and owe its vendor the order; answers whether it was new."""
    new: bool = await db.fetchval(
        "WITH kept AS ("
        "  INSERT INTO vendor_orders (vendor_order_id, vendor, vendor_order_number, order_id, data)"
        "  VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (vendor_order_id) DO NOTHING RETURNING vendor_order_id),"
        " owed AS ("
        "  INSERT INTO deliveries (delivery_id, vendor_order_id, vendor, event, payload)"
        "  SELECT $6, vendor_order_id, $2, 'vendor_order.created', $5::jsonb FROM kept"
        "  ON CONFLICT (delivery_id) DO NOTHING RETURNING 1)"
        " SELECT EXISTS (SELECT 1 FROM kept)",
        vendor_order["vendor_order_id"],
        vendor_order["vendor"],
        vendor_order["vendor_order_number"],
        vendor_order["order_id"],
        vendor_order,
        delivery_id(vendor_order["vendor_order_id"], "vendor_order.created"),
    )
    return new


async def record_cancelled(db: Queryable, cancellation: dict[str, Any]) -> bool:
    """Owe the vendor the cancellation of an order it was owed; answers whether the order is known.

    An order never attempted yet (pending, no attempt, not leased by a deliverer) is simply not sent:
    the vendor is spared an order and its cancellation, and no cancellation is owed."""
    known: bool = await db.fetchval(
        "WITH cancelled AS ("
        "  UPDATE vendor_orders SET cancelled_at = coalesce(cancelled_at, now())"
        "  WHERE vendor_order_id = $1 RETURNING vendor_order_id, vendor),"
        " unsent AS ("
        "  UPDATE deliveries d SET state = 'cancelled', last_error = 'cancelled before it was sent'"
        "  FROM cancelled c WHERE d.vendor_order_id = c.vendor_order_id AND d.state = 'pending'"
        "    AND d.attempts = 0 AND d.next_attempt_at <= now() RETURNING d.event),"
        " owed AS ("
        "  INSERT INTO deliveries (delivery_id, vendor_order_id, vendor, event, payload)"
        "  SELECT $2, vendor_order_id, vendor, 'vendor_order.cancelled', $3::jsonb FROM cancelled"
        "  WHERE NOT EXISTS (SELECT 1 FROM unsent WHERE event = 'vendor_order.created')"
        "  ON CONFLICT (delivery_id) DO NOTHING RETURNING 1)"
        " SELECT EXISTS (SELECT 1 FROM cancelled)",
        cancellation["vendor_order_id"],
        delivery_id(cancellation["vendor_order_id"], "vendor_order.cancelled"),
        json.dumps(cancellation),
    )
    return known


async def record_withdrawal(db: Queryable, withdrawal: dict[str, Any]) -> int | None:
    """Owe the vendor a withdrawal of some lines, numbered per vendor order; None when unknown."""
    row = await db.fetchrow(
        "UPDATE vendor_orders SET withdrawals = withdrawals + 1 WHERE vendor_order_id = $1"
        " RETURNING withdrawals, vendor",
        withdrawal["vendor_order_id"],
    )
    if row is None:
        return None
    sequence: int = row["withdrawals"]
    await db.execute(
        "INSERT INTO deliveries (delivery_id, vendor_order_id, vendor, event, payload)"
        " VALUES ($1, $2, $3, 'vendor_order.lines_cancelled', $4::jsonb) ON CONFLICT (delivery_id) DO NOTHING",
        delivery_id(withdrawal["vendor_order_id"], "vendor_order.lines_cancelled", sequence),
        withdrawal["vendor_order_id"],
        row["vendor"],
        {**withdrawal, "sequence": sequence},
    )
    return sequence


@dataclass(frozen=True)
class DueDelivery:
    seq: int
    delivery_id: str
    vendor_order_id: str
    vendor: str
    event: str
    payload: dict[str, Any]
    order: dict[str, Any] | None
    attempts: int
    created_at: datetime
    transport: str
    format: str
    settings: dict[str, Any]
    sealed_secrets: str


_CLAIM_SQL = (
    "UPDATE deliveries d SET next_attempt_at = now() + make_interval(secs => $2)"
    " FROM connections c"
    " WHERE c.vendor = d.vendor AND d.seq IN ("
    "   SELECT f.seq FROM deliveries f"
    "   WHERE f.state = 'pending' AND f.next_attempt_at <= now()"
    "     AND EXISTS (SELECT 1 FROM connections k WHERE k.vendor = f.vendor)"
    "     AND NOT EXISTS (SELECT 1 FROM deliveries e"
    "                     WHERE e.vendor_order_id = f.vendor_order_id AND e.state = 'pending' AND e.seq < f.seq)"
    "   ORDER BY f.seq LIMIT $1 FOR UPDATE OF f SKIP LOCKED)"
    " RETURNING d.seq, d.delivery_id, d.vendor_order_id, d.vendor, d.event, d.payload, d.attempts, d.created_at,"
    "   c.transport, c.format, c.settings, c.sealed_secrets,"
    "   (SELECT v.data FROM vendor_orders v WHERE v.vendor_order_id = d.vendor_order_id) AS order_data"
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def claim_due(db: Queryable, limit: int, lease_seconds: float) -> list[DueDelivery]:
    """Lease up to ``limit`` due deliveries of connected vendors, each first in line for its vendor order."""
    rows = await db.fetch(_CLAIM_SQL, limit, lease_seconds)
    due = [
        DueDelivery(
            seq=row["seq"],
            delivery_id=row["delivery_id"],
            vendor_order_id=row["vendor_order_id"],
            vendor=row["vendor"],
            event=row["event"],
            payload=_json(row["payload"]),
            order=_json(row["order_data"]),
            attempts=row["attempts"],
            created_at=row["created_at"],
            transport=row["transport"],
            format=row["format"],
            settings=_json(row["settings"]),
            sealed_secrets=row["sealed_secrets"],
        )
        for row in rows
    ]
    return sorted(due, key=lambda delivery: delivery.seq)


@dataclass(frozen=True)
class AttemptOutcome:
    seq: int
    delivery_id: str
    attempt: int
    ok: bool
    detail: str
    status: int | None = None
    file_name: str | None = None
    retry_in_seconds: float | None = None
    """For a failed attempt within the budget: when to try again; None: the budget is spent."""
    reason: str | None = None
    """Why the vendor order failed, when it failed outright (``po_number_too_long``) rather than ran
    out of attempts."""


async def record_outcomes(db: Queryable, outcomes: Sequence[AttemptOutcome]) -> None:
    """Record a round's attempts and move each delivery on: sent, due again later, or failed.

    ``state = 'pending'`` guards every update: a round that outlived its lease does not record twice
    what another deliverer already recorded."""
    if not outcomes:
        return
    await db.executemany(
        "INSERT INTO delivery_attempts (delivery_id, attempt, ok, status, detail) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT DO NOTHING",
        [(o.delivery_id, o.attempt, o.ok, o.status, o.detail[:1000]) for o in outcomes],
    )
    sent = [o for o in outcomes if o.ok]
    if sent:
        await db.execute(
            "UPDATE deliveries d SET state = 'sent', attempts = s.attempt, sent_at = now(), receipt = s.detail,"
            " file_name = s.file_name, last_error = NULL"
            " FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[]) AS s(seq, attempt, detail, file_name)"
            " WHERE d.seq = s.seq AND d.state = 'pending'",
            [o.seq for o in sent],
            [o.attempt for o in sent],
            [o.detail[:500] for o in sent],
            [o.file_name for o in sent],
        )
    retried = [o for o in outcomes if not o.ok and o.retry_in_seconds is not None]
    if retried:
        await db.execute(
            "UPDATE deliveries d SET attempts = s.attempt, last_error = s.detail,"
            " next_attempt_at = now() + make_interval(secs => s.wait)"
            " FROM unnest($1::bigint[], $2::int[], $3::text[], $4::float8[]) AS s(seq, attempt, detail, wait)"
            " WHERE d.seq = s.seq AND d.state = 'pending'",
            [o.seq for o in retried],
            [o.attempt for o in retried],
            [o.detail[:500] for o in retried],
            [o.retry_in_seconds for o in retried],
        )


async def fail_delivery(db: Queryable, outcome: AttemptOutcome, event: Envelope | None) -> bool:
    """The budget is spent: the delivery is failed and, for an order, ``vendor_order.failed`` is
    written in the same statement. Answers whether this call failed it (not another deliverer)."""
    await db.execute(
        "INSERT INTO delivery_attempts (delivery_id, attempt, ok, status, detail) VALUES ($1, $2, false, $3, $4)"
        " ON CONFLICT DO NOTHING",
        outcome.delivery_id,
        outcome.attempt,
        outcome.status,
        outcome.detail[:1000],
    )
    if event is None:
        status: str = await db.execute(
            "UPDATE deliveries SET state = 'failed', failed_at = now(), attempts = $2, last_error = $3"
            " WHERE seq = $1 AND state = 'pending'",
            outcome.seq,
            outcome.attempt,
            outcome.detail[:500],
        )
        return status.endswith(" 1")
    failed: bool = await db.fetchval(
        "WITH failed AS ("  # noqa: S608 - constant SQL
        "  UPDATE deliveries SET state = 'failed', failed_at = now(), attempts = $2, last_error = $3"
        "  WHERE seq = $1 AND state = 'pending' RETURNING 1),"
        f" announced AS ({insert_event_sql(4, for_each_row_of='failed')} RETURNING 1)"
        " SELECT EXISTS (SELECT 1 FROM failed)",
        outcome.seq,
        outcome.attempt,
        outcome.detail[:500],
        *outbox_row(event),
    )
    return failed


async def mark_acknowledged(db: Queryable, vendor_order_id: str) -> None:
    """The vendor answered the order (an acknowledgement, a 997, a shipment): its delivery arrived."""
    await db.execute(
        "UPDATE deliveries SET state = 'acknowledged', acknowledged_at = now()"
        " WHERE vendor_order_id = $1 AND event = 'vendor_order.created' AND state IN ('sent', 'pending')",
        vendor_order_id,
    )


async def fail_sent(db: Queryable, delivery_id: str, reason: str) -> None:
    """A delivery that arrived and was then refused (an X12 partner's 997 rejected it)."""
    await db.execute(
        "UPDATE deliveries SET state = 'failed', failed_at = now(), last_error = $2 WHERE delivery_id = $1",
        delivery_id,
        reason[:500],
    )


async def acknowledge_delivery(db: Queryable, delivery_id: str) -> None:
    """The vendor's system confirmed this very delivery (an X12 partner's 997)."""
    await db.execute(
        "UPDATE deliveries SET state = 'acknowledged', acknowledged_at = now()"
        " WHERE delivery_id = $1 AND state IN ('sent', 'pending')",
        delivery_id,
    )


async def oldest_undelivered_age_seconds(db: Queryable) -> float:
    age = await db.fetchval(
        "SELECT extract(epoch FROM now() - min(created_at)) FROM deliveries WHERE state = 'pending'"
    )
    return float(age or 0.0)


async def list_deliveries(
    db: Queryable, *, vendor: str | None, state: str | None, vendor_order_id: str | None, limit: int
) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT d.seq, d.delivery_id, d.vendor_order_id, v.vendor_order_number, d.vendor, d.event, d.state,"
        "   d.attempts, d.last_error, d.receipt, d.file_name, d.created_at, d.sent_at, d.acknowledged_at,"
        "   d.failed_at, CASE WHEN d.state = 'pending' THEN d.next_attempt_at END AS next_attempt_at,"
        "   (c.vendor IS NULL) AS unconnected,"
        "   coalesce((SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt, 'at', a.at, 'ok', a.ok,"
        "       'status', a.status, 'detail', a.detail) ORDER BY a.attempt)"
        "     FROM delivery_attempts a WHERE a.delivery_id = d.delivery_id), '[]'::jsonb) AS attempt_log"
        " FROM deliveries d LEFT JOIN vendor_orders v USING (vendor_order_id)"
        " LEFT JOIN connections c ON c.vendor = d.vendor"
        " WHERE ($1::text IS NULL OR d.vendor = $1) AND ($2::text IS NULL OR d.state = $2)"
        "   AND ($3::text IS NULL OR d.vendor_order_id = $3)"
        " ORDER BY d.seq DESC LIMIT $4",
        vendor,
        state,
        vendor_order_id,
        limit,
    )
    deliveries = []
    for row in rows:
        entry = dict(row)
        entry.pop("seq")
        entry["attempt_log"] = _json(entry["attempt_log"])
        if entry.pop("unconnected") and entry["state"] == "pending":
            entry["waiting_for"] = "connection"
        deliveries.append(entry)
    return deliveries


async def retry_vendor_order(db: Queryable, vendor_order_id: str) -> int:
    """Make the vendor order's failed and waiting deliveries due now, with a fresh budget."""
    status: str = await db.execute(
        "UPDATE deliveries SET state = 'pending', attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END,"
        " next_attempt_at = now(), failed_at = NULL WHERE vendor_order_id = $1 AND state IN ('failed', 'pending')",
        vendor_order_id,
    )
    await db.execute("SELECT pg_notify('deliveries_' || current_schema(), '')")
    return int(status.split()[-1])


async def vendor_order(db: Queryable, vendor_order_id: str) -> dict[str, Any] | None:
    row = await db.fetchrow(
        "SELECT vendor_order_id, vendor, vendor_order_number, order_id, data, cancelled_at FROM vendor_orders"
        " WHERE vendor_order_id = $1",
        vendor_order_id,
    )
    return {**dict(row), "data": _json(row["data"])} if row else None


async def vendor_order_by_number(db: Queryable, vendor: str, number: str) -> dict[str, Any] | None:
    row = await db.fetchrow(
        "SELECT vendor_order_id, vendor, vendor_order_number, order_id, data, cancelled_at FROM vendor_orders"
        " WHERE vendor = $1 AND vendor_order_number = $2",
        vendor,
        number,
    )
    return {**dict(row), "data": _json(row["data"])} if row else None


async def delivery_summary(db: Queryable, vendor: str) -> dict[str, Any]:
    row = await db.fetchrow(
        "SELECT max(sent_at) AS last_delivery_at, count(*) FILTER (WHERE state = 'failed') AS failed,"
        " count(*) FILTER (WHERE state = 'pending') AS pending FROM deliveries WHERE vendor = $1",
        vendor,
    )
    return dict(row) if row else {}
