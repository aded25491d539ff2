"""Who is calling, and the poll log: every Custom Store call is checked against the vendor's
credentials and leaves one row in the poll log and one count in /metrics."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any

from services.shipstation import credentials
from services.shipstation.repository import PollRecord, StoreConnection
from services.shipstation.use_cases.ports import StoreCall, StorePorts
from shared.messaging.topology import is_valid_vendor_code

UNKNOWN_VENDOR = "(unknown)"


def known_action(action: str) -> str:
    """The action as recorded and counted: one of ShipStation's two, else ``other`` (bounded labels)."""
    return action if action in ("export", "shipnotify") else "other"


@dataclass(frozen=True)
class Authentication:
    connection: StoreConnection | None
    """The vendor's connection, if there is one (also when the credentials are wrong)."""
    authenticated: bool


async def authenticate(
    vendor: str,
    given: tuple[str, str] | None,
    ports: StorePorts,
    verified: credentials.VerifiedCredentials,
) -> Authentication:
    """Whether ``given`` (username, password) are the vendor's current ShipStation credentials."""
    connection = await ports.repository.get_connection(ports.pool, vendor) if is_valid_vendor_code(vendor) else None
    if given is None:
        return Authentication(connection, authenticated=False)
    username, password = given
    stored = connection.password_hash if connection and connection.password_hash else None
    if stored is not None and verified.known(vendor, username, password, stored):
        return Authentication(connection, authenticated=True)
    # Always run scrypt, against a dummy hash when the user is unknown: no timing difference
    # between a wrong username and a wrong password.
    user_ok = (
        connection is not None
        and connection.username is not None
        and hmac.compare_digest(username.encode(), connection.username.encode())
    )
    password_ok = credentials.verify_password(password, stored if user_ok and stored else credentials.DUMMY_HASH)
    if user_ok and password_ok and stored is not None:
        verified.remember(vendor, username, password, stored)
        return Authentication(connection, authenticated=True)
    return Authentication(connection, authenticated=False)


async def record_call(call: StoreCall, action: str, outcome: str, ports: StorePorts, **details: Any) -> None:
    """One row in the poll log and one count in /metrics for a Custom Store call."""
    ports.metrics.polls.labels(call.vendor, action, outcome).inc()
    duration_ms = (time.perf_counter() - call.started) * 1000
    await ports.repository.record_poll(ports.pool, PollRecord(call.vendor, action, outcome, duration_ms, **details))


async def refuse_credentials(
    call: StoreCall, connection: StoreConnection | None, action: str, ports: StorePorts
) -> None:
    """Count a call with wrong or missing credentials, and log it for ops when the vendor exists."""
    # Metric labels and poll rows only for connections that exist: a caller choosing the path
    # must not be able to create time series or rows at will.
    ports.metrics.auth_failures.labels(call.vendor if connection is not None else UNKNOWN_VENDOR).inc()
    if connection is not None:
        # Visible to ops: "ShipStation still uses the old password".
        await record_call(call, known_action(action), "unauthorized", ports, detail="wrong or missing credentials")


async def refuse_unknown_action(call: StoreCall, action: str, ports: StorePorts) -> str:
    """Log a call for an action the protocol does not have; answers the reason to give."""
    reason = f"unknown action {action[:50]!r} (expected export or shipnotify)"
    await record_call(call, known_action(action), "bad_request", ports, detail=reason)
    return reason
