"""A GraphQL order (the client's ``OrderDetail`` query) in the REST/webhook shape :func:`decide` reads.

Numeric ids come from ``legacyResourceId`` or the gid's tail; enums become the REST words in lower case
(``PARTIALLY_PAID`` → ``partially_paid``); money bags give their shop amount. GraphQL gives no per-code
discount amount: one code carries the order's total discount, several share it under their joined names.
Line weights are not read (REST-only ``grams``); the order's ``totalWeight`` is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.channels.shopify.fulfillment import numeric_id


def order_payload(node: Mapping[str, Any]) -> dict[str, Any]:
    order_id = str(node.get("legacyResourceId") or numeric_id(str(node.get("id") or "")))
    customer = node.get("customer") or {}
    payload: dict[str, Any] = {
        "id": int(order_id) if order_id.isdigit() else order_id,
        "admin_graphql_api_id": node.get("id"),
        "name": node.get("name"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "cancel_reason": str(node["cancelReason"]).lower() if node.get("cancelReason") else None,
        "financial_status": str(node.get("displayFinancialStatus") or "").lower() or None,
        "currency": node.get("currencyCode"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "note": node.get("note"),
        "tags": ", ".join(node.get("tags") or []),
        "total_weight": node.get("totalWeight") or 0,
        "total_tax": _amount(node.get("totalTaxSet")),
        "note_attributes": [
            {"name": a.get("key"), "value": a.get("value")} for a in node.get("customAttributes") or []
        ],
        "customer": {
            "first_name": customer.get("firstName"),
            "last_name": customer.get("lastName"),
            "email": (customer.get("defaultEmailAddress") or {}).get("emailAddress"),
            "phone": customer.get("phone"),
        }
        if customer
        else None,
        "shipping_address": _address(node.get("shippingAddress")),
        "billing_address": _address(node.get("billingAddress")),
        "shipping_lines": [
            {"title": line.get("title"), "price": _amount(line.get("originalPriceSet"))}
            for line in _nodes(node.get("shippingLines"))
        ],
        "discount_codes": _discount_codes(node),
        "line_items": [_line(line) for line in _nodes(node.get("lineItems"))],
    }
    return payload


def _line(node: Mapping[str, Any]) -> dict[str, Any]:
    variant = node.get("variant") or {}
    variant_id = variant.get("legacyResourceId") or (numeric_id(str(variant["id"])) if variant.get("id") else None)
    return {
        "id": int(numeric_id(str(node.get("id")))) if numeric_id(str(node.get("id"))).isdigit() else node.get("id"),
        "variant_id": int(variant_id) if variant_id and str(variant_id).isdigit() else variant_id,
        "sku": node.get("sku"),
        "title": node.get("title"),
        "variant_title": node.get("variantTitle"),
        "quantity": node.get("quantity"),
        "current_quantity": node.get("currentQuantity", node.get("quantity")),
        "requires_shipping": node.get("requiresShipping", True),
        "price": _amount(node.get("originalUnitPriceSet")),
        "properties": [{"name": a.get("key"), "value": a.get("value")} for a in node.get("customAttributes") or []],
    }


def _address(node: Any) -> dict[str, Any] | None:
    if not isinstance(node, Mapping):
        return None
    return {
        "name": node.get("name"),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "company": node.get("company"),
        "address1": node.get("address1"),
        "address2": node.get("address2"),
        "city": node.get("city"),
        "province": node.get("province"),
        "province_code": node.get("provinceCode"),
        "zip": node.get("zip"),
        "country": node.get("country"),
        "country_code": node.get("countryCodeV2"),
        "phone": node.get("phone"),
    }


def _discount_codes(node: Mapping[str, Any]) -> list[dict[str, Any]]:
    codes = [str(code) for code in node.get("discountCodes") or [] if code]
    if not codes:
        return []
    return [{"code": " + ".join(codes), "amount": _amount(node.get("totalDiscountsSet"))}]


def _amount(money_bag: Any) -> str:
    if not isinstance(money_bag, Mapping):
        return "0.00"
    return str((money_bag.get("shopMoney") or {}).get("amount") or "0.00")


def _nodes(connection: Any) -> list[Mapping[str, Any]]:
    if not isinstance(connection, Mapping):
        return []
    return [node for node in connection.get("nodes") or [] if isinstance(node, Mapping)]
