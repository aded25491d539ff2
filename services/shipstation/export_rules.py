"""What ShipStation's schema allows in an exported order: the field limits, and the problems that
make an order unexportable (one invalid order fails ShipStation's whole import, so each is checked
before it is rendered). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from services.shipstation.order_states import VendorOrderState
from shared.contracts.orders import WeightUnit
from shared.contracts.vendor_orders import VendorOrderCreatedData, VendorOrderLine
from shared.contracts.vendors import SHIPSTATION_STATUSES, ShipStationStatus
from shared.text import clean_text


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

CENT = Decimal("0.01")
# Money and weights are xs:decimal with totalDigits 9 and fractionDigits 2: below 10^7 in magnitude.
_DECIMAL_CEILING = Decimal("10000000")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def fits_schema_decimal(amount: Decimal) -> bool:
    # The first magnitude check keeps quantize() away from numbers beyond the context's precision.
    return amount.is_finite() and abs(amount) < _DECIMAL_CEILING and abs(cents(amount)) < _DECIMAL_CEILING


def clean_untruncated(value: str | None, limit: int) -> str | None:
    """The cleaned value, or ``None`` if it would have to be cut: ids, emails and URLs break when cut."""
    cleaned = clean_text(value, limit)
    if cleaned is None or cleaned != clean_text(value, len(value or "") + 1):
        return None
    return cleaned


def line_weight_unit(line: VendorOrderLine, order: VendorOrderCreatedData) -> WeightUnit | None:
    return line.weight_unit or order.weight_unit


def _line_problems(index: int, line: VendorOrderLine, order: VendorOrderCreatedData) -> list[str]:
    label = f"line {index} ({line.line_id!r}, SKU {line.sku!r})"
    problems: list[str] = []
    if clean_text(line.name, ITEM_NAME_LIMIT) is None:
        problems.append(f"{label}: name is empty")
    if not 1 <= line.quantity <= MAX_QUANTITY:
        problems.append(f"{label}: quantity {line.quantity} is outside 1..{MAX_QUANTITY}")
    if not fits_schema_decimal(line.unit_price):
        problems.append(f"{label}: unit price {line.unit_price} does not fit 7 digits and 2 decimals")
    if line.weight is not None and line_weight_unit(line, order) is not None:
        if not line.weight.is_finite() or line.weight < 0:
            problems.append(f"{label}: weight {line.weight} is not a non-negative number")
        elif not fits_schema_decimal(line.weight):
            problems.append(f"{label}: weight {line.weight} does not fit 7 digits and 2 decimals")
    return problems


def _amount_problems(*labelled: tuple[str, Decimal]) -> list[str]:
    """Money ShipStation cannot take: beyond the schema's digits, or negative."""
    problems: list[str] = []
    for label, amount in labelled:
        if not fits_schema_decimal(amount):
            problems.append(f"{label} {amount} does not fit 7 digits and 2 decimals")
        elif amount < 0:
            problems.append(f"{label} {amount} is negative")
    return problems


def validate_order(order: ExportableOrder) -> tuple[str, ...]:
    """What would make ShipStation refuse this order and cannot be fixed by cleaning text.

    Empty when the order can be emitted. Texts that are merely too long, carry entities or control
    characters are not problems: :func:`render_order` cleans and truncates them.
    """
    vendor_order = order.vendor_order
    problems: list[str] = []

    # ShipStation keys on OrderID and echoes it in ship notices: it must go out exactly as stored.
    if clean_untruncated(vendor_order.vendor_order_id, ID_LIMIT) != vendor_order.vendor_order_id:
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

    problems.extend(
        _amount_problems(("tax amount", vendor_order.tax_amount), ("shipping amount", vendor_order.shipping_amount))
    )

    if not vendor_order.lines:
        problems.append("the order has no items")
    for index, line in enumerate(vendor_order.lines, start=1):
        problems.extend(_line_problems(index, line, vendor_order))

    problems.extend(
        _amount_problems(
            *((f"discount {discount.code!r}: amount", discount.amount) for discount in vendor_order.discounts)
        )
    )

    if vendor_order.total_weight is not None and not fits_schema_decimal(vendor_order.total_weight):
        problems.append(f"total weight {vendor_order.total_weight} does not fit 7 digits and 2 decimals")
    if not problems and not fits_schema_decimal(order_total(vendor_order)):
        problems.append(f"order total {order_total(vendor_order)} does not fit 7 digits and 2 decimals")
    return tuple(problems)


def status_name_problems(status_names: Mapping[ShipStationStatus, str]) -> tuple[str, ...]:
    """What is wrong with a vendor's status names (ShipStation matches them exactly, comma-separated)."""
    problems: list[str] = []
    for status in SHIPSTATION_STATUSES:
        name = status_names.get(status)
        if name is None:
            problems.append(f"no status name for {status!r}")
        elif clean_untruncated(name, STATUS_LIMIT) != name:
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


def order_total(vendor_order: VendorOrderCreatedData) -> Decimal:
    # Built from the rounded amounts ShipStation receives, so that sum(items) + shipping + tax equals
    # OrderTotal to the cent. It is vendor_order.order_total whenever amounts are whole cents.
    lines_total = sum((cents(line.unit_price) * line.quantity for line in vendor_order.lines), Decimal("0"))
    discounts_total = sum((cents(discount.amount) for discount in vendor_order.discounts), Decimal("0"))
    return lines_total - discounts_total + cents(vendor_order.tax_amount) + cents(vendor_order.shipping_amount)
