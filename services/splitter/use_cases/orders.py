"""Orders arriving, changing status and being cancelled (the ``splitter.orders`` queue)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from services.splitter.routing.holds import duplicate_fingerprint, order_holds
from services.splitter.routing.lifecycle import cancellation_plan, withdraw
from services.splitter.store import order_runs
from services.splitter.store import orders as order_store
from services.splitter.store import vendor_orders as vendor_order_store
from services.splitter.store.orders import HistoryEntry, NewOrder, RoutedOrder
from services.splitter.use_cases import rounds
from services.splitter.use_cases.holds import route_again
from services.splitter.use_cases.reads import NewOrderReads, ReadForOne, ReadForRun
from shared.contracts.envelope import Envelope, utc_now
from shared.contracts.orders import OrderCancelled, OrderReceived, OrderReceivedData, OrderUpdated
from shared.contracts.vendor_orders import (
    VendorOrderCancelled,
    VendorOrderCancelledData,
    VendorOrderLinesCancelled,
    VendorOrderLinesCancelledData,
    WithdrawnLine,
)
from shared.db import Connection
from shared.logging import get_logger

log = get_logger(__name__)


async def on_order_received(connection: Connection, event: OrderReceived) -> None:
    order = event.data
    if await order_store.load(connection, order.order_id, lock=True) is not None:
        return  # seen before (routed, held, or cancelled before it arrived)
    early = await order_store.take_early_status(connection, order.order_id)
    if early is not None and early != order.status:
        order = order.model_copy(update={"status": early})
    await order_store.save_new(connection, await route_new(order, event.message_id, await ReadForOne.start(connection)))


async def on_orders_received(connection: Connection, events: Sequence[OrderReceived]) -> None:
    """:func:`on_order_received` for a run of orders in one transaction: what each order reads is read
    once for the run (:class:`ReadForRun`), then the orders are routed in turn."""
    if len(events) == 1:
        await on_order_received(connection, events[0])
        return
    order_ids = [event.data.order_id for event in events]
    seen = await order_store.lock_known(connection, order_ids)
    early = await order_store.take_early_statuses(connection, [i for i in order_ids if i not in seen])
    fresh: list[tuple[OrderReceivedData, str]] = []
    for event in events:
        order = event.data
        if order.order_id in seen:
            continue  # seen before, or earlier in this run under another message id
        seen.add(order.order_id)
        status = early.get(order.order_id)
        if status is not None and status != order.status:
            order = order.model_copy(update={"status": status})
        fresh.append((order, event.message_id))
    if not fresh:
        return
    reads = await ReadForRun.start(connection, [order for order, _ in fresh], utc_now())
    # Routed in turn (each order sees what the earlier ones took, through ``reads``), stored together.
    await order_runs.save_new_many(
        connection, [await route_new(order, message_id, reads) for order, message_id in fresh]
    )


async def route_new(order: OrderReceivedData, causation_id: str | None, reads: NewOrderReads) -> NewOrder:
    """Route an order seen for the first time: held with every reason, or split into vendor orders.
    Answers what to store; what the order takes is noted in ``reads`` for the next order of a run."""
    moment = utc_now()
    settings = reads.settings
    window = settings.holds.duplicate_window_minutes
    fingerprint = duplicate_fingerprint(order)
    duplicate = await reads.duplicate_of(order, fingerprint, moment - timedelta(minutes=window)) if window else None
    lines = rounds.lines_of(order)
    routing, vendors = await reads.plan(lines, order.ship_to.country, moment)
    order_level = [
        rounds.hold_record(h, moment) for h in order_holds(order, settings.holds, now=moment, duplicate_of=duplicate)
    ]
    holds = [*order_level, *rounds.line_holds(routing, lines, moment)]
    routed = RoutedOrder(order.order_id, "held" if holds else "routed", order, holds=holds)
    if holds:
        reads.note_stored(order, fingerprint, (), moment)
        log.warning("order held", order_id=order.order_id, reason=order_store.hold_text(holds))
        return NewOrder(
            routed,
            fingerprint,
            rounds.hold_history(holds),
            vendor_orders=(),
            events=[rounds.held_event(routed.order_id, holds, causation_id)],
        )
    await rounds.continue_numbering(routed, routing.allocations, reads.next_free_sequence)
    out = rounds.dispatch(routed, routing.allocations, vendors, kind="routed", causation_id=causation_id, now=moment)
    reads.note_stored(order, fingerprint, out.vendor_orders, moment)
    log.debug("order split", order_id=order.order_id, vendors=[v.data.vendor for v in out.vendor_orders])
    return NewOrder(routed, fingerprint, out.history, out.vendor_orders, out.events)


async def on_order_updated(connection: Connection, event: OrderUpdated) -> None:
    """The channel's status changed: an unpaid order paid is released; a routed order is beyond holding."""
    status = event.data.status
    routed = await order_store.load(connection, event.data.order_id, lock=True)
    if routed is None:
        await order_store.remember_early_status(connection, event.data.order_id, status, event.occurred_at)
        return
    if routed.state == "cancelled" or routed.order is None or routed.order.status == status:
        return
    routed.order = routed.order.model_copy(update={"status": status})
    if routed.state == "held":
        await route_again(connection, routed, by="auto", causation_id=event.message_id, payload_changed=True)
        return
    note = HistoryEntry(
        "status",
        f"the channel set the order {status}; its vendor orders were already sent, so nothing is held back",
    )
    await order_store.save(connection, routed, history=[note], payload_changed=True)


async def on_order_cancelled(connection: Connection, event: OrderCancelled) -> None:
    """Cancel what has not shipped: whole vendor orders where nothing shipped, the unshipped lines of the
    others; a fully shipped vendor order is told nothing."""
    order_id = event.data.order_id
    routed = await order_store.load(connection, order_id, lock=True)
    if routed is None:
        # The cancellation overtook its order: remembered, so the late order is not routed.
        await order_store.mark_cancelled_before_seen(connection, order_id)
        return
    if routed.state == "cancelled":
        return
    tracked = await vendor_order_store.of_order(connection, order_id)
    cancel = cancellation_plan([t.state for t in tracked])
    events: list[Envelope] = []
    history: list[HistoryEntry] = []
    skus: set[str] = set()
    reason = event.data.reason
    for state in cancel.cancel_whole:
        events.append(
            VendorOrderCancelled(
                correlation_id=order_id,
                causation_id=event.message_id,
                occurred_at=event.occurred_at,
                data=VendorOrderCancelledData(
                    vendor_order_id=state.id,
                    vendor_order_number=state.number,
                    vendor=state.vendor,
                    order_id=order_id,
                    reason=reason,
                    cancelled_at=event.occurred_at,
                ),
            )
        )
        withdrawn = withdraw(state, {line.line_id: line.unshipped for line in state.lines})
        await vendor_order_store.save_state(connection, replace(withdrawn, status="cancelled"))
        history.append(
            HistoryEntry(
                "cancelled", f"vendor order {state.number} cancelled", vendor=state.vendor, vendor_order_id=state.id
            )
        )
        skus.update(line.sku for line in state.lines)
    for state, unshipped in cancel.withdraw_lines:
        events.append(
            VendorOrderLinesCancelled(
                correlation_id=order_id,
                causation_id=event.message_id,
                data=VendorOrderLinesCancelledData(
                    vendor_order_id=state.id,
                    vendor_order_number=state.number,
                    vendor=state.vendor,
                    order_id=order_id,
                    lines=[WithdrawnLine(line_id=line_id, quantity=units) for line_id, units in unshipped],
                    reason=f"order cancelled{': ' + reason if reason else ''}; the shipped units stand",
                ),
            )
        )
        await vendor_order_store.save_state(connection, withdraw(state, dict(unshipped)))
        history.append(
            HistoryEntry(
                "cancelled",
                f"vendor order {state.number}: unshipped units withdrawn ("
                + ", ".join(f"{line_id} x {units}" for line_id, units in unshipped)
                + "); what shipped stands",
                vendor=state.vendor,
                vendor_order_id=state.id,
            )
        )
        skus.update(line.sku for line in state.lines)
    for state in cancel.already_shipped:
        history.append(
            HistoryEntry(
                "cancel_not_sent",
                f"vendor order {state.number} had shipped everything: no cancellation sent",
                vendor=state.vendor,
                vendor_order_id=state.id,
            )
        )
    routed.state = "cancelled"
    routed.holds = []
    await order_store.save(connection, routed, history=history, events=events, changed_skus=sorted(skus))
