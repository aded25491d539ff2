"""The vendors the gateway serves in the chaos suite, and the books kept on them.

- :class:`VendorWebhooks`, the webhook vendor's endpoint (``west``): records every request it is sent
  and how many are still being answered, so a fault can strike while deliveries are in flight;
- :class:`SftpVendor`, a ``csv_sftp`` vendor on an SFTP server in the test process, which a fault may
  take away and bring back;
- a *tap* on the bus: a durable queue of the test's own bound like ``vendor.<west>``, so every copy the
  splitter's relay publishes is counted, although the gateway consumes the vendor's real queue;
- :func:`audit_webhook_vendor` and :func:`audit_sftp_vendor`: every vendor order delivered at least
  once, and never under two identities (two ``webhook-id`` values, two files).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import asyncpg
from aiohttp import web

from shared.messaging.broker import connect
from tests.gateway_servers import SftpServer, WebhookReceiver
from tests.support import Api

TAP_QUEUE = "chaos.vendor-tap"
"""Under the run's namespace, so the namespace's clean-up removes it with the rest."""


class Ledger(Protocol):
    """What the audits write into (:class:`tests.chaos.flow.Verdict`)."""

    notes: dict[str, Any]

    def problem(self, text: str) -> None: ...

    def lose(self, kind: str, what: str, count: int = 1) -> None: ...

    def duplicate(self, kind: str, what: str, count: int = 1) -> None: ...


def webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class VendorWebhooks(WebhookReceiver):
    """The webhook vendor's endpoint, counting the requests it has taken in and not answered yet."""

    def __init__(self, secret: str) -> None:
        super().__init__(secret, status=200)
        self.secret = secret
        self.in_flight = 0
        self.answering = asyncio.Event()
        """Set while at least one request waits for its answer."""

    async def _handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.answering.set()
        try:
            return await super()._handle(request)
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self.answering.clear()


async def connect_webhook_vendor(api: Api, vendor: str, receiver: VendorWebhooks) -> None:
    """``PUT /v1/connections/<vendor>`` on the gateway: its orders go to ``receiver``, signed with its secret."""
    await api.ok(
        "PUT",
        "gateway",
        f"/v1/connections/{vendor}",
        {"transport": "webhook", "format": "json", "webhook": {"url": receiver.url, "secret": receiver.secret}},
    )


@dataclass
class SftpVendor:
    """A ``csv_sftp`` vendor whose server runs in the test process; its orders land in ``orders``."""

    code: str
    sku: str
    server: SftpServer
    orders: Path

    @classmethod
    async def set_up(cls, api: Api, server: SftpServer, code: str, sku: str) -> SftpVendor:
        password = secrets.token_urlsafe(16)
        chroot = server.add_user(code, password=password)
        orders = chroot / "orders"
        orders.mkdir()
        await api.ok("PUT", "splitter", f"/v1/vendors/{code}", {"name": "North", "kind": "csv_sftp"})
        await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": code}]})
        settings = server.settings(code, password=password, outbound_dir="/orders")
        await api.ok(
            "PUT",
            "gateway",
            f"/v1/connections/{code}",
            {"transport": "sftp", "format": "csv", "sftp": settings.model_dump(mode="json", exclude_none=True)},
        )
        return cls(code, sku, server, orders)

    def files(self) -> list[str]:
        return sorted(path.name for path in self.orders.iterdir() if path.is_file())


async def open_tap(amqp_url: str, namespace: str, vendors: list[str]) -> str:
    """A durable quorum queue bound like each vendor's own queue: it keeps a copy of every vendor
    message published (republished copies included), across broker restarts, for the audit."""
    name = f"{namespace}.{TAP_QUEUE}"
    connection = await connect(amqp_url, name="tests-chaos-tap")
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        for vendor in vendors:
            await queue.bind(f"{namespace}.dropship.events", routing_key=f"vendor_order.*.{vendor}")
    finally:
        await connection.close()
    return name


async def gateway_deliveries(connection: asyncpg.Connection, vendor: str) -> dict[str, tuple[str, str | None]]:
    """vendor order id → (state, file name) of the gateway's order delivery to ``vendor``."""
    rows = await connection.fetch(
        "SELECT vendor_order_id, state, file_name FROM gateway.deliveries"
        " WHERE vendor = $1 AND event = 'vendor_order.created'",
        vendor,
    )
    return {row["vendor_order_id"]: (row["state"], row["file_name"]) for row in rows}


def _delivery_states(
    verdict: Ledger, vendor: str, expected: set[str], stored: dict[str, tuple[str, str | None]]
) -> None:
    """The gateway's own books: one order delivery per vendor order, every one sent (or acknowledged)."""
    for vendor_order_id in sorted(expected):
        state = stored.get(vendor_order_id, ("missing", None))[0]
        if state not in ("sent", "acknowledged"):
            verdict.lose(f"{vendor} delivery", f"vendor order {vendor_order_id}: gateway delivery {state}")
    for vendor_order_id in sorted(set(stored) - expected):
        verdict.duplicate(f"{vendor} delivery", f"gateway delivered {vendor_order_id}, which the splitter never made")


def audit_webhook_vendor(
    verdict: Ledger,
    vendor: str,
    receiver: VendorWebhooks,
    vendor_orders: set[str],
    stored: dict[str, tuple[str, str | None]],
) -> None:
    """Every vendor order received at least once, under one ``webhook-id``, the same body each time."""
    webhook_ids: dict[str, set[str]] = defaultdict(set)
    bodies: dict[str, set[bytes]] = defaultdict(set)
    unverified = 0
    for request in receiver.received:
        unverified += not request.verified
        body = json.loads(request.body)
        if body.get("type") != "vendor_order.created":
            continue
        webhook_ids[body["data"]["vendor_order_id"]].add(request.headers["webhook-id"])
        bodies[request.headers["webhook-id"]].add(request.body)
    if unverified:
        verdict.problem(f"{vendor}: {unverified} webhooks failed signature verification")
    lost = sorted(vendor_orders - set(webhook_ids))
    twice = {vendor_order_id: ids for vendor_order_id, ids in webhook_ids.items() if len(ids) > 1}
    for vendor_order_id in lost:
        verdict.lose("webhook to vendor", f"{vendor}: vendor order {vendor_order_id} never arrived")
    for vendor_order_id, ids in sorted(twice.items()):
        verdict.duplicate(
            "webhook to vendor", f"{vendor}: vendor order {vendor_order_id} under {sorted(ids)}", len(ids) - 1
        )
    for vendor_order_id in sorted(set(webhook_ids) - vendor_orders):
        verdict.duplicate("webhook to vendor", f"{vendor}: received unknown vendor order {vendor_order_id}")
    changed = [hook_id for hook_id, seen in bodies.items() if len(seen) > 1]
    if changed:
        verdict.problem(f"{vendor}: {len(changed)} webhook-ids re-sent with a different body, e.g. {changed[0]}")
    distinct_ids = len(set().union(*webhook_ids.values())) if webhook_ids else 0
    resent = (
        sum(1 for r in receiver.received if json.loads(r.body).get("type") == "vendor_order.created") - distinct_ids
    )
    verdict.notes[f"{vendor} (webhook)"] = (
        f"{len(vendor_orders)} vendor orders sent, {len(receiver.received)} requests received,"
        f" {distinct_ids} distinct webhook-ids ({resent} re-sent under the same id),"
        f" lost {len(lost)}, sent twice under a new id {len(twice)}"
    )
    verdict.notes[f"{vendor} re-sent under the same webhook-id"] = resent
    _delivery_states(verdict, vendor, vendor_orders, stored)


def audit_sftp_vendor(
    verdict: Ledger,
    vendor: SftpVendor,
    numbers: dict[str, str],
    stored: dict[str, tuple[str, str | None]],
) -> None:
    """Every vendor order (id → number) has its file ``<number>.csv`` in ``/orders``, and only one."""
    files = vendor.files()
    visible = {name for name in files if not name.startswith(".")}
    expected = {f"{number}.csv": vendor_order_id for vendor_order_id, number in numbers.items()}
    lost = sorted(name for name in expected if name not in visible)
    extra = sorted(visible - set(expected))
    for name in lost:
        verdict.lose("file at vendor", f"{vendor.code}: {name} (vendor order {expected[name]}) not in /orders")
    for name in extra:
        verdict.duplicate("file at vendor", f"{vendor.code}: /orders/{name} is no vendor order's file")
    for vendor_order_id, (_, file_name) in stored.items():
        number = numbers.get(vendor_order_id)
        if number is not None and file_name not in (None, f"{number}.csv"):
            verdict.problem(f"{vendor.code}: vendor order {vendor_order_id} recorded as {file_name}")
    leftovers = sorted(set(files) - visible)
    verdict.notes[f"{vendor.code} (sftp)"] = (
        f"{len(numbers)} vendor orders sent, {len(visible)} files in /orders, lost {len(lost)},"
        f" sent twice under a new name {len(extra)}, hidden leftovers {leftovers[:5]}"
    )
    _delivery_states(verdict, vendor.code, set(numbers), stored)
