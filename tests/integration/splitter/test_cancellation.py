"""Cancellation through intake and the real splitter: a vendor order where nothing shipped is
cancelled, a partly shipped one has its unshipped lines withdrawn, a fully shipped one is told
nothing; a shipment reported after the cancellation still counts and the routing view says so."""

from __future__ import annotations

from functools import partial

from tests.integration.splitter.conftest import Bus, Observer, Shop, settled, shipment_of
from tests.support import wait_until


async def test_cancel_cancels_what_has_not_shipped_and_counts_a_lateshipment_of(
    shop: Shop, bus: Bus, events: Observer
) -> None:
    untouched, partly, fully = await shop.vendor(), await shop.vendor(), await shop.vendor()
    sku_untouched = await shop.catalog([{"vendor": untouched}])
    sku_partly_a = await shop.catalog([{"vendor": partly}])
    sku_partly_b = await shop.catalog([{"vendor": partly}])
    sku_fully = await shop.catalog([{"vendor": fully}])
    order_id = await shop.place(
        [(sku_untouched, 1, "5.00"), (sku_partly_a, 3, "5.00"), (sku_partly_b, 1, "5.00"), (sku_fully, 2, "5.00")]
    )
    created = {m["data"]["vendor"]: m for m in await events.wait_for("vendor_order.created", order_id, count=3)}
    assert set(created) == {untouched, partly, fully}

    # partly ships 1 of L2's 3 units; fully ships everything.
    for shipment in (shipment_of(created[partly], [("L2", 1)]), shipment_of(created[fully], [("L4", 2)])):
        await bus.publish(shipment)
        await wait_until(partial(bus.applied, shipment))

    await shop.cancel(order_id)
    [cancelled] = await events.wait_for("vendor_order.cancelled", order_id)
    assert cancelled["data"]["vendor"] == untouched
    assert cancelled["data"]["vendor_order_id"] == created[untouched]["data"]["vendor_order_id"]
    [withdrawn] = await events.wait_for("vendor_order.lines_cancelled", order_id)
    assert withdrawn["data"]["vendor"] == partly
    assert withdrawn["data"]["lines"] == [{"line_id": "L2", "quantity": 2}, {"line_id": "L3", "quantity": 1}]
    await settled()
    assert [m["data"]["vendor"] for m in events.of("vendor_order.cancelled", order_id)] == [untouched]
    assert len(events.of("vendor_order.lines_cancelled", order_id)) == 1

    view = await shop.routing(order_id, until=lambda v: v["state"] == "cancelled")
    by_vendor = {vo["vendor"]: vo for vo in view["vendor_orders"]}
    assert by_vendor[untouched]["status"] == "cancelled"
    assert {line["line_id"]: line["withdrawn"] for line in by_vendor[partly]["lines"]} == {"L2": 2, "L3": 1}
    assert by_vendor[fully]["status"] == "shipped"
    assert any(e["kind"] == "cancel_not_sent" and e["vendor"] == fully for e in view["history"])
    # Nothing cancelled is reserved any more.
    for sku in (sku_untouched, sku_partly_a, sku_partly_b):
        assert [s["reserved"] for s in (await shop.stock(sku))["sources"]] == [0]

    # The untouched vendor ships anyway: the shipment is recorded, and the view says it came after the cancel.
    late = shipment_of(created[untouched], [("L1", 1)])
    await bus.publish(late)
    await wait_until(lambda: bus.applied(late))
    view = await shop.routing(order_id)
    late_order = next(vo for vo in view["vendor_orders"] if vo["vendor"] == untouched)
    assert late_order["shipped_after_cancel"] is True
    assert late_order["lines"][0]["shipped"] == 1
    assert any(e["kind"] == "shipped_after_cancel" and e["vendor"] == untouched for e in view["history"])
    assert not next(vo for vo in view["vendor_orders"] if vo["vendor"] == partly)["shipped_after_cancel"]
