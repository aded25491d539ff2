"""Held orders looked at again: by themselves when a cause may have gone away (a SKU mapped, stock
arrived, the order paid), or by a person, who may override the vendor of a line and clears the holds
only a person can clear (value limit, PO box, duplicate, every vendor rejected, acknowledgement overdue)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from services.splitter.routing.holds import LINE_LEVEL_CODES, RELEASABLE_BY_ITSELF, order_holds
from services.splitter.routing.model import Allocation, LineToRoute
from services.splitter.store import catalog as catalog_store
from services.splitter.store import orders as order_store
from services.splitter.store import settings as settings_store
from services.splitter.store.orders import HistoryEntry, RoutedOrder
from services.splitter.use_cases import rounds
from shared.contracts.envelope import Envelope, utc_now
from shared.contracts.orders import HoldCode, OrderReleased, OrderReleasedData
from shared.db import Connection

STATUS_CODES = frozenset({"unpaid", "channel_on_hold"})
"""Order-level holds that follow the channel's status, so they are worked out again each time."""


@dataclass(frozen=True)
class Outcome:
    released: bool
    vendor_orders: int
    holds: list[dict[str, Any]]


def _lines_to_route(routed: RoutedOrder, person: bool) -> list[LineToRoute]:
    """A held order routes all its lines; a routed one only its held lines (the units on hold), and
    of those a person's release also the ones only a person may send on."""
    assert routed.order is not None
    if routed.state == "held":
        return list(rounds.lines_of(routed.order))
    lines = []
    for hold in routed.holds:
        if hold.get("line_id") and (person or hold["code"] in RELEASABLE_BY_ITSELF):
            tried = frozenset(routed.tried.get(hold["line_id"], ()))
            lines.append(LineToRoute(hold["line_id"], hold["sku"], hold["quantity"], tried))
    return lines


async def _overridden(
    connection: Connection, lines: Sequence[LineToRoute], overrides: Mapping[str, str]
) -> list[Allocation]:
    sources = await catalog_store.sources_for(
        connection, sorted({line.sku for line in lines if line.line_id in overrides})
    )
    allocations = []
    for line in lines:
        vendor = overrides.get(line.line_id)
        if vendor is None:
            continue
        source = next(s for s in sources.get(line.sku, ()) if s.vendor == vendor)
        reason = f"SKU {line.sku} → {vendor}: chosen by a person on release (override), {line.quantity} units"
        allocations.append(
            Allocation(line.line_id, line.sku, line.quantity, vendor, source.vendor_sku, source.cost, reason)
        )
    return allocations


async def route_again(
    connection: Connection,
    routed: RoutedOrder,
    *,
    by: Literal["auto", "person"],
    causation_id: str | None,
    overrides: Mapping[str, str] | None = None,
    payload_changed: bool = False,
    rechecked: frozenset[str] = frozenset(),
) -> Outcome:
    """Look at a held order (or an order's held lines) again and send what can go. A wholly held order
    goes out whole or not at all; an order already partly sent sends each line that can go now.
    ``rechecked``: order-level holds worked out again besides the status ones (the ship-to's, after it changed)."""
    assert routed.order is not None
    order = routed.order
    overrides = overrides or {}
    person = by == "person"
    moment = utc_now()
    settings = await settings_store.routing_settings(connection)
    again = STATUS_CODES | rechecked
    kept_order_level = (
        [] if person else [h for h in routed.holds if h.get("line_id") is None and h["code"] not in again]
    )
    worked_out_again = (
        []
        if person
        else [rounds.hold_record(h, moment) for h in order_holds(order, settings.holds, now=moment) if h.code in again]
    )
    lines = _lines_to_route(routed, person)
    routed_ids = {line.line_id for line in lines}
    kept_line_holds = [h for h in routed.holds if h.get("line_id") and h["line_id"] not in routed_ids]
    chosen = await _overridden(connection, lines, overrides)
    to_route = [line for line in lines if line.line_id not in overrides]
    routing, vendors = await rounds.plan(connection, to_route, order.ship_to.country, settings, moment)
    # Lines some vendors gave back and nobody else can take stay held as every candidate having said no.
    gave_back: HoldCode | None = "vendor_rejected" if any(line.excluded for line in to_route) else None
    new_line_holds = rounds.line_holds(routing, to_route, moment, code=gave_back)
    holds = rounds.merge_holds(routed.holds, [*kept_order_level, *worked_out_again, *kept_line_holds, *new_line_holds])
    allocations = [*chosen, *routing.allocations]
    if routed.state == "held" and holds:
        return await _still_held(connection, routed, holds, causation_id, payload_changed)
    if overrides:
        vendors = {**vendors, **await rounds.profiles_of(connection, set(overrides.values()))}
    await rounds.continue_numbering(routed, allocations, rounds.stored_next_free(connection))
    out = rounds.dispatch(
        routed,
        allocations,
        vendors,
        kind="released" if person else "routed",
        causation_id=causation_id,
        now=moment,
        why="released by a person: " if person else "released when its cause went away: ",
    )
    events: list[Envelope] = list(out.events)
    released = not holds
    history = list(out.history)
    if released:
        events.append(
            OrderReleased(
                correlation_id=routed.order_id,
                causation_id=causation_id,
                data=OrderReleasedData(order_id=routed.order_id, by=by),
            )
        )
        history.append(HistoryEntry("release", f"released ({'by a person' if person else 'by itself'})"))
    elif rounds.holds_changed(routed.holds, holds):
        events.append(rounds.held_event(routed.order_id, holds, causation_id))
        history += rounds.hold_history(rounds.new_holds(routed.holds, holds))
    routed.state = "routed"
    routed.holds = holds
    await order_store.save(
        connection,
        routed,
        history=history,
        vendor_orders=out.vendor_orders,
        events=events,
        payload_changed=payload_changed,
    )
    return Outcome(released, len(out.vendor_orders), holds)


async def _still_held(
    connection: Connection,
    routed: RoutedOrder,
    holds: list[dict[str, Any]],
    causation_id: str | None,
    payload_changed: bool,
) -> Outcome:
    """Nothing goes out; the order's reasons are updated (and announced) when they changed."""
    changed = rounds.holds_changed(routed.holds, holds)
    if not changed and not payload_changed:
        return Outcome(False, 0, routed.holds)
    events: list[Envelope] = []
    history: list[HistoryEntry] = []
    if changed:
        events.append(rounds.held_event(routed.order_id, holds, causation_id))
        history = rounds.hold_history(rounds.new_holds(routed.holds, holds))
        routed.holds = holds
    await order_store.save(connection, routed, history=history, events=events, payload_changed=payload_changed)
    return Outcome(False, 0, holds)


async def release_waiting(connection: Connection, skus: Sequence[str], causation_id: str | None) -> int:
    """Look again at the orders whose lines wait for ``skus`` (no stock, unmapped, no vendor for the
    country); answers how many vendor orders that made."""
    made = 0
    waiting = sorted(RELEASABLE_BY_ITSELF & LINE_LEVEL_CODES)
    for order_id in await order_store.orders_waiting_for(connection, skus, waiting):
        routed = await order_store.load(connection, order_id, lock=True)
        if routed is None or routed.order is None or routed.state == "cancelled":
            continue
        made += (await route_again(connection, routed, by="auto", causation_id=causation_id)).vendor_orders
    return made
