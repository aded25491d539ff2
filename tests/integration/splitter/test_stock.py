"""Stock through the real splitter: reservations of open vendor orders, the arithmetic of
``GET /v1/stock/{sku}``, feeds from the bus and from ops (snapshot, delta, older, quarantined and
accepted), stale stock, reservations ended by a feed counted after the acknowledgement, held orders
released when stock arrives, and ``inventory.available`` for what changed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from services.splitter.routing.stock import MINUS
from services.splitter.store.catalog import fold_reservation_changes
from services.splitter.store.stock import mark_changed
from shared.contracts.inventory import FeedMode, InventoryUpdated, InventoryUpdatedData, StockLevel
from shared.contracts.vendor_orders import (
    VendorOrderAcknowledged,
    VendorOrderAcknowledgedData,
    VendorOrderFailed,
    VendorOrderFailedData,
)
from tests.integration.splitter.conftest import Bus, Observer, Shop, routed_vendors, shipment_of
from tests.support import unique, wait_until


def _feed(vendor: str, mode: FeedMode, levels: dict[str, int], as_of: datetime | None = None) -> InventoryUpdated:
    return InventoryUpdated(
        correlation_id=f"feed:{vendor}",
        data=InventoryUpdatedData(
            vendor=vendor,
            mode=mode,
            as_of=as_of,
            levels=[StockLevel(sku=sku, stock=stock) for sku, stock in levels.items()],
        ),
    )


def _levels(stock: dict[str, Any]) -> dict[str, Any]:
    return {s["vendor"]: s for s in stock["sources"]}


async def _ops_feed(shop: Shop, vendor: str, body: dict[str, Any]) -> tuple[int, Any]:
    status, answer = await shop.api.call("PUT", "splitter", f"/v1/stock/{vendor}", body)
    return int(status), answer


async def test_open_vendor_orders_reserve_stock_until_the_next_vendor_or_a_hold(shop: Shop, events: Observer) -> None:
    first = await shop.vendor(stock_buffer=1)
    second = await shop.vendor()
    sku = await shop.catalog(
        [{"vendor": first, "priority": 1, "stock": 4}, {"vendor": second, "priority": 2, "stock": 2}]
    )
    await shop.settings(strategy="priority")

    one = await shop.place([(sku, 2, "10.00")])
    assert routed_vendors(await shop.routing(one)) == {"L1": first}
    stock = _levels(await shop.stock(sku))
    assert (stock[first]["feed_quantity"], stock[first]["reserved"], stock[first]["buffer"]) == (4, 2, 1)
    assert stock[first]["available"] == 1
    assert stock[first]["explanation"] == f"available 1 (feed 4 {MINUS} reserved 2 {MINUS} buffer 1)"

    # first has 1 available now: the same order again goes to the next vendor.
    two = await shop.place([(sku, 2, "10.00")])
    view = await shop.routing(two)
    assert routed_vendors(view) == {"L1": second}
    assert f"{first} priority 1: available 1" in view["decisions"][0]["reason"]
    assert (await shop.stock(sku))["available"] == 1

    three = await shop.place([(sku, 2, "10.00")])
    held = await shop.routing(three)
    assert held["state"] == "held"
    [hold] = held["holds"]
    assert hold["code"] == "no_stock" and hold["line_id"] == "L1"
    assert "nobody has 2 available" in hold["detail"]
    [announced] = await events.wait_for("order.held", three)
    assert [r["code"] for r in announced["data"]["reasons"]] == ["no_stock"]
    holds = await shop.api.ok("GET", "splitter", "/v1/holds")
    assert three in {h["order_id"] for h in holds["holds"]}


async def test_snapshot_and_delta_feeds_from_the_bus_and_from_ops(shop: Shop, bus: Bus, events: Observer) -> None:
    vendor = await shop.vendor()
    a, b, c = [await shop.catalog([{"vendor": vendor, "stock": 5}]) for _ in range(3)]

    # A snapshot from the vendor's adapter: what it leaves out has 0.
    snapshot = _feed(vendor, "snapshot", {a: 7, b: 6}, datetime.now(UTC) - timedelta(minutes=10))
    await bus.publish(snapshot)
    await wait_until(lambda: bus.applied(snapshot))
    assert [(await shop.stock(s))["available"] for s in (a, b, c)] == [7, 6, 0]
    feeds = await shop.api.ok("GET", "splitter", f"/v1/feeds?vendor={vendor}")
    [recorded] = feeds["feeds"]
    assert (recorded["id"], recorded["state"], recorded["mode"], recorded["rows"], recorded["changed"]) == (
        snapshot.data.feed_id,
        "applied",
        "snapshot",
        2,
        3,
    )

    # A delta from ops: only what it lists changes.
    status, answer = await _ops_feed(shop, vendor, {"mode": "delta", "items": [{"sku": c, "quantity": 9}]})
    assert status == 200 and answer["state"] == "applied" and answer["changed"] == 1
    assert [(await shop.stock(s))["available"] for s in (a, b, c)] == [7, 6, 9]

    # inventory.available carries the SKUs that changed, at their availability now.
    async def announced(sku: str, units: int) -> bool:
        return any(
            level == {"sku": sku, "available": units}
            for m in events.of("inventory.available")
            for level in m["data"]["levels"]
        )

    # (changes within a second are announced together: c's passing 0 may never be told on its own)
    for sku, units in ((a, 7), (b, 6), (c, 9)):
        await wait_until(partial(announced, sku, units))

    # An older feed than the last applied is ignored.
    older = {
        "mode": "delta",
        "as_of": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "items": [{"sku": a, "quantity": 1}],
    }
    status, answer = await _ops_feed(shop, vendor, older)
    assert status == 200 and answer["state"] == "ignored", answer
    assert (await shop.stock(a))["available"] == 7
    # The same ops feed again is the same feed.
    assert (await _ops_feed(shop, vendor, older))[1]["feed_id"] == answer["feed_id"]


async def test_a_suspicious_snapshot_is_quarantined_until_a_person_accepts_it(shop: Shop) -> None:
    vendor = await shop.vendor(min_inventory_rows=2)
    a, b, c = [await shop.catalog([{"vendor": vendor, "stock": 10}]) for _ in range(3)]
    status, answer = await _ops_feed(shop, vendor, {"mode": "snapshot", "items": [{"sku": a, "quantity": 10}]})
    assert status == 202 and answer["state"] == "quarantined"
    assert "fewer than the minimum of 2" in answer["reason"]
    assert "2 of the 3 SKUs in stock go to zero" in answer["reason"]
    assert [(await shop.stock(s))["available"] for s in (a, b, c)] == [10, 10, 10]
    listed = {f["id"]: f for f in (await shop.api.ok("GET", "splitter", f"/v1/feeds?vendor={vendor}"))["feeds"]}
    assert listed[answer["feed_id"]]["state"] == "quarantined"

    accepted = await shop.api.ok("POST", "splitter", f"/v1/feeds/{answer['feed_id']}/accept")
    assert accepted["state"] == "accepted" and accepted["changed"] == 2
    assert [(await shop.stock(s))["available"] for s in (a, b, c)] == [10, 0, 0]
    status, again = await shop.api.call("POST", "splitter", f"/v1/feeds/{answer['feed_id']}/accept")
    assert (status, again["error"]) == (409, "not_quarantined")
    status, _ = await shop.api.call("POST", "splitter", f"/v1/feeds/{unique('nofeed')}/accept")
    assert status == 404


async def test_stale_stock_is_not_in_stock(shop: Shop) -> None:
    stale, fresh = await shop.vendor(feed_stale_after_hours=1), await shop.vendor()
    sku = await shop.catalog(
        [{"vendor": stale, "priority": 1, "stock": 10}, {"vendor": fresh, "priority": 2, "stock": 10}]
    )
    await shop.settings(strategy="priority")
    assert (await shop.preview([(sku, 1)]))["decisions"][0]["vendor"] == stale
    three_hours_ago = datetime.now(UTC) - timedelta(hours=3)
    body = {"mode": "delta", "as_of": three_hours_ago.isoformat(), "items": [{"sku": sku, "quantity": 10}]}
    assert (await _ops_feed(shop, stale, body))[1]["state"] == "applied"
    stock = _levels(await shop.stock(sku))
    assert stock[stale]["stale"] is True and stock[stale]["available"] == 0
    assert "is older than 1 h" in stock[stale]["explanation"]
    [decision] = (await shop.preview([(sku, 1)]))["decisions"]
    assert decision["vendor"] == fresh
    assert f"{stale} priority 1: stock unknown" in decision["reason"]


async def test_a_reservation_ends_with_a_feed_counted_after_the_acknowledgement(
    shop: Shop, bus: Bus, events: Observer
) -> None:
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor, "stock": 10}])
    order_id = await shop.place([(sku, 3, "10.00")])
    [created] = await events.wait_for("vendor_order.created", order_id)
    assert _levels(await shop.stock(sku))[vendor]["reserved"] == 3

    data = created["data"]
    ack = VendorOrderAcknowledged(
        correlation_id=order_id,
        data=VendorOrderAcknowledgedData(
            vendor_order_id=data["vendor_order_id"],
            vendor_order_number=data["vendor_order_number"],
            vendor=vendor,
            order_id=order_id,
            lines=[],
        ),
    )
    await bus.publish(ack)
    await wait_until(lambda: bus.applied(ack))
    # A feed counted before the acknowledgement cannot know of the order: the units stay reserved.
    before = _feed(vendor, "delta", {sku: 10}, ack.occurred_at - timedelta(seconds=30))
    await bus.publish(before)
    await wait_until(lambda: bus.applied(before))
    assert _levels(await shop.stock(sku))[vendor]["reserved"] == 3

    after = _feed(vendor, "delta", {sku: 7}, ack.occurred_at + timedelta(seconds=1))
    await bus.publish(after)
    await wait_until(lambda: bus.applied(after))
    stock = _levels(await shop.stock(sku))[vendor]
    assert (stock["feed_quantity"], stock["reserved"], stock["available"]) == (7, 0, 7)


async def test_an_order_held_for_stock_is_released_when_stock_arrives(shop: Shop, bus: Bus, events: Observer) -> None:
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor, "stock": 0}])
    order_id = await shop.place([(sku, 2, "10.00")])
    await events.wait_for("order.held", order_id)
    assert (await shop.routing(order_id))["state"] == "held"

    feed = _feed(vendor, "delta", {sku: 5})
    await bus.publish(feed)
    [released] = await events.wait_for("order.released", order_id)
    assert released["data"]["by"] == "auto"
    [created] = await events.wait_for("vendor_order.created", order_id)
    assert created["data"]["vendor"] == vendor
    view = await shop.routing(order_id)
    assert view["state"] == "routed" and view["holds"] == []
    assert routed_vendors(view) == {"L1": vendor}
    assert _levels(await shop.stock(sku))[vendor]["available"] == 3
    holds = await shop.api.ok("GET", "splitter", "/v1/holds")
    assert order_id not in {h["order_id"] for h in holds["holds"]}


async def test_transactions_marking_the_same_skus_do_not_wait_for_each_other(
    shop: Shop, bus: Bus, events: Observer
) -> None:
    """Two open transactions (two batches of orders, say) mark the same SKUs' availability as changed,
    in opposite orders. Neither waits for the other: keyed by SKU, the second waited for the first's
    commit, and with the orders crossed they deadlocked. Once both commit, each SKU is announced once."""
    vendor = await shop.vendor()
    first = await shop.catalog([{"vendor": vendor, "stock": 4}])
    second = await shop.catalog([{"vendor": vendor, "stock": 6}])

    def announced(sku: str) -> list[dict[str, Any]]:
        return [level for m in events.of("inventory.available") for level in m["data"]["levels"] if level["sku"] == sku]

    async def announced_times(times: int) -> bool:
        return all(len(announced(sku)) >= times for sku in (first, second))

    await wait_until(partial(announced_times, 1))  # new catalog entries are announced too
    pool = bus.system.splitter.pool
    async with pool.acquire() as one, pool.acquire() as other:
        one_tx, other_tx = one.transaction(), other.transaction()
        await one_tx.start()
        await other_tx.start()
        try:
            for connection in (one, other):
                await connection.execute("SET LOCAL lock_timeout = '2s'")
            await mark_changed(one, [first, second])
            await mark_changed(other, [second, first])  # keyed by SKU: LockNotAvailableError after 2 s
            await mark_changed(one, [second])
        finally:
            await one_tx.commit()
            await other_tx.commit()

    await wait_until(partial(announced_times, 2))
    await asyncio.sleep(2.5)  # two more announcing rounds: nothing is left to announce
    assert announced(first) == [{"sku": first, "available": 4}] * 2
    assert announced(second) == [{"sku": second, "available": 6}] * 2


RECOUNT_SQL = """
SELECT coalesce(sum(greatest(l.quantity - l.shipped - greatest(l.withdrawn, l.rejected), 0)), 0)::int
FROM vendor_order_lines l JOIN vendor_orders v ON v.id = l.vendor_order_id
WHERE l.reserving AND l.sku = $1 AND l.vendor = $2 AND v.status NOT IN ('cancelled', 'failed')
"""
"""What open vendor orders reserve on a source, summed from every line (how routing read it before the
running totals)."""


async def test_the_running_reservation_totals_match_a_recount_after_every_kind_of_change(
    shop: Shop, bus: Bus, events: Observer
) -> None:
    first, second = await shop.vendor(), await shop.vendor()
    sku = await shop.catalog([{"vendor": first, "priority": 1, "stock": 50}, {"vendor": second, "priority": 2}])
    other = await shop.catalog([{"vendor": first, "stock": 50}])
    await shop.settings(strategy="priority")
    pool = bus.system.splitter.pool

    async def check(expected_first: int) -> None:
        reserved = {s["vendor"]: s["reserved"] for s in (await shop.stock(sku))["sources"]}
        recounted = {vendor: await pool.fetchval(RECOUNT_SQL, sku, vendor) for vendor in (first, second)}
        assert reserved == recounted, (reserved, recounted)
        assert reserved[first] == expected_first
        async with pool.acquire() as connection, connection.transaction():
            await fold_reservation_changes(connection, 10_000)
        folded = {s["vendor"]: s["reserved"] for s in (await shop.stock(sku))["sources"]}
        assert folded == reserved
        left = await pool.fetchval("SELECT count(*) FROM reservation_changes WHERE sku = $1", sku)
        assert left == 0

    shipped_partly = await shop.place([(sku, 5, "10.00"), (other, 1, "10.00")])
    cancelled = await shop.place([(sku, 2, "10.00")])
    failing = await shop.place([(sku, 4, "10.00")])
    created = {}
    for order_id in (shipped_partly, cancelled, failing):
        [created[order_id]] = await events.wait_for("vendor_order.created", order_id)
    await check(11)

    shipment = shipment_of(created[shipped_partly], [("L1", 2)])
    await bus.publish(shipment)
    await wait_until(lambda: bus.applied(shipment))
    await check(9)

    await shop.cancel(cancelled)
    await events.wait_for("vendor_order.cancelled", cancelled)
    await check(7)

    data = created[failing]["data"]
    failed = VendorOrderFailed(
        correlation_id=failing,
        data=VendorOrderFailedData(
            vendor_order_id=data["vendor_order_id"], vendor=first, order_id=failing, reason="HTTP 410", attempts=5
        ),
    )
    await bus.publish(failed)
    await events.wait_match(
        lambda m: (
            m["type"] == "vendor_order.created" and m["correlation_id"] == failing and m["data"]["vendor"] == second
        )
    )
    await check(3)  # rerouted to second (untracked: routing never counts it, the stock view does)
    assert {s["vendor"]: s["reserved"] for s in (await shop.stock(sku))["sources"]}[second] == 4

    ack = VendorOrderAcknowledged(
        correlation_id=shipped_partly,
        data=VendorOrderAcknowledgedData(
            vendor_order_id=created[shipped_partly]["data"]["vendor_order_id"],
            vendor_order_number=created[shipped_partly]["data"]["vendor_order_number"],
            vendor=first,
            order_id=shipped_partly,
            lines=[],
        ),
    )
    await bus.publish(ack)
    await wait_until(lambda: bus.applied(ack))
    counted = _feed(first, "delta", {sku: 40}, ack.occurred_at + timedelta(seconds=1))
    await bus.publish(counted)
    await wait_until(lambda: bus.applied(counted))
    await check(0)  # the feed counted the acknowledged order's units
