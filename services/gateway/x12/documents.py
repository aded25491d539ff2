"""The partner's answers that are not shipments: the 855 purchase order acknowledgement, the 846
inventory advice and the 810 invoice, each read from one transaction set.

A reader takes what it can and says what it could not, per line: a quantity that is not a number, an
ACK01 code the partner's ``ack_codes`` do not name, a stock row that names only a UPC. Segments a
reader does not use are skipped. Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from services.gateway.x12.model import Segment, TransactionSet
from services.gateway.x12.settings import AckCodes, AckLineStatus
from services.gateway.x12.values import parse_date, parse_datetime, parse_decimal, parse_quantity

SCHEDULE_DATE_QUALIFIERS = ("068", "067", "017", "069", "010", "011", "002")
"""ACK04 qualifiers whose ACK05 is when the line ships or arrives (068 current schedule ship first)."""
AVAILABLE_QUANTITY = "33"


def _expect(transaction: TransactionSet, set_id: str) -> None:
    if transaction.set_id != set_id:
        raise ValueError(f"expected a {set_id}, got a {transaction.set_id}")


@dataclass
class AckedLine:
    line_number: int
    """PO101: the position of our line in the 850 (1..n)."""
    status: AckLineStatus
    quantity: int
    expected_ship_date: date | None
    vendor_sku: str | None
    code: str
    """ACK01 as sent."""


@dataclass
class PoAcknowledgement:
    po_number: str
    date: date | None
    acknowledgement_type: str
    """BAK02: ``AC``/``AD``/``AK`` acknowledged, ``RD``/``RJ`` rejected."""
    lines: list[AckedLine] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rejected_without_detail(self) -> bool:
        """``BAK02 RJ`` with no line: the whole order is refused."""
        return self.acknowledgement_type == "RJ" and not self.lines


def read_po_acknowledgement(transaction: TransactionSet, codes: AckCodes) -> PoAcknowledgement:
    """The 855 ``transaction``: per PO1, one line per ACK (a line split into accepted and backordered
    units has two)."""
    _expect(transaction, "855")
    header = next((segment for segment in transaction.segments if segment.id == "BAK"), None)
    ack = PoAcknowledgement(
        po_number=header.element(3) if header else "",
        date=parse_date(header.element(4)) if header else None,
        acknowledgement_type=header.element(2) if header else "",
    )
    if header is None or not ack.po_number:
        ack.errors.append("no BAK03: the acknowledgement names no purchase order")
    item: Segment | None = None
    for segment in transaction.segments:
        if segment.id == "PO1":
            item = segment
            if not segment.element(1).isdigit():
                ack.errors.append(f"PO101 {segment.element(1)!r} is not a line number")
        elif segment.id == "ACK" and item is not None:
            line = _acked_line(item, segment, codes, ack.errors)
            if line is not None:
                ack.lines.append(line)
    return ack


def _acked_line(item: Segment, segment: Segment, codes: AckCodes, errors: list[str]) -> AckedLine | None:
    label = f"line {item.element(1)!r}"
    if not item.element(1).isdigit():
        return None
    code = segment.element(1)
    status = codes.status_of(code)
    if status is None:
        errors.append(f"{label}: ACK01 code {code!r} is not one the partner's ack_codes name")
        return None
    raw_quantity = segment.element(2) or item.element(2)
    quantity = parse_quantity(raw_quantity)
    if quantity is None or quantity < 0:
        errors.append(f"{label}: quantity {raw_quantity!r} is not a whole number of units")
        return None
    shipping = None
    if segment.element(5) and segment.element(4) in (*SCHEDULE_DATE_QUALIFIERS, ""):
        shipping = parse_date(segment.element(5))
        if shipping is None:
            errors.append(f"{label}: ACK05 {segment.element(5)!r} is not a date")
    vendor_sku = dict(item.pairs(6)).get("VN") or dict(segment.pairs(7)).get("VN")
    return AckedLine(int(item.element(1)), status, quantity, shipping, vendor_sku, code)


@dataclass
class InventoryRow:
    position: int
    """1-based count of the LIN segments: how an error names its row."""
    vendor_sku: str | None
    sku: str | None
    quantity: int


@dataclass
class InventoryAdvice:
    as_of: datetime | None
    rows: list[InventoryRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    """(position, message); position 0 for the document itself."""


def read_inventory_advice(transaction: TransactionSet) -> InventoryAdvice:
    """The 846 ``transaction``: per LIN the product (VN vendor SKU, else SK our SKU) and QTY*33."""
    _expect(transaction, "846")
    advice = InventoryAdvice(as_of=None)
    rows: list[tuple[int, Segment, list[Segment]]] = []
    report_date: datetime | None = None
    for segment in transaction.segments:
        if segment.id == "LIN":
            rows.append((len(rows) + 1, segment, []))
        elif rows:
            rows[-1][2].append(segment)
        elif segment.id == "DTM" and advice.as_of is None:
            advice.as_of = parse_datetime(segment.element(2), segment.element(3))
        elif segment.id == "BIA":
            report_date = parse_datetime(segment.element(4), segment.element(5))
    # The header's DTM says when the stock was counted; without one, the report's own date (BIA04/05).
    advice.as_of = advice.as_of or report_date
    for position, item, details in rows:
        row = _inventory_row(position, item, details, advice.errors)
        if row is not None:
            advice.rows.append(row)
    return advice


def _inventory_row(
    position: int, item: Segment, details: list[Segment], errors: list[tuple[int, str]]
) -> InventoryRow | None:
    ids = dict(item.pairs(2))
    vendor_sku, sku = ids.get("VN"), ids.get("SK")
    if not vendor_sku and not sku:
        named = ", ".join(f"{qualifier} {value}" for qualifier, value in item.pairs(2)) or "nothing"
        errors.append((position, f"the row names {named}: a row needs a VN vendor SKU or an SK SKU"))
        return None
    available = next(
        (segment for segment in details if segment.id == "QTY" and segment.element(1) == AVAILABLE_QUANTITY), None
    )
    if available is None:
        errors.append((position, "no QTY*33 (available quantity)"))
        return None
    quantity = parse_quantity(available.element(2))
    if quantity is None:
        errors.append((position, f"quantity {available.element(2)!r} is not a whole number of units"))
        return None
    # A negative available quantity (some partners' way of saying backordered) is none to sell.
    return InventoryRow(position, vendor_sku, None if vendor_sku else sku, max(quantity, 0))


@dataclass
class Invoice:
    invoice_number: str
    invoice_date: date | None
    po_number: str
    total: Decimal | None
    """TDS01: the amount in cents (two implied decimals) as money."""
    lines: int
    errors: list[str] = field(default_factory=list)


def read_invoice(transaction: TransactionSet) -> Invoice:
    """The 810 ``transaction``: which PO it bills, and its total."""
    _expect(transaction, "810")
    header = next((segment for segment in transaction.segments if segment.id == "BIG"), None)
    totals = next((segment for segment in transaction.segments if segment.id == "TDS"), None)
    invoice = Invoice(
        invoice_number=header.element(2) if header else "",
        invoice_date=parse_date(header.element(1)) if header else None,
        po_number=header.element(4) if header else "",
        total=None,
        lines=sum(1 for segment in transaction.segments if segment.id == "IT1"),
    )
    if header is None:
        invoice.errors.append("no BIG: the invoice has no number")
    elif not invoice.po_number:
        invoice.errors.append("no BIG04: the invoice names no purchase order")
    cents = parse_decimal(totals.element(1)) if totals else None
    if totals is None:
        invoice.errors.append("no TDS: the invoice has no total")
    elif cents is None or cents != cents.to_integral_value():
        invoice.errors.append(f"TDS01 {totals.element(1)!r} is not an amount in cents")
    else:
        invoice.total = (cents / 100).quantize(Decimal("0.01"))
    return invoice
