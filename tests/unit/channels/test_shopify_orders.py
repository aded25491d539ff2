"""decide() on a Shopify orders/create webhook body shaped as Shopify documents it."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.channels.ports import PlatformItem
from services.channels.shopify.orders import TOPICS, decide

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "channels" / "shopify_order.json"


@pytest.fixture
def order() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def test_every_mapped_field(order: dict[str, Any]) -> None:
    decision = decide("orders/create", order)
    assert decision.kind == "upsert"
    assert decision.platform_order_id == "820982911946154508"
    assert decision.channel_status == "paid"
    assert decision.updated_at == datetime(2026, 11, 26, 23, 45, 12, tzinfo=UTC)
    body = decision.order
    assert body is not None
    assert "channel" not in body
    assert body["external_id"] == "820982911946154508"
    assert body["order_number"] == "9999"
    assert body["ordered_at"] == "2026-11-26T17:41:00-06:00"
    assert body["status"] == "paid"
    assert body["currency"] == "USD"
    assert body["customer"] == {"name": "John Smith", "email": "john@example.com", "phone": "+15555550100"}
    assert body["ship_to"] == {
        "name": "Steve Shipper",
        "company": "Shipping Company",
        "address1": "123 Shipping Street",
        "address2": "Suite 4",
        "city": "Shippington",
        "state": "KY",
        "postal_code": "40003",
        "country": "US",
        "phone": "555-555-SHIP",
    }
    assert body["bill_to"] == {"name": "Steve Shipper", "company": "Shipping Company", "phone": "555-555-SHIP"}
    assert body["shipping_method"] == "Generic Shipping"
    assert body["shipping_amount"] == "15.00"
    assert body["tax_amount"] == "12.34"
    assert body["discounts"] == [{"code": "TENOFF", "amount": "10.00"}]
    assert body["gift"] is True
    assert body["gift_message"] == "Happy birthday, Ana! 🎂"
    assert body["customer_notes"] == "Please leave at the back door"
    assert body["internal_notes"] == "Tags: vip, wholesale"
    assert body["total_weight"] == "1350"
    assert body["weight_unit"] == "grams"
    assert body["lines"] == [
        {
            "line_id": "866550311766439020",
            "sku": "IPOD2008PINK",
            "name": "IPod Nano - 8GB - Pink",
            "quantity": 2,
            "unit_price": "199.00",
            "weight": "567",
            "weight_unit": "grams",
            "options": [{"name": "Engraving", "value": "For Ana"}],
        },
        {"line_id": "141249953214522974", "sku": "IPODCASE", "name": "IPod case", "quantity": 1, "unit_price": "9.99"},
    ]
    assert "Custom engraving service" in decision.reason and "no SKU" in decision.reason
    assert set(decision.items) == {
        PlatformItem("IPOD2008PINK", "808950810"),
        PlatformItem("IPODCASE", "457924702"),
        PlatformItem("GIFTCARD25", "457924703"),
        PlatformItem("REMOVED-1", "457924705"),
    }


def test_the_body_is_what_intake_accepts(order: dict[str, Any]) -> None:
    from services.intake.domain import OrderRequest

    body = decide("orders/create", order).order
    assert body is not None
    parsed = OrderRequest.model_validate({**body, "channel": "shop-1"})
    assert parsed.lines[0].quantity == 2
    assert str(parsed.shipping_amount) == "15.00"


@pytest.mark.parametrize(
    ("status", "expected"),
    [("paid", "paid"), ("partially_paid", "paid"), ("partially_refunded", "paid"), ("pending", "unpaid"),
     ("authorized", "unpaid"), ("unpaid", "unpaid")],
)  # fmt: skip
def test_payment_status(order: dict[str, Any], status: str, expected: str) -> None:
    order["financial_status"] = status
    decision = decide("orders/paid", order)
    assert decision.kind == "upsert"
    assert decision.channel_status == expected
    assert decision.order is not None and decision.order["status"] == expected


@pytest.mark.parametrize("status", ["refunded", "voided"])
def test_refunded_or_voided_cancels(order: dict[str, Any], status: str) -> None:
    order["financial_status"] = status
    decision = decide("orders/updated", order)
    assert decision.kind == "cancel"
    assert status in decision.reason


def test_cancelled_order_or_topic_cancels_with_the_reason(order: dict[str, Any]) -> None:
    order["cancelled_at"] = "2026-11-27T10:00:00-06:00"
    order["cancel_reason"] = "customer"
    decision = decide("orders/updated", order)
    assert decision.kind == "cancel"
    assert "customer" in decision.reason
    plain = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert decide("orders/cancelled", plain).kind == "cancel"
    assert decision.fingerprint == decide("orders/cancelled", plain).fingerprint


def test_unknown_topic_is_ignored(order: dict[str, Any]) -> None:
    decision = decide("products/update", order)
    assert decision.kind == "ignore"
    assert "products/update" in decision.reason
    assert "orders/create" in TOPICS


def test_skip_without_shipping_address(order: dict[str, Any]) -> None:
    order["shipping_address"] = None
    decision = decide("orders/create", order)
    assert decision.kind == "skip"
    assert "shipping address" in decision.reason


def test_skip_when_no_line_ships(order: dict[str, Any]) -> None:
    for item in order["line_items"]:
        item["requires_shipping"] = False
    decision = decide("orders/create", order)
    assert decision.kind == "skip"
    assert "no line requires shipping" in decision.reason


def test_skip_when_only_lines_without_sku_ship(order: dict[str, Any]) -> None:
    order["line_items"] = [order["line_items"][3]]
    decision = decide("orders/create", order)
    assert decision.kind == "skip"
    assert "no SKU" in decision.reason


def test_identifiers_intake_would_refuse_skip(order: dict[str, Any]) -> None:
    order["name"] = "#" + "9" * 41
    assert decide("orders/create", order).kind == "skip"
    order["name"] = "#9999"
    order["line_items"][0]["sku"] = "S" * 101
    decision = decide("orders/create", order)
    assert decision.kind == "skip"
    assert "100" in decision.reason


def test_text_is_passed_as_sent(order: dict[str, Any]) -> None:
    order["line_items"][0]["title"] = "Ünïcödé \u0007 " + "x" * 300
    body = decide("orders/create", order).order
    assert body is not None
    assert body["lines"][0]["name"].startswith("Ünïcödé \u0007 ")
    assert len(body["lines"][0]["name"]) > 300


def test_quantity_falls_back_to_quantity(order: dict[str, Any]) -> None:
    del order["line_items"][1]["current_quantity"]
    body = decide("orders/create", order).order
    assert body is not None
    assert body["lines"][1]["quantity"] == 3


def test_fingerprint_ignores_fulfillments_and_tags(order: dict[str, Any]) -> None:
    before = decide("orders/create", order).fingerprint
    edited = copy.deepcopy(order)
    edited["tags"] = "vip, wholesale, shipped"
    edited["fulfillment_status"] = "fulfilled"
    edited["fulfillments"] = [{"id": 1, "tracking_numbers": ["1Z999"]}]
    edited["updated_at"] = "2026-11-28T10:00:00-06:00"
    assert decide("orders/updated", edited).fingerprint == before


def test_fingerprint_follows_address_and_payment(order: dict[str, Any]) -> None:
    before = decide("orders/create", order).fingerprint
    moved = copy.deepcopy(order)
    moved["shipping_address"]["address1"] = "9 Other Road"
    assert decide("orders/updated", moved).fingerprint != before
    unpaid = copy.deepcopy(order)
    unpaid["financial_status"] = "pending"
    assert decide("orders/updated", unpaid).fingerprint != before
