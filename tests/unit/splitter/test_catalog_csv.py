"""The catalog import file's rules (services/splitter/catalog_csv.py): every row error by row and
column, and every reason a whole file is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.splitter.catalog_csv import (
    MAX_ROWS,
    CatalogRow,
    CsvTooLarge,
    InvalidCsv,
    RowError,
    parse_catalog,
    parse_cost,
    parse_priority,
)

HEADER = "sku,name,vendor,vendor_sku,cost,priority\n"


def parse(text: str) -> tuple[list[CatalogRow], list[RowError]]:
    parsed = parse_catalog(text.encode())
    return parsed.rows, parsed.errors


def test_a_full_row_is_read_with_decimal_cost_and_trimmed_cells() -> None:
    rows, errors = parse(HEADER + ' TS-RED-M ," T-shirt, red ",east, V-1 ,7.1,3\n')
    assert errors == []
    assert rows == [CatalogRow(2, "TS-RED-M", "east", "T-shirt, red", "V-1", Decimal("7.10"), 3)]
    assert isinstance(rows[0].cost, Decimal)


def test_optional_columns_may_be_left_out_and_columns_come_in_any_order() -> None:
    parsed = parse_catalog(b"Vendor,SKU\neast,A\n")
    assert parsed.rows == [CatalogRow(2, "A", "east", None, None, None, 100)]
    assert parsed.columns == frozenset({"sku", "vendor"})


def test_empty_optional_cells_are_none_and_priority_defaults_to_100() -> None:
    rows, errors = parse(HEADER + "A,,east,,,\n")
    assert errors == []
    assert rows == [CatalogRow(2, "A", "east", None, None, None, 100)]


def test_a_byte_order_mark_is_dropped() -> None:
    parsed = parse_catalog(b"\xef\xbb\xbfsku,vendor\nA,east\n")
    assert [row.sku for row in parsed.rows] == ["A"]


def test_rows_are_csv_records_numbered_from_the_header_blank_rows_skipped_but_counted() -> None:
    parsed = parse_catalog(b'sku,name,vendor\nA,"two\nlines",east\n\nB,,x y\n')
    assert parsed.rows[0].name == "two\nlines"
    assert parsed.errors == [RowError(4, "vendor", parsed.errors[0].error)]
    assert parsed.rows_read == 2


@pytest.mark.parametrize(
    ("row", "column", "problem"),
    [
        (",,east,,,", "sku", "required"),
        ("   ,,east,,,", "sku", "required"),
        ("S" * 101 + ",,east,,,", "sku", "at most 100 characters"),
        ("A,,,,,", "vendor", "required"),
        ("A,,East,,,", "vendor", "not a vendor code"),
        ("A,,-east,,,", "vendor", "not a vendor code"),
        ("A,,e" + "x" * 50 + ",,,", "vendor", "not a vendor code"),
        ("A," + "n" * 201 + ",east,,,", "name", "at most 200 characters"),
        ("A,,east," + "v" * 101 + ",,", "vendor_sku", "at most 100 characters"),
        ("A,,east,,-1,", "cost", "must not be negative"),
        ("A,,east,,abc,", "cost", "not an amount"),
        ("A,,east,,1.234,", "cost", "at most 2 decimal places"),
        ("A,,east,,1e3,", "cost", "not an amount"),
        ("A,,east,,NaN,", "cost", "not an amount"),
        ('A,,east,,"7,10",', "cost", "not an amount"),
        ("A,,east,,10000000000,", "cost", "at most 9999999999.99"),
        ("A,,east,,,x", "priority", "a whole number from 0 to 1,000,000"),
        ("A,,east,,,-1", "priority", "a whole number"),
        ("A,,east,,,1000001", "priority", "a whole number"),
        ("A,,east,,,2.5", "priority", "a whole number"),
        ("A,,east,,,²", "priority", "a whole number"),
        ("A,,east", None, "3 fields where the header has 6"),
        ("A,,east,,,,extra", None, "7 fields where the header has 6"),
    ],
)
def test_each_invalid_cell_is_an_error_naming_row_and_column(row: str, column: str | None, problem: str) -> None:
    rows, errors = parse(HEADER + "OK,,east,,,\n" + row + "\n")
    assert [r.sku for r in rows] == ["OK"]
    assert len(errors) == 1, errors
    assert (errors[0].row, errors[0].column) == (3, column)
    assert problem in errors[0].error


def test_a_row_with_several_bad_cells_gets_one_error_per_cell() -> None:
    _, errors = parse(HEADER + ",,BAD,,-1,x\n")
    assert [(e.row, e.column) for e in errors] == [(2, "sku"), (2, "vendor"), (2, "cost"), (2, "priority")]


def test_the_same_sku_and_vendor_again_is_an_error_on_the_later_row() -> None:
    rows, errors = parse(HEADER + "A,,east,,,\nA,,west,,,\n A ,,east,,2.00,\n")
    assert [(r.sku, r.vendor) for r in rows] == [("A", "east"), ("A", "west")]
    assert errors == [RowError(4, "sku", "duplicate of row 2 (same sku and vendor)")]


@pytest.mark.parametrize(
    ("cell", "amount"),
    [("7.1", Decimal("7.10")), ("0", Decimal("0.00")), (".5", Decimal("0.50")), ("3.", Decimal("3.00")),
     ("1.230", Decimal("1.23")), (" 12.00 ", Decimal("12.00")), ("", None)],
)  # fmt: skip
def test_costs_that_are_read(cell: str, amount: Decimal | None) -> None:
    assert parse_cost(cell) == (amount, None)


@pytest.mark.parametrize(("cell", "priority"), [("", 100), ("0", 0), (" 5 ", 5), ("1000000", 1_000_000)])
def test_priorities_that_are_read(cell: str, priority: int) -> None:
    assert parse_priority(cell) == (priority, None)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no header row"),
        (b"\n\n", "no header row"),
        (b",,\nA,east,", "no header row"),
        (b"sku,vendor,colour,size\n", "unknown column(s) 'colour', 'size'"),
        (b'{"sku": "A", "vendor": "east"}', "unknown column"),
        (b"sku;vendor\nA;east\n", "separated by commas"),
        (b"sku,vendor,sku\n", "named twice in the header: sku"),
        (b"sku,name\nA,x\n", "no vendor column"),
        (b"name,cost\n", "no sku or vendor column"),
        (b"sku,vendor\nA,caf\xe9\n", "not UTF-8 (byte 0xE9 on line 2)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
        (b"sku,vendor\nA,east\x00\n", "NUL byte (line 2)"),
        (b'sku,vendor\nA,"east\n', "row 2 is not valid CSV"),
        (b'sku,vendor\nA,east\nB,"we"st\n', "row 3 is not valid CSV"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidCsv) as refused:
        parse_catalog(body)
    assert not isinstance(refused.value, CsvTooLarge)
    assert reason in str(refused.value)


def test_more_rows_than_one_import_takes_is_too_large() -> None:
    at_limit = "sku,vendor\n" + "".join(f"S{i},east\n" for i in range(MAX_ROWS))
    assert parse_catalog(at_limit.encode()).rows_read == MAX_ROWS
    with pytest.raises(CsvTooLarge, match="more than 200,000 rows"):
        parse_catalog((at_limit + "ONE-MORE,east\n").encode())


def test_windows_line_endings_and_a_missing_final_newline_are_fine() -> None:
    parsed = parse_catalog(b"sku,vendor,cost\r\nA,east,1.00\r\nB,east,2.00")
    assert [(r.sku, r.cost) for r in parsed.rows] == [("A", Decimal("1.00")), ("B", Decimal("2.00"))]
