"""What the gateway's integration tests share: the gateway running in-process beside the other four
services (module scope: it consumes every non-ShipStation vendor's queue while it runs, so it runs only
for the modules that test it), a real SMTP server it hands e-mail to, an SFTP server and webhook
receivers for vendors, and helpers to make a vendor, connect it and place an order for it.

Retries are quick here (a budget of 3 attempts, backoff under a second) so failure paths finish fast.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from services.gateway.app import SERVICE as GATEWAY
from services.gateway.settings import GatewaySettings
from shared.processes import free_port
from shared.service import Runtime, running_service
from tests.conftest import RunningSystem, remove_vendor_queues
from tests.gateway_servers import SftpServer, SmtpServer
from tests.support import order_payload, unique, wait_until

DELIVERY_ATTEMPTS = 3


@dataclass
class Gateway:
    runtime: Runtime
    url: str
    system: RunningSystem
    smtp: SmtpServer
    vendors: list[str] = field(default_factory=list)
    """Made through :meth:`vendor`: their queues are removed once the module is done."""

    async def call(self, method: str, path: str, json: Any = None, token: str | None = None) -> tuple[int, Any]:
        return await self.system.api.call(method, "gateway", path, json=json, token=token)

    async def ok(self, method: str, path: str, json: Any = None, token: str | None = None) -> Any:
        return await self.system.api.ok(method, "gateway", path, json=json, token=token)

    async def vendor(self, kind: str, **fields: Any) -> str:
        code = unique("v").lower().replace("_", "-")[:40]
        await self.system.api.ok("put", "splitter", f"/v1/vendors/{code}", {"name": code, "kind": kind, **fields})
        self.vendors.append(code)
        return code

    async def connect(self, vendor: str, body: dict[str, Any]) -> dict[str, Any]:
        status, answer = await self.call("put", f"/v1/connections/{vendor}", body)
        assert status in (200, 201), answer
        return dict(answer)

    async def stop_polling(self, connected: list[tuple[str, dict[str, Any]]]) -> None:
        """Put each (vendor, connection) back without inbound folders: a module's SFTP server is gone once
        the module is done, and the gateway of the next module should not keep polling it."""
        for code, connection in connected:
            sftp = {key: value for key, value in connection["sftp"].items() if key != "inbound"}
            await self.connect(code, {**connection, "sftp": sftp})

    async def catalog(self, sku: str, vendor: str, vendor_sku: str | None = None, stock: int = 100) -> None:
        source: dict[str, Any] = {"vendor": vendor, "stock": stock, "priority": 1}
        if vendor_sku:
            source["vendor_sku"] = vendor_sku
        await self.system.api.ok(
            "put", "splitter", f"/v1/catalog/{sku}", {"name": f"Product {sku}", "sources": [source]}
        )

    async def channel(self) -> tuple[str, str]:
        code = unique("ch").lower()
        answer = await self.system.api.ok("put", "intake", f"/v1/channels/{code}", {"name": code})
        return code, answer["api_key"]

    async def place(self, channel: tuple[str, str], skus: list[tuple[str, int, str]], **extra: Any) -> str:
        code, key = channel
        answer = await self.system.api.ok("post", "intake", "/v1/orders", order_payload(code, skus, **extra), token=key)
        return str(answer["order_id"])

    async def vendor_orders(self, order_id: str) -> list[dict[str, Any]]:
        async def routed() -> list[dict[str, Any]] | None:
            status, body = await self.system.api.call("get", "splitter", f"/v1/orders/{order_id}/routing")
            if status != 200 or not body.get("vendor_orders"):
                return None
            return list(body["vendor_orders"])

        return await wait_until(routed, timeout=30)

    async def deliveries(self, vendor: str) -> list[dict[str, Any]]:
        return list((await self.ok("get", f"/v1/deliveries?vendor={vendor}"))["deliveries"])

    async def wait_delivery(self, vendor: str, state: str, count: int = 1, timeout: float = 30) -> list[dict[str, Any]]:
        async def reached() -> list[dict[str, Any]] | None:
            found = [d for d in await self.deliveries(vendor) if d["state"] == state]
            return found if len(found) >= count else None

        return await wait_until(reached, timeout=timeout)


@pytest.fixture(scope="module")
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(scope="module")
async def sftp(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SftpServer]:
    server = SftpServer(Path(tmp_path_factory.mktemp("sftp")))
    await server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            await server.stop()


@pytest.fixture(scope="module")
async def gateway(system: RunningSystem, smtp: SmtpServer) -> AsyncIterator[Gateway]:
    port = free_port()
    settings = system.env.settings(
        GatewaySettings,
        gateway_port=port,
        splitter_port=system.splitter.port,
        intake_port=system.intake.port,
        smtp_url=smtp.url,
        delivery_attempts=DELIVERY_ATTEMPTS,
        delivery_first_retry_seconds=0.2,
        delivery_max_backoff_seconds=0.5,
        delivery_timeout_seconds=3.0,
        vendor_discovery_seconds=0.3,
        pickup_check_seconds=0.2,
    )
    url = f"http://127.0.0.1:{port}"
    system.api.urls["gateway"] = url
    made: list[str] = []
    async with running_service(GATEWAY, settings) as runtime:
        try:
            gateway = Gateway(runtime, url, system, smtp)
            yield gateway
            made = gateway.vendors
        finally:
            system.api.urls.pop("gateway", None)
    # After the gateway stopped consuming them (a consumer of a deleted queue retries without pause).
    await remove_vendor_queues(system, made)
