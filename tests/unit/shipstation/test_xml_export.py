"""The export document: schema validity, every field's mapping, totals, text hygiene, rejection."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from services.shipstation.xml_export import (
    DEFAULT_STATUS_NAMES,
    MAX_OPTIONS,
    ExportableOrder,
    VendorOrderState,
    format_money,
    render_export_page,
    render_order,
    shipstation_status,
    spread_order_weight,
    status_name_problems,
    validate_order,
)
from shared.contracts.vendors import ShipStationStatus
from tests.unit.shipstation.support import (
    assert_valid,
    exportable,
    minimal_order_fields,
    rich_order_fields,
    vendor_order,
)

CHICAGO = ZoneInfo("America/Chicago")


def render_page(
    *orders: ExportableOrder,
    pages: int = 1,
    zone: ZoneInfo = CHICAGO,
    status_names: dict[ShipStationStatus, str] | None = None,
) -> tuple[bytes, list[Any]]:
    names = DEFAULT_STATUS_NAMES if status_names is None else status_names
    body, rejected = render_export_page(orders, pages=pages, zone=zone, status_names=names)
    return body, list(rejected)


def only_order(body: bytes) -> etree._Element:
    orders = etree.fromstring(body).findall("Order")
    assert len(orders) == 1
    return orders[0]


def text_at(element: etree._Element, path: str) -> str | None:
    found = element.find(path)
    return None if found is None else found.text


def items_total(order: etree._Element) -> Decimal:
    return sum(
        (
            Decimal(text_at(item, "UnitPrice") or "") * int(text_at(item, "Quantity") or "")
            for item in order.iterfind("Items/Item")
        ),
        Decimal("0"),
    )


def assert_totals_reconcile(order: etree._Element) -> None:
    shipping = Decimal(text_at(order, "ShippingAmount") or "")
    tax = Decimal(text_at(order, "TaxAmount") or "")
    assert items_total(order) + shipping + tax == Decimal(text_at(order, "OrderTotal") or "")


# --- schema validity -------------------------------------------------------------------------------


def test_rich_page_validates_against_the_strict_schema(custom_store_schema: etree.XMLSchema) -> None:
    body, rejected = render_page(exportable(vendor_order(rich_order_fields())))

    assert rejected == []
    assert_valid(custom_store_schema, etree.fromstring(body))


def test_rich_page_sets_every_documented_element() -> None:
    body, _ = render_page(exportable(vendor_order(rich_order_fields())))
    order = only_order(body)

    present = {child.tag for child in order}
    assert present >= {
        "OrderID", "OrderNumber", "OrderDate", "OrderStatus", "LastModified", "ShippingMethod",
        "PaymentMethod", "CurrencyCode", "OrderTotal", "TaxAmount", "ShippingAmount", "CustomerNotes",
        "InternalNotes", "Gift", "GiftMessage", "CustomField1", "CustomField2", "Source", "Customer", "Items",
    }  # fmt: skip
    first_item = order.find("Items/Item")
    assert first_item is not None
    assert {child.tag for child in first_item} == {
        "LineItemID", "SKU", "Name", "ImageUrl", "Weight", "WeightUnits", "Quantity", "UnitPrice", "UPC",
        "Location", "Options",
    }  # fmt: skip


def test_page_starts_with_the_xml_declaration_and_counts_pages() -> None:
    body, _ = render_page(exportable(vendor_order()), pages=3)

    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert etree.fromstring(body).get("pages") == "3"


def test_empty_page_is_valid(custom_store_schema: etree.XMLSchema) -> None:
    body, rejected = render_page(pages=0)

    root = etree.fromstring(body)
    assert (root.tag, root.get("pages"), len(root)) == ("Orders", "0", 0)
    assert rejected == []
    assert_valid(custom_store_schema, root)


@pytest.mark.parametrize("pages", [-1, 32768])
def test_page_count_outside_xs_short_is_refused(pages: int) -> None:
    with pytest.raises(ValueError, match="pages"):
        render_page(pages=pages)


def test_example_page_validates(examples_dir: Path, custom_store_schema: etree.XMLSchema) -> None:
    body = (examples_dir / "export-page.xml").read_bytes()

    assert_valid(custom_store_schema, etree.fromstring(body))


def test_minimal_order_validates_and_leaves_optional_elements_out(custom_store_schema: etree.XMLSchema) -> None:
    body, rejected = render_page(exportable(vendor_order()))
    order = only_order(body)

    assert rejected == []
    assert_valid(custom_store_schema, etree.fromstring(body))
    for absent in ("ShippingMethod", "PaymentMethod", "CustomerNotes", "InternalNotes", "GiftMessage"):
        assert order.find(absent) is None, absent
    assert text_at(order, "Gift") == "false"
    assert text_at(order, "ShippingAmount") == "0.00"
    assert text_at(order, "TaxAmount") == "0.00"
    assert text_at(order, "Customer/BillTo/Name") == "Ana Lima"
    assert order.find("Customer/BillTo/Email") is None
    item = order.find("Items/Item")
    assert item is not None
    assert {child.tag for child in item} == {"LineItemID", "SKU", "Name", "Quantity", "UnitPrice"}


# --- one case per field: set on the vendor order, found formatted in the XML -------------------------

FIELD_CASES = [
    pytest.param({"vendor_order_id": "vo_XYZ"}, "OrderID", "vo_XYZ", id="OrderID"),
    pytest.param({"vendor_order_number": "1001-2"}, "OrderNumber", "1001-2", id="OrderNumber"),
    # 23:59:59 UTC is 18:59 in Chicago in July (CDT, UTC-5); seconds are dropped, not rounded.
    pytest.param({"ordered_at": "2026-07-04T23:59:59+00:00"}, "OrderDate", "07/04/2026 18:59", id="OrderDate"),
    pytest.param({"ordered_at": "2026-01-05T08:07:00+02:00"}, "OrderDate", "01/05/2026 00:07", id="OrderDate-offset"),
    pytest.param({}, "LastModified", "11/26/2026 23:42", id="LastModified"),
    pytest.param({}, "OrderStatus", "paid", id="OrderStatus"),
    pytest.param({"shipping_method": "UPS Ground"}, "ShippingMethod", "UPS Ground", id="ShippingMethod"),
    pytest.param({"payment_method": "Credit Card"}, "PaymentMethod", "Credit Card", id="PaymentMethod"),
    pytest.param({"currency": "eur"}, "CurrencyCode", "EUR", id="CurrencyCode"),
    pytest.param(
        {"tax_amount": "1.10", "shipping_amount": "2.20", "discounts": [{"code": "X", "amount": "0.30"}]},
        "OrderTotal",
        "15.00",
        id="OrderTotal",
    ),
    pytest.param({"tax_amount": "3.5"}, "TaxAmount", "3.50", id="TaxAmount"),
    pytest.param({"shipping_amount": "5.995"}, "ShippingAmount", "6.00", id="ShippingAmount-half-up"),
    pytest.param({"customer_notes": "Back door"}, "CustomerNotes", "Back door", id="CustomerNotes"),
    pytest.param({"internal_notes": "VIP"}, "InternalNotes", "VIP", id="InternalNotes"),
    pytest.param({"gift": True}, "Gift", "true", id="Gift"),
    pytest.param({"gift_message": "Enjoy!"}, "GiftMessage", "Enjoy!", id="GiftMessage"),
    pytest.param({"channel": "etsy-eu"}, "CustomField1", "etsy-eu", id="CustomField1-channel"),
    pytest.param({"order_number": "#2001"}, "CustomField2", "#2001", id="CustomField2-channel-number"),
    pytest.param({"channel": "etsy-eu"}, "Source", "etsy-eu", id="Source-channel"),
    pytest.param({"customer": {"email": "a@b.example"}}, "Customer/CustomerCode", "a@b.example", id="CustomerCode"),
    pytest.param({"bill_to": {"name": "Bea Pay"}}, "Customer/BillTo/Name", "Bea Pay", id="BillTo/Name"),
    pytest.param(
        {"bill_to": {"name": "B", "company": "Pay Co"}},
        "Customer/BillTo/Company",
        "Pay Co",
        id="BillTo/Company",
    ),
    pytest.param({"bill_to": {"name": "B", "phone": "+49 1"}}, "Customer/BillTo/Phone", "+49 1", id="BillTo/Phone"),
    pytest.param(
        {"bill_to": {"name": "B", "email": "b@x.example"}},
        "Customer/BillTo/Email",
        "b@x.example",
        id="BillTo/Email",
    ),
    pytest.param({"ship_to__name": "Cy Ship"}, "Customer/ShipTo/Name", "Cy Ship", id="ShipTo/Name"),
    pytest.param({"ship_to__company": "Box Ltd"}, "Customer/ShipTo/Company", "Box Ltd", id="ShipTo/Company"),
    pytest.param({"ship_to__address1": "9 Elm Rd"}, "Customer/ShipTo/Address1", "9 Elm Rd", id="ShipTo/Address1"),
    pytest.param({"ship_to__address2": "Unit 7"}, "Customer/ShipTo/Address2", "Unit 7", id="ShipTo/Address2"),
    pytest.param({"ship_to__city": "Dallas"}, "Customer/ShipTo/City", "Dallas", id="ShipTo/City"),
    pytest.param({"ship_to__state": "Texas"}, "Customer/ShipTo/State", "TX", id="ShipTo/State-name"),
    pytest.param({"ship_to__state": "tx"}, "Customer/ShipTo/State", "TX", id="ShipTo/State-code"),
    pytest.param({"ship_to__postal_code": "75201"}, "Customer/ShipTo/PostalCode", "75201", id="ShipTo/PostalCode"),
    pytest.param({"ship_to__country": "ca"}, "Customer/ShipTo/Country", "CA", id="ShipTo/Country"),
    pytest.param({"ship_to__phone": "+1 555 0111"}, "Customer/ShipTo/Phone", "+1 555 0111", id="ShipTo/Phone"),
    pytest.param({"lines__0__line_id": "ln_9"}, "Items/Item/LineItemID", "ln_9", id="Item/LineItemID"),
    pytest.param({"lines__0__sku": "CUP-RED"}, "Items/Item/SKU", "CUP-RED", id="Item/SKU"),
    pytest.param({"lines__0__name": "Cup, red"}, "Items/Item/Name", "Cup, red", id="Item/Name"),
    pytest.param(
        {"lines__0__image_url": "https://cdn.example.com/cup.jpg"},
        "Items/Item/ImageUrl",
        "https://cdn.example.com/cup.jpg",
        id="Item/ImageUrl",
    ),
    pytest.param(
        {"lines__0__weight": "0.5", "lines__0__weight_unit": "pounds"},
        "Items/Item/Weight",
        "0.50",
        id="Item/Weight",
    ),
    pytest.param(
        {"lines__0__weight": "0.5", "lines__0__weight_unit": "pounds"},
        "Items/Item/WeightUnits",
        "Pounds",
        id="Item/WeightUnits-pounds",
    ),
    pytest.param(
        {"lines__0__weight": "7", "lines__0__weight_unit": "ounces"},
        "Items/Item/WeightUnits",
        "Ounces",
        id="Item/WeightUnits-ounces",
    ),
    pytest.param(
        {"lines__0__weight": "250", "lines__0__weight_unit": "grams"},
        "Items/Item/WeightUnits",
        "Grams",
        id="Item/WeightUnits-grams",
    ),
    pytest.param(
        {"lines__0__weight": "250", "weight_unit": "grams"},
        "Items/Item/WeightUnits",
        "Grams",
        id="Item/WeightUnits-from-order",
    ),
    pytest.param({"lines__0__quantity": 3}, "Items/Item/Quantity", "3", id="Item/Quantity"),
    pytest.param({"lines__0__unit_price": "12.5"}, "Items/Item/UnitPrice", "12.50", id="Item/UnitPrice"),
    pytest.param({"lines__0__unit_price": "0.125"}, "Items/Item/UnitPrice", "0.13", id="Item/UnitPrice-half-up"),
    pytest.param({"lines__0__upc": "012345678905"}, "Items/Item/UPC", "012345678905", id="Item/UPC"),
    pytest.param({"lines__0__location": "A-1-2"}, "Items/Item/Location", "A-1-2", id="Item/Location"),
    pytest.param(
        {"lines__0__options": [{"name": "Size", "value": "XL"}]},
        "Items/Item/Options/Option/Name",
        "Size",
        id="Item/Option/Name",
    ),
    pytest.param(
        {"lines__0__options": [{"name": "Size", "value": "XL"}]},
        "Items/Item/Options/Option/Value",
        "XL",
        id="Item/Option/Value",
    ),
    pytest.param({"discounts": [{"code": "SAVE10", "amount": "10"}]}, "Items/Item[2]/SKU", "SAVE10", id="Discount/SKU"),
    pytest.param(
        {"discounts": [{"code": "SAVE10", "amount": "10"}]},
        "Items/Item[2]/Name",
        "Coupon SAVE10",
        id="Discount/Name",
    ),
    pytest.param(
        {"discounts": [{"code": "SAVE10", "amount": "10"}]},
        "Items/Item[2]/Quantity",
        "1",
        id="Discount/Quantity",
    ),
    pytest.param(
        {"discounts": [{"code": "SAVE10", "amount": "10"}]},
        "Items/Item[2]/UnitPrice",
        "-10.00",
        id="Discount/UnitPrice",
    ),
    pytest.param(
        {"discounts": [{"code": "SAVE10", "amount": "10"}]},
        "Items/Item[2]/Adjustment",
        "true",
        id="Discount/Adjustment",
    ),
]


@pytest.mark.parametrize(("changes", "path", "expected"), FIELD_CASES)
def test_field_reaches_the_xml(
    changes: dict[str, Any], path: str, expected: str, custom_store_schema: etree.XMLSchema
) -> None:
    body, rejected = render_page(exportable(vendor_order(**changes)))

    assert rejected == []
    assert text_at(only_order(body), path) == expected
    assert_valid(custom_store_schema, etree.fromstring(body))


def test_rich_order_fields_in_the_xml() -> None:
    order = only_order(render_page(exportable(vendor_order(rich_order_fields())))[0])

    assert text_at(order, "OrderDate") == "11/26/2026 23:41"
    assert text_at(order, "CustomerNotes") == "Leave at the back door & ring twice"
    assert text_at(order, "Customer/CustomerCode") == "jo@example.com"
    assert text_at(order, "Customer/BillTo/Email") == "billing@example.com"
    assert text_at(order, "Customer/ShipTo/Company") == "Acme & Sons"
    assert text_at(order, "Customer/ShipTo/State") == "IL"
    assert text_at(order, "Customer/ShipTo/Country") == "US"
    assert [text_at(item, "SKU") for item in order.iterfind("Items/Item")] == [
        "TSHIRT-RED-M",
        "SOCKS-3PK",
        "WELCOME5",
        "VIP",
    ]
    assert [text_at(option, "Value") for option in order.iterfind("Items/Item[1]/Options/Option")] == [
        "Red",
        "M",
    ]
    assert [text_at(item, "Adjustment") for item in order.iterfind("Items/Item")] == [
        None,
        None,
        "true",
        "true",
    ]


def test_line_weights_add_up_to_the_orders_total_weight() -> None:
    fields = rich_order_fields()
    order = only_order(render_page(exportable(vendor_order(fields)))[0])

    line_weights = sum(
        (
            Decimal(text_at(item, "Weight") or "0") * int(text_at(item, "Quantity") or "")
            for item in order.iterfind("Items/Item")
        ),
        Decimal("0"),
    )
    assert line_weights == Decimal(fields["total_weight"])


def test_weight_without_any_unit_is_left_out() -> None:
    order = only_order(render_page(exportable(vendor_order(lines__0__weight="2")))[0])

    assert order.find("Items/Item/Weight") is None
    assert order.find("Items/Item/WeightUnits") is None


def item_weights(order: etree._Element) -> list[tuple[str | None, str | None, str | None]]:
    return [
        (text_at(item, "Weight"), text_at(item, "WeightUnits"), text_at(item, "Quantity"))
        for item in order.iterfind("Items/Item")
        if text_at(item, "Adjustment") != "true"
    ]


def test_an_orders_total_weight_travels_as_item_weights_when_lines_have_none() -> None:
    fields = minimal_order_fields()
    fields["lines"] = [
        {"line_id": "L1", "sku": "A", "name": "A", "quantity": 2, "unit_price": "1.00"},
        {"line_id": "L2", "sku": "B", "name": "B", "quantity": 1, "unit_price": "1.00"},
    ]
    order = only_order(render_page(exportable(vendor_order(fields, total_weight="13", weight_unit="pounds")))[0])

    assert item_weights(order) == [("4.33", "Pounds", "2"), ("4.34", "Pounds", "1")]


def test_line_weights_win_over_the_orders_total() -> None:
    order = only_order(
        render_page(
            exportable(
                vendor_order(
                    total_weight="99", weight_unit="grams", lines__0__weight="5", lines__0__weight_unit="grams"
                )
            )
        )[0]
    )

    assert item_weights(order) == [("5.00", "Grams", "1")]


def test_a_total_weight_without_a_unit_is_not_guessed() -> None:
    order = only_order(render_page(exportable(vendor_order(total_weight="3")))[0])

    assert item_weights(order) == [(None, None, "1")]


@settings(max_examples=300, deadline=None)
@given(
    quantities=st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=8),
    total_cents=st.integers(min_value=0, max_value=10**8),
)
def test_spread_weights_add_up_to_the_total(quantities: list[int], total_cents: int) -> None:
    total = Decimal(total_cents) / 100
    weights = spread_order_weight(quantities, total)

    assert all(weight >= 0 and weight == weight.quantize(Decimal("0.01")) for weight in weights)
    spread = sum((weight * quantity for weight, quantity in zip(weights, quantities, strict=True)), Decimal("0"))
    if 1 in quantities:
        assert spread == total
    else:
        assert total - Decimal("0.01") * sum(quantities) < spread <= total


# --- customer and bill-to fallbacks -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"customer": {"email": "c@x.example", "phone": "1", "name": "C"}}, "c@x.example", id="email"),
        pytest.param({"bill_to": {"name": "B", "email": "b@x.example"}}, "b@x.example", id="bill-to-email"),
        pytest.param({"customer": {"phone": "+1 555 0100", "name": "C"}}, "+1 555 0100", id="phone"),
        pytest.param({"customer": {"name": "Cleo"}}, "Cleo", id="name"),
        pytest.param({}, "Ana Lima", id="ship-to-name"),
        pytest.param({"customer": {"name": "N" * 60}}, "N" * 50, id="long-name-is-cut"),
        pytest.param(
            {"customer": {"email": "x" * 60 + "@example.com", "phone": "+1 555 0100"}},
            "+1 555 0100",
            id="email-too-long-is-not-cut",
        ),
    ],
)
def test_customer_code_falls_back(changes: dict[str, Any], expected: str) -> None:
    order = only_order(render_page(exportable(vendor_order(**changes)))[0])

    assert text_at(order, "Customer/CustomerCode") == expected


def test_customer_code_is_never_empty() -> None:
    order = render_order(exportable(vendor_order(ship_to__name="  ")), CHICAGO, DEFAULT_STATUS_NAMES)

    assert text_at(order, "Customer/CustomerCode") == "vo_min_1"


def test_bill_to_comes_from_the_customer_when_there_is_no_bill_to() -> None:
    changes = {"customer": {"name": "Cleo Buyer", "email": "cleo@example.com", "phone": "+1 555 0123"}}
    order = only_order(render_page(exportable(vendor_order(**changes)))[0])

    assert text_at(order, "Customer/BillTo/Name") == "Cleo Buyer"
    assert text_at(order, "Customer/BillTo/Email") == "cleo@example.com"
    assert text_at(order, "Customer/BillTo/Phone") == "+1 555 0123"


def test_bill_to_email_falls_back_to_the_customers() -> None:
    changes = {"bill_to": {"name": "Pay Dept"}, "customer": {"email": "cleo@example.com"}}
    order = only_order(render_page(exportable(vendor_order(**changes)))[0])

    assert text_at(order, "Customer/BillTo/Name") == "Pay Dept"
    assert text_at(order, "Customer/BillTo/Email") == "cleo@example.com"


# --- statuses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("unpaid", "unpaid"),
        ("paid", "paid"),
        ("on_hold", "on_hold"),
        ("partially_shipped", "paid"),
        ("shipped", "shipped"),
        ("cancelled", "cancelled"),
    ],
)
def test_vendor_order_state_maps_to_shipstation_status(state: VendorOrderState, expected: str) -> None:
    assert shipstation_status(state) == expected
    order = only_order(render_page(exportable(vendor_order(), state=state))[0])
    assert text_at(order, "OrderStatus") == expected


def test_default_status_names_are_the_statuses_themselves() -> None:
    assert dict(DEFAULT_STATUS_NAMES) == {
        "unpaid": "unpaid",
        "paid": "paid",
        "shipped": "shipped",
        "cancelled": "cancelled",
        "on_hold": "on_hold",
    }
    assert status_name_problems(DEFAULT_STATUS_NAMES) == ()


def test_configured_status_names_are_emitted() -> None:
    names: dict[ShipStationStatus, str] = {
        **DEFAULT_STATUS_NAMES,
        "cancelled": "Storniert",
        "paid": "Bezahlt",
    }
    body, _ = render_page(
        exportable(vendor_order(), state="cancelled"),
        exportable(vendor_order(vendor_order_id="vo_2"), state="partially_shipped"),
        status_names=names,
    )

    assert [text_at(order, "OrderStatus") for order in etree.fromstring(body)] == ["Storniert", "Bezahlt"]


def test_two_statuses_sharing_a_name_is_a_problem() -> None:
    names: dict[ShipStationStatus, str] = {**DEFAULT_STATUS_NAMES, "paid": "Open", "on_hold": "Open"}

    assert status_name_problems(names) == (
        "status name 'Open' is used for paid, on_hold: ShipStation could not tell them apart",
    )


@pytest.mark.parametrize("bad_name", ["", " paid", "paid,shipped", "x" * 51, "unpaid"])
def test_unusable_status_names_reject_orders_instead_of_failing_the_import(bad_name: str) -> None:
    names: dict[ShipStationStatus, str] = {**DEFAULT_STATUS_NAMES, "paid": bad_name}
    body, rejected = render_page(exportable(vendor_order()), status_names=names)

    assert etree.fromstring(body).findall("Order") == []
    assert [order.vendor_order_id for order in rejected] == ["vo_min_1"]
    assert any("status name" in problem for problem in rejected[0].problems)


# --- totals -----------------------------------------------------------------------------------------


def test_rich_order_totals_reconcile() -> None:
    order_data = vendor_order(rich_order_fields())
    order = only_order(render_page(exportable(order_data))[0])

    assert text_at(order, "OrderTotal") == "46.23" == format_money(order_data.order_total)
    assert_totals_reconcile(order)


cents = st.decimals(min_value=0, max_value=1000, places=2)


@settings(max_examples=75, deadline=None)
@given(
    lines=st.lists(st.tuples(cents, st.integers(min_value=1, max_value=50)), min_size=1, max_size=5),
    discounts=st.lists(st.decimals(min_value=0, max_value=20, places=2), max_size=3),
    tax=st.decimals(min_value=0, max_value=100, places=2),
    shipping=st.decimals(min_value=0, max_value=100, places=2),
)
def test_totals_reconcile_and_equal_the_contracts_order_total(
    lines: list[tuple[Decimal, int]], discounts: list[Decimal], tax: Decimal, shipping: Decimal
) -> None:
    fields = minimal_order_fields()
    fields["lines"] = [
        {
            "line_id": f"L{n}",
            "sku": f"S{n}",
            "name": f"Item {n}",
            "quantity": quantity,
            "unit_price": str(price),
        }
        for n, (price, quantity) in enumerate(lines)
    ]
    fields["discounts"] = [{"code": f"D{n}", "amount": str(amount)} for n, amount in enumerate(discounts)]
    fields["tax_amount"] = str(tax)
    fields["shipping_amount"] = str(shipping)
    order_data = vendor_order(fields)

    order = only_order(render_page(exportable(order_data))[0])

    assert_totals_reconcile(order)
    assert text_at(order, "OrderTotal") == format_money(order_data.order_total)


@settings(max_examples=50, deadline=None)
@given(
    prices=st.lists(st.decimals(min_value=0, max_value=100, places=3), min_size=1, max_size=4),
    tax=st.decimals(min_value=0, max_value=10, places=3),
)
def test_totals_reconcile_even_with_sub_cent_prices(prices: list[Decimal], tax: Decimal) -> None:
    fields = minimal_order_fields()
    fields["lines"] = [
        {"line_id": f"L{n}", "sku": f"S{n}", "name": "x", "quantity": 3, "unit_price": str(price)}
        for n, price in enumerate(prices)
    ]
    fields["tax_amount"] = str(tax)

    assert_totals_reconcile(only_order(render_page(exportable(vendor_order(fields)))[0]))


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("5", "5.00"),
        ("2.345", "2.35"),
        ("2.344", "2.34"),
        ("-2.345", "-2.35"),
        ("-0.004", "0.00"),
        ("1234567.891", "1234567.89"),
        ("1E+2", "100.00"),
    ],
)
def test_money_has_two_decimals_rounded_half_up(amount: str, expected: str) -> None:
    assert format_money(Decimal(amount)) == expected


# --- text hygiene in the document -------------------------------------------------------------------


def parsed_text(changes: dict[str, Any], path: str) -> str | None:
    body, rejected = render_page(exportable(vendor_order(**changes)))
    assert rejected == []
    return text_at(only_order(body), path)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("Acme &amp; Sons", "Acme & Sons", id="amp-decoded"),
        pytest.param("&pound;5 off", "£5 off", id="named-entity-decoded"),
        pytest.param("Tom &amp;amp; Jerry", "Tom &amp; Jerry", id="decoded-once-only"),
        pytest.param("Cafe\u0301 Zu\u0308rich", "Café Zürich", id="nfc"),
        pytest.param("Bad\x00\x01\x1f\ufffe\uffffText\udc80", "BadText", id="forbidden-chars-dropped"),
        pytest.param("Tab\tand\nline", "Tab\tand\nline", id="tab-and-newline-kept"),
        pytest.param("  padded  ", "padded", id="stripped"),
        pytest.param("a]]>b <tag> & 'q' \"dq\"", "a]]>b <tag> & 'q' \"dq\"", id="cdata-end-and-markup"),
        pytest.param("Gift 🎁 für 👩‍👩‍👧", "Gift 🎁 für 👩‍👩‍👧", id="emoji"),
        pytest.param("שלום עליכם مرحبا", "שלום עליכם مرحبا", id="rtl"),
    ],
)
def test_text_is_cleaned_before_it_reaches_the_xml(raw: str, expected: str) -> None:
    assert parsed_text({"customer_notes": raw}, "CustomerNotes") == expected


def test_cdata_terminator_is_escaped_in_the_bytes() -> None:
    body, _ = render_page(exportable(vendor_order(customer_notes="end ]]> here")))

    assert b"]]>" not in body
    assert text_at(only_order(body), "CustomerNotes") == "end ]]> here"


def test_long_multibyte_text_is_truncated_by_characters(custom_store_schema: etree.XMLSchema) -> None:
    body, rejected = render_page(
        exportable(vendor_order(lines__0__name="ü" * 150 + "漢" * 100, customer_notes="€" * 1500))
    )

    order = only_order(body)
    assert rejected == []
    assert text_at(order, "Items/Item/Name") == "ü" * 150 + "漢" * 50
    assert text_at(order, "CustomerNotes") == "€" * 1000
    assert_valid(custom_store_schema, etree.fromstring(body))


@pytest.mark.parametrize(
    ("country", "state", "expected"),
    [
        ("US", "Illinois", "IL"),
        ("US", "new york", "NY"),
        ("CA", "Québec", "QC"),
        ("CA", "British Columbia", "BC"),
        ("DE", "Bayern", "Bayern"),
    ],
)
def test_ship_to_state_names_become_codes(country: str, state: str, expected: str) -> None:
    assert parsed_text({"ship_to__country": country, "ship_to__state": state}, "Customer/ShipTo/State") == expected


def test_values_that_break_when_cut_are_left_out_instead(custom_store_schema: etree.XMLSchema) -> None:
    changes: dict[str, Any] = {
        "lines__0__line_id": "L" * 51,
        "lines__0__upc": "4006381333931",  # an EAN-13: 13 digits, one too many for ShipStation's UPC
        "lines__0__image_url": "https://cdn.example.com/" + "a" * 480,
        "bill_to": {"name": "B", "email": "b" * 95 + "@example.com"},
    }
    body, rejected = render_page(exportable(vendor_order(**changes)))
    order = only_order(body)

    assert rejected == []
    for path in ("Items/Item/LineItemID", "Items/Item/UPC", "Items/Item/ImageUrl", "Customer/BillTo/Email"):
        assert order.find(path) is None, path
    assert_valid(custom_store_schema, etree.fromstring(body))


def test_more_than_ten_options_fold_into_the_last(custom_store_schema: etree.XMLSchema) -> None:
    options = [{"name": f"Opt{n}", "value": f"V{n}"} for n in range(13)]
    body, _ = render_page(exportable(vendor_order(lines__0__options=options)))
    order = only_order(body)

    names = [text_at(option, "Name") for option in order.iterfind("Items/Item/Options/Option")]
    assert len(names) == MAX_OPTIONS
    assert names[-1] == "More options"
    assert text_at(order, "Items/Item/Options/Option[10]/Value") == "Opt9: V9; Opt10: V10; Opt11: V11; Opt12: V12"
    assert_valid(custom_store_schema, etree.fromstring(body))


# --- validation and rejection -----------------------------------------------------------------------

INVALID_CASES = [
    pytest.param({"ship_to__name": " \x01 "}, "ship-to name", id="no-ship-to-name"),
    pytest.param({"ship_to__address1": ""}, "ship-to address1", id="no-address1"),
    pytest.param({"ship_to__city": "   "}, "ship-to city", id="no-city"),
    pytest.param({"ship_to__postal_code": ""}, "ship-to postal code", id="no-postal-code"),
    pytest.param({"ship_to__country": "USA"}, "country", id="country-three-letters"),
    pytest.param({"ship_to__country": "U"}, "country", id="country-one-letter"),
    pytest.param({"lines__0__quantity": 0}, "quantity", id="quantity-zero"),
    pytest.param({"lines__0__quantity": 100000}, "quantity", id="quantity-too-large"),
    pytest.param({"lines__0__unit_price": "10000000.00"}, "unit price", id="price-too-many-digits"),
    pytest.param({"lines__0__unit_price": "9999999.995"}, "unit price", id="price-rounds-past-the-digits"),
    pytest.param({"lines__0__unit_price": "1E+40"}, "unit price", id="price-beyond-decimal-precision"),
    pytest.param({"lines__0__name": "\x02\x03"}, "name is empty", id="line-name-empty"),
    pytest.param({"lines__0__weight": "-1", "lines__0__weight_unit": "grams"}, "weight", id="negative-weight"),
    pytest.param({"tax_amount": "-0.01"}, "tax amount", id="negative-tax"),
    pytest.param({"shipping_amount": "-5"}, "shipping amount", id="negative-shipping"),
    pytest.param({"shipping_amount": "99999999"}, "shipping amount", id="shipping-too-many-digits"),
    pytest.param({"lines": []}, "no items", id="no-items"),
    pytest.param({"currency": "US$"}, "currency", id="bad-currency"),
    pytest.param({"vendor_order_id": "v" * 51}, "vendor order id", id="id-too-long"),
    pytest.param({"vendor_order_id": "vo&amp;1"}, "vendor order id", id="id-changed-by-cleaning"),
    pytest.param({"vendor_order_number": "n" * 51}, "order number", id="number-too-long"),
    pytest.param({"discounts": [{"code": "NEG", "amount": "-1"}]}, "discount", id="negative-discount"),
    pytest.param(
        {"lines__0__quantity": 99999, "lines__0__unit_price": "999.99"},
        "order total",
        id="total-too-many-digits",
    ),
]


@pytest.mark.parametrize(("changes", "problem_fragment"), INVALID_CASES)
def test_invalid_order_is_reported(changes: dict[str, Any], problem_fragment: str) -> None:
    problems = validate_order(exportable(vendor_order(**changes)))

    assert any(problem_fragment in problem for problem in problems), problems


def test_naive_last_modified_is_a_problem() -> None:
    problems = validate_order(exportable(vendor_order(), last_modified=datetime(2026, 1, 1)))  # noqa: DTZ001

    assert problems == ("last_modified is a naive datetime",)


def test_valid_orders_have_no_problems() -> None:
    assert validate_order(exportable(vendor_order())) == ()
    assert validate_order(exportable(vendor_order(rich_order_fields()))) == ()


@pytest.mark.parametrize(("changes", "problem_fragment"), INVALID_CASES)
def test_invalid_order_is_left_out_and_the_rest_still_goes(
    changes: dict[str, Any], problem_fragment: str, custom_store_schema: etree.XMLSchema
) -> None:
    good_before = exportable(vendor_order(vendor_order_id="vo_good_1", vendor_order_number="3001-1"))
    bad = exportable(vendor_order(**changes))
    good_after = exportable(vendor_order(rich_order_fields()))

    body, rejected = render_page(good_before, bad, good_after, pages=1)

    root = etree.fromstring(body)
    assert [text_at(order, "OrderID") for order in root] == ["vo_good_1", "vo_01JC8Y3M2K7Q"]
    assert len(rejected) == 1
    assert rejected[0].vendor_order_id == bad.vendor_order.vendor_order_id
    assert rejected[0].order_number == bad.vendor_order.vendor_order_number
    assert any(problem_fragment in problem for problem in rejected[0].problems)
    assert_valid(custom_store_schema, root)
