"""The admin API's use cases: issue credentials, change a connection's settings, read what ops see."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from services.shipstation import credentials
from services.shipstation.export_rules import status_name_problems
from services.shipstation.order_states import DEFAULT_STATUS_NAMES
from services.shipstation.repository import StoreConnection
from services.shipstation.use_cases.ports import StorePorts

log = structlog.get_logger(__name__)


class WrongKind(Exception):
    """The vendor exists but does not ship with ShipStation."""

    def __init__(self, vendor: str, kind: str) -> None:
        super().__init__(f"vendor {vendor!r} is of kind {kind!r}, not shipstation")


class UnusableStatusNames(Exception):
    """The status names, taken together, cannot be told apart by ShipStation."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))


class NoConnection(Exception):
    """No ShipStation connection has been made for the vendor."""

    def __init__(self, vendor: str) -> None:
        super().__init__(f"no ShipStation connection for {vendor!r}")


@dataclass(frozen=True)
class IssuedCredentials:
    """What the merchant pastes into ShipStation's Custom Store form; the password exists only here."""

    url: str
    username: str
    password: str
    connection: StoreConnection


async def issue_credentials(
    vendor: str,
    base_url: str,
    ports: StorePorts,
    vendor_kind: Callable[[str], Awaitable[str]],
    subscribe_vendor: Callable[[str], Awaitable[None]],
) -> IssuedCredentials:
    """New credentials for a ShipStation vendor (the old ones stop working), and its queue consumed."""
    kind = await vendor_kind(vendor)
    if kind != "shipstation":
        raise WrongKind(vendor, kind)
    username, password = credentials.new_username(vendor), credentials.new_password()
    await ports.repository.set_credentials(ports.pool, vendor, username, credentials.hash_password(password))
    await subscribe_vendor(vendor)
    connection = await ports.repository.get_connection(ports.pool, vendor)
    assert connection is not None
    log.info("shipstation credentials issued", vendor=vendor, username=username)
    return IssuedCredentials(f"{base_url.rstrip('/')}/shipstation/{vendor}", username, password, connection)


async def change_settings(vendor: str, changes: dict[str, Any], ports: StorePorts) -> None:
    """Apply the given settings (others stay); a new time zone clears the zone warning."""
    if "status_names" in changes:
        current = await ports.repository.get_connection(ports.pool, vendor)
        changes = {**changes, "status_names": {**(current.status_names if current else {}), **changes["status_names"]}}
        # Checked as a whole: a name is only wrong next to the others (two statuses sharing it).
        problems = status_name_problems({**DEFAULT_STATUS_NAMES, **changes["status_names"]})
        if problems:
            raise UnusableStatusNames(problems)
    await ports.repository.update_settings(ports.pool, vendor, changes)
    if "timezone" in changes:
        await ports.repository.record_zone_warning(ports.pool, vendor, None)


async def connection_settings(vendor: str, ports: StorePorts) -> StoreConnection:
    connection = await ports.repository.get_connection(ports.pool, vendor)
    if connection is None:
        raise NoConnection(vendor)
    return connection


async def problems_of(vendor: str, ports: StorePorts) -> list[dict[str, Any]]:
    return await ports.repository.list_problems(ports.pool, vendor)


async def polls_of(vendor: str, ports: StorePorts) -> list[dict[str, Any]]:
    return await ports.repository.list_polls(ports.pool, vendor)
