"""Where an order ships to, changed after intake took it (``POST /v1/orders/{id}/ship_to``): when a
change is news, when it is refused, and how the order's history names it. Pure: no I/O.

The body is the order's own ``ship_to`` object (:class:`~services.intake.domain.AddressIn`), checked the
same way as on ``POST /v1/orders``. The same address again is no change: nothing is stored or announced.
"""

from __future__ import annotations

from typing import Any

from services.intake.domain import AddressIn, IntakeError
from shared.contracts.orders import Address

SHIP_TO_CLOSED_STATUSES = frozenset({"shipped", "cancelled", "partially_cancelled"})
"""Nothing is left to ship: everything shipped, or what did not ship was cancelled."""


class ShipToClosed(IntakeError):
    """The order has nothing left to ship, so its address is past changing."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the order is {status}: nothing is left to ship, so its ship-to cannot change")
        self.status = status


def requested_address(request: AddressIn) -> Address:
    return Address(**request.model_dump())


def ship_to_changes(status: str, current: dict[str, Any] | None, requested: Address) -> bool:
    """Whether ``requested`` is news for an order in ``status`` that ships to ``current`` (as stored):
    the same address again is not. Raises :class:`ShipToClosed` when nothing is left to ship."""
    if status in SHIP_TO_CLOSED_STATUSES:
        raise ShipToClosed(status)
    if current is None:
        return True
    return Address.model_validate(current) != requested


def history_cause(address: Address) -> str:
    """The order's history line: where to, without the street or the recipient (the order has them)."""
    where = ", ".join(part for part in (address.city, address.state, address.postal_code, address.country) if part)
    return f"ship-to changed: now {where}"
