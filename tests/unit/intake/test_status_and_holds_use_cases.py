"""Intake's use cases for the channel's status route and the splitter's holds (services/intake/use_cases.py)
against in-memory ports: what each stores, announces, tells the channel and answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.intake import use_cases
from services.intake.domain import ADMIN, Caller, CancelledOrder, ForeignChannel, OrderNotFound
from shared.contracts.orders import (
    HoldReason,
    OrderHeld,
    OrderHeldData,
    OrderReceived,
    OrderReleased,
    OrderReleasedData,
    OrderStatusChanged,
    OrderStatusChangedData,
    OrderUpdated,
)
from shared.messaging.consumer import RetryLater
from tests.unit.intake.fakes import FakeDatabase, FakeProgress, Wakes
from tests.unit.intake.test_use_cases import SHOP, database_with_shop, placed_order

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
UNPAID = HoldReason(code="unpaid", detail="the channel says unpaid")


def order_held(order_id: str, at: datetime = T0, *reasons: HoldReason) -> OrderHeld:
    return OrderHeld(
        correlation_id=order_id,
        occurred_at=at,
        data=OrderHeldData(order_id=order_id, reasons=list(reasons) or [UNPAID]),
    )


def order_released(order_id: str, at: datetime) -> OrderReleased:
    return OrderReleased(correlation_id=order_id, occurred_at=at, data=OrderReleasedData(order_id=order_id, by="auto"))


def webhooks(db: FakeDatabase, order_id: str) -> list[dict[str, Any]]:
    return [d["body"] for d in db.tables.deliveries.values() if d["order_id"] == order_id]


# ---------------------------------------------------------------------------------------------- status route


async def test_a_new_channel_status_is_kept_and_announced_in_one_transaction() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    wakes = Wakes()

    answer = await use_cases.change_channel_status(
        db, FakeProgress(), order_id, Caller(SHOP), "on_hold", outbox_written=wakes
    )

    assert answer.changed
    assert answer.body["channel_status"] == "on_hold" and answer.body["status"] == "received"
    assert db.transactions == 1 and db.tables.locked == [order_id]
    event = db.tables.outbox[-1]
    assert isinstance(event, OrderUpdated)
    assert (event.correlation_id, event.data.order_id, event.data.status) == (order_id, order_id, "on_hold")
    assert wakes.count == 1
    assert [entry["cause"] for entry in answer.body["status_history"]] == ["intake", "channel status on_hold"]
    # The order as the channel first sent it is unchanged.
    assert db.tables.orders[order_id].payload["status"] == "paid"


async def test_the_same_channel_status_again_announces_nothing() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    await use_cases.change_channel_status(db, FakeProgress(), order_id, ADMIN, "unpaid", outbox_written=Wakes())
    wakes = Wakes()

    again = await use_cases.change_channel_status(db, FakeProgress(), order_id, ADMIN, "unpaid", outbox_written=wakes)

    assert not again.changed and again.body["channel_status"] == "unpaid"
    assert [type(e) for e in db.tables.outbox] == [OrderReceived, OrderUpdated]
    assert wakes.count == 0


async def test_the_status_the_order_was_sent_with_is_no_change() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)  # sent as paid

    answer = await use_cases.change_channel_status(db, FakeProgress(), order_id, ADMIN, "paid", outbox_written=Wakes())

    assert not answer.changed
    assert [type(e) for e in db.tables.outbox] == [OrderReceived]


async def test_a_cancelled_orders_status_is_refused_and_nothing_announced() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    await use_cases.cancel_order(db, FakeProgress(), order_id, ADMIN, None, outbox_written=Wakes())
    published = len(db.tables.outbox)

    with pytest.raises(CancelledOrder):
        await use_cases.change_channel_status(db, FakeProgress(), order_id, ADMIN, "paid", outbox_written=Wakes())

    assert len(db.tables.outbox) == published
    assert db.tables.orders[order_id].channel_status == "paid"


async def test_the_status_of_an_unknown_or_another_channels_order_is_refused() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)

    with pytest.raises(OrderNotFound):
        await use_cases.change_channel_status(db, FakeProgress(), "ord_none", ADMIN, "paid", outbox_written=Wakes())
    with pytest.raises(ForeignChannel):
        await use_cases.change_channel_status(
            db, FakeProgress(), order_id, Caller("other"), "unpaid", outbox_written=Wakes()
        )

    assert db.transactions == 0


# ---------------------------------------------------------------------------------------------- order.held


async def test_a_hold_makes_the_order_held_with_its_holds_and_tells_the_channel() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    event = order_held(order_id, T0, UNPAID, HoldReason(code="no_stock", detail="MUG: 0", line_id="L1"))

    await use_cases.record_order_held(db.tables, event)

    # The splitter's routing view says routed already: intake's own hold is what the view shows.
    view = await use_cases.get_order_view(db, FakeProgress(routing_answer={"state": "routed"}), order_id, ADMIN)
    assert view["status"] == "held"
    assert view["holds"] == [
        {"code": "unpaid", "detail": "the channel says unpaid", "line_id": None, "since": T0.isoformat()},
        {"code": "no_stock", "detail": "MUG: 0", "line_id": "L1", "since": T0.isoformat()},
    ]
    assert view["hold_reason"] == "the channel says unpaid; MUG: 0"
    assert [entry["status"] for entry in view["status_history"]] == ["received", "held"]
    [body] = webhooks(db, order_id)
    assert body["type"] == "order.status_changed"
    assert (body["status"], body["previous_status"]) == ("held", "received")
    assert body["holds"] == view["holds"]
    assert (body["channel"], body["external_id"], body["order_number"]) == (SHOP, "5521", "1001")
    assert body["occurred_at"] == T0.isoformat()
    assert list(db.tables.deliveries) == [f"whd_{event.message_id.removeprefix('msg_')}"]


async def test_a_redelivered_hold_queues_no_second_webhook() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    event = order_held(order_id)

    await use_cases.record_order_held(db.tables, event)
    await use_cases.record_order_held(db.tables, event)

    assert len(webhooks(db, order_id)) == 1


async def test_a_hold_for_an_order_intake_does_not_know_yet_is_retried() -> None:
    db = database_with_shop()

    with pytest.raises(RetryLater):
        await use_cases.record_order_held(db.tables, order_held("ord_unknown"))


async def test_a_hold_after_the_order_shipped_is_kept_without_moving_the_status_or_a_webhook() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    db.tables._set_status(order_id, "shipped", "tracking")

    await use_cases.record_order_held(db.tables, order_held(order_id))

    order = db.tables.orders[order_id]
    assert order.status == "shipped"
    assert [hold.code for hold in order.hold_state.holds] == ["unpaid"]
    assert webhooks(db, order_id) == []


async def test_trackings_status_after_a_hold_wins() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    await use_cases.record_order_held(db.tables, order_held(order_id))
    shipped = OrderStatusChanged(
        correlation_id=order_id,
        data=OrderStatusChangedData(
            order_id=order_id, channel=SHOP, external_id="5521", order_number="1001", status="shipped"
        ),
    )

    await use_cases.record_status_changed(db.tables, shipped)

    assert db.tables.orders[order_id].status == "shipped"
    assert [body["status"] for body in webhooks(db, order_id)] == ["held", "shipped"]
    assert "holds" not in webhooks(db, order_id)[1]


# ---------------------------------------------------------------------------------------------- order.released


async def test_a_release_clears_the_holds_routes_the_order_and_tells_the_channel() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    await use_cases.record_order_held(db.tables, order_held(order_id, T0))

    await use_cases.record_order_released(db.tables, order_released(order_id, T0 + timedelta(minutes=1)))

    view = await use_cases.get_order_view(db, FakeProgress(), order_id, ADMIN)
    assert (view["status"], view["holds"], view["hold_reason"]) == ("routed", [], None)
    released = webhooks(db, order_id)[-1]
    assert (released["status"], released["previous_status"], released["holds"]) == ("routed", "held", [])


async def test_a_release_older_than_the_hold_applied_leaves_the_hold() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    await use_cases.record_order_held(db.tables, order_held(order_id, T0))

    await use_cases.record_order_released(db.tables, order_released(order_id, T0 - timedelta(seconds=1)))

    order = db.tables.orders[order_id]
    assert order.status == "held" and [hold.code for hold in order.hold_state.holds] == ["unpaid"]
    assert len(webhooks(db, order_id)) == 1
