"""When a ship-to change is news, when it is refused, and how the history names it."""

from __future__ import annotations

import pytest

from services.intake.domain import AddressIn
from services.intake.ship_to import ShipToClosed, history_cause, requested_address, ship_to_changes
from shared.contracts.orders import Address

STORED = {"name": "Jo Müller", "address1": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701",
          "country": "US"}  # fmt: skip


def test_a_new_address_is_news_and_the_same_one_again_is_not() -> None:
    moved = Address.model_validate({**STORED, "address1": "9 Other Street"})
    assert ship_to_changes("routed", STORED, moved) is True
    assert ship_to_changes("held", STORED, Address.model_validate(STORED)) is False
    assert ship_to_changes("received", None, moved) is True


@pytest.mark.parametrize("status", ["received", "held", "routed", "partially_shipped"])
def test_an_order_with_something_left_to_ship_takes_a_new_address(status: str) -> None:
    assert ship_to_changes(status, STORED, Address.model_validate({**STORED, "postal_code": "62704"}))


@pytest.mark.parametrize("status", ["shipped", "cancelled", "partially_cancelled"])
def test_an_order_with_nothing_left_to_ship_refuses_it(status: str) -> None:
    with pytest.raises(ShipToClosed, match=status):
        ship_to_changes(status, STORED, Address.model_validate(STORED))


def test_the_request_is_checked_like_an_orders_ship_to_and_named_without_the_street() -> None:
    request = AddressIn.model_validate({**STORED, "country": " us ", "address1": "  9 Other Street "})
    address = requested_address(request)
    assert address.country == "US" and address.address1 == "9 Other Street"
    assert history_cause(address) == "ship-to changed: now Springfield, IL, 62701, US"
    with pytest.raises(ValueError, match="state is required"):
        AddressIn.model_validate({**STORED, "state": None})
