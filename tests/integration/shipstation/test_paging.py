"""Paging: ShipStation walks ``page=1..pages`` with the same window; every order of the window comes
out exactly once, even while orders arrive and earlier ones change between page requests.

Page 1 freezes the window's order ids in ``(last_modified, id)`` order; later pages read their slice
of that list, with each order as it is now. A live ``OFFSET`` would skip an order whenever one on an
earlier page is modified mid-walk (it moves to the end and everything behind it slides forward by one).
Orders that arrive or change during the walk are not lost either: they are modified after the
refresh's ``end_date`` minute began, where ShipStation's next window starts.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlencode

import pytest

from shared.contracts.vendor_orders import VendorOrderCreatedData
from tests.conftest import RunningSystem
from tests.integration.shipstation.support import (
    cancel_vendor_order,
    deliver_vendor_orders,
    new_merchant,
    standin,
    vendor_order_data,
)
from tests.shipstation_standin import assert_valid_export
from tests.support import basic_auth

WINDOW = 10_000


async def test_ten_thousand_orders_come_out_once_each_while_orders_arrive_and_change(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    orders = [vendor_order_data(merchant, f"P{index:05d}-1") for index in range(WINDOW)]
    for start in range(0, WINDOW, 1000):  # several transactions: several last_modified values
        await deliver_vendor_orders(system, orders[start : start + 1000])
    shipstation = standin(system, merchant)
    arrived: list[VendorOrderCreatedData] = []
    cancelled = [orders[0], orders[150]]  # on page 1 (already fetched) and page 2 (also fetched by then)

    async def meanwhile(page: int) -> None:
        new_order = vendor_order_data(merchant, f"NEW{page:03d}-1")
        await deliver_vendor_orders(system, [new_order])
        arrived.append(new_order)
        if page == 2:
            for order in cancelled:
                await cancel_vendor_order(system, order)

    shipstation.between_pages = meanwhile
    walk = await shipstation.refresh()

    assert walk.pages == 100  # page_size 100 by default
    assert [call.page for call in walk.calls] == list(range(1, 101))
    assert {call.pages for call in walk.calls} == {100}
    assert all(len(call.order_ids) == 100 for call in walk.calls)
    repeated = [order_id for order_id, count in Counter(walk.order_ids).items() if count > 1]
    assert repeated == []
    assert set(walk.order_ids) == {order.vendor_order_id for order in orders}

    # The next refresh brings what happened during the walk.
    shipstation.between_pages = None
    await shipstation.refresh()
    assert {order.vendor_order_id for order in arrived} <= set(shipstation.orders)
    assert {shipstation.orders[order.vendor_order_id].status for order in cancelled} == {"cancelled"}


async def test_an_order_changed_mid_walk_is_shown_as_it_is_now_where_it_was(system: RunningSystem) -> None:
    merchant = await new_merchant(system, settings={"page_size": 2})
    orders = [vendor_order_data(merchant, f"Q{index}-1") for index in range(5)]
    for order in orders:  # one transaction each: distinct last_modified, export order = this order
        await deliver_vendor_orders(system, [order])
    shipstation = standin(system, merchant)

    async def meanwhile(page: int) -> None:
        if page == 1:
            await cancel_vendor_order(system, orders[3])  # not fetched yet: on page 2

    shipstation.between_pages = meanwhile
    walk = await shipstation.refresh()

    assert [list(call.order_ids) for call in walk.calls] == [
        [orders[0].vendor_order_id, orders[1].vendor_order_id],
        [orders[2].vendor_order_id, orders[3].vendor_order_id],
        [orders[4].vendor_order_id],
    ]
    assert shipstation.orders[orders[3].vendor_order_id].status == "cancelled"


async def test_page_size_setting_and_pages_on_the_root(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    settings = await system.api.ok("GET", "shipstation", f"/v1/shipstation/{merchant.vendor}/settings")
    assert settings["page_size"] == 100
    await system.api.ok("PUT", "shipstation", f"/v1/shipstation/{merchant.vendor}/settings", {"page_size": 7})
    await deliver_vendor_orders(system, [vendor_order_data(merchant, f"R{index}-1") for index in range(20)])
    shipstation = standin(system, merchant)

    walk = await shipstation.refresh()

    assert walk.pages == 3
    assert [len(call.order_ids) for call in walk.calls] == [7, 7, 6]
    assert len(set(walk.order_ids)) == 20


async def test_an_empty_window_has_no_pages_and_a_page_past_the_end_is_empty(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    shipstation = standin(system, merchant)

    empty = await shipstation.refresh()
    assert (empty.pages, empty.order_ids) == (0, [])

    await deliver_vendor_orders(system, [vendor_order_data(merchant, "S1-1")])
    status, body = await shipstation.export_page("01/01/2020 00:00", "12/31/2099 23:59", 5)
    assert status == 200
    root = assert_valid_export(body)
    assert (root.get("pages"), len(root)) == ("1", 0)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"page": "0"}, id="page-zero"),
        pytest.param({"page": "\u00b2"}, id="superscript-two"),
        pytest.param({"page": "9" * 5000}, id="huge-page"),
        pytest.param({"page": "two"}, id="word"),
        pytest.param({"start_date": "2026-11-26 10:00"}, id="iso-date"),
        pytest.param({"end_date": "13/01/2026 10:00"}, id="month-13"),
        pytest.param({"start_date": "12/31/2099 23:59", "end_date": "01/01/2020 00:00"}, id="start-after-end"),
    ],
)
async def test_unusable_export_parameters_are_refused_with_the_reason(
    system: RunningSystem, query: dict[str, str]
) -> None:
    merchant = await new_merchant(system)
    credentials = merchant.credentials
    params = {"action": "export", "start_date": "01/01/2020 00:00", "end_date": "01/02/2020 00:00", **query}
    async with system.api.session.get(
        f"{merchant.store_url}?{urlencode(params)}",
        headers=basic_auth(credentials["username"], credentials["password"]),
    ) as response:
        assert response.status == 400
        assert (await response.text()).startswith("Bad request: ")


async def test_one_digit_month_and_day_and_any_case_action_are_accepted(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    await deliver_vendor_orders(system, [vendor_order_data(merchant, "T1-1")])
    credentials = merchant.credentials
    params = {"action": "EXPORT", "start_date": "1/2/2020 0:00", "end_date": "12/31/2099 23:59"}
    async with system.api.session.get(
        f"{merchant.store_url}?{urlencode(params)}",
        headers=basic_auth(credentials["username"], credentials["password"]),
    ) as response:
        assert response.status == 200
        root = assert_valid_export(await response.read())
    assert [order.findtext("OrderNumber") for order in root] == ["T1-1"]
