"""The rules a vendor's answer is held to, without I/O: lines by SKU or id, quantities within what was
ordered and not yet shipped, packages from tracking rows, and ids that make a repeat the same answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from services.gateway.vendor_answers import (
    AckLine,
    AnswerRefused,
    acknowledged_lines,
    line_by_sku,
    ordered_lines,
    packages_of,
    shipment_id,
    shipped_lines,
    stable_id,
)

ORDER = {
    "lines": [
        {"line_id": "L1", "sku": "TS-RED-M", "vendor_sku": "ACME-1", "quantity": 3},
        {"line_id": "L2", "sku": "MUG", "vendor_sku": None, "quantity": 1},
    ]
}
LINES = ordered_lines(ORDER)


def test_lines_are_found_by_the_vendors_sku_first_then_ours() -> None:
    assert line_by_sku(LINES, "ACME-1", "row 2").line_id == "L1"
    assert line_by_sku(LINES, " MUG ", "row 3").line_id == "L2"  # no vendor SKU: ours is the vendor's
    assert line_by_sku(LINES, "TS-RED-M", "row 4").line_id == "L1"
    with pytest.raises(AnswerRefused) as refused:
        line_by_sku(LINES, "NOPE", "row 5")
    assert refused.value.field == "row 5"
    assert "NOPE" in refused.value.message


def test_withdrawn_units_leave_the_order() -> None:
    assert [line.quantity for line in ordered_lines(ORDER, {"L1": 2})] == [1, 1]


def test_lines_left_out_of_an_acknowledgement_are_accepted() -> None:
    lines = acknowledged_lines(LINES, [("lines.0", AckLine("L2", "backordered", None, "out", date(2026, 12, 9)))])
    assert lines == [
        {"line_id": "L1", "sku": "TS-RED-M", "status": "accepted", "quantity": 3},
        {
            "line_id": "L2",
            "sku": "MUG",
            "status": "backordered",
            "quantity": 1,
            "reason": "out",
            "expected_ship_date": "2026-12-09",
        },
    ]


@pytest.mark.parametrize(
    ("answer", "field", "words"),
    [
        (AckLine("L9", "accepted"), "lines.0.line_id", "not in this vendor order"),
        (AckLine("L1", "rejected", 4), "lines.0.quantity", "more than the 3 ordered"),
    ],
)
def test_an_acknowledgement_naming_what_was_not_ordered_is_refused(answer: AckLine, field: str, words: str) -> None:
    with pytest.raises(AnswerRefused) as refused:
        acknowledged_lines(LINES, [("lines.0", answer)])
    assert refused.value.field == field
    assert words in refused.value.message


def test_a_line_answered_twice_is_refused() -> None:
    with pytest.raises(AnswerRefused, match="twice"):
        acknowledged_lines(LINES, [("lines.0", AckLine("L1", "accepted")), ("lines.1", AckLine("L1", "rejected"))])


def test_no_lines_ship_everything_that_remains() -> None:
    assert shipped_lines(LINES, {"L1": 1}, None) == [
        {"line_id": "L1", "sku": "TS-RED-M", "quantity": 2},
        {"line_id": "L2", "sku": "MUG", "quantity": 1},
    ]
    with pytest.raises(AnswerRefused, match="shipped already"):
        shipped_lines(LINES, {"L1": 3, "L2": 1}, None)


def test_a_package_cannot_ship_more_than_remains_even_across_its_own_lines() -> None:
    assert shipped_lines(LINES, {}, [("lines.0", "L1", 2)]) == [{"line_id": "L1", "sku": "TS-RED-M", "quantity": 2}]
    with pytest.raises(AnswerRefused) as refused:
        shipped_lines(LINES, {"L1": 1}, [("lines.0", "L1", 1), ("lines.1", "L1", 2)])
    assert refused.value.field == "lines.1.quantity"
    assert "1 not yet shipped" in refused.value.message


def test_a_package_is_its_tracking_number_whatever_the_case_or_spaces() -> None:
    first = shipment_id("acme", "vo_1", "1Z999AA1")
    assert first == shipment_id("acme", "vo_1", " 1z999aa1 ")
    assert first != shipment_id("acme", "vo_2", "1Z999AA1")
    assert first != shipment_id("beta", "vo_1", "1Z999AA1")
    # Without a tracking number the content decides: the same report twice is one package.
    assert shipment_id("acme", "vo_1", None, ["UPS", 1]) == shipment_id("acme", "vo_1", None, ["UPS", 1])
    assert shipment_id("acme", "vo_1", None, ["UPS", 1]) != shipment_id("acme", "vo_1", None, ["UPS", 2])


def test_stable_ids_keep_their_parts_apart() -> None:
    assert stable_id("msg", "ab", "c") != stable_id("msg", "a", "bc")
    assert stable_id("msg", "x").startswith("msg_")
    assert len(stable_id("msg", "x")) == len("msg_") + 24


@dataclass(frozen=True)
class Row:
    row: int
    po: str
    sku: str | None
    quantity: int | None
    carrier: str | None
    service: str | None
    tracking_numbers: tuple[str, ...]
    ship_date: date | None
    shipping_cost: Decimal | None


def test_rows_of_one_tracking_number_are_one_package_and_further_numbers_carry_only_tracking() -> None:
    rows = [
        Row(2, "1001-1", "ACME-1", 2, "UPS", None, ("1Z1", "1Z2"), date(2026, 12, 2), Decimal("7.40")),
        Row(3, "1001-1", "MUG", 1, "UPS", None, ("1Z1",), date(2026, 12, 2), None),
        Row(4, "1002-1", "ACME-1", 1, "FedEx", None, ("7777",), None, None),
    ]
    packages = packages_of(rows)
    assert [(p.vendor_order_number, p.tracking_number) for p in packages] == [
        ("1001-1", "1Z1"),
        ("1001-1", "1Z2"),
        ("1002-1", "7777"),
    ]
    first, second, third = packages
    assert first.skus == [(2, "ACME-1", 2), (3, "MUG", 1)]
    assert first.shipping_cost == Decimal("7.40")
    assert second.skus == []  # a second box of the same lines: tracking only
    assert second.rows == [2]
    assert third.carrier == "FedEx"
