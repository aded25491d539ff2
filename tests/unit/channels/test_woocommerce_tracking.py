"""Carrier names to Shipment Tracking providers, the tracking item and the note text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.channels.ports import ShipmentPush, ShippedLine
from services.channels.woocommerce.tracking import (
    carrier_label,
    note_text,
    provider_for,
    shipment_in_note,
    tracking_item,
)

PUSH = ShipmentPush(
    shipment_id="shp_1",
    platform_order_id="727",
    order_number="727",
    vendor="acme",
    carrier="ups",
    service="Ground",
    tracking_number="1Z999AA10123456784",
    ship_date=date(2026, 3, 3),
    notify_customer=True,
    lines=(ShippedLine(line_id="315", quantity=2),),
    order_shipped=True,
)


@pytest.mark.parametrize(
    ("carrier", "provider"),
    [
        ("UPS", "UPS"), ("ups", "UPS"), ("fedex", "FedEx"), ("FedEx Ground", "FedEx"), ("usps", "USPS"),
        ("stamps_com", "USPS"), ("dhl_express", "DHL"), ("canada_post", "Canada Post"), ("Canada Post", "Canada Post"),
        ("royal_mail", "Royal Mail"), ("australia_post", "Australia Post"), ("dpd", "DPD"),
    ],
)  # fmt: skip
def test_carriers_map_to_the_extensions_provider_names(carrier: str, provider: str) -> None:
    assert provider_for(carrier) == provider


def test_a_known_carrier_is_a_provider() -> None:
    assert tracking_item(PUSH, {}) == {
        "tracking_provider": "UPS",
        "tracking_number": "1Z999AA10123456784",
        "date_shipped": "2026-03-03",
    }


def test_an_unknown_carrier_is_a_custom_provider_with_the_shops_link() -> None:
    push = replace(PUSH, carrier="Acme Freight", tracking_number="AF 12/3")
    templates = {"acme_freight": "https://track.acme.example/{number}?src=shop"}
    assert tracking_item(push, templates) == {
        "custom_tracking_provider": "Acme Freight",
        "custom_tracking_link": "https://track.acme.example/AF%2012%2F3?src=shop",
        "tracking_number": "AF 12/3",
        "date_shipped": "2026-03-03",
    }
    without_template = tracking_item(push, {})
    assert without_template is not None and "custom_tracking_link" not in without_template


def test_no_tracking_item_without_a_number_or_a_carrier() -> None:
    assert tracking_item(replace(PUSH, tracking_number=None), {}) is None
    assert tracking_item(replace(PUSH, carrier=None), {}) is None


def test_the_note_says_the_shipment_and_carries_its_marker() -> None:
    text = note_text(PUSH)
    assert text == "Shipped by UPS (Ground) on 2026-03-03, tracking 1Z999AA10123456784 [shipment shp_1]"
    assert shipment_in_note(text) == "shp_1"
    box = note_text(replace(PUSH, lines=(), carrier="Acme Freight", service=None, ship_date=None, tracking_number="X1"))
    assert box == "Another box shipped by Acme Freight, tracking X1 [shipment shp_1]"
    assert shipment_in_note("Order status changed from Processing to Completed.") is None
    assert carrier_label("fedex") == "FedEx"
