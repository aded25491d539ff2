"""The rules of intake's own copy of the splitter's holds (services/intake/holds.py), the channel status
rule and the status an order's view shows (services/intake/domain.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.intake.domain import CancelledOrder, channel_status_changes, shown_status
from services.intake.holds import NO_HOLDS, Hold, HoldState, after_held, after_released, hold_reason
from shared.contracts.orders import HoldReason

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)
EARLIER = T0 - timedelta(minutes=5)

UNPAID = HoldReason(code="unpaid", detail="the channel says unpaid")
NO_STOCK_L2 = HoldReason(code="no_stock", detail="MUG: east has 0 of 2", line_id="L2")


def held_at(when: datetime, *reasons: HoldReason) -> HoldState:
    outcome = after_held("received", NO_HOLDS, reasons, when)
    assert outcome is not None
    return outcome.state


# ---------------------------------------------------------------------------------------------- order.held


def test_a_received_order_is_held_since_the_event_and_the_channel_is_told() -> None:
    outcome = after_held("received", NO_HOLDS, [UNPAID, NO_STOCK_L2], T0)

    assert outcome is not None
    assert outcome.status == "held" and outcome.tell_channel
    assert outcome.state == HoldState(
        (
            Hold("unpaid", "the channel says unpaid", None, T0),
            Hold("no_stock", "MUG: east has 0 of 2", "L2", T0),
        ),
        T0,
    )


@pytest.mark.parametrize("status", ["held", "routed"])
def test_an_order_held_or_routed_after_a_release_is_held(status: str) -> None:
    outcome = after_held(status, NO_HOLDS, [UNPAID], T0)

    assert outcome is not None and outcome.status == "held"


def test_a_reason_held_again_keeps_its_since_and_the_channel_hears_nothing_new() -> None:
    state = held_at(T0, UNPAID)

    outcome = after_held("held", state, [UNPAID], LATER)

    assert outcome is not None
    assert outcome.state.holds == (Hold("unpaid", "the channel says unpaid", None, T0),)
    assert outcome.state.as_of == LATER
    assert not outcome.tell_channel


def test_new_reasons_replace_the_old_ones_and_the_channel_hears_of_them() -> None:
    state = held_at(T0, UNPAID, NO_STOCK_L2)
    still_no_stock = HoldReason(code="no_stock", detail="MUG: east has 1 of 2", line_id="L2")
    po_box = HoldReason(code="po_box", detail="ship_to is a PO box")

    outcome = after_held("held", state, [still_no_stock, po_box], LATER)

    assert outcome is not None and outcome.tell_channel and outcome.status == "held"
    assert outcome.state.holds == (
        Hold("no_stock", "MUG: east has 1 of 2", "L2", T0),  # the same code and line: held since T0
        Hold("po_box", "ship_to is a PO box", None, LATER),
    )


def test_the_same_code_on_another_line_is_another_hold() -> None:
    state = held_at(T0, NO_STOCK_L2)
    other_line = HoldReason(code="no_stock", detail="CUP: none", line_id="L3")

    outcome = after_held("held", state, [other_line], LATER)

    assert outcome is not None and outcome.state.holds == (Hold("no_stock", "CUP: none", "L3", LATER),)


@pytest.mark.parametrize("status", ["partially_shipped", "shipped", "cancelled", "partially_cancelled"])
def test_a_hold_after_shipping_or_cancelling_is_kept_but_the_status_stays(status: str) -> None:
    outcome = after_held(status, NO_HOLDS, [UNPAID], T0)

    assert outcome is not None
    assert outcome.status == status and not outcome.tell_channel
    assert [hold.code for hold in outcome.state.holds] == ["unpaid"]


def test_a_hold_older_than_the_holds_applied_changes_nothing() -> None:
    newer = held_at(LATER, NO_STOCK_L2)

    assert after_held("held", newer, [UNPAID], T0) is None


def test_a_hold_older_than_a_release_applied_changes_nothing() -> None:
    released = after_released("held", held_at(T0, UNPAID), LATER)
    assert released is not None

    assert after_held("routed", released.state, [UNPAID], T0 + timedelta(minutes=1)) is None


def test_a_hold_at_the_same_time_as_the_last_applies() -> None:
    outcome = after_held("held", held_at(T0, UNPAID), [NO_STOCK_L2], T0)

    assert outcome is not None and [hold.code for hold in outcome.state.holds] == ["no_stock"]


# ---------------------------------------------------------------------------------------------- order.released


def test_a_release_clears_the_holds_and_a_held_order_is_routed() -> None:
    outcome = after_released("held", held_at(T0, UNPAID), LATER)

    assert outcome is not None
    assert outcome.state == HoldState((), LATER)
    assert outcome.status == "routed" and outcome.tell_channel


def test_a_release_older_than_the_hold_applied_does_not_clear_it() -> None:
    assert after_released("held", held_at(LATER, UNPAID), T0) is None


@pytest.mark.parametrize("status", ["partially_shipped", "shipped", "cancelled"])
def test_a_release_after_shipping_or_cancelling_clears_the_holds_but_keeps_the_status(status: str) -> None:
    outcome = after_released(status, held_at(T0, UNPAID), LATER)

    assert outcome is not None
    assert outcome.state.holds == () and outcome.status == status and not outcome.tell_channel


def test_a_release_of_an_order_routed_already_changes_no_status() -> None:
    outcome = after_released("routed", NO_HOLDS, T0)

    assert outcome is not None and outcome.status == "routed" and not outcome.tell_channel


# ---------------------------------------------------------------------------------------------- stored form


def test_a_hold_is_stored_as_json_and_read_back_the_same() -> None:
    hold = Hold("no_stock", "MUG: east has 0 of 2", "L2", T0)

    assert hold.as_json() == {
        "code": "no_stock",
        "detail": "MUG: east has 0 of 2",
        "line_id": "L2",
        "since": "2026-11-27T06:00:00+00:00",
    }
    assert Hold.from_json(hold.as_json()) == hold


def test_the_hold_reason_joins_the_details_and_is_none_without_holds() -> None:
    holds = held_at(T0, UNPAID, NO_STOCK_L2).holds

    assert hold_reason(holds) == "the channel says unpaid; MUG: east has 0 of 2"
    assert hold_reason(()) is None


# ---------------------------------------------------------------------------------------------- shown status


def test_intakes_own_hold_wins_over_a_splitter_that_routes_already() -> None:
    holds = held_at(T0, UNPAID).holds

    shown = shown_status("held", {"state": "routed", "hold_reason": None}, holds)

    assert (shown.status, shown.hold_reason) == ("held", "the channel says unpaid")


def test_own_holds_give_the_reason_even_when_the_splitter_is_away() -> None:
    shown = shown_status("held", {"unavailable": "HTTP 503"}, held_at(T0, NO_STOCK_L2).holds)

    assert (shown.status, shown.hold_reason) == ("held", "MUG: east has 0 of 2")


def test_a_released_order_is_routed_whatever_the_splitter_answers() -> None:
    shown = shown_status("routed", None)

    assert (shown.status, shown.hold_reason) == ("routed", None)


def test_a_shipped_order_shows_shipped_with_a_late_hold_alongside() -> None:
    shown = shown_status("shipped", {"state": "routed"}, held_at(T0, UNPAID).holds)

    assert (shown.status, shown.hold_reason) == ("shipped", "the channel says unpaid")


# ---------------------------------------------------------------------------------------------- channel status


def test_a_new_channel_status_is_news_and_the_same_again_is_not() -> None:
    assert channel_status_changes("received", "paid", "on_hold")
    assert not channel_status_changes("held", "unpaid", "unpaid")
    assert channel_status_changes("shipped", "unpaid", "paid")  # paid after shipping: still the channel's word


@pytest.mark.parametrize("status", ["cancelled", "partially_cancelled"])
def test_a_cancelled_orders_channel_status_is_not_changed(status: str) -> None:
    with pytest.raises(CancelledOrder):
        channel_status_changes(status, "paid", "paid")
