"""Tracking's use cases on in-memory tables: what shipments, orders and cancellations do to an
order's lines and status, and what the channel is told (services/tracking/use_cases.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.tracking import use_cases
from services.tracking.use_cases import NotFound
from shared.contracts.orders import OrderCancelled, OrderCancelledData, OrderReceived, OrderStatusChanged
from shared.contracts.shipments import ShipmentLine, ShipmentReported, ShipmentReportedData
from shared.contracts.vendor_orders import AcknowledgedLine, VendorOrderAcknowledged, VendorOrderAcknowledgedData
from tests.unit.test_routing import make_line, make_order
from tests.unit.tracking.fake_store import CONNECTION, FakeDatabase, FakeTrackingStore


@pytest.fixture
def store() -> FakeTrackingStore:
    return FakeTrackingStore()


def order_received() -> OrderReceived:
    order = make_order([make_line("L1", "MUG", 2), make_line("L2", "SHIRT", 1)])
    return OrderReceived(correlation_id=order.order_id, data=order)


def shipment(shipment_id: str, *lines: tuple[str, int]) -> ShipmentReported:
    data = ShipmentReportedData(
        shipment_id=shipment_id,
        vendor="east",
        vendor_order_id="vo_1",
        vendor_order_number="1001-1",
        order_id="ord_1",
        carrier="UPS",
        tracking_number=f"1Z{shipment_id}",
        lines=[ShipmentLine(line_id=line_id, sku=f"SKU-{line_id}", quantity=quantity) for line_id, quantity in lines],
    )
    return ShipmentReported(correlation_id="ord_1", data=data)


def cancellation() -> OrderCancelled:
    return OrderCancelled(correlation_id="ord_1", data=OrderCancelledData(order_id="ord_1"))


def announced(store: FakeTrackingStore) -> list[tuple[str, str | None]]:
    """Each status change queued: (status, previous status)."""
    changes = [event for event in store.outbox if isinstance(event, OrderStatusChanged)]
    assert len(changes) == len(store.outbox)
    return [(event.data.status, event.data.previous_status) for event in changes]


# ---------------------------------------------------------------------------------------------- shipment.reported


async def test_a_partial_shipment_gives_partially_shipped_and_the_last_one_shipped(store: FakeTrackingStore) -> None:
    await use_cases.on_order_received(CONNECTION, order_received(), store=store)
    first = shipment("s1", ("L1", 1))

    await use_cases.on_shipment_reported(CONNECTION, first, store=store)
    await use_cases.on_shipment_reported(CONNECTION, shipment("s2", ("L1", 1), ("L2", 1)), store=store)

    assert store.shipped("ord_1") == [2, 1]
    assert announced(store) == [("partially_shipped", None), ("shipped", "partially_shipped")]
    told = store.outbox[0]
    assert isinstance(told, OrderStatusChanged) and told.data.shipment is not None
    assert told.data.shipment.tracking_number == "1Zs1"
    assert told.data.shipment.lines == [{"line_id": "L1", "sku": "SKU-L1", "quantity": 1}]
    assert told.causation_id == first.message_id


async def test_a_duplicate_shipment_changes_nothing(store: FakeTrackingStore) -> None:
    await use_cases.on_order_received(CONNECTION, order_received(), store=store)
    await use_cases.on_shipment_reported(CONNECTION, shipment("s1", ("L1", 1)), store=store)

    await use_cases.on_shipment_reported(CONNECTION, shipment("s1", ("L1", 1)), store=store)  # a new message id

    assert store.shipped("ord_1") == [1, 0]
    assert len(store.outbox) == 1


async def test_a_shipment_of_lines_the_order_does_not_have_leaves_it_routed(store: FakeTrackingStore) -> None:
    await use_cases.on_order_received(CONNECTION, order_received(), store=store)

    await use_cases.on_shipment_reported(CONNECTION, shipment("s1", ("L9", 4)), store=store)

    assert store.shipped("ord_1") == [0, 0]
    assert announced(store) == [("routed", None)]


async def test_a_shipment_before_its_order_waits_and_is_applied_when_the_order_arrives(
    store: FakeTrackingStore,
) -> None:
    await use_cases.on_shipment_reported(CONNECTION, shipment("s1", ("L1", 2), ("L2", 1)), store=store)
    assert store.outbox == []
    order = order_received()

    assert await use_cases.on_order_received(CONNECTION, order, store=store) is True  # may have announced

    assert store.shipped("ord_1") == [2, 1]
    assert announced(store) == [("shipped", None)]
    assert store.outbox[0].causation_id == order.message_id


async def test_an_order_with_no_shipment_waiting_answers_that_it_announced_nothing(store: FakeTrackingStore) -> None:
    """The inbox batcher leaves the relay asleep after a batch whose effects all answer False."""
    early = shipment("s1", ("L1", 1))
    await use_cases.on_shipment_reported(CONNECTION, early, store=store)  # for ord_1, before it arrives
    others = [order_received() for _ in range(2)]
    for index, other in enumerate(others, start=2):
        other.data.order_id = f"ord_{index}"

    assert await use_cases.on_order_received(CONNECTION, others[0], store=store) is False
    assert await use_cases.on_orders_received(CONNECTION, [others[1]], store=store) is False
    assert store.outbox == []
    assert await use_cases.on_orders_received(CONNECTION, [order_received()], store=store) is True
    assert announced(store) == [("partially_shipped", None)]
    assert await use_cases.on_order_received(CONNECTION, order_received(), store=store) is False  # a redelivery


async def test_an_order_received_again_changes_nothing(store: FakeTrackingStore) -> None:
    await use_cases.on_order_received(CONNECTION, order_received(), store=store)
    await use_cases.on_shipment_reported(CONNECTION, shipment("s1", ("L1", 1)), store=store)

    await use_cases.on_order_received(CONNECTION, order_received(), store=store)

    assert store.shipped("ord_1") == [1, 0] and len(store.outbox) == 1


# ---------------------------------------------------------------------------------------------- order.cancelled


async def test_a_cancellation_before_anything_shipped_cancels_the_order(store: FakeTrackingStore) -> None:
    await use_cases.on_order_received(CONNECTION, order_received(), store=store)

    await use_cases.on_order_cancelled(CONNECTION, cancellation(), store=store)

    assert store.orders["ord_1"].cancelled
    assert announced(store) == [("cancelled", None)]


async def test_a_cancellation_after_a_partial_shipment_partially_cancels_it(store: FakeTrackingStore) -> None:
    await use_cases.on_order_received(CONNECTION, order_received(), store=store)
    await use_cases.on_shipment_reported(CONNECTION, shipment("s1", ("L1", 1)), store=store)

    await use_cases.on_order_cancelled(CONNECTION, cancellation(), store=store)
    await use_cases.on_order_cancelled(CONNECTION, cancellation(), store=store)  # once is enough

    assert announced(store) == [("partially_shipped", None), ("partially_cancelled", "partially_shipped")]


async def test_a_cancellation_after_everything_shipped_is_recorded_but_not_announced(
    store: FakeTrackingStore,
) -> None:
    await use_cases.on_order_received(CONNECTION, order_received(), store=store)
    await use_cases.on_shipment_reported(CONNECTION, shipment("s1", ("L1", 2), ("L2", 1)), store=store)

    await use_cases.on_order_cancelled(CONNECTION, cancellation(), store=store)

    assert store.orders["ord_1"].cancelled and store.orders["ord_1"].status == "shipped"
    assert announced(store) == [("shipped", None)]


async def test_a_cancellation_of_an_order_tracking_has_not_seen_does_nothing(store: FakeTrackingStore) -> None:
    await use_cases.on_order_cancelled(CONNECTION, cancellation(), store=store)

    assert store.orders == {} and store.outbox == []


# ---------------------------------------------------------------------------------------------- routes


async def test_the_shipments_of_an_order_nobody_reported_are_not_found(store: FakeTrackingStore) -> None:
    with pytest.raises(NotFound):
        await use_cases.get_shipments(FakeDatabase(), "ord_1", store=store)


async def test_a_shipment_waiting_for_its_order_is_shown(store: FakeTrackingStore) -> None:
    await use_cases.on_shipment_reported(CONNECTION, shipment("s1", ("L1", 1)), store=store)

    view = await use_cases.get_shipments(FakeDatabase(), "ord_1", store=store)

    assert view["status"] is None and [s["shipment_id"] for s in view["shipments"]] == ["s1"]


# ---------------------------------------------------------------------------------------------- shipped after cancel


async def test_a_shipment_after_the_cancellation_wins_and_the_channel_is_told(store: FakeTrackingStore) -> None:
    await use_cases.on_order_received(CONNECTION, order_received(), store=store)
    await use_cases.on_order_cancelled(CONNECTION, cancellation(), store=store)

    await use_cases.on_shipment_reported(CONNECTION, shipment("s1", ("L1", 2)), store=store)
    await use_cases.on_shipment_reported(CONNECTION, shipment("s2", ("L2", 1)), store=store)

    assert announced(store) == [
        ("cancelled", None),
        ("partially_shipped", "cancelled"),
        ("shipped", "partially_shipped"),
    ]
    order = store.orders["ord_1"]
    assert (order.cancelled, order.shipped_after_cancel) == (True, True)


async def test_a_package_adding_nothing_leaves_a_cancelled_order_cancelled(store: FakeTrackingStore) -> None:
    await use_cases.on_order_received(CONNECTION, order_received(), store=store)
    await use_cases.on_order_cancelled(CONNECTION, cancellation(), store=store)

    await use_cases.on_shipment_reported(CONNECTION, shipment("s1", ("L9", 1)), store=store)

    assert announced(store)[-1] == ("cancelled", "cancelled")
    assert not store.orders["ord_1"].shipped_after_cancel


# ------------------------------------------------------------------------------------------ vendor_order.acknowledged


def acknowledgement(occurred_at: datetime, *lines: AcknowledgedLine) -> VendorOrderAcknowledged:
    return VendorOrderAcknowledged(
        correlation_id="ord_1",
        occurred_at=occurred_at,
        data=VendorOrderAcknowledgedData(
            vendor_order_id="vo_1", vendor_order_number="1001-1", vendor="east", order_id="ord_1", lines=list(lines)
        ),
    )


ACCEPTED = AcknowledgedLine(line_id="L1", sku="MUG", status="accepted", quantity=2)
BACKORDERED = AcknowledgedLine(
    line_id="L1", sku="MUG", status="backordered", quantity=2, expected_ship_date=date(2026, 12, 14)
)
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def test_an_acknowledgement_is_kept_per_line_and_moves_no_status(store: FakeTrackingStore) -> None:
    await use_cases.on_order_received(CONNECTION, order_received(), store=store)
    rejected = AcknowledgedLine(line_id="L2", sku="SHIRT", status="rejected", quantity=1, reason="discontinued")

    answer = await use_cases.on_vendor_order_acknowledged(
        CONNECTION, acknowledgement(T0, BACKORDERED, rejected), store=store
    )

    assert store.outbox == [] and answer is False  # nothing announced: the relay need not wake
    assert store.orders["ord_1"].status is None
    assert {key: [entry["status"] for entry in entries] for key, (_, entries) in store.acknowledgements.items()} == {
        ("vo_1", "L1"): ["backordered"],
        ("vo_1", "L2"): ["rejected"],
    }
    assert store.acknowledgements[("vo_1", "L1")][1][0]["expected_ship_date"] == "2026-12-14"


async def test_the_latest_acknowledgement_of_a_line_wins_whatever_order_they_arrive_in(
    store: FakeTrackingStore,
) -> None:
    later = acknowledgement(T0 + timedelta(hours=1), ACCEPTED)

    await use_cases.on_vendor_order_acknowledged(CONNECTION, later, store=store)
    await use_cases.on_vendor_order_acknowledged(CONNECTION, acknowledgement(T0, BACKORDERED), store=store)

    [(_, entries)] = store.acknowledgements.values()
    assert [(entry["status"], entry["quantity"]) for entry in entries] == [("accepted", 2)]
