"""Holds through the real splitter: each reason published as ``order.held`` and listed by
``GET /v1/holds``; released by itself when the cause goes away (paid through intake's status route,
a SKU mapped) or by a person, with overrides checked; a channel status that overtakes its order."""

from __future__ import annotations

import uuid
from typing import Any

from shared.contracts.orders import OrderReceived, OrderReceivedData, OrderUpdated, OrderUpdatedData
from tests.integration.splitter.conftest import Bus, Observer, Shop, routed_vendors, settled
from tests.support import unique, wait_until


async def _held_codes(shop: Shop, events: Observer, order_id: str) -> list[str]:
    [held] = await events.wait_for("order.held", order_id)
    listed = {h["order_id"]: h for h in (await shop.api.ok("GET", "splitter", "/v1/holds"))["holds"]}
    assert [h["code"] for h in listed[order_id]["holds"]] == [r["code"] for r in held["data"]["reasons"]]
    return [r["code"] for r in held["data"]["reasons"]]


async def test_an_unpaid_order_is_held_and_released_when_intake_says_paid(shop: Shop, events: Observer) -> None:
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    order_id = await shop.place([(sku, 1, "10.00")], status="unpaid")
    assert await _held_codes(shop, events, order_id) == ["unpaid"]
    await settled()
    assert events.of("vendor_order.created", order_id) == []

    await shop.set_status(order_id, "paid")
    [released] = await events.wait_for("order.released", order_id)
    assert released["data"]["by"] == "auto"
    [created] = await events.wait_for("vendor_order.created", order_id)
    assert created["data"]["vendor"] == vendor and created["data"]["status"] == "paid"
    view = await shop.routing(order_id)
    assert view["state"] == "routed" and view["holds"] == []
    assert [e["kind"] for e in view["history"]][-2:] == ["routed", "release"]


async def test_the_channels_own_hold_holds_the_order(shop: Shop, events: Observer) -> None:
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    order_id = await shop.place([(sku, 1, "10.00")], status="on_hold")
    assert await _held_codes(shop, events, order_id) == ["channel_on_hold"]
    await shop.set_status(order_id, "paid")
    await events.wait_for("order.released", order_id)
    await events.wait_for("vendor_order.created", order_id)


async def test_value_limit_and_po_box_hold_until_a_person_releases(shop: Shop, events: Observer) -> None:
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    await shop.settings(holds={"max_order_value": "50.00", "po_box": True, "duplicate_window_minutes": 0})
    payload = shop.payload([(sku, 10, "10.00")])
    payload["ship_to"]["address1"] = "PO Box 1234"
    order_id = await shop.place_payload(payload)
    assert await _held_codes(shop, events, order_id) == ["over_value_limit", "po_box"]
    view = await shop.routing(order_id)
    details = {h["code"]: h["detail"] for h in view["holds"]}
    assert "50.00" in details["over_value_limit"] and "PO Box 1234" in details["po_box"]

    # A cause that stays (nobody changed the limit) is not lifted by a status change.
    await shop.set_status(order_id, "paid")
    await settled()
    assert events.of("order.released", order_id) == []

    released = await shop.api.ok("POST", "splitter", f"/v1/orders/{order_id}/release")
    assert (released["released"], released["vendor_orders"]) == (True, 1)
    [by_person] = await events.wait_for("order.released", order_id)
    assert by_person["data"]["by"] == "person"
    await events.wait_for("vendor_order.created", order_id)
    status, again = await shop.api.call("POST", "splitter", f"/v1/orders/{order_id}/release")
    assert (status, again["error"]) == (409, "not_held")


async def test_a_duplicate_under_another_external_id_is_held(shop: Shop, events: Observer) -> None:
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    await shop.settings(holds={"duplicate_window_minutes": 30})
    customer = {"name": "Jo Müller", "email": "Jo.Twice@example.com"}
    first = await shop.place([(sku, 2, "10.00")], customer=customer)
    await events.wait_for("vendor_order.created", first)
    second = await shop.place([(sku, 2, "10.00")], customer=customer)
    assert await _held_codes(shop, events, second) == ["duplicate"]
    view = await shop.routing(second)
    first_view = await shop.routing(first)
    assert f"same customer, ship-to and lines as order {first_view['order_number']}" in view["holds"][0]["detail"]
    # Different lines are another purchase.
    third = await shop.place([(sku, 3, "10.00")], customer=customer)
    await events.wait_for("vendor_order.created", third)


async def test_an_unmapped_sku_waits_for_the_catalog(shop: Shop, events: Observer) -> None:
    vendor = await shop.vendor()
    sku = unique("NEW-")
    order_id = await shop.place([(sku, 1, "10.00")])
    assert await _held_codes(shop, events, order_id) == ["unmapped_sku"]
    put = await shop.api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": vendor}]})
    assert put["released_vendor_orders"] == 1
    await events.wait_for("order.released", order_id)
    [created] = await events.wait_for("vendor_order.created", order_id)
    assert created["data"]["vendor"] == vendor


async def test_a_person_may_choose_the_vendor_of_a_line_when_releasing(shop: Shop, events: Observer) -> None:
    usual, other, stranger = await shop.vendor(), await shop.vendor(), await shop.vendor()
    sku = await shop.catalog([{"vendor": usual, "priority": 1}, {"vendor": other, "priority": 2}])
    await shop.settings(holds={"max_order_value": "1.00", "duplicate_window_minutes": 0})
    order_id = await shop.place([(sku, 1, "10.00")])
    await events.wait_for("order.held", order_id)

    path = f"/v1/orders/{order_id}/release"
    status, refused = await shop.api.call("POST", "splitter", path, {"overrides": {"L1": stranger}})
    assert status == 422 and "overrides.L1" in refused["fields"], refused
    status, refused = await shop.api.call("POST", "splitter", path, {"overrides": {"L9": other}})
    assert status == 422 and "overrides.L9" in refused["fields"], refused
    assert (await shop.routing(order_id))["state"] == "held"

    released = await shop.api.ok("POST", "splitter", path, {"overrides": {"L1": other}})
    assert released["released"] is True
    [created] = await events.wait_for("vendor_order.created", order_id)
    assert created["data"]["vendor"] == other
    view = await shop.routing(order_id)
    assert routed_vendors(view) == {"L1": other}
    [decision] = view["decisions"]
    assert (decision["kind"], decision["line_id"], decision["vendor"]) == ("released", "L1", other)
    assert "chosen by a person on release (override)" in decision["reason"]

    status, _ = await shop.api.call("POST", "splitter", f"/v1/orders/{unique('ord_')}/release")
    assert status == 404


def _order(order_id: str, sku: str, status: Any) -> OrderReceivedData:
    return OrderReceivedData.model_validate(
        {
            "order_id": order_id,
            "channel": "bus-shop",
            "external_id": unique("ext-"),
            "order_number": unique("N"),
            "ordered_at": "2026-11-26T23:41:00Z",
            "status": status,
            "currency": "USD",
            "ship_to": {"name": "Jo", "address1": "1 Main St", "city": "X", "postal_code": "1", "country": "US"},
            "lines": [{"line_id": "L1", "sku": sku, "name": "Item", "quantity": 1, "unit_price": "3.00"}],
        }
    )


async def test_a_status_that_overtakes_its_order_is_applied_when_the_order_arrives(
    shop: Shop, bus: Bus, events: Observer
) -> None:
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    order_id = f"ord_{uuid.uuid4().hex}"
    update = OrderUpdated(correlation_id=order_id, data=OrderUpdatedData(order_id=order_id, status="paid"))
    await bus.publish(update)
    await wait_until(lambda: bus.applied(update))
    assert (await shop.api.call("GET", "splitter", f"/v1/orders/{order_id}/routing"))[0] == 404

    received = OrderReceived(correlation_id=order_id, data=_order(order_id, sku, "unpaid"))
    await bus.publish(received)
    [created] = await events.wait_for("vendor_order.created", order_id)
    assert created["data"]["vendor"] == vendor
    assert events.of("order.held", order_id) == []
    assert (await shop.routing(order_id))["state"] == "routed"


async def test_a_vendor_made_active_again_releases_the_orders_that_waited_for_it(shop: Shop, events: Observer) -> None:
    vendor = await shop.vendor(active=False)
    sku = await shop.catalog([{"vendor": vendor}])
    order_id = await shop.place([(sku, 1, "10.00")])
    assert await _held_codes(shop, events, order_id) == ["no_stock"]
    await shop.api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", {"name": "Back", "kind": "webhook", "active": True})
    await events.wait_for("order.released", order_id)
    [created] = await events.wait_for("vendor_order.created", order_id)
    assert created["data"]["vendor"] == vendor
