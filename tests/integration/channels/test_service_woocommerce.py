"""The channels service with a WooCommerce shop, against the real broker, database and intake, and a
fake WooCommerce on loopback that checks auth, routes and bodies as the REST API does and signs its
webhooks as WooCommerce does.

Orders come in from ``order.created``; the creation ping is answered; a shipment becomes one order
note, one Shipment Tracking item (the extension is detected) and ``completed`` once every line shipped;
``cancelled``, ``failed`` and ``refunded`` cancel; stock goes to products and variations.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

from shared.contracts.inventory import AvailableLevel, InventoryAvailable, InventoryAvailableData
from tests.fakes.woocommerce import FakeWooCommerce
from tests.integration.channels.conftest import Channels, woo_order
from tests.support import publish_as_producer, unique, wait_until

SINGLE, VARIATION = 315, 316
"""Line ids of the documented example: 2 of WOO-SINGLE-1 and 3 of the variation SHIP-IDEA-BLK-L."""


def new_order(**changes: Any) -> dict[str, Any]:
    modified = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    return woo_order(id=random.randint(10**6, 10**9), date_modified_gmt=modified, **changes)


async def placed(
    channels: Channels, woo: FakeWooCommerce, shop: str, **changes: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    order = woo.add_order(new_order(**changes))
    url = channels.hook_url("woocommerce", shop)
    assert await woo.send_webhook(url, "order.created", order) == 200
    return order, await channels.intake_order(shop, order["id"])


async def test_adding_a_shop_registers_webhooks_and_the_creation_ping_is_answered(
    channels: Channels, woo: FakeWooCommerce
) -> None:
    shop, _ = await channels.woo_shop(woo)
    url = channels.hook_url("woocommerce", shop)
    hooks = [hook for hook in woo.webhooks() if hook["delivery_url"] == url]
    assert sorted(hook["topic"] for hook in hooks) == ["order.created", "order.updated"]
    await woo.settle()
    pings = [d for d in woo.deliveries if d["url"] == url and d["body"].startswith(b"webhook_id=")]
    assert len(pings) == 2 and all(d["status"] == 200 for d in pings)
    assert await channels.tasks(shop) == []  # a ping is no order


async def test_an_order_becomes_an_intake_order_and_a_shipment_a_note_a_tracking_item_and_completed(
    channels: Channels, woo: FakeWooCommerce
) -> None:
    shop, channel = await channels.woo_shop(woo)
    order, intake = await placed(channels, woo, shop)
    assert intake["external_id"] == str(order["id"]) and intake["order_number"] == "727"
    assert [(line["line_id"], line["sku"], line["quantity"]) for line in intake["lines"]] == [
        (str(SINGLE), "WOO-SINGLE-1", 2),
        (str(VARIATION), "SHIP-IDEA-BLK-L", 3),
    ]
    assert intake["lines"][1]["unit_price"] == "12.03"  # 36.10 / 3, from the decimal string, not the float
    woo.auto_webhooks = True  # our own PUT of `completed` comes back as order.updated
    try:
        await channels.ship(channel, intake, [(SINGLE, 2)], tracking="1Z999AA10123456784", carrier="ups")
        await wait_until(lambda: _notes(woo, order["id"], 1))
        assert woo.order(order["id"])["status"] == "processing"  # partly shipped: stays processing
        await channels.ship(
            channel, intake, [(VARIATION, 3)], tracking="9400111899223", carrier="USPS", status="shipped"
        )

        async def completed() -> bool:
            return bool(woo.order(order["id"])["status"] == "completed")

        await wait_until(completed)
        await woo.settle()
    finally:
        woo.auto_webhooks = False
    notes = woo.notes(order["id"])
    assert len(notes) == 2
    assert "1Z999AA10123456784" in notes[0]["note"] and "UPS" in notes[0]["note"]
    trackings = woo.trackings(order["id"])
    assert sorted((t["tracking_provider"], t["tracking_number"]) for t in trackings) == [
        ("UPS", "1Z999AA10123456784"),
        ("USPS", "9400111899223"),
    ]

    async def echo_applied() -> list[dict[str, Any]] | None:
        done = [t for t in await channels.tasks(shop) if t["topic"] == "order.updated" and t["state"] == "done"]
        return done or None

    echoes = await wait_until(echo_applied)
    assert all(t["outcome"].startswith("unchanged") for t in echoes), echoes
    await asyncio.sleep(1.0)
    assert len(woo.notes(order["id"])) == 2 and len(woo.trackings(order["id"])) == 2


async def _notes(woo: FakeWooCommerce, order_id: int, count: int) -> bool:
    return len(woo.notes(order_id)) >= count


async def test_held_and_unpaid_statuses_reach_intake_and_failed_cancels(
    channels: Channels, woo: FakeWooCommerce
) -> None:
    shop, _ = await channels.woo_shop(woo)
    url = channels.hook_url("woocommerce", shop)
    order, intake = await placed(channels, woo, shop, status="on-hold")
    assert intake["channel_status"] == "on_hold"
    later = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    await woo.send_webhook(url, "order.updated", {**order, "status": "processing", "date_modified_gmt": later})

    async def paid() -> bool:
        view = await channels.system.api.ok("GET", "intake", f"/v1/orders/{intake['id']}")
        return bool(view["channel_status"] == "paid")

    await wait_until(paid)
    await asyncio.sleep(1.1)  # Woo's times are to the second: the failure is newer
    failed_at = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    await woo.send_webhook(url, "order.updated", {**order, "status": "failed", "date_modified_gmt": failed_at})

    async def cancelled() -> bool:
        view = await channels.system.api.ok("GET", "intake", f"/v1/orders/{intake['id']}")
        return bool(view["status"] == "cancelled")

    await wait_until(cancelled)


async def test_a_wrong_signature_is_refused_and_the_same_delivery_twice_is_one_task(
    channels: Channels, woo: FakeWooCommerce
) -> None:
    shop, _ = await channels.woo_shop(woo)
    url = channels.hook_url("woocommerce", shop)
    order = new_order()
    assert await woo.send_webhook(url, "order.created", order, delivery_id="d-1", secret="not-the-secret") == 401
    assert await woo.send_webhook(url, "order.created", order, delivery_id="d-2") == 200
    assert await woo.send_webhook(url, "order.created", order, delivery_id="d-2") == 200
    await channels.intake_order(shop, order["id"])
    assert len(await channels.tasks(shop)) == 1


async def test_stock_is_set_on_products_and_variations(channels: Channels, woo: FakeWooCommerce) -> None:
    shop, _ = await channels.woo_shop(woo)
    prefix = unique("W-")
    woo.add_product(f"{prefix}-simple", stock=1)
    woo.add_product(f"{prefix}-parent", kind="variable")
    woo.add_variation(f"{prefix}-parent", f"{prefix}-var", stock=1)
    event = InventoryAvailable(
        correlation_id="stock",
        data=InventoryAvailableData(
            levels=[
                AvailableLevel(sku=f"{prefix}-simple", available=7),
                AvailableLevel(sku=f"{prefix}-var", available=4),
            ]
        ),
    )
    await publish_as_producer(channels.system.intake.amqp, channels.system.intake.topology, event)

    async def set_both() -> bool:
        return woo.stock(f"{prefix}-simple") == 7 and woo.stock(f"{prefix}-var") == 4

    await wait_until(set_both)
    paths = {request.path for request in woo.requests if request.method == "POST"}
    assert any(path.endswith("/products/batch") for path in paths)
    assert any(path.endswith("/variations/batch") for path in paths)

    async def recorded() -> dict[str, Any] | None:  # the platform has it: our record follows in the same round
        level = await channels.ok("GET", f"/v1/shops/{shop}/stock/{prefix}-var")
        return level if level["pushed"] == 4 else None

    level = await wait_until(recorded)
    assert level["unknown"] is False
