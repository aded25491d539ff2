"""What a CSV vendor leaves on its SFTP server comes back in: tracking files become packages in the
tracking service (several numbers in a cell, several packages), stock files become the splitter's stock
levels, acknowledgement files acknowledge vendor orders. Each file applies once and is put away; a bad
row is refused with its row number while the others apply; an unreadable file is set aside with its
reason and the next file is still read; two gateway instances never read one vendor's folder together.

The gateway runs in-process (the ``gateway`` fixture) against asyncssh's SFTP server on loopback; each
test has a vendor and a login of its own."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from services.gateway.app import SERVICE as GATEWAY
from shared.processes import free_port
from shared.service import running_service
from tests.gateway_servers import SftpServer
from tests.integration.gateway.conftest import Gateway
from tests.support import unique, wait_until

PASSWORD = "sftp-pickup-password"
INBOUND = {"shipments": "/tracking", "inventory": "/inventory", "acknowledgements": "/acks"}
TRACKING_HEADER = "PO Number,SKU,Qty,Carrier,Tracking\r\n"


@dataclass
class Vendor:
    """A ``csv_sftp`` vendor, its login's chroot on the test server and the connection it was given."""

    code: str
    chroot: Path
    connection: dict[str, Any]
    vendor_skus: dict[str, str] = field(default_factory=dict)
    """Our SKU → the vendor's."""

    def drop(self, folder: str, name: str, content: bytes) -> None:
        """Leave a file as a vendor's upload would: written under a hidden name, then renamed into place."""
        target = self.chroot / folder.strip("/")
        target.mkdir(parents=True, exist_ok=True)
        hidden = target / f".{name}.uploading"
        hidden.write_bytes(content)
        os.replace(hidden, target / name)

    def names(self, folder: str) -> list[str]:
        path = self.chroot / folder.strip("/")
        return sorted(entry.name for entry in path.iterdir() if entry.is_file()) if path.exists() else []

    def text(self, folder: str, name: str) -> str:
        return (self.chroot / folder.strip("/") / name).read_text()


class Vendors:
    """Makes the tests' vendors; at the end stops the gateway polling them (their server goes away)."""

    def __init__(self, gateway: Gateway, sftp: SftpServer) -> None:
        self.gateway = gateway
        self.sftp = sftp
        self.made: list[Vendor] = []

    async def new(self, csv: dict[str, Any] | None = None, **sftp_settings: Any) -> Vendor:
        code = await self.gateway.vendor("csv_sftp")
        username = unique("u")
        chroot = self.sftp.add_user(username, password=PASSWORD)
        for folder in ("orders", *(path.strip("/") for path in INBOUND.values())):
            (chroot / folder).mkdir()
        connection: dict[str, Any] = {
            "transport": "sftp",
            "format": "csv",
            "sftp": {
                "host": "127.0.0.1",
                "port": self.sftp.port,
                "username": username,
                "password": PASSWORD,
                "host_key": self.sftp.host_key_line,
                "outbound_dir": "/orders",
                "inbound": INBOUND,
                "poll_seconds": 1,
                **sftp_settings,
            },
            "csv": csv or {},
        }
        await self.gateway.connect(code, connection)
        vendor = Vendor(code, chroot, connection)
        self.made.append(vendor)
        return vendor

    async def stop_polling(self) -> None:
        await self.gateway.stop_polling([(vendor.code, vendor.connection) for vendor in self.made])


@pytest.fixture(scope="module")
async def vendors(gateway: Gateway, sftp: SftpServer) -> AsyncIterator[Vendors]:
    made = Vendors(gateway, sftp)
    yield made
    await made.stop_polling()


async def catalog(gateway: Gateway, vendor: Vendor, stock: int = 100) -> str:
    """A SKU of ours that ``vendor`` alone stocks under a vendor SKU of its own; answers our SKU."""
    sku = unique("SKU-")
    vendor.vendor_skus[sku] = f"VS-{sku}"
    await gateway.catalog(sku, vendor.code, vendor_sku=vendor.vendor_skus[sku], stock=stock)
    return sku


@dataclass(frozen=True)
class Placed:
    order_id: str
    vendor_order_id: str
    number: str
    channel: tuple[str, str]


async def place(gateway: Gateway, vendor: Vendor, lines: list[tuple[str, int]]) -> Placed:
    """An order of ``lines`` (our SKU, quantity) for ``vendor``, once its order file is on the server."""
    channel = await gateway.channel()
    order_id = await gateway.place(channel, [(sku, quantity, "20.00") for sku, quantity in lines])
    [vendor_order] = await gateway.vendor_orders(order_id)
    number = vendor_order["vendor_order_number"]

    async def uploaded() -> bool:
        return f"{number}.csv" in vendor.names("orders")

    await wait_until(uploaded, timeout=30)
    return Placed(order_id, vendor_order["vendor_order_id"], number, channel)


async def pickups(gateway: Gateway, vendor: Vendor, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The vendor's first ``count`` pickups, oldest first, once each is put away."""

    async def put_away() -> list[dict[str, Any]] | None:
        found = list(reversed((await gateway.ok("get", f"/v1/pickups?vendor={vendor.code}"))["pickups"]))
        return found if len(found) >= count and all(p["put_away"] for p in found) else None

    return await wait_until(put_away, timeout=timeout)


async def shipments(gateway: Gateway, order_id: str, count: int, timeout: float = 20) -> dict[str, Any]:
    """Tracking's view of the order once it shows ``count`` packages."""

    async def shown() -> dict[str, Any] | None:
        status, view = await gateway.system.api.call("get", "tracking", f"/v1/orders/{order_id}/shipments")
        return view if status == 200 and len(view["shipments"]) >= count else None

    return await wait_until(shown, timeout=timeout)


def tracking_file(rows: list[str], header: str = TRACKING_HEADER) -> bytes:
    return (header + "".join(f"{row}\r\n" for row in rows)).encode()


async def test_a_tracking_file_reports_packages_once_and_is_archived(gateway: Gateway, vendors: Vendors) -> None:
    vendor = await vendors.new()
    sku = await catalog(gateway, vendor)
    placed = await place(gateway, vendor, [(sku, 2)])
    first, second = unique("1Z"), unique("1Z")
    content = tracking_file([f"{placed.number},{vendor.vendor_skus[sku]},2,UPS,{first}|{second}"])

    vendor.drop("tracking", "track.csv", content)

    view = await shipments(gateway, placed.order_id, 2)
    by_number = {package["tracking_number"]: package for package in view["shipments"]}
    assert set(by_number) == {first, second}
    assert [(line["line_id"], line["quantity"]) for line in by_number[first]["lines"]] == [("L1", 2)]
    assert by_number[second]["lines"] == []
    assert {package["carrier"] for package in view["shipments"]} == {"UPS"}
    [pickup] = await pickups(gateway, vendor, 1)
    assert (pickup["name"], pickup["kind"], pickup["state"], pickup["rows"], pickup["applied"]) == (
        "track.csv",
        "shipments",
        "applied",
        1,
        1,
    )
    assert vendor.names("tracking") == []
    assert vendor.names("tracking/archive") == ["track.csv"]

    vendor.drop("tracking", "track-again.csv", content)  # a vendor re-sending its cumulative file

    again = (await pickups(gateway, vendor, 2))[1]
    assert (again["name"], again["state"]) == ("track-again.csv", "applied")
    assert vendor.names("tracking/archive") == ["track-again.csv", "track.csv"]
    await asyncio.sleep(1.0)  # what a second report would take to reach tracking
    assert len((await shipments(gateway, placed.order_id, 2))["shipments"]) == 2
    [delivery] = await gateway.deliveries(vendor.code)
    assert delivery["state"] == "acknowledged"  # shipping answers the order


async def test_a_windows_1252_file_with_pipes_reads_as_its_profile_says(gateway: Gateway, vendors: Vendors) -> None:
    vendor = await vendors.new({"encoding": "windows-1252", "delimiter": "|", "tracking_separator": "/"})
    sku = await catalog(gateway, vendor)
    placed = await place(gateway, vendor, [(sku, 1)])
    number = unique("1Z")
    content = (
        f"PO Number|SKU|Qty|Carrier|Tracking\r\n{placed.number}|{vendor.vendor_skus[sku]}|1|Société Rapide|{number}\r\n"
    )

    vendor.drop("tracking", "ship.csv", content.encode("cp1252"))

    [package] = (await shipments(gateway, placed.order_id, 1))["shipments"]
    assert (package["carrier"], package["tracking_number"]) == ("Société Rapide", number)
    assert [(line["line_id"], line["quantity"]) for line in package["lines"]] == [("L1", 1)]


async def test_a_sku_a_spreadsheet_rewrote_is_refused_with_its_row_and_the_others_apply(
    gateway: Gateway, vendors: Vendors
) -> None:
    vendor = await vendors.new()
    sku, other = await catalog(gateway, vendor), await catalog(gateway, vendor)
    placed = await place(gateway, vendor, [(sku, 1), (other, 3)])
    good = unique("1Z")
    content = tracking_file(
        [
            f"{placed.number},1.23457E+11,1,UPS,{unique('1Z')}",
            f"{placed.number},{vendor.vendor_skus[other]},3,UPS,{good}",
        ]
    )

    vendor.drop("tracking", "mixed.csv", content)

    [pickup] = await pickups(gateway, vendor, 1)
    assert (pickup["state"], pickup["rows"], pickup["applied"]) == ("partly_applied", 2, 1)
    [error] = pickup["errors"]
    assert error["row"] == 2
    assert "1.23457E+11" in error["error"] and "spreadsheet" in error["error"]
    [package] = (await shipments(gateway, placed.order_id, 1))["shipments"]
    assert package["tracking_number"] == good
    assert [(line["line_id"], line["quantity"]) for line in package["lines"]] == [("L2", 3)]


async def test_an_unreadable_file_is_set_aside_and_the_next_file_is_still_read(
    gateway: Gateway, vendors: Vendors
) -> None:
    vendor = await vendors.new()
    sku = await catalog(gateway, vendor)
    placed = await place(gateway, vendor, [(sku, 1)])
    number = unique("1Z")
    vendor.drop("tracking", "a-blob.csv", b"\x89PNG\r\n\x1a\n\x00\xff\xfe\xfd binary \x80\x81")
    vendor.drop("tracking", "b-wrong-header.csv", b"Order,Item,Count\r\n1,2,3\r\n")
    vendor.drop("tracking", "c-good.csv", tracking_file([f"{placed.number},{vendor.vendor_skus[sku]},1,UPS,{number}"]))

    found = await pickups(gateway, vendor, 3)

    assert [(p["name"], p["state"]) for p in found] == [
        ("a-blob.csv", "rejected"),
        ("b-wrong-header.csv", "rejected"),
        ("c-good.csv", "applied"),
    ]
    assert "UTF-8" in found[0]["errors"][0]["error"]
    assert "no column 'PO Number'" in found[1]["errors"][0]["error"]
    assert vendor.names("tracking/error") == [
        "a-blob.csv",
        "a-blob.csv.error.txt",
        "b-wrong-header.csv",
        "b-wrong-header.csv.error.txt",
    ]
    assert "UTF-8" in vendor.text("tracking/error", "a-blob.csv.error.txt")
    assert "no column 'PO Number'" in vendor.text("tracking/error", "b-wrong-header.csv.error.txt")
    assert vendor.names("tracking/archive") == ["c-good.csv"]
    assert vendor.names("tracking") == []
    [package] = (await shipments(gateway, placed.order_id, 1))["shipments"]
    assert package["tracking_number"] == number


async def test_a_header_only_file_applies_with_no_rows(gateway: Gateway, vendors: Vendors) -> None:
    vendor = await vendors.new()

    vendor.drop("tracking", "nothing-today.csv", TRACKING_HEADER.encode())

    [pickup] = await pickups(gateway, vendor, 1)
    assert (pickup["state"], pickup["rows"], pickup["applied"], pickup["errors"]) == ("applied", 0, 0, [])
    assert vendor.names("tracking/archive") == ["nothing-today.csv"]


async def stock_of(gateway: Gateway, sku: str, vendor: Vendor, quantity: int) -> dict[str, Any]:
    """The splitter's stock source of ``vendor`` for ``sku`` once its feed quantity is ``quantity``."""

    async def reached() -> dict[str, Any] | None:
        view = await gateway.system.api.ok("get", "splitter", f"/v1/stock/{sku}")
        source = next(s for s in view["sources"] if s["vendor"] == vendor.code)
        return source if source["feed_quantity"] == quantity else None

    return await wait_until(reached, timeout=20)


async def test_a_stock_snapshot_sets_the_splitters_levels(gateway: Gateway, vendors: Vendors) -> None:
    vendor = await vendors.new()
    sku, other = await catalog(gateway, vendor), await catalog(gateway, vendor)
    rows = f"SKU,Qty\r\n{vendor.vendor_skus[sku]},140\r\n{vendor.vendor_skus[other]},120\r\n"

    vendor.drop("inventory", "stock.csv", rows.encode())

    assert (await stock_of(gateway, sku, vendor, 140))["as_of"] is not None
    await stock_of(gateway, other, vendor, 120)
    [pickup] = await pickups(gateway, vendor, 1)
    assert (pickup["kind"], pickup["state"], pickup["applied"]) == ("inventory", "applied", 2)
    assert vendor.names("inventory/archive") == ["stock.csv"]


async def test_an_unknown_sku_in_a_stock_delta_is_refused_with_its_row(gateway: Gateway, vendors: Vendors) -> None:
    vendor = await vendors.new({"inventory_mode": "delta"})
    sku = await catalog(gateway, vendor)
    rows = f"SKU,Qty\r\nNOT-OURS-{sku},5\r\n{vendor.vendor_skus[sku]},7\r\n"

    vendor.drop("inventory", "delta.csv", rows.encode())

    [pickup] = await pickups(gateway, vendor, 1)
    assert (pickup["state"], pickup["rows"], pickup["applied"]) == ("partly_applied", 2, 1)
    [error] = pickup["errors"]
    assert error["row"] == 2
    assert f"NOT-OURS-{sku}" in error["error"]
    await stock_of(gateway, sku, vendor, 7)


async def test_an_acknowledgement_file_in_the_vendors_words_acknowledges_the_order(
    gateway: Gateway, vendors: Vendors
) -> None:
    vendor = await vendors.new(
        {"status_values": {"accepted": ["OK", "CONFIRMED"], "backordered": ["LATER"], "rejected": ["NO"]}}
    )
    sku, other = await catalog(gateway, vendor), await catalog(gateway, vendor)
    placed = await place(gateway, vendor, [(sku, 1), (other, 2)])
    rows = (
        "PO Number,SKU,Status,Qty,Reason\r\n"
        f"{placed.number},{vendor.vendor_skus[sku]},ok,1,\r\n"
        f"{placed.number},{vendor.vendor_skus[other]},Later,2,restocking\r\n"
    )

    vendor.drop("acks", "ack.csv", rows.encode())

    [delivery] = await gateway.wait_delivery(vendor.code, "acknowledged")
    assert delivery["vendor_order_id"] == placed.vendor_order_id

    async def acknowledged() -> list[dict[str, Any]] | None:
        status, view = await gateway.system.api.call("get", "tracking", f"/v1/orders/{placed.order_id}/shipments")
        return view["acknowledgements"] if status == 200 and len(view["acknowledgements"]) == 2 else None

    entries = {entry["line_id"]: entry for entry in await wait_until(acknowledged, timeout=20)}
    assert (entries["L1"]["status"], entries["L1"]["vendor_order_number"]) == ("accepted", placed.number)
    assert (entries["L2"]["status"], entries["L2"]["reason"]) == ("backordered", "restocking")
    [pickup] = await pickups(gateway, vendor, 1)
    assert (pickup["kind"], pickup["state"], pickup["applied"]) == ("acknowledgements", "applied", 2)
    assert vendor.names("acks/archive") == ["ack.csv"]


def applied_by(registry: CollectorRegistry, vendor: str) -> float:
    """Files an instance applied for ``vendor``, from its own metrics."""
    return registry.get_sample_value("gateway_pickups_total", {"vendor": vendor, "outcome": "applied"}) or 0.0


async def test_two_gateway_instances_read_each_file_once(gateway: Gateway, vendors: Vendors) -> None:
    vendor = await vendors.new()
    sku = await catalog(gateway, vendor)
    placed = await place(gateway, vendor, [(sku, 5)])
    numbers = [unique("1Z") for _ in range(5)]
    settings = gateway.runtime.settings.model_copy(update={"gateway_port": free_port()})

    async with running_service(GATEWAY, settings) as second:
        for index, number in enumerate(numbers):
            row = f"{placed.number},{vendor.vendor_skus[sku]},1,UPS,{number}"
            vendor.drop("tracking", f"track-{index}.csv", tracking_file([row]))
            await asyncio.sleep(0.4)  # files arrive over several polls, which either instance may take
        found = await pickups(gateway, vendor, 5)
        read_by = [applied_by(runtime.registry, vendor.code) for runtime in (gateway.runtime, second)]

    assert sum(read_by) == 5, read_by  # each file read by one instance, once

    assert sorted((p["name"], p["state"], p["applied"]) for p in found) == [
        (f"track-{index}.csv", "applied", 1) for index in range(5)
    ]
    assert vendor.names("tracking/archive") == [f"track-{index}.csv" for index in range(5)]
    assert vendor.names("tracking") == []
    view = await shipments(gateway, placed.order_id, 5)
    assert sorted(package["tracking_number"] for package in view["shipments"]) == sorted(numbers)
    assert view["lines"][0]["shipped"] == 5
    connection = await gateway.ok("get", f"/v1/connections/{vendor.code}")
    assert connection["last_poll_error"] is None
