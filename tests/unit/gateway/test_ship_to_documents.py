"""A vendor order's new ship-to as each format says it: the webhook's change document, and the change
file in the order's own CSV columns (or refused, when the vendor's columns have no place for it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.gateway.formats.csv_profile import CsvProfile
from services.gateway.formats.csv_write import ship_to_document
from services.gateway.formats.email_message import order_email
from services.gateway.formats.json_body import webhook_document
from services.gateway.ports import ChangeNotExpressible
from shared.contracts.orders import Address
from shared.contracts.vendor_orders import VendorOrderShipToChangedData
from tests.unit.gateway.test_csv_write import make_order, profile_with, read_rows

MOVED = Address(
    name="Ana Lima", address1="9 Other Street", city="Dallas", state="TX", postal_code="75201", country="US"
)


def change() -> VendorOrderShipToChangedData:
    return VendorOrderShipToChangedData(
        vendor_order_id="vo_1", vendor_order_number="1001-2", vendor="east", order_id="ord_1", ship_to=MOVED,
        changed_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    )  # fmt: skip


def test_the_webhook_document_is_the_change_as_the_bus_carries_it() -> None:
    data = change()

    document = webhook_document("dlv_vo_1_moved_1", "vendor_order.ship_to_changed", data, "1001-2", sequence=1)

    expected = {"type": "vendor_order.ship_to_changed", "data": data.model_dump(mode="json")}
    assert json.loads(document.content) == expected
    assert document.file_name == "1001-2-ship-to-1.json"
    assert document.subject == "Change to order 1001-2: new ship-to address"
    assert document.text == "Order 1001-2 ships to a new address: Ana Lima, Dallas, US."
    assert webhook_document("d", "vendor_order.ship_to_changed", data, "1001-2").file_name == "1001-2-ship-to.json"


def test_the_change_file_repeats_the_order_in_its_columns_with_the_new_address() -> None:
    document = ship_to_document("dlv_vo_1_moved_2", make_order(), MOVED, CsvProfile(), sequence=2)

    rows = read_rows(document.content)
    header, first, second = rows
    assert header[:11] == ["PO Number", "Order Date", "Ship To Name", "Ship To Company", "Address 1", "Address 2",
                           "City", "State", "Postal Code", "Country", "Phone"]  # fmt: skip
    assert [row[header.index("Address 1")] for row in (first, second)] == ["9 Other Street"] * 2
    assert first[header.index("City")] == "Dallas" and first[header.index("Postal Code")] == "75201"
    assert [row[header.index("Qty")] for row in (first, second)] == ["2", "1"]
    assert document.file_name == "1001-2-ship-to-2.csv"
    assert document.event_type == "vendor_order.ship_to_changed"
    assert "new address" in document.text and "9 Other Street" in document.text and "2 Side St" not in document.text


def test_the_change_by_e_mail_says_it_in_words_with_the_file_attached() -> None:
    document = ship_to_document("dlv_vo_1_moved_1", make_order(), MOVED, CsvProfile(), sequence=1)

    message = order_email(document, sender="orders@example.com", to=["east@example.com"], cc=[], reply_to=None)

    assert message["Subject"] == "Change to order 1001-2: new ship-to address"
    body = message.get_body(("plain",))
    assert body is not None and "9 Other Street" in body.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "1001-2-ship-to-1.csv"


def test_columns_without_a_ship_to_cannot_carry_the_change() -> None:
    profile = profile_with([("PO", "vendor_order_number"), ("SKU", "line.sku"), ("Qty", "line.quantity")])

    with pytest.raises(ChangeNotExpressible, match="no ship_to column"):
        ship_to_document("d", make_order(), MOVED, profile, sequence=1)
    with pytest.raises(ValueError, match="sequence"):
        ship_to_document("d", make_order(), MOVED, CsvProfile(), sequence=0)
