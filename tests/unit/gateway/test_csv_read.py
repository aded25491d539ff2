"""Reading vendors' CSV files: encodings, dialects, headers, broken rows, quantities, SKUs that a
spreadsheet rewrote, tracking numbers, dates, statuses, money and the size guard; and a round trip
through the order file writer."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.gateway.formats.csv_profile import CsvProfile
from services.gateway.formats.csv_read import (
    AcknowledgementRow,
    InventoryRow,
    RowError,
    ShipmentRow,
    UnreadableFile,
    read_acknowledgements,
    read_inventory,
    read_shipments,
)
from services.gateway.formats.csv_write import order_document
from shared.contracts.vendor_orders import VendorOrderCreatedData

SHIPMENT_HEADER = "PO Number,SKU,Qty,Carrier,Tracking,Ship Date\r\n"


def profile(**settings: Any) -> CsvProfile:
    return CsvProfile.model_validate(settings)


def shipments(body: str, **settings: Any) -> tuple[list[ShipmentRow], list[RowError]]:
    parsed = read_shipments((SHIPMENT_HEADER + body).encode(), profile(**settings))
    return list(parsed.rows), list(parsed.errors)


def inventory(text: str, **settings: Any) -> tuple[list[InventoryRow], list[RowError]]:
    parsed = read_inventory(text.encode(), profile(**settings))
    return list(parsed.rows), list(parsed.errors)


def test_a_shipment_row_is_read_with_every_field() -> None:
    content = (
        b"PO Number,SKU,Qty,Carrier,Service,Tracking,Ship Date,Cost\r\n"
        b"1001-2,TS-R-M,2,UPS,Ground,1Z999,2026-12-01,12.50\r\n"
    )
    settings = {"shipment_columns": {"service": "Service", "shipping_cost": "Cost"}}

    parsed = read_shipments(content, profile(**settings))

    assert parsed.errors == ()
    assert parsed.rows == (
        ShipmentRow(
            row=2, po="1001-2", sku="TS-R-M", quantity=2, carrier="UPS", service="Ground",
            tracking_numbers=("1Z999",), ship_date=date(2026, 12, 1), shipping_cost=Decimal("12.50"),
        ),
    )  # fmt: skip


def test_optional_columns_may_be_absent_from_the_file() -> None:
    parsed = read_shipments(b"PO Number,Tracking\n1001-2,1Z1\n", CsvProfile())

    assert parsed.rows[0].sku is None and parsed.rows[0].quantity is None and parsed.rows[0].carrier is None
    assert parsed.rows[0].tracking_numbers == ("1Z1",)


def test_utf8_with_a_byte_order_mark() -> None:
    rows, errors = inventory("\ufeffSKU,Qty\r\nCAFÉ-1,4\r\n")

    assert errors == [] and rows == [InventoryRow(row=2, sku="CAFÉ-1", quantity=4)]


@pytest.mark.parametrize("encoding", ["windows-1252", "latin-1"])
def test_windows_1252_when_the_profile_says_so(encoding: str) -> None:
    content = "SKU;Qty\r\nCRÈME-€;4\r\n".encode("cp1252")

    parsed = read_inventory(content, profile(encoding=encoding, delimiter=";"))

    assert parsed.rows == (InventoryRow(row=2, sku="CRÈME-€", quantity=4),)


def test_a_byte_order_mark_wins_over_a_windows_profile() -> None:
    parsed = read_inventory("\ufeffSKU,Qty\nCRÈME,4\n".encode(), profile(encoding="windows-1252"))

    assert parsed.rows[0].sku == "CRÈME"


def test_bytes_that_are_not_utf8_for_a_utf8_profile_name_the_offset() -> None:
    content = "SKU,Qty\nCRÈME,4\n".encode("cp1252")

    with pytest.raises(UnreadableFile, match=r"not valid UTF-8: byte 10 \(0xc8\)"):
        read_inventory(content, CsvProfile())


@pytest.mark.parametrize("delimiter", [",", ";", "|", "\t"])
def test_the_profile_delimiter(delimiter: str) -> None:
    text = delimiter.join(["SKU", "Qty"]) + "\n" + delimiter.join(["A,1", "3"]) + "\n"
    if delimiter == ",":
        text = 'SKU,Qty\n"A,1",3\n'

    rows, errors = inventory(text, delimiter=delimiter)

    assert errors == [] and rows == [InventoryRow(row=2, sku="A,1", quantity=3)]


def test_a_tab_written_as_backslash_t_in_the_profile() -> None:
    rows, _ = inventory("SKU\tQty\nA\t3\n", delimiter="\\t")

    assert rows == [InventoryRow(row=2, sku="A", quantity=3)]


def test_headers_match_case_insensitively_and_trimmed() -> None:
    rows, errors = inventory("  sku , QTY \nA,3\n")

    assert errors == [] and rows == [InventoryRow(row=2, sku="A", quantity=3)]


def test_a_missing_required_column_refuses_the_file() -> None:
    with pytest.raises(UnreadableFile, match="no column 'Tracking'"):
        read_shipments(b"PO Number,SKU\n1001-2,A\n", CsvProfile())


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers() -> None:
    rows, errors = inventory("SKU,Qty\n\nA,1\n , \nB,2\n")

    assert errors == []
    assert rows == [InventoryRow(row=3, sku="A", quantity=1), InventoryRow(row=5, sku="B", quantity=2)]


def test_a_header_only_file_has_no_rows_and_no_errors() -> None:
    assert inventory("SKU,Qty\r\n") == ([], [])


@pytest.mark.parametrize("content", [b"", b"  \r\n\t\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
def test_an_empty_file_is_refused(content: bytes) -> None:
    with pytest.raises(UnreadableFile, match="empty file"):
        read_inventory(content, CsvProfile())


def test_a_truncated_last_line_is_a_row_error_and_the_rows_before_it_are_kept() -> None:
    body = "1001-2,A,1,UPS,1Z1,2026-12-01\r\n" * 5 + "1001-3,B,1"

    rows, errors = shipments(body)

    assert len(rows) == 5
    assert errors == [RowError(7, "row 7 is cut short: 3 of 6 columns")]


def test_an_unterminated_quote_at_the_end_is_a_row_error() -> None:
    rows, errors = shipments('1001-2,A,1,UPS,1Z1,2026-12-01\r\n1001-3,B,1,UPS,"1Z2')

    assert [row.po for row in rows] == ["1001-2"]
    assert len(errors) == 1 and errors[0].row == 3 and "cut short" in errors[0].message


def test_a_short_row_in_the_middle_is_an_error_of_that_row() -> None:
    rows, errors = inventory("SKU,Qty\nA\nB,2\n")

    assert rows == [InventoryRow(row=3, sku="B", quantity=2)]
    assert errors == [RowError(2, "row 2 has only: 1 of 2 columns")]


def test_extra_cells_with_data_are_an_error_empty_ones_are_not() -> None:
    rows, errors = inventory("SKU,Qty\nA,1,,\nB,2,surprise\n")

    assert rows == [InventoryRow(row=2, sku="A", quantity=1)]
    assert errors == [RowError(3, "row 3 has 3 columns, the header 2")]


@pytest.mark.parametrize(("cell", "expected"), [("2", 2), (" 2 ", 2), ("2.0", 2), ("0", 0), ("2.00", 2)])
def test_whole_quantities(cell: str, expected: int) -> None:
    rows, errors = inventory(f"SKU,Qty\nA,{cell}\n")

    assert errors == [] and rows[0].quantity == expected


@pytest.mark.parametrize("cell", ["2.5", "-1", "abc", "1,000", ""])
def test_quantities_that_are_not_whole_units_are_row_errors(cell: str) -> None:
    rows, errors = inventory(f'SKU,Qty\nA,"{cell}"\nB,1\n')

    assert [row.sku for row in rows] == ["B"]
    assert len(errors) == 1 and errors[0].row == 2 and "quantity" in errors[0].message


def test_a_shipped_quantity_of_zero_is_refused() -> None:
    _, errors = shipments("1001-2,A,0,UPS,1Z1,2026-12-01\n")

    assert errors == [RowError(2, "quantity '0' is below 1")]


@pytest.mark.parametrize("cell", ["1.23457E+11", "1,23457E+11", "4.0E+12", "1e5"])
def test_a_sku_in_scientific_notation_is_refused_with_advice(cell: str) -> None:
    _, errors = inventory(f'SKU,Qty\n"{cell}",1\n')

    assert errors == [RowError(2, f"SKU '{cell}' looks like a number a spreadsheet rewrote; export the column as text")]


def test_an_eleven_digit_sku_looks_like_a_upc_that_lost_its_zero() -> None:
    rows, errors = inventory("SKU,Qty\n12345678901,1\n012345678901,2\n1234567890,3\n")

    assert errors == [
        RowError(2, "SKU '12345678901' looks like a UPC that lost its leading zero; export the column as text")
    ]
    assert [row.sku for row in rows] == ["012345678901", "1234567890"]


def test_a_spreadsheets_leading_quote_is_removed_from_skus_and_pos() -> None:
    rows, errors = shipments("'1001-2,'012345678901,1,UPS,1Z1,2026-12-01\n")

    assert errors == [] and (rows[0].po, rows[0].sku) == ("1001-2", "012345678901")


def test_cells_are_trimmed() -> None:
    rows, _ = shipments(" 1001-2 ,  A , 1 ,  UPS  , 1Z1 , 2026-12-01 \n")

    assert (rows[0].po, rows[0].sku, rows[0].carrier, rows[0].tracking_numbers) == ("1001-2", "A", "UPS", ("1Z1",))


def test_several_tracking_numbers_in_one_cell() -> None:
    rows, errors = shipments('1001-2,A,1,UPS,"1Z1 | 1Z2||1Z3\n1Z4\r\n1Z1",2026-12-01\n')

    assert errors == []
    assert rows[0].tracking_numbers == ("1Z1", "1Z2", "1Z3", "1Z4")
    assert rows[0].row == 2


def test_the_profile_tracking_separator() -> None:
    rows, _ = shipments("1001-2,A,1,UPS,1Z1;1Z2,2026-12-01\n", tracking_separator=";")

    assert rows[0].tracking_numbers == ("1Z1", "1Z2")


def test_a_row_after_a_multiline_cell_keeps_its_line_number() -> None:
    rows, _ = shipments('1001-2,A,1,UPS,"1Z1\n1Z2",2026-12-01\n1001-3,B,1,UPS,1Z3,\n')

    assert [row.row for row in rows] == [2, 4]


def test_a_row_without_a_tracking_number_is_an_error() -> None:
    rows, errors = shipments('1001-2,A,1,UPS," | ",2026-12-01\n1001-3,B,1,UPS,1Z3,\n')

    assert [row.po for row in rows] == ["1001-3"]
    assert errors == [RowError(2, "no tracking number")]


def test_a_row_without_a_po_is_an_error() -> None:
    _, errors = shipments(",A,1,UPS,1Z1,\n")

    assert errors == [RowError(2, "no PO number")]


def test_dates_in_the_profile_format_or_iso() -> None:
    rows, errors = shipments("1001-2,A,1,UPS,1Z1,12/01/2026\n1001-3,B,1,UPS,1Z2,2026-12-02\n", date_format="%m/%d/%Y")

    assert errors == []
    assert [row.ship_date for row in rows] == [date(2026, 12, 1), date(2026, 12, 2)]


def test_a_bad_date_is_a_row_error_showing_the_format() -> None:
    _, errors = shipments("1001-2,A,1,UPS,1Z1,31/12/2026\n", date_format="%m/%d/%Y")

    assert errors == [RowError(2, "date '31/12/2026' is not like 12/31/2026 (or 2026-12-31)")]


@pytest.mark.parametrize(("cell", "expected"), [("12.50", Decimal("12.50")), ("7", Decimal("7")), ("", None)])
def test_shipping_cost_is_a_decimal(cell: str, expected: Decimal | None) -> None:
    content = f"PO Number,Tracking,Cost\n1001-2,1Z1,{cell}\n".encode()

    parsed = read_shipments(content, profile(shipment_columns={"shipping_cost": "Cost"}))

    assert parsed.errors == () and parsed.rows[0].shipping_cost == expected


@pytest.mark.parametrize("cell", ["12,50", "$12.50", "-1.00", "twelve"])
def test_a_bad_amount_is_a_row_error(cell: str) -> None:
    content = f'PO Number,Tracking,Cost\n1001-2,1Z1,"{cell}"\n'.encode()

    parsed = read_shipments(content, profile(shipment_columns={"shipping_cost": "Cost"}))

    assert parsed.rows == () and parsed.errors == (RowError(2, f"amount {cell!r} is not like 12.50"),)


def test_acknowledgements_match_status_words_case_insensitively() -> None:
    content = (
        b"PO Number,SKU,Status,Qty,Reason,Ship By\n"
        b"1001-2,A, accepted ,2,,\n"
        b"1001-2,B,b,1,out of stock,2026-12-09\n"
        b"1001-2,C,R,,discontinued,\n"
    )
    settings = {"acknowledgement_columns": {"expected_ship_date": "Ship By"}}

    parsed = read_acknowledgements(content, profile(**settings))

    assert parsed.errors == ()
    assert parsed.rows == (
        AcknowledgementRow(row=2, po="1001-2", sku="A", status="accepted", quantity=2, reason=None,
                           expected_ship_date=None),
        AcknowledgementRow(row=3, po="1001-2", sku="B", status="backordered", quantity=1, reason="out of stock",
                           expected_ship_date=date(2026, 12, 9)),
        AcknowledgementRow(row=4, po="1001-2", sku="C", status="rejected", quantity=None, reason="discontinued",
                           expected_ship_date=None),
    )  # fmt: skip


def test_an_unknown_status_lists_the_accepted_words() -> None:
    settings = {"status_values": {"accepted": ["OK"], "backordered": ["LATER"], "rejected": ["NO"]}}

    parsed = read_acknowledgements(b"PO Number,SKU,Status\n1001-2,A,maybe\n1001-2,B,later\n", profile(**settings))

    assert [row.status for row in parsed.rows] == ["backordered"]
    assert parsed.errors == (RowError(2, "status 'maybe' is not one of OK, LATER, NO"),)


def test_inventory_needs_a_quantity() -> None:
    _, errors = inventory("SKU,Qty\nA,\n")

    assert errors == [RowError(2, "no quantity for SKU 'A'")]


def test_more_rows_than_the_limit_refuse_the_file() -> None:
    content = ("SKU,Qty\n" + "A,1\n" * 11).encode()

    assert len(read_inventory(content, CsvProfile(), max_rows=11).rows) == 11
    with pytest.raises(UnreadableFile, match="more than 10 rows"):
        read_inventory(content, CsvProfile(), max_rows=10)


def test_the_default_limit_is_one_hundred_thousand_rows() -> None:
    content = b"SKU,Qty\n" + b"A,1\n" * 100_001

    with pytest.raises(UnreadableFile, match="more than 100000 rows"):
        read_inventory(content, CsvProfile())


def test_a_header_row_that_is_not_csv_refuses_the_file() -> None:
    with pytest.raises(UnreadableFile, match="header"):
        read_inventory(b'"SKU"x,Qty\nA,1\n', CsvProfile())


_SKU_CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp", "Co", "Cn"))
_NUMBER_A_SPREADSHEET_WROTE = re.compile(r"^([0-9]{11}|[+-]?[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+)$")


def _kept_as_written(sku: str) -> bool:
    """A SKU the writer leaves as it is (cleaning changes nothing) and the reader does not refuse."""
    return (
        sku == sku.strip()
        and not sku.startswith("'")
        and "&" not in sku
        and unicodedata.normalize("NFC", sku) == sku
        and not _NUMBER_A_SPREADSHEET_WROTE.match(sku)
    )


@given(
    skus=st.lists(st.text(_SKU_CHARACTERS, min_size=1, max_size=20).filter(_kept_as_written), min_size=1, max_size=5),
    delimiter=st.sampled_from([",", ";", "|", "\t"]),
)
@example(skus=["=1+2", "-ABC", "@SUM(A1)", "+1 555", 'say "hi"', "a;b|c,d"], delimiter=";")
def test_what_the_writer_escapes_the_reader_reads_back(skus: list[str], delimiter: str) -> None:
    """An order file read as a stock file: formula escaping, quoting and delimiters undo exactly."""
    lines = [
        {"line_id": f"L{index}", "sku": sku, "name": "x", "quantity": index + 1, "unit_price": "1"}
        for index, sku in enumerate(skus)
    ]
    order = VendorOrderCreatedData.model_validate(
        {
            "vendor_order_id": "vo_1", "vendor_order_number": "1-1", "vendor": "east", "order_id": "o1",
            "channel": "c", "external_id": "1", "order_number": "1", "ordered_at": "2026-12-01T00:00:00Z",
            "currency": "USD", "lines": lines,
            "ship_to": {"name": "A", "address1": "B", "city": "C", "postal_code": "1", "country": "US"},
        }
    )  # fmt: skip
    csv_profile = profile(delimiter=delimiter, order_columns=[["SKU", "line.vendor_sku"], ["Qty", "line.quantity"]])

    parsed = read_inventory(order_document("dlv", order, csv_profile).content, csv_profile)

    assert parsed.errors == ()
    assert [(row.sku, row.quantity) for row in parsed.rows] == [(sku, index + 1) for index, sku in enumerate(skus)]


def test_unicode_digits_are_not_taken_for_a_spreadsheet_number() -> None:
    rows, errors = inventory("SKU,Qty\n\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661,1\n")

    assert errors == [] and len(rows) == 1
