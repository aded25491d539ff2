"""What a Shopify order webhook asks of intake, decided without I/O.

The payload is the REST-shaped order JSON Shopify posts for ``orders/*`` topics (the reconciler turns a
GraphQL order into the same shape, :mod:`services.channels.shopify.reconcile`). Text is passed as sent:
intake cleans and limits free text. Identifiers intake would refuse (an order name past 40 characters, a
SKU past 100) make the order a ``skip`` with a reason, rather than an order intake answers 422 to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from services.channels.ports import ChannelStatus, InboundDecision, PlatformItem

TOPICS = ("orders/create", "orders/paid", "orders/updated", "orders/cancelled")
ORDER_NUMBER_MAX = 40
SKU_MAX = 100
CENT = Decimal("0.01")

PAID_STATUSES = frozenset({"paid", "partially_paid", "partially_refunded"})
UNPAID_STATUSES = frozenset({"pending", "authorized", "unpaid"})
CANCELLING_STATUSES = frozenset({"refunded", "voided"})
GIFT_FLAG_NAMES = frozenset({"gift", "is_gift", "is gift"})
GIFT_MESSAGE_NAMES = frozenset({"gift_message", "gift message", "gift-message", "giftmessage"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off", "n"})


def decide(topic: str, payload: Mapping[str, Any]) -> InboundDecision:
    """The decision for one webhook (or reconciled order) body."""
    order_id = str(payload.get("id", ""))
    updated_at = _utc(payload.get("updated_at"))
    if topic not in TOPICS:
        return InboundDecision("ignore", order_id, reason=f"topic {topic!r} is not an order topic we act on")
    ship_to = _ship_to(payload.get("shipping_address"))
    financial = str(payload.get("financial_status") or "").lower()
    cancelled = topic == "orders/cancelled" or bool(payload.get("cancelled_at"))
    if cancelled or financial in CANCELLING_STATUSES:
        reason = _cancel_reason(payload, financial, cancelled)
        return InboundDecision(
            "cancel", order_id, reason=reason, fingerprint=fingerprint("cancelled", ship_to), updated_at=updated_at
        )
    if ship_to is None:
        return InboundDecision("skip", order_id, reason="the order has no shipping address", updated_at=updated_at)
    order_number = str(payload.get("name") or payload.get("order_number") or "").removeprefix("#")
    if len(order_number) > ORDER_NUMBER_MAX:
        return InboundDecision(
            "skip",
            order_id,
            reason=f"the order name {order_number[:60]!r} is longer than {ORDER_NUMBER_MAX} characters",
            updated_at=updated_at,
        )
    lines, notes = _lines(payload.get("line_items") or [])
    too_long = [line["sku"] for line in lines if len(line["sku"]) > SKU_MAX]
    if too_long:
        return InboundDecision(
            "skip",
            order_id,
            reason=f"SKU {too_long[0][:60]!r}… is longer than {SKU_MAX} characters",
            updated_at=updated_at,
        )
    if not lines:
        why = "no line requires shipping" + (f" ({'; '.join(notes)})" if notes else "")
        return InboundDecision("skip", order_id, reason=why, updated_at=updated_at)
    status: ChannelStatus = "paid" if financial in PAID_STATUSES or not financial else "unpaid"
    if financial and financial not in PAID_STATUSES and financial not in UNPAID_STATUSES:
        status = "unpaid"  # an unknown state: hold the order rather than ship it unpaid
    order = _order_body(payload, order_number, ship_to, lines, status)
    return InboundDecision(
        "upsert",
        order_id,
        reason="; ".join(notes),
        order=order,
        channel_status=status,
        fingerprint=fingerprint(status, ship_to),
        updated_at=updated_at,
        items=_items(payload.get("line_items") or []),
    )


def fingerprint(status: str, ship_to: Mapping[str, Any] | None) -> str:
    """A stable hash of what we act on: the intake status (or ``cancelled``) and the ship-to address."""
    document = json.dumps({"status": status, "ship_to": ship_to}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(document.encode("utf-8")).hexdigest()[:32]


def _order_body(
    payload: Mapping[str, Any],
    order_number: str,
    ship_to: dict[str, Any],
    lines: list[dict[str, Any]],
    status: ChannelStatus,
) -> dict[str, Any]:
    shipping_lines = [line for line in payload.get("shipping_lines") or [] if isinstance(line, Mapping)]
    body: dict[str, Any] = {
        "external_id": str(payload.get("id")),
        "order_number": order_number,
        "ordered_at": str(payload.get("created_at") or payload.get("processed_at") or ""),
        "status": status,
        "currency": str(payload.get("currency") or payload.get("presentment_currency") or ""),
        "ship_to": ship_to,
        "shipping_amount": _money_text(sum((_money(s.get("price")) for s in shipping_lines), Decimal("0"))),
        "tax_amount": _money_text(_money(payload.get("total_tax"))),
        "discounts": _discounts(payload.get("discount_codes") or []),
        "lines": lines,
    }
    customer = _customer(payload)
    if customer:
        body["customer"] = customer
    bill_to = _party(payload.get("billing_address"))
    if bill_to:
        body["bill_to"] = bill_to
    if shipping_lines and shipping_lines[0].get("title"):
        body["shipping_method"] = str(shipping_lines[0]["title"])
    gift, gift_message = _gift(payload.get("note_attributes") or [])
    if gift:
        body["gift"] = True
    if gift_message:
        body["gift_message"] = gift_message
    if payload.get("note"):
        body["customer_notes"] = str(payload["note"])
    tags = _tags(payload.get("tags"))
    if tags:
        body["internal_notes"] = "Tags: " + ", ".join(tags)
    weight = _grams(payload.get("total_weight"))
    if weight is not None:
        body["total_weight"] = weight
        body["weight_unit"] = "grams"
    return body


def _lines(items: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The shippable lines as intake takes them, and what was left out (for the decision's reason)."""
    lines: list[dict[str, Any]] = []
    notes: list[str] = []
    for item in items:
        if not isinstance(item, Mapping) or item.get("requires_shipping") is False:
            continue
        quantity = _int(item.get("current_quantity") if "current_quantity" in item else item.get("quantity"))
        if quantity <= 0:
            continue
        title = str(item.get("title") or item.get("name") or "")
        sku = str(item.get("sku") or "").strip()
        if not sku:
            notes.append(f"line {title or item.get('id')!r} has no SKU and was left out")
            continue
        line: dict[str, Any] = {
            "line_id": str(item.get("id")),
            "sku": sku,
            "name": f"{title} - {item['variant_title']}" if item.get("variant_title") else title,
            "quantity": quantity,
            "unit_price": _money_text(_money(item.get("price"))),
        }
        weight = _grams(item.get("grams"))
        if weight is not None:
            line["weight"] = weight
            line["weight_unit"] = "grams"
        options = [
            {"name": str(prop.get("name")), "value": str(prop.get("value"))}
            for prop in item.get("properties") or []
            if isinstance(prop, Mapping)
            and str(prop.get("name") or "")
            and not str(prop.get("name")).startswith("_")  # Shopify's private line properties
            and str(prop.get("value") or "")
        ]
        if options:
            line["options"] = options
        lines.append(line)
    return lines, notes


def _items(items: list[Any]) -> tuple[PlatformItem, ...]:
    found: dict[str, PlatformItem] = {}
    for item in items:
        if isinstance(item, Mapping) and item.get("sku") and item.get("variant_id"):
            sku = str(item["sku"]).strip()
            found[sku] = PlatformItem(sku=sku, item_id=str(item["variant_id"]))
    return tuple(found.values())


def _ship_to(address: Any) -> dict[str, Any] | None:
    if not isinstance(address, Mapping) or not any(address.get(k) for k in ("address1", "city", "zip")):
        return None
    name = str(address.get("name") or _join(address.get("first_name"), address.get("last_name")))
    ship_to: dict[str, Any] = {
        "name": name,
        "address1": str(address.get("address1") or ""),
        "city": str(address.get("city") or ""),
        "postal_code": str(address.get("zip") or ""),
        "country": str(address.get("country_code") or ""),
    }
    for ours, theirs in (("company", "company"), ("address2", "address2"), ("state", "province_code")):
        if address.get(theirs):
            ship_to[ours] = str(address[theirs])
    if address.get("phone"):
        ship_to["phone"] = str(address["phone"])
    return ship_to


def _party(address: Any) -> dict[str, Any] | None:
    if not isinstance(address, Mapping):
        return None
    name = str(address.get("name") or _join(address.get("first_name"), address.get("last_name")))
    if not name:
        return None
    party: dict[str, Any] = {"name": name}
    for key in ("company", "phone"):
        if address.get(key):
            party[key] = str(address[key])
    return party


def _customer(payload: Mapping[str, Any]) -> dict[str, Any]:
    customer = payload.get("customer") if isinstance(payload.get("customer"), Mapping) else {}
    assert isinstance(customer, Mapping)
    found = {
        "name": _join(customer.get("first_name"), customer.get("last_name")),
        "email": str(customer.get("email") or payload.get("email") or payload.get("contact_email") or ""),
        "phone": str(customer.get("phone") or payload.get("phone") or ""),
    }
    return {key: value for key, value in found.items() if value}


def _discounts(codes: list[Any]) -> list[dict[str, str]]:
    return [
        {"code": str(code.get("code")), "amount": _money_text(_money(code.get("amount")))}
        for code in codes
        if isinstance(code, Mapping) and code.get("code") and _money(code.get("amount")) > 0
    ]


def _gift(attributes: list[Any]) -> tuple[bool, str | None]:
    gift = False
    message: str | None = None
    for attribute in attributes:
        if not isinstance(attribute, Mapping):
            continue
        name = str(attribute.get("name") or attribute.get("key") or "").strip().lower()
        value = str(attribute.get("value") or "")
        if name in GIFT_FLAG_NAMES and value.strip().lower() not in FALSE_WORDS:
            gift = True
        elif name in GIFT_MESSAGE_NAMES and value.strip():
            gift, message = True, value
    return gift, message


def _cancel_reason(payload: Mapping[str, Any], financial: str, cancelled: bool) -> str:
    if cancelled:
        reason = str(payload.get("cancel_reason") or "").strip()
        return f"cancelled on Shopify ({reason})" if reason else "cancelled on Shopify"
    return f"payment {financial} on Shopify"


def _tags(tags: Any) -> list[str]:
    if isinstance(tags, list):
        return [str(tag).strip() for tag in tags if str(tag).strip()]
    return [tag.strip() for tag in str(tags or "").split(",") if tag.strip()]


def _join(*parts: Any) -> str:
    return " ".join(str(part).strip() for part in parts if part and str(part).strip())


def _utc(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _money(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)) if value not in (None, "") else Decimal("0")
    except InvalidOperation:
        return Decimal("0")
    return amount if amount.is_finite() else Decimal("0")


def _money_text(amount: Decimal) -> str:
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def _grams(value: Any) -> str | None:
    grams = _money(value)
    return format(grams.normalize(), "f") if grams > 0 else None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
