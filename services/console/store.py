"""The console's SQL, and only its SQL: sessions and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.console.sessions import MAX_IDLE_SECONDS
from shared.db import Queryable


@dataclass(frozen=True)
class Session:
    token_sha256: str
    who: str
    csrf: str
    address: str
    created_at: datetime
    last_seen_at: datetime


async def create_session(db: Queryable, token_sha256: str, who: str, csrf: str, address: str) -> None:
    await db.execute(
        "INSERT INTO sessions (token_sha256, who, csrf, address) VALUES ($1, $2, $3, $4)",
        token_sha256,
        who,
        csrf,
        address,
    )


async def touch_session(db: Queryable, token_sha256: str, idle_seconds: float) -> Session | None:
    """The session, its last use moved to now; ``None`` when there is none or it has been idle too long
    (the idle check is the database's clock, the same for every console instance)."""
    row = await db.fetchrow(
        "UPDATE sessions SET last_seen_at = now() WHERE token_sha256 = $1"
        " AND last_seen_at > now() - make_interval(secs => $2)"
        " RETURNING token_sha256, who, csrf, address, created_at, last_seen_at",
        token_sha256,
        float(idle_seconds),
    )
    return Session(**dict(row)) if row is not None else None


async def find_session(db: Queryable, token_sha256: str, idle_seconds: float) -> Session | None:
    """The session as it is, its last use left alone (a live region's refresh is no sign of anyone at
    the page); ``None`` when there is none or it has been idle too long."""
    row = await db.fetchrow(
        "SELECT token_sha256, who, csrf, address, created_at, last_seen_at FROM sessions WHERE token_sha256 = $1"
        " AND last_seen_at > now() - make_interval(secs => $2)",
        token_sha256,
        float(idle_seconds),
    )
    return Session(**dict(row)) if row is not None else None


async def delete_session(db: Queryable, token_sha256: str) -> None:
    await db.execute("DELETE FROM sessions WHERE token_sha256 = $1", token_sha256)


async def purge_idle_sessions(db: Queryable, idle_seconds: float = MAX_IDLE_SECONDS) -> int:
    """Forget sessions unused for ``idle_seconds``: by default the longest idle time any instance may have
    (:data:`services.console.sessions.MAX_IDLE_SECONDS`), so an instance set to a shorter one never deletes
    a session another instance still accepts (each instance checks its own idle time at every request)."""
    result = await db.execute(
        "DELETE FROM sessions WHERE last_seen_at <= now() - make_interval(secs => $1)", float(idle_seconds)
    )
    return int(result.split()[-1])


async def record_audit(db: Queryable, who: str, action: str, target: str, detail: dict[str, Any], outcome: str) -> None:
    await db.execute(
        "INSERT INTO audit_log (who, action, target, detail, outcome) VALUES ($1, $2, $3, $4, $5)",
        who,
        action,
        target,
        detail,
        outcome[:2000],
    )


async def latest_audit(db: Queryable, limit: int = 200) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT id, who, action, target, detail, outcome, at FROM audit_log ORDER BY at DESC, id DESC LIMIT $1",
        limit,
    )
    return [dict(row) for row in rows]
