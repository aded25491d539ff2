"""WooClient against the fake WooCommerce shop on loopback (no broker, no database)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from services.channels.ports import PlatformError, ShipmentPush, ShippedLine, ShopConfig, StockPush
from services.channels.woocommerce.client import WooClient
from services.channels.woocommerce.orders import decide
from services.channels.woocommerce.webhooks import is_creation_ping, signature_valid
from tests.fakes.woocommerce import FakeWooCommerce
from tests.support import captured_logs

KEY, SECRET, HOOK_SECRET = "ck_0123456789abcdef", "cs_fedcba9876543210", "whsec-test-1"


@dataclass
class Receiver:
    url: str
    seen: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
async def fake() -> AsyncIterator[FakeWooCommerce]:
    shop = FakeWooCommerce(KEY, SECRET)
    await shop.start()
    yield shop
    await shop.stop()


@pytest.fixture
async def fake_with_tracking() -> AsyncIterator[FakeWooCommerce]:
    shop = FakeWooCommerce(KEY, SECRET, shipment_tracking=True)
    await shop.start()
    yield shop
    await shop.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    seen: list[dict[str, Any]] = []

    async def take(request: web.Request) -> web.Response:
        seen.append({"headers": dict(request.headers), "body": await request.read()})
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hooks/woo", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield Receiver(url=f"http://127.0.0.1:{runner.addresses[0][1]}/hooks/woo", seen=seen)
    await runner.cleanup()


def shop_for(fake: FakeWooCommerce, **secrets: str) -> ShopConfig:
    values = {"consumer_key": KEY, "consumer_secret": SECRET, "webhook_secret": HOOK_SECRET, **secrets}
    options = {"tracking_url_templates": {"acme_freight": "https://acme.example/t/{number}"}}
    return ShopConfig(code="woo", platform="woocommerce", base_url=fake.base_url, secrets=values, options=options)


def push_for(order_id: int, **changes: Any) -> ShipmentPush:
    push = ShipmentPush(
        shipment_id="shp_1",
        platform_order_id=str(order_id),
        order_number=str(order_id),
        vendor="acme",
        carrier="ups",
        service="Ground",
        tracking_number="1Z999AA10123456784",
        ship_date=date(2026, 3, 3),
        notify_customer=True,
        lines=(ShippedLine(line_id="1", quantity=1),),
        order_shipped=True,
    )
    return replace(push, **changes)


def calls(fake: FakeWooCommerce, method: str, fragment: str) -> int:
    return sum(1 for r in fake.requests if r.method == method and fragment in r.path)


async def test_register_webhooks_is_idempotent_and_the_ping_reaches_the_receiver(
    fake: FakeWooCommerce, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    client = WooClient(shop_for(fake), session)
    assert await client.register_webhooks(receiver.url) == ["order.created", "order.updated"]
    assert await client.register_webhooks(receiver.url) == ["order.created", "order.updated"]
    await fake.settle()
    hooks = fake.webhooks()
    assert sorted(h["topic"] for h in hooks) == ["order.created", "order.updated"]
    assert {h["secret"] for h in hooks} == {HOOK_SECRET} and {h["status"] for h in hooks} == {"active"}
    assert calls(fake, "POST", "/webhooks") == 2  # the second call created nothing
    pings = [(s["headers"]["Content-Type"], s["body"]) for s in receiver.seen]
    assert sorted(body for _, body in pings) == sorted(f"webhook_id={h['id']}".encode() for h in hooks)
    assert all(is_creation_ping(content_type, body) for content_type, body in pings)


async def test_a_webhook_woo_disabled_is_made_active_again(
    fake: FakeWooCommerce, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    client = WooClient(shop_for(fake), session)
    await client.register_webhooks(receiver.url)
    hook = next(h for h in fake.webhooks() if h["topic"] == "order.updated")
    fake._webhooks[hook["id"]]["status"] = "disabled"  # what Woo does after repeated failed deliveries
    await client.register_webhooks(receiver.url)
    assert {h["status"] for h in fake.webhooks()} == {"active"} and len(fake.webhooks()) == 2


async def test_orders_changed_since_pages_oldest_first_from_the_cursor(
    fake: FakeWooCommerce, session: aiohttp.ClientSession
) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for minute in range(130):
        stamp = (start + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S")
        fake.add_order({"id": 1000 + minute, "date_modified_gmt": stamp, "date_modified": stamp})
    since = start + timedelta(minutes=10)
    changed = [c async for c in WooClient(shop_for(fake), session).orders_changed_since(since)]
    assert [c.payload["id"] for c in changed] == list(range(1010, 1130))  # the order modified at `since` too
    assert {c.topic for c in changed} == {"order.updated"}
    pages = [r.query for r in fake.requests if r.path.endswith("/orders")]
    assert [q["page"] for q in pages] == ["1", "2", "3"]
    assert pages[0]["per_page"] == "50" and pages[0]["orderby"] == "modified" and pages[0]["order"] == "asc"
    assert pages[0]["dates_are_gmt"] == "true" and pages[0]["modified_after"] == "2026-03-01T00:09:59"


async def test_push_without_the_extension_adds_one_note_and_completes_once(
    fake: FakeWooCommerce, session: aiohttp.ClientSession
) -> None:
    order = fake.add_order()
    client = WooClient(shop_for(fake), session)
    outcome = await client.push_shipment(push_for(order["id"]))
    notes = fake.notes(order["id"])
    assert len(notes) == 1 and notes[0]["customer_note"] is True
    assert notes[0]["note"] == "Shipped by UPS (Ground) on 2026-03-03, tracking 1Z999AA10123456784 [shipment shp_1]"
    assert outcome.remote_id == str(notes[0]["id"]) and outcome.tracking_numbers == ("1Z999AA10123456784",)
    assert fake.order(order["id"])["status"] == "completed"
    # A retry after a crash: the note is found by its marker, the order is already completed.
    again = await client.push_shipment(push_for(order["id"]))
    assert again.remote_id == outcome.remote_id and "already there" in again.detail
    assert len(fake.notes(order["id"])) == 1 and calls(fake, "PUT", f"/orders/{order['id']}") == 1
    assert calls(fake, "GET", "/shipment-trackings") == 1  # absent (rest_no_route), asked once
    assert fake.trackings(order["id"]) == []


async def test_push_with_the_extension_adds_the_tracking_item_once(
    fake_with_tracking: FakeWooCommerce, session: aiohttp.ClientSession
) -> None:
    fake = fake_with_tracking
    order = fake.add_order()
    client = WooClient(shop_for(fake), session)
    await client.push_shipment(push_for(order["id"]))
    await client.push_shipment(push_for(order["id"]))
    trackings = fake.trackings(order["id"])
    assert len(trackings) == 1 and len(fake.notes(order["id"])) == 1
    assert trackings[0]["tracking_provider"] == "UPS" and trackings[0]["tracking_number"] == "1Z999AA10123456784"
    assert trackings[0]["date_shipped"] == "2026-03-03"
    # A second box by a carrier the extension does not list: a custom provider with the shop's link.
    box = push_for(order["id"], shipment_id="shp_2", carrier="Acme Freight", tracking_number="AF1", lines=())
    outcome = await client.push_shipment(box)
    custom = fake.trackings(order["id"])[1]["sent"]
    assert custom == {
        "custom_tracking_link": "https://acme.example/t/AF1",
        "custom_tracking_provider": "Acme Freight",
        "date_shipped": "2026-03-03",
        "tracking_number": "AF1",
    }
    assert outcome.remote_id == str(fake.notes(order["id"])[1]["id"])
    assert calls(fake, "PUT", f"/orders/{order['id']}") == 1


async def test_a_cancelled_order_is_not_marked_completed(fake: FakeWooCommerce, session: aiohttp.ClientSession) -> None:
    order = fake.add_order({"status": "cancelled"})
    outcome = await WooClient(shop_for(fake), session).push_shipment(push_for(order["id"]))
    assert fake.order(order["id"])["status"] == "cancelled" and "not marked completed" in outcome.detail
    partial = fake.add_order()
    await WooClient(shop_for(fake), session).push_shipment(push_for(partial["id"], order_shipped=False))
    assert fake.order(partial["id"])["status"] == "processing" and len(fake.notes(partial["id"])) == 1


async def test_set_stock_batches_products_and_variations(fake: FakeWooCommerce, session: aiohttp.ClientSession) -> None:
    for index in range(120):
        fake.add_product(f"P-{index:03}", stock=1)
    fake.add_product("SHIRT", kind="variable")
    fake.add_variation("SHIRT", "SHIRT-S", stock=0)
    fake.add_variation("SHIRT", "SHIRT-L")
    levels = [StockPush(f"P-{index:03}", index) for index in range(120)]
    levels += [StockPush("shirt-s", 4), StockPush("SHIRT-L", 9), StockPush("NOPE", 3)]
    client = WooClient(shop_for(fake), session)
    outcome = await client.set_stock(levels)
    assert outcome.unknown == ("NOPE",) and len(outcome.updated) == 122
    assert fake.stock("P-000") == 0 and fake.stock("P-119") == 119
    assert fake.stock("SHIRT-S") == 4 and fake.stock("SHIRT-L") == 9  # stock managed from now on
    batches = [r for r in fake.requests if r.path.endswith("/batch")]
    assert [len(r.body["update"]) for r in batches if r.path.endswith("/products/batch")] == [100, 20]
    assert [len(r.body["update"]) for r in batches if "/variations/" in r.path] == [2]
    lookups = calls(fake, "GET", "/products")
    await client.set_stock([StockPush("P-001", 5), StockPush("SHIRT-L", 1)])
    assert calls(fake, "GET", "/products") == lookups  # found SKUs are cached
    assert fake.stock("P-001") == 5 and fake.stock("SHIRT-L") == 1


async def test_a_shop_down_or_throttled_is_retryable(fake: FakeWooCommerce, session: aiohttp.ClientSession) -> None:
    client = WooClient(shop_for(fake), session)
    fake.down = True
    with pytest.raises(PlatformError) as down:
        await client.set_stock([StockPush("A", 1)])
    assert down.value.retryable and down.value.status == 503 and down.value.retry_after == 600
    fake.down = False
    fake.throttle(1, retry_after=2)
    with pytest.raises(PlatformError) as throttled:
        await client.register_webhooks("https://example.com/hooks")
    assert throttled.value.retryable and throttled.value.status == 429 and throttled.value.retry_after == 2
    fake.fail_next(500)
    with pytest.raises(PlatformError) as failed:
        await client.push_shipment(push_for(fake.add_order()["id"]))
    assert failed.value.retryable and failed.value.status == 500


async def test_unreachable_shop_is_retryable(session: aiohttp.ClientSession) -> None:
    shop = ShopConfig(code="woo", platform="woocommerce", base_url="http://127.0.0.1:9", secrets={})
    with pytest.raises(PlatformError) as error:
        await WooClient(shop, session).set_stock([StockPush("A", 1)])
    assert error.value.retryable and error.value.status is None


async def test_wrong_credentials_and_missing_orders_are_not_retryable(
    fake: FakeWooCommerce, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(PlatformError) as wrong:
        await WooClient(shop_for(fake, consumer_secret="cs_wrong"), session).register_webhooks("https://e.example/h")
    assert not wrong.value.retryable and wrong.value.status == 401
    assert "woocommerce_rest_authentication_error" in wrong.value.message
    with pytest.raises(PlatformError) as missing:
        await WooClient(shop_for(fake), session).push_shipment(push_for(424242))
    assert not missing.value.retryable and missing.value.status == 404


async def test_plain_http_shops_are_refused_before_any_call(session: aiohttp.ClientSession) -> None:
    shop = ShopConfig(code="woo", platform="woocommerce", base_url="http://shop.example", secrets={})
    with pytest.raises(PlatformError) as error:
        await WooClient(shop, session).set_stock([StockPush("A", 1)])
    assert not error.value.retryable and "HTTPS" in error.value.message


async def test_calls_are_logged_without_the_consumer_secret(
    fake: FakeWooCommerce, session: aiohttp.ClientSession
) -> None:
    order = fake.add_order()
    with captured_logs() as logs:
        client = WooClient(shop_for(fake), session)
        await client.push_shipment(push_for(order["id"]))
        with pytest.raises(PlatformError):
            await WooClient(shop_for(fake, consumer_secret="cs_wrong"), session).set_stock([StockPush("A", 1)])
    calls_logged = [entry for entry in logs if entry["event"] == "woocommerce call"]
    assert {(e["method"], e["path"]) for e in calls_logged} >= {
        ("GET", f"/wp-json/wc/v3/orders/{order['id']}/notes"),
        ("POST", f"/wp-json/wc/v3/orders/{order['id']}/notes"),
        ("PUT", f"/wp-json/wc/v3/orders/{order['id']}"),
    }
    assert all(isinstance(e["ms"], int) and isinstance(e["status"], int) for e in calls_logged)
    text = json.dumps(logs, default=str)
    assert SECRET not in text and "cs_wrong" not in text and "Basic " not in text


async def test_auto_webhooks_are_signed_and_our_echo_keeps_the_fingerprint(
    fake: FakeWooCommerce, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    client = WooClient(shop_for(fake), session)
    await client.register_webhooks(receiver.url)
    await fake.settle()
    receiver.seen.clear()
    fake.auto_webhooks = True
    order = fake.add_order()
    await fake.settle()
    await client.push_shipment(push_for(order["id"]))
    await fake.settle()
    topics = [s["headers"]["X-WC-Webhook-Topic"] for s in receiver.seen]
    assert topics == ["order.created", "order.updated"]  # the note sent none, our PUT one
    decisions = []
    for seen in receiver.seen:
        headers = seen["headers"]
        assert signature_valid(HOOK_SECRET, seen["body"], headers["X-WC-Webhook-Signature"])
        assert headers["X-WC-Webhook-Resource"] == "order" and headers["X-WC-Webhook-Delivery-ID"]
        decisions.append(decide(headers["X-WC-Webhook-Topic"], json.loads(seen["body"])))
    assert [d.kind for d in decisions] == ["upsert", "upsert"]
    assert decisions[0].fingerprint == decisions[1].fingerprint  # completed echoes as paid: ignored
