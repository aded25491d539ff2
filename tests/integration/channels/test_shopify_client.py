"""ShopifyClient against FakeShopify on loopback: no broker, no database."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from services.channels.ports import PlatformError, PushedShipment, ShipmentPush, ShippedLine, ShopConfig, StockPush
from services.channels.shopify import client as shopify_client
from services.channels.shopify.client import ShopifyClient
from services.channels.shopify.orders import TOPICS, decide
from tests.fakes.shopify import FakeShopify
from tests.support import captured_logs

TOKEN = "shpat_test_token_0123456789abcdef"
WEBHOOK_SECRET = "whsec_shopify_fake"
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "channels" / "shopify_order.json"


@pytest.fixture
async def fake() -> AsyncIterator[FakeShopify]:
    shop = FakeShopify(TOKEN, WEBHOOK_SECRET)
    await shop.start()
    yield shop
    await shop.stop()


def _config(fake: FakeShopify, **options: Any) -> ShopConfig:
    return ShopConfig(
        code="acme",
        platform="shopify",
        base_url=fake.base_url,
        secrets={"access_token": TOKEN, "webhook_secret": WEBHOOK_SECRET},
        options=options,
    )


@pytest.fixture
def client(fake: FakeShopify, session: aiohttp.ClientSession) -> ShopifyClient:
    return ShopifyClient(_config(fake), session, max_throttle_wait=2.0)


def _order(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data.pop("id")
    for item in data["line_items"]:
        item.pop("id")
    data.update(changes)
    return data


def _push(order: dict[str, Any], lines: tuple[ShippedLine, ...], number: str | None, **extra: Any) -> ShipmentPush:
    values: dict[str, Any] = {
        "shipment_id": "shp_1",
        "platform_order_id": str(order["id"]),
        "order_number": order["name"][1:],
        "vendor": "acme",
        "carrier": "ups",
        "service": "Ground",
        "tracking_number": number,
        "ship_date": None,
        "notify_customer": False,
        "lines": lines,
        "order_shipped": False,
    }
    values.update(extra)
    return ShipmentPush(**values)


def _operations(fake: FakeShopify) -> list[tuple[str | None, int | None, bool]]:
    return [(r["operation"], r["status"], r["throttled"]) for r in fake.requests]


async def test_register_webhooks_is_idempotent(fake: FakeShopify, client: ShopifyClient) -> None:
    assert await client.register_webhooks("http://127.0.0.1:9/hooks/shopify") == list(TOPICS)
    assert sorted(w["topic"] for w in fake.webhooks.values()) == sorted(
        ["ORDERS_CREATE", "ORDERS_PAID", "ORDERS_UPDATED", "ORDERS_CANCELLED"]
    )
    assert {w["uri"] for w in fake.webhooks.values()} == {"http://127.0.0.1:9/hooks/shopify"}
    creates = sum(1 for r in fake.requests if r["operation"] == "WebhookSubscriptionCreate")
    await client.register_webhooks("http://127.0.0.1:9/hooks/shopify")
    assert len(fake.webhooks) == 4
    assert sum(1 for r in fake.requests if r["operation"] == "WebhookSubscriptionCreate") == creates == 4


async def test_orders_changed_since_pages_and_converts(
    fake: FakeShopify, client: ShopifyClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of 10 rather than 50: each order is read in full (about 40 points), and 55 of them would
    # drain the fake's bucket as they drain Shopify's, so the test would wait for it to refill.
    monkeypatch.setattr(shopify_client, "ORDERS_PAGE", 10)
    old = fake.add_order(_order(updated_at="2026-01-01T00:00:00Z"))
    created = [
        fake.add_order(_order(name=f"#{2000 + i}", updated_at=f"2026-11-27T0{i % 10}:00:00Z")) for i in range(15)
    ]
    seen = [c async for c in client.orders_changed_since(datetime(2026, 11, 26, tzinfo=UTC))]
    assert len(seen) == 15
    assert old["id"] not in {c.payload["id"] for c in seen}
    assert {c.topic for c in seen} == {"orders/updated"}
    list_calls = [r for r in fake.requests if r["operation"] == "OrdersChanged"]
    assert len(list_calls) == 2 and list_calls[1]["variables"]["after"]
    assert list_calls[0]["variables"]["query"] == "updated_at:>='2026-11-26T00:00:00Z'"
    stamps = [c.payload["updated_at"] for c in seen]
    assert stamps == sorted(stamps)
    # The reconciled shape decides as the webhook does.
    first = next(c for c in seen if c.payload["id"] == created[0]["id"])
    from_webhook = decide("orders/create", created[0])
    from_graphql = decide(first.topic, first.payload)
    assert from_graphql.kind == "upsert"
    assert from_graphql.fingerprint == from_webhook.fingerprint
    assert from_graphql.order is not None and from_webhook.order is not None
    for key in ("external_id", "order_number", "currency", "customer", "ship_to", "bill_to", "lines"):
        if key == "lines":  # GraphQL gives no line weights
            assert [
                {k: v for k, v in line.items() if k not in ("weight", "weight_unit")}
                for line in from_graphql.order[key]
            ] == [
                {k: v for k, v in line.items() if k not in ("weight", "weight_unit")}
                for line in from_webhook.order[key]
            ]
        else:
            assert from_graphql.order[key] == from_webhook.order[key], key
    assert from_graphql.order["discounts"] == [{"code": "TENOFF + FREESHIP", "amount": "10.00"}]


async def test_push_creates_exactly_the_fulfillment_and_a_retry_creates_nothing(
    fake: FakeShopify, client: ShopifyClient
) -> None:
    order = fake.add_order(_order())
    pink, case = order["line_items"][0], order["line_items"][1]
    push = _push(order, (ShippedLine(str(pink["id"]), 2),), "1Z999AA10123456784")
    outcome = await client.push_shipment(push)
    assert outcome.remote_id.startswith("gid://shopify/Fulfillment/")
    assert outcome.tracking_numbers == ("1Z999AA10123456784",)
    [made] = fake.fulfillments(order["id"])
    assert made["lines"] == [{"line_item_id": pink["id"], "quantity": 2}]
    assert made["tracking"] == [{"company": "UPS", "number": "1Z999AA10123456784", "url": None}]
    assert made["notify_customer"] is False
    remaining = {line["line_item_id"]: line["remaining"] for line in fake.fulfillment_order_lines(order["id"])}
    assert remaining[pink["id"]] == 0 and remaining[case["id"]] == 1
    # A crash after Shopify took it and before we recorded it: the same push again.
    again = await client.push_shipment(push)
    assert again.remote_id == outcome.remote_id
    assert "already there" in again.detail
    assert len(fake.fulfillments(order["id"])) == 1
    assert sum(1 for r in fake.requests if r["operation"] == "FulfillmentCreate") == 1


async def test_two_locations_make_one_fulfillment_each(fake: FakeShopify, client: ShopifyClient) -> None:
    order = fake.add_order(_order())
    pink, case = order["line_items"][0], order["line_items"][1]
    fake.split_order(order["id"], [case["id"]], fake.add_location("East"))
    push = _push(order, (ShippedLine(str(pink["id"]), 2), ShippedLine(str(case["id"]), 1)), "1ZBOTH")
    await client.push_shipment(push)
    made = fake.fulfillments(order["id"])
    assert [m["lines"] for m in made] == [
        [{"line_item_id": pink["id"], "quantity": 2}],
        [{"line_item_id": case["id"], "quantity": 1}],
    ]
    remaining = {line["line_item_id"]: line["remaining"] for line in fake.fulfillment_order_lines(order["id"])}
    assert remaining[pink["id"]] == remaining[case["id"]] == 0


async def test_second_box_adds_its_number_to_the_fulfillment(fake: FakeShopify, client: ShopifyClient) -> None:
    order = fake.add_order(_order())
    pink = order["line_items"][0]
    first = await client.push_shipment(_push(order, (ShippedLine(str(pink["id"]), 2),), "BOX1"))
    earlier = (PushedShipment("shp_1", "acme", first.remote_id, first.tracking_numbers),)
    second = await client.push_shipment(_push(order, (), "BOX2", shipment_id="shp_2", earlier=earlier))
    assert second.remote_id == first.remote_id
    assert second.tracking_numbers == ("BOX1", "BOX2")
    [made] = fake.fulfillments(order["id"])
    assert [t["number"] for t in made["tracking"]] == ["BOX1", "BOX2"]
    again = await client.push_shipment(_push(order, (), "BOX2", shipment_id="shp_2", earlier=earlier))
    assert "already there" in again.detail
    assert sum(1 for r in fake.requests if r["operation"] == "FulfillmentTrackingInfoUpdate") == 1


async def test_unknown_carrier_takes_the_shop_template(fake: FakeShopify, session: aiohttp.ClientSession) -> None:
    templates = {"Acme Freight": "https://track.example/{number}"}
    client = ShopifyClient(_config(fake, tracking_url_templates=templates), session)
    order = fake.add_order(_order())
    push = _push(order, (ShippedLine(str(order["line_items"][0]["id"]), 1),), "AF7", carrier="Acme Freight")
    await client.push_shipment(push)
    [made] = fake.fulfillments(order["id"])
    assert made["tracking"] == [{"company": "Acme Freight", "number": "AF7", "url": "https://track.example/AF7"}]


async def test_an_order_shopify_does_not_have_is_not_retryable(client: ShopifyClient) -> None:
    push = ShipmentPush("s", "424242", "1", "acme", "ups", None, "1Z", None, False, (ShippedLine("1", 1),), False)
    with pytest.raises(PlatformError) as caught:
        await client.push_shipment(push)
    assert caught.value.retryable is False and caught.value.status == 404


async def test_throttled_answers_are_waited_out(fake: FakeShopify, client: ShopifyClient) -> None:
    fake.throttle_next(2)
    await client.register_webhooks("http://127.0.0.1:9/hooks")
    first_three = _operations(fake)[:3]
    assert first_three == [
        ("WebhookSubscriptions", 200, True),
        ("WebhookSubscriptions", 200, True),
        ("WebhookSubscriptions", 200, False),
    ]
    assert len(fake.webhooks) == 4


async def test_throttling_past_the_budget_is_retryable_with_retry_after(
    fake: FakeShopify, session: aiohttp.ClientSession
) -> None:
    client = ShopifyClient(_config(fake), session, max_throttle_wait=0.1)
    fake.throttle_next(10)
    with pytest.raises(PlatformError) as caught:
        await client.register_webhooks("http://127.0.0.1:9/hooks")
    assert caught.value.retryable is True
    assert caught.value.retry_after is not None and caught.value.retry_after > 0


async def test_the_fake_refuses_a_document_the_schema_lacks(fake: FakeShopify, client: ShopifyClient) -> None:
    with pytest.raises(PlatformError) as caught:
        await client.call("Bad", "query Bad { shop { name } }", {})
    assert caught.value.retryable is False
    assert "shop" in caught.value.message
    async with (
        aiohttp.ClientSession() as raw,
        raw.post(
            f"{fake.base_url}/admin/api/2026-10/graphql.json",
            json={"query": "{ orders(first: 1) { nodes { id callbackUrl } } }"},
            headers={"X-Shopify-Access-Token": TOKEN},
        ) as response,
    ):
        body = await response.json()
    assert response.status == 200
    assert "callbackUrl" in body["errors"][0]["message"] and body["errors"][0]["locations"]


async def test_the_fake_checks_token_version_and_cost(fake: FakeShopify) -> None:
    async with aiohttp.ClientSession() as raw:
        url = f"{fake.base_url}/admin/api/2026-10/graphql.json"
        async with raw.post(url, json={"query": "{ locations(first: 1) { nodes { id } } }"}) as response:
            assert response.status == 401
            assert (await response.json())["errors"].startswith("[API] Invalid API key")
        bad = f"{fake.base_url}/admin/api/2019-01/graphql.json"
        async with raw.post(
            bad, json={"query": "{ locations(first: 1) { nodes { id } } }"}, headers={"X-Shopify-Access-Token": TOKEN}
        ) as response:
            assert response.status == 404
        heavy = "{ orders(first: 50) { nodes { lineItems(first: 100) { nodes { id variant { id } } } } } }"
        async with raw.post(url, json={"query": heavy}, headers={"X-Shopify-Access-Token": TOKEN}) as response:
            body = await response.json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


async def test_set_stock_batches_and_sets_quantities(fake: FakeShopify, client: ShopifyClient) -> None:
    skus = [f"SKU-{i:03d}" for i in range(260)]
    for sku in skus:
        fake.add_variant(sku)
    levels = [StockPush(sku, i) for i, sku in enumerate(skus)] + [StockPush("NOT-SOLD", 4)]
    outcome = await client.set_stock(levels)
    assert set(outcome.updated) == set(skus)
    assert outcome.unknown == ("NOT-SOLD",)
    assert fake.stock("SKU-000") == 0 and fake.stock("SKU-259") == 259 and fake.stock("SKU-100") == 100
    sets = [r for r in fake.requests if r["operation"] == "InventorySet"]
    assert [len(r["variables"]["input"]["quantities"]) for r in sets] == [250, 10]
    assert all(q["changeFromQuantity"] is None for r in sets for q in r["variables"]["input"]["quantities"])
    assert len({r["variables"]["idempotencyKey"] for r in sets}) == 2
    lookups = sum(1 for r in fake.requests if r["operation"] == "VariantsBySku")
    await client.set_stock([StockPush("SKU-001", 7)])
    assert fake.stock("SKU-001") == 7
    assert sum(1 for r in fake.requests if r["operation"] == "VariantsBySku") == lookups  # cached


async def test_set_stock_at_the_configured_location(fake: FakeShopify, session: aiohttp.ClientSession) -> None:
    east = fake.add_location("East")
    fake.add_variant("LOC-1", stock={east: 1})
    client = ShopifyClient(_config(fake, location_id=str(east)), session)
    await client.set_stock([StockPush("LOC-1", 12)])
    assert fake.stock("LOC-1", east) == 12
    assert not any(r["operation"] == "FirstLocation" for r in fake.requests)


async def test_the_fake_requires_idempotency_from_2026_04(fake: FakeShopify, client: ShopifyClient) -> None:
    variant = fake.add_variant("IDEM-1")
    query = """mutation NoKey($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) { userErrors { message } } }"""
    quantity = {
        "inventoryItemId": f"gid://shopify/InventoryItem/{variant['inventory_item_id']}",
        "locationId": "gid://shopify/Location/64000000001",
        "quantity": 3,
        "changeFromQuantity": None,
    }
    with pytest.raises(PlatformError) as caught:
        await client.call(
            "NoKey", query, {"input": {"name": "available", "reason": "correction", "quantities": [quantity]}}
        )
    assert "idempotent" in caught.value.message
    assert fake.stock("IDEM-1") == 0


async def test_down_is_retryable(fake: FakeShopify, client: ShopifyClient) -> None:
    fake.down = True
    with pytest.raises(PlatformError) as caught:
        await client.register_webhooks("http://127.0.0.1:9/hooks")
    assert caught.value.retryable is True and caught.value.status == 503


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (429, True), (401, False), (403, False), (404, False)])
async def test_http_failures_map_to_platform_errors(
    fake: FakeShopify, client: ShopifyClient, status: int, retryable: bool
) -> None:
    fake.fail_next(status, {"errors": "nope"}, {"Retry-After": "2.0"} if status == 429 else None)
    with pytest.raises(PlatformError) as caught:
        await client.register_webhooks("http://127.0.0.1:9/hooks")
    assert caught.value.retryable is retryable and caught.value.status == status
    if status == 429:
        assert caught.value.retry_after == 2.0


async def test_unreachable_shop_is_retryable(session: aiohttp.ClientSession) -> None:
    shop = ShopConfig("x", "shopify", "http://127.0.0.1:9", {"access_token": TOKEN})
    with pytest.raises(PlatformError) as caught:
        await ShopifyClient(shop, session).set_stock([StockPush("A", 1)])
    assert caught.value.retryable is True


async def test_no_access_token_in_logs(fake: FakeShopify, client: ShopifyClient) -> None:
    fake.add_variant("LOG-1")
    with captured_logs() as logs:
        await client.register_webhooks("http://127.0.0.1:9/hooks")
        await client.set_stock([StockPush("LOG-1", 1)])
        fake.fail_next(401, {"errors": "[API] Invalid API key or access token"})
        with pytest.raises(PlatformError):
            await client.set_stock([StockPush("LOG-1", 2)])
    calls = [entry for entry in logs if entry["event"] == "shopify call"]
    assert calls and all({"method", "path", "status", "ms"} <= set(entry) for entry in calls)
    assert calls[0]["path"] == "/admin/api/2026-10/graphql.json"
    assert TOKEN not in repr(logs)


async def test_auto_webhooks_are_signed_as_shopify_signs(fake: FakeShopify, client: ShopifyClient) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hooks", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        await client.register_webhooks(f"http://127.0.0.1:{port}/hooks")
        fake.auto_webhooks = True
        order = fake.add_order(_order())
        await fake.drain_webhooks()
        await client.push_shipment(_push(order, (ShippedLine(str(order["line_items"][0]["id"]), 2),), "1ZHOOK"))
        await fake.drain_webhooks()
    finally:
        await runner.cleanup()
    topics = [headers["X-Shopify-Topic"] for headers, _ in received]
    assert sorted(topics[:2]) == ["orders/create", "orders/paid"] and topics[2] == "orders/updated"
    for headers, body in received:
        expected = base64.b64encode(hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()).decode()
        assert headers["X-Shopify-Hmac-Sha256"] == expected
        assert headers["X-Shopify-Shop-Domain"] == fake.shop_domain and headers["X-Shopify-Webhook-Id"]
    created = json.loads(received[0][1])
    assert decide("orders/create", created).kind == "upsert"
    updated = json.loads(received[2][1])
    assert updated["fulfillments"][0]["tracking_numbers"] == ["1ZHOOK"]
    # Our own fulfillment echoing back changes nothing we act on.
    assert decide("orders/updated", updated).fingerprint == decide("orders/create", created).fingerprint
    assert [w["status"] for w in fake.sent_webhooks] == [200, 200, 200]


async def test_changed_order_after_cancel_decides_cancel(fake: FakeShopify, client: ShopifyClient) -> None:
    order = fake.add_order(_order())
    fake.update_order(order["id"], cancelled_at="2026-11-27T10:00:00Z", cancel_reason="customer")
    since = datetime.now(UTC) - timedelta(minutes=5)
    [changed] = [c async for c in client.orders_changed_since(since)]
    decision = decide(changed.topic, copy.deepcopy(changed.payload))
    assert decision.kind == "cancel" and "customer" in decision.reason
