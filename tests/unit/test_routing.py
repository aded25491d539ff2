"""Money shared out by routing (allocate: largest remainder, to the cent) and the order builders the
splitter's unit tests share (services/splitter/routing/split.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.splitter.routing.split import allocate
from shared.contracts.orders import Address, Customer, Discount, OrderLine, OrderReceivedData, Party, WeightUnit

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
