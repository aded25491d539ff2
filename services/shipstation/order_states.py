"""A vendor order's states in the adapter, the ShipStation status each one shows as, and the state
a shipment leaves it in. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal, Protocol

from shared.contracts.vendors import SHIPSTATION_STATUSES, ShipStationStatus

DEFAULT_STATUS_NAMES: Mapping[ShipStationStatus, str] = MappingProxyType(
    {status: status for status in SHIPSTATION_STATUSES}
)
"""What we emit as ``OrderStatus`` unless the vendor configured other names; the merchant pastes these
into ShipStation's five status boxes."""

VendorOrderState = Literal["unpaid", "paid", "on_hold", "partially_shipped", "shipped", "cancelled"]

_STATE_TO_STATUS: Mapping[VendorOrderState, ShipStationStatus] = MappingProxyType(
    {
        "unpaid": "unpaid",
        "paid": "paid",
        "on_hold": "on_hold",
        # ShipStation still has items to ship: "shipped" would close the order there.
        "partially_shipped": "paid",
        "shipped": "shipped",
        "cancelled": "cancelled",
    }
)


def status_names_of(configured: Mapping[str, str]) -> dict[ShipStationStatus, str]:
    """A connection's status names: what the vendor configured, the defaults for the rest."""
    return {**DEFAULT_STATUS_NAMES, **configured}  # type: ignore[dict-item]


def shipstation_status(state: VendorOrderState) -> ShipStationStatus:
    """Which of ShipStation's five statuses a vendor order in ``state`` shows as."""
    return _STATE_TO_STATUS[state]


class OrderedLine(Protocol):
    """What :func:`state_after_shipment` needs of a vendor order line (``VendorOrderLine`` fits)."""

    @property
    def line_id(self) -> str: ...

    @property
    def quantity(self) -> int: ...


ShipmentState = Literal["partially_shipped", "shipped", "cancelled"]


def shipped_after(already_shipped: Mapping[str, int], shipment: Mapping[str, int]) -> dict[str, int]:
    """Each line's shipped quantity once a package with ``shipment`` (line id → quantity) is added."""
    shipped = dict(already_shipped)
    for line_id, quantity in shipment.items():
        shipped[line_id] = shipped.get(line_id, 0) + quantity
    return shipped


def state_after_shipment(current: str, lines: Sequence[OrderedLine], shipped: Mapping[str, int]) -> ShipmentState:
    """``shipped`` once every line has shipped in full, else ``partially_shipped``.

    A cancelled order stays cancelled: a package ShipStation reports after the cancellation is
    recorded and passed on, but it does not reopen the order.
    """
    if current == "cancelled":
        return "cancelled"
    fully = all(shipped.get(line.line_id, 0) >= line.quantity for line in lines)
    return "shipped" if fully else "partially_shipped"
