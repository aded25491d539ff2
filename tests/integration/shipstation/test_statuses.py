"""Status names per vendor: the credentials answer prints them, the export emits them for every state
a vendor order can be in, and ShipStation (the stand-in) imports exactly the orders whose status one of
its five boxes lists, comma-separated and case-sensitive, ignoring the rest."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunningSystem
from tests.integration.shipstation.support import (
    Merchant,
    channel_order,
    deliver_vendor_orders,
    new_merchant,
    post_order,
    standin,
    vendor_order_data,
    vendor_order_of,
)
from tests.shipstation_standin import ShippedItem, ShipStationStandIn, StatusBoxes
from tests.support import unique, wait_until

CUSTOM_NAMES = {
    "unpaid": "Awaiting Payment",
    "paid": "Ready to Ship",
    "shipped": "Sent",
    "cancelled": "Void",
    "on_hold": "Held",
}


async def place(system: RunningSystem, merchant: Merchant, **fields: Any) -> str:
    """Post a channel order; answer its vendor order id once the adapter can export it."""
    order = await post_order(system, merchant, channel_order(merchant, **fields))
    return str((await vendor_order_of(system, order["id"]))["vendor_order_id"])


async def refresh_until(shipstation: ShipStationStandIn, condition: Any) -> None:
    async def refreshed() -> bool:
        await shipstation.refresh()
        return bool(condition())

    await wait_until(refreshed)


async def test_custom_names_reach_shipstation_for_every_state(system: RunningSystem) -> None:
    merchant = await new_merchant(system, settings={"status_names": CUSTOM_NAMES})
    assert merchant.credentials["status_names"] == CUSTOM_NAMES  # what the merchant pastes
    shipstation = standin(system, merchant)
    # The splitter holds unpaid and on-hold channel orders back by default; a merchant whose rules let
    # them through sends the adapter vendor orders in those states.
    unpaid_order = vendor_order_data(merchant, unique("U") + "-1", status="unpaid")
    held_order = vendor_order_data(merchant, unique("H") + "-1", status="on_hold")
    await deliver_vendor_orders(system, [unpaid_order, held_order])
    unpaid, held = unpaid_order.vendor_order_id, held_order.vendor_order_id
    to_ship = await place(system, merchant)
    partly = await place(system, merchant, lines__0__quantity=2)
    paid_order = await post_order(system, merchant, channel_order(merchant))
    to_cancel = str((await vendor_order_of(system, paid_order["id"]))["vendor_order_id"])
    everything = {unpaid, held, to_ship, partly, to_cancel}
    await refresh_until(shipstation, lambda: everything <= set(shipstation.orders))

    await shipstation.ship(to_ship, tracking_number="T-FULL")
    await shipstation.ship(partly, items=[ShippedItem(sku=merchant.sku, quantity=1, line_item_id="L1")])
    await system.api.ok("POST", "intake", f"/v1/orders/{paid_order['id']}/cancel", token=merchant.api_key)
    await refresh_until(
        shipstation,
        lambda: shipstation.orders[to_ship].status == "shipped" and shipstation.orders[to_cancel].status == "cancelled",
    )

    shown = {order_id: shipstation.orders[order_id] for order_id in everything}
    assert {order_id: order.element.findtext("OrderStatus") for order_id, order in shown.items()} == {
        unpaid: "Awaiting Payment",
        held: "Held",
        to_ship: "Sent",
        partly: "Ready to Ship",  # partially shipped: ShipStation still has an item to ship
        to_cancel: "Void",
    }
    assert {order_id: order.status for order_id, order in shown.items()} == {
        unpaid: "awaiting_payment",
        held: "on_hold",
        to_ship: "shipped",
        partly: "awaiting_shipment",
        to_cancel: "cancelled",
    }
    assert shipstation.ignored == {}


@pytest.mark.parametrize(
    ("boxes", "imported"),
    [
        pytest.param(StatusBoxes(), False, id="defaults-not-replaced"),
        pytest.param(StatusBoxes(awaiting_shipment="ready to ship"), False, id="case-differs"),
        pytest.param(StatusBoxes(awaiting_shipment="paid, Ready to Ship"), True, id="one-of-several"),
        pytest.param(StatusBoxes(awaiting_shipment="Ready to Ship"), True, id="exact"),
    ],
)
async def test_shipstation_ignores_statuses_no_box_lists(
    system: RunningSystem, boxes: StatusBoxes, imported: bool
) -> None:
    merchant = await new_merchant(system, settings={"status_names": CUSTOM_NAMES})
    shipstation = standin(system, merchant, statuses=boxes)
    vendor_order_id = await place(system, merchant)

    await refresh_until(shipstation, lambda: vendor_order_id in {*shipstation.orders, *shipstation.ignored})

    assert (vendor_order_id in shipstation.orders) is imported
    if not imported:
        assert shipstation.ignored[vendor_order_id] == "Ready to Ship"


async def test_a_status_change_no_box_lists_leaves_the_order_as_it_was(system: RunningSystem) -> None:
    merchant = await new_merchant(system, settings={"status_names": CUSTOM_NAMES})
    # The merchant pasted every name but the cancelled one.
    shipstation = standin(system, merchant, statuses=StatusBoxes.from_status_names({**CUSTOM_NAMES, "cancelled": "x"}))
    order = await post_order(system, merchant, channel_order(merchant))
    vendor_order_id = str((await vendor_order_of(system, order["id"]))["vendor_order_id"])
    await refresh_until(shipstation, lambda: vendor_order_id in shipstation.orders)

    await system.api.ok("POST", "intake", f"/v1/orders/{order['id']}/cancel", token=merchant.api_key)
    await refresh_until(shipstation, lambda: vendor_order_id in shipstation.ignored)

    assert shipstation.ignored[vendor_order_id] == "Void"
    assert shipstation.orders[vendor_order_id].status == "awaiting_shipment"


@pytest.mark.parametrize(
    ("names", "problem"),
    [
        pytest.param({"paid": "Open", "unpaid": "Open"}, "could not tell them apart", id="shared"),
        pytest.param({"paid": "unpaid"}, "could not tell them apart", id="shared-with-a-default"),
        pytest.param({"paid": "Paid, Open"}, "String should match pattern", id="comma"),
        pytest.param({"paid": "   "}, "at least 1 character", id="blank"),
        pytest.param({"paid": "Pa\u0007id"}, "String should match pattern", id="control-character"),
        pytest.param({"paid": "x" * 51}, "at most 50 characters", id="too-long"),
    ],
)
async def test_unusable_status_names_are_refused(system: RunningSystem, names: dict[str, str], problem: str) -> None:
    merchant = await new_merchant(system)
    status, body = await system.api.call(
        "PUT", "shipstation", f"/v1/shipstation/{merchant.vendor}/settings", {"status_names": names}
    )

    assert status == 422, body
    assert any(problem in message for message in body["fields"].values()), body


async def test_names_are_merged_with_the_earlier_ones(system: RunningSystem) -> None:
    merchant = await new_merchant(system, settings={"status_names": {"paid": "Ready"}})
    path = f"/v1/shipstation/{merchant.vendor}/settings"

    status, body = await system.api.call("PUT", "shipstation", path, {"status_names": {"unpaid": "Ready"}})
    assert status == 422, body  # "Ready" is already the paid name

    updated = await system.api.ok("PUT", "shipstation", path, {"status_names": {"shipped": "Gone"}})
    assert updated["status_names"] == {
        "unpaid": "unpaid",
        "paid": "Ready",
        "shipped": "Gone",
        "cancelled": "cancelled",
        "on_hold": "on_hold",
    }
