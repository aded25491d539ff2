"""Fulfilment, free of I/O: shipped quantities per line → the order's status, what a shipment or a
cancellation does to it, and the shipment as the channel is told of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.contracts.orders import OrderStatus, ShipmentSummary
from shared.contracts.shipments import ShipmentReportedData
from shared.contracts.vendor_orders import VendorOrderAcknowledgedData


@dataclass(frozen=True)
class LineProgress:
    line_id: str
    ordered: int
    shipped: int


@dataclass(frozen=True)
class TrackedOrder:
    order_id: str
    channel: str
    external_id: str
    order_number: str
    status: OrderStatus | None
    cancelled: bool
    shipped_after_cancel: bool = False
    """A vendor shipped after the order was cancelled: from then on the shipments decide its status."""


def derive_status(lines: Sequence[LineProgress], *, cancelled: bool) -> OrderStatus | None:
    """The order's status from its lines; ``None`` while nothing has shipped or been cancelled.

    A cancellation stops what has not shipped: with something already shipped the order is
    ``partially_cancelled`` (unless everything had shipped anyway).
    """
    if not lines:
        return "cancelled" if cancelled else None
    shipped_any = any(line.shipped > 0 for line in lines)
    shipped_all = all(line.shipped >= line.ordered for line in lines)
    if shipped_all:
        return "shipped"
    if cancelled:
        return "partially_cancelled" if shipped_any else "cancelled"
    return "partially_shipped" if shipped_any else None


def apply_shipment(
    lines: Sequence[LineProgress], shipped_now: Mapping[str, int]
) -> tuple[list[LineProgress], dict[str, int]]:
    """Add a shipment's quantities, never beyond what was ordered. Answers the new lines and what
    was actually applied per line (a line the order does not have is ignored)."""
    updated: list[LineProgress] = []
    applied: dict[str, int] = {}
    for line in lines:
        extra = min(max(shipped_now.get(line.line_id, 0), 0), line.ordered - line.shipped)
        if extra > 0:
            applied[line.line_id] = extra
        updated.append(LineProgress(line.line_id, line.ordered, line.shipped + max(extra, 0)))
    return updated, applied


@dataclass(frozen=True)
class ShipmentApplied:
    lines: list[LineProgress]
    applied: dict[str, int]
    """What the shipment added per line (see :func:`apply_shipment`)."""
    status: OrderStatus
    """The order's status now; always announced, as every shipment is news to the channel."""
    shipped_after_cancel: bool = False
    """The order has had units shipped after its cancellation (this shipment or an earlier one)."""


def after_shipment(
    lines: Sequence[LineProgress],
    shipment: ShipmentReportedData,
    *,
    cancelled: bool,
    shipped_after_cancel: bool = False,
) -> ShipmentApplied:
    """``shipment`` applied to the order's ``lines``. While nothing of the order has shipped (a package
    of lines it does not have) the order stays ``routed``.

    A shipment wins over a cancellation: a vendor that ships units after the order was cancelled
    (the cancellation reached it too late) has sent them to the customer, so the status follows the
    shipments (``partially_shipped`` or ``shipped``, as if never cancelled) and the order is marked
    ``shipped_after_cancel`` for ops. A package that adds nothing leaves a cancelled order cancelled.
    """
    updated, applied = apply_shipment(lines, {line.line_id: line.quantity for line in shipment.lines})
    after_cancel = shipped_after_cancel or (cancelled and bool(applied))
    status = derive_status(updated, cancelled=cancelled and not after_cancel) or "routed"
    return ShipmentApplied(updated, applied, status, after_cancel)


@dataclass(frozen=True)
class CancellationApplied:
    status: OrderStatus | None
    announce: bool
    """Whether the channel is told: only of a status that changed."""


def after_cancellation(lines: Sequence[LineProgress], previous: OrderStatus | None) -> CancellationApplied:
    """The order's cancellation: what has not shipped is stopped (see :func:`derive_status`)."""
    status = derive_status(lines, cancelled=True)
    return CancellationApplied(status, status is not None and status != previous)


def shipment_summary(shipment: ShipmentReportedData, applied: Mapping[str, int]) -> ShipmentSummary:
    """The shipment as the channel receives it, with the quantities it added to each line."""
    skus = {line.line_id: line.sku for line in shipment.lines}
    return ShipmentSummary(
        shipment_id=shipment.shipment_id,
        vendor=shipment.vendor,
        carrier=shipment.carrier,
        service=shipment.service,
        tracking_number=shipment.tracking_number,
        ship_date=shipment.ship_date.isoformat() if shipment.ship_date else None,
        label_created_at=shipment.label_created_at,
        shipping_cost=shipment.shipping_cost,
        notes_to_buyer=shipment.notes_to_buyer,
        notify_customer=shipment.notify_customer,
        lines=[{"line_id": lid, "sku": skus.get(lid, ""), "quantity": qty} for lid, qty in applied.items()],
    )


def acknowledged_lines(acknowledgement: VendorOrderAcknowledgedData) -> dict[str, list[dict[str, Any]]]:
    """Per line of the vendor order, what its vendor said of it: one entry per status (a line's units
    may be split, some accepted and some backordered), in the order the vendor gave them. This is
    the line's whole answer and replaces whatever the vendor said of it before; it has no bearing
    on the order's status (rejected units are the splitter's to reroute)."""
    entries: dict[str, list[dict[str, Any]]] = {}
    for line in acknowledgement.lines:
        entries.setdefault(line.line_id, []).append(
            {
                "sku": line.sku,
                "status": line.status,
                "quantity": line.quantity,
                "expected_ship_date": line.expected_ship_date.isoformat() if line.expected_ship_date else None,
                "reason": line.reason,
            }
        )
    return entries
