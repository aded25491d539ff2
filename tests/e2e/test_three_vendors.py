"""One order for three vendors of three kinds, with every service (the gateway too) as its own process:
a ShipStation warehouse, a webhook distributor and a CSV-over-SFTP supplier. Each vendor receives only
its own line in its own format, each ships in its own way, and the channel hears of every shipment
exactly once and of ``shipped`` at the end.

The vendors' side is real servers in the test process: a webhook receiver that checks Standard Webhooks
signatures with the ``standardwebhooks`` library, and asyncssh's SFTP server with a chroot per login.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from lxml import etree

from tests.e2e.harness import ProcessSystem
from tests.gateway_servers import SftpServer, WebhookReceiver
from tests.support import Api, ChannelReceiver, basic_auth, order_payload, unique, wait_until

WEBHOOK_SECRET = "whsec_" + "dGhyZWUtdmVuZG9ycy10ZXN0LXNlY3JldC1rZXkhIQ=="
SFTP_PASSWORD = "supplier-password-1"
SETTLE_SECONDS = 3.0
"""After the last shipment: time for any duplicate delivery or webhook to show up (none may)."""


def visible_files(folder: Path) -> list[Path]:
    """The files a vendor would see in ``folder``: no hidden upload in progress, no sub-folders."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def drop_file(folder: Path, name: str, text: str) -> None:
    """Put a file into the vendor's folder in one step, as a vendor's upload-then-rename does."""
    partial = folder / f".{name}.part"
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, folder / name)


def shipment_deliveries(receiver: ChannelReceiver) -> Iterator[dict[str, Any]]:
    for delivery in receiver.deliveries:
        body = delivery.json
        if body.get("shipment"):
            yield body


async def export(api: Api, url: str, auth: dict[str, str]) -> etree._Element:
    query = urlencode({"action": "export", "start_date": "01/01/2026 00:00", "end_date": "12/31/2099 23:59"})
    async with api.session.get(f"{url}?{query}", headers=auth) as response:
        assert response.status == 200, await response.text()
        return etree.fromstring(await response.read())


async def test_one_order_split_to_shipstation_webhook_and_sftp_vendors_ships_in_full(
    process_api: Api, processes: ProcessSystem, tmp_path: Path
) -> None:
    api = process_api
    channel_receiver = await ChannelReceiver().start()
    webhook_receiver = WebhookReceiver(WEBHOOK_SECRET)
    await webhook_receiver.start()
    sftp = SftpServer(tmp_path / "sftp")
    await sftp.start()
    try:
        # The channel, the three vendors and what each of them ships.
        channel, east, west, north = unique("shop-"), unique("east-"), unique("west-"), unique("north-")
        created = await api.ok(
            "PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop", "webhook_url": channel_receiver.url}
        )
        channel_receiver.secret, channel_key = created["webhook_secret"], created["api_key"]
        await api.ok("PUT", "splitter", f"/v1/vendors/{east}", {"name": "East warehouse", "kind": "shipstation"})
        await api.ok("PUT", "splitter", f"/v1/vendors/{west}", {"name": "West distributor", "kind": "webhook"})
        await api.ok("PUT", "splitter", f"/v1/vendors/{north}", {"name": "North supplier", "kind": "csv_sftp"})
        tshirt, mug, poster = unique("TS-"), unique("MUG-"), unique("POSTER-")
        poster_vendor_sku = f"N-{poster}"
        catalog = {
            tshirt: {"vendor": east, "priority": 1},
            mug: {"vendor": west, "vendor_sku": f"W-{mug}", "stock": 20, "cost": "3.10"},
            poster: {"vendor": north, "vendor_sku": poster_vendor_sku, "stock": 20, "cost": "1.25"},
        }
        for sku, source in catalog.items():
            await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"name": f"Product {sku}", "sources": [source]})

        # How each vendor is reached: ShipStation's Custom Store, a signed webhook, an SFTP folder.
        credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{east}/credentials")
        store_url = processes.urls["shipstation"] + f"/shipstation/{east}"
        store_auth = basic_auth(credentials["username"], credentials["password"])
        west_connection = await api.ok(
            "PUT",
            "gateway",
            f"/v1/connections/{west}",
            {
                "transport": "webhook",
                "format": "json",
                "webhook": {"url": webhook_receiver.url, "secret": WEBHOOK_SECRET},
            },
        )
        west_key = west_connection["api_key"]
        chroot = sftp.add_user("north", password=SFTP_PASSWORD)
        (chroot / "orders").mkdir()
        (chroot / "tracking").mkdir()
        north_sftp = sftp.settings(
            "north",
            password=SFTP_PASSWORD,
            outbound_dir="/orders",
            inbound={"shipments": "/tracking"},
            poll_seconds=1,
        )
        await api.ok(
            "PUT",
            "gateway",
            f"/v1/connections/{north}",
            {"transport": "sftp", "format": "csv", "sftp": north_sftp.model_dump(mode="json", exclude_none=True)},
        )

        # One order, a line for each vendor, split three ways.
        payload = order_payload(channel, [(tshirt, 2, "19.75"), (mug, 1, "9.50"), (poster, 3, "4.00")])
        status, order = await api.call("POST", "intake", "/v1/orders", payload, token=channel_key)
        assert status == 201, order
        order_id = order["id"]

        async def split_three_ways() -> dict[str, dict[str, Any]] | None:
            status, routing = await api.call("GET", "splitter", f"/v1/orders/{order_id}/routing")
            if status != 200 or len(routing["vendor_orders"]) < 3:
                return None
            return {v["vendor"]: v for v in routing["vendor_orders"]}

        vendor_orders = await wait_until(split_three_ways, timeout=30)
        assert set(vendor_orders) == {east, west, north}
        assert {vendor: [line["sku"] for line in v["lines"]] for vendor, v in vendor_orders.items()} == {
            east: [tshirt],
            west: [mug],
            north: [poster],
        }

        # ShipStation's export shows the east vendor order with the T-shirt only.
        east_number = vendor_orders[east]["vendor_order_number"]

        async def east_in_export() -> etree._Element | None:
            for element in (await export(api, store_url, store_auth)).iter("Order"):
                if element.findtext("OrderNumber") == east_number:
                    return element
            return None

        east_xml = await wait_until(east_in_export, timeout=30)
        products = [item for item in east_xml.iter("Item") if item.findtext("Adjustment") != "true"]
        assert [(item.findtext("SKU"), item.findtext("Quantity")) for item in products] == [(tshirt, "2")]

        # The webhook vendor receives the mug only, signed.
        arrived = await webhook_receiver.wait_for(1, timeout=30)
        assert arrived[0].verified, arrived[0].headers
        west_body = json.loads(arrived[0].body)
        assert west_body["type"] == "vendor_order.created"
        assert west_body["data"]["vendor_order_id"] == vendor_orders[west]["vendor_order_id"]
        assert [(line["sku"], line["vendor_sku"], line["quantity"]) for line in west_body["data"]["lines"]] == [
            (mug, f"W-{mug}", 1)
        ]

        # The SFTP vendor finds <number>.csv in /orders with the poster only, under its own SKU.
        north_number = vendor_orders[north]["vendor_order_number"]
        order_file = chroot / "orders" / f"{north_number}.csv"
        await wait_until(lambda: _exists(order_file), timeout=30)
        rows = csv_rows(order_file.read_bytes())
        assert [(row["PO Number"], row["SKU"], row["Qty"]) for row in rows] == [(north_number, poster_vendor_sku, "3")]

        # Each vendor ships its own way: ShipStation's ship notice, the vendor API, a tracking file.
        notice = (
            f"<ShipNotice><OrderNumber>{east_number}</OrderNumber><OrderID>{east_xml.findtext('OrderID')}</OrderID>"
            "<Carrier>USPS</Carrier><Service>Priority Mail</Service><TrackingNumber>9400111899223</TrackingNumber>"
            "<ShipDate>11/27/2026</ShipDate><ShippingCost>4.10</ShippingCost></ShipNotice>"
        )
        query = urlencode({"action": "shipnotify", "order_number": east_number, "carrier": "USPS"})
        async with api.session.post(f"{store_url}?{query}", data=notice, headers=store_auth) as response:
            assert response.status == 200, await response.text()
        await api.ok(
            "POST",
            "gateway",
            f"/v1/vendor/orders/{vendor_orders[west]['vendor_order_id']}/shipments",
            {"carrier": "UPS", "service": "Ground", "tracking_number": "1Z999AA10123456784", "ship_date": "2026-11-27"},
            token=west_key,
        )
        drop_file(
            chroot / "tracking",
            f"tracking-{north_number}.csv",
            "PO Number,SKU,Qty,Carrier,Tracking,Ship Date\n"
            f"{north_number},{poster_vendor_sku},3,FedEx,794644790132,2026-11-28\n",
        )

        # The channel hears of each shipment once, each with its own vendor's line, and `shipped` last.
        async def three_shipments_heard() -> list[dict[str, Any]] | None:
            heard = list(shipment_deliveries(channel_receiver))
            return heard if len(heard) >= 3 else None

        try:
            heard = await wait_until(three_shipments_heard, timeout=60)
        except AssertionError as missing:
            raise AssertionError(f"{missing}; {await _gateway_state(api, (west, north), channel_receiver)}") from None
        assert all(channel_receiver.verify(delivery) for delivery in channel_receiver.deliveries)
        lines_by_tracking = {
            body["shipment"]["tracking_number"]: [(line["sku"], line["quantity"]) for line in body["shipment"]["lines"]]
            for body in heard
        }
        assert lines_by_tracking == {
            "9400111899223": [(tshirt, 2)],
            "1Z999AA10123456784": [(mug, 1)],
            "794644790132": [(poster, 3)],
        }
        assert heard[-1]["status"] == "shipped"
        assert [body["status"] for body in heard[:-1]] == ["partially_shipped", "partially_shipped"]

        async def order_shipped() -> dict[str, Any] | None:
            view = await api.ok("GET", "intake", f"/v1/orders/{order_id}", token=channel_key)
            return view if view["status"] == "shipped" else None

        await wait_until(order_shipped, timeout=20)

        # The tracking file was applied and put away; both gateway deliveries ended acknowledged.
        await wait_until(lambda: _exists(chroot / "tracking" / "archive" / f"tracking-{north_number}.csv"))
        assert visible_files(chroot / "tracking") == []
        for vendor in (west, north):

            async def acknowledged(vendor: str = vendor) -> list[dict[str, Any]] | None:
                listed = await api.ok("GET", "gateway", f"/v1/deliveries?vendor={vendor}")
                states = [d["state"] for d in listed["deliveries"]]
                return listed["deliveries"] if states == ["acknowledged"] else None

            await wait_until(acknowledged, timeout=20)

        # Exactly once, still, after time for any redelivery: one webhook, one file, three shipments.
        await asyncio.sleep(SETTLE_SECONDS)
        assert len(webhook_receiver.received) == 1
        assert visible_files(chroot / "orders") == [order_file]
        assert len(list(shipment_deliveries(channel_receiver))) == 3
        shipments = await api.ok("GET", "tracking", f"/v1/orders/{order_id}/shipments")
        assert len(shipments["shipments"]) == 3
    finally:
        await sftp.stop()
        await webhook_receiver.stop()
        await channel_receiver.stop()


async def _exists(path: Path) -> bool:
    return await asyncio.to_thread(path.exists)


async def _gateway_state(api: Api, vendors: tuple[str, ...], channel_receiver: ChannelReceiver) -> str:
    """What the channel heard and what the gateway did for ``vendors``: the context of a failed wait."""
    found: dict[str, Any] = {"channel": [delivery.json for delivery in channel_receiver.deliveries]}
    for vendor in vendors:
        found[vendor] = {
            "deliveries": await api.call("GET", "gateway", f"/v1/deliveries?vendor={vendor}"),
            "pickups": await api.call("GET", "gateway", f"/v1/pickups?vendor={vendor}"),
        }
    return json.dumps(found, default=str)[:4000]
