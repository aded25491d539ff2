"""Carrier names from vendors → the tracking companies Shopify knows."""

from __future__ import annotations

import pytest

from services.channels.shopify.carriers import shopify_company, tracking_info


@pytest.mark.parametrize(
    ("ours", "shopify"),
    [("UPS", "UPS"), ("ups", "UPS"), ("fedex", "FedEx"), ("FedEx Ground", "FedEx"), ("usps", "USPS"),
     ("stamps_com", "USPS"), ("dhl_express", "DHL Express"), ("DHL", "DHL Express"), ("canada_post", "Canada Post"),
     ("royal_mail", "Royal Mail"), ("australia_post", "Australia Post"), ("dpd", "DPD"), ("gls", "GLS"),
     ("purolator", "Purolator"), ("ontrac", "OnTrac")],
)  # fmt: skip
def test_known_carriers(ours: str, shopify: str) -> None:
    assert shopify_company(ours) == shopify


def test_known_carrier_gets_no_url_unless_the_shop_gives_one() -> None:
    assert tracking_info("ups", "1Z999", {}) == {"company": "UPS", "number": "1Z999"}


def test_unknown_carrier_keeps_its_name_and_takes_the_shop_template() -> None:
    templates = {"Acme Freight": "https://track.acme.example/?n={number}"}
    assert tracking_info("acme freight", "AF-1", templates) == {
        "company": "acme freight",
        "number": "AF-1",
        "url": "https://track.acme.example/?n=AF-1",
    }
    assert tracking_info("Other Co", "9", templates) == {"company": "Other Co", "number": "9"}


def test_no_carrier_no_number() -> None:
    assert tracking_info(None, None, {}) == {}
    assert tracking_info("  ", "5", {}) == {"number": "5"}
