"""Lines withdrawn from a vendor order (``vendor_order.lines_cancelled``): what stands afterwards, the
state the vendor order is left in, and the order as the export and the ship notices see it. Pure: no I/O.

The vendor order's payload stays as it was created; the units withdrawn per line are kept beside it and
taken off whenever the order is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from services.shipstation.order_states import OrderedLine
from shared.contracts.vendor_orders import VendorOrderCreatedData

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Withdrawal:
    withdrawn: dict[str, int]
    """Units withdrawn per line so far, this withdrawal included."""
    state: str
    """The vendor order's state afterwards."""
    changed: bool
    """Something was withdrawn: ShipStation should see the order anew (``LastModified`` is bumped)."""
    refused: dict[str, int] = field(default_factory=dict)
    """Units asked for that did not stand (withdrawn before, shipped, or no such line): clamped away."""


def standing_units(line: OrderedLine, withdrawn: Mapping[str, int]) -> int:
    return max(line.quantity - withdrawn.get(line.line_id, 0), 0)


def withdraw(
    lines: Iterable[OrderedLine],
    state: str,
    shipped: Mapping[str, int],
    withdrawn: Mapping[str, int],
    requested: Iterable[tuple[str, int]],
) -> Withdrawal:
    """Take ``requested`` (line id, units) off a vendor order in ``state``.

    Never below zero: units already withdrawn or shipped cannot be withdrawn (again), and a second
    message withdrawing the same units only changes nothing. When nothing stands any more the vendor
    order is cancelled; when all that stands has shipped, it is shipped. A cancelled or shipped
    vendor order keeps its state and withdraws nothing.
    """
    by_line = {line.line_id: line for line in lines}
    after = dict(withdrawn)
    refused: dict[str, int] = {}
    for line_id, units in requested:
        line = by_line.get(line_id)
        open_units = 0
        if line is not None and state not in {"cancelled", "shipped"}:
            open_units = max(standing_units(line, after) - shipped.get(line_id, 0), 0)
        taken = min(units, open_units)
        if taken > 0:
            after[line_id] = after.get(line_id, 0) + taken
        if units > taken:
            refused[line_id] = refused.get(line_id, 0) + units - taken
    changed = after != dict(withdrawn)
    new_state = state
    if changed:
        standing = {line_id: standing_units(line, after) for line_id, line in by_line.items()}
        if not any(standing.values()):
            new_state = "cancelled"
        elif all(shipped.get(line_id, 0) >= units for line_id, units in standing.items()):
            new_state = "shipped"
    return Withdrawal(after, new_state, changed, refused)


def standing_order(order: VendorOrderCreatedData, withdrawn: Mapping[str, int]) -> VendorOrderCreatedData:
    """The vendor order as ShipStation is shown it: each line less the units withdrawn, lines with
    nothing left dropped, and an order-level weight shrunk in proportion to the units left.

    Totals follow by themselves: the export adds ``OrderTotal`` up from the lines it renders. When
    nothing stands the vendor order is cancelled and shown as it was created, cancelled (the way a
    ``vendor_order.cancelled`` one is), since an order without items is not a valid export.
    """
    if not any(withdrawn.get(line.line_id, 0) for line in order.lines):
        return order
    lines = [
        line.model_copy(update={"quantity": standing_units(line, withdrawn)})
        for line in order.lines
        if standing_units(line, withdrawn) > 0
    ]
    if not lines:
        return order
    total_weight = order.total_weight
    if total_weight is not None:
        ordered_units = sum(line.quantity for line in order.lines)
        left = sum(line.quantity for line in lines)
        total_weight = (total_weight * left / ordered_units).quantize(CENT, rounding=ROUND_HALF_UP)
    return order.model_copy(update={"lines": lines, "total_weight": total_weight})
