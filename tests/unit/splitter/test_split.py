"""Allocations into vendor orders: numbering, the share of tax, shipping and discounts to the cent,
lines split across vendors, reroutes of part of an order, and weights
(services/splitter/routing/split.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

from services.splitter.routing.model import Allocation
from services.splitter.routing.split import split_order, vendor_order_number
from shared.contracts.orders import LineOption, OrderLine, OrderReceivedData, WeightUnit
from shared.contracts.vendor_orders import VendorOrderCreatedData
from tests.unit.test_routing import ZERO, counter_ids, make_line, make_order, order_total


def given(
    line: OrderLine,
    vendor: str,
    quantity: int | None = None,
    *,
    vendor_sku: str | None = None,
    cost: Decimal | None = None,
    backorder: bool = False,
) -> Allocation:
    """A hand-made allocation, so these tests do not depend on the ranking rules."""
    units = line.quantity if quantity is None else quantity
    return Allocation(line.line_id, line.sku, units, vendor, vendor_sku, cost, "test", backorder)


def split(order: OrderReceivedData, allocations: Sequence[Allocation], first: int = 1) -> list[VendorOrderCreatedData]:
    return split_order(order, allocations, first_sequence=first, new_vendor_order_id=counter_ids())


def three_line_order(**kwargs: Any) -> OrderReceivedData:
    return make_order(
        [
            make_line("L1", "A", quantity=2, unit_price="19.75"),
            make_line("L2", "B", quantity=1, unit_price="5.00"),
            make_line("L3", "C", quantity=3, unit_price="1.99"),
        ],
        **kwargs,
    )


def east_west(order: OrderReceivedData) -> list[Allocation]:
    first, second, third = order.lines
    return [given(first, "east"), given(second, "west"), given(third, "east")]


# ---------------------------------------------------------------------------------------------- numbering


@pytest.mark.parametrize(
    ("order_number", "sequence", "expected"),
    [
        ("1001", 1, "1001-1"),
        ("#1001", 2, "1001-2"),
        ("##7", 1, "-7-1"),
        ("A-77", 3, "A-77-3"),
        ("SO 12/34", 1, "SO-12-34-1"),
        ("shop.de_99", 4, "shop.de_99-4"),
        ("Müller#5", 1, "M-ller-5-1"),
        ("../etc", 1, "..-etc-1"),
        ("1001", 12, "1001-12"),
    ],
    ids=["plain", "leading hash", "only the leading hash", "dashes kept", "space and slash", "dot and underscore",
         "non-ascii and inner hash", "path separators", "two digits"],
)  # fmt: skip
def test_vendor_order_number(order_number: str, sequence: int, expected: str) -> None:
    assert vendor_order_number(order_number, sequence) == expected


def test_vendor_orders_are_numbered_by_first_appearance_from_the_first_sequence() -> None:
    lines = [make_line("L1", "A"), make_line("L2", "B"), make_line("L3", "C"), make_line("L4", "D")]
    order = make_order(lines, order_number="#A 77")
    allocations = [given(lines[0], "zulu"), given(lines[1], "alpha"), given(lines[2], "zulu"), given(lines[3], "mike")]

    vendor_orders = split(order, allocations, first=3)

    assert [(vo.vendor, vo.vendor_order_number, vo.vendor_order_id) for vo in vendor_orders] == [
        ("zulu", "A-77-3", "vo_1"),
        ("alpha", "A-77-4", "vo_2"),
        ("mike", "A-77-5", "vo_3"),
    ]
    assert [[line.line_id for line in vo.lines] for vo in vendor_orders] == [["L1", "L3"], ["L2"], ["L4"]]
    assert all(vo.order_number == "#A 77" for vo in vendor_orders)


def test_no_allocations_make_no_vendor_orders() -> None:
    assert split(three_line_order(tax="1.00"), []) == []


# ---------------------------------------------------------------------------------------------- money


def test_tax_shipping_and_discounts_are_shared_to_the_cent() -> None:
    order = three_line_order(tax="3.99", shipping="5.99", discounts=[("WELCOME5", "5.00"), ("VIP", "0.01")])

    east, west = split(order, east_west(order))

    # east's lines are 39.50 + 5.97 = 45.47 of 50.47.
    assert (east.tax_amount, west.tax_amount) == (Decimal("3.59"), Decimal("0.40"))
    assert (east.shipping_amount, west.shipping_amount) == (Decimal("5.40"), Decimal("0.59"))
    assert [(d.code, d.amount) for d in east.discounts] == [("WELCOME5", Decimal("4.50")), ("VIP", Decimal("0.01"))]
    assert [(d.code, d.amount) for d in west.discounts] == [("WELCOME5", Decimal("0.50"))]
    assert east.order_total + west.order_total == order_total(order)


def test_a_discount_share_of_zero_is_left_out() -> None:
    lines = [make_line("L1", "A", unit_price="100.00"), make_line("L2", "B", unit_price="0.01")]
    order = make_order(lines, discounts=[("ONECENT", "0.01")])

    east, west = split(order, [given(lines[0], "east"), given(lines[1], "west")])

    assert [(d.code, d.amount) for d in east.discounts] == [("ONECENT", Decimal("0.01"))]
    assert west.discounts == []


def test_several_discounts_never_take_a_vendor_order_below_zero() -> None:
    # Each code alone would give its odd cent to the first vendor: together they would take east's
    # one-cent line to -0.01 while west kept its cent.
    lines = [make_line("L1", "A", unit_price="0.01"), make_line("L2", "B", unit_price="0.01")]
    order = make_order(lines, discounts=[("HALF", "0.01"), ("OTHER-HALF", "0.01")])

    east, west = split(order, [given(lines[0], "east"), given(lines[1], "west")])

    assert [(d.code, d.amount) for d in east.discounts] == [("HALF", Decimal("0.01"))]
    assert [(d.code, d.amount) for d in west.discounts] == [("OTHER-HALF", Decimal("0.01"))]
    assert (east.order_total, west.order_total) == (ZERO, ZERO)


def test_a_single_vendor_keeps_the_whole_order() -> None:
    order = three_line_order(
        tax="3.99", shipping="5.99", discounts=[("WELCOME5", "5.00")], total_weight="13.00", weight_unit="ounces"
    )

    (only,) = split(order, [given(line, "solo") for line in order.lines])

    assert only.vendor_order_number == "1001-1"
    assert [(line.line_id, line.quantity) for line in only.lines] == [("L1", 2), ("L2", 1), ("L3", 3)]
    assert (only.tax_amount, only.shipping_amount) == (Decimal("3.99"), Decimal("5.99"))
    assert [(d.code, d.amount) for d in only.discounts] == [("WELCOME5", Decimal("5.00"))]
    assert only.order_total == order_total(order)
    # No line weights: the order's own total weight still applies, as nothing was split off.
    assert (only.total_weight, only.weight_unit) == (Decimal("13.00"), "ounces")


# ---------------------------------------------------------------------------------------------- split lines


def test_a_line_split_across_vendors_appears_in_each_with_its_part() -> None:
    shirt = make_line("L1", "SHIRT", quantity=5, unit_price="10.00", weight=Decimal("6.50"), weight_unit="ounces")
    mug = make_line("L2", "MUG", quantity=1, unit_price="10.00")
    order = make_order([shirt, mug], tax="6.00", shipping="3.00")
    allocations = [
        given(shirt, "east", 3, vendor_sku="E-SH", cost=Decimal("4.10")),
        given(shirt, "west", 2, vendor_sku="W-SH", cost=Decimal("4.80")),
        given(mug, "east", vendor_sku="E-MUG"),
    ]

    east, west = split(order, allocations)

    assert [(li.line_id, li.sku, li.quantity, li.vendor_sku, li.cost) for li in east.lines] == [
        ("L1", "SHIRT", 3, "E-SH", Decimal("4.10")),
        ("L2", "MUG", 1, "E-MUG", None),
    ]
    assert [(li.line_id, li.sku, li.quantity, li.vendor_sku, li.cost) for li in west.lines] == [
        ("L1", "SHIRT", 2, "W-SH", Decimal("4.80")),
    ]
    assert {li.unit_price for vo in (east, west) for li in vo.lines} == {Decimal("10.00")}
    assert (east.tax_amount, west.tax_amount) == (Decimal("4.00"), Decimal("2.00"))
    assert (east.shipping_amount, west.shipping_amount) == (Decimal("2.00"), Decimal("1.00"))
    assert (east.total_weight, west.total_weight) == (Decimal("19.50"), Decimal("13.00"))


def test_two_allocations_of_a_line_to_one_vendor_are_one_line() -> None:
    shirt = make_line("L1", "SHIRT", quantity=5)
    order = make_order([shirt])
    allocations = [
        given(shirt, "east", 2, vendor_sku="E-SH"),
        given(shirt, "west", 1),
        given(shirt, "east", 2, backorder=True),
    ]

    east, west = split(order, allocations)

    assert [(li.line_id, li.quantity, li.vendor_sku) for li in east.lines] == [("L1", 4, "E-SH")]
    assert [(li.line_id, li.quantity) for li in west.lines] == [("L1", 1)]


@pytest.mark.parametrize(
    "allocations",
    [
        [Allocation("L9", "A", 1, "east", None, None, "test")],
        [Allocation("L1", "A", 3, "east", None, None, "test")],
        [Allocation("L1", "A", 1, "east", None, None, "test"), Allocation("L1", "A", 2, "west", None, None, "test")],
        [Allocation("L1", "A", 0, "east", None, None, "test")],
    ],
    ids=["unknown line", "more than the line", "more than the line in two parts", "no units"],
)
def test_allocations_that_do_not_fit_the_order_are_refused(allocations: list[Allocation]) -> None:
    order = make_order([make_line("L1", "A", quantity=2)])

    with pytest.raises(ValueError, match=r"L[19]"):
        split(order, allocations)


# ---------------------------------------------------------------------------------------------- reroutes


def test_a_rerouted_line_carries_the_share_its_units_had() -> None:
    order = three_line_order(tax="3.99", shipping="5.99", discounts=[("WELCOME5", "5.00")])
    _, full_west = split(order, east_west(order))

    (rerouted,) = split(order, [given(order.lines[1], "north")], first=3)

    assert (rerouted.vendor, rerouted.vendor_order_number) == ("north", "1001-3")
    assert [(li.line_id, li.quantity) for li in rerouted.lines] == [("L2", 1)]
    # L2 alone was west's vendor order: the reroute carries exactly what west had.
    assert (rerouted.tax_amount, rerouted.shipping_amount) == (full_west.tax_amount, full_west.shipping_amount)
    assert rerouted.discounts == full_west.discounts
    assert rerouted.total_weight is None


def test_a_reroute_of_part_of_a_line_shares_by_those_units() -> None:
    order = make_order(
        [make_line("L1", "A", quantity=4, unit_price="10.00"), make_line("L2", "B", quantity=1, unit_price="60.00")],
        tax="10.00",
        shipping="5.00",
        discounts=[("TEN", "10.00")],
    )

    (rerouted,) = split(order, [given(order.lines[0], "west", 1)], first=2)

    # 10.00 of 100.00: a tenth of everything.
    assert [(li.line_id, li.quantity) for li in rerouted.lines] == [("L1", 1)]
    assert (rerouted.tax_amount, rerouted.shipping_amount) == (Decimal("1.00"), Decimal("0.50"))
    assert [(d.code, d.amount) for d in rerouted.discounts] == [("TEN", Decimal("1.00"))]


# ---------------------------------------------------------------------------------------------- fields, weight


def test_line_fields_and_the_allocation_are_carried_over() -> None:
    rich = make_line(
        "L1",
        "TSHIRT-RED-M",
        quantity=2,
        unit_price="19.75",
        weight=Decimal("6.50"),
        weight_unit="ounces",
        image_url="https://cdn.example.com/t.jpg",
        options=[LineOption(name="Color", value="Red"), LineOption(name="Size", value="M")],
        location="A-12-3",
        upc="012345678905",
    )
    order = make_order([rich])

    (only,) = split(order, [given(rich, "east", vendor_sku="TS-R-M", cost=Decimal("7.10"))])

    (line,) = only.lines
    assert line.model_dump() == {**rich.model_dump(), "vendor_sku": "TS-R-M", "cost": Decimal("7.10")}


def test_the_orders_own_fields_go_to_every_vendor_order() -> None:
    order = three_line_order()
    own = {name for name in OrderReceivedData.model_fields} - {
        "lines", "tax_amount", "shipping_amount", "discounts", "total_weight", "weight_unit",
    }  # fmt: skip

    for vo in split(order, east_west(order)):
        assert {name: getattr(vo, name) for name in own} == {name: getattr(order, name) for name in own}
        assert VendorOrderCreatedData.model_validate_json(vo.model_dump_json()) == vo


def test_each_vendor_order_is_weighed_by_its_own_lines() -> None:
    lines = [
        make_line("L1", "A", quantity=2, weight=Decimal("6.50"), weight_unit="ounces"),
        make_line("L2", "B", quantity=1, weight=Decimal("3.00"), weight_unit="ounces"),
        make_line("L3", "C", quantity=3, weight=Decimal("1.25"), weight_unit="ounces"),
    ]
    order = make_order(lines, total_weight="19.75", weight_unit="ounces")

    east, west = split(order, [given(lines[0], "east"), given(lines[1], "west"), given(lines[2], "east")])

    assert (east.total_weight, east.weight_unit) == (Decimal("16.75"), "ounces")
    assert (west.total_weight, west.weight_unit) == (Decimal("3.00"), "ounces")


@pytest.mark.parametrize(
    "allocations",
    [
        lambda lines: [given(lines[0], "east"), given(lines[1], "west")],
        lambda lines: [given(lines[0], "east", 1), given(lines[0], "west", 1), given(lines[1], "east")],
    ],
    ids=["lines to two vendors", "one line split"],
)
def test_without_line_weights_no_split_weight_is_invented(
    allocations: Callable[[list[OrderLine]], list[Allocation]],
) -> None:
    lines = [make_line("L1", "A", quantity=2), make_line("L2", "B")]
    order = make_order(lines, total_weight="13.00", weight_unit="ounces")

    vendor_orders = split(order, allocations(lines))

    assert [vo.total_weight for vo in vendor_orders] == [None, None]


@pytest.mark.parametrize(
    ("order_unit", "line_weights", "expected"),
    [
        # 2 x 6.50 oz = 13 oz = 0.8125 lb: the total is in the unit the vendor order states.
        ("pounds", [("6.50", "ounces", 2)], ("0.8125", "pounds")),
        ("ounces", [("1.00", "pounds", 1), ("2.00", "ounces", 1)], ("18.00", "ounces")),
        ("grams", [("1.00", "pounds", 1)], ("453.59237", "grams")),
        (None, [("1.00", "pounds", 1), ("8.00", "ounces", 2)], ("2.00", "pounds")),
        (None, [("250", "grams", 4)], ("1000", "grams")),
    ],
    ids=["ounce-lines-in-a-pound-order", "mixed-into-ounces", "pounds-into-grams", "first-line-unit-wins",
         "line-unit-when-the-order-has-none"],
)  # fmt: skip
def test_weight_is_expressed_in_the_vendor_orders_unit(
    order_unit: WeightUnit | None, line_weights: list[tuple[str, WeightUnit, int]], expected: tuple[str, WeightUnit]
) -> None:
    lines = [
        make_line(f"L{i}", f"S{i}", quantity=quantity, weight=Decimal(weight), weight_unit=unit)
        for i, (weight, unit, quantity) in enumerate(line_weights, start=1)
    ]
    order = make_order(lines, weight_unit=order_unit)

    (only,) = split(order, [given(line, "east") for line in lines])

    assert only.weight_unit == expected[1]
    assert only.total_weight is not None
    assert abs(only.total_weight - Decimal(expected[0])) < Decimal("0.0001")
