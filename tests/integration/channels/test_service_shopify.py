"""The channels service with a Shopify shop, against the real broker, database and intake, and a fake
Shopify on loopback that validates every GraphQL request against its schema and signs its webhooks
as Shopify does.

Orders come in from webhooks exactly once; a shipment becomes exactly one fulfillment with the shipped
line items and tracking, whatever is redelivered, retried or crashed between; our own writes coming back
as ``orders/updated`` change nothing; stock goes out in batches; a Shopify that is down is caught up.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import aiohttp

from tests.fakes.shopify import FakeShopify
from tests.integration.channels.conftest import Channels, shopify_order
from tests.support import wait_until

PINK, CASE = 866550311766439020, 141249953214522974
"""Line item ids of the documented example: 2 of IPOD2008PINK and 1 of IPODCASE (of 3, 2 refunded)."""


def new_order(**changes: Any) -> dict[str, Any]:
    return shopify_order(id=random.randint(10**15, 10**16), **changes)


async def placed(
    channels: Channels, shopify: FakeShopify, shop: str, **changes: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order placed on the fake shop (its webhooks sent as Shopify sends them) and the intake order it became."""
    order = shopify.add_order(new_order(**changes))
    assert await shopify.send_webhook(channels.hook_url("shopify", shop), "orders/create", order) == 200
    return order, await channels.intake_order(shop, order["id"])


async def test_adding_a_shop_registers_its_order_webhooks_and_shows_no_secret(
    channels: Channels, shopify: FakeShopify
) -> None:
    shop, channel = await channels.shopify_shop(shopify)
    view = await channels.ok("GET", f"/v1/shops/{shop}")
    assert set(view["webhooks"]["topics"]) == {"orders/create", "orders/paid", "orders/updated", "orders/cancelled"}
    assert view["webhooks"]["error"] is None
    ours = [s for s in shopify.webhooks.values() if s["uri"] == channels.hook_url("shopify", shop)]
    assert sorted(s["topic"] for s in ours) == ["ORDERS_CANCELLED", "ORDERS_CREATE", "ORDERS_PAID", "ORDERS_UPDATED"]
    assert "shpat_" not in str(view) and "secret-for-webhooks" not in str(view)
    assert view["credentials"] == ["access_token", "webhook_secret"]
    # The same shop again registers nothing twice; its intake channel exists without a webhook URL.
    status, _ = await channels.call(
        "PUT", f"/v1/shops/{shop}", {"platform": "shopify", "channel": channel, "base_url": shopify.base_url}
    )
    assert status == 200
    assert len([s for s in shopify.webhooks.values() if s["uri"] == channels.hook_url("shopify", shop)]) == 4
    intake_channel = await channels.system.api.ok("GET", "intake", f"/v1/channels/{channel}")
    assert intake_channel["webhook_url"] is None


async def test_an_order_webhook_becomes_one_intake_order_mapped_as_documented(
    channels: Channels, shopify: FakeShopify
) -> None:
    shop, channel = await channels.shopify_shop(shopify)
    shopify.auto_webhooks = True
    try:
        order = shopify.add_order(new_order())
        intake = await channels.intake_order(shop, order["id"])
    finally:
        shopify.auto_webhooks = False
    assert intake["channel"] == channel
    assert intake["external_id"] == str(order["id"])
    assert intake["order_number"] == "9999"
    assert intake["channel_status"] == "paid"
    assert [(line["line_id"], line["sku"], line["quantity"]) for line in intake["lines"]] == [
        (str(PINK), "IPOD2008PINK", 2),
        (str(CASE), "IPODCASE", 1),
    ]
    assert intake["ship_to"]["state"] == "KY" and intake["ship_to"]["country"] == "US"
    assert intake["ship_to"]["postal_code"] == "40003"
    # orders/create and orders/paid both arrived: one order, the second webhook found it unchanged.
    await shopify.drain_webhooks()

    async def both_applied() -> list[dict[str, Any]] | None:
        done = [t for t in await channels.tasks(shop) if t["kind"] == "webhook" and t["state"] == "done"]
        return done if len(done) == 2 else None

    done = await wait_until(both_applied)
    assert sorted(t["topic"] for t in done) == ["orders/create", "orders/paid"]
    assert any(t["outcome"].startswith("unchanged") for t in done)
    count = await channels.system.intake.pool.fetchval("SELECT count(*) FROM orders WHERE channel = $1", channel)
    assert count == 1


async def test_the_same_webhook_twice_is_one_task_and_a_wrong_signature_is_refused(
    channels: Channels, shopify: FakeShopify
) -> None:
    shop, _ = await channels.shopify_shop(shopify)
    url = channels.hook_url("shopify", shop)
    order = new_order()
    assert (
        await shopify.send_webhook(url, "orders/create", order, webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
        == 200
    )
    assert (
        await shopify.send_webhook(url, "orders/create", order, webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
        == 200
    )
    await channels.intake_order(shop, order["id"])
    assert len(await channels.tasks(shop)) == 1
    session = channels.system.api.session
    async with session.post(
        url,
        data=b'{"id": 1}',
        headers={"X-Shopify-Hmac-Sha256": "bm9wZQ==", "X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "x"},
    ) as response:
        assert response.status == 401
        assert (await response.json())["error"] == "bad_signature"
    async with session.post(url, data=b'{"id": 1}', headers={"X-Shopify-Topic": "orders/create"}) as response:
        assert response.status == 401  # unsigned
    async with session.post(channels.hook_url("shopify", "no-such-shop"), data=b"{}") as response:
        assert response.status == 404
    async with session.post(channels.hook_url("woocommerce", shop), data=b"{}") as response:
        assert response.status == 404  # a Shopify shop takes no WooCommerce webhooks
    assert len(await channels.tasks(shop)) == 1


async def test_signed_webhooks_that_are_not_orders_are_refused_with_a_400(
    channels: Channels, shopify: FakeShopify
) -> None:
    from services.channels.signatures import sign
    from tests.integration.channels.conftest import SHOPIFY_SECRET

    shop, _ = await channels.shopify_shop(shopify)
    url = channels.hook_url("shopify", shop)
    session = channels.system.api.session
    for body, headers in (
        (b"not json", {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w1"}),
        (b"[1, 2]", {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w2"}),
        (b'{"id": 5}', {"X-Shopify-Webhook-Id": "w3"}),  # no topic
        (b'{"id": 5}', {"X-Shopify-Topic": "orders/create"}),  # no webhook id
    ):
        signed = {**headers, "X-Shopify-Hmac-Sha256": sign(SHOPIFY_SECRET, body)}
        async with session.post(url, data=body, headers=signed) as response:
            assert response.status == 400, (body, await response.text())
    big = b'{"id": 1, "note": "' + b"x" * 6_000_000 + b'"}'
    async with session.post(url, data=big, headers={"X-Shopify-Hmac-Sha256": sign(SHOPIFY_SECRET, big)}) as response:
        assert response.status == 413
    assert await channels.tasks(shop) == []


async def test_an_order_without_a_shippable_line_is_skipped_with_a_reason(
    channels: Channels, shopify: FakeShopify
) -> None:
    shop, _ = await channels.shopify_shop(shopify)
    order = new_order()
    order["line_items"] = [item for item in order["line_items"] if not item["requires_shipping"]]
    await shopify.send_webhook(channels.hook_url("shopify", shop), "orders/create", order)

    async def skipped() -> list[dict[str, Any]] | None:
        rows = (await channels.ok("GET", f"/v1/shops/{shop}/orders?state=skipped"))["orders"]
        return rows or None

    rows = await wait_until(skipped)
    assert rows[0]["platform_order_id"] == str(order["id"]) and rows[0]["order_id"] is None
    assert "ship" in rows[0]["reason"]


async def test_payment_then_cancellation_reach_intake(channels: Channels, shopify: FakeShopify) -> None:
    shop, _ = await channels.shopify_shop(shopify)
    url = channels.hook_url("shopify", shop)
    order = new_order(financial_status="pending", updated_at="2026-11-26T17:45:00-06:00")
    await shopify.send_webhook(url, "orders/create", order)
    intake = await channels.intake_order(shop, order["id"])
    assert intake["channel_status"] == "unpaid"
    await shopify.send_webhook(
        url, "orders/paid", {**order, "financial_status": "paid", "updated_at": "2026-11-26T17:50:00-06:00"}
    )

    async def paid() -> dict[str, Any] | None:
        view = await channels.system.api.ok("GET", "intake", f"/v1/orders/{intake['id']}")
        return view if view["channel_status"] == "paid" else None

    await wait_until(paid)
    # A late copy of the first webhook (older updated_at) does not take the payment back.
    await shopify.send_webhook(url, "orders/updated", order)
    await shopify.send_webhook(
        url,
        "orders/cancelled",
        {
            **order,
            "financial_status": "paid",
            "cancelled_at": "2026-11-26T18:00:00-06:00",
            "cancel_reason": "customer",
            "updated_at": "2026-11-26T18:00:00-06:00",
        },
    )

    async def cancelled() -> dict[str, Any] | None:
        view = await channels.system.api.ok("GET", "intake", f"/v1/orders/{intake['id']}")
        return view if view["status"] == "cancelled" else None

    await wait_until(cancelled)
    outcomes = [t["outcome"] for t in await channels.tasks(shop)]
    assert any("older than" in (o or "") for o in outcomes), outcomes


async def test_a_shipment_becomes_exactly_one_fulfillment_with_its_lines_and_tracking(
    channels: Channels, shopify: FakeShopify
) -> None:
    shop, channel = await channels.shopify_shop(shopify)
    order, intake = await placed(channels, shopify, shop)
    event = await channels.ship(channel, intake, [(PINK, 2)], tracking="1Z999AA10123456784", carrier="ups")

    async def fulfilled() -> list[dict[str, Any]] | None:
        return shopify.fulfillments(order["id"]) or None

    [fulfillment] = await wait_until(fulfilled)
    assert [(line["line_item_id"], line["quantity"]) for line in fulfillment["lines"]] == [(PINK, 2)]
    assert fulfillment["tracking"][0]["company"] == "UPS"
    assert fulfillment["tracking"][0]["number"] == "1Z999AA10123456784"
    # The same shipment again (a redelivery with a new message id) is the same task: nothing more.
    again = event.model_copy(update={"message_id": event.message_id + "x"})
    from tests.support import publish_as_producer

    await publish_as_producer(channels.system.intake.amqp, channels.system.intake.topology, again)
    # A crash between the push and its record: the record is gone and the task due again. The client
    # reads the order's fulfillments first and finds it there.
    shipment_id = event.data.shipment.shipment_id if event.data.shipment else ""
    await wait_until(lambda: _pushed(channels, shipment_id))
    await channels.runtime.pool.execute("DELETE FROM pushed_shipments WHERE shipment_id = $1", shipment_id)
    await channels.runtime.pool.execute(
        "UPDATE tasks SET state = 'pending', next_attempt_at = now() WHERE dedupe_key = $1", shipment_id
    )

    async def redone() -> bool:
        return await _pushed(channels, shipment_id)

    await wait_until(redone)
    await asyncio.sleep(1.0)
    assert len(shopify.fulfillments(order["id"])) == 1
    creates = [r for r in shopify.requests if "fulfillmentCreate" in r["body"]]
    assert len(creates) == 1


async def _pushed(channels: Channels, shipment_id: str) -> bool:
    found = await channels.runtime.pool.fetchval("SELECT 1 FROM pushed_shipments WHERE shipment_id = $1", shipment_id)
    return bool(found)


async def test_two_boxes_and_a_second_vendor_become_the_fulfillments_shopify_expects(
    channels: Channels, shopify: FakeShopify
) -> None:
    shop, channel = await channels.shopify_shop(shopify)
    order, intake = await placed(channels, shopify, shop)
    await channels.ship(channel, intake, [(PINK, 2)], tracking="1ZBOX1", vendor="east")
    await wait_until(lambda: _fulfillment_count(shopify, order["id"], 1))
    # A second box of the same lines: only a tracking number, added to that fulfillment.
    await channels.ship(channel, intake, [], tracking="1ZBOX2", vendor="east")
    await channels.ship(
        channel, intake, [(CASE, 1)], tracking="9400111899223", carrier="USPS", vendor="west", status="shipped"
    )
    await wait_until(lambda: _fulfillment_count(shopify, order["id"], 2))

    async def second_box_added() -> list[dict[str, Any]] | None:
        fulfillments = shopify.fulfillments(order["id"])
        numbers = [[t["number"] for t in f["tracking"]] for f in fulfillments]
        return fulfillments if ["1ZBOX1", "1ZBOX2"] in numbers else None

    fulfillments = await wait_until(second_box_added)
    by_number = {f["tracking"][0]["number"]: f for f in fulfillments}
    assert [(line["line_item_id"], line["quantity"]) for line in by_number["1ZBOX1"]["lines"]] == [(PINK, 2)]
    assert [(line["line_item_id"], line["quantity"]) for line in by_number["9400111899223"]["lines"]] == [(CASE, 1)]
    assert by_number["9400111899223"]["tracking"][0]["company"] == "USPS"


async def _fulfillment_count(shopify: FakeShopify, order_id: int, count: int) -> bool:
    return len(shopify.fulfillments(order_id)) >= count


async def test_our_own_fulfillment_echoing_back_as_orders_updated_changes_nothing(
    channels: Channels, shopify: FakeShopify
) -> None:
    shop, channel = await channels.shopify_shop(shopify)
    order, intake = await placed(channels, shopify, shop)
    shopify.auto_webhooks = True
    try:
        await channels.ship(channel, intake, [(PINK, 2), (CASE, 1)], tracking="1ZECHO", status="shipped")
        await wait_until(lambda: _fulfillment_count(shopify, order["id"], 1))

        async def echoed() -> list[dict[str, Any]] | None:
            found = [
                t
                for t in await channels.tasks(shop)
                if t["topic"] == "orders/updated"
                and t["state"] == "done"
                and not t["dedupe_key"].startswith("reconcile:")  # only the webhooks the fake sent
            ]
            return found or None

        echoes = await wait_until(echoed)
    finally:
        shopify.auto_webhooks = False
        await shopify.drain_webhooks()
    assert all(echo["outcome"].startswith("unchanged") for echo in echoes), echoes
    await asyncio.sleep(1.0)
    assert len(shopify.fulfillments(order["id"])) == 1
    assert len([t for t in await channels.tasks(shop) if t["kind"] == "shipment"]) == 1


async def test_throttled_and_down_shopify_is_waited_out_and_caught_up_without_duplicates(
    channels: Channels, shopify: FakeShopify
) -> None:
    shop, channel = await channels.shopify_shop(shopify)
    orders = [await placed(channels, shopify, shop) for _ in range(4)]
    shopify.throttle_next(2)
    shopify.down = True
    try:
        for order, intake in orders:
            await channels.ship(channel, intake, [(PINK, 2), (CASE, 1)], tracking=f"1Z{order['id']}", status="shipped")

        async def retried() -> bool:
            pending = await channels.tasks(shop, "pending")
            return len([t for t in pending if t["kind"] == "shipment" and t["attempts"] >= 2]) == len(orders)

        await wait_until(retried, timeout=30)
        backlog = (await channels.ok("GET", f"/v1/shops/{shop}"))["backlog"]["shipment"]
        assert backlog["pending"] == len(orders)
        expected = f'channel_backlog{{kind="shipment",shop="{shop}"}} {float(len(orders))}'

        async def in_metrics() -> bool:
            async with aiohttp.ClientSession() as session, session.get(f"{channels.url}/metrics") as response:
                return expected in await response.text()

        await wait_until(in_metrics, timeout=15)
    finally:
        shopify.down = False

    async def all_fulfilled() -> bool:
        return all(len(shopify.fulfillments(order["id"])) == 1 for order, _ in orders)

    await wait_until(all_fulfilled, timeout=30)
    await asyncio.sleep(1.0)
    assert [len(shopify.fulfillments(order["id"])) for order, _ in orders] == [1] * len(orders)
    assert await channels.tasks(shop, "pending") == []


async def test_stock_levels_are_set_in_batches_on_the_mapped_inventory_items(
    channels: Channels, shopify: FakeShopify
) -> None:
    from shared.contracts.inventory import AvailableLevel, InventoryAvailable, InventoryAvailableData
    from tests.support import publish_as_producer, unique

    shop, _ = await channels.shopify_shop(shopify)
    prefix = unique("STK-")
    skus = [f"{prefix}-{n}" for n in range(300)]
    for sku in skus:
        shopify.add_variant(sku)
    before = len([r for r in shopify.requests if "inventorySetQuantities" in r["body"]])
    event = InventoryAvailable(
        correlation_id="stock",
        data=InventoryAvailableData(
            levels=[AvailableLevel(sku=sku, available=n % 7) for n, sku in enumerate(skus)]
            + [AvailableLevel(sku=f"{prefix}-not-sold-here", available=5)]
        ),
    )
    await publish_as_producer(channels.system.intake.amqp, channels.system.intake.topology, event)

    async def all_set() -> bool:
        return all(shopify.stock(sku) == n % 7 for n, sku in enumerate(skus))

    await wait_until(all_set, timeout=30)
    calls = len([r for r in shopify.requests if "inventorySetQuantities" in r["body"]]) - before
    assert calls == 2  # 250 per call

    async def recorded() -> dict[str, Any] | None:  # Shopify has them: our record follows in the same round
        level = await channels.ok("GET", f"/v1/shops/{shop}/stock/{prefix}-not-sold-here")
        return level if level["pushed"] == 5 else None

    unknown = await wait_until(recorded)
    assert unknown["unknown"] is True


async def test_a_missed_webhook_is_found_by_the_reconcile_once(channels: Channels, shopify: FakeShopify) -> None:
    shop, channel = await channels.shopify_shop(shopify)
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat()
    order = shopify.add_order(new_order(updated_at=now))  # no webhook: auto_webhooks is off
    await channels.ok("POST", f"/v1/shops/{shop}/reconcile")  # (or the reconcile every new shop gets at once)
    intake = await channels.intake_order(shop, order["id"])
    assert intake["external_id"] == str(order["id"])
    again = await channels.ok("POST", f"/v1/shops/{shop}/reconcile")
    assert again["queued"] == 0
    count = await channels.system.intake.pool.fetchval("SELECT count(*) FROM orders WHERE channel = $1", channel)
    assert count == 1


async def test_intake_queues_no_channel_webhook_for_a_shop(channels: Channels, shopify: FakeShopify) -> None:
    shop, channel = await channels.shopify_shop(shopify)
    order, intake = await placed(channels, shopify, shop)
    await channels.ship(channel, intake, [(PINK, 2), (CASE, 1)], tracking="1ZNOHOOK", status="shipped")
    await wait_until(lambda: _fulfillment_count(shopify, order["id"], 1))
    deliveries = await channels.system.intake.pool.fetchval(
        "SELECT count(*) FROM upstream_deliveries WHERE channel = $1", channel
    )
    assert deliveries == 0


async def test_a_shop_request_is_checked(channels: Channels, shopify: FakeShopify) -> None:
    status, answer = await channels.call(
        "PUT", "/v1/shops/lacking", {"platform": "shopify", "channel": "lacking", "base_url": shopify.base_url}
    )
    assert status == 422 and set(answer["fields"]) == {"access_token", "webhook_secret"}
    hooked = "hooked-channel"
    await channels.system.api.ok(
        "PUT", "intake", f"/v1/channels/{hooked}", {"name": "has a webhook", "webhook_url": "https://example.com/hook"}
    )
    status, answer = await channels.call(
        "PUT",
        "/v1/shops/hooked",
        {
            "platform": "shopify",
            "channel": hooked,
            "base_url": shopify.base_url,
            "access_token": "t",
            "webhook_secret": "s",
        },
    )
    assert status == 409 and answer["error"] == "channel_taken"
    status, _ = await channels.call("PUT", "/v1/shops/Bad%20Code", {"platform": "shopify"})
    assert status == 400


async def test_a_ship_to_changed_after_intake_took_the_order_is_applied_with_the_payment(
    channels: Channels, shopify: FakeShopify
) -> None:
    shop, _ = await channels.shopify_shop(shopify)
    url = channels.hook_url("shopify", shop)
    order = new_order(financial_status="pending", updated_at="2026-11-26T17:45:00-06:00")
    await shopify.send_webhook(url, "orders/create", order)
    intake = await channels.intake_order(shop, order["id"])
    moved = {**order["shipping_address"], "address1": "9 Other Street", "zip": "40004"}
    # Paid and moved in one update: both reach intake, the address first (a payment may release the order).
    await shopify.send_webhook(
        url,
        "orders/updated",
        {**order, "financial_status": "paid", "shipping_address": moved, "updated_at": "2026-11-26T17:50:00-06:00"},
    )

    async def recorded() -> dict[str, Any] | None:
        rows = (await channels.ok("GET", f"/v1/shops/{shop}/orders"))["orders"]
        row = next((r for r in rows if r["platform_order_id"] == str(order["id"])), None)
        return row if row and "ship-to" in (row["reason"] or "") else None

    row = await wait_until(recorded)
    assert "ship-to changed" in row["reason"] and "applied" in row["reason"] and "not applied" not in row["reason"]
    view = await channels.system.api.ok("GET", "intake", f"/v1/orders/{intake['id']}")
    assert view["channel_status"] == "paid"
    assert view["ship_to"]["address1"] == "9 Other Street" and view["ship_to"]["postal_code"] == "40004"
    assert any("ship-to changed" in (entry["cause"] or "") for entry in view["status_history"])
    [update] = [t for t in await channels.tasks(shop) if t["topic"] == "orders/updated"]
    assert "status paid" in update["outcome"] and "ship-to changed" in update["outcome"]
