"""Allocations grouped into vendor orders, free of I/O: one vendor order per vendor with its own lines
(a line split across vendors appears in each with its part of the quantity), its share of tax, shipping
and discounts, and its weight; and the vendor order numbers, safe as file names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_DOWN, Decimal

from services.splitter.routing.model import Allocation
from shared.contracts.orders import Discount, OrderHeader, OrderReceivedData, WeightUnit
from shared.contracts.vendor_orders import VendorOrderCreatedData, VendorOrderLine

CENT = Decimal("0.01")
# Exact definitions (international avoirdupois pound); used to add up lines weighed in different units.
_GRAMS_PER: Mapping[WeightUnit, Decimal] = {
    "grams": Decimal("1"),
    "ounces": Decimal("28.349523125"),
    "pounds": Decimal("453.59237"),
}
_CONVERTED_WEIGHT = Decimal("0.0001")
_UNSAFE_IN_FILE_NAMES = re.compile(r"[^A-Za-z0-9._-]")


def vendor_order_base(order_number: str) -> str:
    """``#1001`` → ``1001``: the order number without its leading ``#``, every character a file name
    could choke on replaced by ``-``."""
    return _UNSAFE_IN_FILE_NAMES.sub("-", order_number.removeprefix("#"))


def vendor_order_number(order_number: str, sequence: int) -> str:
    """``#1001`` and 2 → ``1001-2``: :func:`vendor_order_base` and the vendor order's sequence. Two
    orders with the same number (two channels' "1001") share the count, so no number repeats."""
    return f"{vendor_order_base(order_number)}-{sequence}"


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` into cents proportional to ``weights``; the shares add up to ``total`` exactly.

    Largest remainder: everyone gets the rounded-down share, then the leftover cents go to the largest
    fractional parts (ties to the earlier share, so the result is deterministic).
    """
    if not weights:
        return []
    cents_total = int((total / CENT).to_integral_value())
    weight_sum = sum(weights, Decimal("0"))
    if weight_sum <= 0:
        weights = [Decimal("1")] * len(weights)
        weight_sum = Decimal(len(weights))
    exact = [Decimal(cents_total) * w / weight_sum for w in weights]
    floors = [int(e.to_integral_value(rounding=ROUND_DOWN)) for e in exact]
    leftover = cents_total - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in by_remainder[:leftover]:
        floors[index] += 1
    return [Decimal(c) * CENT for c in floors]


def _group(order: OrderReceivedData, allocations: Sequence[Allocation]) -> dict[str, dict[str, tuple[int, Allocation]]]:
    """vendor → line id → (units, first allocation), vendors and lines in order of first appearance;
    two allocations of one line to one vendor (a split part and a backorder) become one line."""
    quantities = {line.line_id: line.quantity for line in order.lines}
    allocated: dict[str, int] = {}
    grouped: dict[str, dict[str, tuple[int, Allocation]]] = {}
    for allocation in allocations:
        if allocation.line_id not in quantities:
            raise ValueError(f"allocation for line {allocation.line_id!r}, which the order does not have")
        allocated[allocation.line_id] = allocated.get(allocation.line_id, 0) + allocation.quantity
        if allocation.quantity <= 0 or allocated[allocation.line_id] > quantities[allocation.line_id]:
            raise ValueError(f"line {allocation.line_id!r}: an allocation of no units, or more than the line has")
        lines = grouped.setdefault(allocation.vendor, {})
        units, first = lines.get(allocation.line_id, (0, allocation))
        lines[allocation.line_id] = (units + allocation.quantity, first)
    return grouped


def split_order(
    order: OrderReceivedData,
    allocations: Sequence[Allocation],
    *,
    first_sequence: int,
    new_vendor_order_id: Callable[[], str],
) -> list[VendorOrderCreatedData]:
    """One vendor order per vendor of ``allocations``, in order of first appearance and numbered from
    ``first_sequence``, each with only its own units and its share of tax, shipping and discounts.

    Shares follow each vendor order's subtotal. When the allocations cover only part of the order (a
    reroute of some lines), the rest of the order takes part in the sharing as one more weight whose
    share is dropped: a rerouted vendor order carries the share its units had in the whole order.
    """
    grouped = _group(order, allocations)
    lines_by_id = {line.line_id: line for line in order.lines}
    vendors = list(grouped)
    vendor_lines = [
        [
            VendorOrderLine(
                **{**dict(lines_by_id[line_id]), "quantity": units}, vendor_sku=first.vendor_sku, cost=first.cost
            )
            for line_id, (units, first) in grouped[vendor].items()
        ]
        for vendor in vendors
    ]
    subtotals = [sum((line.unit_price * line.quantity for line in lines), Decimal("0")) for lines in vendor_lines]
    weights = list(subtotals)
    allocated_units = sum(units for lines in grouped.values() for units, _ in lines.values())
    if allocated_units < sum(line.quantity for line in order.lines):
        whole = sum((line.unit_price * line.quantity for line in order.lines), Decimal("0"))
        weights.append(whole - sum(subtotals, Decimal("0")))
    tax_shares = allocate(order.tax_amount, weights)
    shipping_shares = allocate(order.shipping_amount, weights)
    # Each discount is shared in proportion to what is left of each vendor's subtotal after the discounts
    # before it, so the cents rounded up for several codes can never take a vendor order below zero.
    discount_shares: list[list[Decimal]] = []
    room = list(weights)
    for discount in order.discounts:
        shares = allocate(discount.amount, [max(r, Decimal("0")) for r in room])
        discount_shares.append(shares)
        room = [r - share for r, share in zip(room, shares, strict=True)]

    header_fields = {name: getattr(order, name) for name in OrderHeader.model_fields}
    vendor_orders = []
    for index, (vendor, lines) in enumerate(zip(vendors, vendor_lines, strict=True)):
        discounts = [
            Discount(code=d.code, amount=shares[index])
            for d, shares in zip(order.discounts, discount_shares, strict=True)
            if shares[index] > 0
        ]
        unit = order.weight_unit or next((li.weight_unit for li in lines if li.weight_unit), None)
        header = dict(header_fields)
        header.update(
            tax_amount=tax_shares[index],
            shipping_amount=shipping_shares[index],
            discounts=discounts,
            total_weight=_vendor_weight(order, lines, unit),
            weight_unit=unit,
        )
        vendor_orders.append(
            VendorOrderCreatedData(
                **header,
                vendor_order_id=new_vendor_order_id(),
                vendor_order_number=vendor_order_number(order.order_number, first_sequence + index),
                vendor=vendor,
                lines=lines,
            )
        )
    return vendor_orders


def _vendor_weight(
    order: OrderReceivedData, lines: Sequence[VendorOrderLine], unit: WeightUnit | None
) -> Decimal | None:
    """The vendor order's weight in ``unit``: the sum of its lines' weights (weight is per unit), when
    known. A line weighed in another unit is converted; a line without a unit is taken to be in ``unit``.
    With no line weights, only a vendor order of the whole order (every line, every unit) has a weight."""
    if all(line.weight is None for line in lines):
        whole = {line.line_id: line.quantity for line in lines} == {li.line_id: li.quantity for li in order.lines}
        return order.total_weight if whole else None
    total = Decimal("0")
    converted = False
    for line in lines:
        weight = (line.weight or Decimal("0")) * line.quantity
        if unit is not None and line.weight_unit is not None and line.weight_unit != unit:
            weight = weight * _GRAMS_PER[line.weight_unit] / _GRAMS_PER[unit]
            converted = True
        total += weight
    return total.quantize(_CONVERTED_WEIGHT) if converted else total
