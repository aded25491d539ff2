"""A ship-to changed through intake (``POST /v1/orders/{id}/ship_to``) and the real splitter: every vendor
order with units left to ship hears ``vendor_order.ship_to_changed.<vendor>`` with the new address, one
that shipped everything hears nothing and the routing history says so; a held order takes the new address,
so what goes out on release carries it, and its address holds (PO box, no vendor for the country) are
looked at again; an older change arriving late is not applied over a newer one."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from shared.contracts.envelope import utc_now
from shared.contracts.orders import Address, OrderShipToChanged, OrderShipToChangedData
from tests.integration.splitter.conftest import Bus, Observer, Shop, settled, shipment_of
from tests.support import wait_until

MOVED = {"name": "Jo Müller", "address1": "9 Other Street", "city": "Springfield", "state": "IL",
         "postal_code": "62704", "country": "US"}  # fmt: skip


async def change_ship_to(shop: Shop, order_id: str, address: dict[str, Any]) -> None:
    status, body = await shop.api.call("POST", "intake", f"/v1/orders/{order_id}/ship_to", address, shop.api_key)
    assert status == 202, body


async def test_the_vendor_orders_not_shipped_hear_of_it_and_a_shipped_one_does_not(
    shop: Shop, bus: Bus, events: Observer
) -> None:
    untouched, partly, fully = await shop.vendor(), await shop.vendor(), await shop.vendor()
    skus = [await shop.catalog([{"vendor": vendor}]) for vendor in (untouched, partly, partly, fully)]
    order_id = await shop.place([(sku, 2, "5.00") for sku in skus])
    created = {m["data"]["vendor"]: m for m in await events.wait_for("vendor_order.created", order_id, count=3)}
    for shipment in (shipment_of(created[partly], [("L2", 2)]), shipment_of(created[fully], [("L4", 2)])):
        await bus.publish(shipment)
        await wait_until(partial(bus.applied, shipment))

    await change_ship_to(shop, order_id, MOVED)

    told = {m["data"]["vendor"]: m for m in await events.wait_for("vendor_order.ship_to_changed", order_id, count=2)}
    assert set(told) == {untouched, partly}
    for vendor, message in told.items():
        data = message["data"]
        assert data["vendor_order_id"] == created[vendor]["data"]["vendor_order_id"]
        assert data["vendor_order_number"] == created[vendor]["data"]["vendor_order_number"]
        assert data["ship_to"]["address1"] == "9 Other Street" and data["ship_to"]["postal_code"] == "62704"
        assert message["correlation_id"] == order_id
    await settled()
    assert len(events.of("vendor_order.ship_to_changed", order_id)) == 2

    view = await shop.routing(order_id, until=lambda v: any(e["kind"] == "ship_to_not_sent" for e in v["history"]))
    kinds = [(e["kind"], e["vendor"]) for e in view["history"] if e["kind"].startswith("ship_to")]
    assert ("ship_to_changed", None) in kinds
    assert {vendor for kind, vendor in kinds if kind == "ship_to_sent"} == {untouched, partly}
    assert [vendor for kind, vendor in kinds if kind == "ship_to_not_sent"] == [fully]
    stored = await shop.system.splitter.pool.fetch(
        "SELECT vendor, payload -> 'ship_to' ->> 'address1' AS address1 FROM vendor_orders WHERE order_id = $1",
        order_id,
    )
    by_vendor = {row["vendor"]: row["address1"] for row in stored}
    assert by_vendor[untouched] == by_vendor[partly] == "9 Other Street"
    assert by_vendor[fully] != "9 Other Street"

    # A later reroute of the order's lines (a vendor order made after the change) carries the new address.
    routed = await shop.system.splitter.pool.fetchval(
        "SELECT payload -> 'ship_to' ->> 'address1' FROM routed_orders WHERE order_id = $1", order_id
    )
    assert routed == "9 Other Street"


async def test_a_held_order_goes_out_to_the_new_address_and_its_po_box_hold_is_looked_at_again(
    shop: Shop, events: Observer
) -> None:
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    await shop.settings(holds={"po_box": True, "duplicate_window_minutes": 0})
    payload = shop.payload([(sku, 1, "10.00")])
    payload["ship_to"]["address1"] = "PO Box 1234"
    order_id = await shop.place_payload(payload)
    [held] = await events.wait_for("order.held", order_id)
    assert [r["code"] for r in held["data"]["reasons"]] == ["po_box"]

    await change_ship_to(shop, order_id, MOVED)

    [released] = await events.wait_for("order.released", order_id)
    assert released["data"]["by"] == "auto"
    [created] = await events.wait_for("vendor_order.created", order_id)
    assert created["data"]["ship_to"]["address1"] == "9 Other Street"
    assert events.of("vendor_order.ship_to_changed", order_id) == []
    view = await shop.routing(order_id, until=lambda v: v["state"] == "routed")
    assert view["holds"] == []


async def test_a_held_order_moved_to_a_po_box_is_held_for_it_too(shop: Shop, events: Observer) -> None:
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    await shop.settings(holds={"po_box": True, "duplicate_window_minutes": 0})
    order_id = await shop.place([(sku, 1, "10.00")], status="unpaid")
    [held] = await events.wait_for("order.held", order_id)
    assert [r["code"] for r in held["data"]["reasons"]] == ["unpaid"]

    await change_ship_to(shop, order_id, {**MOVED, "address1": "P.O. Box 77"})

    [_, again] = await events.wait_for("order.held", order_id, count=2)
    assert sorted(r["code"] for r in again["data"]["reasons"]) == ["po_box", "unpaid"]
    await shop.set_status(order_id, "paid")
    await wait_until(
        lambda: shop.routing(order_id, until=lambda v: [h["code"] for h in v["holds"]] == ["po_box"]), timeout=20
    )
    await settled()
    assert events.of("vendor_order.created", order_id) == []


async def test_no_vendor_for_the_old_country_routes_to_the_new_one(shop: Shop, events: Observer) -> None:
    us_only = await shop.vendor(countries=["US"])
    sku = await shop.catalog([{"vendor": us_only}])
    payload = shop.payload([(sku, 1, "10.00")])
    payload["ship_to"].update({"city": "Köln", "state": None, "postal_code": "50667", "country": "DE"})
    order_id = await shop.place_payload(payload)
    [held] = await events.wait_for("order.held", order_id)
    assert [r["code"] for r in held["data"]["reasons"]] == ["no_vendor_for_country"]

    await change_ship_to(shop, order_id, MOVED)

    [created] = await events.wait_for("vendor_order.created", order_id)
    assert created["data"]["vendor"] == us_only and created["data"]["ship_to"]["country"] == "US"
    await events.wait_for("order.released", order_id)


async def test_an_older_change_arriving_late_is_not_applied(shop: Shop, bus: Bus, events: Observer) -> None:
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    order_id = await shop.place([(sku, 1, "10.00")])
    await events.wait_for("vendor_order.created", order_id)
    await change_ship_to(shop, order_id, MOVED)
    [told] = await events.wait_for("vendor_order.ship_to_changed", order_id)

    late = OrderShipToChanged(
        correlation_id=order_id,
        data=OrderShipToChangedData(
            order_id=order_id,
            ship_to=Address.model_validate({**MOVED, "address1": "1 Old Road"}),
            changed_at=utc_now() - timedelta(hours=1),
        ),
    )
    await bus.publish(late)
    await wait_until(partial(bus.applied, late))
    await settled()
    assert events.of("vendor_order.ship_to_changed", order_id) == [told]
    routed = await shop.system.splitter.pool.fetchval(
        "SELECT payload -> 'ship_to' ->> 'address1' FROM routed_orders WHERE order_id = $1", order_id
    )
    assert routed == "9 Other Street"
