"""What a vendor's answer means for its vendor order, decided without I/O: which line a row or an API
line names, whether a quantity fits what was ordered and not yet shipped, and the stable ids that make
the same answer twice change nothing (a package's shipment id, an event's message id, a feed's id).

Both ways in use these rules: the vendor API and the files picked up over SFTP.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from shared.contracts.vendor_orders import AckLineStatus


def stable_id(prefix: str, *parts: object) -> str:
    """``<prefix>_`` and 24 hex digits of SHA-256 over the parts: the same parts, the same id."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
    return f"{prefix}_{digest[:24]}"


def content_digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def shipment_id(vendor: str, vendor_order_id: str, tracking_number: str | None, content: Any = None) -> str:
    """A package is (vendor, vendor order, tracking number); without a tracking number, its content."""
    if tracking_number:
        return stable_id("shp", vendor, vendor_order_id, tracking_number.strip().upper())
    return stable_id("shp", vendor, vendor_order_id, content_digest(content))


@dataclass(frozen=True)
class OrderedLine:
    line_id: str
    sku: str
    vendor_sku: str | None
    quantity: int

    @property
    def vendor_name(self) -> str:
        """The SKU the vendor knows the line by (files and the vendor API speak the vendor's SKUs)."""
        return self.vendor_sku or self.sku


def ordered_lines(vendor_order: Mapping[str, Any], withdrawn: Mapping[str, int] | None = None) -> list[OrderedLine]:
    """The vendor order's lines as the vendor holds them (less what was withdrawn)."""
    taken = withdrawn or {}
    return [
        OrderedLine(
            line["line_id"], line["sku"], line.get("vendor_sku"), int(line["quantity"]) - taken.get(line["line_id"], 0)
        )
        for line in vendor_order["lines"]
    ]


class AnswerRefused(ValueError):
    """A part of a vendor's answer that cannot apply; ``field`` names it (``lines.2.quantity``, ``row 7``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def line_by_sku(lines: Sequence[OrderedLine], sku: str, field: str) -> OrderedLine:
    """The line a row names by SKU: the vendor's SKU first, else ours."""
    wanted = sku.strip()
    for line in lines:
        if line.vendor_name == wanted:
            return line
    for line in lines:
        if line.sku == wanted:
            return line
    raise AnswerRefused(field, f"SKU {wanted!r} is not in this vendor order")


def line_by_id(lines: Sequence[OrderedLine], line_id: str, field: str) -> OrderedLine:
    for line in lines:
        if line.line_id == line_id:
            return line
    raise AnswerRefused(field, f"line {line_id!r} is not in this vendor order")


@dataclass(frozen=True)
class AckLine:
    line_id: str
    status: AckLineStatus
    quantity: int | None = None
    reason: str | None = None
    expected_ship_date: date | None = None


def acknowledged_lines(lines: Sequence[OrderedLine], answered: Sequence[tuple[str, AckLine]]) -> list[dict[str, Any]]:
    """Every line of the order with its status: the lines answered as the vendor said (``field`` names
    each for errors), the lines left out accepted."""
    by_line: dict[str, dict[str, Any]] = {}
    for field_name, answer in answered:
        line = line_by_id(lines, answer.line_id, f"{field_name}.line_id")
        quantity = line.quantity if answer.quantity is None else answer.quantity
        if quantity > line.quantity:
            raise AnswerRefused(
                f"{field_name}.quantity", f"{quantity} is more than the {line.quantity} ordered of line {line.line_id}"
            )
        if line.line_id in by_line:
            raise AnswerRefused(f"{field_name}.line_id", f"line {line.line_id} is answered twice")
        by_line[line.line_id] = {
            "line_id": line.line_id,
            "sku": line.sku,
            "status": answer.status,
            "quantity": quantity,
            "reason": answer.reason,
            "expected_ship_date": answer.expected_ship_date.isoformat() if answer.expected_ship_date else None,
        }
    for line in lines:
        by_line.setdefault(
            line.line_id,
            {"line_id": line.line_id, "sku": line.sku, "status": "accepted", "quantity": line.quantity},
        )
    return [by_line[line.line_id] for line in lines if line.line_id in by_line]


def shipped_lines(
    lines: Sequence[OrderedLine],
    already_shipped: Mapping[str, int],
    requested: Sequence[tuple[str, str, int]] | None,
) -> list[dict[str, Any]]:
    """The package's lines: ``requested`` as (field, line_id, quantity), each within what remains
    (ordered minus shipped); ``None``: everything that remains."""
    remaining = {line.line_id: line.quantity - already_shipped.get(line.line_id, 0) for line in lines}
    if requested is None:
        chosen = [
            {"line_id": line.line_id, "sku": line.sku, "quantity": remaining[line.line_id]}
            for line in lines
            if remaining[line.line_id] > 0
        ]
        if not chosen:
            raise AnswerRefused("lines", "every line of this vendor order has shipped already")
        return chosen
    chosen = []
    for field_name, line_id, quantity in requested:
        line = line_by_id(lines, line_id, f"{field_name}.line_id")
        if quantity > remaining[line.line_id]:
            raise AnswerRefused(
                f"{field_name}.quantity",
                f"{quantity} of line {line.line_id} is more than the {remaining[line.line_id]} not yet shipped",
            )
        remaining[line.line_id] -= quantity
        chosen.append({"line_id": line.line_id, "sku": line.sku, "quantity": quantity})
    return chosen


@dataclass
class Package:
    """One package of a shipment file: its first tracking number carries the rows' lines."""

    vendor_order_number: str
    tracking_number: str
    carrier: str | None
    service: str | None
    ship_date: date | None
    shipping_cost: Decimal | None
    rows: list[int] = field(default_factory=list)
    skus: list[tuple[int, str | None, int | None]] = field(default_factory=list)
    """(row, sku, quantity) of the rows it carries; a package with none carries only tracking."""


def packages_of(rows: Sequence[Any]) -> list[Package]:
    """Group shipment rows (``csv_read.ShipmentRow`` or alike) into packages by order and first tracking
    number; the further numbers of a cell are further packages carrying only tracking."""
    packages: dict[tuple[str, str], Package] = {}
    for row in rows:
        first, *others = row.tracking_numbers
        key = (row.po, first)
        package = packages.get(key)
        if package is None:
            package = packages[key] = Package(row.po, first, row.carrier, row.service, row.ship_date, row.shipping_cost)
        package.rows.append(row.row)
        package.skus.append((row.row, row.sku, row.quantity))
        for number in others:
            packages.setdefault(
                (row.po, number),
                Package(row.po, number, row.carrier, row.service, row.ship_date, None, rows=[row.row]),
            )
    return list(packages.values())
