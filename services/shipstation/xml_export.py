"""The export document ShipStation pulls (``GET ?action=export``): vendor orders as ``<Orders><Order>…``.

Pure functions: the caller fetches one page of :class:`ExportableOrder` and gets back the bytes to
answer with, plus the orders that had to be left out. ShipStation validates every order against its
schema and one invalid order fails the whole import, so each order is checked by
:func:`validate_order` first, rejected ones are reported instead of emitted, and every text field goes
through :func:`~services.shipstation.text.clean_text` with the length ShipStation allows.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from lxml import etree

from services.shipstation.text import clean_text, us_ca_state_code
from services.shipstation.timezones import format_export_datetime
from shared.contracts.orders import LineOption, WeightUnit
from shared.contracts.vendor_orders import VendorOrderCreatedData, VendorOrderLine

ShipStationStatus = Literal["unpaid", "paid", "shipped", "cancelled", "on_hold"]
SHIPSTATION_STATUSES: tuple[ShipStationStatus, ...] = get_args(ShipStationStatus)

DEFAULT_STATUS_NAMES: Mapping[ShipStationStatus, str] = MappingProxyType(
    {status: status for status in SHIPSTATION_STATUSES}
)
"""What we emit as ``OrderStatus`` unless the vendor configured other names; the merchant pastes these
into ShipStation's five status boxes."""

VendorOrderState = Literal["unpaid", "paid", "on_hold", "partially_shipped", "shipped", "cancelled"]

_STATE_TO_STATUS: Mapping[VendorOrderState, ShipStationStatus] = MappingProxyType(
    {
        "unpaid": "unpaid",
        "paid": "paid",
        "on_hold": "on_hold",
        # ShipStation still has items to ship: "shipped" would close the order there.
        "partially_shipped": "paid",
        "shipped": "shipped",
        "cancelled": "cancelled",
    }
)


def shipstation_status(state: VendorOrderState) -> ShipStationStatus:
    """Which of ShipStation's five statuses a vendor order in ``state`` shows as."""
    return _STATE_TO_STATUS[state]


@dataclass(frozen=True)
class ExportableOrder:
    vendor_order: VendorOrderCreatedData
    state: VendorOrderState
    last_modified: datetime
    """Aware; bumped on every change ShipStation should see, never by exporting."""


@dataclass(frozen=True)
class RejectedOrder:
    """An order left out of an export page, with what would have made ShipStation refuse it."""

    vendor_order_id: str
    order_number: str
    problems: tuple[str, ...]


# Field lengths from ShipStation's schema (custom-store.xsd, the stricter reading).
ID_LIMIT = 50
STATUS_LIMIT = 50
SHIPPING_METHOD_LIMIT = 100
PAYMENT_METHOD_LIMIT = 50
NOTES_LIMIT = 1000
CUSTOM_FIELD_LIMIT = 100
SOURCE_LIMIT = 50
CUSTOMER_CODE_LIMIT = 50
NAME_LIMIT = 100
COMPANY_LIMIT = 100
PHONE_LIMIT = 50
EMAIL_LIMIT = 100
ADDRESS_LIMIT = 200
CITY_LIMIT = 100
POSTAL_CODE_LIMIT = 50
SKU_LIMIT = 100
ITEM_NAME_LIMIT = 200
IMAGE_URL_LIMIT = 500
UPC_LIMIT = 12
LOCATION_LIMIT = 100
OPTION_LIMIT = 100
MAX_OPTIONS = 10
MAX_QUANTITY = 99999
MAX_PAGES = 32767  # the root's pages attribute is an xs:short

_CENT = Decimal("0.01")
# Money and weights are xs:decimal with totalDigits 9 and fractionDigits 2: below 10^7 in magnitude.
_DECIMAL_CEILING = Decimal("10000000")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
_WEIGHT_UNITS: Mapping[WeightUnit, str] = MappingProxyType({"pounds": "Pounds", "ounces": "Ounces", "grams": "Grams"})


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """Two decimals, ``.`` separator, half-up: ``5`` → ``5.00``, ``-0.004`` → ``0.00``."""
    cents = _cents(amount)
    if cents.is_zero():
        # Decimal keeps the sign of zero; "-0.00" is valid XML but reads like a bug on a packing slip.
        cents = abs(cents)
    return f"{cents:f}"


def _fits_schema_decimal(amount: Decimal) -> bool:
    # The first magnitude check keeps quantize() away from numbers beyond the context's precision.
    return amount.is_finite() and abs(amount) < _DECIMAL_CEILING and abs(_cents(amount)) < _DECIMAL_CEILING


def _clean_untruncated(value: str | None, limit: int) -> str | None:
    """The cleaned value, or ``None`` if it would have to be cut: ids, emails and URLs break when cut."""
    cleaned = clean_text(value, limit)
    if cleaned is None or cleaned != clean_text(value, len(value or "") + 1):
        return None
    return cleaned


def _first_present(*candidates: str | None) -> str | None:
    for candidate in candidates:
        if candidate is not None:
            return candidate
    return None


def _line_weight_unit(line: VendorOrderLine, order: VendorOrderCreatedData) -> WeightUnit | None:
    return line.weight_unit or order.weight_unit


def _line_problems(index: int, line: VendorOrderLine, order: VendorOrderCreatedData) -> list[str]:
    label = f"line {index} ({line.line_id!r}, SKU {line.sku!r})"
    problems: list[str] = []
    if clean_text(line.name, ITEM_NAME_LIMIT) is None:
        problems.append(f"{label}: name is empty")
    if not 1 <= line.quantity <= MAX_QUANTITY:
        problems.append(f"{label}: quantity {line.quantity} is outside 1..{MAX_QUANTITY}")
    if not _fits_schema_decimal(line.unit_price):
        problems.append(f"{label}: unit price {line.unit_price} does not fit 7 digits and 2 decimals")
    if line.weight is not None and _line_weight_unit(line, order) is not None:
        if not line.weight.is_finite() or line.weight < 0:
            problems.append(f"{label}: weight {line.weight} is not a non-negative number")
        elif not _fits_schema_decimal(line.weight):
            problems.append(f"{label}: weight {line.weight} does not fit 7 digits and 2 decimals")
    return problems


def validate_order(order: ExportableOrder) -> tuple[str, ...]:
    """What would make ShipStation refuse this order and cannot be fixed by cleaning text.

    Empty when the order can be emitted. Texts that are merely too long, carry entities or control
    characters are not problems: :func:`render_order` cleans and truncates them.
    """
    vendor_order = order.vendor_order
    problems: list[str] = []

    # ShipStation keys on OrderID and echoes it in ship notices: it must go out exactly as stored.
    if _clean_untruncated(vendor_order.vendor_order_id, ID_LIMIT) != vendor_order.vendor_order_id:
        problems.append(
            f"vendor order id {vendor_order.vendor_order_id!r} is empty, longer than {ID_LIMIT} "
            "characters or contains characters XML cannot carry"
        )
    order_number = clean_text(vendor_order.vendor_order_number, ID_LIMIT + 1)
    if order_number is None or len(order_number) > ID_LIMIT:
        problems.append(f"order number {vendor_order.vendor_order_number!r} is empty or over {ID_LIMIT} characters")
    if order.last_modified.tzinfo is None or order.last_modified.utcoffset() is None:
        problems.append("last_modified is a naive datetime")

    currency = (clean_text(vendor_order.currency, 10) or "").upper()
    if not _CURRENCY_CODE.fullmatch(currency):
        problems.append(f"currency {vendor_order.currency!r} is not a three-letter ISO 4217 code")

    ship_to = vendor_order.ship_to
    required_address_fields = {
        "ship-to name": (ship_to.name, NAME_LIMIT),
        "ship-to address1": (ship_to.address1, ADDRESS_LIMIT),
        "ship-to city": (ship_to.city, CITY_LIMIT),
        "ship-to postal code": (ship_to.postal_code, POSTAL_CODE_LIMIT),
    }
    for field_label, (value, limit) in required_address_fields.items():
        if clean_text(value, limit) is None:
            problems.append(f"{field_label} is missing")
    country = (clean_text(ship_to.country, 10) or "").upper()
    if not _COUNTRY_CODE.fullmatch(country):
        problems.append(f"ship-to country {ship_to.country!r} is not a two-letter ISO 3166 code")

    for amount_label, amount in (
        ("tax amount", vendor_order.tax_amount),
        ("shipping amount", vendor_order.shipping_amount),
    ):
        if not _fits_schema_decimal(amount):
            problems.append(f"{amount_label} {amount} does not fit 7 digits and 2 decimals")
        elif amount < 0:
            problems.append(f"{amount_label} {amount} is negative")

    if not vendor_order.lines:
        problems.append("the order has no items")
    for index, line in enumerate(vendor_order.lines, start=1):
        problems.extend(_line_problems(index, line, vendor_order))

    for discount in vendor_order.discounts:
        if not _fits_schema_decimal(discount.amount):
            problems.append(
                f"discount {discount.code!r}: amount {discount.amount} does not fit 7 digits and 2 decimals"
            )
        elif discount.amount < 0:
            problems.append(f"discount {discount.code!r}: amount {discount.amount} is negative")

    if vendor_order.total_weight is not None and not _fits_schema_decimal(vendor_order.total_weight):
        problems.append(f"total weight {vendor_order.total_weight} does not fit 7 digits and 2 decimals")
    if not problems and not _fits_schema_decimal(_order_total(vendor_order)):
        problems.append(f"order total {_order_total(vendor_order)} does not fit 7 digits and 2 decimals")
    return tuple(problems)


def status_name_problems(status_names: Mapping[ShipStationStatus, str]) -> tuple[str, ...]:
    """What is wrong with a vendor's status names (ShipStation matches them exactly, comma-separated)."""
    problems: list[str] = []
    for status in SHIPSTATION_STATUSES:
        name = status_names.get(status)
        if name is None:
            problems.append(f"no status name for {status!r}")
        elif _clean_untruncated(name, STATUS_LIMIT) != name:
            problems.append(
                f"status name {name!r} for {status!r} is empty, padded, over {STATUS_LIMIT} characters "
                "or contains characters XML cannot carry"
            )
        elif "," in name:
            problems.append(f"status name {name!r} for {status!r} contains a comma: ShipStation splits on it")
    names = [status_names[status] for status in SHIPSTATION_STATUSES if status in status_names]
    for name in sorted({name for name in names if names.count(name) > 1}):
        sharing = [status for status in SHIPSTATION_STATUSES if status_names.get(status) == name]
        problems.append(f"status name {name!r} is used for {', '.join(sharing)}: ShipStation could not tell them apart")
    return tuple(problems)


def _order_total(vendor_order: VendorOrderCreatedData) -> Decimal:
    # Built from the rounded amounts ShipStation receives, so that sum(items) + shipping + tax equals
    # OrderTotal to the cent. It is vendor_order.order_total whenever amounts are whole cents.
    lines_total = sum((_cents(line.unit_price) * line.quantity for line in vendor_order.lines), Decimal("0"))
    discounts_total = sum((_cents(discount.amount) for discount in vendor_order.discounts), Decimal("0"))
    return lines_total - discounts_total + _cents(vendor_order.tax_amount) + _cents(vendor_order.shipping_amount)


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
        code = _clean_untruncated(candidate, CUSTOMER_CODE_LIMIT)
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
        _clean_untruncated(bill_to.email if bill_to else None, EMAIL_LIMIT),
        _clean_untruncated(customer.email if customer else None, EMAIL_LIMIT),
        _clean_untruncated(ship_to.email, EMAIL_LIMIT),
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
    per_unit = (total_weight / units).quantize(_CENT, rounding=ROUND_DOWN)
    weights = [per_unit] * len(quantities)
    leftover = total_weight - per_unit * units
    single = next((index for index, quantity in enumerate(quantities) if quantity == 1), None)
    if leftover > 0 and single is not None:
        weights[single] = per_unit + leftover.quantize(_CENT, rounding=ROUND_HALF_UP)
    return weights


def _line_weights(vendor_order: VendorOrderCreatedData) -> list[tuple[Decimal, WeightUnit] | None]:
    """Each line's per-unit weight and unit as exported: its own, else a share of the order's total."""
    own: list[tuple[Decimal, WeightUnit] | None] = []
    for line in vendor_order.lines:
        unit = _line_weight_unit(line, vendor_order)
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
    _add_text(item, "LineItemID", _clean_untruncated(line.line_id, ID_LIMIT))
    etree.SubElement(item, "SKU").text = clean_text(line.sku, SKU_LIMIT) or ""
    _add_text(item, "Name", clean_text(line.name, ITEM_NAME_LIMIT))
    image_url = _clean_untruncated(line.image_url, IMAGE_URL_LIMIT)
    if image_url is not None and not any(char.isspace() for char in image_url):
        _add_text(item, "ImageUrl", image_url)
    if weight is not None:
        # Weight is per unit; without a unit ShipStation would guess one, so it is left out instead.
        _add_text(item, "Weight", format_money(weight[0]))
        _add_text(item, "WeightUnits", _WEIGHT_UNITS[weight[1]])
    _add_text(item, "Quantity", str(line.quantity))
    _add_text(item, "UnitPrice", format_money(line.unit_price))
    # A cut UPC/EAN is a different product code: leave it out rather than truncate.
    _add_text(item, "UPC", _clean_untruncated(line.upc, UPC_LIMIT))
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
    _add_text(element, "OrderTotal", format_money(_order_total(vendor_order)))
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


FragmentKey = tuple[str, str, datetime, str, tuple[tuple[str, str], ...]]


def fragment_key(
    vendor_order_id: str,
    state: str,
    last_modified: datetime,
    zone: ZoneInfo,
    status_names: Mapping[ShipStationStatus, str],
) -> FragmentKey:
    """Everything an ``<Order>`` fragment depends on besides the vendor order's payload, which never
    changes once stored (a change ShipStation should see bumps ``last_modified``)."""
    return vendor_order_id, state, last_modified, zone.key, tuple(sorted(status_names.items()))


class FragmentCache:
    """The most recently exported ``<Order>`` fragments, so that ShipStation's routine polls, which
    ask for the same recent orders again and again, are answered without validating and rendering
    them anew. Bounded: at about 2 kB a fragment, the default holds some 8 MB."""

    def __init__(self, max_entries: int = 4000) -> None:
        self._entries: OrderedDict[FragmentKey, bytes] = OrderedDict()
        self._max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, key: FragmentKey) -> bytes | None:
        fragment = self._entries.get(key)
        if fragment is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return fragment

    def put(self, key: FragmentKey, fragment: bytes) -> None:
        self._entries[key] = fragment
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
