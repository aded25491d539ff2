"""JSON as stored in json/jsonb columns: fast, and exact for every value an order can carry."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shared.db import dumps, loads

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def test_money_is_stored_as_its_exact_text() -> None:
    assert loads(dumps({"price": Decimal("19.90"), "tax": Decimal("0.000001")})) == {
        "price": "19.90",
        "tax": "0.000001",
    }


def test_integers_wider_than_64_bits_survive_both_ways() -> None:
    value = {"n": 2**70, "lines": [{"quantity": -(2**65)}]}
    text = dumps(value)
    assert "1180591620717411303424" in text
    assert loads(text) == value
    assert isinstance(loads(text)["n"], int)


def test_long_digit_strings_such_as_tracking_numbers_stay_strings() -> None:
    value = {"tracking_number": "9400111899223100000000123", "name": "Zoë"}
    assert loads(dumps(value)) == value


@given(json_values)
def test_whatever_is_dumped_loads_back_equal(value: object) -> None:
    assert loads(dumps(value)) == value
