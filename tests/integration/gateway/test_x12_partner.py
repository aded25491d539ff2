"""An EDI X12 trading partner over SFTP: it receives each vendor order as one 850 under its ISA13 (a
cancellation as the next interchange, a retry as the same bytes, a PO number X12 cannot hold as a
visible failure that uses no number), and what it sends back applies: 997s acknowledge or fail the
delivery, an 855 acknowledges lines, an 856 reports each package once, an 846 sets stock, an 810 is kept;
our 997 (and a TA1 when asked) answers it, and a file that cannot be read is set aside.

The gateway runs in-process (the ``gateway`` fixture) against asyncssh's SFTP server on loopback; each
test has a partner (vendor, login and folders) of its own. The partner's files are written by
``x12_partner`` with delimiters of their own, not by the gateway's codec."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from services.gateway.x12 import Interchange, read_file
from tests.gateway_servers import SftpServer
from tests.integration.gateway.conftest import Gateway
from tests.integration.gateway.x12_partner import (
    AckedLine,
    Package,
    ShippedItem,
    TradingPartner,
    first,
    functional_ack,
    inventory_advice,
    invoice,
    po_acknowledgement,
    pyx12_errors,
    segments,
    ship_notice,
)
from tests.support import unique, wait_until

PASSWORD = "x12-partner-password"
FOLDERS = ("orders", "in", "acks")


@dataclass
class Partner:
    """An ``edi_x12`` vendor, its login's chroot on the test server and the connection it was given."""

    code: str
    chroot: Path
    connection: dict[str, Any]
    vendor_skus: dict[str, str] = field(default_factory=dict)
    """Our SKU → the partner's."""
    writer: TradingPartner = field(default_factory=TradingPartner)

    def drop(self, name: str, content: bytes, folder: str = "in") -> None:
        """Leave a file as a partner's upload would: written under a hidden name, then renamed into place."""
        target = self.chroot / folder
        target.mkdir(parents=True, exist_ok=True)
        hidden = target / f".{name}.uploading"
        hidden.write_bytes(content)
        os.replace(hidden, target / name)

    def names(self, folder: str) -> list[str]:
        path = self.chroot / folder
        return sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith(".")) if path.exists() else []

    def read(self, folder: str, name: str) -> bytes:
        return (self.chroot / folder / name).read_bytes()

    async def files(self, folder: str, count: int, timeout: float = 30) -> list[str]:
        """The names in ``folder`` once there are at least ``count``."""

        async def present() -> list[str] | None:
            found = self.names(folder)
            return found if len(found) >= count else None

        return await wait_until(present, timeout=timeout)


class Partners:
    """Makes the tests' partners; at the end stops the gateway polling them (their server goes away)."""

    def __init__(self, gateway: Gateway, sftp: SftpServer) -> None:
        self.gateway = gateway
        self.sftp = sftp
        self.made: list[Partner] = []

    async def new(self, **x12: Any) -> Partner:
        code = await self.gateway.vendor("edi_x12")
        username = unique("edi")
        chroot = self.sftp.add_user(username, password=PASSWORD)
        for folder in FOLDERS:
            (chroot / folder).mkdir()
        connection: dict[str, Any] = {
            "transport": "sftp",
            "format": "x12",
            "sftp": {
                "host": "127.0.0.1",
                "port": self.sftp.port,
                "username": username,
                "password": PASSWORD,
                "host_key": self.sftp.host_key_line,
                "outbound_dir": "/orders",
                "inbound": {"shipments": "/in"},
                "poll_seconds": 1,
            },
            "x12": {
                "sender_id": "MERCHANT",
                "receiver_id": "ACMEDIST",
                "ack_dir": "/acks",
                "acknowledgement_requested": True,
                "ack_997_within_hours": 24,
                **x12,
            },
        }
        await self.gateway.connect(code, connection)
        partner = Partner(code, chroot, connection)
        self.made.append(partner)
        return partner

    async def stop_polling(self) -> None:
        for partner in self.made:
            sftp = {key: value for key, value in partner.connection["sftp"].items() if key != "inbound"}
            await self.gateway.connect(partner.code, {**partner.connection, "sftp": sftp})


@pytest.fixture(scope="module")
async def partners(gateway: Gateway, sftp: SftpServer) -> AsyncIterator[Partners]:
    made = Partners(gateway, sftp)
    yield made
    await made.stop_polling()


async def catalog(gateway: Gateway, partner: Partner) -> str:
    """A SKU of ours that ``partner`` alone stocks under a SKU of its own; answers our SKU."""
    sku = unique("SKU-")
    partner.vendor_skus[sku] = f"AC-{sku}"
    await gateway.catalog(sku, partner.code, vendor_sku=partner.vendor_skus[sku])
    return sku


@dataclass(frozen=True)
class Sent:
    """One interchange we sent, as the partner found it."""

    name: str
    content: bytes
    interchange: Interchange

    @property
    def control_number(self) -> int:
        return self.interchange.control_number

    @property
    def group_number(self) -> str:
        return self.interchange.groups[0].control_number

    @property
    def set_number(self) -> str:
        return self.interchange.groups[0].sets[0].control_number

    def segment(self, segment_id: str) -> list[str]:
        return first(segments(self.content), segment_id)


def sent(partner: Partner, name: str, folder: str = "orders") -> Sent:
    content = partner.read(folder, name)
    result = read_file(content)
    assert result.errors == [], result.errors
    [interchange] = result.interchanges
    assert interchange.errors == [], interchange.errors
    return Sent(name, content, interchange)


@dataclass(frozen=True)
class Placed:
    order_id: str
    vendor_order_id: str
    number: str
    channel: tuple[str, str]
    order: Sent


async def place(gateway: Gateway, partner: Partner, lines: list[tuple[str, int]], **extra: Any) -> Placed:
    """An order of ``lines`` (our SKU, quantity) for ``partner``, once its 850 is on the server."""
    channel = await gateway.channel()
    before = set(partner.names("orders"))
    order_id = await gateway.place(channel, [(sku, quantity, "20.00") for sku, quantity in lines], **extra)
    [vendor_order] = await gateway.vendor_orders(order_id)

    async def uploaded() -> str | None:
        new = sorted(set(partner.names("orders")) - before)
        return new[0] if new else None

    name = await wait_until(uploaded, timeout=30)
    return Placed(order_id, vendor_order["vendor_order_id"], vendor_order["vendor_order_number"], channel, sent(partner, name))


async def interchanges(gateway: Gateway, partner: Partner) -> list[dict[str, Any]]:
    return list((await gateway.ok("get", f"/v1/partners/{partner.code}/interchanges"))["interchanges"])


async def interchange_where(gateway: Gateway, partner: Partner, **where: Any) -> dict[str, Any]:
    """The newest interchange listed for ``partner`` whose fields match ``where``, once there is one."""

    async def listed() -> dict[str, Any] | None:
        found = await interchanges(gateway, partner)
        return next((row for row in found if all(row.get(key) == value for key, value in where.items())), None)

    return await wait_until(listed, timeout=20)


async def delivery_in(gateway: Gateway, partner: Partner, vendor_order_id: str, state: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        found = await gateway.deliveries(partner.code)
        return next(
            (d for d in found if d["vendor_order_id"] == vendor_order_id and d["state"] == state and d["event"] == "vendor_order.created"),
            None,
        )

    return await wait_until(reached, timeout=20)


async def pickups(gateway: Gateway, partner: Partner, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The partner's first ``count`` pickups, oldest first, once each is put away."""

    async def put_away() -> list[dict[str, Any]] | None:
        found = list(reversed((await gateway.ok("get", f"/v1/pickups?vendor={partner.code}"))["pickups"]))
        return found if len(found) >= count and all(p["put_away"] for p in found) else None

    return await wait_until(put_away, timeout=timeout)


async def tracking_view(gateway: Gateway, order_id: str, key: str, count: int) -> dict[str, Any]:
    """Tracking's view of the order once ``key`` (shipments, acknowledgements) holds ``count`` entries."""

    async def shown() -> dict[str, Any] | None:
        status, view = await gateway.system.api.call("get", "tracking", f"/v1/orders/{order_id}/shipments")
        return view if status == 200 and len(view[key]) >= count else None

    return await wait_until(shown, timeout=20)


# --- out: 850s ----------------------------------------------------------------------------------------


async def test_an_order_is_one_850_under_its_isa13_and_a_cancellation_the_next_interchange(
    gateway: Gateway, partners: Partners
) -> None:
    partner = await partners.new()
    sku, other = await catalog(gateway, partner), await catalog(gateway, partner)
    placed = await place(gateway, partner, [(sku, 2), (other, 1)])

    order = placed.order
    assert partner.names("orders") == [order.name] == [f"{order.control_number:09d}.x12"]
    assert order.interchange.groups[0].functional_id == "PO"
    assert order.interchange.groups[0].sets[0].set_id == "850"
    beg = order.segment("BEG")
    assert beg[1:4] == ["00", "DS", placed.number]
    items = [s for s in segments(order.content) if s[0] == "PO1"]
    assert [(s[1], s[2]) for s in items] == [("1", "2"), ("2", "1")]
    assert [s[s.index("VN") + 1] for s in items] == [partner.vendor_skus[sku], partner.vendor_skus[other]]
    assert pyx12_errors(order.content) == []

    listed = await interchange_where(gateway, partner, kind="850", direction="out")
    assert (listed["control_number"], listed["po_number"], listed["ack_state"]) == (
        order.control_number,
        placed.number,
        "awaiting",
    )
    assert listed["file_name"] == order.name and listed["sent_at"] is not None

    await gateway.system.api.ok(
        "post", "intake", f"/v1/orders/{placed.order_id}/cancel", {"reason": "customer"}, token=placed.channel[1]
    )

    names = await partner.files("orders", 2)
    cancel = sent(partner, next(name for name in names if name != order.name))
    assert cancel.control_number == order.control_number + 1
    assert cancel.name == f"{cancel.control_number:09d}.x12"
    assert cancel.segment("BEG")[1] == "01" and cancel.segment("BEG")[3] == placed.number
    assert cancel.group_number != order.group_number
    assert pyx12_errors(cancel.content) == []
    rows = [row for row in await interchanges(gateway, partner) if row["direction"] == "out"]
    numbers = [row["control_number"] for row in rows]
    assert sorted(numbers) == [order.control_number, cancel.control_number]
    assert len({row["group_number"] for row in rows}) == 2
