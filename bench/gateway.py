"""The gateway under load: orders of one line for each of two vendors it serves, a webhook vendor (an
aiohttp endpoint in the bench process answering 200 at once) and an SFTP vendor (asyncssh's SFTP
server in the bench process), sent open loop at a fixed rate.

For each vendor: vendor orders delivered per second, and the time from ``vendor_order.created`` (the
event's ``occurred_at``, as the splitter stored it in its outbox) to delivered: the webhook's arrival
at the endpoint, or the moment the order file was renamed into place in ``/orders`` (the vendor sees
it from then on). Both clocks are this machine's wall clock.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncssh
from aiohttp import web

from bench.environment import connect_database
from bench.scenario import SKUS_PER_VENDOR, Merchant, PlannedOrder, call
from bench.stats import summary
from bench.system import BenchSystem
from shared.processes import free_port
from tests.gateway_servers import SftpServer


@dataclass
class HookVendor:
    """The webhook vendor's endpoint: notes when each vendor order first arrived (wall clock)."""

    arrivals: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/orders"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = time.time()
        self.requests += 1
        event = json.loads(body)
        if event.get("type") == "vendor_order.created":
            self.arrivals.setdefault(event["data"]["vendor_order_id"], now)
        return web.Response(status=200)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/orders", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


class _NotingSftp(asyncssh.SFTPServer):
    """asyncssh's SFTP server that notes when a file was renamed into place (the vendor sees it then)."""

    def __init__(self, channel: asyncssh.SSHServerChannel[bytes], chroot: bytes, arrivals: dict[str, float]) -> None:
        super().__init__(channel, chroot=chroot)
        self._arrivals = arrivals

    def _noted(self, newpath: bytes) -> None:
        self._arrivals.setdefault(posixpath.basename(newpath.decode()), time.time())

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().posix_rename(oldpath, newpath)
        self._noted(newpath)

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().rename(oldpath, newpath)
        self._noted(newpath)


class FileVendor(SftpServer):
    """The SFTP vendor's server: ``arrivals`` maps each file name to when it appeared (wall clock)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.arrivals: dict[str, float] = {}

    def _session(self, channel: asyncssh.SSHServerChannel[bytes]) -> asyncssh.SFTPServer:
        username = channel.get_extra_info("username")
        return _NotingSftp(channel, str(self.users[username].chroot).encode(), self.arrivals)


async def set_up(
    session: aiohttp.ClientSession,
    urls: dict[str, str],
    admin_token: str,
    merchant: Merchant,
    hook: HookVendor,
    files: FileVendor,
) -> None:
    """The two vendors, their catalog and their connections, through the admin APIs."""
    splitter, gateway = urls["splitter"], urls["gateway"]
    password = secrets.token_urlsafe(16)
    (files.add_user(merchant.vendor_sftp, password=password) / "orders").mkdir()
    kinds = {merchant.vendor_hook: "webhook", merchant.vendor_sftp: "csv_sftp"}
    for vendor, kind in kinds.items():
        await call(session, "PUT", f"{splitter}/v1/vendors/{vendor}", admin_token, {"name": vendor, "kind": kind})
        for index in range(SKUS_PER_VENDOR):
            sku = merchant.sku(vendor, index)
            source = {"vendor": vendor, "vendor_sku": f"V-{sku}", "cost": "7.10", "stock": 1_000_000, "priority": 1}
            body = {"name": f"Item {index}", "sources": [source]}
            await call(session, "PUT", f"{splitter}/v1/catalog/{sku}", admin_token, body)
    hook_body = {"transport": "webhook", "format": "json", "webhook": {"url": hook.url}}
    await call(session, "PUT", f"{gateway}/v1/connections/{merchant.vendor_hook}", admin_token, hook_body)
    sftp = files.settings(merchant.vendor_sftp, password=password, outbound_dir="/orders")
    sftp_body = {"transport": "sftp", "format": "csv", "sftp": sftp.model_dump(mode="json", exclude_none=True)}
    await call(session, "PUT", f"{gateway}/v1/connections/{merchant.vendor_sftp}", admin_token, sftp_body)


@dataclass
class _Sent:
    planned: PlannedOrder
    scheduled: float
    order_id: str | None = None
    error: str | None = None


async def _post(session: aiohttp.ClientSession, url: str, key: str, sent: _Sent) -> None:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    try:
        async with session.post(url, data=sent.planned.body, headers=headers) as response:
            body = await response.read()
            if response.status == 201:
                sent.order_id = json.loads(body)["id"]
            else:
                sent.error = f"HTTP {response.status}"
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        sent.error = type(error).__name__


async def _created_events(dsn: str, order_ids: list[str]) -> list[dict[str, Any]]:
    """The ``vendor_order.created`` events of these orders, as the splitter's outbox holds them."""
    connection = await connect_database(dsn)
    try:
        rows = await connection.fetch(
            "SELECT body FROM splitter.outbox WHERE message_type = 'vendor_order.created'"
            " AND correlation_id = ANY($1::text[])",
            order_ids,
        )
    finally:
        await connection.close()
    return [json.loads(bytes(row["body"])) for row in rows]


def _figures(created: dict[str, tuple[float, str]], arrived: Callable[[str, str], float | None]) -> dict[str, Any]:
    """``created``: vendor order id → (occurred_at, number); ``arrived(id, number)``: when it reached the vendor."""
    latencies: list[float] = []
    last = None
    for vendor_order_id, (occurred, number) in created.items():
        at = arrived(vendor_order_id, number)
        if at is not None:
            latencies.append(at - occurred)
            last = at if last is None else max(last, at)
    first = min((occurred for occurred, _ in created.values()), default=None)
    span = (last - first) if last is not None and first is not None else None
    return {
        "vendor_orders": len(created),
        "delivered": len(latencies),
        "delivered_per_s": round(len(latencies) / span, 1) if span and span > 0 else 0.0,
        "created_to_delivered_s": summary(latencies),
    }


async def measure(
    session: aiohttp.ClientSession,
    system: BenchSystem,
    merchant: Merchant,
    hook: HookVendor,
    files: FileVendor,
    rate: float,
    seconds: float,
    drain_seconds: float,
) -> dict[str, Any]:
    """``rate`` orders per second for ``seconds`` (one vendor order per gateway vendor each), then wait
    up to ``drain_seconds`` for every vendor order to reach its vendor."""
    plan = merchant.planner(seed=7, gateway=True)
    count = max(1, round(rate * seconds))
    url = f"{system.urls['intake']}/v1/orders"
    start = time.monotonic() + 0.05
    sends = [_Sent(plan(), start + i / rate) for i in range(count)]
    tasks: list[asyncio.Task[None]] = []
    for sent in sends:
        delay = sent.scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_post(session, url, merchant.channel_key, sent)))
    await asyncio.gather(*tasks)
    accepted = [sent.order_id for sent in sends if sent.order_id is not None]
    deadline = time.monotonic() + drain_seconds
    # The vendors' servers fill their arrivals in as deliveries come; waiting here is polling them.
    while time.monotonic() < deadline and min(len(hook.arrivals), len(files.arrivals)) < len(accepted):  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    system.check_alive()
    created: dict[str, dict[str, tuple[float, str]]] = {vendor: {} for vendor in merchant.gateway_vendors}
    for event in await _created_events(system.environment.database_url, accepted):
        data = event["data"]
        occurred = datetime.fromisoformat(event["occurred_at"]).timestamp()
        created.setdefault(data["vendor"], {})[data["vendor_order_id"]] = (occurred, data["vendor_order_number"])
    errors: dict[str, int] = {}
    for sent in sends:
        if sent.error is not None:
            errors[sent.error] = errors.get(sent.error, 0) + 1
    return {
        "offered_per_s": rate,
        "seconds": seconds,
        "orders": count,
        "accepted": len(accepted),
        "errors": errors,
        "webhook": {
            **_figures(created[merchant.vendor_hook], lambda vendor_order_id, _: hook.arrivals.get(vendor_order_id)),
            "requests": hook.requests,
        },
        "sftp": _figures(created[merchant.vendor_sftp], lambda _, number: files.arrivals.get(f"{number}.csv")),
    }


def summary_line(results: dict[str, Any]) -> str:
    parts = []
    for transport in ("webhook", "sftp"):
        figures = results[transport]
        p99 = figures["created_to_delivered_s"]["p99"]
        parts.append(
            f"{transport} {figures['delivered']}/{figures['vendor_orders']} delivered,"
            f" {figures['delivered_per_s']}/s, p99 {p99} s"
        )
    return f"gateway at {results['offered_per_s']:.0f} orders/s: " + "; ".join(parts)
