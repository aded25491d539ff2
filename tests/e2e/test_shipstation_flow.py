"""ShipStation end to end: the four services as processes, driven by the ShipStation stand-in.

A channel order is split, ShipStation imports it (every page validated against both schemas), ships it
in two packages (one notice sent twice), and the channel's signed webhooks carry every shipment field.
Credentials are rotated. Then every log line every process wrote is read: no password, SS-Password,
webhook secret, API key or admin token appears in any of them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from tests.conftest import SuiteEnvironment
from tests.e2e.harness import ProcessSystem
from tests.shipstation_standin import ShippedItem, ShipStationStandIn
from tests.support import Api, ChannelReceiver, order_payload, unique, wait_until

CHICAGO = ZoneInfo("America/Chicago")
STATUS_NAMES = {"unpaid": "Unpaid", "paid": "Paid", "shipped": "Shipped", "cancelled": "Cancelled", "on_hold": "Hold"}


async def test_shipstation_flow_passes_every_shipment_field_upstream_and_logs_no_secret(
    process_api: Api, processes: ProcessSystem, test_env: SuiteEnvironment
) -> None:
    api = process_api
    receiver = await ChannelReceiver().start()
    wrong_password = "Not-The-Password-" + unique("")
    try:
        channel, vendor, mug, plate = unique("shop-"), unique("ss-"), unique("MUG-"), unique("PLATE-")
        created = await api.ok(
            "PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop", "webhook_url": receiver.url}
        )
        receiver.secret, channel_key = created["webhook_secret"], created["api_key"]
        await api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", {"name": "Warehouse", "kind": "shipstation"})
        settings = {"timezone": "America/Chicago", "status_names": STATUS_NAMES}
        await api.ok("PUT", "shipstation", f"/v1/shipstation/{vendor}/settings", settings)
        credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{vendor}/credentials")
        assert credentials["status_names"] == STATUS_NAMES
        for sku in (mug, plate):
            await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": vendor}]})
        store_url = f"{processes.urls['shipstation']}/shipstation/{vendor}"
        shipstation = ShipStationStandIn.connected(
            api.session, credentials, url=store_url, zone=CHICAGO, credentials_in_query=True
        )

        payload = order_payload(channel, [(mug, 2, "19.75"), (plate, 1, "9.50")], gift=True, gift_message="Enjoy!")
        status, order = await api.call("POST", "intake", "/v1/orders", payload, token=channel_key)
        assert status == 201, order

        async def imported() -> str | None:
            await shipstation.refresh()
            found = shipstation.by_number(f"{payload['order_number']}-1")
            return found.order_id if found else None

        vendor_order_id = await wait_until(imported)
        assert shipstation.orders[vendor_order_id].status == "awaiting_shipment"
        assert shipstation.orders[vendor_order_id].element.findtext("OrderStatus") == "Paid"

        label_created = datetime(2026, 11, 27, 20, 5, tzinfo=UTC)
        await shipstation.ship(
            vendor_order_id,
            items=[ShippedItem(mug, 1, "L1")],
            carrier="UPS",
            service="UPS® Ground",
            tracking_number="1ZPART0001",
            ship_date=date(2026, 11, 27),
            label_created_at=label_created,
            shipping_cost=Decimal("7.42"),
            notes_to_customer="Second box follows",
            notify_customer=True,
            times=2,
        )
        # ShipStation with an outdated password, in the query as it appends it.
        outdated = {"action": "export", "SS-UserName": credentials["username"], "SS-Password": wrong_password}
        async with api.session.get(f"{store_url}?{urlencode(outdated)}") as response:
            assert response.status == 401
        await shipstation.ship(
            vendor_order_id, items=None, tracking_number="1ZREST0002", label_created_at=label_created
        )

        partial = await wait_until(lambda: _nth(receiver, 0))
        complete = await wait_until(lambda: _nth(receiver, 1))
        assert receiver.verify(partial) and receiver.verify(complete)
        assert partial.json["status"] == "partially_shipped"
        shipment = partial.json["shipment"]
        assert {key: value for key, value in shipment.items() if key != "shipment_id"} == {
            "vendor": vendor,
            "carrier": "UPS",
            "service": "UPS® Ground",
            "tracking_number": "1ZPART0001",
            "ship_date": "2026-11-27",
            "label_created_at": "2026-11-27T20:05:00Z",
            "shipping_cost": "7.42",
            "notes_to_buyer": "Second box follows",
            "notify_customer": True,
            "lines": [{"line_id": "L1", "sku": mug, "quantity": 1}],
        }
        assert complete.json["status"] == "shipped"
        assert complete.json["shipment"]["tracking_number"] == "1ZREST0002"
        assert complete.json["shipment"]["lines"] == [
            {"line_id": "L1", "sku": mug, "quantity": 1},
            {"line_id": "L2", "sku": plate, "quantity": 1},
        ]
        assert len(receiver.deliveries) == 2  # the duplicate notice changed nothing

        async def shows_shipped() -> bool:
            await shipstation.refresh()
            return shipstation.orders[vendor_order_id].status == "shipped"

        await wait_until(shows_shipped)

        rotated = await api.ok("POST", "shipstation", f"/v1/shipstation/{vendor}/credentials")
        status, _ = await shipstation.export_page("01/01/2026 00:00", "01/02/2026 00:00", 1)
        assert status == 401
        renewed = ShipStationStandIn.connected(api.session, rotated, url=store_url, zone=CHICAGO)
        assert (await renewed.export_page("01/01/2026 00:00", "01/02/2026 00:00", 1))[0] == 200
    finally:
        await receiver.stop()

    logs = processes.all_logs()
    secrets = {
        "ShipStation password": credentials["password"],
        "rotated ShipStation password": rotated["password"],
        "a wrong SS-Password": wrong_password,
        "webhook secret": receiver.secret,
        "webhook key": receiver.secret.removeprefix("whsec_"),
        "channel API key": channel_key,
        "admin token": test_env.admin_token,
    }
    assert [name for name, secret in secrets.items() if secret in logs] == []
    calls = [
        line for line in _json_lines(logs) if line.get("event") == "shipstation call" and line.get("vendor") == vendor
    ]
    assert {call["query"]["action"] for call in calls} == {"export", "shipnotify"}
    assert all(
        set(call["query"])
        <= {"action", "start_date", "end_date", "page", "order_number", "carrier", "service", "tracking_number"}
        for call in calls
    )
    assert any(call["status"] == 401 for call in calls)


async def _nth(receiver: ChannelReceiver, index: int) -> Any:
    return receiver.deliveries[index] if len(receiver.deliveries) > index else None


def _json_lines(logs: str) -> list[dict[str, Any]]:
    lines = []
    for text in logs.splitlines():
        if text.startswith("{"):
            lines.append(json.loads(text))
    return lines
