"""Fulfilment, free of I/O: shipped quantities per line → the order's status, how a shipment is
applied to the lines, what a shipment or a cancellation makes of the order, and the shipment as the
channel is told of it (services/tracking/fulfilment.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.tracking.fulfilment import (
    LineProgress,
    acknowledged_lines,
    after_cancellation,
    after_shipment,
    apply_shipment,
    derive_status,
    shipment_summary,
)
from shared.contracts.orders import OrderStatus
from shared.contracts.shipments import ShipmentLine, ShipmentReportedData
from shared.contracts.vendor_orders import AcknowledgedLine, VendorOrderAcknowledgedData


def progress(*ordered_shipped: tuple[int, int]) -> list[LineProgress]:
    return [LineProgress(f"L{i}", ordered, shipped) for i, (ordered, shipped) in enumerate(ordered_shipped, start=1)]


# ---------------------------------------------------------------------------------------------- derive_status

STATUS_CASES: list[tuple[str, list[tuple[int, int]], bool, OrderStatus | None]] = [
    ("nothing shipped", [(2, 0), (1, 0)], False, None),
    ("one unit of one line", [(2, 1), (1, 0)], False, "partially_shipped"),
    ("one line complete, another not started", [(2, 2), (1, 0)], False, "partially_shipped"),
    ("every line partly", [(2, 1), (3, 1)], False, "partially_shipped"),
    ("all but one unit", [(2, 2), (3, 2)], False, "partially_shipped"),
    ("everything", [(2, 2), (1, 1)], False, "shipped"),
    ("single line, everything", [(5, 5)], False, "shipped"),
    ("over-shipped still counts as shipped", [(2, 3), (1, 1)], False, "shipped"),
    ("cancelled before anything shipped", [(2, 0), (1, 0)], True, "cancelled"),
    ("cancelled after part shipped", [(2, 1), (1, 0)], True, "partially_cancelled"),
    ("cancelled after one line shipped in full", [(2, 2), (1, 0)], True, "partially_cancelled"),
    ("cancelled after everything shipped", [(2, 2), (1, 1)], True, "shipped"),
    ("no lines", [], False, None),
    ("no lines, cancelled", [], True, "cancelled"),
]


@pytest.mark.parametrize(
    ("lines", "cancelled", "expected"), [case[1:] for case in STATUS_CASES], ids=[case[0] for case in STATUS_CASES]
)
def test_derive_status(lines: list[tuple[int, int]], cancelled: bool, expected: OrderStatus | None) -> None:
    assert derive_status(progress(*lines), cancelled=cancelled) == expected


@given(
    lines=st.lists(
        st.integers(min_value=1, max_value=20).flatmap(lambda o: st.tuples(st.just(o), st.integers(0, o))),
        min_size=1,
        max_size=8,
    ),
    cancelled=st.booleans(),
)
def test_derive_status_matches_its_definition(lines: list[tuple[int, int]], cancelled: bool) -> None:
    status = derive_status(progress(*lines), cancelled=cancelled)

    shipped_any = any(shipped > 0 for _, shipped in lines)
    shipped_all = all(shipped == ordered for ordered, shipped in lines)
    if shipped_all:
        assert status == "shipped"
    elif cancelled:
        assert status == ("partially_cancelled" if shipped_any else "cancelled")
    else:
        assert status == ("partially_shipped" if shipped_any else None)


def test_derive_status_never_says_shipped_while_a_unit_is_outstanding() -> None:
    for shipped in range(10):
        status = derive_status(progress((10, shipped), (1, 1)), cancelled=False)
        assert status != "shipped"


# ---------------------------------------------------------------------------------------------- apply_shipment

APPLY_CASES: list[tuple[str, list[tuple[int, int]], dict[str, int], list[int], dict[str, int]]] = [
    ("ships what was asked", [(3, 0), (2, 0)], {"L1": 2}, [2, 0], {"L1": 2}),
    ("several lines at once", [(3, 0), (2, 1)], {"L1": 3, "L2": 1}, [3, 2], {"L1": 3, "L2": 1}),
    ("capped at what was ordered", [(3, 1)], {"L1": 5}, [3], {"L1": 2}),
    ("a line already complete takes nothing", [(3, 3), (2, 0)], {"L1": 1, "L2": 1}, [3, 1], {"L2": 1}),
    ("an unknown line is ignored", [(3, 0)], {"L9": 4, "L1": 1}, [1], {"L1": 1}),
    ("a negative quantity is ignored", [(3, 2)], {"L1": -2}, [2], {}),
    ("zero is not reported", [(3, 0)], {"L1": 0}, [0], {}),
    ("an empty shipment changes nothing", [(3, 1), (1, 0)], {}, [1, 0], {}),
    ("a line over-shipped before stays as it was", [(2, 3)], {"L1": 1}, [3], {}),
]


@pytest.mark.parametrize(
    ("lines", "shipment", "shipped_after", "applied"),
    [case[1:] for case in APPLY_CASES],
    ids=[case[0] for case in APPLY_CASES],
)
def test_apply_shipment(
    lines: list[tuple[int, int]], shipment: dict[str, int], shipped_after: list[int], applied: dict[str, int]
) -> None:
    before = progress(*lines)

    updated, actually = apply_shipment(before, shipment)

    assert [line.shipped for line in updated] == shipped_after
    assert actually == applied
    assert [(line.line_id, line.ordered) for line in updated] == [(line.line_id, line.ordered) for line in before]
    assert before == progress(*lines)  # the input is not changed


line_ids = st.sampled_from(["L1", "L2", "L3", "L4", "ghost"])
shipments = st.lists(st.dictionaries(line_ids, st.integers(min_value=-5, max_value=15), max_size=5), max_size=12)


@given(ordered=st.lists(st.integers(min_value=1, max_value=10), min_size=1, max_size=4), sequence=shipments)
def test_shipped_never_exceeds_ordered_whatever_the_shipments(
    ordered: list[int], sequence: list[Mapping[str, int]]
) -> None:
    lines = progress(*[(o, 0) for o in ordered])
    total_applied: dict[str, int] = {}

    for shipment in sequence:
        before = {line.line_id: line.shipped for line in lines}
        lines, applied = apply_shipment(lines, shipment)
        for line in lines:
            assert 0 <= line.shipped <= line.ordered
            assert line.shipped - before[line.line_id] == applied.get(line.line_id, 0)
            asked = shipment.get(line.line_id, 0)
            assert applied.get(line.line_id, 0) == max(0, min(asked, line.ordered - before[line.line_id]))
        assert all(quantity > 0 for quantity in applied.values())
        assert set(applied) <= {line.line_id for line in lines}
        for line_id, quantity in applied.items():
            total_applied[line_id] = total_applied.get(line_id, 0) + quantity

    assert {line.line_id: line.shipped for line in lines if line.shipped} == total_applied
    status = derive_status(lines, cancelled=False)
    assert (status == "shipped") == all(line.shipped == line.ordered for line in lines)


# ---------------------------------------------------------------------------------------------- after_shipment


def package(*lines: tuple[str, int]) -> ShipmentReportedData:
    return ShipmentReportedData(
        shipment_id="shp_1",
        vendor="east",
        vendor_order_id="vo_1",
        vendor_order_number="1001-1",
        order_id="ord_1",
        carrier="UPS",
        service="Ground",
        tracking_number="1Z999",
        ship_date=date(2026, 11, 28),
        shipping_cost=Decimal("7.45"),
        lines=[ShipmentLine(line_id=line_id, sku=f"SKU-{line_id}", quantity=quantity) for line_id, quantity in lines],
    )


AFTER_SHIPMENT_CASES: list[tuple[str, list[tuple[int, int]], list[tuple[str, int]], bool, OrderStatus, bool]] = [
    ("part of the order", [(2, 0), (1, 0)], [("L1", 1)], False, "partially_shipped", False),
    ("the rest of it", [(2, 1), (1, 0)], [("L1", 1), ("L2", 1)], False, "shipped", False),
    ("nothing the order has: still routed", [(2, 0)], [("L9", 2)], False, "routed", False),
    # A shipment wins over the cancellation: the status follows what shipped, and ops see it.
    ("part of a cancelled order", [(2, 0), (1, 0)], [("L1", 2)], True, "partially_shipped", True),
    ("all of a cancelled order", [(2, 0)], [("L1", 2)], True, "shipped", True),
    ("more of a partially cancelled order", [(2, 1), (1, 0)], [("L1", 1)], True, "partially_shipped", True),
    ("nothing a cancelled order has: stays cancelled", [(2, 0)], [("L9", 2)], True, "cancelled", False),
    ("nothing new for a partially cancelled one", [(2, 2), (1, 0)], [("L1", 1)], True, "partially_cancelled", False),
]


@pytest.mark.parametrize(
    ("lines", "shipped", "cancelled", "status", "after_cancel"),
    [case[1:] for case in AFTER_SHIPMENT_CASES],
    ids=[case[0] for case in AFTER_SHIPMENT_CASES],
)
def test_after_shipment(
    lines: list[tuple[int, int]],
    shipped: list[tuple[str, int]],
    cancelled: bool,
    status: OrderStatus,
    after_cancel: bool,
) -> None:
    outcome = after_shipment(progress(*lines), package(*shipped), cancelled=cancelled)

    assert (outcome.status, outcome.shipped_after_cancel) == (status, after_cancel)
    assert (outcome.lines, outcome.applied) == apply_shipment(progress(*lines), dict(shipped))


def test_once_shipped_after_its_cancellation_the_shipments_keep_deciding() -> None:
    # An earlier package came after the cancellation; this one adds nothing new.
    outcome = after_shipment(progress((2, 1), (1, 0)), package(("L9", 1)), cancelled=True, shipped_after_cancel=True)

    assert (outcome.status, outcome.shipped_after_cancel) == ("partially_shipped", True)


# ---------------------------------------------------------------------------------------------- acknowledged_lines


def test_acknowledged_lines_group_a_lines_entries_in_the_vendors_order() -> None:
    answer = VendorOrderAcknowledgedData(
        vendor_order_id="vo_1",
        vendor_order_number="1001-1",
        vendor="east",
        order_id="ord_1",
        lines=[
            AcknowledgedLine(line_id="L1", sku="MUG", status="accepted", quantity=1),
            AcknowledgedLine(line_id="L2", sku="CAP", status="rejected", quantity=1, reason="discontinued"),
            AcknowledgedLine(
                line_id="L1", sku="MUG", status="backordered", quantity=2, expected_ship_date=date(2026, 12, 14)
            ),
        ],
    )

    entries = acknowledged_lines(answer)

    assert entries == {
        "L1": [
            {"sku": "MUG", "status": "accepted", "quantity": 1, "expected_ship_date": None, "reason": None},
            {"sku": "MUG", "status": "backordered", "quantity": 2, "expected_ship_date": "2026-12-14", "reason": None},
        ],
        "L2": [
            {"sku": "CAP", "status": "rejected", "quantity": 1, "expected_ship_date": None, "reason": "discontinued"}
        ],
    }


# ---------------------------------------------------------------------------------------------- after_cancellation

CANCELLATION_CASES: list[tuple[str, list[tuple[int, int]], OrderStatus | None, OrderStatus, bool]] = [
    ("nothing shipped", [(2, 0)], None, "cancelled", True),
    ("part shipped", [(2, 1)], "partially_shipped", "partially_cancelled", True),
    ("everything shipped: no news", [(2, 2)], "shipped", "shipped", False),
]


@pytest.mark.parametrize(
    ("lines", "previous", "status", "announce"),
    [case[1:] for case in CANCELLATION_CASES],
    ids=[case[0] for case in CANCELLATION_CASES],
)
def test_after_cancellation(
    lines: list[tuple[int, int]], previous: OrderStatus | None, status: OrderStatus, announce: bool
) -> None:
    outcome = after_cancellation(progress(*lines), previous)

    assert (outcome.status, outcome.announce) == (status, announce)


# ---------------------------------------------------------------------------------------------- shipment_summary


def test_the_channel_is_told_what_the_shipment_added_to_each_line() -> None:
    shipment = package(("L1", 3), ("L2", 1))

    summary = shipment_summary(shipment, {"L1": 2})  # L1 had one shipped already; L2 was complete

    assert summary.lines == [{"line_id": "L1", "sku": "SKU-L1", "quantity": 2}]
    assert (summary.shipment_id, summary.carrier, summary.service, summary.tracking_number) == (
        "shp_1",
        "UPS",
        "Ground",
        "1Z999",
    )
    assert (summary.ship_date, summary.shipping_cost) == ("2026-11-28", Decimal("7.45"))
