"""The overview's ShipStation and vendor-delivery panels with real data: a ShipStation vendor that
polled with a clock in another zone than its setting shows its last poll and the zone warning, one
without credentials says so, and a webhook vendor that never accepts shows its failed delivery with
the vendor's answer. The gateway runs here (quick retries, one attempt), beside the session's four
services and this module's console."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from services.console.app import SERVICE as CONSOLE
from services.gateway.app import SERVICE as GATEWAY
from services.gateway.settings import GatewaySettings
from shared.processes import free_port
from shared.service import running_service
from tests.conftest import RunningSystem, remove_vendor_queues
from tests.gateway_servers import WebhookReceiver
from tests.integration.console.conftest import Console, console_settings
from tests.integration.shipstation.support import new_merchant, standin
from tests.support import order_payload, unique, wait_until


@dataclass
class WithGateway:
    console: Console
    vendors: list[str] = field(default_factory=list)
    """Webhook vendors made here: their queues are removed once the module is done."""


@pytest.fixture(scope="module")
async def with_gateway(system: RunningSystem) -> AsyncIterator[WithGateway]:
    gateway_port, console_port = free_port(), free_port()
    gateway = system.env.settings(
        GatewaySettings,
        gateway_port=gateway_port,
        splitter_port=system.splitter.port,
        intake_port=system.intake.port,
        delivery_attempts=1,
        delivery_timeout_seconds=3.0,
        vendor_discovery_seconds=0.3,
    )
    settings = console_settings(system, console_port, gateway_url=f"http://127.0.0.1:{gateway_port}")
    made: list[str] = []
    system.api.urls["gateway"] = f"http://127.0.0.1:{gateway_port}"
    try:
        async with (
            running_service(GATEWAY, gateway),
            running_service(CONSOLE, settings) as runtime,
            aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
        ):
            yield WithGateway(Console(runtime, f"http://127.0.0.1:{console_port}", system, http), made)
    finally:
        system.api.urls.pop("gateway", None)
        await remove_vendor_queues(system, made)


def row_of(html: str, table: str, attribute: str, value: str) -> str:
    found = re.search(rf'<table id="{table}">.*?</table>', html, re.S)
    assert found, f"no #{table} table"
    row = re.search(rf'<tr data-{attribute}="{re.escape(value)}"[^>]*>(.*?)</tr>', found.group(0), re.S)
    assert row, f"no row for {value} in #{table}"
    return row.group(0)


async def test_shipstation_polls_show_the_last_poll_and_the_zone_warning(with_gateway: WithGateway) -> None:
    console = with_gateway.console
    system = console.system
    merchant = await new_merchant(system, settings={"timezone": "America/Chicago"})
    shipstation = standin(system, merchant, zone=ZoneInfo("UTC"))
    await shipstation.refresh()  # ShipStation's clock reads UTC: the adapter warns about the zone
    unconnected = unique("ss-none-")
    await system.api.ok("PUT", "splitter", f"/v1/vendors/{unconnected}", {"name": "Later", "kind": "shipstation"})

    browser = await console.signed_in("Poll Watcher")
    status, html, _ = await browser.get("/")
    assert status == 200
    polled = row_of(html, "polls", "vendor", merchant.vendor)
    assert 'class="warn"' in polled and "time zone:" in polled and "America/Chicago" in polled, polled
    assert "<td>ok</td>" in polled, "the last poll's outcome"
    assert re.search(r"<td>\d+ s</td>", polled), f"polled seconds ago: {polled}"
    assert merchant.credentials["password"] not in html and merchant.credentials["username"] not in html
    never = row_of(html, "polls", "vendor", unconnected)
    assert "no credentials yet" in never, never


async def test_a_failed_vendor_delivery_shows_with_the_vendors_answer(with_gateway: WithGateway) -> None:
    console = with_gateway.console
    system = console.system
    vendor = unique("pv").lower()
    await system.api.ok("put", "splitter", f"/v1/vendors/{vendor}", {"name": vendor, "kind": "webhook"})
    with_gateway.vendors.append(vendor)
    sku = f"SKU-{vendor}"
    source = {"vendor": vendor, "stock": 10, "priority": 1}
    await system.api.ok("put", "splitter", f"/v1/catalog/{sku}", {"name": sku, "sources": [source]})
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    receiver = WebhookReceiver(secret, status=503)
    await receiver.start()
    try:
        body = {"transport": "webhook", "format": "json", "webhook": {"url": receiver.url, "secret": secret}}
        await system.api.ok("put", "gateway", f"/v1/connections/{vendor}", body)
        code = unique("pc").lower()
        channel = await system.api.ok("put", "intake", f"/v1/channels/{code}", {"name": code})
        await system.api.ok(
            "post", "intake", "/v1/orders", order_payload(code, [(sku, 1, "9.00")]), token=channel["api_key"]
        )
        browser = await console.signed_in("Delivery Watcher")

        async def shown() -> str | None:
            _, html, _ = await browser.get("/?fragment=1")
            return html if f'<a href="/vendors/{vendor}">' in html and 'id="failed-deliveries"' in html else None

        html = await wait_until(shown, timeout=30, every=0.3)
    finally:
        await receiver.stop()
    [failed] = [
        row
        for row in re.findall(r'<tr data-delivery="[^"]+">.*?</tr>', html, re.S)
        if f'<a href="/vendors/{vendor}">' in row
    ]
    assert "503" in failed, "the vendor's answer is the last error"
    assert "<td>1</td>" in failed, "one attempt (the budget here)"
    assert "failed deliveries:" not in html, "the panel had the gateway's answer"
