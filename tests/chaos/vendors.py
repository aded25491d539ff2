"""The vendors the gateway serves in the chaos suite, and the books kept on them.

- :class:`VendorWebhooks`, the webhook vendor's endpoint (``west``): records every request it is sent
  and how many are still being answered, so a fault can strike while deliveries are in flight;
- :class:`SftpVendor`, a ``csv_sftp`` vendor on an SFTP server in the test process, which a fault may
  take away and bring back;
- :class:`X12Partner`, an ``edi_x12`` vendor on a :class:`WatchedSftpServer`, which keeps a copy of
  every file put into place and can hold uploads, so a fault can strike before or after an upload;
- a *tap* on the bus: a durable queue of the test's own bound like ``vendor.<west>``, so every copy the
  splitter's relay publishes is counted, although the gateway consumes the vendor's real queue;
- :func:`audit_webhook_vendor` and :func:`audit_sftp_vendor`: every vendor order delivered at least
  once, and never under two identities (two ``webhook-id`` values, two files).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import asyncssh
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


@dataclass(frozen=True)
class Upload:
    """A file the gateway put into place on the server: its folder (in the login's chroot), name and bytes."""

    folder: str
    name: str
    content: bytes


class WatchedSftpServer(SftpServer):
    """An SFTP server that keeps a copy of every file renamed into place (how the gateway finishes an
    upload), waits ``upload_delay`` seconds before each file opened for writing, and can hold uploads:
    after :meth:`hold`, a file opened for writing waits until :meth:`release`, as a server that took the
    login and then stopped answering."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.uploads: list[Upload] = []
        self.reads: Counter[str] = Counter()
        """How often each file was opened for reading, by its path in the login's chroot (``/tracking/a.csv``)."""
        self.upload_delay = 0.0
        self.held = 0
        """Uploads waiting on the hold right now."""
        self.holding = asyncio.Event()
        """Set once an upload waits on the hold, cleared by :meth:`release`."""
        self._released = asyncio.Event()
        self._released.set()
        self._arrived = asyncio.Event()

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()
        self.holding.clear()

    async def next_upload(self, timeout: float) -> Upload:
        """The first file put into place from now on."""
        seen = len(self.uploads)
        async with asyncio.timeout(timeout):
            while len(self.uploads) == seen:
                self._arrived.clear()
                await self._arrived.wait()
        return self.uploads[seen]

    async def _before_write(self) -> None:
        if not self._released.is_set():
            self.held += 1
            self.holding.set()
            try:
                await self._released.wait()
            finally:
                self.held -= 1
        if self.upload_delay:
            await asyncio.sleep(self.upload_delay)

    def _put_in_place(self, chroot: Path, local_path: bytes) -> None:
        path = Path(os.fsdecode(local_path))
        within = path.parent.resolve().relative_to(chroot.resolve())
        self.uploads.append(Upload("/" + within.as_posix() if within.parts else "/", path.name, path.read_bytes()))
        self._arrived.set()

    def _opened_for_reading(self, chroot: Path, local_path: bytes) -> None:
        within = Path(os.fsdecode(local_path)).resolve().relative_to(chroot.resolve())
        self.reads["/" + within.as_posix()] += 1

    def _session(self, channel: asyncssh.SSHServerChannel[bytes]) -> asyncssh.SFTPServer:
        chroot = self.users[channel.get_extra_info("username")].chroot
        return _WatchedSession(self, chroot, channel)


class _WatchedSession(asyncssh.SFTPServer):
    """One SFTP session of :class:`WatchedSftpServer`: the chrooted default server, watched."""

    def __init__(self, server: WatchedSftpServer, chroot: Path, channel: asyncssh.SSHServerChannel[bytes]) -> None:
        super().__init__(channel, chroot=str(chroot).encode())
        self._watcher = server
        self._root = chroot

    async def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        if pflags & asyncssh.FXF_WRITE:
            await self._watcher._before_write()
        else:
            self._watcher._opened_for_reading(self._root, self.map_path(path))
        return super().open(path, pflags, attrs)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().posix_rename(oldpath, newpath)
        self._watcher._put_in_place(self._root, self.map_path(newpath))

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().rename(oldpath, newpath)
        self._watcher._put_in_place(self._root, self.map_path(newpath))


@dataclass
class X12Partner:
    """An ``edi_x12`` vendor whose SFTP server runs in the test process; its interchanges land in
    ``orders`` as ``<ISA13>.x12``."""

    code: str
    sku: str
    server: WatchedSftpServer
    orders: Path

    @classmethod
    async def set_up(
        cls, api: Api, server: WatchedSftpServer, code: str, sku: str, partner: dict[str, Any]
    ) -> X12Partner:
        password = secrets.token_urlsafe(16)
        chroot = server.add_user(code, password=password)
        orders = chroot / "orders"
        orders.mkdir()
        await api.ok("PUT", "splitter", f"/v1/vendors/{code}", {"name": "Acme Distribution", "kind": "edi_x12"})
        await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": code}]})
        settings = server.settings(code, password=password, outbound_dir="/orders")
        await api.ok(
            "PUT",
            "gateway",
            f"/v1/connections/{code}",
            {
                "transport": "sftp",
                "format": "x12",
                "sftp": settings.model_dump(mode="json", exclude_none=True),
                "x12": partner,
            },
        )
        return cls(code, sku, server, orders)

    def files(self) -> dict[str, bytes]:
        """The interchanges in ``/orders`` now, by file name (hidden ``.part`` files left out)."""
        return {
            path.name: path.read_bytes()
            for path in sorted(self.orders.iterdir())
            if path.is_file() and not path.name.startswith(".")
        }

    def uploads(self) -> list[Upload]:
        """Every file put into ``/orders``, repeats included, in arrival order."""
        return [upload for upload in self.server.uploads if upload.folder == "/orders"]


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
