"""The documents we send a trading partner about a vendor order: the 850 purchase order, and its
cancellation (an 850 with BEG01 ``01``, or an 860 change order with BCH01 ``01`` where the partner's
``cancel_as`` says so), and a new ship-to (an 860 with BCH01 ``04``, for partners that take 860s).

The PO number (BEG03) is the vendor order number, at most 22 characters: a longer one raises
:class:`PoNumberTooLong` instead of being cut. PO101 numbers the lines 1..n in the order's line order;
that number is how a partner's 855 and 856 lines map back to ours. Text is fitted with
:func:`~services.gateway.x12.values.clean_text` and never refuses an order. Dates in the body come
from the order (BEG05 is the order's date), so the same order gives the same body on every attempt;
``now`` only dates the envelope. Pure: standard library, pydantic models and shared.contracts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from services.gateway.x12.settings import ControlNumbers, PartnerSettings, PoNumberTooLong
from services.gateway.x12.values import clean_text, format_date, format_decimal
from services.gateway.x12.writer import Element, render_interchange
from shared.contracts.orders import Address
from shared.contracts.vendor_orders import VendorOrderCreatedData, VendorOrderLine

PO_NUMBER_LIMIT = 22
DROPSHIP = "DS"
MESSAGE_LIMIT = 264
"""MSG01 holds up to 264 characters."""

Body = list[tuple[str, Sequence[Element]]]


def render_purchase_order(
    order: VendorOrderCreatedData, partner: PartnerSettings, numbers: ControlNumbers, now: datetime
) -> bytes:
    """The 850 for ``order``: BEG*00*DS*<vendor order number>."""
    return render_interchange(partner, numbers, now, "850", _purchase_order_body(order, partner, purpose="00"))


def render_cancellation(
    order: VendorOrderCreatedData, partner: PartnerSettings, numbers: ControlNumbers, now: datetime
) -> bytes:
    """The whole vendor order cancelled: an 850 with BEG01 ``01`` repeating the order, or an 860 whose
    POC lines delete every line (``cancel_as: "860"``)."""
    if partner.cancel_as == "850":
        return render_interchange(partner, numbers, now, "850", _purchase_order_body(order, partner, purpose="01"))
    return render_interchange(partner, numbers, now, "860", _change_order_body(order, partner))


def render_ship_to_change(
    order: VendorOrderCreatedData, ship_to: Address, partner: PartnerSettings, numbers: ControlNumbers, now: datetime
) -> bytes:
    """The vendor order ships to ``ship_to`` now: an 860 change order (BCH01 ``04``) whose header carries
    the new ship-to party (N1*ST, N2, N3, N4) and no line changes."""
    text = _Text(partner)
    number = text(po_number(order), PO_NUMBER_LIMIT)
    body: Body = [("BCH", ["04", DROPSHIP, number, "", "", format_date(order.ordered_at)])]
    channel_order = text(order.order_number.removeprefix("#"), 30)
    if channel_order:
        body.append(("REF", ["CO", channel_order]))
    body.extend(_party_ship_to(ship_to, text))
    return render_interchange(partner, numbers, now, "860", body)


def po_number(order: VendorOrderCreatedData) -> str:
    """BEG03: the vendor order number, or :class:`PoNumberTooLong`."""
    number = order.vendor_order_number
    if len(number) > PO_NUMBER_LIMIT:
        raise PoNumberTooLong(number)
    return number


class _Text:
    """Cleans text for one partner's delimiters and character set."""

    def __init__(self, partner: PartnerSettings) -> None:
        self.partner = partner

    def __call__(self, value: str | None, limit: int) -> str:
        return clean_text(value, self.partner.delimiters, charset=self.partner.charset, limit=limit)


def _purchase_order_body(order: VendorOrderCreatedData, partner: PartnerSettings, *, purpose: str) -> Body:
    text = _Text(partner)
    number = text(po_number(order), PO_NUMBER_LIMIT)
    body: Body = [("BEG", [purpose, DROPSHIP, number, "", format_date(order.ordered_at)])]
    body.extend(_header(order, text))
    for line_number, line in enumerate(order.lines, start=1):
        price = format_decimal(_unit_price(line))
        body.append(("PO1", [str(line_number), str(line.quantity), "EA", price, "", *_product_ids(line, text)]))
        description = text(_description(line), 80)
        if description:
            body.append(("PID", ["F", "", "", "", description]))
    body.append(("CTT", [str(len(order.lines)), str(sum(line.quantity for line in order.lines))]))
    return body


def _header(order: VendorOrderCreatedData, text: _Text) -> Body:
    body: Body = [("CUR", ["BY", text(order.currency, 3)])]
    channel_order = text(order.order_number.removeprefix("#"), 30)
    if channel_order:
        body.append(("REF", ["CO", channel_order]))
    contact = _contact(order, text)
    if contact:
        body.append(("PER", ["IC", *contact]))
    body.append(("DTM", ["010", format_date(order.ordered_at)]))
    routing = text(order.shipping_method, 35)
    if routing:
        body.append(("TD5", ["", "", "", "", routing]))
    for label, note in (("GIFT", order.gift_message if order.gift else None), ("NOTES", order.customer_notes)):
        message = text(note, MESSAGE_LIMIT)
        if message:
            body.extend([("N9", ["L1", label]), ("MSG", [message])])
    body.extend(_party_ship_to(order.ship_to, text))
    if order.bill_to is not None:
        name = text(order.bill_to.name, 60) or text(order.bill_to.company, 60)
        if name:
            body.append(("N1", ["BT", name]))
    return body


def _contact(order: VendorOrderCreatedData, text: _Text) -> list[str]:
    customer = order.customer
    name = text(customer.name if customer else None, 60) or text(order.ship_to.name, 60)
    phone = text((customer.phone if customer else None) or order.ship_to.phone, 80)
    email = text((customer.email if customer else None) or order.ship_to.email, 80)
    if not (phone or email):
        return []
    contact = [name]
    for qualifier, value in (("TE", phone), ("EM", email)):
        if value:
            contact.extend([qualifier, value])
    return contact


def _party_ship_to(address: Address, text: _Text) -> Body:
    name = text(address.name, 60) or text(address.company, 60) or "RECIPIENT"
    body: Body = [("N1", ["ST", name])]
    company = text(address.company, 60)
    if company and company != name:
        body.append(("N2", [company]))
    body.append(("N3", [text(address.address1, 55) or "-", text(address.address2, 55)]))
    state = text(address.state, 30)
    body.append(
        ("N4", [text(address.city, 30) or "-", state if len(state) == 2 else "", text(address.postal_code, 15),
                text(address.country, 3)])
    )  # fmt: skip
    return body


def _unit_price(line: VendorOrderLine) -> Decimal:
    return line.cost if line.cost is not None else line.unit_price


def _product_ids(line: VendorOrderLine, text: _Text) -> list[str]:
    """PO106… qualifier/value pairs, only the ids known: VN vendor SKU, SK our SKU, and the line's UPC
    as UP (12 digits), EN (EAN-13) or UK (GTIN-14); a code of any other shape is left out, since the
    partner's translator would reject it."""
    ids: list[str] = []
    vendor_sku = text(line.vendor_sku, 48)
    if vendor_sku:
        ids.extend(["VN", vendor_sku])
    sku = text(line.sku, 48)
    if sku:
        ids.extend(["SK", sku])
    upc = (line.upc or "").strip()
    qualifier = {12: "UP", 13: "EN", 14: "UK"}.get(len(upc)) if upc.isdigit() else None
    if qualifier:
        ids.extend([qualifier, upc])
    return ids


def _description(line: VendorOrderLine) -> str:
    options = ", ".join(f"{option.name}: {option.value}" for option in line.options)
    return f"{line.name} ({options})" if options else line.name


def _change_order_body(order: VendorOrderCreatedData, partner: PartnerSettings) -> Body:
    text = _Text(partner)
    number = text(po_number(order), PO_NUMBER_LIMIT)
    body: Body = [("BCH", ["01", DROPSHIP, number, "", "", format_date(order.ordered_at)])]
    channel_order = text(order.order_number.removeprefix("#"), 30)
    if channel_order:
        body.append(("REF", ["CO", channel_order]))
    for line_number, line in enumerate(order.lines, start=1):
        price = format_decimal(_unit_price(line))
        ids = _product_ids(line, text)
        body.append(("POC", [str(line_number), "DI", str(line.quantity), "0", "EA", price, "", *ids]))
    body.append(("CTT", [str(len(order.lines))]))
    return body
