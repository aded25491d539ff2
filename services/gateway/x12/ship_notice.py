"""The 856 ship notice: which of our purchase orders shipped, in which packages, with which tracking
numbers and items.

The HL tree is walked by its parent ids, not by position: shipment (``S``) → order (``O``, PRF01 is our
PO number) → pack (``P``; a tare ``T`` may sit between order and pack) → item (``I``; LIN01, else SN101,
is the PO101 line number). A pack's tracking numbers are its ``MAN*CP``, ``MAN*GM`` and ``REF*CN``; a
pack without any takes the shipment's ``REF*CN``. Items hung straight under an order (S→O→I, no packs)
make one package carrying the shipment's ``REF*CN``. Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from services.gateway.x12.model import Segment, TransactionSet
from services.gateway.x12.values import parse_date, parse_quantity

TRACKING_MARKS = ("CP", "GM")
"""MAN01 qualifiers that carry a package's tracking number (carrier-assigned package id, or the
SSCC-18 label partners also use as one)."""
TRACKING_REFERENCE = "CN"
SHIPPED_DATE = "011"


@dataclass
class ShippedItem:
    line_number: int | None
    vendor_sku: str | None
    quantity: int


@dataclass
class ShippedPackage:
    tracking_numbers: list[str] = field(default_factory=list)
    items: list[ShippedItem] = field(default_factory=list)


@dataclass
class ShippedOrder:
    po_number: str
    packages: list[ShippedPackage] = field(default_factory=list)


@dataclass
class ShipNotice:
    shipment_number: str
    ship_date: date | None
    carrier: str | None
    service: str | None
    orders: list[ShippedOrder] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class _Level:
    id: str
    parent: str
    code: str
    segments: list[Segment] = field(default_factory=list)


def read_ship_notice(transaction: TransactionSet) -> ShipNotice:
    if transaction.set_id != "856":
        raise ValueError(f"expected an 856, got a {transaction.set_id}")
    header = next((segment for segment in transaction.segments if segment.id == "BSN"), None)
    notice = ShipNotice(
        shipment_number=header.element(2) if header else "",
        ship_date=parse_date(header.element(3)) if header else None,
        carrier=None,
        service=None,
    )
    if header is None:
        notice.errors.append("no BSN: the ship notice has no shipment number")
    levels = _levels(transaction, notice.errors)
    shipment_tracking: list[str] = []
    for level in levels.values():
        if level.code == "S":
            _read_shipment(level, notice, shipment_tracking)
    orders: dict[str, ShippedOrder] = {}
    loose: dict[str, ShippedPackage] = {}
    packages: dict[str, ShippedPackage] = {}
    for level in levels.values():
        if level.code == "O":
            po_number = next((segment.element(1) for segment in level.segments if segment.id == "PRF"), "")
            if not po_number:
                notice.errors.append(f"order level HL {level.id} has no PRF01 purchase order number")
                continue
            orders[level.id] = ShippedOrder(po_number)
            notice.orders.append(orders[level.id])
        elif level.code == "P":
            order_id = _ancestor(level, levels, "O")
            if order_id not in orders:
                notice.errors.append(f"pack HL {level.id} belongs to no order")
                continue
            packages[level.id] = ShippedPackage(_tracking(level.segments) or list(shipment_tracking))
            orders[order_id].packages.append(packages[level.id])
        elif level.code == "I":
            _read_item(level, levels, orders, packages, loose, shipment_tracking, notice.errors)
    return notice


def _levels(transaction: TransactionSet, errors: list[str]) -> dict[str, _Level]:
    levels: dict[str, _Level] = {}
    current: _Level | None = None
    for segment in transaction.segments:
        if segment.id == "HL":
            level_id = segment.element(1)
            if level_id in levels:
                errors.append(f"HL {level_id} appears twice; the second is ignored")
                current = None
                continue
            current = _Level(level_id, segment.element(2), segment.element(3))
            levels[level_id] = current
        elif current is not None:
            current.segments.append(segment)
    return levels


def _ancestor(level: _Level, levels: dict[str, _Level], code: str) -> str | None:
    """The id of the nearest level with ``code`` above ``level`` (loops in the tree end the walk)."""
    seen = {level.id}
    parent = levels.get(level.parent)
    while parent is not None and parent.id not in seen:
        if parent.code == code:
            return parent.id
        seen.add(parent.id)
        parent = levels.get(parent.parent)
    return None


def _read_shipment(level: _Level, notice: ShipNotice, shipment_tracking: list[str]) -> None:
    for segment in level.segments:
        if segment.id == "TD5" and notice.carrier is None:
            scac, routing, service_level = segment.element(3), segment.element(5), segment.element(12)
            notice.carrier = scac or routing or None
            notice.service = (routing if scac else "") or service_level or None
        elif segment.id == "DTM" and segment.element(1) == SHIPPED_DATE:
            notice.ship_date = parse_date(segment.element(2)) or notice.ship_date
        elif segment.id == "REF" and segment.element(1) == TRACKING_REFERENCE:
            shipment_tracking.extend(number for number in _tracking([segment]) if number not in shipment_tracking)


def _tracking(segments: list[Segment]) -> list[str]:
    numbers: list[str] = []
    for segment in segments:
        found: list[str] = []
        if segment.id == "MAN":
            found = [value for qualifier, value in segment.pairs(1) if qualifier in TRACKING_MARKS]
        elif segment.id == "REF" and segment.element(1) == TRACKING_REFERENCE and segment.element(2):
            found = [segment.element(2)]
        numbers.extend(number for number in found if number not in numbers)
    return numbers


def _read_item(
    level: _Level,
    levels: dict[str, _Level],
    orders: dict[str, ShippedOrder],
    packages: dict[str, ShippedPackage],
    loose: dict[str, ShippedPackage],
    shipment_tracking: list[str],
    errors: list[str],
) -> None:
    item_line = next((segment for segment in level.segments if segment.id == "LIN"), None)
    quantities = next((segment for segment in level.segments if segment.id == "SN1"), None)
    if quantities is None:
        errors.append(f"item HL {level.id} has no SN1 quantity")
        return
    quantity = parse_quantity(quantities.element(2))
    if quantity is None or quantity < 0:
        errors.append(f"item HL {level.id}: SN102 {quantities.element(2)!r} is not a whole number of units")
        return
    number = item_line.element(1) if item_line else ""
    number = number if number.isdigit() else quantities.element(1)
    vendor_sku = dict(item_line.pairs(2)).get("VN") if item_line else None
    item = ShippedItem(int(number) if number.isdigit() else None, vendor_sku, quantity)
    pack_id = _ancestor(level, levels, "P")
    if pack_id is not None and pack_id in packages:
        packages[pack_id].items.append(item)
        return
    order_id = _ancestor(level, levels, "O")
    if order_id is None or order_id not in orders:
        errors.append(f"item HL {level.id} belongs to no order")
        return
    if order_id not in loose:
        loose[order_id] = ShippedPackage(list(shipment_tracking))
        orders[order_id].packages.append(loose[order_id])
    loose[order_id].items.append(item)
