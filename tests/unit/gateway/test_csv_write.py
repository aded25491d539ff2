"""Order files for CSV vendors: columns and field paths, value formats, formula escaping, encodings,
cancellations (whole and per line) and the plain-text rendering of an order."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from services.gateway.formats.csv_profile import CsvProfile
from services.gateway.formats.csv_write import cancel_document, check_order_columns, order_document
from shared.contracts.vendor_orders import VendorOrderCreatedData, WithdrawnLine


def order_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "vendor_order_id": "vo_1",
        "vendor_order_number": "1001-2",
        "vendor": "east",
        "order_id": "ord_1",
        "channel": "shop-main",
        "external_id": "9001",
        "order_number": "1001",
        "ordered_at": datetime(2026, 11, 27, 23, 30, tzinfo=UTC).isoformat(),
        "currency": "USD",
        "shipping_method": "Ground",
        "tax_amount": "1.50",
        "ship_to": {
            "name": "Ana Lima",
            "address1": "2 Side St",
            "city": "Austin",
            "state": "TX",
            "postal_code": "73301",
            "country": "US",
            "phone": "+1 555 0100",
        },
        "lines": [
            {
                "line_id": "L1",
                "sku": "TS-R-M",
                "vendor_sku": "ACME-TS-R-M",
                "name": "T-shirt",
                "quantity": 2,
                "unit_price": "19.99",
                "cost": "4.10",
                "options": [{"name": "Size", "value": "M"}, {"name": "Colour", "value": "Red"}],
            },
            {"line_id": "L2", "sku": "MUG-BLUE", "name": "Mug, blue", "quantity": 1, "unit_price": "12.00"},
        ],
    }
    fields.update(changes)
    return fields


def make_order(**changes: Any) -> VendorOrderCreatedData:
    return VendorOrderCreatedData.model_validate(order_fields(**changes))


def read_rows(content: bytes, encoding: str = "utf-8", delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(encoding), newline=""), delimiter=delimiter))


def profile_with(columns: list[tuple[str, str]], **settings: Any) -> CsvProfile:
    return CsvProfile.model_validate({"order_columns": [list(column) for column in columns], **settings})


def test_default_columns_give_a_header_row_then_one_row_per_line() -> None:
    document = order_document("dlv_1", make_order(), CsvProfile())

    rows = read_rows(document.content)
    assert rows[0][:3] == ["PO Number", "Order Date", "Ship To Name"]
    assert len(rows) == 3
    by_header = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert by_header[0]["PO Number"] == by_header[1]["PO Number"] == "1001-2"
    assert by_header[0]["Order Date"] == "2026-11-27"
    assert [row["SKU"] for row in by_header] == ["ACME-TS-R-M", "MUG-BLUE"]
    assert [row["Qty"] for row in by_header] == ["2", "1"]
    assert by_header[0]["Unit Cost"] == "4.10"
    assert by_header[1]["Unit Cost"] == ""
    assert by_header[0]["Shipping"] == "Ground"
    assert document.file_name == "1001-2.csv"
    assert document.media_type == "text/csv"
    assert document.event_type == "vendor_order.created"
    assert document.delivery_id == "dlv_1"
    assert document.subject == "Order 1001-2"


def test_rows_end_in_crlf_and_follow_the_profile_delimiter() -> None:
    profile = profile_with([("PO", "vendor_order_number"), ("Name", "line.name")], delimiter=";")

    content = order_document("dlv_1", make_order(), profile).content

    assert content == b"PO;Name\r\n1001-2;T-shirt\r\n1001-2;Mug, blue\r\n"


def test_a_cell_with_the_delimiter_is_quoted_minimally() -> None:
    profile = profile_with([("PO", "vendor_order_number"), ("Name", "line.name")])

    content = order_document("dlv_1", make_order(), profile).content

    assert content.splitlines()[2] == b'1001-2,"Mug, blue"'


def test_nested_fields_options_booleans_and_money() -> None:
    columns = [
        ("Email", "customer.email"),
        ("Bill", "bill_to.name"),
        ("Options", "line.options"),
        ("Gift", "gift"),
        ("Tax", "tax_amount"),
        ("Price", "line.unit_price"),
        ("Total", "order_total"),
    ]
    order = make_order(customer={"email": "ana@example.com"}, bill_to=None, gift=True, tax_amount="1E+1")

    rows = read_rows(order_document("dlv_1", order, profile_with(columns)).content)

    assert rows[1] == ["ana@example.com", "", "Size: M; Colour: Red", "true", "10", "19.99", "61.98"]
    assert rows[2][2] == ""


def test_dates_follow_the_profile_format_in_utc() -> None:
    order = make_order(ordered_at="2026-11-28T01:30:00+02:00")
    profile = profile_with([("Date", "ordered_at")], date_format="%m/%d/%Y %H:%M")

    rows = read_rows(order_document("dlv_1", order, profile).content)

    assert rows[1] == ["11/27/2026 23:30"]


def test_vendor_sku_falls_back_to_our_sku() -> None:
    profile = profile_with([("SKU", "line.vendor_sku"), ("Ours", "line.sku")])

    rows = read_rows(order_document("dlv_1", make_order(), profile).content)

    assert rows[1:] == [["ACME-TS-R-M", "TS-R-M"], ["MUG-BLUE", "MUG-BLUE"]]


def test_text_that_a_spreadsheet_would_run_is_escaped_numbers_are_not() -> None:
    lines = [
        {"line_id": "L1", "sku": "-ABC", "name": '=HYPERLINK("http://x.example","click")', "quantity": 1,
         "unit_price": "1.00"},
        {"line_id": "L2", "sku": "@SUM", "name": "  +cmd", "quantity": 3, "unit_price": "2.00"},
    ]  # fmt: skip
    columns = [("SKU", "line.vendor_sku"), ("Name", "line.name"), ("Qty", "line.quantity"), ("Phone", "ship_to.phone")]

    rows = read_rows(order_document("dlv_1", make_order(lines=lines), profile_with(columns)).content)

    assert rows[1] == ["'-ABC", '\'=HYPERLINK("http://x.example","click")', "1", "'+1 555 0100"]
    assert rows[2] == ["'@SUM", "'+cmd", "3", "'+1 555 0100"]


def test_a_negative_amount_is_a_number_not_a_formula() -> None:
    profile = profile_with([("Tax", "tax_amount")])

    rows = read_rows(order_document("dlv_1", make_order(tax_amount="-1.00"), profile).content)

    assert rows[1] == ["-1.00"]


def test_text_is_cleaned_of_entities_and_control_characters() -> None:
    lines = [{"line_id": "L1", "sku": "S1", "name": "Acme &amp; Sons\x00 tee", "quantity": 1, "unit_price": "1"}]

    rows = read_rows(order_document("dlv_1", make_order(lines=lines), profile_with([("N", "line.name")])).content)

    assert rows[1] == ["Acme & Sons tee"]


def test_utf8_sig_writes_a_byte_order_mark() -> None:
    content = order_document(
        "dlv_1", make_order(), profile_with([("PO", "vendor_order_number")], encoding="utf-8-sig")
    ).content

    assert content.startswith(b"\xef\xbb\xbfPO\r\n")


@pytest.mark.parametrize(
    ("encoding", "name", "expected"),
    [
        pytest.param("windows-1252", "Café €5", "Café €5".encode("cp1252"), id="cp1252-holds-it"),
        pytest.param("windows-1252", "Łódź Őrs", "?ódz Ors".encode("cp1252"), id="cp1252-transliterates"),
        pytest.param("latin-1", "Müller €5", "Müller ?5".encode("latin-1"), id="latin1-no-euro"),
        pytest.param("windows-1252", "漢字 ok", b"?? ok", id="cjk-replaced"),
        pytest.param("utf-8", "漢字 ok", "漢字 ok".encode(), id="utf8-holds-everything"),
    ],
)
def test_characters_an_encoding_cannot_hold_are_replaced_never_refused(
    encoding: str, name: str, expected: bytes
) -> None:
    lines = [{"line_id": "L1", "sku": "S1", "name": name, "quantity": 1, "unit_price": "1"}]
    profile = profile_with([("Name", "line.name")], encoding=encoding)

    content = order_document("dlv_1", make_order(lines=lines), profile).content

    assert content == b"Name\r\n" + expected + b"\r\n"


def test_check_order_columns_names_each_problem() -> None:
    problems = check_order_columns(
        [("PO", "vendor_order_number"), ("po", "line.colour"), (" ", "nothing"), ("N", "internal_notes")]
    )

    assert problems == [
        "header 'po' appears twice",
        "unknown field path 'line.colour' (column 'po')",
        "column 3 has no header",
        "unknown field path 'nothing' (column ' ')",
        "unknown field path 'internal_notes' (column 'N')",
    ]
    assert check_order_columns([]) == ["an order file needs at least one column"]


def test_every_documented_path_is_accepted() -> None:
    paths = [
        "vendor_order_number", "vendor_order_id", "order_id", "order_number", "channel", "external_id",
        "currency", "shipping_method", "gift_message", "customer_notes", "tax_amount", "shipping_amount",
        "ship_to.name", "ship_to.postal_code", "customer.email", "bill_to.name", "line.line_id", "line.sku",
        "line.vendor_sku", "line.name", "line.quantity", "line.unit_price", "line.cost", "line.upc",
        "line.weight", "line.options", "ordered_at",
    ]  # fmt: skip
    columns = [(f"C{index}", path) for index, path in enumerate(paths)]

    assert check_order_columns(columns) == []
    rows = read_rows(order_document("dlv_1", make_order(), profile_with(columns)).content)
    assert len(rows) == 3 and len(rows[1]) == len(paths)


def test_an_unknown_path_is_refused_when_writing() -> None:
    profile = profile_with([("X", "ship_to.planet")])

    with pytest.raises(ValueError, match=r"ship_to\.planet"):
        order_document("dlv_1", make_order(), profile)


def test_a_full_cancellation_lists_every_line() -> None:
    document = cancel_document("dlv_c", make_order(), CsvProfile())

    rows = read_rows(document.content)
    assert [row[rows[0].index("Line")] for row in rows[1:]] == ["L1", "L2"]
    assert document.file_name == "1001-2-cancel.csv"
    assert document.event_type == "vendor_order.cancelled"
    assert document.subject == "Cancellation of order 1001-2"
    assert "cancel order 1001-2" in document.text


def test_withdrawn_lines_show_only_those_lines_and_the_withdrawn_quantity() -> None:
    profile = profile_with([("Line", "line.line_id"), ("Qty", "line.quantity")])

    document = cancel_document(
        "dlv_w", make_order(), profile, lines=[WithdrawnLine(line_id="L1", quantity=1)], sequence=3
    )

    assert read_rows(document.content) == [["Line", "Qty"], ["L1", "1"]]
    assert document.file_name == "1001-2-cancel-3.csv"
    assert document.event_type == "vendor_order.lines_cancelled"
    assert document.subject == "Change to order 1001-2: lines withdrawn"
    assert "1 x ACME-TS-R-M" in document.text
    assert "MUG-BLUE" not in document.text


def test_withdrawing_needs_a_sequence_and_known_lines() -> None:
    lines = [WithdrawnLine(line_id="L9", quantity=1)]

    with pytest.raises(ValueError, match="sequence"):
        cancel_document("dlv_w", make_order(), CsvProfile(), lines=lines)
    with pytest.raises(ValueError, match="L9"):
        cancel_document("dlv_w", make_order(), CsvProfile(), lines=lines, sequence=1)


def test_the_text_is_the_order_in_plain_words() -> None:
    order = make_order(gift_message="Happy birthday", customer_notes="Leave at the door")

    text = order_document("dlv_1", order, CsvProfile()).text

    assert "Please ship order 1001-2." in text
    assert "Ship to:\n  Ana Lima\n  2 Side St\n  Austin, TX 73301\n  US\n  Phone: +1 555 0100" in text
    assert "  2 x ACME-TS-R-M  T-shirt (Size: M; Colour: Red)" in text
    assert "  1 x MUG-BLUE  Mug, blue" in text
    assert "Shipping: Ground" in text
    assert "Gift message: Happy birthday" in text
    assert "Customer notes: Leave at the door" in text


def test_the_same_order_gives_the_same_bytes() -> None:
    first = order_document("dlv_1", make_order(), CsvProfile())
    again = order_document("dlv_1", make_order(), CsvProfile())

    assert first == again
