"""Ops visibility: every export and shipnotify call is in the poll log (time, window, page, orders
returned, duration, outcome, no secrets), and /metrics counts polls, exported orders, notices,
rejects and problems."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.conftest import RunningSystem
from tests.integration.shipstation.support import (
    channel_order,
    metric,
    new_merchant,
    post_order,
    standin,
    vendor_order_of,
)
from tests.support import wait_until


async def test_every_call_is_in_the_poll_log_and_counted(system: RunningSystem) -> None:
    merchant = await new_merchant(system, settings={"page_size": 1, "timezone": "Europe/Berlin"})
    vendor = merchant.vendor
    shipstation = standin(system, merchant, zone=ZoneInfo("Europe/Berlin"), credentials_in_query=True)
    for _ in range(2):
        order = await post_order(system, merchant, channel_order(merchant))
        await vendor_order_of(system, order["id"])

    async def both_imported() -> bool:
        await shipstation.refresh()
        return len(shipstation.orders) == 2

    await wait_until(both_imported)
    shipped = next(iter(shipstation.orders))
    await shipstation.ship(shipped, tracking_number="OPS-1", times=2)
    await shipstation.post_notice(b"<ShipNotice><OrderNumber>", {"order_number": "x"})
    await shipstation.post_notice(b"<ShipNotice><OrderNumber>nobody</OrderNumber></ShipNotice>", {})

    polls = (await system.api.ok("GET", "shipstation", f"/v1/shipstation/{vendor}/polls"))["polls"]
    exports = [poll for poll in polls if poll["action"] == "export"]
    notices = [poll for poll in polls if poll["action"] == "shipnotify"]
    assert all(poll["outcome"] == "ok" for poll in exports)
    last_walk = exports[:2]  # newest first: page 2, then page 1 of the last refresh
    assert [(poll["page"], poll["orders_returned"]) for poll in last_walk] == [(2, 1), (1, 1)]
    for poll in exports:
        assert datetime.fromisoformat(poll["at"]) and datetime.fromisoformat(poll["window_start"])
        assert datetime.fromisoformat(poll["window_start"]) < datetime.fromisoformat(poll["window_end"])
        assert float(poll["duration_ms"]) >= 0
        assert "read in Europe/Berlin" in poll["detail"]
    assert [poll["outcome"] for poll in notices] == ["unknown_order", "refused", "duplicate", "accepted"]
    assert "tracking OPS-1" in notices[-1]["detail"]
    assert merchant.credentials["password"] not in str(polls)
    assert merchant.credentials["username"] not in str(polls)

    counted = {
        "export polls": await metric(system, "shipstation_polls_total", vendor=vendor, action="export", outcome="ok"),
        "orders exported": await metric(system, "shipstation_orders_exported_total", vendor=vendor),
        "accepted notice polls": await metric(
            system, "shipstation_polls_total", vendor=vendor, action="shipnotify", outcome="accepted"
        ),
        "notices accepted": await metric(system, "shipstation_notices_total", vendor=vendor, outcome="accepted"),
        "notices duplicate": await metric(system, "shipstation_notices_total", vendor=vendor, outcome="duplicate"),
        "notices refused": await metric(system, "shipstation_notices_total", vendor=vendor, outcome="refused"),
        "notices unknown": await metric(system, "shipstation_notices_total", vendor=vendor, outcome="unknown_order"),
        "problems unknown": await metric(system, "shipstation_problems_total", vendor=vendor, kind="unknown_order"),
    }
    assert counted == {
        "export polls": len(exports),
        "orders exported": sum(poll["orders_returned"] for poll in exports),
        "accepted notice polls": 1,
        "notices accepted": 1,
        "notices duplicate": 1,
        "notices refused": 1,
        "notices unknown": 1,
        "problems unknown": 1,
    }
