"""What vendors answer (the ``splitter.vendor_events`` queue) and what they fail to answer in time:
acknowledgements, failures, shipments and missed acknowledgement deadlines. Units a vendor gives back
are rerouted to the next candidate (the vendors tried are remembered); no candidate left holds them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from services.splitter.routing.lifecycle import (
    RerouteRequest,
    VendorOrderState,
    apply_acknowledgement,
    apply_shipment,
    reroute_whole,
    withdraw,
)
from services.splitter.routing.model import LineToRoute
from services.splitter.store import orders as order_store
from services.splitter.store import settings as settings_store
from services.splitter.store import vendor_orders as vendor_order_store
from services.splitter.store import vendors as vendor_store
from services.splitter.store.orders import HistoryEntry, RoutedOrder
from services.splitter.use_cases import rounds
from shared.contracts.envelope import Envelope, utc_now
from shared.contracts.shipments import ShipmentReported
from shared.contracts.vendor_orders import (
    VendorOrderAcknowledged,
    VendorOrderCancelled,
    VendorOrderCancelledData,
    VendorOrderFailed,
    VendorOrderLinesCancelled,
    VendorOrderLinesCancelledData,
    WithdrawnLine,
)
from shared.db import Connection
from shared.logging import get_logger

log = get_logger(__name__)

GiveBack = Literal["vendor_rejected", "ack_overdue"]


async def _locked(
    connection: Connection, event: Envelope, vendor_order_id: str
) -> tuple[RoutedOrder, VendorOrderState] | None:
    """The vendor order's order, locked (the lock every change of an order takes first), and its state;
    none (logged: a vendor adapter named a vendor order we never made) when there is no such vendor order."""
    order_id = await vendor_order_store.order_of(connection, vendor_order_id)
    if order_id is None:
        log.warning("event for an unknown vendor order", event_type=event.type, vendor_order_id=vendor_order_id)
        return None
    routed = await order_store.load(connection, order_id, lock=True)
    tracked = await vendor_order_store.get(connection, vendor_order_id)
    if routed is None or tracked is None:
        return None
    return routed, tracked.state


async def on_vendor_order_acknowledged(connection: Connection, event: VendorOrderAcknowledged) -> None:
    data = event.data
    found = await _locked(connection, event, data.vendor_order_id)
    if found is None:
        return
    routed, state = found
    vendor = await vendor_store.get_vendor(connection, state.vendor)
    outcome = apply_acknowledgement(state, data.lines, accepts_backorders=bool(vendor and vendor.accepts_backorders))
    if outcome.unknown_lines:
        log.warning("acknowledgement names lines not on the vendor order", lines=list(outcome.unknown_lines))
    await vendor_order_store.save_state(connection, outcome.state, acknowledged_at=event.occurred_at)
    summary = (
        ", ".join(f"{line.line_id}: {line.status} {line.quantity}" for line in data.lines) or "every line accepted"
    )
    history = [
        HistoryEntry(
            "acknowledged",
            f"{state.vendor} acknowledged {state.number}: {summary}",
            vendor=state.vendor,
            vendor_order_id=state.id,
        )
    ]
    await _give_back(
        connection,
        routed,
        state,
        outcome.to_reroute,
        code="vendor_rejected",
        causation_id=event.message_id,
        history=history,
    )


async def on_vendor_order_failed(connection: Connection, event: VendorOrderFailed) -> None:
    data = event.data
    found = await _locked(connection, event, data.vendor_order_id)
    if found is None:
        return
    routed, state = found
    if state.status in ("failed", "cancelled", "shipped"):
        # Failed before, cancelled (nothing left to deliver), or shipped anyway: nothing to reroute.
        note = f"{state.vendor} reported {state.number} failed ({data.reason}); it is {state.status}: nothing rerouted"
        await order_store.save(connection, routed, history=[HistoryEntry("failed", note, vendor=state.vendor)])
        return
    reason = f"{state.vendor} failed {state.number} after {data.attempts} attempt(s): {data.reason}"
    requests = reroute_whole(state, reason)
    await vendor_order_store.save_state(
        connection, withdraw(replace(state, status="failed"), _units(requests)), failed_reason=data.reason
    )
    history = [HistoryEntry("failed", reason, vendor=state.vendor, vendor_order_id=state.id)]
    await _give_back(
        connection,
        routed,
        state,
        requests,
        code="vendor_rejected",
        causation_id=event.message_id,
        history=history,
        notify=False,
    )


async def on_shipment_reported(connection: Connection, event: ShipmentReported) -> None:
    data = event.data
    found = await _locked(connection, event, data.vendor_order_id)
    if found is None:
        return
    routed, state = found
    shipped: dict[str, int] = {}
    for line in data.lines:
        shipped[line.line_id] = shipped.get(line.line_id, 0) + line.quantity
    outcome = apply_shipment(state, shipped)
    await vendor_order_store.save_state(
        connection, outcome.state, acknowledged_at=event.occurred_at, shipped_after_cancel=outcome.after_cancel
    )
    history = [
        HistoryEntry(
            "shipped",
            f"{state.vendor} shipped {state.number}: "
            + ", ".join(f"{k} x {v}" for k, v in shipped.items())
            + (f" ({data.carrier} {data.tracking_number})" if data.tracking_number else ""),
            vendor=state.vendor,
            vendor_order_id=state.id,
        )
    ]
    if outcome.after_cancel:
        history.append(
            HistoryEntry(
                "shipped_after_cancel",
                f"{state.vendor} shipped {state.number} after it was cancelled or withdrawn: the shipment counts,"
                " the channel is told",
                vendor=state.vendor,
                vendor_order_id=state.id,
            )
        )
        log.warning("vendor shipped after cancellation", vendor_order=state.number, vendor=state.vendor)
    await order_store.save(connection, routed, history=history, changed_skus=sorted({line.sku for line in state.lines}))


def _units(requests: Sequence[RerouteRequest]) -> dict[str, int]:
    units: dict[str, int] = {}
    for request in requests:
        units[request.line_id] = units.get(request.line_id, 0) + request.quantity
    return units


async def _give_back(
    connection: Connection,
    routed: RoutedOrder,
    state: VendorOrderState,
    requests: Sequence[RerouteRequest],
    *,
    code: GiveBack,
    causation_id: str | None,
    history: list[HistoryEntry],
    notify: bool = True,
    also: Sequence[Envelope] = (),
) -> None:
    """Reroute ``requests`` (units ``state``'s vendor gave back) to the next candidates; tell the vendor
    the units are withdrawn (``notify``); hold what nobody else can take as ``code``. ``also``: events of
    the caller's to publish with the round's."""
    events: list[Envelope] = list(also)
    if not requests or routed.order is None or routed.state == "cancelled":
        await order_store.save(connection, routed, history=history, events=events)
        return
    if notify:
        events.append(_withdrawal(routed.order_id, state, requests, causation_id))
    for request in requests:
        tried = routed.tried.setdefault(request.line_id, [])
        if state.vendor not in tried:
            tried.append(state.vendor)
    lines = [LineToRoute(r.line_id, r.sku, r.quantity, frozenset(routed.tried[r.line_id])) for r in requests]
    moment = utc_now()
    settings = await settings_store.routing_settings(connection)
    routing, vendors = await rounds.plan(connection, lines, routed.order.ship_to.country, settings, moment)
    why = {r.line_id: r.reason for r in requests}
    await rounds.continue_numbering(routed, routing.allocations, rounds.stored_next_free(connection))
    out = rounds.dispatch(routed, routing.allocations, vendors, kind="rerouted", causation_id=causation_id, now=moment)
    history += [replace(h, reason=f"rerouted ({why.get(h.line_id or '', '')}): {h.reason}") for h in out.history]
    events += out.events
    held = [
        {**h, "detail": f"{h['detail']} (tried: {', '.join(routed.tried.get(h['line_id'], []))})"}
        for h in rounds.line_holds(routing, lines, moment, code=code)
    ]
    if held:
        routed.holds = rounds.merge_holds(routed.holds, [*routed.holds, *held])
        events.append(rounds.held_event(routed.order_id, routed.holds, causation_id))
        history += rounds.hold_history(held)
    await order_store.save(connection, routed, history=history, vendor_orders=out.vendor_orders, events=events)


def _withdrawal(
    order_id: str, state: VendorOrderState, requests: Sequence[RerouteRequest], causation_id: str | None
) -> VendorOrderLinesCancelled:
    return VendorOrderLinesCancelled(
        correlation_id=order_id,
        causation_id=causation_id,
        data=VendorOrderLinesCancelledData(
            vendor_order_id=state.id,
            vendor_order_number=state.number,
            vendor=state.vendor,
            order_id=order_id,
            lines=[WithdrawnLine(line_id=line_id, quantity=units) for line_id, units in _units(requests).items()],
            reason="; ".join(dict.fromkeys(r.reason for r in requests)),
        ),
    )


async def reroute_overdue(connection: Connection, limit: int = 50) -> int:
    """Reroute the vendor orders whose acknowledgement is overdue (the vendor is told they are
    cancelled); call inside a transaction. Answers how many it handled."""
    claimed = await vendor_order_store.claim_overdue(connection, utc_now(), limit)
    for vendor_order_id, order_id in claimed:
        routed = await order_store.load(connection, order_id)
        tracked = await vendor_order_store.get(connection, vendor_order_id)
        if routed is None or tracked is None:
            continue
        state = tracked.state
        vendor = await vendor_store.get_vendor(connection, state.vendor)
        hours = vendor.ack_deadline_hours if vendor else None
        reason = f"{state.vendor} did not acknowledge {state.number} within {hours} h"
        requests = reroute_whole(state, reason)
        await vendor_order_store.save_state(connection, withdraw(replace(state, status="cancelled"), _units(requests)))
        cancelled = VendorOrderCancelled(
            correlation_id=order_id,
            data=VendorOrderCancelledData(
                vendor_order_id=state.id,
                vendor_order_number=state.number,
                vendor=state.vendor,
                order_id=order_id,
                reason=reason,
                cancelled_at=utc_now(),
            ),
        )
        history = [HistoryEntry("ack_overdue", reason, vendor=state.vendor, vendor_order_id=state.id)]
        await _give_back(
            connection,
            routed,
            state,
            requests,
            code="ack_overdue",
            causation_id=None,
            history=history,
            notify=False,
            also=[cancelled],
        )
    await vendor_order_store.clear_deadline(connection, [vendor_order_id for vendor_order_id, _ in claimed])
    return len(claimed)
