"""An EDI X12 trading partner end to end, with every service (the gateway too) as its own process: an
order for the partner arrives on its SFTP server as one 850; the partner, played by the test, answers
with a 997, an 855 (one line backordered), an 856 with two packages and an 846. The channel hears of
both tracking numbers, the splitter's stock follows the 846, and our 997s land in the partner's ack
folder (one per group it sent, none for its 997).

The partner's side is asyncssh's SFTP server in the test process with a chroot for its login; its
documents are written by ``tests.integration.gateway.x12_partner``, not by the gateway's codec.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.e2e.harness import ProcessSystem
from tests.gateway_servers import SftpServer
from tests.integration.gateway.x12_partner import (
    AckedLine,
    Package,
    ShippedItem,
    TradingPartner,
    first,
    functional_ack,
    inventory_advice,
    po_acknowledgement,
    pyx12_errors,
    segments,
    ship_notice,
)
from tests.support import Api, ChannelReceiver, order_payload, unique, wait_until

SFTP_PASSWORD = "edi-partner-password-1"


def visible_files(folder: Path) -> list[Path]:
    """The files a partner would see in ``folder``: no hidden upload in progress, no sub-folders."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def drop_file(folder: Path, name: str, content: bytes) -> None:
    """Put a file into the partner's folder in one step, as an upload-then-rename does."""
    partial = folder / f".{name}.part"
    partial.write_bytes(content)
    os.replace(partial, folder / name)


def tracking_numbers_heard(receiver: ChannelReceiver) -> Iterator[str]:
    for delivery in receiver.deliveries:
        shipment = delivery.json.get("shipment")
        if shipment:
            yield shipment["tracking_number"]


async def test_an_edi_partner_gets_an_850_and_its_997_855_856_and_846_come_back(
    process_api: Api, processes: ProcessSystem, tmp_path: Path
) -> None:
    api = process_api
    channel_receiver = await ChannelReceiver().start()
    sftp = SftpServer(tmp_path / "sftp")
    await sftp.start()
    try:
        # The channel, the partner and the two products it alone ships.
        channel, vendor = unique("shop-"), unique("acme-")
        created = await api.ok(
            "PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop", "webhook_url": channel_receiver.url}
        )
        channel_receiver.secret, channel_key = created["webhook_secret"], created["api_key"]
        await api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", {"name": "Acme Distribution", "kind": "edi_x12"})
        mug, tee = unique("MUG-"), unique("TEE-")
        vendor_skus = {mug: f"AC-{mug}", tee: f"AC-{tee}"}
        for sku, vendor_sku in vendor_skus.items():
            source = {"vendor": vendor, "vendor_sku": vendor_sku, "stock": 20, "cost": "3.10"}
            await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"name": f"Product {sku}", "sources": [source]})
        chroot = sftp.add_user("acme", password=SFTP_PASSWORD)
        for folder in ("orders", "in", "acks"):
            (chroot / folder).mkdir()
        partner_sftp = sftp.settings(
            "acme", password=SFTP_PASSWORD, outbound_dir="/orders", inbound={"shipments": "/in"}, poll_seconds=1
        )
        await api.ok(
            "PUT",
            "gateway",
            f"/v1/connections/{vendor}",
            {
                "transport": "sftp",
                "format": "x12",
                "sftp": partner_sftp.model_dump(mode="json", exclude_none=True),
                "x12": {
                    "sender_id": "MERCHANT",
                    "receiver_id": "ACMEDIST",
                    "ack_dir": "/acks",
                    "acknowledgement_requested": True,
                    "ack_997_within_hours": 24,
                },
            },
        )

        # One order of two lines: the partner finds one 850 under its ISA13.
        payload = order_payload(channel, [(mug, 2, "9.50"), (tee, 1, "19.75")])
        status, order = await api.call("POST", "intake", "/v1/orders", payload, token=channel_key)
        assert status == 201, order
        order_id = order["id"]

        async def routed() -> dict[str, Any] | None:
            status, routing = await api.call("GET", "splitter", f"/v1/orders/{order_id}/routing")
            return routing["vendor_orders"][0] if status == 200 and routing["vendor_orders"] else None

        vendor_order = await wait_until(routed, timeout=30)
        number = vendor_order["vendor_order_number"]

        async def uploaded() -> list[Path] | None:
            found = await asyncio.to_thread(visible_files, chroot / "orders")
            return found or None

        [order_file] = await wait_until(uploaded, timeout=30)
        ours = segments(order_file.read_bytes())
        control_number, group_number = first(ours, "ISA")[13], first(ours, "GS")[6]
        assert order_file.name == f"{control_number}.x12"
        assert first(ours, "BEG")[1:4] == ["00", "DS", number]
        items = [s for s in ours if s[0] == "PO1"]
        assert [(s[1], s[2], s[s.index("VN") + 1]) for s in items] == [
            ("1", "2", vendor_skus[mug]),
            ("2", "1", vendor_skus[tee]),
        ]
        assert pyx12_errors(order_file.read_bytes()) == []

        # The partner answers, with delimiters of its own: 997, 855 (the tee backordered), 856, 846.
        partner = TradingPartner(element="|", terminator="^", component="}")
        first_box, second_box = unique("1Z"), unique("1Z")
        answers = {
            "a-997.x12": partner.interchange("FA", [("997", functional_ack(group_number, [first(ours, "ST")[2]]))]),
            "b-855.x12": partner.interchange(
                "PR",
                [
                    (
                        "855",
                        po_acknowledgement(
                            number, [AckedLine(1, vendor_skus[mug], 2, "IA"), AckedLine(2, vendor_skus[tee], 1, "IB")]
                        ),
                    )
                ],
            ),
            "c-856.x12": partner.interchange(
                "SH",
                [
                    (
                        "856",
                        ship_notice(
                            unique("SHP-"),
                            number,
                            [
                                Package(first_box, [ShippedItem(1, vendor_skus[mug], 2)]),
                                Package(second_box, [ShippedItem(2, vendor_skus[tee], 1)]),
                            ],
                        ),
                    )
                ],
            ),
            "d-846.x12": partner.interchange(
                "IB", [("846", inventory_advice([("VN", vendor_skus[mug], 33), ("VN", vendor_skus[tee], 5)]))]
            ),
        }
        for name, written in answers.items():
            drop_file(chroot / "in", name, written.content)

        # The channel hears of both packages.
        async def both_heard() -> set[str] | None:
            heard = set(tracking_numbers_heard(channel_receiver))
            return heard if {first_box, second_box} <= heard else None

        try:
            await wait_until(both_heard, timeout=60)
        except AssertionError as missing:
            raise AssertionError(f"{missing}; {await _gateway_state(api, vendor, channel_receiver)}") from None
        assert all(channel_receiver.verify(delivery) for delivery in channel_receiver.deliveries)

        # The splitter's stock follows the 846.
        for sku, quantity in ((mug, 33), (tee, 5)):

            async def level(sku: str = sku, quantity: int = quantity) -> dict[str, Any] | None:
                view = await api.ok("GET", "splitter", f"/v1/stock/{sku}")
                source = next(s for s in view["sources"] if s["vendor"] == vendor)
                return source if source["feed_quantity"] == quantity else None

            await wait_until(level, timeout=20)

        # Tracking shows the 855's lines, the 850 is accepted by the 997, the delivery acknowledged.
        view = await api.ok("GET", "tracking", f"/v1/orders/{order_id}/shipments")
        statuses = {entry["line_id"]: entry["status"] for entry in view["acknowledgements"]}
        assert statuses == {"L1": "accepted", "L2": "backordered"}
        assert sorted(package["tracking_number"] for package in view["shipments"]) == sorted([first_box, second_box])
        listed = await api.ok("GET", "gateway", f"/v1/partners/{vendor}/interchanges")
        [sent] = [row for row in listed["interchanges"] if row["direction"] == "out" and row["kind"] == "850"]
        assert (sent["control_number"], sent["ack_state"]) == (int(control_number), "accepted")

        # Our 997s: one per group the partner sent (855, 856, 846), none for its 997.
        async def three_acks() -> list[Path] | None:
            found = await asyncio.to_thread(visible_files, chroot / "acks")
            return found if len(found) >= 3 else None

        acks = await wait_until(three_acks, timeout=30)
        answered = {first(segments(path.read_bytes()), "AK1")[1]: segments(path.read_bytes()) for path in acks}
        assert sorted(answered) == ["IB", "PR", "SH"]
        assert all(first(found, "AK9")[1] == "A" for found in answered.values())
        assert all(pyx12_errors(path.read_bytes()) == [] for path in acks)
        await wait_until(lambda: _exists(chroot / "in" / "archive" / "d-846.x12"), timeout=20)
        assert visible_files(chroot / "in") == []
        assert visible_files(chroot / "orders") == [order_file]
    finally:
        await sftp.stop()
        await channel_receiver.stop()


async def _exists(path: Path) -> bool:
    return await asyncio.to_thread(path.exists)


async def _gateway_state(api: Api, vendor: str, channel_receiver: ChannelReceiver) -> str:
    """What the channel heard and what the gateway did for ``vendor``: the context of a failed wait."""
    found: dict[str, Any] = {
        "channel": [delivery.json for delivery in channel_receiver.deliveries],
        "deliveries": await api.call("GET", "gateway", f"/v1/deliveries?vendor={vendor}"),
        "pickups": await api.call("GET", "gateway", f"/v1/pickups?vendor={vendor}"),
        "interchanges": await api.call("GET", "gateway", f"/v1/partners/{vendor}/interchanges"),
    }
    return json.dumps(found, default=str)[:4000]
