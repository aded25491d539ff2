"""A routing round: the one place vendor orders, holds and their events are made.

An order arrives (:func:`route_new`), lines come back from a vendor (:func:`reroute`), or a held order is
looked at again (:func:`route_again`): each reads the catalog, stock and settings, asks the pure router,
and writes the outcome with its events and history in the order's transaction. Callers hold the
order's row lock (``store.orders.load(..., lock=True)``), the lock every change of an order takes first.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from services.splitter.routing.model import (
    Allocation,
    Hold,
    LineRouting,
    LineToRoute,
    RoutingInput,
    RoutingSettings,
    VendorProfile,
)
from services.splitter.routing.split import split_order, vendor_order_base
from services.splitter.routing.strategies import route_lines
from services.splitter.store import catalog as catalog_store
from services.splitter.store import vendor_orders as vendor_order_store
from services.splitter.store import vendors as vendor_store
from services.splitter.store.orders import HistoryEntry, NewVendorOrder, RoutedOrder
from shared.contracts.envelope import Envelope
from shared.contracts.orders import HoldCode, HoldReason, OrderHeld, OrderHeldData, OrderReceivedData
from shared.contracts.vendor_orders import VendorOrderCreated
from shared.db import Connection


def new_vendor_order_id() -> str:
    return f"vo_{uuid.uuid4().hex}"


async def plan(
    db: Connection, lines: Sequence[LineToRoute], country: str, settings: RoutingSettings, now: datetime
) -> tuple[LineRouting, dict[str, VendorProfile]]:
    """What the router decides for ``lines`` now, with the profiles of the vendors it considered."""
    sources = await catalog_store.sources_for(db, sorted({line.sku for line in lines}))
    vendors = await vendor_store.profiles(db, sorted({s.vendor for group in sources.values() for s in group}))
    request = RoutingInput(tuple(lines), country, sources, vendors, settings, now)
    return route_lines(request), vendors


def hold_record(hold: Hold, now: datetime, *, sku: str | None = None, quantity: int | None = None) -> dict[str, Any]:
    """A hold as the order keeps it (``routed_orders.holds``) and ``GET /v1/holds`` shows it."""
    return {
        "code": hold.code,
        "detail": hold.detail,
        "line_id": hold.line_id,
        "sku": sku,
        "quantity": quantity,
        "since": now.isoformat(),
    }


def merge_holds(before: Sequence[dict[str, Any]], now_holding: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``now_holding``, keeping the ``since`` of a hold (same code and line) that was already there."""
    since = {(h["code"], h.get("line_id")): h["since"] for h in before}
    return [{**h, "since": since.get((h["code"], h.get("line_id")), h["since"])} for h in now_holding]


def held_event(order_id: str, holds: Sequence[dict[str, Any]], causation_id: str | None) -> OrderHeld:
    reasons = [HoldReason(code=h["code"], detail=h["detail"], line_id=h.get("line_id")) for h in holds]
    return OrderHeld(
        correlation_id=order_id, causation_id=causation_id, data=OrderHeldData(order_id=order_id, reasons=reasons)
    )


def new_holds(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The holds of ``after`` that ``before`` did not have (by code and line)."""
    known = {(h["code"], h.get("line_id")) for h in before}
    return [h for h in after if (h["code"], h.get("line_id")) not in known]


def holds_changed(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]) -> bool:
    def key(holds: Sequence[dict[str, Any]]) -> set[tuple[Any, ...]]:
        return {(h["code"], h.get("line_id"), h["detail"]) for h in holds}

    return key(before) != key(after)


@dataclass
class Dispatch:
    """What sending allocations to vendors adds to a round."""

    vendor_orders: list[NewVendorOrder] = field(default_factory=list)
    events: list[Envelope] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)


NextFreeSequence = Callable[[str, Sequence[str]], Awaitable[int]]
"""``next_free(base, vendors)``: one more than the highest ``<base>-<n>`` these vendors have."""


async def continue_numbering(
    routed: RoutedOrder, allocations: Sequence[Allocation], next_free: NextFreeSequence
) -> None:
    """Number the order's next vendor orders past every ``<number>-<n>`` their vendors already have,
    also from another order of the same number (another channel's "1001"): a vendor never gets one
    number twice. An order whose number is its own keeps counting 1, 2, 3."""
    if routed.order is None or not allocations:
        return
    base = vendor_order_base(routed.order.order_number)
    taken = await next_free(base, sorted({allocation.vendor for allocation in allocations}))
    routed.next_sequence = max(routed.next_sequence, taken)


def stored_next_free(db: Connection) -> NextFreeSequence:
    """:data:`NextFreeSequence` as the vendor orders stored say (and this transaction's own)."""
    return partial(vendor_order_store.next_free_sequence, db)


def dispatch(
    routed: RoutedOrder,
    allocations: Sequence[Allocation],
    vendors: Mapping[str, VendorProfile],
    *,
    kind: str,
    causation_id: str | None,
    now: datetime,
    why: str = "",
) -> Dispatch:
    """Vendor orders for ``allocations``, numbered on from the order's count, with their events and history."""
    out = Dispatch()
    if not allocations:
        return out
    assert routed.order is not None
    made = split_order(
        routed.order, allocations, first_sequence=routed.next_sequence, new_vendor_order_id=new_vendor_order_id
    )
    routed.next_sequence += len(made)
    by_vendor = {vendor_order.vendor: vendor_order.vendor_order_id for vendor_order in made}
    for vendor_order in made:
        profile = vendors.get(vendor_order.vendor)
        hours = profile.ack_deadline_hours if profile else None
        due = now + timedelta(hours=hours) if hours else None
        out.vendor_orders.append(NewVendorOrder(vendor_order, due))
        out.events.append(
            VendorOrderCreated(correlation_id=routed.order_id, causation_id=causation_id, data=vendor_order)
        )
    for allocation in allocations:
        out.history.append(
            HistoryEntry(
                kind,
                f"{why}{allocation.reason}",
                allocation.line_id,
                allocation.sku,
                allocation.quantity,
                allocation.vendor,
                by_vendor[allocation.vendor],
            )
        )
    return out


def hold_history(holds: Iterable[dict[str, Any]]) -> list[HistoryEntry]:
    return [
        HistoryEntry("held", h["detail"], h.get("line_id"), h.get("sku"), h.get("quantity"), hold_code=h["code"])
        for h in holds
    ]


def line_holds(
    routing: LineRouting, lines: Sequence[LineToRoute], now: datetime, *, code: HoldCode | None = None
) -> list[dict[str, Any]]:
    """The router's holds as the order keeps them; ``code`` replaces theirs (a reroute that found no one
    holds the line as ``vendor_rejected`` or ``ack_overdue``, whatever the router's reason)."""
    by_id = {line.line_id: line for line in lines}
    records = []
    for hold in routing.holds:
        line = by_id.get(hold.line_id or "")
        record_hold = Hold(code or hold.code, hold.detail, hold.line_id)
        records.append(
            hold_record(record_hold, now, sku=line.sku if line else None, quantity=line.quantity if line else None)
        )
    return records


def lines_of(order: OrderReceivedData) -> tuple[LineToRoute, ...]:
    return tuple(LineToRoute(line.line_id, line.sku, line.quantity) for line in order.lines)


async def profiles_of(db: Connection, codes: Iterable[str]) -> dict[str, VendorProfile]:
    return await vendor_store.profiles(db, sorted(set(codes)))
