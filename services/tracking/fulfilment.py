"""Fulfilment, free of I/O: shipped quantities per line → the order's status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.contracts.orders import OrderStatus


@dataclass(frozen=True)
class LineProgress:
    line_id: str
    ordered: int
    shipped: int


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
