"""Helpers shared by the ShipStation tests: the project's export schema and example documents, the
reference folder (for the ``reference`` tier only), schema checks, and vendor orders to render (a
minimal one and one with every optional field set)."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from services.shipstation.xml_export import (
    DEFAULT_STATUS_NAMES,
    ExportableOrder,
    VendorOrderState,
    render_export_page,
)
from shared.contracts.vendor_orders import VendorOrderCreatedData

REPO_ROOT = Path(__file__).resolve().parents[3]
EXPORT_SCHEMA = REPO_ROOT / "services" / "shipstation" / "schema" / "custom-store.xsd"
"""The project's strict schema: every export document must validate against it."""
EXAMPLES_DIR = REPO_ROOT / "tests" / "fixtures" / "shipstation"
"""The project's example documents: ``export-page.xml`` and ``shipnotice-partial.xml``."""

CHICAGO = ZoneInfo("America/Chicago")
ORDERED_AT = datetime(2026, 11, 27, 5, 41, 17, tzinfo=UTC)
LAST_MODIFIED = datetime(2026, 11, 27, 5, 42, 59, tzinfo=UTC)


@functools.cache
def export_schema() -> etree.XMLSchema:
    """The project's own strict export schema (``services/shipstation/schema/custom-store.xsd``)."""
    return etree.XMLSchema(etree.parse(str(EXPORT_SCHEMA)))


def assert_valid(schema: etree.XMLSchema, document: etree._ElementTree | etree._Element) -> None:
    if not schema.validate(document):
        pytest.fail(f"document does not validate:\n{schema.error_log}")


def minimal_order_fields() -> dict[str, Any]:
    """Only what the contract requires."""
    return {
        "vendor_order_id": "vo_min_1",
        "vendor_order_number": "2001-1",
        "vendor": "east",
        "order_id": "ord_min_1",
        "channel": "shop-main",
        "external_id": "9001",
        "order_number": "2001",
        "ordered_at": ORDERED_AT.isoformat(),
        "currency": "USD",
        "ship_to": {
            "name": "Ana Lima",
            "address1": "2 Side St",
            "city": "Austin",
            "postal_code": "73301",
            "country": "US",
        },
        "lines": [
            {"line_id": "L1", "sku": "MUG-BLUE", "name": "Mug, blue", "quantity": 1, "unit_price": "12.00"},
        ],
    }


def rich_order_fields() -> dict[str, Any]:
    """Every optional field set, as a channel would send it."""
    return {
        "vendor_order_id": "vo_01JC8Y3M2K7Q",
        "vendor_order_number": "1001-1",
        "vendor": "east",
        "order_id": "ord_01JC8Y3M2K7P",
        "channel": "shop-main",
        "external_id": "5521",
        "order_number": "#1001",
        "ordered_at": ORDERED_AT.isoformat(),
        "status": "paid",
        "currency": "USD",
        "customer": {"name": "Jo Müller", "email": "jo@example.com", "phone": "+1 555 0100"},
        "bill_to": {
            "name": "Jo Müller",
            "company": "Müller Holdings",
            "phone": "+1 555 0199",
            "email": "billing@example.com",
        },
        "ship_to": {
            "name": "Jo Müller",
            "company": "Acme &amp; Sons",
            "address1": "1 Main St",
            "address2": "Apt 4",
            "city": "Springfield",
            "state": "Illinois",
            "postal_code": "62701",
            "country": "us",
            "phone": "+1 555 0100",
            "email": "jo@example.com",
        },
        "shipping_method": "UPS Ground",
        "payment_method": "Credit Card",
        "tax_amount": "3.99",
        "shipping_amount": "5.99",
        "discounts": [{"code": "WELCOME5", "amount": "5.00"}, {"code": "VIP", "amount": "1.25"}],
        "gift": True,
        "gift_message": "Happy birthday, Jo!",
        "customer_notes": "Leave at the back door & ring twice",
        "internal_notes": "Fraud check passed",
        "total_weight": "16.00",
        "weight_unit": "ounces",
        "lines": [
            {
                "line_id": "ln_01JC8Y3M2K7R",
                "sku": "TSHIRT-RED-M",
                "vendor_sku": "TS-R-M",
                "name": "T-shirt, red",
                "quantity": 2,
                "unit_price": "19.75",
                "cost": "7.10",
                "weight": "6.50",
                "weight_unit": "ounces",
                "image_url": "https://cdn.example.com/tshirt-red.jpg",
                "options": [{"name": "Color", "value": "Red"}, {"name": "Size", "value": "M"}],
                "location": "A-12-3",
                "upc": "012345678905",
            },
            {
                "line_id": "ln_01JC8Y3M2K7S",
                "sku": "SOCKS-3PK",
                "name": "Socks, 3 pack",
                "quantity": 1,
                "unit_price": "3.00",
                "weight": "3.00",
                "weight_unit": "ounces",
                "image_url": "https://cdn.example.com/socks.jpg",
                "options": [{"name": "Size", "value": "L"}],
                "location": "B-01-1",
                "upc": "036000291452",
            },
        ],
    }


def set_path(fields: dict[str, Any], dotted_path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``fields`` with ``a.b.0.c`` set to ``value`` (list indexes are numbers)."""
    changed = copy.deepcopy(fields)
    target: Any = changed
    *parents, last = dotted_path.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return changed


def vendor_order(fields: dict[str, Any] | None = None, **changes: Any) -> VendorOrderCreatedData:
    """A contract object from ``fields`` (minimal by default), with ``a__b__0__c=value`` changes."""
    data = minimal_order_fields() if fields is None else fields
    for key, value in changes.items():
        data = set_path(data, key.replace("__", "."), value)
    return VendorOrderCreatedData.model_validate(data)


def exportable(
    order: VendorOrderCreatedData,
    state: VendorOrderState = "paid",
    last_modified: datetime = LAST_MODIFIED,
) -> ExportableOrder:
    return ExportableOrder(vendor_order=order, state=state, last_modified=last_modified)


# --- documents to hold an export schema to ----------------------------------------------------------


@dataclass(frozen=True)
class SchemaCase:
    """A document and whether a strict export schema must accept it."""

    name: str
    document: bytes
    valid: bool


def _first_order_edit(
    name: str,
    path: str,
    valid: bool,
    *,
    text: str | None = None,
    remove: bool = False,
    times: int = 0,
    child: str | None = None,
) -> SchemaCase:
    """The example page with one change at ``path`` (below its first ``Order``; ``.`` is the order).

    ``text`` sets the element's text, ``remove`` deletes it, ``times`` makes that many copies of it side
    by side, ``child`` appends an element given as XML.
    """
    root = etree.fromstring((EXAMPLES_DIR / "export-page.xml").read_bytes())
    order = root.find("Order")
    assert order is not None
    target = order if path == "." else order.find(path)
    assert target is not None, path
    if text is not None:
        target.text = text
    if remove:
        parent = target.getparent()
        assert parent is not None
        parent.remove(target)
    for _ in range(times):
        target.addnext(copy.deepcopy(target))
    if child is not None:
        target.append(etree.fromstring(child))
    return SchemaCase(name, etree.tostring(root, xml_declaration=True, encoding="utf-8"), valid)


REQUIRED_IN_ORDER = (
    "OrderID", "OrderNumber", "OrderDate", "OrderStatus", "LastModified", "OrderTotal", "ShippingAmount",
    "Customer", "Items", "Customer/CustomerCode", "Customer/BillTo", "Customer/ShipTo", "Customer/BillTo/Name",
    "Customer/ShipTo/Name", "Customer/ShipTo/Address1", "Customer/ShipTo/City", "Customer/ShipTo/PostalCode",
    "Customer/ShipTo/Country", "Items/Item/SKU", "Items/Item/Name", "Items/Item/Quantity", "Items/Item/UnitPrice",
    "Items/Item/Options/Option/Name", "Items/Item/Options/Option/Value",
)  # fmt: skip
OPTIONAL_IN_ORDER = (
    "ShippingMethod", "PaymentMethod", "CurrencyCode", "TaxAmount", "CustomerNotes", "InternalNotes", "Gift",
    "GiftMessage", "CustomField1", "CustomField2", "Source", "Customer/BillTo/Company", "Customer/BillTo/Phone",
    "Customer/BillTo/Email", "Customer/ShipTo/Address2", "Customer/ShipTo/State", "Customer/ShipTo/Phone",
    "Items/Item", "Items/Item/LineItemID", "Items/Item/ImageUrl", "Items/Item/Weight", "Items/Item/WeightUnits",
    "Items/Item/UPC", "Items/Item/Location", "Items/Item/Options", "Items/Item/Options/Option",
)  # fmt: skip
TEXT_LIMITS = {
    "OrderID": 50, "OrderNumber": 50, "OrderStatus": 50, "ShippingMethod": 100, "PaymentMethod": 50,
    "CustomerNotes": 1000, "InternalNotes": 1000, "GiftMessage": 1000, "CustomField1": 100, "Source": 50,
    "Customer/CustomerCode": 50, "Customer/BillTo/Name": 100, "Customer/BillTo/Email": 100,
    "Customer/ShipTo/Name": 100, "Customer/ShipTo/Address1": 200, "Customer/ShipTo/City": 100,
    "Customer/ShipTo/State": 100, "Customer/ShipTo/PostalCode": 50, "Items/Item/SKU": 100,
    "Items/Item/Name": 200, "Items/Item/ImageUrl": 500, "Items/Item/UPC": 12, "Items/Item/Location": 100,
    "Items/Item/Options/Option/Value": 100,
}  # fmt: skip
BAD_VALUES = (
    ("OrderDate", "3/14/2026 09:05"), ("OrderDate", "03/14/2026 9:05"), ("OrderDate", "03/14/2026 24:00"),
    ("OrderDate", "13/14/2026 09:05"), ("OrderDate", "03/14/2026 09:05:00"), ("LastModified", "2026-03-14T09:06"),
    ("OrderTotal", "56.045"), ("OrderTotal", "1234567890.00"), ("OrderTotal", "56,04"), ("OrderTotal", ""),
    ("TaxAmount", "-0.01"), ("ShippingAmount", "-6.95"), ("CurrencyCode", "usd"), ("CurrencyCode", "US"),
    ("Gift", "1"), ("Gift", "True"), ("Customer/ShipTo/Country", "USA"), ("Customer/ShipTo/Country", "U"),
    ("Items/Item/Quantity", "0"), ("Items/Item/Quantity", "100000"), ("Items/Item/Quantity", "1.5"),
    ("Items/Item/UnitPrice", "14.001"), ("Items/Item/Weight", "-1.00"), ("Items/Item/WeightUnits", "Kilograms"),
    ("OrderID", ""), ("Customer/ShipTo/Address1", ""), ("Items/Item/Name", ""),
)  # fmt: skip
GOOD_VALUES = (
    ("OrderTotal", "-3.00"), ("OrderTotal", "9999999.99"), ("OrderTotal", "56"), ("Items/Item/Quantity", "99999"),
    ("Gift", "false"), ("Customer/ShipTo/PostalCode", ""), ("Items/Item/SKU", ""), ("OrderDate", "12/31/2099 23:59"),
    ("Customer/ShipTo/Country", "GB"),
)  # fmt: skip


def schema_cases() -> list[SchemaCase]:
    """Valid and invalid export documents that pin down what a strict export schema requires: every
    required element, every length limit, every value format, and what may be left out."""
    cases = [SchemaCase("example page", (EXAMPLES_DIR / "export-page.xml").read_bytes(), True)]
    for label, fields in (("rich", rich_order_fields()), ("minimal", minimal_order_fields())):
        body, _ = render_export_page(
            [exportable(vendor_order(fields))], pages=1, zone=CHICAGO, status_names=DEFAULT_STATUS_NAMES
        )
        cases.append(SchemaCase(f"rendered {label} page", body, True))
    cases.append(SchemaCase("empty page", b'<?xml version="1.0" encoding="utf-8"?>\n<Orders pages="0"/>', True))
    cases.append(SchemaCase("no page count", b"<Orders/>", False))
    cases.append(SchemaCase("page count past xs:short", b'<Orders pages="40000"/>', False))
    cases.append(SchemaCase("another root", b'<Order pages="1"/>', False))
    for path in REQUIRED_IN_ORDER:
        cases.append(_first_order_edit(f"without {path}", path, False, remove=True))
    for path in OPTIONAL_IN_ORDER:
        cases.append(_first_order_edit(f"without {path}", path, True, remove=True))
    for path, limit in TEXT_LIMITS.items():
        cases.append(_first_order_edit(f"{path} at {limit} characters", path, True, text="é" * limit))
        cases.append(_first_order_edit(f"{path} at {limit + 1} characters", path, False, text="é" * (limit + 1)))
    for path, value in BAD_VALUES:
        cases.append(_first_order_edit(f"{path} = {value!r}", path, False, text=value))
    for path, value in GOOD_VALUES:
        cases.append(_first_order_edit(f"{path} = {value!r}", path, True, text=value))
    cases += [
        _first_order_edit("ten options", "Items/Item/Options/Option", True, times=9),
        _first_order_edit("eleven options", "Items/Item/Options/Option", False, times=10),
        _first_order_edit("OrderID twice", "OrderID", False, times=1),
        _first_order_edit("an element the schema does not know", ".", False, child="<Dimensions/>"),
        _first_order_edit("an e-mail in ShipTo", "Customer/ShipTo", False, child="<Email>a@example.org</Email>"),
    ]
    return cases
