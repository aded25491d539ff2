"""A shipment as WooCommerce is told about it: the order note, and the Shipment Tracking item. Pure.

Carriers reach us as free text ("UPS", "ups", "stamps_com", "dhl_express"). The Shipment Tracking
extension knows its own provider names (``UPS``, ``USPS``, ``FedEx``…; it matches them ignoring case
and spaces); a carrier it does not know goes in as a custom provider, with a link built from the
shop's ``tracking_url_templates`` ({carrier: "https://…{number}…"}) when the shop gave one.

Each note ends with ``[shipment <id>]``: after a crash the client reads the order's notes and finds
its own again instead of adding a second one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from services.channels.ports import ShipmentPush

PROVIDER_BY_CARRIER = {
    "ups": "UPS",
    "usps": "USPS",
    "stamps_com": "USPS",  # Stamps.com buys USPS postage
    "endicia": "USPS",
    "fedex": "FedEx",
    "fedex_ground": "FedEx",
    "fedex_express": "FedEx",
    "fedex_sameday": "FedEx Sameday",
    "ontrac": "OnTrac",
    "dhl": "DHL",
    "dhl_express": "DHL",
    "canada_post": "Canada Post",
    "purolator": "Purolator",
    "royal_mail": "Royal Mail",
    "parcelforce": "ParcelForce",
    "dpd": "DPD",
    "dpd_uk": "DPD",
    "australia_post": "Australia Post",
    "auspost": "Australia Post",
    "postnl": "PostNL",
}
_MARKER = re.compile(r"\[shipment ([^\]\s]+)\]")


def carrier_key(carrier: str) -> str:
    """``"Canada Post"``, ``"canada-post"`` and ``"canada_post"`` alike: ``canada_post``."""
    return re.sub(r"[^a-z0-9]+", "_", carrier.strip().lower()).strip("_")


def provider_for(carrier: str) -> str | None:
    """The Shipment Tracking provider name for a carrier, or none when the extension does not list it."""
    return PROVIDER_BY_CARRIER.get(carrier_key(carrier))


def carrier_label(carrier: str) -> str:
    """How a person reads the carrier: the provider's name when known, else the carrier as given."""
    return provider_for(carrier) or carrier.strip()


def tracking_link(carrier: str, tracking_number: str, templates: Mapping[str, Any]) -> str | None:
    """The shop's template for this carrier (looked up as given, then normalised), the number filled in."""
    wanted = carrier_key(carrier)
    for name, template in templates.items():
        if (name == carrier or carrier_key(str(name)) == wanted) and isinstance(template, str) and template:
            return template.replace("{number}", quote(tracking_number, safe=""))
    return None


def tracking_item(push: ShipmentPush, templates: Mapping[str, Any]) -> dict[str, str] | None:
    """The body of ``POST …/shipment-trackings``, or none when there is no number or no carrier to name."""
    if not push.tracking_number or not push.carrier or not push.carrier.strip():
        return None
    item: dict[str, str] = {"tracking_number": push.tracking_number}
    provider = provider_for(push.carrier)
    if provider is not None:
        item["tracking_provider"] = provider
    else:
        item["custom_tracking_provider"] = push.carrier.strip()
        link = tracking_link(push.carrier, push.tracking_number, templates)
        if link:
            item["custom_tracking_link"] = link
    if push.ship_date is not None:
        item["date_shipped"] = push.ship_date.isoformat()
    return item


def marker(shipment_id: str) -> str:
    return f"[shipment {shipment_id}]"


def shipment_in_note(note: str) -> str | None:
    """The shipment id a note of ours was written for, if it is one of ours."""
    found = _MARKER.search(note)
    return found.group(1) if found else None


def note_text(push: ShipmentPush) -> str:
    """ "Shipped by UPS (Ground), tracking 1Z… [shipment shp_1]": for the merchant, and the customer when told."""
    what = "Shipped" if push.lines else "Another box shipped"
    if push.carrier and push.carrier.strip():
        what += f" by {carrier_label(push.carrier)}"
        if push.service and push.service.strip():
            what += f" ({push.service.strip()})"
    if push.ship_date is not None:
        what += f" on {push.ship_date.isoformat()}"
    if push.tracking_number:
        what += f", tracking {push.tracking_number}"
    return f"{what} {marker(push.shipment_id)}"
