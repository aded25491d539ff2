"""Planning a shipment push from the order's fulfillment orders and fulfillments."""

from __future__ import annotations

from typing import Any

import pytest

from services.channels.ports import PushedShipment, ShipmentPush, ShippedLine
from services.channels.shopify.fulfillment import (
    AddTracking,
    AlreadyThere,
    CreateFulfillments,
    UnplannableShipment,
    plan_shipment,
    read_order_fulfilment,
)


def _fo(number: int, location: int, lines: list[tuple[int, int, int]], status: str = "OPEN") -> dict[str, Any]:
    return {
        "id": f"gid://shopify/FulfillmentOrder/{number}",
        "status": status,
        "assignedLocation": {"location": {"id": f"gid://shopify/Location/{location}"}},
        "lineItems": {
            "nodes": [
                {"id": f"gid://shopify/FulfillmentOrderLineItem/{fo_line}", "remainingQuantity": remaining,
                 "lineItem": {"id": f"gid://shopify/LineItem/{line}", "sku": f"SKU{line}"}}
                for fo_line, line, remaining in lines
            ]
        },
    }  # fmt: skip


def _fulfillment(number: int, *numbers: str) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Fulfillment/{number}",
        "trackingInfo": [{"company": "UPS", "number": n, "url": None} for n in numbers],
    }


def _push(lines: tuple[ShippedLine, ...], number: str | None = "1Z1", **extra: Any) -> ShipmentPush:
    values: dict[str, Any] = {
        "shipment_id": "shp_1", "platform_order_id": "100", "order_number": "1001", "vendor": "acme",
        "carrier": "ups", "service": None, "tracking_number": number, "ship_date": None, "notify_customer": True,
        "lines": lines, "order_shipped": False,
    }  # fmt: skip
    values.update(extra)
    return ShipmentPush(**values)


TRACKING = {"company": "UPS", "number": "1Z1"}


def test_two_packages_from_two_locations_make_two_fulfillments_with_exact_lines() -> None:
    state = read_order_fulfilment(
        {"fulfillmentOrders": {"nodes": [_fo(1, 10, [(11, 501, 2), (12, 502, 1)]), _fo(2, 20, [(21, 503, 4)])]},
         "fulfillments": []}
    )  # fmt: skip
    plan = plan_shipment(state, _push((ShippedLine("501", 2), ShippedLine("503", 3))), TRACKING)
    assert isinstance(plan, CreateFulfillments)
    assert [g.location_id for g in plan.groups] == ["gid://shopify/Location/10", "gid://shopify/Location/20"]
    assert plan.groups[0].line_items_by_fulfillment_order == (
        {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1",
         "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/11", "quantity": 2}]},
    )  # fmt: skip
    assert plan.groups[1].line_items_by_fulfillment_order[0]["fulfillmentOrderLineItems"] == [
        {"id": "gid://shopify/FulfillmentOrderLineItem/21", "quantity": 3}
    ]
    assert plan.tracking_input == TRACKING


def test_quantities_are_clamped_to_what_remains_and_closed_orders_are_left_alone() -> None:
    state = read_order_fulfilment(
        {"fulfillmentOrders": {"nodes": [_fo(1, 10, [(11, 501, 1)]), _fo(2, 10, [(21, 502, 5)], status="CLOSED")]}}
    )
    plan = plan_shipment(state, _push((ShippedLine("501", 3), ShippedLine("502", 1))), TRACKING)
    assert isinstance(plan, CreateFulfillments)
    assert len(plan.groups) == 1
    assert plan.groups[0].line_items_by_fulfillment_order == (
        {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1",
         "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/11", "quantity": 1}]},
    )  # fmt: skip


def test_a_tracking_number_already_on_a_fulfillment_is_already_there() -> None:
    state = read_order_fulfilment(
        {"fulfillmentOrders": {"nodes": [_fo(1, 10, [(11, 501, 2)])]}, "fulfillments": [_fulfillment(7, "1Z1")]}
    )
    plan = plan_shipment(state, _push((ShippedLine("501", 2),)), TRACKING)
    assert isinstance(plan, AlreadyThere)
    assert plan.remote_id == "gid://shopify/Fulfillment/7"
    assert plan.tracking_numbers == ("1Z1",)


def test_nothing_left_to_fulfil_is_already_there() -> None:
    state = read_order_fulfilment(
        {"fulfillmentOrders": {"nodes": [_fo(1, 10, [(11, 501, 0)], status="CLOSED")]},
         "fulfillments": [_fulfillment(7, "OTHER")]}
    )  # fmt: skip
    earlier = (PushedShipment("shp_0", "acme", "gid://shopify/Fulfillment/7", ("OTHER",)),)
    plan = plan_shipment(state, _push((ShippedLine("501", 2),), number=None, earlier=earlier), {})
    assert isinstance(plan, AlreadyThere)
    assert plan.remote_id == "gid://shopify/Fulfillment/7"
    assert "remains" in plan.detail


def test_second_box_joins_the_vendors_latest_fulfillment() -> None:
    state = read_order_fulfilment(
        {"fulfillmentOrders": {"nodes": []},
         "fulfillments": [_fulfillment(7, "A1"), _fulfillment(8, "B1"), _fulfillment(9, "C1")]}
    )  # fmt: skip
    earlier = (
        PushedShipment("s1", "acme", "gid://shopify/Fulfillment/7", ("A1",)),
        PushedShipment("s2", "other", "gid://shopify/Fulfillment/9", ("C1",)),
        PushedShipment("s3", "acme", "gid://shopify/Fulfillment/8", ("B1",)),
    )
    plan = plan_shipment(state, _push((), number="B2", earlier=earlier), {"company": "UPS", "number": "B2"})
    assert isinstance(plan, AddTracking)
    assert plan.fulfillment_id == "gid://shopify/Fulfillment/8"
    assert plan.tracking_input == {"numbers": ["B1", "B2"], "company": "UPS"}
    assert plan.tracking_numbers == ("B1", "B2")


def test_second_box_falls_back_to_the_only_fulfillment_and_refuses_without_one() -> None:
    only = read_order_fulfilment({"fulfillments": [_fulfillment(7, "A1")]})
    plan = plan_shipment(only, _push((), number="A2"), {"company": "UPS", "number": "A2"})
    assert isinstance(plan, AddTracking) and plan.fulfillment_id == "gid://shopify/Fulfillment/7"
    two = read_order_fulfilment({"fulfillments": [_fulfillment(7, "A1"), _fulfillment(8, "B1")]})
    with pytest.raises(UnplannableShipment):
        plan_shipment(two, _push((), number="A2"), {})
