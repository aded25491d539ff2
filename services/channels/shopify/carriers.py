"""Our carrier names (free text from vendors) as the tracking companies Shopify knows.

Shopify builds the tracking link itself for the companies on its documented list of supported tracking
companies, when the company name is given exactly as listed there. Any other carrier is passed under its
own name; its link then comes from the shop's ``tracking_url_templates`` option, or is left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SHOPIFY_COMPANIES: dict[str, str] = {
    "ups": "UPS",
    "upsground": "UPS",
    "upsmailinnovations": "UPS",
    "fedex": "FedEx",
    "fedexground": "FedEx",
    "fedexexpress": "FedEx",
    "fedexhomedelivery": "FedEx",
    "fedexsmartpost": "FedEx",
    "usps": "USPS",
    "stampscom": "USPS",
    "stamps": "USPS",
    "unitedstatespostalservice": "USPS",
    "dhl": "DHL Express",
    "dhlexpress": "DHL Express",
    "dhlecommerce": "DHL eCommerce",
    "dhlecommerceasia": "DHL eCommerce Asia",
    "dhlparcel": "DHL Parcel",
    "canadapost": "Canada Post",
    "royalmail": "Royal Mail",
    "australiapost": "Australia Post",
    "auspost": "Australia Post",
    "dpd": "DPD",
    "dpduk": "DPD UK",
    "dpdlocal": "DPD Local",
    "gls": "GLS",
    "purolator": "Purolator",
    "ontrac": "OnTrac",
    "lasership": "LaserShip",
    "amazonlogistics": "Amazon Logistics US",
    "canpar": "Canpar",
    "postnl": "PostNL",
    "postnord": "PostNord",
    "laposte": "La Poste",
    "colissimo": "Colissimo",
    "deutschepost": "Deutsche Post",
    "hermes": "Hermes",
    "evri": "Evri",
    "parcelforce": "Parcelforce",
    "sendle": "Sendle",
    "startrack": "StarTrack",
    "couriersplease": "Couriers Please",
    "newzealandpost": "New Zealand Post",
    "chinapost": "China Post",
    "sfexpress": "SF Express",
    "yamato": "Yamato",
    "sagawa": "Sagawa",
    "japanpost": "Japan Post",
    "tnt": "TNT",
    "aramex": "Aramex",
    "bluedart": "Bluedart",
    "delhivery": "Delhivery",
    "correos": "Correos",
    "posteitaliane": "Poste Italiane",
    "bpost": "bpost",
    "swisspost": "Swiss Post",
    "austrianpost": "Austrian Post",
}
"""Normalised name (letters and digits only, lower case) → Shopify's tracking company name."""

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def shopify_company(carrier: str | None) -> str | None:
    """The company name Shopify knows for ``carrier``, or the carrier's own name when Shopify has none."""
    if carrier is None or not carrier.strip():
        return None
    key = _NOT_ALNUM.sub("", carrier.lower())
    return SHOPIFY_COMPANIES.get(key, carrier.strip())


def is_supported(carrier: str | None) -> bool:
    return carrier is not None and _NOT_ALNUM.sub("", carrier.lower()) in SHOPIFY_COMPANIES


def tracking_url(carrier: str | None, number: str | None, templates: Mapping[str, str]) -> str | None:
    """The shop's link for this carrier's number: the template named exactly, or case-insensitively."""
    if not carrier or not number:
        return None
    template = templates.get(carrier)
    if template is None:
        wanted = carrier.strip().lower()
        template = next((t for name, t in templates.items() if name.strip().lower() == wanted), None)
    if not template or "{number}" not in template:
        return None
    return template.replace("{number}", number)


def tracking_info(carrier: str | None, number: str | None, templates: Mapping[str, str]) -> dict[str, Any]:
    """The ``FulfillmentTrackingInput`` for one package: ``company``, ``number`` and, for a carrier Shopify
    does not know (or when the shop gives a template for it), ``url``."""
    info: dict[str, Any] = {}
    company = shopify_company(carrier)
    if company:
        info["company"] = company
    if number:
        info["number"] = number
    url = tracking_url(carrier, number, templates)
    if url:
        info["url"] = url
    return info
