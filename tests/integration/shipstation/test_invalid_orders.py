"""One order ShipStation's schema cannot take must not fail the whole import: it is left out of the
page, logged, counted in /metrics and listed for ops; the rest of the page still goes out (and the
stand-in validates that page against both schemas)."""

from __future__ import annotations

import structlog

from tests.conftest import RunningSystem
from tests.integration.shipstation.support import (
    channel_order,
    metric,
    new_merchant,
    post_order,
    received_by_adapter,
    standin,
    vendor_order_of,
)


async def test_an_order_that_cannot_be_valid_is_left_out_and_reported(system: RunningSystem) -> None:
    merchant = await new_merchant(system, settings={"page_size": 2})
    vendor = merchant.vendor
    placed = []
    # The middle one costs more than the schema's 7 digits and 2 decimals can carry.
    for price in ("12.00", "12345678.00", "15.00"):
        order = await post_order(system, merchant, channel_order(merchant, lines__0__unit_price=price))
        vendor_order_id = str((await vendor_order_of(system, order["id"]))["vendor_order_id"])
        await received_by_adapter(system, vendor_order_id)  # one after the other: export order is placing order
        placed.append(vendor_order_id)
    good, bad, other_good = placed
    shipstation = standin(system, merchant)
    rejected_before = await metric(system, "shipstation_orders_rejected_total", vendor=vendor)
    problems_before = await metric(system, "shipstation_problems_total", vendor=vendor, kind="invalid_order")

    with structlog.testing.capture_logs() as logs:
        walk = await shipstation.refresh()

    assert walk.pages == 2
    assert set(shipstation.orders) == {good, other_good}
    # The bad order shared page 1 with a good one, which still went out.
    assert [list(call.order_ids) for call in walk.calls] == [[good], [other_good]]
    [warning] = [line for line in logs if line["event"] == "order left out of export"]
    assert warning["log_level"] == "warning"
    assert warning["vendor_order_id"] == bad
    assert any("unit price 12345678.00" in problem for problem in warning["problems"])
    assert await metric(system, "shipstation_orders_rejected_total", vendor=vendor) == rejected_before + 1
    assert (
        await metric(system, "shipstation_problems_total", vendor=vendor, kind="invalid_order") == problems_before + 1
    )

    problems = await system.api.ok("GET", "shipstation", f"/v1/shipstation/{vendor}/problems")
    [problem] = problems["problems"]
    assert (problem["kind"], problem["vendor_order_id"], problem["occurrences"]) == ("invalid_order", bad, 1)
    assert "unit price 12345678.00 does not fit" in problem["detail"]

    # Every poll that meets it again counts again, in the same problem row.
    shipstation.last_refresh = None
    await shipstation.refresh()
    [problem] = (await system.api.ok("GET", "shipstation", f"/v1/shipstation/{vendor}/problems"))["problems"]
    assert problem["occurrences"] == 2
    assert await metric(system, "shipstation_orders_rejected_total", vendor=vendor) == rejected_before + 2
