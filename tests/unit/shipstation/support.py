"""Helpers shared by the ShipStation unit tests: where the reference material lives, schema checks,
and vendor orders to render (a minimal one and one with every optional field set)."""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from services.shipstation.xml_export import ExportableOrder, VendorOrderState
from shared.contracts.vendor_orders import VendorOrderCreatedData

# Elements ShipStation documents but its published XSD does not know yet (see PROTOCOL.md).
UNDOCUMENTED_IN_PUBLISHED_XSD = ("CurrencyCode", "UPC", "Dimensions")

ORDERED_AT = datetime(2026, 11, 27, 5, 41, 17, tzinfo=UTC)
LAST_MODIFIED = datetime(2026, 11, 27, 5, 42, 59, tzinfo=UTC)


def reference_dir() -> Path:
    """``shared`` beside the repository root, or ``$DROPSHIP_REFERENCE_DIR``."""
    override = os.environ.get("DROPSHIP_REFERENCE_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3].parent / "shared"


def without_undocumented_elements(document: bytes) -> etree._ElementTree:
    """The document minus what the published XSD lags behind on, ready for ``published_schema``."""
    root = etree.fromstring(document)
    for name in UNDOCUMENTED_IN_PUBLISHED_XSD:
        for element in list(root.iter(name)):
            parent = element.getparent()
            assert parent is not None
            parent.remove(element)
    return etree.ElementTree(root)


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
