"""What pushing one shipment to Shopify takes, planned from what the order shows now (no I/O).

The client reads the order's fulfillment orders and fulfillments first, then asks :func:`plan_shipment`:

- :class:`AlreadyThere`: a fulfillment carries this tracking number, or nothing of the shipped lines is
  left to fulfil (a retry after a crash between our write and our record lands here);
- :class:`AddTracking`: a further box of lines already fulfilled (``push.lines`` empty): its number joins
  the fulfillment of the same vendor pushed last (or the order's only fulfillment);
- :class:`CreateFulfillments`: one ``fulfillmentCreate`` per assigned location (Shopify takes fulfillment
  orders of one location per call), with exactly the shipped line items of each fulfillment order,
  clamped to what remains, from fulfillment orders that can still be fulfilled (OPEN, IN_PROGRESS).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.channels.ports import ShipmentPush

FULFILLABLE_STATUSES = frozenset({"OPEN", "IN_PROGRESS"})
LINE_ITEM_GID = "gid://shopify/LineItem/"


@dataclass(frozen=True)
class FulfillmentOrderLine:
    id: str
    """The fulfillment order line item's gid (what ``fulfillmentCreate`` names)."""
    line_item_id: str
    """The order's line item, numeric (intake's ``line_id``)."""
    remaining: int
    sku: str | None = None


@dataclass(frozen=True)
class FulfillmentOrder:
    id: str
    status: str
    location_id: str | None
    lines: tuple[FulfillmentOrderLine, ...]


@dataclass(frozen=True)
class Fulfillment:
    id: str
    tracking_numbers: tuple[str, ...]
    company: str | None = None
    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderFulfilment:
    """An order's fulfillment orders and fulfillments, oldest first, as the client's query reads them."""

    fulfillment_orders: tuple[FulfillmentOrder, ...]
    fulfillments: tuple[Fulfillment, ...]


@dataclass(frozen=True)
class AlreadyThere:
    remote_id: str
    tracking_numbers: tuple[str, ...]
    detail: str


@dataclass(frozen=True)
class AddTracking:
    fulfillment_id: str
    tracking_input: dict[str, Any]
    """``FulfillmentTrackingInput`` with every number of the fulfillment (``numbers``, ``urls``)."""
    tracking_numbers: tuple[str, ...]


@dataclass(frozen=True)
class FulfillmentGroup:
    location_id: str | None
    line_items_by_fulfillment_order: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class CreateFulfillments:
    groups: tuple[FulfillmentGroup, ...]
    tracking_input: dict[str, Any]


Plan = AlreadyThere | AddTracking | CreateFulfillments


class UnplannableShipment(ValueError):
    """Nothing on the order can take this shipment (a further box with no fulfillment to join)."""


def numeric_id(gid_or_id: str) -> str:
    """``gid://shopify/LineItem/5`` → ``5``; a numeric id stays as it is."""
    return gid_or_id.rsplit("/", 1)[-1].split("?", 1)[0]


def read_order_fulfilment(order: Mapping[str, Any]) -> OrderFulfilment:
    """The ``order`` node of the client's fulfillment query, read into plain records."""
    orders: list[FulfillmentOrder] = []
    for node in _nodes(order.get("fulfillmentOrders")):
        location = (node.get("assignedLocation") or {}).get("location") or {}
        lines = tuple(
            FulfillmentOrderLine(
                id=str(line["id"]),
                line_item_id=numeric_id(str((line.get("lineItem") or {}).get("id") or "")),
                remaining=int(line.get("remainingQuantity") or 0),
                sku=(line.get("lineItem") or {}).get("sku"),
            )
            for line in _nodes(node.get("lineItems"))
        )
        orders.append(FulfillmentOrder(str(node["id"]), str(node.get("status") or ""), location.get("id"), lines))
    fulfillments = []
    for node in order.get("fulfillments") or []:
        infos = node.get("trackingInfo") or []
        numbers = tuple(str(info["number"]) for info in infos if info.get("number"))
        urls = tuple(str(info["url"]) for info in infos if info.get("url"))
        company = next((str(info["company"]) for info in infos if info.get("company")), None)
        fulfillments.append(Fulfillment(str(node["id"]), numbers, company, urls))
    return OrderFulfilment(tuple(orders), tuple(fulfillments))


def plan_shipment(state: OrderFulfilment, push: ShipmentPush, tracking: Mapping[str, Any]) -> Plan:
    """What to send for ``push``; ``tracking`` is :func:`~services.channels.shopify.carriers.tracking_info`'s."""
    number = push.tracking_number
    if number:
        for fulfillment in state.fulfillments:
            if number in fulfillment.tracking_numbers:
                return AlreadyThere(
                    fulfillment.id, fulfillment.tracking_numbers, "already there (tracking number found)"
                )
    if not push.lines:
        return _add_tracking(state, push, tracking)
    groups = _groups(state, push)
    if not groups:
        remote = _vendor_fulfillment(state, push)
        remote_id = remote.id if remote else ""
        numbers = remote.tracking_numbers if remote else ()
        return AlreadyThere(remote_id, numbers, "already there (nothing of these lines remains to fulfil)")
    return CreateFulfillments(groups, dict(tracking))


def _add_tracking(state: OrderFulfilment, push: ShipmentPush, tracking: Mapping[str, Any]) -> Plan:
    target = _vendor_fulfillment(state, push)
    if target is None and len(state.fulfillments) == 1:
        target = state.fulfillments[0]
    if target is None:
        raise UnplannableShipment(
            f"a further box for order {push.order_number}, but no fulfillment of {push.vendor} to add its tracking to"
        )
    if not push.tracking_number:
        return AlreadyThere(target.id, target.tracking_numbers, "nothing to add: the box has no tracking number")
    numbers = (*target.tracking_numbers, push.tracking_number)
    tracking_input: dict[str, Any] = {"numbers": list(numbers)}
    company = target.company or tracking.get("company")
    if company:
        tracking_input["company"] = company
    urls = [*target.urls, *([tracking["url"]] if tracking.get("url") else [])]
    if urls:
        tracking_input["urls"] = urls
    return AddTracking(target.id, tracking_input, numbers)


def _vendor_fulfillment(state: OrderFulfilment, push: ShipmentPush) -> Fulfillment | None:
    """The latest fulfillment we pushed for this vendor that the order still shows."""
    by_id = {fulfillment.id: fulfillment for fulfillment in state.fulfillments}
    for earlier in reversed(push.earlier):
        if earlier.vendor == push.vendor and earlier.remote_id in by_id:
            return by_id[earlier.remote_id]
    return None


def _groups(state: OrderFulfilment, push: ShipmentPush) -> tuple[FulfillmentGroup, ...]:
    wanted: dict[str, int] = {}
    for line in push.lines:
        key = numeric_id(line.line_id)
        wanted[key] = wanted.get(key, 0) + max(line.quantity, 0)
    by_location: dict[str | None, list[dict[str, Any]]] = {}
    for order in state.fulfillment_orders:
        if order.status not in FULFILLABLE_STATUSES:
            continue
        items = []
        for fo_line in order.lines:
            take = min(fo_line.remaining, wanted.get(fo_line.line_item_id, 0))
            if take > 0:
                items.append({"id": fo_line.id, "quantity": take})
                wanted[fo_line.line_item_id] -= take
        if items:
            entry = {"fulfillmentOrderId": order.id, "fulfillmentOrderLineItems": items}
            by_location.setdefault(order.location_id, []).append(entry)
    return tuple(FulfillmentGroup(location, tuple(entries)) for location, entries in by_location.items())


def _nodes(connection: Any) -> Sequence[Mapping[str, Any]]:
    if not isinstance(connection, Mapping):
        return []
    if connection.get("nodes") is not None:
        return [node for node in connection["nodes"] if isinstance(node, Mapping)]
    return [edge["node"] for edge in connection.get("edges") or [] if isinstance(edge, Mapping) and edge.get("node")]
