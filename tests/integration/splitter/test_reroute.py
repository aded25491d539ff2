"""Reroutes through the real splitter, the test acting as the vendors' adapter on the bus: a rejected
line goes to the next candidate under the next number and is withdrawn from the old vendor; nobody
left holds it; an unwanted backorder and a failure reroute; a missed acknowledgement deadline cancels
the vendor order and reroutes it; the same acknowledgement twice makes nothing new.

The overdue round runs every 30 s by itself; its loop also wakes on ``NOTIFY splitter_overdue`` (the
LISTEN channel every background round has, named after it), so the deadline test wakes it at once
instead of waiting or changing the service's timing."""

from __future__ import annotations

from typing import Any

from shared.contracts.vendor_orders import (
    AcknowledgedLine,
    VendorOrderAcknowledged,
    VendorOrderAcknowledgedData,
    VendorOrderFailed,
    VendorOrderFailedData,
)
from tests.integration.splitter.conftest import Bus, Message, Observer, Shop, routed_vendors, settled
from tests.support import wait_until


def _ack(created: Message, lines: list[tuple[str, str, int]]) -> VendorOrderAcknowledged:
    data = created["data"]
    by_id = {line["line_id"]: line["sku"] for line in data["lines"]}
    return VendorOrderAcknowledged(
        correlation_id=data["order_id"],
        data=VendorOrderAcknowledgedData(
            vendor_order_id=data["vendor_order_id"],
            vendor_order_number=data["vendor_order_number"],
            vendor=data["vendor"],
            order_id=data["order_id"],
            lines=[
                AcknowledgedLine(
                    line_id=line_id, sku=by_id[line_id], status=status, quantity=qty, reason="discontinued"
                )
                for line_id, status, qty in lines
            ],
        ),
    )


async def _two_line_order(shop: Shop, events: Observer, **first_fields: Any) -> tuple[str, str, str, Message]:
    """An order whose two lines go to ``first``; ``second`` also carries L1's SKU."""
    first, second = await shop.vendor(**first_fields), await shop.vendor()
    contested = await shop.catalog([{"vendor": first, "priority": 1}, {"vendor": second, "priority": 2}])
    only_first = await shop.catalog([{"vendor": first}])
    await shop.settings(strategy="priority")
    order_id = await shop.place([(contested, 2, "10.00"), (only_first, 1, "4.00")], order_number="1001")
    [created] = await events.wait_for("vendor_order.created", order_id)
    assert created["data"]["vendor"] == first
    return order_id, first, second, created


async def test_a_rejected_line_goes_to_the_next_vendor_and_is_withdrawn_from_the_first(
    shop: Shop, bus: Bus, events: Observer
) -> None:
    order_id, first, second, created = await _two_line_order(shop, events)
    ack = _ack(created, [("L1", "rejected", 2)])
    await bus.publish(ack)

    rerouted = await events.wait_match(
        lambda m: (
            m["type"] == "vendor_order.created" and m["correlation_id"] == order_id and m["data"]["vendor"] == second
        )
    )
    assert [(line["line_id"], line["quantity"]) for line in rerouted["data"]["lines"]] == [("L1", 2)]
    assert rerouted["data"]["vendor_order_number"] == "1001-2"
    [withdrawn] = await events.wait_for("vendor_order.lines_cancelled", order_id)
    assert withdrawn["data"]["vendor"] == first
    assert withdrawn["data"]["vendor_order_id"] == created["data"]["vendor_order_id"]
    assert withdrawn["data"]["lines"] == [{"line_id": "L1", "quantity": 2}]
    assert "rejected by" in withdrawn["data"]["reason"] and "discontinued" in withdrawn["data"]["reason"]

    view = await shop.routing(order_id, until=lambda v: len(v["vendor_orders"]) == 2)
    assert view["tried"] == {"L1": [first]}
    assert routed_vendors(view) == {"L1": second, "L2": first}
    [reroute] = [d for d in view["decisions"] if d["kind"] == "rerouted"]
    assert reroute["vendor"] == second and f"rejected by {first}: discontinued" in reroute["reason"]
    assert f"tried before: {first}" in reroute["reason"]

    # The same acknowledgement again, redelivered or sent anew by the adapter: nothing new.
    again = _ack(created, [("L1", "rejected", 2)])
    await bus.publish(ack)
    await bus.publish(again)
    await wait_until(lambda: bus.applied(again))
    await settled()
    assert len(events.of("vendor_order.created", order_id)) == 2
    assert len(events.of("vendor_order.lines_cancelled", order_id)) == 1


async def test_a_line_nobody_else_can_take_is_held_as_rejected(shop: Shop, bus: Bus, events: Observer) -> None:
    order_id, first, _, created = await _two_line_order(shop, events)
    await bus.publish(_ack(created, [("L2", "rejected", 1)]))
    [held] = await events.wait_for("order.held", order_id)
    [reason] = held["data"]["reasons"]
    assert (reason["code"], reason["line_id"]) == ("vendor_rejected", "L2")
    assert f"tried: {first}" in reason["detail"]
    [withdrawn] = await events.wait_for("vendor_order.lines_cancelled", order_id)
    assert withdrawn["data"]["lines"] == [{"line_id": "L2", "quantity": 1}]
    await settled()
    assert len(events.of("vendor_order.created", order_id)) == 1
    holds = {h["order_id"]: h for h in (await shop.api.ok("GET", "splitter", "/v1/holds"))["holds"]}
    assert [h["code"] for h in holds[order_id]["holds"]] == ["vendor_rejected"]


async def test_backordered_units_at_a_vendor_without_backorders_are_rerouted(
    shop: Shop, bus: Bus, events: Observer
) -> None:
    order_id, first, second, created = await _two_line_order(shop, events)
    await bus.publish(_ack(created, [("L1", "backordered", 1)]))
    rerouted = await events.wait_match(
        lambda m: (
            m["type"] == "vendor_order.created" and m["correlation_id"] == order_id and m["data"]["vendor"] == second
        )
    )
    assert [(line["line_id"], line["quantity"]) for line in rerouted["data"]["lines"]] == [("L1", 1)]
    [withdrawn] = await events.wait_for("vendor_order.lines_cancelled", order_id)
    assert (withdrawn["data"]["vendor"], withdrawn["data"]["lines"]) == (first, [{"line_id": "L1", "quantity": 1}])
    assert "does not take backorders" in withdrawn["data"]["reason"]


async def test_backordered_units_stay_with_a_vendor_that_takes_backorders(
    shop: Shop, bus: Bus, events: Observer
) -> None:
    order_id, _, _, created = await _two_line_order(shop, events, accepts_backorders=True)
    ack = _ack(created, [("L1", "backordered", 2)])
    await bus.publish(ack)
    await wait_until(lambda: bus.applied(ack))
    await settled()
    assert len(events.of("vendor_order.created", order_id)) == 1
    assert events.of("vendor_order.lines_cancelled", order_id) == []


async def test_a_failed_vendor_order_is_rerouted_whole(shop: Shop, bus: Bus, events: Observer) -> None:
    first, second = await shop.vendor(), await shop.vendor()
    a = await shop.catalog([{"vendor": first, "priority": 1}, {"vendor": second, "priority": 2}])
    b = await shop.catalog([{"vendor": first, "priority": 1}, {"vendor": second, "priority": 2}])
    order_id = await shop.place([(a, 1, "10.00"), (b, 3, "4.00")])
    [created] = await events.wait_for("vendor_order.created", order_id)
    data = created["data"]
    failed = VendorOrderFailed(
        correlation_id=order_id,
        data=VendorOrderFailedData(
            vendor_order_id=data["vendor_order_id"], vendor=first, order_id=order_id, reason="HTTP 410", attempts=5
        ),
    )
    await bus.publish(failed)
    rerouted = await events.wait_match(
        lambda m: (
            m["type"] == "vendor_order.created" and m["correlation_id"] == order_id and m["data"]["vendor"] == second
        )
    )
    assert [(line["line_id"], line["quantity"]) for line in rerouted["data"]["lines"]] == [("L1", 1), ("L2", 3)]
    view = await shop.routing(order_id, until=lambda v: len(v["vendor_orders"]) == 2)
    old = next(vo for vo in view["vendor_orders"] if vo["vendor"] == first)
    assert (old["status"], old["failed_reason"]) == ("failed", "HTTP 410")
    assert view["tried"] == {"L1": [first], "L2": [first]}
    # The failed vendor order's units no longer count against its stock.
    assert {s["vendor"]: s["reserved"] for s in (await shop.stock(b))["sources"]} == {first: 0, second: 3}
    await bus.publish(failed.model_copy(update={"message_id": "again-" + failed.message_id}))
    await settled()
    assert len(events.of("vendor_order.created", order_id)) == 2


async def test_a_missed_acknowledgement_deadline_cancels_and_reroutes(shop: Shop, events: Observer) -> None:
    slow, other = await shop.vendor(ack_deadline_hours=4), await shop.vendor()
    sku = await shop.catalog([{"vendor": slow, "priority": 1}, {"vendor": other, "priority": 2}])
    order_id = await shop.place([(sku, 2, "10.00")])
    [created] = await events.wait_for("vendor_order.created", order_id)
    vendor_order_id = created["data"]["vendor_order_id"]
    pool = shop.system.splitter.pool
    due = await pool.fetchval("SELECT ack_due_at - created_at FROM vendor_orders WHERE id = $1", vendor_order_id)
    assert abs(due.total_seconds() - 4 * 3600) < 5

    await pool.execute(
        "UPDATE vendor_orders SET ack_due_at = now() - interval '1 minute' WHERE id = $1", vendor_order_id
    )
    await pool.execute("NOTIFY splitter_overdue")
    [cancelled] = await events.wait_for("vendor_order.cancelled", order_id, timeout=35)
    assert cancelled["data"]["vendor"] == slow and cancelled["data"]["vendor_order_id"] == vendor_order_id
    assert "did not acknowledge" in cancelled["data"]["reason"] and "within 4 h" in cancelled["data"]["reason"]
    rerouted = await events.wait_match(
        lambda m: (
            m["type"] == "vendor_order.created" and m["correlation_id"] == order_id and m["data"]["vendor"] == other
        )
    )
    assert rerouted["data"]["lines"][0]["quantity"] == 2
    view = await shop.routing(order_id, until=lambda v: len(v["vendor_orders"]) == 2)
    assert view["tried"] == {"L1": [slow]}
    assert any(e["kind"] == "ack_overdue" for e in view["history"])


async def test_a_line_every_vendor_rejected_is_released_by_a_person_to_a_vendor_of_their_choice(
    shop: Shop, bus: Bus, events: Observer
) -> None:
    order_id, first, second, created = await _two_line_order(shop, events)
    await bus.publish(_ack(created, [("L1", "rejected", 1)]))
    at_second = await events.wait_match(
        lambda m: (
            m["type"] == "vendor_order.created" and m["correlation_id"] == order_id and m["data"]["vendor"] == second
        )
    )
    assert at_second["data"]["lines"][0]["quantity"] == 1
    # The first vendor answers again: now both units are rejected; only the second unit moves.
    await bus.publish(_ack(created, [("L1", "rejected", 2)]))
    await events.wait_for("vendor_order.lines_cancelled", order_id, count=2)
    view = await shop.routing(order_id, until=lambda v: len(v["vendor_orders"]) == 3)
    numbers = sorted(vo["vendor_order_number"] for vo in view["vendor_orders"])
    assert numbers == ["1001-1", "1001-2", "1001-3"]
    assert sum(vo["lines"][0]["quantity"] for vo in view["vendor_orders"] if vo["vendor"] == second) == 2

    # The second vendor rejects its first vendor order too: nobody is left for that unit.
    await bus.publish(_ack(at_second, [("L1", "rejected", 1)]))
    [held] = await events.wait_for("order.held", order_id)
    [reason] = held["data"]["reasons"]
    assert (reason["code"], reason["line_id"]) == ("vendor_rejected", "L1")
    view = await shop.routing(order_id, until=lambda v: bool(v["holds"]))
    assert view["tried"] == {"L1": [first, second]}
    assert view["holds"][0]["quantity"] == 1

    released = await shop.api.ok("POST", "splitter", f"/v1/orders/{order_id}/release", {"overrides": {"L1": first}})
    assert (released["released"], released["vendor_orders"]) == (True, 1)
    [by_person] = await events.wait_for("order.released", order_id)
    assert by_person["data"]["by"] == "person"
    last = await events.wait_match(
        lambda m: (
            m["type"] == "vendor_order.created"
            and m["correlation_id"] == order_id
            and m["data"]["vendor_order_number"] == "1001-4"
        )
    )
    assert (last["data"]["vendor"], last["data"]["lines"][0]["quantity"]) == (first, 1)
    assert (await shop.routing(order_id))["holds"] == []


async def test_units_still_open_after_a_partial_rejection_stay_reserved(shop: Shop, bus: Bus, events: Observer) -> None:
    first, second = await shop.vendor(), await shop.vendor()
    sources = [{"vendor": first, "priority": 1, "stock": 10}, {"vendor": second, "priority": 2, "stock": 10}]
    three, two = await shop.catalog(sources), await shop.catalog(sources)
    order_id = await shop.place([(three, 3, "10.00"), (two, 2, "10.00")])
    [created] = await events.wait_for("vendor_order.created", order_id)
    ack = _ack(created, [("L1", "rejected", 1), ("L2", "rejected", 1)])
    await bus.publish(ack)
    await events.wait_for("vendor_order.created", order_id, count=2)
    await wait_until(lambda: bus.applied(ack))
    # first still ships what it did not reject (1 rejected unit of each line, withdrawn and rerouted);
    # second ships the rejected ones.
    for sku, kept in ((three, 2), (two, 1)):
        stock = {s["vendor"]: s for s in (await shop.stock(sku))["sources"]}
        assert (stock[first]["reserved"], stock[first]["available"]) == (kept, 10 - kept), sku
        assert (stock[second]["reserved"], stock[second]["available"]) == (1, 9), sku
