"""Money at the HTTP edge (shared/money.py): decimal strings with at most two places, never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.money import Money, NonNegativeMoney, parse_money, parse_non_negative_money, two_places

GOOD = [
    ("19.99", Decimal("19.99")),
    ("0", Decimal("0")),
    ("0.00", Decimal("0")),
    ("5", Decimal("5")),
    ("5.5", Decimal("5.5")),
    ("-1.00", Decimal("-1")),
    ("000012.30", Decimal("12.3")),
    ("999999999.99", Decimal("999999999.99")),
]

BAD: list[tuple[str, Any]] = [
    ("float", 19.99),
    ("int", 20),
    ("Decimal from a JSON number", Decimal("19.99")),
    ("bool", True),
    ("None", None),
    ("list", ["1.00"]),
    ("three places", "1.999"),
    ("empty", ""),
    ("blank", "   "),
    ("letters", "abc"),
    ("exponent", "1e3"),
    ("comma decimal", "1,50"),
    ("thousands separator", "1,000.00"),
    ("currency sign", "$5.00"),
    ("currency code", "5.00 USD"),
    ("leading dot", ".50"),
    ("trailing dot", "5."),
    ("plus sign", "+5.00"),
    ("surrounding spaces (the documented pattern has none)", "  7.25  "),
    ("digits of another script", "\u0661\u0662.\u0663\u0664"),
    ("ten integer digits", "1234567890"),
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("two dots", "1.2.3"),
    ("inner space", "1 000"),
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[g[0] for g in GOOD])
def test_parse_money_accepts_decimal_strings(text: str, expected: Decimal) -> None:
    amount = parse_money(text)

    assert isinstance(amount, Decimal)
    assert amount == expected


@pytest.mark.parametrize("value", [b[1] for b in BAD], ids=[b[0] for b in BAD])
def test_parse_money_refuses(value: Any) -> None:
    with pytest.raises(ValueError, match="money must be"):
        parse_money(value)


@pytest.mark.parametrize("value", [19.99, 20, Decimal("1.00"), False])
def test_parse_money_says_numbers_are_not_accepted(value: Any) -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_money(value)


@pytest.mark.parametrize(
    ("text", "expected"), [("0", Decimal("0")), ("0.01", Decimal("0.01")), ("12.30", Decimal("12.3"))]
)
def test_parse_non_negative_money_accepts_zero_and_more(text: str, expected: Decimal) -> None:
    assert parse_non_negative_money(text) == expected


@pytest.mark.parametrize("text", ["-0.01", "-1.00", "-999999999", "-0", "-0.00"])
def test_parse_non_negative_money_refuses_negative_amounts(text: str) -> None:
    with pytest.raises(ValueError, match="negative"):
        parse_non_negative_money(text)


@pytest.mark.parametrize("value", [1.0, "1.001", "x"])
def test_parse_non_negative_money_still_refuses_what_parse_money_refuses(value: Any) -> None:
    with pytest.raises(ValueError, match="money must be"):
        parse_non_negative_money(value)


TWO_PLACES = [
    (Decimal("19.99"), "19.99"),
    (Decimal("5"), "5.00"),
    (Decimal("5.5"), "5.50"),
    (Decimal("0"), "0.00"),
    (Decimal("-1"), "-1.00"),
    (Decimal("1E+2"), "100.00"),
    (Decimal("2.675"), "2.68"),  # half-even: 2.675 → 2.68 (7 is odd)
    (Decimal("2.665"), "2.66"),  # half-even: 2.665 → 2.66
    (Decimal("0.0049"), "0.00"),
]


@pytest.mark.parametrize(("amount", "text"), TWO_PLACES, ids=[t[1] + "<-" + str(t[0]) for t in TWO_PLACES])
def test_two_places(amount: Decimal, text: str) -> None:
    assert two_places(amount) == text


@given(st.integers(min_value=-(10**11) + 1, max_value=10**11 - 1))
def test_money_round_trips_through_two_places(cents: int) -> None:
    amount = Decimal(cents) / 100

    text = two_places(amount)

    assert parse_money(text) == amount
    assert len(text.split(".")[1]) == 2
    assert "E" not in text


class _Priced(BaseModel):
    price: Money
    fee: NonNegativeMoney


def test_annotated_types_plug_into_pydantic_with_field_locations() -> None:
    priced = _Priced.model_validate({"price": "-2.50", "fee": "0.10"})
    assert (priced.price, priced.fee) == (Decimal("-2.5"), Decimal("0.1"))

    with pytest.raises(ValidationError) as error:
        _Priced.model_validate({"price": 2.5, "fee": "-0.10"})

    assert {e["loc"] for e in error.value.errors()} == {("price",), ("fee",)}
