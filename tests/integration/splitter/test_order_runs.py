"""A run of new orders applied in one transaction (what the splitter's inbox batches hand over under
load) is routed as if each order had been alone after the ones before it: the stock an earlier order
of the run reserved is gone for the next, an earlier order is a duplicate candidate for the next, an
order twice in a run is routed once, and a status that arrived first is applied.

The use case is called directly on the splitter's database, so the run is exactly the one written
here (through the bus, how deliveries fall into batches depends on timing)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from services.splitter.store import orders as order_store
from services.splitter.use_cases import orders
from shared.contracts.envelope import utc_now
from shared.contracts.orders import OrderReceived, OrderReceivedData
from tests.integration.splitter.conftest import Shop, routed_vendors
from tests.support import unique


def _order(sku: str, quantity: int = 1, **fields: Any) -> OrderReceivedData:
    return OrderReceivedData.model_validate(
        {
            "order_id": f"ord_{uuid.uuid4().hex}",
            "channel": "bus-shop",
            "external_id": unique("ext-"),
            "order_number": unique("N"),
            "ordered_at": "2026-11-26T23:41:00Z",
            "status": "paid",
            "currency": "USD",
            "customer": {"name": "Jo", "email": f"{unique('jo')}@example.com"},
            "ship_to": {"name": "Jo", "address1": "1 Main St", "city": "X", "postal_code": "1", "country": "US"},
            "lines": [{"line_id": "L1", "sku": sku, "name": "Item", "quantity": quantity, "unit_price": "3.00"}],
            **fields,
        }
    )


def _received(order: OrderReceivedData) -> OrderReceived:
    return OrderReceived(correlation_id=order.order_id, data=order)


async def _apply_run(shop: Shop, events: Sequence[OrderReceived]) -> None:
    async with shop.system.splitter.pool.acquire() as connection, connection.transaction():
        await orders.on_orders_received(connection, events)


async def _apply_one_by_one(shop: Shop, events: Sequence[OrderReceived]) -> None:
    for event in events:
        async with shop.system.splitter.pool.acquire() as connection, connection.transaction():
            await orders.on_order_received(connection, event)


async def _vendors_and_states(shop: Shop, placed: Sequence[OrderReceivedData]) -> list[tuple[str, Any]]:
    outcome = []
    for order in placed:
        view = await shop.routing(order.order_id)
        outcome.append((view["state"], routed_vendors(view).get("L1")))
    return outcome


async def test_a_run_counts_what_its_earlier_orders_reserved_as_one_order_at_a_time_does(shop: Shop) -> None:
    """Three units at the first vendor, the second untracked: five orders of one unit give three to
    the first and two to the second, in a run as one by one; the order that needs two units when one
    is left goes whole to the second (no split without split_quantities)."""
    await shop.settings(strategy="priority")
    outcomes = []
    for apply in (_apply_run, _apply_one_by_one):
        first, second = await shop.vendor(), await shop.vendor()
        sku = await shop.catalog([{"vendor": first, "stock": 3, "priority": 1}, {"vendor": second, "priority": 2}])
        placed = [_order(sku), _order(sku), _order(sku, 2), _order(sku), _order(sku)]
        await apply(shop, [_received(order) for order in placed])
        named = {first: "first", second: "second"}
        outcomes.append([(state, named[vendor]) for state, vendor in await _vendors_and_states(shop, placed)])
        stock = await shop.stock(sku)
        assert {s["vendor"]: s["reserved"] for s in stock["sources"]}[first] == 3
    in_a_run, one_by_one = outcomes
    assert (
        in_a_run
        == one_by_one
        == [
            ("routed", "first"),
            ("routed", "first"),
            ("routed", "second"),
            ("routed", "first"),
            ("routed", "second"),
        ]
    )


async def test_the_last_unit_is_not_given_twice_and_an_order_without_stock_is_held(shop: Shop) -> None:
    await shop.settings(strategy="priority")
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor, "stock": 1}])
    placed = [_order(sku), _order(sku)]
    await _apply_run(shop, [_received(order) for order in placed])
    assert await _vendors_and_states(shop, placed) == [("routed", vendor), ("held", None)]
    view = await shop.routing(placed[1].order_id)
    assert [h["code"] for h in view["holds"]] == ["no_stock"]


async def test_an_earlier_order_of_the_run_is_a_duplicate_candidate(shop: Shop) -> None:
    await shop.settings(holds={"duplicate_window_minutes": 60})
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    customer = {"name": "Jo", "email": f"{unique('twice')}@example.com"}
    original, again = _order(sku, customer=customer), _order(sku, customer=customer)
    await _apply_run(shop, [_received(original), _received(again)])
    assert (await shop.routing(original.order_id))["state"] == "routed"
    held = await shop.routing(again.order_id)
    assert held["state"] == "held"
    [hold] = held["holds"]
    assert hold["code"] == "duplicate" and original.order_number in hold["detail"]


async def test_an_order_twice_in_a_run_or_seen_before_is_routed_once(shop: Shop) -> None:
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    seen_before, new = _order(sku), _order(sku)
    await _apply_run(shop, [_received(seen_before)])  # a run of one: routed as alone
    await _apply_run(shop, [_received(seen_before), _received(new), _received(new)])
    for order in (seen_before, new):
        view = await shop.routing(order.order_id)
        assert len(view["vendor_orders"]) == 1, view


async def test_a_status_that_came_first_is_applied_to_its_order_in_a_run(shop: Shop) -> None:
    await shop.settings(holds={"unpaid": True, "duplicate_window_minutes": 0})
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    overtaken, plain = _order(sku), _order(sku)
    async with shop.system.splitter.pool.acquire() as connection:
        await order_store.remember_early_status(connection, overtaken.order_id, "unpaid", utc_now())
    await _apply_run(shop, [_received(overtaken), _received(plain)])
    held = await shop.routing(overtaken.order_id)
    assert held["state"] == "held" and [h["code"] for h in held["holds"]] == ["unpaid"]
    assert (await shop.routing(plain.order_id))["state"] == "routed"


async def test_orders_of_one_number_in_a_run_never_give_a_vendor_one_number_twice(shop: Shop) -> None:
    """Three channels' order "N…" at one vendor: the first stored before the run, two in it."""
    vendor = await shop.vendor()
    sku = await shop.catalog([{"vendor": vendor}])
    number = unique("N")
    before, first, second = (_order(sku, order_number=number, channel=unique("ch-")) for _ in range(3))
    await _apply_run(shop, [_received(before)])
    await _apply_run(shop, [_received(first), _received(second)])
    numbers = []
    for order in (before, first, second):
        [vendor_order] = (await shop.routing(order.order_id))["vendor_orders"]
        numbers.append(vendor_order["vendor_order_number"])
    assert numbers == [f"{number}-1", f"{number}-2", f"{number}-3"]


def _same_shape(value: Any, placed: OrderReceivedData) -> Any:
    """``value`` with what differs between two equal orders by construction (their ids, numbers and
    the moments they were stored) put as placeholders, so two passes can be compared whole."""
    if isinstance(value, dict):
        return {key: _same_shape(item, placed) for key, item in value.items() if not key.endswith(("_at", "since"))}
    if isinstance(value, list):
        return [_same_shape(item, placed) for item in value]
    if isinstance(value, str):
        for own, placeholder in (
            (placed.order_id, "<order>"),
            (placed.external_id, "<external>"),
            (placed.order_number, "<number>"),
            ((placed.customer.email if placed.customer else None) or "<email>", "<email>"),
        ):
            value = value.replace(own, placeholder)
        return re.sub(r"vo_[0-9a-z]+", "<vendor order>", value)
    return value


async def _stored_whole(shop: Shop, placed: OrderReceivedData) -> tuple[Any, list[Any]]:
    """The order's routing view and every event its routing wrote, as comparable shapes."""
    view = await shop.routing(placed.order_id)
    rows = await shop.system.splitter.pool.fetch(
        "SELECT message_type, convert_from(body, 'UTF8')::jsonb -> 'data' AS data FROM outbox"
        " WHERE correlation_id = $1 ORDER BY id",
        placed.order_id,
    )
    events = [[row["message_type"], row["data"]] for row in rows]
    return _same_shape(view, placed), _same_shape(events, placed)


async def test_a_run_stores_every_row_and_event_that_one_order_at_a_time_stores(shop: Shop) -> None:
    """A split over two vendors, an order held for stock, and a plain one: the run's one statement
    leaves the views (holds, history, vendor orders and their lines) and the events of routing alone."""
    await shop.settings(strategy="priority")
    outcomes = []
    for apply in (_apply_run, _apply_one_by_one):
        first, second = await shop.vendor(), await shop.vendor()
        here = await shop.catalog([{"vendor": first}])
        there = await shop.catalog([{"vendor": second}])
        scarce = await shop.catalog([{"vendor": first, "stock": 0}])
        split = _order(here)
        split = split.model_copy(
            update={"lines": [*split.lines, split.lines[0].model_copy(update={"line_id": "L2", "sku": there})]}
        )
        placed = [split, _order(scarce), _order(here, 2)]
        await apply(shop, [_received(order) for order in placed])
        named = {first: "<first>", second: "<second>", here: "<here>", there: "<there>", scarce: "<scarce>"}

        def renamed(value: Any, names: dict[str, str] = named) -> Any:
            text = json.dumps(value, sort_keys=True)
            for own, placeholder in names.items():
                text = text.replace(own, placeholder)
            return json.loads(text)

        outcomes.append([renamed(await _stored_whole(shop, order)) for order in placed])
    in_a_run, one_by_one = outcomes
    assert in_a_run == one_by_one
    views = [view for view, _ in in_a_run]
    assert [view["state"] for view in views] == ["routed", "held", "routed"]
    assert len(views[0]["vendor_orders"]) == 2
    assert [[kind for kind, _ in events] for _, events in in_a_run] == [
        ["vendor_order.created", "vendor_order.created"],
        ["order.held"],
        ["vendor_order.created"],
    ]
