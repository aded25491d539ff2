"""The webhook body: exactly ``{"type", "data"}`` as compact UTF-8 JSON, and the delivery's names."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.gateway.formats.json_body import webhook_document
from shared.contracts.vendor_orders import (
    VendorOrderCancelledData,
    VendorOrderCreatedData,
    VendorOrderLinesCancelledData,
    WithdrawnLine,
)


def created() -> VendorOrderCreatedData:
    return VendorOrderCreatedData.model_validate(
        {
            "vendor_order_id": "vo_1", "vendor_order_number": "1001-2", "vendor": "east", "order_id": "ord_1",
            "channel": "shop-main", "external_id": "9001", "order_number": "1001",
            "ordered_at": "2026-11-28T01:30:00+02:00", "currency": "EUR", "tax_amount": "1.50",
            "ship_to": {"name": "Zoë Müller", "address1": "Hauptstraße 1", "city": "Köln", "postal_code": "50667",
                        "country": "DE"},
            "lines": [
                {"line_id": "L1", "sku": "TS-R-M", "name": "T-shirt", "quantity": 2, "unit_price": "19.90"},
                {"line_id": "L2", "sku": "MUG", "name": "Mug", "quantity": 1, "unit_price": "12.00"},
            ],
        }
    )  # fmt: skip


def test_the_body_is_the_type_and_the_event_data_as_compact_utf8() -> None:
    data = created()

    document = webhook_document("dlv_1", "vendor_order.created", data, "1001-2")

    body = json.loads(document.content)
    assert list(body) == ["type", "data"]
    assert body["type"] == "vendor_order.created"
    assert body["data"] == data.model_dump(mode="json")
    assert body["data"]["tax_amount"] == "1.50"
    assert body["data"]["ordered_at"].startswith("2026-11-27T23:30:00")
    assert b", " not in document.content and b": " not in document.content.replace(b"T-shirt", b"")
    assert "Zoë Müller".encode() in document.content
    assert document.content.startswith(b'{"type":"vendor_order.created","data":{')


def test_a_created_delivery_is_named_after_the_vendor_order() -> None:
    document = webhook_document("dlv_1", "vendor_order.created", created(), "1001-2")

    assert document.delivery_id == "dlv_1"
    assert document.media_type == "application/json"
    assert document.file_name == "1001-2.json"
    assert document.subject == "Order 1001-2"
    assert document.text == "Order 1001-2: 2 line(s), 3 unit(s), to Zoë Müller, Köln, DE."


def test_a_cancellation() -> None:
    data = VendorOrderCancelledData(
        vendor_order_id="vo_1", vendor_order_number="1001-2", vendor="east", order_id="ord_1",
        reason="customer asked", cancelled_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    )  # fmt: skip

    document = webhook_document("dlv_2", "vendor_order.cancelled", data, "1001-2")

    assert json.loads(document.content) == {"type": "vendor_order.cancelled", "data": data.model_dump(mode="json")}
    assert document.file_name == "1001-2-cancel.json"
    assert document.subject == "Cancel order 1001-2"
    assert "customer asked" in document.text


def test_withdrawn_lines() -> None:
    data = VendorOrderLinesCancelledData(
        vendor_order_id="vo_1", vendor_order_number="1001-2", vendor="east", order_id="ord_1",
        lines=[WithdrawnLine(line_id="L1", quantity=1)], reason="rerouted",
    )  # fmt: skip

    document = webhook_document("dlv_3", "vendor_order.lines_cancelled", data, "1001-2", sequence=2)

    assert json.loads(document.content)["data"]["lines"] == [{"line_id": "L1", "quantity": 1}]
    assert document.event_type == "vendor_order.lines_cancelled"
    assert document.file_name == "1001-2-cancel-2.json"
    assert document.subject == "Change to order 1001-2"
    assert document.text == "Withdrawn from order 1001-2: L1 x 1. Reason: rerouted."
    unnumbered = webhook_document("dlv_3", "vendor_order.lines_cancelled", data, "1001-2")
    assert unnumbered.file_name == "1001-2-cancel-lines.json"
    with pytest.raises(ValueError, match="sequence"):
        webhook_document("dlv_3", "vendor_order.lines_cancelled", data, "1001-2", sequence=0)


def test_fields_the_contract_does_not_know_are_passed_on() -> None:
    data = VendorOrderCreatedData.model_validate({**created().model_dump(mode="json"), "priority": "rush"})

    body = json.loads(webhook_document("dlv_1", "vendor_order.created", data, "1001-2").content)

    assert body["data"]["priority"] == "rush"


def test_every_attempt_sends_the_same_bytes() -> None:
    first = webhook_document("dlv_1", "vendor_order.created", created(), "1001-2")

    assert webhook_document("dlv_1", "vendor_order.created", created(), "1001-2").content == first.content
