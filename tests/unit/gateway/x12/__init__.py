"""Tests of the X12 codec, and what they share: a partner, a vendor order, the fixtures folder, and the
independent envelope check of what we write (pyx12's reader, a test-only dependency)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyx12.x12file  # type: ignore[import-untyped]  # pyx12 ships no type information

from services.gateway.x12 import ControlNumbers, PartnerSettings
from shared.contracts.vendor_orders import VendorOrderCreatedData

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "x12"
NOW = datetime(2026, 11, 28, 9, 5, tzinfo=UTC)
NUMBERS = ControlNumbers(interchange=17, group=17, transaction=1)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def partner(**changes: Any) -> PartnerSettings:
    return PartnerSettings.model_validate({"sender_id": "MERCHANT", "receiver_id": "ACMEDIST", **changes})


def order_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "vendor_order_id": "vo_1",
        "vendor_order_number": "1001-2",
        "vendor": "acme",
        "order_id": "ord_1",
        "channel": "shop-main",
        "external_id": "9001",
        "order_number": "#1001",
        "ordered_at": "2026-11-27T23:30:00Z",
        "currency": "USD",
        "shipping_method": "UPS Ground",
        "customer": {"name": "Zoë Müller", "email": "zoe@example.com", "phone": "+1 555 0100"},
        "bill_to": {"name": "Zoë Müller"},
        "ship_to": {
            "name": "Zoë Müller",
            "company": "Müller & Söhne",
            "address1": "1 Main St",
            "address2": "Apt 4",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "country": "US",
        },
        "lines": [
            {
                "line_id": "L1",
                "sku": "MUG-1",
                "name": "Mug \u2013 blue",
                "quantity": 2,
                "unit_price": "12.50",
                "vendor_sku": "AC-MUG",
                "cost": "6.10",
                "upc": "012345678905",
                "options": [{"name": "Size", "value": "Large"}],
            },
            {
                "line_id": "L2",
                "sku": "TEE",
                "name": "Tee",
                "quantity": 3,
                "unit_price": "20.00",
                "vendor_sku": "AC-TEE",
            },
            {"line_id": "L3", "sku": "CAP", "name": "Cap", "quantity": 1, "unit_price": "8"},
        ],
    }
    fields.update(changes)
    return fields


def make_order(**changes: Any) -> VendorOrderCreatedData:
    return VendorOrderCreatedData.model_validate(order_fields(**changes))


def envelope_errors(content: bytes) -> list[Any]:
    """What pyx12's reader, which checks envelopes, counts and control numbers, finds wrong."""
    reader = pyx12.x12file.X12Reader(io.StringIO(content.decode("ascii")))
    segments = [segment.get_seg_id() for segment in reader]
    assert segments, "pyx12 read no segment"
    return list(reader.pop_errors())
