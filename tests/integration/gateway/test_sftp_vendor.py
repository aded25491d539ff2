"""A CSV vendor over SFTP receives its orders as files: the profile's columns and dialect, one file per
vendor order under its unique number, a cancellation file, never half a file, retries while the server
is away and exactly one file once it is back, and nothing at all for a server whose host key is wrong.

The gateway runs in-process (the ``gateway`` fixture) against asyncssh's SFTP server on loopback."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import asyncssh

from tests.chaos.vendors import WatchedSftpServer
from tests.gateway_servers import SftpServer
from tests.integration.gateway.conftest import DELIVERY_ATTEMPTS, Gateway
from tests.support import unique, wait_until

PASSWORD = "sftp-vendor-password"
BOM = b"\xef\xbb\xbf"
PROFILE: dict[str, Any] = {
    "delimiter": ";",
    "encoding": "utf-8-sig",
    "order_columns": [["PO Number", "vendor_order_number"], ["Item", "line.vendor_sku"], ["Units", "line.quantity"]],
}


async def sftp_vendor(
    gateway: Gateway, sftp: SftpServer, *, host_key: str | None = None, csv: dict[str, Any] | None = None
) -> tuple[str, Path]:
    """A ``csv_sftp`` vendor connected to a login of its own on ``sftp`` (with the ``PROFILE`` unless ``csv``
    says otherwise); answers its code and its chroot."""
    vendor = await gateway.vendor("csv_sftp")
    username = unique("u")
    chroot = sftp.add_user(username, password=PASSWORD)
    (chroot / "orders").mkdir()
    await gateway.connect(
        vendor,
        {
            "transport": "sftp",
            "format": "csv",
            "sftp": {
                "host": "127.0.0.1",
                "port": sftp.port,
                "username": username,
                "password": PASSWORD,
                "host_key": host_key or sftp.host_key_line,
                "outbound_dir": "/orders",
            },
            "csv": csv or PROFILE,
        },
    )
    return vendor, chroot


async def stocked(gateway: Gateway, vendor: str) -> tuple[str, str]:
    """A SKU of ours that ``vendor`` alone stocks, under a vendor SKU of its own: (sku, vendor sku)."""
    sku = unique("SKU-")
    vendor_sku = f"VX-{sku}"
    await gateway.catalog(sku, vendor, vendor_sku=vendor_sku)
    return sku, vendor_sku


def read_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(BOM), content[:10]
    return list(csv.reader(io.StringIO(content.removeprefix(BOM).decode("utf-8"), newline=""), delimiter=";"))


async def number_of(gateway: Gateway, order_id: str, timeout: float = 10) -> str:
    """The vendor order number the splitter gave the order's one vendor order."""

    async def routed() -> str | None:
        status, body = await gateway.system.api.call("get", "splitter", f"/v1/orders/{order_id}/routing")
        vendor_orders = body.get("vendor_orders") if status == 200 else None
        return str(vendor_orders[0]["vendor_order_number"]) if vendor_orders else None

    return await wait_until(routed, timeout=timeout)


def content_if_present(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


async def file_appears(path: Path, timeout: float = 30) -> bytes:
    async def present() -> bytes | None:
        return content_if_present(path)

    return await wait_until(present, timeout=timeout)


async def test_an_order_file_has_the_profiles_columns_dialect_and_vendor_sku(
    gateway: Gateway, sftp: SftpServer
) -> None:
    vendor, chroot = await sftp_vendor(gateway, sftp)
    sku, vendor_sku = await stocked(gateway, vendor)
    order_id = await gateway.place(await gateway.channel(), [(sku, 3, "12.00")])
    [vendor_order] = await gateway.vendor_orders(order_id)
    number = vendor_order["vendor_order_number"]

    content = await file_appears(chroot / "orders" / f"{number}.csv")

    assert read_rows(content) == [["PO Number", "Item", "Units"], [number, vendor_sku, "3"]]
    assert sorted(path.name for path in (chroot / "orders").iterdir()) == [f"{number}.csv"]  # no .part left
    [sent] = await gateway.wait_delivery(vendor, "sent")
    assert sent["vendor_order_number"] == number
    assert sent["file_name"] == f"{number}.csv"
    assert sent["attempts"] == 1


async def test_two_channels_order_1001_for_one_vendor_are_two_files(gateway: Gateway, sftp: SftpServer) -> None:
    vendor, chroot = await sftp_vendor(gateway, sftp)
    sku, vendor_sku = await stocked(gateway, vendor)
    first = await gateway.place(await gateway.channel(), [(sku, 1, "10.00")], order_number="1001")
    second = await gateway.place(await gateway.channel(), [(sku, 2, "10.00")], order_number="1001")

    numbers = [await number_of(gateway, order_id) for order_id in (first, second)]
    await gateway.wait_delivery(vendor, "sent", count=2)

    assert numbers[0] != numbers[1], "vendor order numbers are unique per vendor"
    assert all(number.startswith("1001") for number in numbers)
    assert sorted(path.name for path in (chroot / "orders").iterdir()) == sorted(f"{n}.csv" for n in numbers)
    files = [read_rows((chroot / "orders" / f"{number}.csv").read_bytes()) for number in numbers]
    assert [rows[1] for rows in files] == [[numbers[0], vendor_sku, "1"], [numbers[1], vendor_sku, "2"]]


async def test_a_cancelled_order_writes_its_cancel_file(gateway: Gateway, sftp: SftpServer) -> None:
    vendor, chroot = await sftp_vendor(gateway, sftp)
    sku, vendor_sku = await stocked(gateway, vendor)
    channel = await gateway.channel()
    order_id = await gateway.place(channel, [(sku, 2, "7.00")])
    [vendor_order] = await gateway.vendor_orders(order_id)
    number = vendor_order["vendor_order_number"]
    await file_appears(chroot / "orders" / f"{number}.csv")

    await gateway.system.api.ok(
        "post", "intake", f"/v1/orders/{order_id}/cancel", {"reason": "customer"}, token=channel[1]
    )

    content = await file_appears(chroot / "orders" / f"{number}-cancel.csv")
    rows = read_rows(content)
    assert rows[0] == ["PO Number", "Item", "Units"]
    assert rows[1][:2] == [number, vendor_sku]
    cancelled = await wait_until(lambda: _delivery_of(gateway, vendor, "vendor_order.cancelled", "sent"), timeout=30)
    assert cancelled["file_name"] == f"{number}-cancel.csv"
    assert sorted(path.name for path in (chroot / "orders").iterdir()) == [f"{number}-cancel.csv", f"{number}.csv"]


async def _delivery_of(gateway: Gateway, vendor: str, event: str, state: str) -> dict[str, Any] | None:
    return next((d for d in await gateway.deliveries(vendor) if d["event"] == event and d["state"] == state), None)


async def test_a_server_that_is_away_gets_the_file_once_when_it_is_back(gateway: Gateway, sftp: SftpServer) -> None:
    vendor, chroot = await sftp_vendor(gateway, sftp)
    sku, _ = await stocked(gateway, vendor)
    await sftp.stop()
    try:
        order_id = await gateway.place(await gateway.channel(), [(sku, 1, "30.00")])

        async def first_attempt_failed() -> dict[str, Any] | None:
            found = await gateway.deliveries(vendor)
            return found[0] if found and found[0]["attempts"] >= 1 else None

        failing = await wait_until(first_attempt_failed, timeout=30, every=0.02)
    finally:
        await sftp.start()
    assert failing["state"] == "pending", failing
    assert failing["last_error"]

    [sent] = await gateway.wait_delivery(vendor, "sent")
    [vendor_order] = await gateway.vendor_orders(order_id)
    number = vendor_order["vendor_order_number"]
    assert 2 <= sent["attempts"] <= DELIVERY_ATTEMPTS
    assert [entry["ok"] for entry in sent["attempt_log"]] == [False] * (sent["attempts"] - 1) + [True]
    assert sorted(path.name for path in (chroot / "orders").iterdir()) == [f"{number}.csv"]
    await asyncio.sleep(1.0)  # longer than the backoff: no further attempt comes
    [still] = await gateway.deliveries(vendor)
    assert (still["state"], still["attempts"]) == ("sent", sent["attempts"])


async def test_a_wrong_host_key_fails_after_the_budget_and_never_uploads(gateway: Gateway, sftp: SftpServer) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode().strip()
    vendor, chroot = await sftp_vendor(gateway, sftp, host_key=impostor)
    sku, _ = await stocked(gateway, vendor)
    await gateway.place(await gateway.channel(), [(sku, 1, "30.00")])

    [failed] = await gateway.wait_delivery(vendor, "failed")

    assert failed["attempts"] == DELIVERY_ATTEMPTS
    assert [entry["ok"] for entry in failed["attempt_log"]] == [False] * DELIVERY_ATTEMPTS
    assert "host key" in (failed["last_error"] or "").lower(), failed["last_error"]
    assert list((chroot / "orders").iterdir()) == []


async def test_an_upload_the_server_never_finishes_is_given_up_within_the_timeout(
    gateway: Gateway, tmp_path: Path
) -> None:
    """A server that takes the login, then holds the file open: the attempt fails after the delivery
    timeout (3 s here) and is retried, rather than holding up the deliverer's rounds for good."""
    server = WatchedSftpServer(tmp_path)
    await server.start()
    try:
        vendor, chroot = await sftp_vendor(gateway, server)
        sku, _ = await stocked(gateway, vendor)
        server.hold()
        order_id = await gateway.place(await gateway.channel(), [(sku, 1, "30.00")])
        [vendor_order] = await gateway.vendor_orders(order_id)

        async def gave_up() -> dict[str, Any] | None:
            found = await _delivery_of(gateway, vendor, "vendor_order.created", "pending")
            return found if found and found["attempt_log"] else None

        waiting = await wait_until(gave_up, timeout=30)
        assert "no answer within 3 s" in waiting["attempt_log"][0]["detail"]
        server.release()
        number = vendor_order["vendor_order_number"]
        await file_appears(chroot / "orders" / f"{number}.csv")
    finally:
        server.release()
        await server.stop()
