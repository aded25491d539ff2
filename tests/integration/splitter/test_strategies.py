"""The merchant's routing strategies through the real splitter: previews answer the decision and its
reasons with the numbers and change nothing; a real order per strategy family gets the same vendor,
and its routing view keeps the reason."""

from __future__ import annotations

from services.splitter.routing.stock import MINUS
from tests.integration.splitter.conftest import Observer, Shop, routed_vendors, settled


async def test_priority_takes_the_first_source_with_stock_and_preview_changes_nothing(
    shop: Shop, events: Observer
) -> None:
    first, second = await shop.vendor(), await shop.vendor()
    sku = await shop.catalog(
        [{"vendor": first, "priority": 1, "stock": 1}, {"vendor": second, "priority": 2, "stock": 10}]
    )
    await shop.settings(strategy="priority")

    preview = await shop.preview([(sku, 2)])
    [decision] = preview["decisions"]
    assert decision["vendor"] == second
    assert "priority 2, first with stock of 2" in decision["reason"]
    assert f"{first} priority 1: available 1" in decision["reason"]
    assert preview["held"] is False
    assert [vo["vendor"] for vo in preview["vendor_orders"]] == [second]

    # The preview reserved nothing, stored nothing and published nothing.
    stock = await shop.stock(sku)
    assert {s["vendor"]: s["reserved"] for s in stock["sources"]} == {first: 0, second: 0}
    assert stock["available"] == 11
    await settled()
    assert events.of("vendor_order.created") == []
    assert await shop.system.splitter.pool.fetchval("SELECT count(*) FROM vendor_order_lines WHERE sku = $1", sku) == 0

    order_id = await shop.place([(sku, 2, "10.00")])
    view = await shop.routing(order_id)
    assert view["state"] == "routed"
    assert routed_vendors(view) == {"L1": second}
    [routed] = view["decisions"]
    assert routed["vendor"] == second and "first with stock of 2" in routed["reason"]
    [created] = await events.wait_for("vendor_order.created", order_id)
    assert created["data"]["vendor"] == second


async def test_lowest_cost_counts_the_handling_fee(shop: Shop, events: Observer) -> None:
    cheap_item = await shop.vendor(handling_fee="5.00")
    dearer_item = await shop.vendor(handling_fee="0.50")
    sku = await shop.catalog(
        [{"vendor": cheap_item, "cost": "3.00", "priority": 1}, {"vendor": dearer_item, "cost": "4.00", "priority": 2}]
    )
    await shop.settings(strategy="lowest_cost")

    [decision] = (await shop.preview([(sku, 2)]))["decisions"]
    # 3.00 * 2 + 5.00 = 11.00 against 4.00 * 2 + 0.50 = 8.50.
    assert decision["vendor"] == dearer_item
    assert "cost 4.00 + fee 0.50 = 8.50 for 2, cheapest of 2" in decision["reason"]
    assert f"{cheap_item} 11.00" in decision["reason"]

    order_id = await shop.place([(sku, 2, "10.00")])
    view = await shop.routing(order_id)
    assert routed_vendors(view) == {"L1": dearer_item}
    assert "8.50" in view["decisions"][0]["reason"]
    await events.wait_for("vendor_order.created", order_id)


async def test_most_stock_picks_the_deepest_source(shop: Shop) -> None:
    shallow, deep = await shop.vendor(), await shop.vendor()
    sku = await shop.catalog(
        [{"vendor": shallow, "priority": 1, "stock": 4}, {"vendor": deep, "priority": 9, "stock": 40}]
    )
    await shop.settings(strategy="most_stock")
    [decision] = (await shop.preview([(sku, 1)]))["decisions"]
    assert decision["vendor"] == deep
    assert f"available 40 (feed 40 {MINUS} reserved 0 {MINUS} buffer 0), most stock of 2" in decision["reason"]
    assert f"{shallow} available 4" in decision["reason"]


async def test_lowest_cost_backorder_goes_to_the_cheapest_vendor_accepting_backorders(
    shop: Shop, events: Observer
) -> None:
    no_backorders = await shop.vendor()
    backorders = await shop.vendor(accepts_backorders=True)
    sku = await shop.catalog(
        [{"vendor": no_backorders, "cost": "1.00", "stock": 0}, {"vendor": backorders, "cost": "2.00", "stock": 0}]
    )
    await shop.settings(strategy="lowest_cost")
    held = await shop.preview([(sku, 3)])
    assert held["held"] is True and [h["code"] for h in held["holds"]] == ["no_stock"]
    assert "nobody has 3 available" in held["holds"][0]["detail"]

    await shop.settings(strategy="lowest_cost_backorder")
    preview = await shop.preview([(sku, 3)])
    [decision] = preview["decisions"]
    assert (decision["vendor"], decision["backorder"]) == (backorders, True)
    assert "backorder: nobody has 3 available" in decision["reason"]
    assert "cheapest of 1 accepting backorders" in decision["reason"]

    order_id = await shop.place([(sku, 3, "10.00")])
    view = await shop.routing(order_id)
    assert routed_vendors(view) == {"L1": backorders}
    assert "backorder" in view["decisions"][0]["reason"]
    await events.wait_for("vendor_order.created", order_id)


async def test_prefer_single_vendor_gives_the_whole_order_to_one_vendor(shop: Shop, events: Observer) -> None:
    generalist, specialist = await shop.vendor(), await shop.vendor()
    shared_sku = await shop.catalog(
        [{"vendor": specialist, "priority": 1, "stock": 5}, {"vendor": generalist, "priority": 5, "stock": 5}]
    )
    only_generalist = await shop.catalog([{"vendor": generalist, "stock": 5}])
    lines = [(shared_sku, 1), (only_generalist, 1)]
    await shop.settings(strategy="priority")
    split = await shop.preview(lines)
    assert {d["vendor"] for d in split["decisions"]} == {specialist, generalist}
    assert len(split["vendor_orders"]) == 2

    await shop.settings(strategy="priority", prefer_single_vendor=True)
    single = await shop.preview(lines)
    assert {d["vendor"] for d in single["decisions"]} == {generalist}
    reason = next(d["reason"] for d in single["decisions"] if d["sku"] == shared_sku)
    assert f"one vendor for the whole order (prefer_single_vendor): {specialist} has priority 1" in reason
    assert len(single["vendor_orders"]) == 1

    order_id = await shop.place([(shared_sku, 1, "5.00"), (only_generalist, 1, "6.00")])
    view = await shop.routing(order_id)
    assert routed_vendors(view) == {"L1": generalist, "L2": generalist}
    [created] = await events.wait_for("vendor_order.created", order_id)
    assert [line["line_id"] for line in created["data"]["lines"]] == ["L1", "L2"]


async def test_split_quantities_spreads_a_line_across_vendors(shop: Shop, events: Observer) -> None:
    first, second = await shop.vendor(), await shop.vendor()
    sku = await shop.catalog(
        [{"vendor": first, "priority": 1, "stock": 3}, {"vendor": second, "priority": 2, "stock": 4}]
    )
    await shop.settings(strategy="priority")
    assert (await shop.preview([(sku, 6)]))["holds"][0]["code"] == "no_stock"

    await shop.settings(strategy="priority", split_quantities=True)
    decisions = (await shop.preview([(sku, 6)]))["decisions"]
    assert [(d["vendor"], d["quantity"]) for d in decisions] == [(first, 3), (second, 3)]
    assert "3 of 6 (split: nobody has 6 available alone)" in decisions[0]["reason"]

    order_id = await shop.place([(sku, 6, "2.00")])
    view = await shop.routing(order_id)
    assert sorted((vo["vendor"], vo["lines"][0]["quantity"]) for vo in view["vendor_orders"]) == sorted(
        [(first, 3), (second, 3)]
    )
    created = await events.wait_for("vendor_order.created", order_id, count=2)
    assert {c["data"]["vendor_order_number"].rsplit("-", 1)[1] for c in created} == {"1", "2"}
    stock = await shop.stock(sku)
    assert {s["vendor"]: s["reserved"] for s in stock["sources"]} == {first: 3, second: 3}
    assert stock["available"] == 1


async def test_countries_filter_and_inactive_vendors(shop: Shop) -> None:
    us_only = await shop.vendor(countries=["US"])
    everywhere = await shop.vendor()
    sku = await shop.catalog(
        [{"vendor": us_only, "priority": 1, "stock": 5}, {"vendor": everywhere, "priority": 2, "stock": 5}]
    )
    await shop.settings(strategy="priority")
    assert (await shop.preview([(sku, 1)], country="US"))["decisions"][0]["vendor"] == us_only
    assert (await shop.preview([(sku, 1)], country="DE"))["decisions"][0]["vendor"] == everywhere

    only_us = await shop.catalog([{"vendor": us_only, "stock": 5}])
    [hold] = (await shop.preview([(only_us, 1)], country="FR"))["holds"]
    assert hold["code"] == "no_vendor_for_country"
    assert f"no vendor ships to FR ({us_only} ships to US)" in hold["detail"]

    # An inactive vendor is never chosen, even first by priority with stock.
    await shop.api.ok(
        "PUT",
        "splitter",
        f"/v1/vendors/{us_only}",
        {"name": "Off", "kind": "webhook", "active": False, "countries": ["US"]},
    )
    assert (await shop.preview([(sku, 1)], country="US"))["decisions"][0]["vendor"] == everywhere
    [inactive] = (await shop.preview([(only_us, 1)], country="US"))["holds"]
    assert inactive["code"] == "no_stock" and f"{us_only} inactive" in inactive["detail"]
