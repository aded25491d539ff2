"""Lines withdrawn from a vendor order (services/shipstation/withdrawals.py): what stands, the state it
leaves, never below zero, and the standing order as the export renders it (valid, totals added up)."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from services.shipstation.export_rules import ExportableOrder, order_total
from services.shipstation.withdrawals import standing_order, withdraw
from services.shipstation.xml_export import DEFAULT_STATUS_NAMES, render_export_page
from shared.contracts.vendor_orders import VendorOrderCreatedData, VendorOrderLine
from tests.unit.shipstation.support import (
    CHICAGO,
    LAST_MODIFIED,
    assert_valid,
    export_schema,
    minimal_order_fields,
    rich_order_fields,
    vendor_order,
)

LINES = [
    VendorOrderLine(line_id="L1", sku="MUG", name="Mug", quantity=3, unit_price=Decimal("9.50")),
    VendorOrderLine(line_id="L2", sku="CAP", name="Cap", quantity=1, unit_price=Decimal("5.00")),
]


def test_withdrawn_units_come_off_their_line_and_the_rest_stands() -> None:
    outcome = withdraw(LINES, "paid", {}, {}, [("L1", 2)])

    assert (outcome.withdrawn, outcome.state, outcome.changed, outcome.refused) == ({"L1": 2}, "paid", True, {})


def test_the_same_units_withdrawn_again_change_nothing_and_never_go_below_zero() -> None:
    first = withdraw(LINES, "paid", {}, {}, [("L1", 3)])

    again = withdraw(LINES, first.state, {}, first.withdrawn, [("L1", 3)])

    assert (again.withdrawn, again.changed, again.refused) == ({"L1": 3}, False, {"L1": 3})


def test_more_than_stands_is_clamped() -> None:
    outcome = withdraw(LINES, "paid", {}, {"L1": 1}, [("L1", 5), ("L9", 1)])

    assert outcome.withdrawn == {"L1": 3}
    assert outcome.refused == {"L1": 3, "L9": 1}  # 2 of 5 stood; L9 is no line of this vendor order


def test_shipped_units_cannot_be_withdrawn() -> None:
    outcome = withdraw(LINES, "partially_shipped", {"L1": 2}, {}, [("L1", 3)])

    assert (outcome.withdrawn, outcome.refused) == ({"L1": 1}, {"L1": 2})
    assert outcome.state == "partially_shipped"  # the cap is still to ship


def test_withdrawing_what_was_left_to_ship_ships_the_order() -> None:
    outcome = withdraw(LINES, "partially_shipped", {"L1": 3}, {}, [("L2", 1)])

    assert (outcome.withdrawn, outcome.state) == ({"L2": 1}, "shipped")


def test_nothing_standing_cancels_the_vendor_order() -> None:
    outcome = withdraw(LINES, "paid", {}, {"L2": 1}, [("L1", 3)])

    assert (outcome.withdrawn, outcome.state, outcome.changed) == ({"L1": 3, "L2": 1}, "cancelled", True)


def test_a_cancelled_or_shipped_vendor_order_withdraws_nothing() -> None:
    for state in ("cancelled", "shipped"):
        outcome = withdraw(LINES, state, {}, {}, [("L1", 1)])
        assert (outcome.state, outcome.changed, outcome.refused) == (state, False, {"L1": 1})


def two_lines() -> VendorOrderCreatedData:
    fields = minimal_order_fields()
    fields["lines"] = [line.model_dump(mode="json") for line in LINES]
    fields.update(tax_amount="2.00", shipping_amount="4.00", discounts=[{"code": "TEN", "amount": "1.00"}])
    return VendorOrderCreatedData.model_validate(fields)


def test_the_standing_order_drops_emptied_lines_and_its_total_follows() -> None:
    order = two_lines()

    standing = standing_order(order, {"L1": 1, "L2": 1})

    assert [(line.line_id, line.quantity) for line in standing.lines] == [("L1", 2)]
    assert order_total(order) == Decimal("38.50")  # 28.50 + 5.00 - 1.00 + 2.00 + 4.00
    assert order_total(standing) == Decimal("24.00")  # 19.00 - 1.00 + 2.00 + 4.00
    assert standing_order(order, {}) is order


def test_with_nothing_standing_the_order_is_shown_as_created() -> None:
    order = two_lines()

    assert standing_order(order, {"L1": 3, "L2": 1}) == order


def test_an_order_level_weight_shrinks_with_the_units_left() -> None:
    order = vendor_order(rich_order_fields())  # 16 ounces over 3 units, lines weighed on their own
    order = order.model_copy(update={"lines": [line.model_copy(update={"weight": None}) for line in order.lines]})

    standing = standing_order(order, {order.lines[0].line_id: 1})

    assert standing.total_weight == Decimal("10.67")  # 2 of 3 units


def test_the_standing_order_exports_valid_with_items_and_total_adding_up() -> None:
    standing = standing_order(vendor_order(rich_order_fields()), {"ln_01JC8Y3M2K7R": 1})

    body, rejected = render_export_page(
        [ExportableOrder(standing, "paid", LAST_MODIFIED)], pages=1, zone=CHICAGO, status_names=DEFAULT_STATUS_NAMES
    )

    assert rejected == []
    document = etree.fromstring(body)
    assert_valid(export_schema(), document)
    items = document.findall("Order/Items/Item")
    assert (items[0].findtext("SKU"), items[0].findtext("Quantity")) == ("TSHIRT-RED-M", "1")
    items_total = sum(
        Decimal(item.findtext("UnitPrice") or "0") * int(item.findtext("Quantity") or "0") for item in items
    )
    order_element = document.find("Order")
    assert order_element is not None
    expected = items_total + Decimal(order_element.findtext("TaxAmount") or "0")
    expected += Decimal(order_element.findtext("ShippingAmount") or "0")
    assert Decimal(order_element.findtext("OrderTotal") or "0") == expected
