"""A webhook vendor through the running gateway: the signed ``{"type", "data"}`` body with the vendor's
SKUs and ids stable across retries, a vendor that answers 503 for a while, one that never answers 2xx
(the order fails, the splitter hears it and holds the order, ops retry it), a vendor connected only
after its order arrived, and a cancellation sent as a delivery of its own."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway_servers import ReceivedWebhook, WebhookReceiver
from tests.integration.gateway.conftest import DELIVERY_ATTEMPTS, Gateway
from tests.support import wait_until


@dataclass
class Endpoint:
    """A vendor's webhook endpoint and the secret it verifies signatures with."""

    server: WebhookReceiver
    secret: str

    def connection(self) -> dict[str, Any]:
        return {"transport": "webhook", "format": "json", "webhook": {"url": self.server.url, "secret": self.secret}}


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    server = WebhookReceiver(secret)
    await server.start()
    try:
        yield Endpoint(server, secret)
    finally:
        await server.stop()


async def stocked_vendor(gateway: Gateway) -> tuple[str, str]:
    """A webhook vendor with one SKU of its own (the vendor knows it as ``V-<sku>``): (vendor, sku)."""
    vendor = await gateway.vendor("webhook")
    sku = f"SKU-{vendor}"
    await gateway.catalog(sku, vendor, vendor_sku=f"V-{sku}")
    return vendor, sku


def body_of(arrived: ReceivedWebhook) -> dict[str, Any]:
    return dict(json.loads(arrived.body))


async def routing(gateway: Gateway, order_id: str) -> dict[str, Any]:
    return dict(await gateway.system.api.ok("get", "splitter", f"/v1/orders/{order_id}/routing"))


async def test_the_order_arrives_signed_with_the_vendors_sku_and_the_delivery_id(
    gateway: Gateway, endpoint: Endpoint
) -> None:
    vendor, sku = await stocked_vendor(gateway)
    await gateway.connect(vendor, endpoint.connection())
    order_id = await gateway.place(await gateway.channel(), [(sku, 3, "9.50")])

    [arrived] = await endpoint.server.wait_for(1, timeout=30)
    assert arrived.verified, "standardwebhooks should accept the signature"
    assert arrived.path == "/orders"
    body = body_of(arrived)
    assert set(body) == {"type", "data"}
    assert body["type"] == "vendor_order.created"
    data = body["data"]
    assert (data["order_id"], data["vendor"]) == (order_id, vendor)
    assert [(line["sku"], line["vendor_sku"], line["quantity"]) for line in data["lines"]] == [(sku, f"V-{sku}", 3)]

    [sent] = await gateway.wait_delivery(vendor, "sent")
    assert sent["delivery_id"] == f"dlv_{data['vendor_order_id']}_order"
    assert sent["vendor_order_id"] == data["vendor_order_id"]
    assert arrived.headers["webhook-id"] == sent["delivery_id"]
    assert arrived.headers["idempotency-key"] == sent["delivery_id"]
    assert [entry["ok"] for entry in sent["attempt_log"]] == [True]
    assert len(endpoint.server.received) == 1


async def test_a_vendor_down_twice_gets_the_order_once_on_the_third_attempt(
    gateway: Gateway, endpoint: Endpoint
) -> None:
    vendor, sku = await stocked_vendor(gateway)
    await gateway.connect(vendor, endpoint.connection())
    endpoint.server.fail_next(2, status=503)
    await gateway.place(await gateway.channel(), [(sku, 1, "12.00")])

    [sent] = await gateway.wait_delivery(vendor, "sent")
    arrivals = endpoint.server.received
    assert len(arrivals) == 3
    assert all(arrived.verified for arrived in arrivals)
    assert {arrived.headers["webhook-id"] for arrived in arrivals} == {sent["delivery_id"]}
    assert {arrived.headers["idempotency-key"] for arrived in arrivals} == {sent["delivery_id"]}
    assert len({arrived.body for arrived in arrivals}) == 1, "every attempt sends the same bytes"
    assert sent["attempts"] == 3
    log = sent["attempt_log"]
    assert [(entry["attempt"], entry["ok"], entry["status"]) for entry in log] == [
        (1, False, 503),
        (2, False, 503),
        (3, True, None),
    ]
    assert sent["last_error"] is None


async def test_a_vendor_that_never_accepts_fails_the_order_the_splitter_holds_it_and_a_retry_delivers(
    gateway: Gateway, endpoint: Endpoint
) -> None:
    vendor, sku = await stocked_vendor(gateway)
    endpoint.server.status = 503
    await gateway.connect(vendor, endpoint.connection())
    order_id = await gateway.place(await gateway.channel(), [(sku, 2, "12.00")])

    [failed] = await gateway.wait_delivery(vendor, "failed")
    assert failed["attempts"] == DELIVERY_ATTEMPTS
    assert [entry["ok"] for entry in failed["attempt_log"]] == [False] * DELIVERY_ATTEMPTS
    assert "503" in failed["last_error"]
    assert len(endpoint.server.received) == DELIVERY_ATTEMPTS
    vendor_order_id = failed["vendor_order_id"]

    # vendor_order.failed reached the splitter: the vendor order is failed, and with no other source
    # for the SKU the order is held as rejected by every candidate.
    async def held() -> dict[str, Any] | None:
        view = await routing(gateway, order_id)
        return view if view["holds"] else None

    view = await wait_until(held, timeout=20)
    [vendor_order] = [v for v in view["vendor_orders"] if v["vendor_order_id"] == vendor_order_id]
    assert vendor_order["status"] == "failed"
    assert "503" in vendor_order["failed_reason"]
    assert [hold["code"] for hold in view["holds"]] == ["vendor_rejected"]
    assert any(entry["kind"] == "failed" and entry["vendor"] == vendor for entry in view["history"])
    connection = await gateway.ok("get", f"/v1/connections/{vendor}")
    assert connection["failed_deliveries"] == 1

    # The vendor is back; ops retry the delivery with a fresh budget.
    endpoint.server.status = 202
    retried = await gateway.ok("post", f"/v1/deliveries/{vendor_order_id}/retry")
    assert retried["retried"] == 1
    [sent] = await gateway.wait_delivery(vendor, "sent")
    assert sent["delivery_id"] == failed["delivery_id"]
    assert endpoint.server.received[-1].headers["webhook-id"] == failed["delivery_id"]
    assert len(endpoint.server.received) == DELIVERY_ATTEMPTS + 1


async def test_an_order_for_an_unconnected_vendor_waits_until_it_is_connected(
    gateway: Gateway, endpoint: Endpoint
) -> None:
    vendor, sku = await stocked_vendor(gateway)
    shown = await gateway.ok("get", f"/v1/connections/{vendor}")
    assert shown["state"] == "unconnected"
    await gateway.place(await gateway.channel(), [(sku, 1, "12.00")])

    [waiting] = await gateway.wait_delivery(vendor, "pending")
    assert waiting["waiting_for"] == "connection"
    assert waiting["attempt_log"] == []
    shown = await gateway.ok("get", f"/v1/connections/{vendor}")
    assert (shown["state"], shown["pending_deliveries"]) == ("unconnected", 1)
    assert endpoint.server.received == []

    await gateway.connect(vendor, endpoint.connection())
    [sent] = await gateway.wait_delivery(vendor, "sent")
    assert "waiting_for" not in sent
    [arrived] = await endpoint.server.wait_for(1, timeout=10)
    assert arrived.verified and arrived.headers["webhook-id"] == sent["delivery_id"]
    shown = await gateway.ok("get", f"/v1/connections/{vendor}")
    assert (shown["state"], shown["pending_deliveries"]) == ("connected", 0)
    assert shown["last_delivery_at"] is not None


async def test_a_cancelled_order_is_sent_as_a_cancellation_with_its_own_delivery_id(
    gateway: Gateway, endpoint: Endpoint
) -> None:
    vendor, sku = await stocked_vendor(gateway)
    await gateway.connect(vendor, endpoint.connection())
    channel = await gateway.channel()
    order_id = await gateway.place(channel, [(sku, 1, "12.00")])
    [order_sent] = await gateway.wait_delivery(vendor, "sent")

    await gateway.system.api.ok("post", "intake", f"/v1/orders/{order_id}/cancel", token=channel[1])
    first, second = await endpoint.server.wait_for(2, timeout=30)
    assert second.verified
    cancellation = body_of(second)
    assert cancellation["type"] == "vendor_order.cancelled"
    assert cancellation["data"]["vendor_order_id"] == body_of(first)["data"]["vendor_order_id"]
    assert cancellation["data"]["order_id"] == order_id
    cancel_id = f"dlv_{order_sent['vendor_order_id']}_cancel"
    assert second.headers["webhook-id"] == second.headers["idempotency-key"] == cancel_id
    assert first.headers["webhook-id"] != cancel_id

    async def both_sent() -> list[dict[str, Any]] | None:
        found = await gateway.deliveries(vendor)
        return found if len(found) == 2 and all(d["state"] == "sent" for d in found) else None

    delivered = await wait_until(both_sent, timeout=20)
    assert {(d["event"], d["delivery_id"]) for d in delivered} == {
        ("vendor_order.created", order_sent["delivery_id"]),
        ("vendor_order.cancelled", cancel_id),
    }
    assert len(endpoint.server.received) == 2


async def metrics(gateway: Gateway) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The gateway's /metrics samples by name and labels."""
    async with gateway.system.api.session.get(f"{gateway.url}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_deliveries_by_vendor_and_outcome_and_age_the_oldest_waiting(
    gateway: Gateway, endpoint: Endpoint
) -> None:
    vendor, sku = await stocked_vendor(gateway)
    await gateway.connect(vendor, endpoint.connection())
    endpoint.server.fail_next(1, status=503)
    await gateway.place(await gateway.channel(), [(sku, 1, "12.00")])
    await gateway.wait_delivery(vendor, "sent")
    shown = await metrics(gateway)
    assert shown[("gateway_deliveries_total", (("outcome", "sent"), ("vendor", vendor)))] == 1
    assert shown[("gateway_deliveries_total", (("outcome", "retry"), ("vendor", vendor)))] == 1
    assert ("gateway_deliveries_total", (("outcome", "failed"), ("vendor", vendor))) not in shown

    waiting_vendor, waiting_sku = await stocked_vendor(gateway)
    await gateway.place(await gateway.channel(), [(waiting_sku, 1, "12.00")])
    [waiting] = await gateway.wait_delivery(waiting_vendor, "pending")
    since = datetime.fromisoformat(waiting["created_at"])

    async def aged() -> bool:
        age = (await metrics(gateway))[("gateway_oldest_undelivered_age_seconds", ())]
        # The gauge is refreshed about once a second: it is at least this delivery's age of a moment ago.
        return age >= (datetime.now(UTC) - since).total_seconds() - 1.5 and age >= 1.0

    await wait_until(aged, timeout=15)
