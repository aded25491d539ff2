"""Routing's promises over random catalogs, orders and settings: every line allocated in full or held,
never to a vendor that may not take it, never beyond fresh stock unless backordered, the money of the
vendor orders adding up to the cent, and the same answer for the same question
(services/splitter/routing/strategies.py, split.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.splitter.routing.model import (
    STRATEGIES,
    LineRouting,
    LineToRoute,
    RoutingInput,
    RoutingSettings,
    Source,
    VendorProfile,
)
from services.splitter.routing.split import split_order
from services.splitter.routing.stock import availability
from services.splitter.routing.strategies import route_lines
from shared.contracts.orders import OrderReceivedData
from tests.unit.splitter.test_strategies import NOW
from tests.unit.test_routing import CENT, ZERO, counter_ids, make_line, make_order, order_total

VENDORS = ("acme", "bolt", "cargo", "delta")
SKUS = ("S1", "S2", "S3", "S4")
COUNTRIES = ("US", "CA", "DE")
money = st.integers(min_value=0, max_value=50_000).map(lambda cents: Decimal(cents) * CENT)

profiles = st.builds(
    VendorProfile,
    code=st.just(""),
    active=st.sampled_from([True, True, True, False]),
    countries=st.just(frozenset()) | st.frozensets(st.sampled_from(COUNTRIES), min_size=1, max_size=2),
    accepts_backorders=st.booleans(),
    handling_fee=st.integers(min_value=0, max_value=300).map(lambda cents: Decimal(cents) * CENT),
    stock_buffer=st.integers(min_value=0, max_value=3),
    feed_stale_after_hours=st.sampled_from([None, None, 24, 48]),
)


@st.composite
def sources(draw: st.DrawFn) -> tuple[Source, ...]:
    # "ghost" is a vendor the catalog names but routing has no profile for.
    vendors = draw(st.lists(st.sampled_from((*VENDORS, *VENDORS, "ghost")), unique=True, min_size=1, max_size=4))
    return tuple(
        Source(
            vendor,
            vendor_sku=f"{vendor}-sku",
            cost=draw(st.none() | money),
            stock=draw(st.none() | st.integers(min_value=-2, max_value=25)),
            priority=draw(st.integers(min_value=0, max_value=4)),
            stock_as_of=draw(
                st.none() | st.integers(min_value=0, max_value=72).map(lambda h: NOW - timedelta(hours=h))
            ),
            reserved=draw(st.integers(min_value=0, max_value=5)),
        )
        for vendor in vendors
    )


@st.composite
def routing_inputs(draw: st.DrawFn) -> RoutingInput:
    vendors = {code: replace(draw(profiles), code=code) for code in VENDORS}
    # Mostly mapped: one SKU of the four may be missing from the catalog.
    catalog = {sku: draw(sources()) for sku in draw(st.lists(st.sampled_from(SKUS), unique=True, min_size=3))}
    count = draw(st.integers(min_value=1, max_value=5))
    lines = tuple(
        LineToRoute(
            f"L{index}",
            draw(st.sampled_from(SKUS)),
            draw(st.integers(min_value=1, max_value=20)),
            draw(st.just(frozenset()) | st.frozensets(st.sampled_from(VENDORS), max_size=2)),
        )
        for index in range(1, count + 1)
    )
    strategy = draw(st.sampled_from(STRATEGIES))
    chosen = RoutingSettings(strategy, prefer_single_vendor=draw(st.booleans()), split_quantities=draw(st.booleans()))
    country = draw(st.sampled_from((*COUNTRIES, "us")))
    return RoutingInput(lines, country, catalog, vendors, chosen, NOW)


def reversed_sources(request: RoutingInput) -> RoutingInput:
    catalog = {sku: tuple(reversed(found)) for sku, found in reversed(list(request.sources_by_sku.items()))}
    vendors = dict(reversed(list(request.vendors.items())))
    return RoutingInput(request.lines, request.country, catalog, vendors, request.settings, request.now)


@settings(max_examples=120, deadline=None)
@given(request=routing_inputs())
def test_every_line_is_allocated_in_full_or_held_and_only_where_it_may_go(request: RoutingInput) -> None:
    routing = route_lines(request)

    units: dict[str, int] = defaultdict(int)
    for allocation in routing.allocations:
        units[allocation.line_id] += allocation.quantity
    held = [hold.line_id for hold in routing.holds]
    assert len(held) == len(set(held))
    for line in request.lines:
        assert (line.line_id in held) != (line.line_id in units), line
        if line.line_id in units:
            assert units[line.line_id] == line.quantity
    order = [line.line_id for line in request.lines]
    assert [a.line_id for a in routing.allocations] == sorted((a.line_id for a in routing.allocations), key=order.index)
    lines = {line.line_id: line for line in request.lines}
    for allocation in routing.allocations:
        line = lines[allocation.line_id]
        vendor = request.vendors[allocation.vendor]
        source = next(s for s in request.sources_by_sku[line.sku] if s.vendor == allocation.vendor)
        assert vendor.active and vendor.ships_to(request.country) and allocation.vendor not in line.excluded
        assert allocation.quantity > 0 and (allocation.vendor_sku, allocation.cost) == (source.vendor_sku, source.cost)
        assert f"SKU {line.sku} → {allocation.vendor}: " in allocation.reason
        stock = availability(source, vendor, request.now)
        if allocation.backorder:
            assert request.settings.strategy == "lowest_cost_backorder" and vendor.accepts_backorders
        elif stock.tracked:
            assert not stock.stale and stock.units is not None and allocation.quantity <= stock.units


@settings(max_examples=60, deadline=None)
@given(request=routing_inputs())
def test_the_same_question_gets_the_same_answer(request: RoutingInput) -> None:
    first = route_lines(request)

    assert route_lines(request) == first
    assert route_lines(reversed_sources(request)) == first


@st.composite
def routed_orders(draw: st.DrawFn) -> tuple[OrderReceivedData, LineRouting]:
    request = draw(routing_inputs())
    lines = [
        make_line(line.line_id, line.sku, quantity=line.quantity, unit_price=str(draw(money))) for line in request.lines
    ]
    subtotal = sum((line.unit_price * line.quantity for line in lines), ZERO)
    discounts = draw(st.lists(money, max_size=3))
    # Discounts never exceed the subtotal (intake refuses that order): scale them down to fit.
    if sum(discounts, ZERO) > subtotal:
        scale = subtotal / sum(discounts, ZERO)
        discounts = [(amount * scale).quantize(CENT, rounding=ROUND_DOWN) for amount in discounts]
    order = make_order(
        lines,
        order_number=draw(st.sampled_from(["1001", "#A 77", "x/y"])),
        tax=str(draw(money)),
        shipping=str(draw(money)),
        discounts=[(f"D{index}", str(amount)) for index, amount in enumerate(discounts)],
    )
    return order, route_lines(request)


@settings(max_examples=80, deadline=None)
@given(routed=routed_orders(), first_sequence=st.integers(min_value=1, max_value=5))
def test_vendor_orders_share_the_orders_money_to_the_cent(
    routed: tuple[OrderReceivedData, LineRouting], first_sequence: int
) -> None:
    order, routing = routed

    vendor_orders = split_order(
        order, routing.allocations, first_sequence=first_sequence, new_vendor_order_id=counter_ids()
    )

    assert [vo.vendor for vo in vendor_orders] == list(dict.fromkeys(a.vendor for a in routing.allocations))
    numbers = [vo.vendor_order_number for vo in vendor_orders]
    assert [int(number.rsplit("-", 1)[1]) for number in numbers] == list(
        range(first_sequence, first_sequence + len(vendor_orders))
    )
    assert all(
        set(number) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") for number in numbers
    )
    sent: dict[str, int] = defaultdict(int)
    for vo in vendor_orders:
        assert len({line.line_id for line in vo.lines}) == len(vo.lines)
        for line in vo.lines:
            sent[line.line_id] += line.quantity
        assert vo.tax_amount >= 0 and vo.shipping_amount >= 0 and vo.order_total >= 0
    allocated: dict[str, int] = defaultdict(int)
    for allocation in routing.allocations:
        allocated[allocation.line_id] += allocation.quantity
    assert sent == allocated
    tax = sum((vo.tax_amount for vo in vendor_orders), ZERO)
    shipping = sum((vo.shipping_amount for vo in vendor_orders), ZERO)
    per_code = {d.code: sum((x.amount for vo in vendor_orders for x in vo.discounts if x.code == d.code), ZERO)
                for d in order.discounts}  # fmt: skip
    if routing.held:
        assert tax <= order.tax_amount and shipping <= order.shipping_amount
        assert all(per_code[d.code] <= d.amount for d in order.discounts)
    else:
        assert (tax, shipping) == (order.tax_amount, order.shipping_amount)
        assert all(per_code[d.code] == d.amount for d in order.discounts)
        assert sum((vo.order_total for vo in vendor_orders), ZERO) == order_total(order)
