"""What a WooCommerce order webhook (or a reconciled order) asks of intake, decided without I/O.

The payload is the order as the WC REST API v3 renders it, which is also what the ``order.created``
and ``order.updated`` webhooks carry. Money is read from its decimal strings (``subtotal``, ``total``,
``total_tax``, ``discount``), never from ``price``, which WooCommerce sends as a JSON float. Woo's
``*_gmt`` dates carry no offset but are UTC; the others are in the shop's timezone and are not used.

The fingerprint covers only what we act on: the intake status (or the cancellation) and the ship-to.
Our own writes (a note, ``completed``, a tracking item) make Woo send ``order.updated``; ``completed``
maps to ``paid`` like ``processing``, so that echo has the fingerprint recorded before and is ignored.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from services.channels.ports import ChannelStatus, InboundDecision, PlatformItem
from services.channels.woocommerce.addresses import bill_to, customer, ship_to
from shared.money import CENT

TOPICS = ("order.created", "order.updated")
"""The webhooks a shop is subscribed to."""
ORDER_TOPICS = frozenset(TOPICS)
STATUS_BY_WOO: dict[str, ChannelStatus] = {
    "processing": "paid",
    "completed": "paid",
    "on-hold": "on_hold",
    "pending": "unpaid",
}
CANCEL_REASONS = {
    "cancelled": "cancelled in WooCommerce",
    "failed": "payment failed in WooCommerce",
    "refunded": "refunded in WooCommerce",
}
NOT_YET_ORDERS = frozenset({"checkout-draft", "draft", "auto-draft", "trash"})
ORDER_NUMBER_MAX = 40
SKU_MAX = 100
MAX_OPTIONS = 20
"""Intake's limits: an order breaking them would be refused, so it is skipped with the reason said."""


class _Skip(Exception):
    """The order cannot go to intake; the message says why, for a person."""


def decide(topic: str, payload: dict[str, Any]) -> InboundDecision:
    """The decision for one ``order.*`` webhook payload (or an order listed by the reconciler)."""
    order_id = str(payload.get("id", ""))
    if topic not in ORDER_TOPICS:
        reason = f"topic {topic} is not an order we take"
        return InboundDecision(kind="ignore", platform_order_id=order_id, reason=reason)
    if not order_id:
        return InboundDecision(kind="skip", platform_order_id="", reason="the payload has no order id")
    updated_at = _gmt(payload.get("date_modified_gmt"))
    woo_status = str(payload.get("status") or "")
    if woo_status in NOT_YET_ORDERS:
        reason = f"status {woo_status}: not an order yet"
        return InboundDecision(kind="skip", platform_order_id=order_id, reason=reason, updated_at=updated_at)
    if woo_status in CANCEL_REASONS:
        address = _ship_to_or_none(payload)
        return InboundDecision(
            kind="cancel",
            platform_order_id=order_id,
            reason=CANCEL_REASONS[woo_status],
            fingerprint=fingerprint("cancelled", address),
            updated_at=updated_at,
        )
    status = STATUS_BY_WOO.get(woo_status)
    if status is None:
        reason = f"status {woo_status or '(none)'} is not one we map to intake (a plugin's own status?)"
        return InboundDecision(kind="skip", platform_order_id=order_id, reason=reason, updated_at=updated_at)
    try:
        body, left_out, items = _order_body(payload, status)
    except _Skip as skip:
        return InboundDecision(kind="skip", platform_order_id=order_id, reason=str(skip), updated_at=updated_at)
    return InboundDecision(
        kind="upsert",
        platform_order_id=order_id,
        reason="; ".join(left_out),
        order=body,
        channel_status=status,
        fingerprint=fingerprint(status, body["ship_to"]),
        updated_at=updated_at,
        items=items,
    )


def fingerprint(status: str, address: dict[str, Any] | None) -> str:
    """A stable digest of what the connector acts on: the intake status (or "cancelled") and the ship-to."""
    text = json.dumps([status, address], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _ship_to_or_none(payload: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return ship_to(payload)
    except ValueError:
        return None


def _order_body(payload: dict[str, Any], status: ChannelStatus) -> tuple[dict[str, Any], list[str], list[PlatformItem]]:
    number = str(payload.get("number") or payload["id"]).strip()
    if len(number) > ORDER_NUMBER_MAX:
        raise _Skip(f"order number {number[:50]}… is longer than {ORDER_NUMBER_MAX} characters")
    ordered_at = _gmt(payload.get("date_created_gmt"))
    if ordered_at is None:
        raise _Skip("the order has no date_created_gmt")
    try:
        address = ship_to(payload)
    except ValueError as error:
        raise _Skip(str(error)) from None
    lines, left_out, items = _lines(payload.get("line_items") or [])
    if not lines:
        raise _Skip("no line has a SKU" if left_out else "the order has no lines")
    shipping_lines = [line for line in payload.get("shipping_lines") or [] if isinstance(line, dict)]
    body: dict[str, Any] = {
        "external_id": str(payload["id"]),
        "order_number": number,
        "ordered_at": ordered_at.isoformat(),
        "status": status,
        "currency": str(payload.get("currency") or "").upper(),
        "ship_to": address,
        "tax_amount": _money_text(payload.get("total_tax")),
        "shipping_amount": _money_text(sum((_money(line.get("total")) for line in shipping_lines), Decimal(0))),
        "discounts": _discounts(payload.get("coupon_lines") or [], lines, left_out),
        "lines": lines,
    }
    optional = {
        "customer": customer(payload),
        "bill_to": bill_to(payload),
        "shipping_method": str(shipping_lines[0].get("method_title") or "") if shipping_lines else "",
        "payment_method": str(payload.get("payment_method_title") or ""),
        "customer_notes": str(payload.get("customer_note") or ""),
    }
    body.update({key: value for key, value in optional.items() if value})
    return body, left_out, items


def _lines(raw_lines: list[Any]) -> tuple[list[dict[str, Any]], list[str], list[PlatformItem]]:
    lines: list[dict[str, Any]] = []
    left_out: list[str] = []
    items: list[PlatformItem] = []
    for raw in raw_lines:
        if not isinstance(raw, dict):
            continue
        name = str(raw.get("name") or "").strip()
        sku = str(raw.get("sku") or "").strip()
        quantity = raw.get("quantity")
        if not sku:
            left_out.append(f"line {name or raw.get('id')} left out: it has no SKU")
            continue
        if len(sku) > SKU_MAX:
            raise _Skip(f"SKU {sku[:50]}… is longer than {SKU_MAX} characters")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            left_out.append(f"line {sku} left out: quantity {quantity!r}")
            continue
        unit_price = (_money(raw.get("subtotal")) / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(
            {
                "line_id": str(raw.get("id")),
                "sku": sku,
                "name": name or sku,
                "quantity": quantity,
                "unit_price": str(unit_price),
                "options": _options(raw.get("meta_data") or []),
            }
        )
        items.extend(_item(sku, raw))
    return lines, left_out, items


def _item(sku: str, raw: dict[str, Any]) -> list[PlatformItem]:
    product_id = raw.get("product_id") or 0
    variation_id = raw.get("variation_id") or 0
    if variation_id:
        return [PlatformItem(sku=sku, item_id=str(variation_id), parent_id=str(product_id) if product_id else None)]
    if product_id:
        return [PlatformItem(sku=sku, item_id=str(product_id))]
    return []  # the product was deleted since: nothing to set stock on


def _options(meta_data: list[Any]) -> list[dict[str, str]]:
    """Visible line meta (variation attributes, add-on choices); ``_``-keys are Woo's and plugins' own."""
    options: list[dict[str, str]] = []
    for meta in meta_data:
        if not isinstance(meta, dict) or str(meta.get("key", "")).startswith("_"):
            continue
        name, value = meta.get("display_key"), meta.get("display_value")
        if isinstance(name, str) and isinstance(value, str) and name.strip() and value.strip():
            options.append({"name": name.strip(), "value": value.strip()})
    return options[:MAX_OPTIONS]


def _discounts(coupon_lines: list[Any], lines: list[dict[str, Any]], left_out: list[str]) -> list[dict[str, str]]:
    """Coupons with an amount; capped at the lines' subtotal when lines were left out (intake refuses more)."""
    room = sum((Decimal(line["unit_price"]) * line["quantity"] for line in lines), Decimal(0))
    discounts: list[dict[str, str]] = []
    capped = False
    for coupon in coupon_lines:
        if not isinstance(coupon, dict):
            continue
        asked = _money(coupon.get("discount"))
        amount = min(asked, room)
        capped = capped or amount < asked
        if amount <= 0:
            continue
        room -= amount
        discounts.append({"code": str(coupon.get("code") or "coupon"), "amount": str(amount.quantize(CENT))})
    if capped:
        left_out.append("discounts capped at the subtotal of the lines kept")
    return discounts


def _money(value: Any) -> Decimal:
    """A Woo amount: a decimal string ("12.50"). A float is refused rather than carried into money."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Skip(f"amount {value!r} is not a decimal string")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise _Skip(f"amount {value!r} is not a decimal string") from None


def _money_text(value: Any) -> str:
    amount = value if isinstance(value, Decimal) else _money(value)
    return str(max(amount, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP))


def _gmt(value: Any) -> datetime | None:
    """Woo's ``*_gmt`` fields ("2026-03-02T19:28:02") are UTC without saying so."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
