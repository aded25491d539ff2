"""A vendor order's lines after it is sent: what the vendor acknowledged, what must go to another
vendor, what shipped, and what a cancellation sends.

Each line keeps the units sent (``quantity``), the vendor's last acknowledgement (``accepted``,
``backordered``, ``rejected``), what shipped, and what we took back (``withdrawn``: units rerouted to
another vendor or cancelled). ``withdrawn`` is how every step stays idempotent: a unit already taken
back is never rerouted or withdrawn twice, and an acknowledgement or failure seen again asks for nothing
new. Everything here is immutable; each step answers a new state and what the caller must publish.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from shared.contracts.vendor_orders import AcknowledgedLine

VendorOrderStatus = Literal["open", "acknowledged", "partially_shipped", "shipped", "cancelled", "failed"]


@dataclass(frozen=True)
class VendorLine:
    """One line of a vendor order, in units."""

    line_id: str
    sku: str
    quantity: int
    """Units sent to the vendor."""
    accepted: int = 0
    backordered: int = 0
    rejected: int = 0
    shipped: int = 0
    withdrawn: int = 0
    """Units taken back from this vendor: rerouted elsewhere, or cancelled."""

    @property
    def unshipped(self) -> int:
        """Units still on this vendor order and not shipped (never below 0: a vendor may ship more)."""
        return max(self.quantity - self.shipped - self.withdrawn, 0)

    @property
    def open_quantity(self) -> int:
        """Units the vendor is still expected to ship.

        Rejected units are not expected; once rerouted they are also withdrawn, so the larger of the
        two counts (subtracting both would count a rejected, rerouted unit twice).
        """
        return max(self.quantity - self.shipped - max(self.withdrawn, self.rejected), 0)


@dataclass(frozen=True)
class VendorOrderState:
    id: str
    number: str
    vendor: str
    status: VendorOrderStatus
    lines: tuple[VendorLine, ...]
    cancel_sent: bool = False
    """``vendor_order.cancelled`` went out for it: a later shipment is one the vendor sent anyway."""

    @property
    def shipped_anything(self) -> bool:
        return any(line.shipped > 0 for line in self.lines)


@dataclass(frozen=True)
class RerouteRequest:
    """Units of a line to take back from this vendor and route to another one."""

    line_id: str
    sku: str
    quantity: int
    reason: str


def derive_status(
    lines: Sequence[VendorLine], *, cancelled: bool, failed: bool, acknowledged: bool
) -> VendorOrderStatus:
    """Shipments decide first (a shipment wins over a cancellation: the parcel is on its way), then
    the vendor order's own events, most final first."""
    if any(line.shipped > 0 for line in lines):
        if all(line.shipped >= line.quantity - line.withdrawn for line in lines):
            return "shipped"
        return "partially_shipped"
    if cancelled:
        return "cancelled"
    if failed:
        return "failed"
    return "acknowledged" if acknowledged else "open"


def _status_of(state: VendorOrderState, lines: Sequence[VendorLine]) -> VendorOrderStatus:
    return derive_status(
        lines,
        cancelled=state.cancel_sent or state.status == "cancelled",
        failed=state.status == "failed",
        acknowledged=state.status in ("acknowledged", "partially_shipped", "shipped"),
    )


# ---------------------------------------------------------------------------------------- acknowledgement


@dataclass(frozen=True)
class AckOutcome:
    state: VendorOrderState
    to_reroute: tuple[RerouteRequest, ...]
    unknown_lines: tuple[str, ...]
    """Line ids of the acknowledgement that are not in the vendor order: ignored."""

    @property
    def lines(self) -> tuple[VendorLine, ...]:
        return self.state.lines


@dataclass(frozen=True)
class _AckFigures:
    rejected: int = 0
    backordered: int = 0
    accepted: int = 0
    reasons: tuple[str, ...] = ()


def _figures_by_line(lines: Sequence[AcknowledgedLine]) -> dict[str, _AckFigures]:
    """An acknowledgement may split a line (3 accepted, 2 backordered): its entries add up."""
    figures: dict[str, _AckFigures] = {}
    for ack in lines:
        got = figures.get(ack.line_id, _AckFigures())
        reasons = got.reasons
        if ack.status == "rejected" and ack.reason and ack.reason not in reasons:
            reasons = (*reasons, ack.reason)
        figures[ack.line_id] = _AckFigures(
            rejected=got.rejected + (ack.quantity if ack.status == "rejected" else 0),
            backordered=got.backordered + (ack.quantity if ack.status == "backordered" else 0),
            accepted=got.accepted + (ack.quantity if ack.status == "accepted" else 0),
            reasons=reasons,
        )
    return figures


def apply_acknowledgement(
    state: VendorOrderState, lines: Sequence[AcknowledgedLine], *, accepts_backorders: bool
) -> AckOutcome:
    """The vendor's answer applied to the vendor order, and the units that must go elsewhere.

    Figures are per line and replace the previous acknowledgement's (a vendor that answers again says
    what holds now). Units left unaccounted for, and lines left out, count as accepted: only a vendor's
    explicit "no" moves units. Rejected units are rerouted; backordered units too when the vendor does
    not take backorders (one that does ships them later). Only the units beyond those already withdrawn
    are rerouted, so the same acknowledgement twice reroutes nothing the second time, and a unit
    cancelled before the answer is never sent to another vendor. A cancelled or failed vendor order
    reroutes nothing: its units were cancelled or rerouted when that happened.
    """
    figures = _figures_by_line(lines)
    known = {line.line_id for line in state.lines}
    unknown = tuple(dict.fromkeys(line_id for line_id in figures if line_id not in known))
    settled = state.cancel_sent or state.status in ("cancelled", "failed")
    new_lines: list[VendorLine] = []
    to_reroute: list[RerouteRequest] = []
    for line in state.lines:
        acked = figures.get(line.line_id, _AckFigures())
        rejected = min(acked.rejected, line.quantity)
        backordered = min(acked.backordered, line.quantity - rejected)
        requests = (
            () if settled else _reroutes(line, state.vendor, acked.reasons, rejected, backordered, accepts_backorders)
        )
        moved = sum(request.quantity for request in requests)
        new_lines.append(
            replace(
                line,
                rejected=rejected,
                backordered=backordered,
                accepted=line.quantity - rejected - backordered,
                withdrawn=line.withdrawn + moved,
            )
        )
        to_reroute += requests
    lines_now = tuple(new_lines)
    status = state.status if settled else derive_status(lines_now, cancelled=False, failed=False, acknowledged=True)
    return AckOutcome(replace(state, status=status, lines=lines_now), tuple(to_reroute), unknown)


def _reroutes(
    line: VendorLine,
    vendor: str,
    reasons: tuple[str, ...],
    rejected: int,
    backordered: int,
    accepts_backorders: bool,
) -> tuple[RerouteRequest, ...]:
    # What must leave this vendor, never more than it has not shipped; already withdrawn units count
    # against the rejected ones first, then the backordered ones.
    shippable = max(line.quantity - line.shipped, 0)
    rejected_off = min(rejected, shippable)
    backordered_off = 0 if accepts_backorders else min(backordered, shippable - rejected_off)
    credit = line.withdrawn
    new_rejected = max(rejected_off - credit, 0)
    credit = max(credit - rejected_off, 0)
    new_backordered = max(backordered_off - credit, 0)
    requests: list[RerouteRequest] = []
    if new_rejected:
        why = f"rejected by {vendor}: {'; '.join(reasons)}" if reasons else f"rejected by {vendor}, no reason given"
        requests.append(RerouteRequest(line.line_id, line.sku, new_rejected, why))
    if new_backordered:
        why = f"backordered by {vendor}, which does not take backorders"
        requests.append(RerouteRequest(line.line_id, line.sku, new_backordered, why))
    return tuple(requests)


def reroute_whole(state: VendorOrderState, reason: str) -> tuple[RerouteRequest, ...]:
    """Every unit still on the vendor order and not shipped, to route elsewhere: for a vendor order that
    failed to reach its vendor or missed its acknowledgement deadline. Units already withdrawn are
    left out, so a failure reported twice asks for nothing new once the first is recorded
    (:func:`withdraw`). A cancelled vendor order has nothing to reroute: the customer cancelled."""
    if state.cancel_sent or state.status == "cancelled":
        return ()
    return tuple(
        RerouteRequest(line.line_id, line.sku, line.unshipped, reason) for line in state.lines if line.unshipped > 0
    )


def withdraw(state: VendorOrderState, quantities: Mapping[str, int]) -> VendorOrderState:
    """The state once these units (line id → units) were taken back: rerouted or cancelled. Never more
    than a line has unshipped."""
    lines = tuple(
        replace(line, withdrawn=line.withdrawn + min(max(quantities.get(line.line_id, 0), 0), line.unshipped))
        for line in state.lines
    )
    return replace(state, lines=lines)


# --------------------------------------------------------------------------------------------- shipments


@dataclass(frozen=True)
class ShipmentOutcome:
    state: VendorOrderState
    after_cancel: bool
    """Units shipped that had been cancelled or withdrawn: they count, and ops should know."""
    over_shipped: tuple[str, ...]
    """Lines with more units shipped than were sent to the vendor."""
    unknown_lines: tuple[str, ...] = ()
    """Line ids of the shipment that are not in the vendor order: ignored."""


def apply_shipment(state: VendorOrderState, shipped: Mapping[str, int]) -> ShipmentOutcome:
    """A shipment's units (line id → units) added to the vendor order.

    The same shipment twice is the caller's to refuse (the inbox, keyed by the shipment id). A
    shipment after a cancellation or a withdrawal wins: the parcel is on its way, so its units count
    as shipped, and ``after_cancel`` says so for ops (the customer may have been refunded, another
    vendor may ship the same units).
    """
    known = {line.line_id for line in state.lines}
    unknown = tuple(dict.fromkeys(line_id for line_id in shipped if line_id not in known))
    cancelled = state.cancel_sent or state.status == "cancelled"
    after_cancel = False
    over_shipped: list[str] = []
    lines: list[VendorLine] = []
    for line in state.lines:
        units = max(shipped.get(line.line_id, 0), 0)
        if units == 0:
            lines.append(line)
            continue
        after = replace(line, shipped=line.shipped + units)
        # Units beyond what stayed on the vendor order are withdrawn ones (over-shipping is reported apart).
        if cancelled or min(after.shipped, line.quantity) > line.quantity - line.withdrawn:
            after_cancel = True
        if after.shipped > line.quantity:
            over_shipped.append(line.line_id)
        lines.append(after)
    lines_now = tuple(lines)
    new_state = replace(state, status=_status_of(state, lines_now), lines=lines_now)
    return ShipmentOutcome(new_state, after_cancel, tuple(over_shipped), unknown)


# ------------------------------------------------------------------------------------------- cancellation


@dataclass(frozen=True)
class CancellationPlan:
    """What cancelling an order sends for each of its vendor orders."""

    cancel_whole: tuple[VendorOrderState, ...]
    """Nothing shipped: ``vendor_order.cancelled`` for each."""
    withdraw_lines: tuple[tuple[VendorOrderState, tuple[tuple[str, int], ...]], ...]
    """Partly shipped: ``vendor_order.lines_cancelled`` with (line id, unshipped units) for each."""
    already_shipped: tuple[VendorOrderState, ...]
    """Everything shipped: nothing to send, the order is beyond cancelling there."""
    already_cancelled: tuple[VendorOrderState, ...]
    """Cancelled before: not sent again."""
    failed: tuple[VendorOrderState, ...] = ()
    """Never reached the vendor (its lines were rerouted): nothing to send."""


def cancellation_plan(states: Sequence[VendorOrderState]) -> CancellationPlan:
    """Sort an order's vendor orders by what a cancellation sends them; shipped units are never
    withdrawn, and a vendor order is never told twice."""
    cancel_whole: list[VendorOrderState] = []
    withdraw_lines: list[tuple[VendorOrderState, tuple[tuple[str, int], ...]]] = []
    already_shipped: list[VendorOrderState] = []
    already_cancelled: list[VendorOrderState] = []
    failed: list[VendorOrderState] = []
    for state in states:
        unshipped = tuple((line.line_id, line.unshipped) for line in state.lines if line.unshipped > 0)
        if state.cancel_sent or state.status == "cancelled":
            already_cancelled.append(state)
        elif state.status == "failed" and not state.shipped_anything:
            failed.append(state)
        elif not state.shipped_anything:
            cancel_whole.append(state)
        elif unshipped:
            withdraw_lines.append((state, unshipped))
        else:
            already_shipped.append(state)
    return CancellationPlan(
        tuple(cancel_whole), tuple(withdraw_lines), tuple(already_shipped), tuple(already_cancelled), tuple(failed)
    )
