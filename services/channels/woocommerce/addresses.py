"""A WooCommerce order's people and addresses as intake names them. Pure.

Woo keeps ``billing`` and ``shipping`` as flat objects (``first_name``, ``last_name``, ``company``,
``address_1``, ``address_2``, ``city``, ``state``, ``postcode``, ``country``; ``billing`` also has
``email`` and ``phone``, ``shipping`` has ``phone`` since WooCommerce 5.6). Empty strings mean absent.
"""

from __future__ import annotations

from typing import Any

from shared.countries import COUNTRIES_REQUIRING_STATE, ISO_COUNTRY_CODES

POSTAL_CODE_MAX = 20


def _text(block: dict[str, Any], key: str) -> str:
    value = block.get(key)
    return value.strip() if isinstance(value, str) else ""


def _block(payload: dict[str, Any], key: str) -> dict[str, Any]:
    block = payload.get(key)
    return block if isinstance(block, dict) else {}


def _full_name(block: dict[str, Any]) -> str:
    return " ".join(part for part in (_text(block, "first_name"), _text(block, "last_name")) if part)


def _without_empty(values: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in values.items() if value}


def ship_to(payload: dict[str, Any]) -> dict[str, Any]:
    """The shipping address; raises ``ValueError`` (saying why, for a person) when intake would refuse it."""
    shipping, billing = _block(payload, "shipping"), _block(payload, "billing")
    if not _text(shipping, "address_1"):
        raise ValueError("no shipping address")
    # A gift sent to a company's front desk may carry only the company; the buyer's name is the last resort.
    name = _full_name(shipping) or _text(shipping, "company") or _full_name(billing)
    if not name:
        raise ValueError("the shipping address has no name")
    country = _text(shipping, "country").upper()
    if country not in ISO_COUNTRY_CODES:
        raise ValueError(f"the shipping address has no ISO country code ({country or 'none'})")
    postal_code = _text(shipping, "postcode")
    if not postal_code:
        raise ValueError("the shipping address has no postcode")
    if len(postal_code) > POSTAL_CODE_MAX:
        raise ValueError(f"the shipping postcode is longer than {POSTAL_CODE_MAX} characters")
    state = _text(shipping, "state")
    if country in COUNTRIES_REQUIRING_STATE and not state:
        raise ValueError(f"the shipping address in {country} has no state")
    city = _text(shipping, "city")
    if not city:
        raise ValueError("the shipping address has no city")
    return {
        "name": name,
        **_without_empty(
            {
                "company": _text(shipping, "company"),
                "address1": _text(shipping, "address_1"),
                "address2": _text(shipping, "address_2"),
                "city": city,
                "state": state,
                "postal_code": postal_code,
                "country": country,
                # Carriers want a phone; a checkout without a shipping phone field still asked for the billing one.
                "phone": _text(shipping, "phone") or _text(billing, "phone"),
            }
        ),
    }


def bill_to(payload: dict[str, Any]) -> dict[str, str] | None:
    billing = _block(payload, "billing")
    name = _full_name(billing) or _text(billing, "company")
    if not name:
        return None
    return {
        "name": name,
        **_without_empty(
            {"company": _text(billing, "company"), "phone": _text(billing, "phone"), "email": _text(billing, "email")}
        ),
    }


def customer(payload: dict[str, Any]) -> dict[str, str] | None:
    billing = _block(payload, "billing")
    found = _without_empty(
        {"name": _full_name(billing), "email": _text(billing, "email"), "phone": _text(billing, "phone")}
    )
    return found or None
