"""The export document ShipStation pulls (``GET ?action=export``): vendor orders as ``<Orders><Order>…``.

Pure functions: the caller fetches one page of :class:`ExportableOrder` and gets back the bytes to
answer with, plus the orders that had to be left out. ShipStation validates every order against its
schema and one invalid order fails the whole import, so each order is checked first
(:mod:`services.shipstation.export_rules`), rejected ones are reported instead of emitted, and every
text field goes through :func:`~shared.text.clean_text` with the length ShipStation allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from types import MappingProxyType
from zoneinfo import ZoneInfo

from lxml import etree

from services.shipstation.export_rules import (
    ADDRESS_LIMIT,
    CENT,
    CITY_LIMIT,
    COMPANY_LIMIT,
    CUSTOM_FIELD_LIMIT,
    CUSTOMER_CODE_LIMIT,
    EMAIL_LIMIT,
    ID_LIMIT,
    IMAGE_URL_LIMIT,
    ITEM_NAME_LIMIT,
    LOCATION_LIMIT,
    MAX_OPTIONS,
    MAX_PAGES,
    NAME_LIMIT,
    NOTES_LIMIT,
    OPTION_LIMIT,
    PAYMENT_METHOD_LIMIT,
    PHONE_LIMIT,
    POSTAL_CODE_LIMIT,
    SHIPPING_METHOD_LIMIT,
    SKU_LIMIT,
    SOURCE_LIMIT,
    UPC_LIMIT,
    ExportableOrder,
    RejectedOrder,
    cents,
    clean_untruncated,
    line_weight_unit,
    order_total,
    status_name_problems,
    validate_order,
)
from services.shipstation.order_states import DEFAULT_STATUS_NAMES, VendorOrderState, shipstation_status
from services.shipstation.state_codes import us_ca_state_code
from services.shipstation.timezones import format_export_datetime
from shared.contracts.orders import LineOption, WeightUnit
from shared.contracts.vendor_orders import VendorOrderCreatedData, VendorOrderLine
from shared.contracts.vendors import ShipStationStatus
from shared.text import clean_text

# The export's vocabulary is imported from here by its callers (tests, the reference tier, the bench),
# wherever each name is defined.
__all__ = [
    "DEFAULT_STATUS_NAMES",
    "MAX_OPTIONS",
    "MAX_PAGES",
    "ExportableOrder",
    "RejectedOrder",
    "VendorOrderState",
    "export_document",
    "format_money",
    "order_fragment",
    "render_export_page",
    "render_order",
    "shipstation_status",
    "spread_order_weight",
    "status_name_problems",
    "validate_order",
]

_WEIGHT_UNITS: Mapping[WeightUnit, str] = MappingProxyType({"pounds": "Pounds", "ounces": "Ounces", "grams": "Grams"})


def format_money(amount: Decimal) -> str:
    """Two decimals, ``.`` separator, half-up: ``5`` → ``5.00``, ``-0.004`` → ``0.00``."""
    rounded = cents(amount)
    if rounded.is_zero():
        # Decimal keeps the sign of zero; "-0.00" is valid XML but reads like a bug on a packing slip.
        rounded = abs(rounded)
    return f"{rounded:f}"


def _first_present(*candidates: str | None) -> str | None:
    for candidate in candidates:
        if candidate is not None:
            return candidate
    return None


def _add_text(parent: etree._Element, tag: str, text: str | None) -> None:
    if text is not None:
        etree.SubElement(parent, tag).text = text


def _customer_code(vendor_order: VendorOrderCreatedData) -> str:
    customer = vendor_order.customer
    bill_to = vendor_order.bill_to
    ship_to = vendor_order.ship_to
    # A cut email or phone would name a different customer, so those count only when whole; a name
    # cut to length still groups a customer's orders.
    whole_values_only = (
        customer.email if customer else None,
        bill_to.email if bill_to else None,
        ship_to.email,
        customer.phone if customer else None,
        bill_to.phone if bill_to else None,
        ship_to.phone,
    )
    for candidate in whole_values_only:
        code = clean_untruncated(candidate, CUSTOMER_CODE_LIMIT)
        if code is not None:
            return code
    names = (customer.name if customer else None, bill_to.name if bill_to else None, ship_to.name)
    for name in names:
        code = clean_text(name, CUSTOMER_CODE_LIMIT)
        if code is not None:
            return code
    return vendor_order.vendor_order_id


def _render_bill_to(parent: etree._Element, vendor_order: VendorOrderCreatedData) -> None:
    customer = vendor_order.customer
    bill_to = vendor_order.bill_to
    ship_to = vendor_order.ship_to
    bill_to_element = etree.SubElement(parent, "BillTo")
    name = _first_present(
        clean_text(bill_to.name if bill_to else None, NAME_LIMIT),
        clean_text(customer.name if customer else None, NAME_LIMIT),
        clean_text(ship_to.name, NAME_LIMIT),
    )
    _add_text(bill_to_element, "Name", name)
    _add_text(bill_to_element, "Company", clean_text(bill_to.company if bill_to else None, COMPANY_LIMIT))
    phone = _first_present(
        clean_text(bill_to.phone if bill_to else None, PHONE_LIMIT),
        clean_text(customer.phone if customer else None, PHONE_LIMIT),
        clean_text(ship_to.phone, PHONE_LIMIT),
    )
    _add_text(bill_to_element, "Phone", phone)
    # ShipStation mails shipment notifications to the bill-to email: take it from wherever we have it.
    email = _first_present(
        clean_untruncated(bill_to.email if bill_to else None, EMAIL_LIMIT),
        clean_untruncated(customer.email if customer else None, EMAIL_LIMIT),
        clean_untruncated(ship_to.email, EMAIL_LIMIT),
    )
    _add_text(bill_to_element, "Email", email)


def _render_ship_to(parent: etree._Element, vendor_order: VendorOrderCreatedData) -> None:
    ship_to = vendor_order.ship_to
    country = (clean_text(ship_to.country, 10) or "").upper()
    ship_to_element = etree.SubElement(parent, "ShipTo")
    _add_text(ship_to_element, "Name", clean_text(ship_to.name, NAME_LIMIT))
    _add_text(ship_to_element, "Company", clean_text(ship_to.company, COMPANY_LIMIT))
    _add_text(ship_to_element, "Address1", clean_text(ship_to.address1, ADDRESS_LIMIT))
    _add_text(ship_to_element, "Address2", clean_text(ship_to.address2, ADDRESS_LIMIT))
    _add_text(ship_to_element, "City", clean_text(ship_to.city, CITY_LIMIT))
    _add_text(ship_to_element, "State", us_ca_state_code(country, ship_to.state))
    _add_text(ship_to_element, "PostalCode", clean_text(ship_to.postal_code, POSTAL_CODE_LIMIT))
    _add_text(ship_to_element, "Country", country)
    _add_text(ship_to_element, "Phone", clean_text(ship_to.phone, PHONE_LIMIT))


def _usable_options(options: Iterable[LineOption]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for option in options:
        name = clean_text(option.name, OPTION_LIMIT)
        value = clean_text(option.value, OPTION_LIMIT)
        if name is not None and value is not None:
            pairs.append((name, value))
    if len(pairs) <= MAX_OPTIONS:
        return pairs
    # ShipStation takes ten options per item; the rest are folded into the tenth rather than lost.
    overflow = "; ".join(f"{name}: {value}" for name, value in pairs[MAX_OPTIONS - 1 :])
    folded_value = clean_text(overflow, OPTION_LIMIT)
    assert folded_value is not None  # built from non-empty pairs
    return [*pairs[: MAX_OPTIONS - 1], ("More options", folded_value)]


def spread_order_weight(quantities: Sequence[int], total_weight: Decimal) -> list[Decimal]:
    """Per-unit weights, one per line, for an order whose lines carry no weight but whose total is known.

    ShipStation has no order weight element: it adds up ``Weight`` times ``Quantity`` over the items, so the
    total travels as item weights. Every unit gets the same share, rounded down to the hundredth the
    schema allows; the hundredths left over go to a line of quantity 1 when there is one, which makes
    the sum exact. Without such a line the sum may fall short by less than a hundredth per unit.
    """
    units = sum(quantities)
    if units <= 0:
        return [Decimal("0.00")] * len(quantities)
    per_unit = (total_weight / units).quantize(CENT, rounding=ROUND_DOWN)
    weights = [per_unit] * len(quantities)
    leftover = total_weight - per_unit * units
    single = next((index for index, quantity in enumerate(quantities) if quantity == 1), None)
    if leftover > 0 and single is not None:
        weights[single] = per_unit + leftover.quantize(CENT, rounding=ROUND_HALF_UP)
    return weights


def _line_weights(vendor_order: VendorOrderCreatedData) -> list[tuple[Decimal, WeightUnit] | None]:
    """Each line's per-unit weight and unit as exported: its own, else a share of the order's total."""
    own: list[tuple[Decimal, WeightUnit] | None] = []
    for line in vendor_order.lines:
        unit = line_weight_unit(line, vendor_order)
        own.append((line.weight, unit) if line.weight is not None and unit is not None else None)
    if any(line.weight is not None for line in vendor_order.lines):
        return own
    if vendor_order.total_weight is None or vendor_order.weight_unit is None or vendor_order.total_weight <= 0:
        return own
    shares = spread_order_weight([line.quantity for line in vendor_order.lines], vendor_order.total_weight)
    return [(share, vendor_order.weight_unit) for share in shares]


def _render_line(
    items: etree._Element,
    line: VendorOrderLine,
    weight: tuple[Decimal, WeightUnit] | None,
) -> None:
    item = etree.SubElement(items, "Item")
    # Ship notices are matched back to lines by this id, so it is sent only when it survives intact;
    # without it the notice falls back to matching by SKU.
    _add_text(item, "LineItemID", clean_untruncated(line.line_id, ID_LIMIT))
    etree.SubElement(item, "SKU").text = clean_text(line.sku, SKU_LIMIT) or ""
    _add_text(item, "Name", clean_text(line.name, ITEM_NAME_LIMIT))
    image_url = clean_untruncated(line.image_url, IMAGE_URL_LIMIT)
    if image_url is not None and not any(char.isspace() for char in image_url):
        _add_text(item, "ImageUrl", image_url)
    if weight is not None:
        # Weight is per unit; without a unit ShipStation would guess one, so it is left out instead.
        _add_text(item, "Weight", format_money(weight[0]))
        _add_text(item, "WeightUnits", _WEIGHT_UNITS[weight[1]])
    _add_text(item, "Quantity", str(line.quantity))
    _add_text(item, "UnitPrice", format_money(line.unit_price))
    # A cut UPC/EAN is a different product code: leave it out rather than truncate.
    _add_text(item, "UPC", clean_untruncated(line.upc, UPC_LIMIT))
    _add_text(item, "Location", clean_text(line.location, LOCATION_LIMIT))
    options = _usable_options(line.options)
    if options:
        options_element = etree.SubElement(item, "Options")
        for name, value in options:
            option_element = etree.SubElement(options_element, "Option")
            _add_text(option_element, "Name", name)
            _add_text(option_element, "Value", value)


def _render_discount(items: etree._Element, code: str, amount: Decimal) -> None:
    item = etree.SubElement(items, "Item")
    cleaned_code = clean_text(code, SKU_LIMIT)
    etree.SubElement(item, "SKU").text = cleaned_code or ""
    _add_text(item, "Name", clean_text(f"Coupon {cleaned_code or ''}", ITEM_NAME_LIMIT))
    _add_text(item, "Quantity", "1")
    _add_text(item, "UnitPrice", format_money(-amount))
    _add_text(item, "Adjustment", "true")


def render_order(
    order: ExportableOrder, zone: ZoneInfo, status_names: Mapping[ShipStationStatus, str]
) -> etree._Element:
    """One ``<Order>`` element. Expects an order that :func:`validate_order` found no problems with."""
    vendor_order = order.vendor_order
    element = etree.Element("Order")
    _add_text(element, "OrderID", vendor_order.vendor_order_id)
    _add_text(element, "OrderNumber", clean_text(vendor_order.vendor_order_number, ID_LIMIT))
    _add_text(element, "OrderDate", format_export_datetime(vendor_order.ordered_at, zone))
    _add_text(element, "OrderStatus", status_names[shipstation_status(order.state)])
    _add_text(element, "LastModified", format_export_datetime(order.last_modified, zone))
    _add_text(element, "ShippingMethod", clean_text(vendor_order.shipping_method, SHIPPING_METHOD_LIMIT))
    _add_text(element, "PaymentMethod", clean_text(vendor_order.payment_method, PAYMENT_METHOD_LIMIT))
    _add_text(element, "CurrencyCode", (clean_text(vendor_order.currency, 10) or "").upper())
    _add_text(element, "OrderTotal", format_money(order_total(vendor_order)))
    _add_text(element, "TaxAmount", format_money(vendor_order.tax_amount))
    _add_text(element, "ShippingAmount", format_money(vendor_order.shipping_amount))
    _add_text(element, "CustomerNotes", clean_text(vendor_order.customer_notes, NOTES_LIMIT))
    _add_text(element, "InternalNotes", clean_text(vendor_order.internal_notes, NOTES_LIMIT))
    _add_text(element, "Gift", "true" if vendor_order.gift else "false")
    _add_text(element, "GiftMessage", clean_text(vendor_order.gift_message, NOTES_LIMIT))
    _add_text(element, "CustomField1", clean_text(vendor_order.channel, CUSTOM_FIELD_LIMIT))
    _add_text(element, "CustomField2", clean_text(vendor_order.order_number, CUSTOM_FIELD_LIMIT))
    _add_text(element, "Source", clean_text(vendor_order.channel, SOURCE_LIMIT))

    customer = etree.SubElement(element, "Customer")
    _add_text(customer, "CustomerCode", _customer_code(vendor_order))
    _render_bill_to(customer, vendor_order)
    _render_ship_to(customer, vendor_order)

    items = etree.SubElement(element, "Items")
    for line, weight in zip(vendor_order.lines, _line_weights(vendor_order), strict=True):
        _render_line(items, line, weight)
    for discount in vendor_order.discounts:
        _render_discount(items, discount.code, discount.amount)
    return element


XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def order_fragment(
    order: ExportableOrder, zone: ZoneInfo, status_names: Mapping[ShipStationStatus, str]
) -> bytes | RejectedOrder:
    """One order's ``<Order>`` element as bytes, or why it has to be left out."""
    problems = status_name_problems(status_names) + validate_order(order)
    if problems:
        return RejectedOrder(
            vendor_order_id=order.vendor_order.vendor_order_id,
            order_number=order.vendor_order.vendor_order_number,
            problems=problems,
        )
    return etree.tostring(render_order(order, zone, status_names), encoding="utf-8")


def export_document(fragments: Sequence[bytes], *, pages: int) -> bytes:
    """The whole answer: the ``<Order>`` fragments in an ``<Orders pages="…">`` document.

    ``pages`` is the page count for the whole window (``0`` when it is empty).
    """
    if not 0 <= pages <= MAX_PAGES:
        raise ValueError(f"pages must be within 0..{MAX_PAGES}, got {pages}")
    if not fragments:
        return XML_DECLARATION + f'<Orders pages="{pages}"/>'.encode()
    return XML_DECLARATION + f'<Orders pages="{pages}">'.encode() + b"".join(fragments) + b"</Orders>"


def render_export_page(
    orders: Sequence[ExportableOrder],
    *,
    pages: int,
    zone: ZoneInfo,
    status_names: Mapping[ShipStationStatus, str],
) -> tuple[bytes, list[RejectedOrder]]:
    """The whole answer to one export request, and the orders left out of it (to log and show ops).

    ``pages`` is the page count for the whole window (``0`` when it is empty). Orders that cannot be
    made valid are left out so that ShipStation still imports the others.
    """
    fragments: list[bytes] = []
    rejected: list[RejectedOrder] = []
    for order in orders:
        outcome = order_fragment(order, zone, status_names)
        if isinstance(outcome, RejectedOrder):
            rejected.append(outcome)
        else:
            fragments.append(outcome)
    return export_document(fragments, pages=pages), rejected
