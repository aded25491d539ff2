"""Routing, free of I/O: eligible sources per line → ranked by vendor priority → grouped by vendor →
split into vendor orders, each decision with a reason a person can read; and which vendor orders a
cancellation withdraws.

Strategy (vendor priority): the source with the lowest ``priority`` number that has the quantity in
stock wins; a source whose stock is not tracked (``None``) counts as in stock. A line nobody can take
holds the whole order, so an order is never half-sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from shared.contracts.orders import Discount, OrderHeader, OrderLine, OrderReceivedData, WeightUnit
from shared.contracts.vendor_orders import VendorOrderCreatedData, VendorOrderLine

CENT = Decimal("0.01")
# Exact definitions (international avoirdupois pound); used to add up lines weighed in different units.
_GRAMS_PER: Mapping[WeightUnit, Decimal] = {
    "grams": Decimal("1"),
    "ounces": Decimal("28.349523125"),
    "pounds": Decimal("453.59237"),
}
_CONVERTED_WEIGHT = Decimal("0.0001")


@dataclass(frozen=True)
class Source:
    vendor: str
    vendor_sku: str | None = None
    cost: Decimal | None = None
    stock: int | None = None
    priority: int = 100


@dataclass(frozen=True)
class LineDecision:
    line_id: str
    sku: str
    quantity: int
    vendor: str | None
    vendor_sku: str | None
    cost: Decimal | None
    reason: str


@dataclass(frozen=True)
class RoutingResult:
    decisions: tuple[LineDecision, ...]

    @property
    def hold_reasons(self) -> tuple[str, ...]:
        return tuple(d.reason for d in self.decisions if d.vendor is None)

    @property
    def held(self) -> bool:
        return bool(self.hold_reasons)

    @property
    def hold_reason(self) -> str | None:
        """Why the order is held, every line's reason in one text; ``None`` when it is not held."""
        return "; ".join(self.hold_reasons) or None


RoutedState = Literal["routed", "held", "cancelled"]
"""Where an order the splitter has seen stands (``routed_orders.state``)."""


@dataclass(frozen=True)
class RoutingOutcome:
    """What routing an order comes to: held with its reason and no vendor order, or routed into vendor orders."""

    state: Literal["routed", "held"]
    hold_reason: str | None
    decisions: tuple[LineDecision, ...]
    vendor_orders: tuple[VendorOrderCreatedData, ...] = ()


def _stock_text(source: Source) -> str:
    return "stock not tracked" if source.stock is None else f"in stock {source.stock}"


def route_line(line: OrderLine, sources: Sequence[Source]) -> LineDecision:
    if not sources:
        return LineDecision(
            line.line_id,
            line.sku,
            line.quantity,
            None,
            None,
            None,
            f"SKU {line.sku} has no vendor source in the catalog",
        )
    ranked = sorted(sources, key=lambda s: (s.priority, s.vendor))
    for rank, source in enumerate(ranked, start=1):
        if source.stock is None or source.stock >= line.quantity:
            cost = f", cost {source.cost}" if source.cost is not None else ""
            return LineDecision(
                line.line_id,
                line.sku,
                line.quantity,
                source.vendor,
                source.vendor_sku,
                source.cost,
                f"SKU {line.sku} → {source.vendor}: {_stock_text(source)}{cost}, priority {source.priority}"
                f" (choice {rank} of {len(ranked)})",
            )
    levels = ", ".join(f"{s.vendor}: {s.stock}" for s in ranked)
    return LineDecision(
        line.line_id,
        line.sku,
        line.quantity,
        None,
        None,
        None,
        f"SKU {line.sku}: no vendor has {line.quantity} in stock ({levels})",
    )


def route_order(order: OrderReceivedData, sources_by_sku: Mapping[str, Sequence[Source]]) -> RoutingResult:
    return RoutingResult(tuple(route_line(line, sources_by_sku.get(line.sku, ())) for line in order.lines))


def plan_routing(
    order: OrderReceivedData,
    sources_by_sku: Mapping[str, Sequence[Source]],
    new_vendor_order_id: Callable[[], str],
) -> RoutingOutcome:
    """Route ``order``: held when any line has no vendor (nothing is sent), else split into vendor orders."""
    result = route_order(order, sources_by_sku)
    if result.held:
        return RoutingOutcome("held", result.hold_reason, result.decisions)
    vendor_orders = split_order(order, result, new_vendor_order_id)
    return RoutingOutcome("routed", None, result.decisions, tuple(vendor_orders))


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


def split_order(
    order: OrderReceivedData, result: RoutingResult, new_vendor_order_id: Callable[[], str]
) -> list[VendorOrderCreatedData]:
    """One vendor order per vendor, numbered ``<order_number>-<n>`` in order of first appearance, each
    with only its own lines and its share of tax, shipping and discounts."""
    if result.held:
        raise ValueError("a held order is not split")
    lines_by_id = {line.line_id: line for line in order.lines}
    vendors: list[str] = []
    grouped: dict[str, list[tuple[OrderLine, LineDecision]]] = {}
    for decision in result.decisions:
        assert decision.vendor is not None
        if decision.vendor not in grouped:
            vendors.append(decision.vendor)
            grouped[decision.vendor] = []
        grouped[decision.vendor].append((lines_by_id[decision.line_id], decision))

    subtotals = [sum((line.unit_price * line.quantity for line, _ in grouped[v]), Decimal("0")) for v in vendors]
    tax_shares = allocate(order.tax_amount, subtotals)
    shipping_shares = allocate(order.shipping_amount, subtotals)
    # Each discount is shared in proportion to what is left of each vendor's subtotal after the discounts
    # before it, so the cents rounded up for several codes can never take a vendor order below zero.
    discount_shares: list[list[Decimal]] = []
    room = list(subtotals)
    for discount in order.discounts:
        shares = allocate(discount.amount, [max(r, Decimal("0")) for r in room])
        discount_shares.append(shares)
        room = [r - share for r, share in zip(room, shares, strict=True)]

    vendor_orders = []
    for index, vendor in enumerate(vendors):
        lines = [
            VendorOrderLine(**dict(line), vendor_sku=decision.vendor_sku, cost=decision.cost)
            for line, decision in grouped[vendor]
        ]
        discounts = [
            Discount(code=d.code, amount=shares[index])
            for d, shares in zip(order.discounts, discount_shares, strict=True)
            if shares[index] > 0
        ]
        unit = order.weight_unit or next((li.weight_unit for li in lines if li.weight_unit), None)
        header = {name: getattr(order, name) for name in OrderHeader.model_fields}
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
                vendor_order_number=f"{order.order_number}-{index + 1}",
                vendor=vendor,
                lines=lines,
            )
        )
    return vendor_orders


def _vendor_weight(
    order: OrderReceivedData, lines: Sequence[VendorOrderLine], unit: WeightUnit | None
) -> Decimal | None:
    """The vendor order's weight in ``unit``: the sum of its lines' weights (weight is per unit), when
    known. A line weighed in another unit is converted; a line without a unit is taken to be in ``unit``."""
    if all(line.weight is None for line in lines):
        return order.total_weight if len(lines) == len(order.lines) else None
    total = Decimal("0")
    converted = False
    for line in lines:
        weight = (line.weight or Decimal("0")) * line.quantity
        if unit is not None and line.weight_unit is not None and line.weight_unit != unit:
            weight = weight * _GRAMS_PER[line.weight_unit] / _GRAMS_PER[unit]
            converted = True
        total += weight
    return total.quantize(_CONVERTED_WEIGHT) if converted else total


# ---------------------------------------------------------------------------------------------- cancellation

VendorOrderStatus = Literal["open", "cancelled"]


@dataclass(frozen=True)
class VendorOrderRef:
    """A vendor order as a cancellation sees it."""

    id: str
    vendor: str
    number: str
    status: VendorOrderStatus


def vendor_orders_to_cancel(vendor_orders: Sequence[VendorOrderRef]) -> list[VendorOrderRef]:
    """The vendor orders a cancellation of their order withdraws: those still open. One withdrawn
    before stays as it is and is not announced to its vendor again."""
    return [vendor_order for vendor_order in vendor_orders if vendor_order.status == "open"]
