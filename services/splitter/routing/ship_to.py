"""A ship-to changed after the order was routed: which of its vendor orders hear of it.

A vendor order still has something to ship to the new address when one of its lines has units neither
shipped nor withdrawn; it is told (``vendor_order.ship_to_changed.<vendor>``) unless it was cancelled or
never reached its vendor. One that shipped everything is told nothing, and the routing history says so.
Held lines and vendor orders made later take the address from the order itself. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.splitter.routing.lifecycle import VendorOrderState
from shared.contracts.orders import HoldCode

ADDRESS_HOLD_CODES: frozenset[HoldCode] = frozenset({"po_box"})
"""Order-level holds decided from the ship-to alone: looked at again when it changes (a corrected PO box
clears by itself). ``no_vendor_for_country`` is a line's, worked out again by routing the line."""


@dataclass(frozen=True)
class ShipToPlan:
    tell: tuple[VendorOrderState, ...]
    """Vendor orders with units left to ship: each is sent the new ship-to."""
    already_shipped: tuple[VendorOrderState, ...]
    """Shipped everything it kept: nothing to send."""
    settled: tuple[VendorOrderState, ...]
    """Cancelled, failed, or with every unit taken back: nothing to send, nothing will ship."""


def ship_to_plan(states: Sequence[VendorOrderState]) -> ShipToPlan:
    """Sort an order's vendor orders by what a ship-to change sends them."""
    tell: list[VendorOrderState] = []
    already_shipped: list[VendorOrderState] = []
    settled: list[VendorOrderState] = []
    for state in states:
        if state.cancel_sent or state.status in ("cancelled", "failed"):
            settled.append(state)
        elif any(line.unshipped > 0 for line in state.lines):
            tell.append(state)
        elif state.shipped_anything:
            already_shipped.append(state)
        else:
            settled.append(state)
    return ShipToPlan(tuple(tell), tuple(already_shipped), tuple(settled))


def address_summary(city: str, state: str | None, postal_code: str, country: str) -> str:
    """Where to, for the routing history: the town and country, not the street or the recipient."""
    return ", ".join(part for part in (city, state, postal_code, country) if part)
