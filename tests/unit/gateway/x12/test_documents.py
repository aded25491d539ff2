"""Reading a partner's 855, 846 and 810 from the fixtures, and what each refuses per line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.gateway.x12 import (
    AckCodes,
    AckedLine,
    InventoryRow,
    Segment,
    TransactionSet,
    read_file,
    read_inventory_advice,
    read_invoice,
    read_po_acknowledgement,
)
from tests.unit.gateway.x12 import fixture


def only_set(name: str, index: int = 0) -> TransactionSet:
    return read_file(fixture(name)).interchanges[0].groups[0].sets[index]


def test_an_855_maps_each_ack_to_its_po1_line() -> None:
    ack = read_po_acknowledgement(only_set("po_ack_855.x12"), AckCodes())
    assert (ack.po_number, ack.date, ack.acknowledgement_type, ack.errors) == ("1001-2", date(2026, 12, 1), "AC", [])
    assert ack.lines == [
        AckedLine(1, "accepted", 2, date(2026, 12, 3), "AC-MUG", "IA"),
        AckedLine(2, "accepted", 1, date(2026, 12, 3), "AC-TEE", "IA"),
        AckedLine(2, "backordered", 2, date(2026, 12, 15), "AC-TEE", "IB"),
        AckedLine(3, "rejected", 1, None, "AC-CAP", "IR"),
    ]
    assert not ack.rejected_without_detail


def test_the_partners_own_ack_codes_decide() -> None:
    codes = AckCodes(accepted=["IA"], backordered=["IR"], rejected=["IB"])
    statuses = [line.status for line in read_po_acknowledgement(only_set("po_ack_855.x12"), codes).lines]
    assert statuses == ["accepted", "accepted", "rejected", "backordered"]


def test_an_unknown_ack_code_and_a_bad_quantity_are_errors_of_their_line() -> None:
    transaction = only_set("po_ack_855.x12")
    transaction.segments = [
        Segment("ACK", ("ZZ", "1", "EA")) if s.element(1) == "IR" and s.id == "ACK" else s for s in transaction.segments
    ]
    ack = read_po_acknowledgement(transaction, AckCodes())
    assert [line.line_number for line in ack.lines] == [1, 2, 2]
    assert ack.errors == ["line '3': ACK01 code 'ZZ' is not one the partner's ack_codes name"]
    bad = read_po_acknowledgement(only_set("missing_bak_and_bad_quantity.x12", 1), AckCodes())
    assert bad.errors == ["line '1': quantity 'TWO' is not a whole number of units"]
    assert [line.line_number for line in bad.lines] == [2, 2, 3]


def test_an_855_without_bak_says_so() -> None:
    ack = read_po_acknowledgement(only_set("missing_bak_and_bad_quantity.x12"), AckCodes())
    assert ack.po_number == "" and "no BAK03" in ack.errors[0]
    assert len(ack.lines) == 4, "the lines are still read"


def test_a_whole_order_rejected_without_detail() -> None:
    transaction = TransactionSet("855", "0001", [Segment("BAK", ("00", "RJ", "1001-2", "20261201"))])
    ack = read_po_acknowledgement(transaction, AckCodes())
    assert ack.rejected_without_detail and ack.lines == [] and ack.errors == []


def test_ack_codes_may_not_mean_two_things() -> None:
    with pytest.raises(ValueError, match="both"):
        AckCodes(accepted=["IA"], rejected=["IA"])


def test_an_846_gives_rows_by_vendor_sku_else_sku_and_refuses_upc_only_rows() -> None:
    advice = read_inventory_advice(only_set("inventory_846.x12"))
    assert advice.as_of == datetime(2026, 12, 1, 7, 45, tzinfo=UTC)
    assert advice.rows == [
        InventoryRow(1, "AC-MUG", None, 40),
        InventoryRow(2, None, "TEE", 7),
        InventoryRow(5, "AC-HAT", None, 0),
    ]
    assert advice.errors == [
        (3, "the row names UP 012345678912: a row needs a VN vendor SKU or an SK SKU"),
        (4, "quantity 'MANY' is not a whole number of units"),
    ]


def test_an_846_read_from_a_wrapped_file_is_the_same() -> None:
    wrapped = read_inventory_advice(read_file(fixture("crlf_wrapped_846.x12")).interchanges[0].groups[0].sets[0])
    assert wrapped == read_inventory_advice(only_set("inventory_846.x12"))


def test_an_846_row_without_available_quantity_and_the_bia_date() -> None:
    transaction = TransactionSet(
        "846",
        "0001",
        [
            Segment("BIA", ("00", "MM", "X", "20261130", "2215")),
            Segment("LIN", ("1", "VN", "A")),
            Segment("QTY", ("02", "5")),
        ],
    )
    advice = read_inventory_advice(transaction)
    assert advice.as_of == datetime(2026, 11, 30, 22, 15, tzinfo=UTC)
    assert advice.rows == [] and advice.errors == [(1, "no QTY*33 (available quantity)")]


def test_an_810_gives_the_invoice_and_its_total_from_cents() -> None:
    invoice = read_invoice(only_set("invoice_810.x12"))
    assert (invoice.invoice_number, invoice.invoice_date, invoice.po_number) == (
        "INV-9001",
        date(2026, 12, 5),
        "1001-2",
    )
    assert invoice.total == Decimal("21.95") and invoice.lines == 2 and invoice.errors == []


def test_an_810_read_from_5010_uses_its_repetition_separator() -> None:
    interchange = read_file(fixture("invoice_810.x12")).interchanges[0]
    assert interchange.version == "00501" and interchange.delimiters.repetition == "^"
    assert interchange.delimiters.component == ":"


def test_an_810_with_a_bad_total_or_no_big() -> None:
    transaction = TransactionSet("810", "0001", [Segment("TDS", ("21.95",))])
    invoice = read_invoice(transaction)
    assert invoice.total is None
    assert invoice.errors == ["no BIG: the invoice has no number", "TDS01 '21.95' is not an amount in cents"]


def test_a_reader_refuses_the_wrong_set() -> None:
    with pytest.raises(ValueError, match="expected a 810"):
        read_invoice(only_set("po_ack_855.x12"))
