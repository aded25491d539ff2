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
        return (
            sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if path.exists()
            else []
        )

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
        await self.gateway.stop_polling([(partner.code, partner.connection) for partner in self.made])


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
    return Placed(
        order_id, vendor_order["vendor_order_id"], vendor_order["vendor_order_number"], channel, sent(partner, name)
    )


async def interchanges(gateway: Gateway, partner: Partner) -> list[dict[str, Any]]:
    return list((await gateway.ok("get", f"/v1/partners/{partner.code}/interchanges"))["interchanges"])


async def interchange_where(
    gateway: Gateway, partner: Partner, *, uploaded: bool = False, **where: Any
) -> dict[str, Any]:
    """The newest interchange listed for ``partner`` whose fields match ``where`` (and, when ``uploaded``,
    recorded as sent), once there is one."""

    def matches(row: dict[str, Any]) -> bool:
        return all(row.get(key) == value for key, value in where.items()) and (
            not uploaded or row["sent_at"] is not None
        )

    async def listed() -> dict[str, Any] | None:
        return next((row for row in await interchanges(gateway, partner) if matches(row)), None)

    return await wait_until(listed, timeout=20)


async def delivery_in(gateway: Gateway, partner: Partner, vendor_order_id: str, state: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        found = await gateway.deliveries(partner.code)
        return next(
            (
                d
                for d in found
                if d["vendor_order_id"] == vendor_order_id
                and d["state"] == state
                and d["event"] == "vendor_order.created"
            ),
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

    await delivery_in(gateway, partner, placed.vendor_order_id, "sent")
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


# --- in: 997s -----------------------------------------------------------------------------------------


async def test_a_997_accepting_our_group_acknowledges_and_one_rejecting_fails_the_vendor_order(
    gateway: Gateway, partners: Partners
) -> None:
    partner = await partners.new()
    sku = await catalog(gateway, partner)
    accepted = await place(gateway, partner, [(sku, 1)])
    rejected = await place(gateway, partner, [(sku, 2)])
    partner.writer = TradingPartner(element="|", terminator="^", component="}")  # the partner's own delimiters

    ack = partner.writer.interchange(
        "FA", [("997", functional_ack(accepted.order.group_number, [accepted.order.set_number]))]
    )
    partner.drop("a-997.x12", ack.content)

    await delivery_in(gateway, partner, accepted.vendor_order_id, "acknowledged")
    row = await interchange_where(gateway, partner, control_number=accepted.order.control_number, direction="out")
    assert row["ack_state"] == "accepted" and row["acknowledged_at"] is not None

    refusal = partner.writer.interchange(
        "FA", [("997", functional_ack(rejected.order.group_number, [rejected.order.set_number], accepted=False))]
    )
    partner.drop("b-997.x12", refusal.content)

    failed = await delivery_in(gateway, partner, rejected.vendor_order_id, "failed")
    assert "997" in (failed["last_error"] or ""), failed
    row = await interchange_where(gateway, partner, control_number=rejected.order.control_number, direction="out")
    assert row["ack_state"] == "rejected"

    async def failed_in_the_splitter() -> dict[str, Any] | None:
        routing = await gateway.system.api.ok("get", "splitter", f"/v1/orders/{rejected.order_id}/routing")
        found = next(v for v in routing["vendor_orders"] if v["vendor_order_id"] == rejected.vendor_order_id)
        return routing if found["status"] == "failed" else None

    routing = await wait_until(failed_in_the_splitter, timeout=20)
    [vendor_order] = [v for v in routing["vendor_orders"] if v["vendor_order_id"] == rejected.vendor_order_id]
    assert "997" in vendor_order["failed_reason"], vendor_order
    # No other vendor ships the SKU: the splitter holds the line for ops rather than rerouting it.
    assert [(hold["line_id"], hold["code"]) for hold in routing["holds"]] == [("L1", "vendor_rejected")]
    [still] = [d for d in await gateway.deliveries(partner.code) if d["vendor_order_id"] == accepted.vendor_order_id]
    assert still["state"] == "acknowledged"  # the other order's 997 changed nothing of this one
    [first_pickup, second_pickup] = await pickups(gateway, partner, 2)
    assert (first_pickup["state"], second_pickup["state"]) == ("applied", "applied")
    assert partner.names("acks") == []  # a 997 is never answered with a 997
    assert partner.names("in/archive") == ["a-997.x12", "b-997.x12"]


# --- in: 855, 856, 846, 810 ---------------------------------------------------------------------------


async def test_an_855_acknowledges_its_lines_and_is_answered_with_our_997(gateway: Gateway, partners: Partners) -> None:
    partner = await partners.new()
    sku, other = await catalog(gateway, partner), await catalog(gateway, partner)
    placed = await place(gateway, partner, [(sku, 2), (other, 3)])
    answer = partner.writer.interchange(
        "PR",
        [
            (
                "855",
                po_acknowledgement(
                    placed.number,
                    [
                        AckedLine(1, partner.vendor_skus[sku], 2, "IA", "20261203"),
                        AckedLine(2, partner.vendor_skus[other], 3, "IB", "20261215"),
                    ],
                ),
            )
        ],
    )

    partner.drop("855.x12", answer.content)

    view = await tracking_view(gateway, placed.order_id, "acknowledgements", 2)
    entries = {entry["line_id"]: entry for entry in view["acknowledgements"]}
    assert (entries["L1"]["status"], entries["L1"]["vendor_order_number"]) == ("accepted", placed.number)
    assert entries["L2"]["status"] == "backordered"
    await delivery_in(gateway, partner, placed.vendor_order_id, "acknowledged")
    [name] = await partner.files("acks", 1)
    ours = segments(partner.read("acks", name))
    assert first(ours, "AK1")[1:3] == ["PR", str(answer.group_numbers[0])]
    assert first(ours, "AK2")[1:3] == ["855", "0001"]
    assert first(ours, "AK5")[1] == "A"
    assert first(ours, "AK9")[1] == "A"
    assert first(ours, "ISA")[13] == name.removesuffix(".x12")
    assert pyx12_errors(partner.read("acks", name)) == []
    listed = await interchange_where(gateway, partner, kind="997", direction="out", uploaded=True)
    assert listed["file_name"] == name and listed["folder"] == "/acks"
    [pickup] = await pickups(gateway, partner, 1)
    assert (pickup["state"], pickup["rows"], pickup["applied"], pickup["errors"]) == ("applied", 1, 1, [])

    # The partner's 997 for our 850 is applied but never answered: /acks keeps its one 997.
    partner.drop(
        "997.x12",
        partner.writer.interchange(
            "FA", [("997", functional_ack(placed.order.group_number, [placed.order.set_number]))]
        ).content,
    )
    await pickups(gateway, partner, 2)
    row = await interchange_where(gateway, partner, control_number=placed.order.control_number, direction="out")
    assert row["ack_state"] == "accepted"
    assert partner.names("acks") == [name]


async def test_an_856_with_two_packages_reports_each_once_even_when_sent_again(
    gateway: Gateway, partners: Partners
) -> None:
    partner = await partners.new()
    sku, other = await catalog(gateway, partner), await catalog(gateway, partner)
    placed = await place(gateway, partner, [(sku, 2), (other, 1)])
    partner.writer = TradingPartner(element="^", terminator="\n", component=":", newline=False)
    first_box, second_box = unique("1Z"), unique("1Z")
    notice = partner.writer.interchange(
        "SH",
        [
            (
                "856",
                ship_notice(
                    unique("SHP-"),
                    placed.number,
                    [
                        Package(first_box, [ShippedItem(1, partner.vendor_skus[sku], 2)]),
                        Package(second_box, [ShippedItem(2, partner.vendor_skus[other], 1)]),
                    ],
                ),
            )
        ],
    )

    partner.drop("asn-1.x12", notice.content)

    view = await tracking_view(gateway, placed.order_id, "shipments", 2)
    by_number = {package["tracking_number"]: package for package in view["shipments"]}
    assert set(by_number) == {first_box, second_box}
    assert [(line["line_id"], line["quantity"]) for line in by_number[first_box]["lines"]] == [("L1", 2)]
    assert [(line["line_id"], line["quantity"]) for line in by_number[second_box]["lines"]] == [("L2", 1)]
    [applied] = await pickups(gateway, partner, 1)
    assert (applied["state"], applied["applied"]) == ("applied", 1)

    partner.drop("asn-1-resent.x12", notice.content + b"\n")  # the same interchange under another name

    again = (await pickups(gateway, partner, 2))[1]
    assert again["name"] == "asn-1-resent.x12", again
    assert any("came before" in error["error"] for error in again["errors"]), again
    await asyncio.sleep(1.0)  # what a second report would take to reach tracking
    assert len((await tracking_view(gateway, placed.order_id, "shipments", 2))["shipments"]) == 2
    assert partner.names("in/archive") == ["asn-1-resent.x12", "asn-1.x12"]
    assert len(partner.names("acks")) == 1  # the 856 is answered once, the repeat not at all
    await delivery_in(gateway, partner, placed.vendor_order_id, "acknowledged")


async def stock_of(gateway: Gateway, sku: str, partner: Partner, quantity: int) -> dict[str, Any]:
    """The splitter's stock source of ``partner`` for ``sku`` once its feed quantity is ``quantity``."""

    async def reached() -> dict[str, Any] | None:
        view = await gateway.system.api.ok("get", "splitter", f"/v1/stock/{sku}")
        source = next(s for s in view["sources"] if s["vendor"] == partner.code)
        return source if source["feed_quantity"] == quantity else None

    return await wait_until(reached, timeout=20)


async def test_an_846_sets_stock_and_refuses_a_row_named_only_by_upc(gateway: Gateway, partners: Partners) -> None:
    partner = await partners.new()
    sku, other = await catalog(gateway, partner), await catalog(gateway, partner)
    advice = partner.writer.interchange(
        "IB",
        [
            (
                "846",
                inventory_advice(
                    [
                        ("VN", partner.vendor_skus[sku], 33),
                        ("UP", "012345678905", 9),
                        ("VN", partner.vendor_skus[other], 4),
                    ]
                ),
            )
        ],
    )

    partner.drop("stock.x12", advice.content)

    await stock_of(gateway, sku, partner, 33)
    await stock_of(gateway, other, partner, 4)
    [pickup] = await pickups(gateway, partner, 1)
    assert (pickup["state"], pickup["applied"]) == ("partly_applied", 1)
    refused = [error["error"] for error in pickup["errors"]]
    assert len(refused) == 1 and "LIN 2" in refused[0] and "UP 012345678905" in refused[0], refused
    assert partner.names("in/archive") == ["stock.x12"]


async def test_an_810_is_kept_with_its_invoice_number_and_total(gateway: Gateway, partners: Partners) -> None:
    partner = await partners.new()
    sku = await catalog(gateway, partner)
    placed = await place(gateway, partner, [(sku, 2)])
    invoice_number = unique("INV-")
    bill = partner.writer.interchange(
        "IN", [("810", invoice(invoice_number, placed.number, [(1, 2, "6.10", partner.vendor_skus[sku])], 1220))]
    )

    partner.drop("invoice.x12", bill.content)

    row = await interchange_where(gateway, partner, direction="in", kind="810")
    assert (row["control_number"], row["file_name"], row["sender_id"]) == (
        bill.control_number,
        "invoice.x12",
        "ACMEDIST",
    )
    [group] = row["summary"]["groups"]
    [billed] = group["sets"]
    assert (billed["invoice_number"], billed["total"], billed["po_number"]) == (invoice_number, "12.20", placed.number)
    assert billed["vendor_order_id"] == placed.vendor_order_id


# --- files that cannot be read, and envelopes that ask for a TA1 --------------------------------------


async def test_an_unreadable_file_is_set_aside_and_the_next_file_is_still_read(
    gateway: Gateway, partners: Partners
) -> None:
    partner = await partners.new()
    sku = await catalog(gateway, partner)
    placed = await place(gateway, partner, [(sku, 1)])
    box = unique("1Z")
    notice = partner.writer.interchange(
        "SH",
        [
            (
                "856",
                ship_notice(
                    unique("SHP-"), placed.number, [Package(box, [ShippedItem(1, partner.vendor_skus[sku], 1)])]
                ),
            )
        ],
    )
    partner.drop("a-garbage.x12", b"\x89PNG\r\n\x1a\n\x00\xff not X12 at all \x80")
    partner.drop("b-truncated.x12", notice.content[:60])  # cut off inside the ISA
    partner.drop("c-good.x12", notice.content)

    found = await pickups(gateway, partner, 3)

    assert [(p["name"], p["state"]) for p in found] == [
        ("a-garbage.x12", "rejected"),
        ("b-truncated.x12", "rejected"),
        ("c-good.x12", "applied"),
    ]
    assert partner.names("in/error") == [
        "a-garbage.x12",
        "a-garbage.x12.error.txt",
        "b-truncated.x12",
        "b-truncated.x12.error.txt",
    ]
    assert "ISA" in partner.read("in/error", "b-truncated.x12.error.txt").decode()
    assert partner.read("in/error", "a-garbage.x12.error.txt").strip()
    assert partner.names("in/archive") == ["c-good.x12"]
    [package] = (await tracking_view(gateway, placed.order_id, "shipments", 1))["shipments"]
    assert package["tracking_number"] == box


async def test_an_interchange_asking_for_a_ta1_gets_one(gateway: Gateway, partners: Partners) -> None:
    partner = await partners.new()
    sku = await catalog(gateway, partner)
    placed = await place(gateway, partner, [(sku, 1)])
    answer = partner.writer.interchange(
        "PR",
        [("855", po_acknowledgement(placed.number, [AckedLine(1, partner.vendor_skus[sku], 1, "IA")]))],
        ack_requested=True,
    )

    partner.drop("855.x12", answer.content)

    names = await partner.files("acks", 2)
    written = {name: segments(partner.read("acks", name)) for name in names}
    [ta1] = [found for found in written.values() if any(segment[0] == "TA1" for segment in found)]
    assert first(ta1, "TA1")[1] == f"{answer.control_number:09d}"
    assert first(ta1, "TA1")[4:6] == ["A", "000"]
    [ack] = [found for found in written.values() if any(segment[0] == "AK1" for segment in found)]
    assert first(ack, "AK1")[1] == "PR"
    assert all(pyx12_errors(partner.read("acks", name)) == [] for name in names)


# --- control numbers: a PO number X12 cannot hold, a retry ---------------------------------------------


async def test_a_po_number_longer_than_22_fails_visibly_and_uses_no_control_number(
    gateway: Gateway, partners: Partners
) -> None:
    partner = await partners.new()
    sku = await catalog(gateway, partner)
    before = await place(gateway, partner, [(sku, 1)])
    channel = await gateway.channel()
    long_number = unique("LONG-ORDER-NUMBER-") + "XYZ"  # 29 characters: BEG03 holds 22

    order_id = await gateway.place(channel, [(sku, 1, "20.00")], order_number=long_number)

    [vendor_order] = await gateway.vendor_orders(order_id)
    assert len(vendor_order["vendor_order_number"]) > 22
    failed = await delivery_in(gateway, partner, vendor_order["vendor_order_id"], "failed")
    assert failed["attempts"] == 1 and "22" in (failed["last_error"] or ""), failed

    async def failed_in_the_splitter() -> dict[str, Any] | None:
        routing = await gateway.system.api.ok("get", "splitter", f"/v1/orders/{order_id}/routing")
        [found] = routing["vendor_orders"]
        return found if found["status"] == "failed" else None

    assert (await wait_until(failed_in_the_splitter, timeout=20))["failed_reason"] == "po_number_too_long"
    assert partner.names("orders") == [before.order.name]  # nothing uploaded

    after = await place(gateway, partner, [(sku, 1)])

    assert after.order.control_number == before.order.control_number + 1  # no number was spent on the refusal
    assert sorted(partner.names("orders")) == sorted([before.order.name, after.order.name])
    rows = [row for row in await interchanges(gateway, partner) if row["direction"] == "out"]
    assert sorted(row["control_number"] for row in rows) == [before.order.control_number, after.order.control_number]


async def test_a_retry_sends_the_same_bytes_under_the_same_isa13(
    gateway: Gateway, partners: Partners, sftp: SftpServer
) -> None:
    partner = await partners.new()
    sku = await catalog(gateway, partner)
    await sftp.stop()
    try:
        order_id = await gateway.place(await gateway.channel(), [(sku, 1, "30.00")])

        async def first_attempt_failed() -> dict[str, Any] | None:
            found = await gateway.deliveries(partner.code)
            return found[0] if found and found[0]["attempts"] >= 1 else None

        failing = await wait_until(first_attempt_failed, timeout=30, every=0.02)
    finally:
        await sftp.start()
    assert failing["state"] == "pending" and failing["attempt_log"][0]["ok"] is False, failing

    [delivered] = await gateway.wait_delivery(partner.code, "sent")
    assert delivered["attempts"] >= 2
    [vendor_order] = await gateway.vendor_orders(order_id)
    [name] = await partner.files("orders", 1)
    order = sent(partner, name)
    row = await interchange_where(gateway, partner, kind="850", direction="out", uploaded=True)
    assert (row["control_number"], row["file_name"], row["po_number"]) == (
        order.control_number,
        name,
        vendor_order["vendor_order_number"],
    )
    async with gateway.runtime.pool.acquire() as db:
        stored = await db.fetch(
            "SELECT control_number, content FROM x12_interchanges WHERE vendor = $1 AND direction = 'out'", partner.code
        )
    assert [(r["control_number"], bytes(r["content"])) for r in stored] == [(order.control_number, order.content)]
    await asyncio.sleep(1.0)  # longer than the backoff: no further upload comes
    assert partner.names("orders") == [name]


async def test_an_interchange_for_someone_else_is_not_applied_and_a_repeat_is_put_away_as_applied(
    gateway: Gateway, partners: Partners
) -> None:
    partner = await partners.new()
    sku = await catalog(gateway, partner)
    placed = await place(gateway, partner, [(sku, 1)])
    stranger = TradingPartner(receiver_id="SOMEONEELSE")
    vendor_sku = partner.vendor_skus[sku]
    rejected = [AckedLine(1, vendor_sku, 1, "IR")]
    misaddressed = stranger.interchange("PR", [("855", po_acknowledgement(placed.number, rejected))])
    accepted = [AckedLine(1, vendor_sku, 1, "IA")]
    answer = partner.writer.interchange("PR", [("855", po_acknowledgement(placed.number, accepted))])

    partner.drop("a-misaddressed.x12", misaddressed.content)
    partner.drop("b-answer.x12", answer.content)
    partner.drop("c-answer-again.x12", answer.content + b"\n")  # the same interchange, another file

    first, second, third = await pickups(gateway, partner, 3)
    assert first["state"] == "rejected" and "addressed to 'SOMEONEELSE'" in first["errors"][0]["error"]
    assert second["state"] == "applied" and second["errors"] == []
    assert third["state"] == "applied" and "came before" in third["errors"][0]["error"]
    view = await tracking_view(gateway, placed.order_id, "acknowledgements", 1)
    assert [line["status"] for line in view["acknowledgements"]] == ["accepted"]  # the stranger's IR: not applied
