"""The vendor page's actions, against the real splitter and gateway: a quarantined feed accepted from
the page is applied, and an e-mail vendor's answer entered by hand (its acknowledgement, then its
shipment) reaches the gateway's vendor API and becomes the order's shipment in tracking. Each is
audit-logged."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from services.console.app import SERVICE as CONSOLE
from services.gateway.app import SERVICE as GATEWAY
from services.gateway.settings import GatewaySettings
from shared.processes import free_port
from shared.service import running_service
from tests.conftest import RunningSystem, remove_vendor_queues
from tests.gateway_servers import SmtpServer
from tests.integration.console.conftest import Console, console_settings
from tests.support import order_payload, unique, wait_until


@pytest.fixture(scope="module")
async def with_gateway(system: RunningSystem) -> AsyncIterator[tuple[Console, SmtpServer, list[str]]]:
    """The console beside a running gateway, and the SMTP server the gateway hands e-mail vendors' orders to."""
    smtp = SmtpServer()
    await smtp.start()
    made: list[str] = []
    gateway_port, console_port = free_port(), free_port()
    gateway = system.env.settings(
        GatewaySettings,
        gateway_port=gateway_port,
        intake_port=system.intake.port,
        splitter_port=system.splitter.port,
        smtp_url=smtp.url,
        vendor_discovery_seconds=0.3,
    )
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    settings = console_settings(system, console_port, gateway_url=gateway_url)
    system.api.urls["gateway"] = gateway_url
    try:
        async with (
            running_service(GATEWAY, gateway),
            running_service(CONSOLE, settings) as runtime,
            aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
        ):
            yield Console(runtime, f"http://127.0.0.1:{console_port}", system, http), smtp, made
    finally:
        await remove_vendor_queues(system, made)
        await smtp.stop()


def succeeded(page: str) -> bool:
    """The page an action answers with says it went through."""
    return re.search(r'<p id="outcome"[^>]*data-ok="true"', page) is not None


async def audited(console: Console, action: str, target: str) -> list[dict[str, Any]]:
    rows = await console.runtime.pool.fetch(
        "SELECT who, outcome, detail FROM audit_log WHERE action = $1 AND target = $2", action, target
    )
    return [dict(row) for row in rows]


async def test_a_quarantined_feed_accepted_from_the_vendor_page_is_applied(
    with_gateway: tuple[Console, SmtpServer, list[str]],
) -> None:
    console, _, made = with_gateway
    api = console.system.api
    vendor = unique("cv-")
    await api.ok(
        "PUT", "splitter", f"/v1/vendors/{vendor}", {"name": vendor, "kind": "webhook", "min_inventory_rows": 2}
    )
    made.append(vendor)
    skus = [unique("QSKU-") for _ in range(3)]
    for sku in skus:
        await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": vendor, "stock": 10}]})
    status, feed = await api.call(
        "PUT", "splitter", f"/v1/stock/{vendor}", {"mode": "snapshot", "items": [{"sku": skus[0], "quantity": 10}]}
    )
    assert status == 202 and feed["state"] == "quarantined", feed
    browser = await console.signed_in("Feed Reviewer")
    status, page, _ = await browser.get(f"/vendors/{vendor}")
    assert status == 200 and feed["feed_id"] in page
    status, page, _ = await browser.post(f"/vendors/{vendor}/feeds/{feed['feed_id']}/accept")
    assert status == 200 and succeeded(page), page[:2000]
    listed = {f["id"]: f for f in (await api.ok("GET", "splitter", f"/v1/feeds?vendor={vendor}"))["feeds"]}
    assert listed[feed["feed_id"]]["state"] == "accepted"
    assert [(await api.ok("GET", "splitter", f"/v1/stock/{sku}"))["available"] for sku in skus] == [10, 0, 0]
    [row] = await audited(console, "accept_feed", feed["feed_id"])
    assert row["who"] == "Feed Reviewer" and row["outcome"] == "ok"


async def test_an_email_vendors_answer_entered_by_hand_becomes_the_orders_shipment(
    with_gateway: tuple[Console, SmtpServer, list[str]],
) -> None:
    console, smtp, made = with_gateway
    api = console.system.api
    vendor, sku = unique("ce-"), unique("ESKU-")
    await api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", {"name": vendor, "kind": "email"})
    made.append(vendor)
    await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": vendor, "stock": 10}]})
    status, _ = await api.call(
        "PUT",
        "gateway",
        f"/v1/connections/{vendor}",
        {"transport": "email", "format": "csv", "email": {"to": [f"orders@{vendor}.example"]}},
    )
    assert status in (200, 201)
    channel = unique("cc").lower()
    key = (await api.ok("PUT", "intake", f"/v1/channels/{channel}", {"name": channel}))["api_key"]
    order = await api.ok("POST", "intake", "/v1/orders", order_payload(channel, [(sku, 2, "5.00")]), token=key)

    async def delivered() -> dict[str, Any] | None:
        listed = (await api.ok("GET", "gateway", f"/v1/deliveries?vendor={vendor}"))["deliveries"]
        return listed[0] if listed and listed[0]["state"] in ("sent", "acknowledged") else None

    delivery = await wait_until(delivered, timeout=30)
    vendor_order_id = delivery["vendor_order_id"]
    browser = await console.signed_in("Mail Reader")
    status, page, _ = await browser.post(
        f"/vendors/{vendor}/orders/{vendor_order_id}/acknowledgement", {"line_ids": "L1", "status": "accepted"}
    )
    assert status == 200 and succeeded(page), page[:2000]
    status, page, _ = await browser.post(
        f"/vendors/{vendor}/orders/{vendor_order_id}/shipment",
        {"carrier": "UPS", "tracking_number": "1ZBYHAND01", "ship_date": "2026-11-30"},
    )
    assert status == 200 and succeeded(page), page[:2000]

    async def shipped() -> list[dict[str, Any]] | None:
        found = (await api.ok("GET", "tracking", f"/v1/orders/{order['id']}/shipments"))["shipments"]
        return found or None

    [shipment] = await wait_until(shipped, timeout=30)
    assert shipment["tracking_number"] == "1ZBYHAND01"
    assert [(line["sku"], line["quantity"]) for line in shipment["lines"]] == [(sku, 2)]
    assert smtp.messages, "the vendor's order went out by e-mail"
    assert [row["who"] for row in await audited(console, "ship", vendor_order_id)] == ["Mail Reader"]
    assert [row["outcome"] for row in await audited(console, "acknowledge", vendor_order_id)] == ["ok"]
