"""Routing, free of I/O: which vendor takes each line and why, how money is shared, how an order is
split into vendor orders or held, and which vendor orders a cancellation withdraws
(services/splitter/routing.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.splitter.routing import (
    LineDecision,
    RoutingResult,
    Source,
    VendorOrderRef,
    allocate,
    plan_routing,
    route_line,
    route_order,
    split_order,
    vendor_orders_to_cancel,
)
from shared.contracts.orders import (
    Address,
    Customer,
    Discount,
    LineOption,
    OrderLine,
    OrderReceivedData,
    Party,
    WeightUnit,
)
from shared.contracts.vendor_orders import VendorOrderCreatedData

CENT = Decimal("0.01")
ZERO = Decimal("0")


# ---------------------------------------------------------------------------------------------- builders


def make_line(
    line_id: str = "L1",
    sku: str = "SKU-A",
    quantity: int = 1,
    unit_price: str = "10.00",
    **extra: Any,
) -> OrderLine:
    return OrderLine(
        line_id=line_id, sku=sku, name=f"Item {sku}", quantity=quantity, unit_price=Decimal(unit_price), **extra
    )


def make_order(
    lines: Sequence[OrderLine],
    *,
    order_number: str = "1001",
    tax: str = "0",
    shipping: str = "0",
    discounts: Sequence[tuple[str, str]] = (),
    total_weight: str | None = None,
    weight_unit: WeightUnit | None = None,
) -> OrderReceivedData:
    return OrderReceivedData(
        order_id="ord_1",
        channel="shop-main",
        external_id="5521",
        order_number=order_number,
        ordered_at=datetime(2026, 11, 27, 5, 41, tzinfo=UTC),
        status="paid",
        currency="USD",
        customer=Customer(name="Jo Müller", email="jo@example.com", phone="+1 555 0100"),
        bill_to=Party(name="Jo Müller", phone="+1 555 0100"),
        ship_to=Address(
            name="Jo Müller",
            company="Acme & Sons",
            address1="1 Main St",
            address2="Apt 4",
            city="Springfield",
            state="IL",
            postal_code="62701",
            country="US",
        ),
        shipping_method="UPS Ground",
        payment_method="Credit Card",
        tax_amount=Decimal(tax),
        shipping_amount=Decimal(shipping),
        discounts=[Discount(code=code, amount=Decimal(amount)) for code, amount in discounts],
        gift=True,
        gift_message="Happy birthday, Jo!",
        customer_notes="Leave at the back door",
        internal_notes="Fraud check passed",
        total_weight=Decimal(total_weight) if total_weight is not None else None,
        weight_unit=weight_unit,
        lines=list(lines),
    )


def counter_ids(prefix: str = "vo_") -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers)}"


def order_total(order: OrderReceivedData) -> Decimal:
    subtotal = sum((line.unit_price * line.quantity for line in order.lines), ZERO)
    discounts = sum((d.amount for d in order.discounts), ZERO)
    return subtotal + order.tax_amount + order.shipping_amount - discounts


def decided(line: OrderLine, vendor: str | None, *, vendor_sku: str | None = None) -> LineDecision:
    """A hand-made decision, for split tests that should not depend on the ranking rules."""
    return LineDecision(line.line_id, line.sku, line.quantity, vendor, vendor_sku, None, "test")


# ---------------------------------------------------------------------------------------------- route_line


@dataclass(frozen=True)
class RouteCase:
    name: str
    quantity: int
    sources: tuple[Source, ...]
    vendor: str | None


ROUTE_CASES = [
    RouteCase(
        "lowest priority number wins",
        1,
        (Source("west", stock=10, priority=2), Source("east", stock=10, priority=1)),
        "east",
    ),
    RouteCase(
        "priority beats the order sources are listed in",
        1,
        (Source("a", stock=5, priority=50), Source("b", stock=5, priority=3), Source("c", stock=5, priority=7)),
        "b",
    ),
    RouteCase(
        "equal priority: vendor code decides",
        1,
        (Source("zeta", stock=10, priority=1), Source("alpha", stock=10, priority=1)),
        "alpha",
    ),
    RouteCase(
        "untracked stock counts as in stock, whatever the quantity",
        10_000,
        (Source("dropper", stock=None, priority=1),),
        "dropper",
    ),
    RouteCase(
        "stock below quantity skips to the next source",
        3,
        (Source("east", stock=2, priority=1), Source("west", stock=5, priority=2)),
        "west",
    ),
    RouteCase(
        "stock equal to the quantity is enough",
        3,
        (Source("east", stock=3, priority=1), Source("west", stock=100, priority=2)),
        "east",
    ),
    RouteCase(
        "zero stock is skipped",
        1,
        (Source("east", stock=0, priority=1), Source("west", stock=1, priority=9)),
        "west",
    ),
    RouteCase(
        "an untracked source further down is taken when the first is short",
        4,
        (Source("east", stock=3, priority=1), Source("west", stock=None, priority=2)),
        "west",
    ),
    RouteCase(
        "default priority (100) ranks after explicit ones",
        1,
        (Source("aaa", stock=9), Source("zzz", stock=9, priority=99)),
        "zzz",
    ),
    RouteCase(
        "negative stock is never enough",
        1,
        (Source("east", stock=-4, priority=1),),
        None,
    ),
    RouteCase(
        "nobody has enough",
        5,
        (Source("east", stock=4, priority=1), Source("west", stock=0, priority=2)),
        None,
    ),
    RouteCase("no sources at all", 1, (), None),
]


@pytest.mark.parametrize("case", ROUTE_CASES, ids=[c.name for c in ROUTE_CASES])
def test_route_line_picks_the_first_ranked_source_with_stock(case: RouteCase) -> None:
    line = make_line(line_id="L7", sku="TSHIRT-RED-M", quantity=case.quantity)

    decision = route_line(line, case.sources)

    assert decision.vendor == case.vendor
    assert (decision.line_id, decision.sku, decision.quantity) == ("L7", "TSHIRT-RED-M", case.quantity)
    assert "TSHIRT-RED-M" in decision.reason
    if case.vendor is not None:
        assert case.vendor in decision.reason


def test_route_line_carries_the_chosen_sources_vendor_sku_and_cost() -> None:
    line = make_line(sku="MUG", quantity=2)
    sources = [
        Source("east", vendor_sku="E-MUG", cost=Decimal("3.10"), stock=1, priority=1),
        Source("west", vendor_sku="W-MUG", cost=Decimal("4.25"), stock=12, priority=2),
    ]

    decision = route_line(line, sources)

    assert (decision.vendor, decision.vendor_sku, decision.cost) == ("west", "W-MUG", Decimal("4.25"))
    assert "west" in decision.reason
    assert "in stock 12" in decision.reason
    assert "4.25" in decision.reason


def test_route_line_reason_says_when_stock_is_not_tracked() -> None:
    decision = route_line(make_line(sku="POSTER"), [Source("printshop", stock=None, priority=1)])

    assert decision.vendor == "printshop"
    assert "printshop" in decision.reason
    assert "not tracked" in decision.reason


def test_route_line_without_sources_names_the_sku_in_the_hold_reason() -> None:
    decision = route_line(make_line(sku="GHOST-SKU-42"), [])

    assert decision.vendor is None
    assert decision.vendor_sku is None
    assert decision.cost is None
    assert "GHOST-SKU-42" in decision.reason


def test_route_line_out_of_stock_reason_lists_every_vendor_and_level() -> None:
    line = make_line(sku="LAMP", quantity=7)
    sources = [
        Source("west", stock=6, priority=2),
        Source("east", stock=0, priority=1),
        Source("north", stock=3, priority=5),
    ]

    decision = route_line(line, sources)

    assert decision.vendor is None
    assert "LAMP" in decision.reason
    assert "7" in decision.reason
    for vendor, level in [("east", 0), ("west", 6), ("north", 3)]:
        assert f"{vendor}: {level}" in decision.reason


def test_route_line_does_not_depend_on_the_order_sources_are_given_in() -> None:
    sources = [
        Source("c", stock=1, priority=1),
        Source("b", stock=50, priority=1),
        Source("a", stock=0, priority=1),
    ]
    line = make_line(quantity=1)

    vendors = {route_line(line, list(permutation)).vendor for permutation in itertools.permutations(sources)}

    assert vendors == {"b"}


source_strategy = st.builds(
    Source,
    vendor=st.sampled_from(["acme", "bolt", "cargo", "delta", "echo"]),
    stock=st.none() | st.integers(min_value=-5, max_value=30),
    priority=st.integers(min_value=0, max_value=5),
)


@given(sources=st.lists(source_strategy, max_size=6), quantity=st.integers(min_value=1, max_value=25))
def test_route_line_agrees_with_a_brute_force_ranking(sources: list[Source], quantity: int) -> None:
    decision = route_line(make_line(quantity=quantity), sources)

    eligible = [s for s in sources if s.stock is None or s.stock >= quantity]
    if eligible:
        best = min(eligible, key=lambda s: (s.priority, s.vendor))
        assert decision.vendor == best.vendor
        assert decision.vendor in decision.reason
        # Nobody ranked strictly ahead of the winner could have taken the line.
        for source in sources:
            if (source.priority, source.vendor) < (best.priority, best.vendor):
                assert source.stock is not None
                assert source.stock < quantity
    else:
        assert decision.vendor is None
        assert "SKU-A" in decision.reason


# ---------------------------------------------------------------------------------------------- route_order


def test_route_order_decides_every_line_in_order() -> None:
    order = make_order(
        [
            make_line("L1", "A", quantity=2),
            make_line("L2", "B", quantity=1),
            make_line("L3", "A", quantity=5),
        ]
    )
    sources = {
        "A": [Source("east", stock=4, priority=1), Source("west", stock=None, priority=2)],
        "B": [Source("west", stock=1, priority=1)],
    }

    result = route_order(order, sources)

    assert [(d.line_id, d.vendor) for d in result.decisions] == [("L1", "east"), ("L2", "west"), ("L3", "west")]
    assert not result.held
    assert result.hold_reasons == ()


def test_route_order_holds_on_an_unmapped_sku_and_says_which() -> None:
    order = make_order([make_line("L1", "KNOWN"), make_line("L2", "UNMAPPED-99")])

    result = route_order(order, {"KNOWN": [Source("east", stock=5)]})

    assert result.held
    assert len(result.hold_reasons) == 1
    assert "UNMAPPED-99" in result.hold_reasons[0]
    assert result.decisions[0].vendor == "east"
    assert result.decisions[1].vendor is None


def test_route_order_collects_one_reason_per_unroutable_line() -> None:
    order = make_order([make_line("L1", "A", quantity=9), make_line("L2", "B"), make_line("L3", "C")])

    result = route_order(order, {"A": [Source("east", stock=8)], "C": [Source("west", stock=None)]})

    assert result.held
    assert len(result.hold_reasons) == 2
    assert "A" in result.hold_reasons[0] and "east: 8" in result.hold_reasons[0]
    assert "B" in result.hold_reasons[1]


def test_routing_result_is_held_only_when_a_line_has_no_vendor() -> None:
    line = make_line()
    assert not RoutingResult((decided(line, "east"),)).held
    assert RoutingResult((decided(line, "east"), decided(make_line("L2"), None))).held
    assert not RoutingResult(()).held


def test_hold_reason_joins_the_reason_of_every_line_without_a_vendor() -> None:
    held = RoutingResult(
        (decided(make_line("L1"), None), decided(make_line("L2"), "east"), decided(make_line("L3"), None))
    )
    assert held.hold_reason == "test; test"
    assert RoutingResult((decided(make_line("L1"), "east"),)).hold_reason is None


# ---------------------------------------------------------------------------------------------- plan_routing


def test_plan_routing_holds_an_order_a_line_of_which_no_vendor_can_take() -> None:
    order = make_order([make_line("L1", "KNOWN"), make_line("L2", "UNMAPPED-99")])

    outcome = plan_routing(order, {"KNOWN": [Source("east")]}, counter_ids())

    assert outcome.state == "held"
    assert outcome.hold_reason is not None and "UNMAPPED-99" in outcome.hold_reason
    assert [d.vendor for d in outcome.decisions] == ["east", None]
    assert outcome.vendor_orders == ()  # the line east could take is not sent either


def test_plan_routing_splits_an_order_every_line_of_which_has_a_vendor() -> None:
    order = make_order([make_line("L1", "A"), make_line("L2", "B")])

    outcome = plan_routing(order, {"A": [Source("east")], "B": [Source("west")]}, counter_ids())

    assert (outcome.state, outcome.hold_reason) == ("routed", None)
    assert [(v.vendor_order_id, v.vendor, v.vendor_order_number) for v in outcome.vendor_orders] == [
        ("vo_1", "east", "1001-1"),
        ("vo_2", "west", "1001-2"),
    ]


# ---------------------------------------------------------------------------------------------- cancellation


def test_a_cancellation_withdraws_the_open_vendor_orders_only() -> None:
    open_east = VendorOrderRef("vo_1", "east", "1001-1", "open")
    withdrawn = VendorOrderRef("vo_2", "west", "1001-2", "cancelled")
    open_north = VendorOrderRef("vo_3", "north", "1001-3", "open")

    assert vendor_orders_to_cancel([open_east, withdrawn, open_north]) == [open_east, open_north]
    assert vendor_orders_to_cancel([withdrawn]) == []
    assert vendor_orders_to_cancel([]) == []


# ---------------------------------------------------------------------------------------------- allocate


ALLOCATE_CASES: list[tuple[str, str, list[str], list[str]]] = [
    ("even thirds: the leftover cent goes to the earliest", "10.00", ["1", "1", "1"], ["3.34", "3.33", "3.33"]),
    ("one cent between two", "0.01", ["1", "1"], ["0.01", "0.00"]),
    ("largest remainder gets the cent", "1.00", ["1", "2"], ["0.33", "0.67"]),
    ("proportional", "6.00", ["10.00", "20.00", "30.00"], ["1.00", "2.00", "3.00"]),
    ("zero weight gets nothing", "7.00", ["0", "10.00"], ["0.00", "7.00"]),
    ("zero total", "0", ["1", "2", "3"], ["0.00", "0.00", "0.00"]),
    ("all-zero weights split evenly", "5.00", ["0", "0"], ["2.50", "2.50"]),
    ("all-zero weights, uneven cents", "1.00", ["0", "0", "0"], ["0.34", "0.33", "0.33"]),
    ("single share takes everything", "3.99", ["12.34"], ["3.99"]),
    ("tiny weight next to a huge one", "0.05", ["0.01", "1000000.00"], ["0.00", "0.05"]),
    ("more shares than cents", "0.02", ["1", "1", "1", "1"], ["0.01", "0.01", "0.00", "0.00"]),
]


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [case[1:] for case in ALLOCATE_CASES],
    ids=[case[0] for case in ALLOCATE_CASES],
)
def test_allocate_table(total: str, weights: list[str], expected: list[str]) -> None:
    shares = allocate(Decimal(total), [Decimal(w) for w in weights])

    assert shares == [Decimal(e) for e in expected]
    assert sum(shares, ZERO) == Decimal(total)


def test_allocate_with_no_weights_answers_no_shares() -> None:
    assert allocate(Decimal("5.00"), []) == []


cents = st.integers(min_value=0, max_value=10**11).map(lambda c: Decimal(c) * CENT)
weights_strategy = st.lists(
    st.one_of(st.just(ZERO), st.integers(min_value=0, max_value=10**9).map(lambda c: Decimal(c) * CENT)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=300)
@given(total=cents, weights=weights_strategy)
def test_allocate_shares_add_up_exactly_and_stay_within_a_cent_of_fair(total: Decimal, weights: list[Decimal]) -> None:
    shares = allocate(total, weights)

    assert len(shares) == len(weights)
    assert sum(shares, ZERO) == total
    assert all(share >= 0 for share in shares)
    assert all(share == share.quantize(CENT) for share in shares)
    weight_sum = sum(weights, ZERO)
    effective = weights if weight_sum > 0 else [Decimal(1)] * len(weights)
    effective_sum = sum(effective, ZERO)
    for share, weight in zip(shares, effective, strict=True):
        fair = total * weight / effective_sum
        assert abs(share - fair) < CENT
        if weight == 0:
            assert share == 0
    assert allocate(total, list(weights)) == shares  # deterministic


@given(total=cents, count=st.integers(min_value=1, max_value=30))
def test_allocate_all_zero_weights_split_evenly(total: Decimal, count: int) -> None:
    shares = allocate(total, [ZERO] * count)

    assert sum(shares, ZERO) == total
    assert max(shares) - min(shares) <= CENT
    assert shares == sorted(shares, reverse=True)  # the spare cents go to the earliest shares


# ---------------------------------------------------------------------------------------------- split_order


def three_line_order(**kwargs: Any) -> OrderReceivedData:
    return make_order(
        [
            make_line("L1", "A", quantity=2, unit_price="19.75"),
            make_line("L2", "B", quantity=1, unit_price="5.00"),
            make_line("L3", "C", quantity=3, unit_price="1.99"),
        ],
        **kwargs,
    )


SOURCES = {
    "A": [Source("east", vendor_sku="E-A", cost=Decimal("7.10"), stock=40, priority=1)],
    "B": [Source("west", vendor_sku="W-B", cost=Decimal("2.00"), stock=None, priority=1)],
    "C": [Source("east", vendor_sku="E-C", stock=10, priority=1), Source("west", stock=10, priority=2)],
}


def test_split_order_makes_one_vendor_order_per_vendor_numbered_by_first_appearance() -> None:
    order = three_line_order()

    vendor_orders = split_order(order, route_order(order, SOURCES), counter_ids())

    assert [(vo.vendor, vo.vendor_order_number, vo.vendor_order_id) for vo in vendor_orders] == [
        ("east", "1001-1", "vo_1"),
        ("west", "1001-2", "vo_2"),
    ]
    assert [line.line_id for line in vendor_orders[0].lines] == ["L1", "L3"]
    assert [line.line_id for line in vendor_orders[1].lines] == ["L2"]


def test_split_order_numbers_by_first_appearance_not_by_vendor_code() -> None:
    lines = [make_line("L1", "A"), make_line("L2", "B"), make_line("L3", "C"), make_line("L4", "D")]
    order = make_order(lines, order_number="A-77")
    result = RoutingResult(
        (decided(lines[0], "zulu"), decided(lines[1], "alpha"), decided(lines[2], "zulu"), decided(lines[3], "mike"))
    )

    vendor_orders = split_order(order, result, counter_ids())

    assert [(vo.vendor, vo.vendor_order_number) for vo in vendor_orders] == [
        ("zulu", "A-77-1"),
        ("alpha", "A-77-2"),
        ("mike", "A-77-3"),
    ]
    assert [[line.line_id for line in vo.lines] for vo in vendor_orders] == [["L1", "L3"], ["L2"], ["L4"]]


def test_split_order_asks_for_a_new_id_per_vendor_order() -> None:
    order = three_line_order()
    ids = iter(["vo_a", "vo_b", "vo_unused"])

    vendor_orders = split_order(order, route_order(order, SOURCES), lambda: next(ids))

    assert [vo.vendor_order_id for vo in vendor_orders] == ["vo_a", "vo_b"]
    assert next(ids) == "vo_unused"


def test_split_order_shares_tax_shipping_and_discounts_and_the_totals_add_up() -> None:
    order = three_line_order(tax="3.99", shipping="5.99", discounts=[("WELCOME5", "5.00"), ("VIP", "0.01")])

    vendor_orders = split_order(order, route_order(order, SOURCES), counter_ids())

    assert sum((vo.tax_amount for vo in vendor_orders), ZERO) == Decimal("3.99")
    assert sum((vo.shipping_amount for vo in vendor_orders), ZERO) == Decimal("5.99")
    for code, amount in [("WELCOME5", Decimal("5.00")), ("VIP", Decimal("0.01"))]:
        shares = [d.amount for vo in vendor_orders for d in vo.discounts if d.code == code]
        assert sum(shares, ZERO) == amount
        assert all(share > 0 for share in shares)
    assert sum((vo.order_total for vo in vendor_orders), ZERO) == order_total(order)
    # east's lines are 39.50 + 5.97 = 45.47 of 50.47: it carries most of the tax.
    east, west = vendor_orders
    assert east.tax_amount > west.tax_amount
    assert east.tax_amount == Decimal("3.59")
    assert west.tax_amount == Decimal("0.40")


def test_split_order_leaves_out_a_discount_share_of_zero() -> None:
    lines = [make_line("L1", "A", unit_price="100.00"), make_line("L2", "B", unit_price="0.01")]
    order = make_order(lines, discounts=[("ONECENT", "0.01")])
    result = RoutingResult((decided(lines[0], "east"), decided(lines[1], "west")))

    east, west = split_order(order, result, counter_ids())

    assert [(d.code, d.amount) for d in east.discounts] == [("ONECENT", Decimal("0.01"))]
    assert west.discounts == []


def test_split_order_never_discounts_a_vendor_order_below_zero_with_several_codes() -> None:
    # Each code alone would give its odd cent to the first vendor: together they would take east's
    # one-cent line to -0.01 while west kept its cent.
    lines = [make_line("L1", "A", unit_price="0.01"), make_line("L2", "B", unit_price="0.01")]
    order = make_order(lines, discounts=[("HALF", "0.01"), ("OTHER-HALF", "0.01")])
    result = RoutingResult((decided(lines[0], "east"), decided(lines[1], "west")))

    east, west = split_order(order, result, counter_ids())

    assert [(d.code, d.amount) for d in east.discounts] == [("HALF", Decimal("0.01"))]
    assert [(d.code, d.amount) for d in west.discounts] == [("OTHER-HALF", Decimal("0.01"))]
    assert (east.order_total, west.order_total) == (ZERO, ZERO)


def test_split_order_of_a_single_vendor_keeps_the_whole_order() -> None:
    order = three_line_order(
        tax="3.99", shipping="5.99", discounts=[("WELCOME5", "5.00")], total_weight="13.00", weight_unit="ounces"
    )
    result = RoutingResult(tuple(decided(line, "solo") for line in order.lines))

    (only,) = split_order(order, result, counter_ids())

    assert only.vendor_order_number == "1001-1"
    assert [line.line_id for line in only.lines] == ["L1", "L2", "L3"]
    assert (only.tax_amount, only.shipping_amount) == (Decimal("3.99"), Decimal("5.99"))
    assert [(d.code, d.amount) for d in only.discounts] == [("WELCOME5", Decimal("5.00"))]
    assert only.order_total == order_total(order)
    # No line weights: the order's own total weight still applies, as nothing was split off.
    assert (only.total_weight, only.weight_unit) == (Decimal("13.00"), "ounces")


def test_split_order_refuses_a_held_result() -> None:
    order = three_line_order()
    result = route_order(order, {"A": SOURCES["A"]})
    assert result.held

    with pytest.raises(ValueError, match="held"):
        split_order(order, result, counter_ids())


def test_split_order_carries_line_fields_and_the_routing_decision_over() -> None:
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
    plain = make_line("L2", "MUG", unit_price="8.00")
    order = make_order([rich, plain])
    sources = {
        "TSHIRT-RED-M": [Source("east", vendor_sku="TS-R-M", cost=Decimal("7.10"), stock=40, priority=1)],
        "MUG": [Source("west", vendor_sku=None, cost=None, stock=None)],
    }

    east, west = split_order(order, route_order(order, sources), counter_ids())

    (line,) = east.lines
    assert line.line_id == "L1"
    assert line.sku == "TSHIRT-RED-M"
    assert line.name == "Item TSHIRT-RED-M"
    assert line.quantity == 2
    assert line.unit_price == Decimal("19.75")
    assert line.weight == Decimal("6.50")
    assert line.weight_unit == "ounces"
    assert line.image_url == "https://cdn.example.com/t.jpg"
    assert [(o.name, o.value) for o in line.options] == [("Color", "Red"), ("Size", "M")]
    assert line.location == "A-12-3"
    assert line.upc == "012345678905"
    assert line.vendor_sku == "TS-R-M"
    assert line.cost == Decimal("7.10")
    (mug,) = west.lines
    assert (mug.sku, mug.vendor_sku, mug.cost, mug.weight, mug.upc, mug.options) == ("MUG", None, None, None, None, [])


def test_split_order_copies_the_orders_own_fields_to_every_vendor_order() -> None:
    order = three_line_order()

    vendor_orders = split_order(order, route_order(order, SOURCES), counter_ids())

    for vo in vendor_orders:
        assert vo.order_id == order.order_id
        assert vo.channel == order.channel
        assert vo.external_id == order.external_id
        assert vo.order_number == order.order_number
        assert vo.ordered_at == order.ordered_at
        assert vo.status == order.status
        assert vo.currency == order.currency
        assert vo.customer == order.customer
        assert vo.bill_to == order.bill_to
        assert vo.ship_to == order.ship_to
        assert vo.shipping_method == order.shipping_method
        assert vo.payment_method == order.payment_method
        assert vo.gift == order.gift
        assert vo.gift_message == order.gift_message
        assert vo.customer_notes == order.customer_notes
        assert vo.internal_notes == order.internal_notes


def test_split_order_weighs_each_vendor_order_by_its_own_lines() -> None:
    lines = [
        make_line("L1", "A", quantity=2, weight=Decimal("6.50"), weight_unit="ounces"),
        make_line("L2", "B", quantity=1, weight=Decimal("3.00"), weight_unit="ounces"),
        make_line("L3", "C", quantity=3, weight=Decimal("1.25"), weight_unit="ounces"),
    ]
    order = make_order(lines, total_weight="19.75", weight_unit="ounces")
    result = RoutingResult((decided(lines[0], "east"), decided(lines[1], "west"), decided(lines[2], "east")))

    east, west = split_order(order, result, counter_ids())

    assert (east.total_weight, east.weight_unit) == (Decimal("16.75"), "ounces")
    assert (west.total_weight, west.weight_unit) == (Decimal("3.00"), "ounces")


def test_split_order_without_line_weights_does_not_invent_a_split_weight() -> None:
    lines = [make_line("L1", "A"), make_line("L2", "B")]
    order = make_order(lines, total_weight="13.00", weight_unit="ounces")
    result = RoutingResult((decided(lines[0], "east"), decided(lines[1], "west")))

    east, west = split_order(order, result, counter_ids())

    assert east.total_weight is None
    assert west.total_weight is None


def test_split_order_uses_the_line_unit_when_the_order_has_none() -> None:
    lines = [make_line("L1", "A", quantity=4, weight=Decimal("250"), weight_unit="grams")]
    order = make_order(lines)

    (only,) = split_order(order, RoutingResult((decided(lines[0], "east"),)), counter_ids())

    assert (only.total_weight, only.weight_unit) == (Decimal("1000"), "grams")


@pytest.mark.parametrize(
    ("order_unit", "line_weights", "expected"),
    [
        # 2 x 6.50 oz = 13 oz = 0.8125 lb: the total is in the unit the vendor order states.
        ("pounds", [("6.50", "ounces", 2)], ("0.8125", "pounds")),
        ("ounces", [("1.00", "pounds", 1), ("2.00", "ounces", 1)], ("18.00", "ounces")),
        ("grams", [("1.00", "pounds", 1)], ("453.59237", "grams")),
        (None, [("1.00", "pounds", 1), ("8.00", "ounces", 2)], ("2.00", "pounds")),
    ],
    ids=["ounce-lines-in-a-pound-order", "mixed-into-ounces", "pounds-into-grams", "first-line-unit-wins"],
)
def test_split_order_weight_is_expressed_in_the_vendor_orders_unit(
    order_unit: WeightUnit | None,
    line_weights: list[tuple[str, WeightUnit, int]],
    expected: tuple[str, WeightUnit],
) -> None:
    lines = [
        make_line(f"L{i}", f"S{i}", quantity=quantity, weight=Decimal(weight), weight_unit=unit)
        for i, (weight, unit, quantity) in enumerate(line_weights, start=1)
    ]
    order = make_order(lines, weight_unit=order_unit)

    (only,) = split_order(order, RoutingResult(tuple(decided(line, "east") for line in lines)), counter_ids())

    assert only.weight_unit == expected[1]
    assert only.total_weight is not None
    assert abs(only.total_weight - Decimal(expected[0])) < Decimal("0.0001")


@st.composite
def routed_orders(draw: st.DrawFn) -> tuple[OrderReceivedData, RoutingResult]:
    count = draw(st.integers(min_value=1, max_value=12))
    lines = [
        make_line(
            f"L{i}",
            f"SKU-{i}",
            quantity=draw(st.integers(min_value=1, max_value=50)),
            unit_price=str(Decimal(draw(st.integers(min_value=0, max_value=100_000))) * CENT),
        )
        for i in range(1, count + 1)
    ]
    subtotal_cents = sum(int(line.unit_price * 100) * line.quantity for line in lines)
    discount_cents = draw(st.lists(st.integers(min_value=0, max_value=max(subtotal_cents, 0)), max_size=3))
    # Discounts never exceed the subtotal (intake refuses that order): scale them down to fit.
    if sum(discount_cents) > subtotal_cents:
        discount_cents = [c * subtotal_cents // sum(discount_cents) for c in discount_cents]
    order = make_order(
        lines,
        order_number=draw(st.sampled_from(["1001", "A-77", "#5"])),
        tax=str(Decimal(draw(st.integers(min_value=0, max_value=100_000))) * CENT),
        shipping=str(Decimal(draw(st.integers(min_value=0, max_value=100_000))) * CENT),
        discounts=[(f"D{i}", str(Decimal(c) * CENT)) for i, c in enumerate(discount_cents)],
    )
    vendors = draw(st.lists(st.sampled_from(["east", "west", "north", "south"]), min_size=count, max_size=count))
    result = RoutingResult(tuple(decided(line, vendor) for line, vendor in zip(lines, vendors, strict=True)))
    return order, result


@settings(max_examples=200)
@given(routed=routed_orders())
def test_split_order_properties(routed: tuple[OrderReceivedData, RoutingResult]) -> None:
    order, result = routed

    vendor_orders = split_order(order, result, counter_ids())

    first_appearance = list(dict.fromkeys(d.vendor for d in result.decisions))
    assert [vo.vendor for vo in vendor_orders] == first_appearance
    assert [vo.vendor_order_number for vo in vendor_orders] == [
        f"{order.order_number}-{n}" for n in range(1, len(first_appearance) + 1)
    ]
    assert len({vo.vendor_order_id for vo in vendor_orders}) == len(vendor_orders)
    vendor_of = {d.line_id: d.vendor for d in result.decisions}
    seen = [line.line_id for vo in vendor_orders for line in vo.lines]
    assert sorted(seen) == sorted(line.line_id for line in order.lines)
    for vo in vendor_orders:
        assert all(vendor_of[line.line_id] == vo.vendor for line in vo.lines)
        assert vo.tax_amount >= 0 and vo.shipping_amount >= 0
        subtotal = sum((line.unit_price * line.quantity for line in vo.lines), ZERO)
        assert sum((d.amount for d in vo.discounts), ZERO) <= subtotal
    assert sum((vo.tax_amount for vo in vendor_orders), ZERO) == order.tax_amount
    assert sum((vo.shipping_amount for vo in vendor_orders), ZERO) == order.shipping_amount
    for discount in order.discounts:
        shared = sum((d.amount for vo in vendor_orders for d in vo.discounts if d.code == discount.code), ZERO)
        assert shared == discount.amount
    assert sum((vo.order_total for vo in vendor_orders), ZERO) == order_total(order)


def test_vendor_orders_are_valid_contract_payloads() -> None:
    order = three_line_order(tax="1.00", discounts=[("X", "2.00")])

    for vo in split_order(order, route_order(order, SOURCES), counter_ids()):
        again = VendorOrderCreatedData.model_validate_json(vo.model_dump_json())
        assert again == vo
