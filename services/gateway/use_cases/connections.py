"""Connecting a vendor: the connection stored with its secrets sealed and its API key hashed, shown
without secrets, checked against the vendor's server, and its key rotated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
from pydantic import ValidationError

from services.gateway.connections import Connection, ConnectionRequest, check_pairing, split_secrets
from services.gateway.formats.csv_write import check_order_columns
from services.gateway.outbound import transport_for
from services.gateway.ports import CheckStep, DeliveryError
from services.gateway.store import answers, connections, deliveries
from services.gateway.store import x12 as x12_store
from services.gateway.use_cases.context import GatewayPorts, open_connection
from services.gateway.x12 import PartnerSettings
from shared.http import validation_fields
from shared.secrets import hash_api_key, new_api_key
from shared.webhooks import new_webhook_secret

API_KEY_PREFIX = "dsv"


class NoConnection(LookupError):
    pass


class NotAPartner(LookupError):
    """The vendor's connection is not EDI X12."""


class InvalidConnection(ValueError):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class ConnectionCreated:
    view: dict[str, Any]
    created: bool
    api_key: str | None
    """Shown once: when the connection is new (a replaced connection keeps its key)."""
    webhook_secret: str | None
    """Shown once: when it was generated here."""


async def put_connection(ports: GatewayPorts, vendor: str, request: ConnectionRequest) -> ConnectionCreated:
    """Store how ``vendor`` is reached. Raises ``UnknownVendor``/``SplitterUnavailable`` (the splitter
    decides which vendors exist), ``WrongKind`` and :class:`InvalidConnection`."""
    known = await ports.splitter.vendor(vendor)
    check_pairing(vendor, known.kind, request)
    if request.csv is not None and (problems := check_order_columns(request.csv.order_columns)):
        raise InvalidConnection({"csv.order_columns": "; ".join(problems)})
    if request.format == "x12":
        try:
            PartnerSettings.model_validate(request.x12 or {})
        except ValidationError as error:
            raise InvalidConnection(
                {f"x12.{name}": problem for name, problem in validation_fields(error).items()}
            ) from None
    generated = new_webhook_secret() if request.webhook is not None and request.webhook.secret is None else None
    settings, secrets = split_secrets(request, generated)
    api_key = new_api_key(API_KEY_PREFIX)
    async with ports.pool.acquire() as db, db.transaction():
        created = await connections.upsert_connection(
            db,
            vendor,
            known.kind,
            request.transport,
            request.format,
            settings,
            ports.secrets.seal(secrets.model_dump_json()),
            hash_api_key(api_key),
        )
    connection = Connection.assemble(vendor, settings, secrets)
    return ConnectionCreated(await _view(ports, vendor, connection), created, api_key if created else None, generated)


async def _view(ports: GatewayPorts, vendor: str, connection: Connection | None) -> dict[str, Any]:
    async with ports.pool.acquire() as db:
        summary = await deliveries.delivery_summary(db, vendor)
        pickup = await answers.last_pickup(db, vendor)
        stored = await connections.get_connection(db, vendor)
    view: dict[str, Any] = {"vendor": vendor, "state": "connected" if connection else "unconnected"}
    if connection is not None:
        view.update(connection.view())
    view["last_delivery_at"] = summary.get("last_delivery_at")
    view["pending_deliveries"] = summary.get("pending", 0)
    view["failed_deliveries"] = summary.get("failed", 0)
    view["last_pickup_at"] = (pickup or {}).get("last_pickup_at")
    view["rejected_files"] = (pickup or {}).get("rejected_files", 0)
    if stored is not None:
        view["last_polled_at"] = stored.last_polled_at
        view["last_poll_error"] = stored.last_poll_error
        view["updated_at"] = stored.updated_at
    return view


async def stored_connection(ports: GatewayPorts, vendor: str) -> Connection | None:
    async with ports.pool.acquire() as db:
        stored = await connections.get_connection(db, vendor)
    if stored is None:
        return None
    return open_connection(ports.secrets, vendor, stored.settings, stored.sealed_secrets)


async def view_connection(ports: GatewayPorts, vendor: str) -> dict[str, Any]:
    """The connection without secrets, or ``unconnected`` for a vendor the splitter knows without one."""
    connection = await stored_connection(ports, vendor)
    if connection is None:
        await ports.splitter.vendor(vendor)  # UnknownVendor for a vendor nobody created
    return await _view(ports, vendor, connection)


async def check_connection(ports: GatewayPorts, vendor: str, session: aiohttp.ClientSession) -> list[CheckStep]:
    connection = await stored_connection(ports, vendor)
    if connection is None:
        raise NoConnection(vendor)
    try:
        return await transport_for(connection, ports.settings, session).check()
    except DeliveryError as error:
        return [CheckStep("connect", False, error.message)]


async def partner_interchanges(ports: GatewayPorts, vendor: str, limit: int) -> list[dict[str, Any]]:
    """What an X12 partner was sent and sent back, newest first, with control numbers and 997 state."""
    connection = await stored_connection(ports, vendor)
    if connection is None:
        raise NoConnection(vendor)
    if connection.format != "x12":
        raise NotAPartner(vendor)
    async with ports.pool.acquire() as db:
        return await x12_store.list_interchanges(db, vendor, limit)


async def rotate_api_key(ports: GatewayPorts, vendor: str) -> str:
    api_key = new_api_key(API_KEY_PREFIX)
    async with ports.pool.acquire() as db:
        if not await connections.set_api_key(db, vendor, hash_api_key(api_key)):
            raise NoConnection(vendor)
    return api_key


async def vendor_of_key(ports: GatewayPorts, api_key: str) -> str | None:
    async with ports.pool.acquire() as db:
        return await connections.vendor_of_api_key(db, hash_api_key(api_key))
