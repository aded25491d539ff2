"""decide() on WooCommerce orders shaped as the REST API v3 (and its webhooks) sends them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.channels.ports import PlatformItem
from services.channels.woocommerce.orders import TOPICS, decide
from services.channels.woocommerce.webhooks import is_creation_ping, signature, signature_valid
from services.intake.domain import OrderRequest

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "channels" / "woocommerce_order.json"


@pytest.fixture
def order() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return loaded


def test_every_field_is_mapped_and_intake_accepts_the_body(order: dict[str, Any]) -> None:
    decision = decide("order.created", order)
    assert decision.kind == "upsert" and decision.platform_order_id == "727"
    assert decision.channel_status == "paid"
    body = decision.order
    assert body is not None and "channel" not in body
    assert body["external_id"] == "727" and body["order_number"] == "727"
    assert body["ordered_at"] == "2026-03-02T19:28:02+00:00"  # the GMT field, made explicit UTC
    assert body["currency"] == "USD" and body["status"] == "paid"
    assert body["customer"] == {"name": "John Doe", "email": "john.doe@example.com", "phone": "(555) 555-5555"}
    assert body["bill_to"] == {
        "name": "John Doe",
        "company": "Doe Holdings",
        "phone": "(555) 555-5555",
        "email": "john.doe@example.com",
    }
    assert body["ship_to"] == {
        "name": "Jane Doe",
        "address1": "969 Market",
        "address2": "Suite 4",
        "city": "San Francisco",
        "state": "CA",
        "postal_code": "94103",
        "country": "US",
        "phone": "(555) 555-0101",
    }
    assert body["shipping_method"] == "Flat Rate"
    assert body["shipping_amount"] == "10.00"  # both shipping lines
    assert body["tax_amount"] == "2.25"
    assert body["discounts"] == [{"code": "spring5", "amount": "5.00"}]  # the 0.00 coupon left out
    assert body["payment_method"] == "Credit Card (Stripe)"
    assert body["customer_notes"] == "Leave at the back door, please."
    assert body["lines"] == [
        {"line_id": "315", "sku": "WOO-SINGLE-1", "name": "Woo Single #1", "quantity": 2, "unit_price": "3.00",
         "options": []},
        # 36.10 / 3 from the subtotal string (the float price 12.0333… is never used), rounded half up.
        {"line_id": "316", "sku": "SHIP-IDEA-BLK-L", "name": "Ship Your Idea - Black, L", "quantity": 3,
         "unit_price": "12.03", "options": [{"name": "Color", "value": "Black"}, {"name": "Size", "value": "L"}]},
    ]  # fmt: skip
    assert decision.updated_at == datetime(2026, 3, 2, 19, 30, 11, tzinfo=UTC)
    assert list(decision.items) == [
        PlatformItem(sku="WOO-SINGLE-1", item_id="93"),
        PlatformItem(sku="SHIP-IDEA-BLK-L", item_id="23", parent_id="22"),
    ]
    assert decision.reason == ""
    request = OrderRequest.model_validate({**body, "channel": "woo-shop"})
    assert request.ship_to.country == "US" and len(request.lines) == 2


@pytest.mark.parametrize(
    ("woo_status", "status"),
    [("processing", "paid"), ("completed", "paid"), ("on-hold", "on_hold"), ("pending", "unpaid")],
)
def test_statuses_map_to_intakes(order: dict[str, Any], woo_status: str, status: str) -> None:
    order["status"] = woo_status
    decision = decide("order.updated", order)
    assert decision.kind == "upsert" and decision.channel_status == status
    assert decision.order is not None and decision.order["status"] == status


@pytest.mark.parametrize("woo_status", ["cancelled", "failed", "refunded"])
def test_cancelled_failed_and_refunded_cancel(order: dict[str, Any], woo_status: str) -> None:
    order["status"] = woo_status
    decision = decide("order.updated", order)
    assert decision.kind == "cancel" and decision.order is None
    assert "WooCommerce" in decision.reason and decision.fingerprint


@pytest.mark.parametrize("woo_status", ["checkout-draft", "draft", "trash", "wc-shipped-by-plugin"])
def test_drafts_trash_and_unknown_statuses_are_skipped(order: dict[str, Any], woo_status: str) -> None:
    order["status"] = woo_status
    decision = decide("order.created", order)
    assert decision.kind == "skip" and woo_status in decision.reason and decision.order is None


def test_an_unknown_topic_is_ignored(order: dict[str, Any]) -> None:
    assert TOPICS == ("order.created", "order.updated")
    decision = decide("product.updated", order)
    assert decision.kind == "ignore" and "product.updated" in decision.reason


def test_no_shipping_address_is_skipped(order: dict[str, Any]) -> None:
    order["shipping"] = {**order["shipping"], "address_1": ""}
    decision = decide("order.created", order)
    assert decision.kind == "skip" and decision.reason == "no shipping address"


def test_a_state_is_required_where_intake_requires_one(order: dict[str, Any]) -> None:
    order["shipping"]["state"] = ""
    assert decide("order.created", order).kind == "skip"
    order["shipping"].update(country="DE", postcode="10115", city="Berlin")
    assert decide("order.created", order).kind == "upsert"


def test_lines_without_sku_are_left_out_and_said(order: dict[str, Any]) -> None:
    order["line_items"][0]["sku"] = ""
    decision = decide("order.created", order)
    assert decision.kind == "upsert" and decision.order is not None
    assert [line["sku"] for line in decision.order["lines"]] == ["SHIP-IDEA-BLK-L"]
    assert "Woo Single #1" in decision.reason and "no SKU" in decision.reason
    order["line_items"][1]["sku"] = ""
    skipped = decide("order.created", order)
    assert skipped.kind == "skip" and "SKU" in skipped.reason


def test_discounts_are_capped_when_lines_are_left_out(order: dict[str, Any]) -> None:
    order["line_items"] = order["line_items"][:1]  # subtotal 6.00
    order["coupon_lines"][0]["discount"] = "8.00"
    decision = decide("order.created", order)
    assert decision.order is not None and decision.order["discounts"] == [{"code": "spring5", "amount": "6.00"}]
    assert "capped" in decision.reason
    OrderRequest.model_validate({**decision.order, "channel": "woo-shop"})


def test_identifiers_intake_would_refuse_skip_the_order(order: dict[str, Any]) -> None:
    long_number = copy.deepcopy(order)
    long_number["number"] = "N" * 41
    assert decide("order.created", long_number).kind == "skip"
    long_sku = copy.deepcopy(order)
    long_sku["line_items"][0]["sku"] = "S" * 101
    decision = decide("order.created", long_sku)
    assert decision.kind == "skip" and "longer than 100" in decision.reason


def test_a_float_amount_is_refused_rather_than_taken_as_money(order: dict[str, Any]) -> None:
    order["line_items"][0]["subtotal"] = 6.0
    decision = decide("order.created", order)
    assert decision.kind == "skip" and "decimal string" in decision.reason


def test_our_own_writes_echo_with_the_same_fingerprint(order: dict[str, Any]) -> None:
    first = decide("order.created", order)
    echoed = copy.deepcopy(order)
    echoed["status"] = "completed"  # our PUT after the last box shipped
    echoed["date_modified_gmt"] = "2026-03-04T08:00:00"
    echoed["customer_note"] = "changed"
    echoed["line_items"][0]["quantity"] = 5  # lines are not what the connector acts on after intake
    assert decide("order.updated", echoed).fingerprint == first.fingerprint


def test_the_fingerprint_changes_with_the_status_or_the_ship_to(order: dict[str, Any]) -> None:
    first = decide("order.created", order).fingerprint
    on_hold = copy.deepcopy(order)
    on_hold["status"] = "on-hold"
    moved = copy.deepcopy(order)
    moved["shipping"]["address_1"] = "1 Other Street"
    cancelled = copy.deepcopy(order)
    cancelled["status"] = "cancelled"
    others = {decide("order.updated", o).fingerprint for o in (on_hold, moved, cancelled)}
    assert first not in others and len(others) == 3


def test_the_creation_ping_is_recognised_and_nothing_else() -> None:
    form = "application/x-www-form-urlencoded"
    assert is_creation_ping(form, b"webhook_id=15")
    assert is_creation_ping(f"{form}; charset=UTF-8", b"webhook_id=15")
    assert not is_creation_ping("application/json", b"webhook_id=15")
    assert not is_creation_ping(form, b"webhook_id=15&x=1")
    assert not is_creation_ping(form, b"webhook_id=")
    assert not is_creation_ping(form, b'{"id": 15}')


def test_signatures_are_woos() -> None:
    body = b'{"id":727,"status":"processing"}'
    # base64(HMAC-SHA256(body, "s3cret")), computed with openssl alike.
    expected = "CBGQM/uSsZa0es2U4cfBfxFah8cclSEsqTSIiiel8PQ="
    assert signature("s3cret", body) == expected
    assert signature_valid("s3cret", body, expected)
    assert not signature_valid("other", body, expected)
    assert not signature_valid("s3cret", body, None)
