"""The vendor order lifecycle (services/splitter/routing/lifecycle.py): line quantities, derived
status, acknowledgements and what they reroute, whole reroutes, shipments (after a cancellation too)
and cancellation plans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.splitter.routing.lifecycle import (
    AckOutcome,
    RerouteRequest,
    VendorLine,
    VendorOrderState,
    VendorOrderStatus,
    apply_acknowledgement,
    apply_shipment,
    cancellation_plan,
    derive_status,
    reroute_whole,
    withdraw,
)
from shared.contracts.vendor_orders import AckLineStatus, AcknowledgedLine


def vo(
    *lines: VendorLine, status: VendorOrderStatus = "open", cancel_sent: bool = False, vo_id: str = "vo_1"
) -> VendorOrderState:
    return VendorOrderState(vo_id, f"1001-{vo_id[-1]}", "acme", status, lines, cancel_sent)


def ack(
    line_id: str, status: AckLineStatus, quantity: int, reason: str | None = None, sku: str = "SKU"
) -> AcknowledgedLine:
    return AcknowledgedLine(line_id=line_id, sku=sku, status=status, quantity=quantity, reason=reason)


L1 = VendorLine("L1", "TSHIRT", 5)
L2 = VendorLine("L2", "MUG", 2)


# ------------------------------------------------------------------------------------------------ lines


@pytest.mark.parametrize(
    ("line", "open_quantity", "unshipped"),
    [
        pytest.param(VendorLine("L", "S", 5), 5, 5, id="fresh"),
        pytest.param(VendorLine("L", "S", 5, shipped=2), 3, 3, id="part-shipped"),
        pytest.param(VendorLine("L", "S", 5, withdrawn=1, shipped=1), 3, 3, id="withdrawn-and-shipped"),
        pytest.param(VendorLine("L", "S", 5, rejected=2), 3, 5, id="rejected-not-yet-rerouted"),
        pytest.param(VendorLine("L", "S", 5, rejected=2, withdrawn=2), 3, 3, id="rejected-and-rerouted-counted-once"),
        pytest.param(VendorLine("L", "S", 5, rejected=1, withdrawn=3), 2, 2, id="withdrawn-beyond-rejected"),
        pytest.param(VendorLine("L", "S", 5, shipped=7), 0, 0, id="over-shipped-never-negative"),
        pytest.param(VendorLine("L", "S", 5, shipped=4, withdrawn=3), 0, 0, id="shipped-withdrawn-units"),
    ],
)
def test_line_quantities(line: VendorLine, open_quantity: int, unshipped: int) -> None:
    assert (line.open_quantity, line.unshipped) == (open_quantity, unshipped)


@pytest.mark.parametrize(
    ("lines", "flags", "expected"),
    [
        pytest.param([L1, L2], {}, "open", id="open"),
        pytest.param([L1, L2], {"acknowledged": True}, "acknowledged", id="acknowledged"),
        pytest.param([L1], {"failed": True, "acknowledged": True}, "failed", id="failed"),
        pytest.param([L1], {"cancelled": True, "failed": True}, "cancelled", id="cancelled-first"),
        pytest.param([replace(L1, shipped=1), L2], {}, "partially_shipped", id="partly-shipped"),
        pytest.param([replace(L1, shipped=5), replace(L2, shipped=2)], {}, "shipped", id="all-shipped"),
        pytest.param(
            [replace(L1, shipped=3, withdrawn=2), replace(L2, withdrawn=2)], {}, "shipped", id="shipped-what-remained"
        ),
        pytest.param([replace(L1, shipped=5), L2], {"cancelled": True}, "partially_shipped", id="shipment-wins"),
        pytest.param(
            [replace(L1, withdrawn=5)], {"acknowledged": True}, "acknowledged", id="all-withdrawn-none-shipped"
        ),
    ],
)
def test_derive_status(lines: list[VendorLine], flags: dict[str, bool], expected: VendorOrderStatus) -> None:
    arguments = {"cancelled": False, "failed": False, "acknowledged": False, **flags}
    assert derive_status(lines, **arguments) == expected


# ------------------------------------------------------------------------------------------ acknowledgement


def figures(outcome: AckOutcome) -> list[tuple[str, int, int, int, int]]:
    return [(line.line_id, line.accepted, line.backordered, line.rejected, line.withdrawn) for line in outcome.lines]


@pytest.mark.parametrize(
    ("state", "lines", "accepts_backorders", "expected_lines", "expected_reroutes"),
    [
        pytest.param(
            vo(L1, L2), [], False, [("L1", 5, 0, 0, 0), ("L2", 2, 0, 0, 0)], [], id="nothing-said-all-accepted"
        ),
        pytest.param(
            vo(L1, L2),
            [ack("L1", "accepted", 5), ack("L2", "accepted", 2)],
            False,
            [("L1", 5, 0, 0, 0), ("L2", 2, 0, 0, 0)],
            [],
            id="accepted",
        ),
        pytest.param(
            vo(L1, L2),
            [ack("L1", "accepted", 3), ack("L1", "rejected", 2, "discontinued")],
            False,
            [("L1", 3, 0, 2, 2), ("L2", 2, 0, 0, 0)],
            [RerouteRequest("L1", "TSHIRT", 2, "rejected by acme: discontinued")],
            id="partly-rejected",
        ),
        pytest.param(
            vo(L1),
            [ack("L1", "rejected", 5)],
            False,
            [("L1", 0, 0, 5, 5)],
            [RerouteRequest("L1", "TSHIRT", 5, "rejected by acme, no reason given")],
            id="rejected-without-reason",
        ),
        pytest.param(
            vo(L1),
            [
                ack("L1", "rejected", 1, "damaged"),
                ack("L1", "rejected", 1, "discontinued"),
                ack("L1", "rejected", 1, "damaged"),
            ],
            False,
            [("L1", 2, 0, 3, 3)],
            [RerouteRequest("L1", "TSHIRT", 3, "rejected by acme: damaged; discontinued")],
            id="rejected-entries-add-up-reasons-once",
        ),
        pytest.param(
            vo(L1),
            [ack("L1", "accepted", 3), ack("L1", "backordered", 2)],
            False,
            [("L1", 3, 2, 0, 2)],
            [RerouteRequest("L1", "TSHIRT", 2, "backordered by acme, which does not take backorders")],
            id="backordered-vendor-takes-no-backorders",
        ),
        pytest.param(
            vo(L1),
            [ack("L1", "accepted", 3), ack("L1", "backordered", 2)],
            True,
            [("L1", 3, 2, 0, 0)],
            [],
            id="backordered-vendor-takes-backorders",
        ),
        pytest.param(
            vo(L1),
            [ack("L1", "rejected", 1, "discontinued"), ack("L1", "backordered", 3)],
            False,
            [("L1", 1, 3, 1, 4)],
            [
                RerouteRequest("L1", "TSHIRT", 1, "rejected by acme: discontinued"),
                RerouteRequest("L1", "TSHIRT", 3, "backordered by acme, which does not take backorders"),
            ],
            id="rejected-and-backordered",
        ),
        pytest.param(
            vo(L1, L2),
            [ack("L2", "rejected", 2, "no stock")],
            False,
            [("L1", 5, 0, 0, 0), ("L2", 0, 0, 2, 2)],
            [RerouteRequest("L2", "MUG", 2, "rejected by acme: no stock")],
            id="line-left-out-accepted",
        ),
        pytest.param(
            vo(L1),
            [ack("L1", "rejected", 9, "discontinued"), ack("L1", "backordered", 4)],
            False,
            [("L1", 0, 0, 5, 5)],
            [RerouteRequest("L1", "TSHIRT", 5, "rejected by acme: discontinued")],
            id="more-than-sent-is-capped",
        ),
        pytest.param(
            vo(replace(L1, shipped=3)),
            [ack("L1", "rejected", 5, "discontinued")],
            False,
            [("L1", 0, 0, 5, 2)],
            [RerouteRequest("L1", "TSHIRT", 2, "rejected by acme: discontinued")],
            id="shipped-units-never-rerouted",
        ),
        pytest.param(
            vo(replace(L1, withdrawn=2)),
            [ack("L1", "rejected", 3, "discontinued")],
            False,
            [("L1", 2, 0, 3, 3)],
            [RerouteRequest("L1", "TSHIRT", 1, "rejected by acme: discontinued")],
            id="withdrawn-units-count-first",
        ),
        pytest.param(
            vo(L1, status="cancelled", cancel_sent=True),
            [ack("L1", "rejected", 5, "discontinued")],
            False,
            [("L1", 0, 0, 5, 0)],
            [],
            id="cancelled-reroutes-nothing",
        ),
        pytest.param(
            vo(L1, status="failed"),
            [ack("L1", "backordered", 5)],
            False,
            [("L1", 0, 5, 0, 0)],
            [],
            id="failed-reroutes-nothing",
        ),
    ],
)
def test_apply_acknowledgement(
    state: VendorOrderState,
    lines: list[AcknowledgedLine],
    accepts_backorders: bool,
    expected_lines: list[tuple[str, int, int, int, int]],
    expected_reroutes: list[RerouteRequest],
) -> None:
    outcome = apply_acknowledgement(state, lines, accepts_backorders=accepts_backorders)
    assert figures(outcome) == expected_lines
    assert list(outcome.to_reroute) == expected_reroutes
    assert outcome.unknown_lines == ()


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param(vo(L1), "acknowledged", id="open-becomes-acknowledged"),
        pytest.param(vo(replace(L1, shipped=1), status="partially_shipped"), "partially_shipped", id="shipped-stays"),
        pytest.param(vo(L1, status="cancelled", cancel_sent=True), "cancelled", id="cancelled-stays"),
        pytest.param(vo(L1, status="failed"), "failed", id="failed-stays"),
    ],
)
def test_acknowledgement_status(state: VendorOrderState, expected: VendorOrderStatus) -> None:
    assert apply_acknowledgement(state, [], accepts_backorders=False).state.status == expected


def test_unknown_lines_are_ignored_and_reported_once() -> None:
    lines = [ack("L9", "rejected", 1), ack("L1", "accepted", 5), ack("L9", "rejected", 1), ack("L8", "accepted", 1)]
    outcome = apply_acknowledgement(vo(L1), lines, accepts_backorders=False)
    assert outcome.unknown_lines == ("L9", "L8")
    assert outcome.to_reroute == ()
    assert figures(outcome) == [("L1", 5, 0, 0, 0)]


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param([ack("L1", "rejected", 2, "discontinued")], id="rejected"),
        pytest.param([ack("L1", "backordered", 3), ack("L2", "rejected", 1)], id="backordered-and-rejected"),
        pytest.param([], id="empty"),
    ],
)
def test_the_same_acknowledgement_twice_changes_nothing_the_second_time(lines: list[AcknowledgedLine]) -> None:
    first = apply_acknowledgement(vo(L1, L2), lines, accepts_backorders=False)
    second = apply_acknowledgement(first.state, lines, accepts_backorders=False)
    assert second.state == first.state
    assert second.to_reroute == ()


def test_a_later_acknowledgement_reroutes_only_the_increase() -> None:
    first = apply_acknowledgement(vo(L1), [ack("L1", "rejected", 1, "damaged")], accepts_backorders=False)
    second = apply_acknowledgement(first.state, [ack("L1", "rejected", 3, "damaged")], accepts_backorders=False)
    assert second.to_reroute == (RerouteRequest("L1", "TSHIRT", 2, "rejected by acme: damaged"),)
    assert figures(second) == [("L1", 2, 0, 3, 3)]


def test_a_vendor_changing_its_mind_does_not_bring_rerouted_units_back() -> None:
    first = apply_acknowledgement(vo(L1), [ack("L1", "rejected", 2, "damaged")], accepts_backorders=False)
    second = apply_acknowledgement(first.state, [ack("L1", "accepted", 5)], accepts_backorders=False)
    assert second.to_reroute == ()
    (line,) = second.lines
    assert (line.rejected, line.withdrawn, line.open_quantity) == (0, 2, 3)


ack_lines = st.lists(
    st.builds(
        ack,
        st.sampled_from(["L1", "L2", "L3"]),
        st.sampled_from(["accepted", "backordered", "rejected"]),
        st.integers(min_value=0, max_value=8),
    ),
    max_size=6,
)
vendor_lines = st.builds(
    VendorLine,
    st.just("L1"),
    st.just("SKU"),
    st.integers(min_value=1, max_value=6),
    shipped=st.integers(min_value=0, max_value=3),
    withdrawn=st.integers(min_value=0, max_value=3),
)


@given(vendor_lines, ack_lines, st.booleans(), ack_lines)
def test_acknowledgements_never_reroute_shipped_units_and_are_idempotent(
    line: VendorLine, first_ack: list[AcknowledgedLine], accepts_backorders: bool, second_ack: list[AcknowledgedLine]
) -> None:
    state = vo(line, replace(line, line_id="L2"))
    first = apply_acknowledgement(state, first_ack, accepts_backorders=accepts_backorders)
    second = apply_acknowledgement(first.state, second_ack, accepts_backorders=accepts_backorders)
    again = apply_acknowledgement(second.state, second_ack, accepts_backorders=accepts_backorders)
    assert again.state == second.state and again.to_reroute == ()
    for before, after in zip(state.lines, again.lines, strict=True):
        rerouted = sum(r.quantity for r in (*first.to_reroute, *second.to_reroute) if r.line_id == before.line_id)
        assert after.withdrawn == before.withdrawn + rerouted
        assert rerouted <= max(before.quantity - before.shipped - before.withdrawn, 0)
        assert after.accepted + after.backordered + after.rejected == after.quantity


# ------------------------------------------------------------------------------------------ whole reroutes


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param(
            vo(L1, L2, status="failed"),
            [RerouteRequest("L1", "TSHIRT", 5, "not delivered"), RerouteRequest("L2", "MUG", 2, "not delivered")],
            id="failed",
        ),
        pytest.param(
            vo(replace(L1, shipped=2, withdrawn=1), replace(L2, withdrawn=2)),
            [RerouteRequest("L1", "TSHIRT", 2, "not delivered")],
            id="only-unshipped-not-withdrawn",
        ),
        pytest.param(vo(L1, status="cancelled", cancel_sent=True), [], id="cancelled"),
        pytest.param(vo(replace(L1, shipped=5)), [], id="all-shipped"),
    ],
)
def test_reroute_whole(state: VendorOrderState, expected: list[RerouteRequest]) -> None:
    assert list(reroute_whole(state, "not delivered")) == expected


def test_a_failure_reported_twice_reroutes_once_the_first_is_recorded() -> None:
    state = vo(L1, replace(L2, shipped=1), status="failed")
    requests = reroute_whole(state, "no acknowledgement within 24 hours")
    recorded = withdraw(state, {r.line_id: r.quantity for r in requests})
    assert [(line.line_id, line.withdrawn) for line in recorded.lines] == [("L1", 5), ("L2", 1)]
    assert reroute_whole(recorded, "no acknowledgement within 24 hours") == ()


@pytest.mark.parametrize(
    ("quantities", "expected"),
    [
        pytest.param({"L1": 2}, [2, 0], id="some"),
        pytest.param({"L1": 9, "L2": 9}, [5, 2], id="never-more-than-unshipped"),
        pytest.param({"L1": -3, "L7": 1}, [0, 0], id="negative-and-unknown-ignored"),
    ],
)
def test_withdraw(quantities: dict[str, int], expected: list[int]) -> None:
    assert [line.withdrawn for line in withdraw(vo(L1, L2), quantities).lines] == expected


# ---------------------------------------------------------------------------------------------- shipments


@pytest.mark.parametrize(
    ("state", "shipped", "status", "after_cancel", "over_shipped", "unknown"),
    [
        pytest.param(vo(L1, L2, status="acknowledged"), {"L1": 2}, "partially_shipped", False, (), (), id="partial"),
        pytest.param(vo(L1, L2), {"L1": 5, "L2": 2}, "shipped", False, (), (), id="whole-without-an-ack"),
        pytest.param(
            vo(replace(L1, shipped=3), L2, status="partially_shipped"),
            {"L1": 2, "L2": 2},
            "shipped",
            False,
            (),
            (),
            id="the-rest",
        ),
        pytest.param(
            vo(L1, L2, status="cancelled", cancel_sent=True),
            {"L1": 5},
            "partially_shipped",
            True,
            (),
            (),
            id="after-cancel-the-shipment-wins",
        ),
        pytest.param(
            vo(replace(L1, withdrawn=2), L2, status="acknowledged"),
            {"L1": 4},
            "partially_shipped",
            True,
            (),
            (),
            id="withdrawn-units-shipped",
        ),
        pytest.param(
            vo(replace(L1, withdrawn=2), L2, status="acknowledged"),
            {"L1": 3},
            "partially_shipped",
            False,
            (),
            (),
            id="what-remained-after-a-withdrawal",
        ),
        pytest.param(
            vo(L1, L2, status="acknowledged"), {"L1": 6, "L2": 2}, "shipped", False, ("L1",), (), id="over-shipped"
        ),
        pytest.param(
            vo(L1, L2, status="acknowledged"), {"L9": 1}, "acknowledged", False, (), ("L9",), id="unknown-line-ignored"
        ),
    ],
)
def test_apply_shipment(
    state: VendorOrderState,
    shipped: dict[str, int],
    status: VendorOrderStatus,
    after_cancel: bool,
    over_shipped: tuple[str, ...],
    unknown: tuple[str, ...],
) -> None:
    outcome = apply_shipment(state, shipped)
    assert outcome.state.status == status
    assert (outcome.after_cancel, outcome.over_shipped, outcome.unknown_lines) == (after_cancel, over_shipped, unknown)
    for before, after in zip(state.lines, outcome.state.lines, strict=True):
        assert after.shipped == before.shipped + shipped.get(before.line_id, 0)
        assert after.withdrawn == before.withdrawn


# ------------------------------------------------------------------------------------------- cancellation


def ids(states: Sequence[VendorOrderState]) -> list[str]:
    return [state.id for state in states]


def test_cancellation_plan_for_mixed_states() -> None:
    untouched = vo(L1, vo_id="vo_1")
    acknowledged = vo(L1, L2, status="acknowledged", vo_id="vo_2")
    partly = vo(replace(L1, shipped=2, withdrawn=1), L2, status="partially_shipped", vo_id="vo_3")
    done = vo(replace(L1, shipped=5), replace(L2, shipped=1, withdrawn=1), status="shipped", vo_id="vo_4")
    cancelled = vo(L1, status="cancelled", cancel_sent=True, vo_id="vo_5")
    cancel_sent_then_shipped = vo(replace(L1, shipped=1), status="partially_shipped", cancel_sent=True, vo_id="vo_6")
    failed = vo(replace(L1, withdrawn=5), status="failed", vo_id="vo_7")
    plan = cancellation_plan([untouched, acknowledged, partly, done, cancelled, cancel_sent_then_shipped, failed])
    assert ids(plan.cancel_whole) == ["vo_1", "vo_2"]
    assert [(state.id, lines) for state, lines in plan.withdraw_lines] == [("vo_3", (("L1", 2), ("L2", 2)))]
    assert ids(plan.already_shipped) == ["vo_4"]
    assert ids(plan.already_cancelled) == ["vo_5", "vo_6"]
    assert ids(plan.failed) == ["vo_7"]


@pytest.mark.parametrize(
    ("state", "bucket"),
    [
        pytest.param(
            vo(replace(L1, shipped=5), L2, status="partially_shipped"), "withdraw_lines", id="one-line-shipped"
        ),
        pytest.param(
            vo(replace(L1, shipped=3, withdrawn=2), status="partially_shipped"),
            "already_shipped",
            id="shipped-what-was-not-withdrawn",
        ),
        pytest.param(
            vo(replace(L1, withdrawn=5), status="acknowledged"), "cancel_whole", id="all-withdrawn-nothing-shipped"
        ),
        pytest.param(vo(L1, status="cancelled"), "already_cancelled", id="cancelled-status"),
        pytest.param(vo(replace(L1, shipped=1), status="failed"), "withdraw_lines", id="failed-but-shipped-anyway"),
    ],
)
def test_cancellation_bucket(state: VendorOrderState, bucket: str) -> None:
    plan = cancellation_plan([state])
    buckets: dict[str, Any] = {
        "cancel_whole": plan.cancel_whole,
        "withdraw_lines": [s for s, _ in plan.withdraw_lines],
        "already_shipped": plan.already_shipped,
        "already_cancelled": plan.already_cancelled,
        "failed": plan.failed,
    }
    assert {name for name, states in buckets.items() if state in states} == {bucket}


states = st.builds(
    vo,
    st.builds(
        VendorLine,
        st.just("L1"),
        st.just("A"),
        st.integers(1, 6),
        shipped=st.integers(0, 7),
        withdrawn=st.integers(0, 6),
    ),
    st.builds(VendorLine, st.just("L2"), st.just("B"), st.integers(1, 6), shipped=st.integers(0, 7)),
    status=st.sampled_from(["open", "acknowledged", "partially_shipped", "shipped", "cancelled", "failed"]),
    cancel_sent=st.booleans(),
    vo_id=st.sampled_from(["vo_1", "vo_2", "vo_3"]),
)


@given(st.lists(states, max_size=5))
def test_cancellation_never_withdraws_shipped_units_and_places_each_vendor_order_once(
    vendor_orders: list[VendorOrderState],
) -> None:
    plan = cancellation_plan(vendor_orders)
    placed = [
        *plan.cancel_whole,
        *(s for s, _ in plan.withdraw_lines),
        *plan.already_shipped,
        *plan.already_cancelled,
        *plan.failed,
    ]
    assert sorted(map(id, placed)) == sorted(map(id, vendor_orders))
    for state in plan.cancel_whole:
        assert not state.shipped_anything
    for state, lines in plan.withdraw_lines:
        by_id = {line.line_id: line for line in state.lines}
        for line_id, quantity in lines:
            line = by_id[line_id]
            assert 0 < quantity <= line.quantity - line.shipped - line.withdrawn
