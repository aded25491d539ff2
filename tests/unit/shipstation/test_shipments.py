"""What a ship notice does to a vendor order: the package reported, the quantities shipped after it,
and whether the order is shipped, partially shipped or stays cancelled."""

from __future__ import annotations

from datetime import date

import pytest

from services.shipstation.order_states import shipped_after, state_after_shipment, status_names_of
from services.shipstation.shipments import ship, shipment_id
from services.shipstation.shipnotice import NoticeItem, ShipNotice
from shared.contracts.vendor_orders import VendorOrderLine
from tests.unit.shipstation.support import vendor_order

TWO_LINES = [
    {"line_id": "L1", "sku": "MUG", "name": "Mug", "quantity": 2, "unit_price": "9.50"},
    {"line_id": "L2", "sku": "CAP", "name": "Cap", "quantity": 1, "unit_price": "5.00"},
]


def notice(*items: NoticeItem, tracking_number: str = "1Z999") -> ShipNotice:
    return ShipNotice(
        order_id="vo_min_1",
        order_number="2001-1",
        carrier="UPS",
        service="Ground",
        tracking_number=tracking_number,
        ship_date=date(2026, 11, 28),
        label_created_at=None,
        shipping_cost=None,
        notes_to_customer=None,
        notify_customer=None,
        items=items,
        customer_code=None,
    )


def item(line_item_id: str, quantity: int) -> NoticeItem:
    return NoticeItem(line_item_id=line_item_id, sku=None, quantity=quantity, name=None)


def line(line_id: str, quantity: int) -> VendorOrderLine:
    return VendorOrderLine(line_id=line_id, sku=line_id, name=line_id, quantity=quantity, unit_price="1.00")


def test_a_notice_without_items_ships_everything_left() -> None:
    order = vendor_order(lines=TWO_LINES)

    shipment = ship(order, "paid", {"L1": 1}, notice())

    assert [(shipped.line_id, shipped.quantity) for shipped in shipment.report.lines] == [("L1", 1), ("L2", 1)]
    assert shipment.shipped == {"L1": 2, "L2": 1}
    assert (shipment.state, shipment.state_changed) == ("shipped", True)
    assert shipment.report.vendor_order_id == order.vendor_order_id
    assert shipment.report.order_id == order.order_id


def test_a_package_with_some_lines_leaves_the_order_partially_shipped() -> None:
    shipment = ship(vendor_order(lines=TWO_LINES), "paid", {}, notice(item("L1", 2)))

    assert shipment.shipped == {"L1": 2}
    assert (shipment.state, shipment.state_changed) == ("partially_shipped", True)


def test_a_second_partial_package_changes_nothing_shipstation_should_see() -> None:
    shipment = ship(vendor_order(lines=TWO_LINES), "partially_shipped", {"L1": 1}, notice(item("L1", 1)))

    assert (shipment.state, shipment.state_changed) == ("partially_shipped", False)


def test_the_last_package_ships_the_order() -> None:
    shipment = ship(vendor_order(lines=TWO_LINES), "partially_shipped", {"L1": 2}, notice(item("L2", 1)))

    assert (shipment.state, shipment.state_changed) == ("shipped", True)


def test_a_package_reported_after_the_cancellation_leaves_the_order_cancelled() -> None:
    shipment = ship(vendor_order(lines=TWO_LINES), "cancelled", {}, notice())

    assert (shipment.state, shipment.state_changed) == ("cancelled", False)
    assert shipment.shipped == {"L1": 2, "L2": 1}


def test_the_same_package_again_has_the_same_shipment_id() -> None:
    order = vendor_order(lines=TWO_LINES)
    first = ship(order, "paid", {}, notice(item("L1", 1)))
    again = ship(order, "partially_shipped", {"L1": 1}, notice(item("L1", 1)))

    assert first.report.shipment_id == again.report.shipment_id == shipment_id("vo_min_1", notice(item("L1", 1)))
    assert shipment_id("vo_min_1", notice(item("L1", 1), tracking_number="1Z000")) != first.report.shipment_id


@pytest.mark.parametrize(
    ("current", "shipped", "expected"),
    [
        ("paid", {"A": 1, "B": 2}, "shipped"),
        ("paid", {"A": 1, "B": 1}, "partially_shipped"),
        ("on_hold", {"A": 5, "B": 5}, "shipped"),
        ("partially_shipped", {"B": 2}, "partially_shipped"),
        ("cancelled", {"A": 1, "B": 2}, "cancelled"),
    ],
)
def test_state_after_shipment(current: str, shipped: dict[str, int], expected: str) -> None:
    assert state_after_shipment(current, [line("A", 1), line("B", 2)], shipped) == expected


def test_shipped_after_adds_the_package_to_what_shipped_before() -> None:
    before = {"A": 1}

    assert shipped_after(before, {"A": 1, "B": 3}) == {"A": 2, "B": 3}
    assert before == {"A": 1}


def test_status_names_fall_back_to_the_defaults() -> None:
    names = status_names_of({"paid": "Awaiting Shipment"})

    assert names["paid"] == "Awaiting Shipment"
    assert names["shipped"] == "shipped"
    assert set(names) == {"unpaid", "paid", "shipped", "cancelled", "on_hold"}
