"""Chaos for an EDI X12 trading partner: the gateway SIGKILLed around an interchange's upload, while a
few hundred orders each send the partner an 850 over SFTP.

Two kills in one flow:

- (a) between reserving a control number and uploading: the partner's server is stopped (the
  gateway stores interchanges it cannot upload), then it takes logins again but holds every upload,
  and the gateway is killed while one waits on the hold;
- (b) between uploading and recording: uploads are held for a few seconds so a round's worth of
  orders piles up, then let go one by one, and the gateway is killed as the fifth new file appears in
  ``/orders``: the round's uploads so far are done and none of them is recorded (a round records its
  attempts at its end), the rest are still to go.

Afterwards, with the server's copy of every file it was given (repeats included): every vendor order's
PO arrived, as one 850 whose BEG03 is the vendor order number; each PO under exactly one ISA13 (a
repeat is byte-identical to the first upload of that name, and no two files carry the same PO); an
interchange stored before the kill went out under the numbers stored with it; no ISA13 was used for
two different documents (``x12_interchanges``); nothing was lost. Only the gateway is killed: the
broker and the database stay up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from pathlib import Path

import asyncpg
import pytest

from services.gateway.x12 import read_file
from tests.chaos.flow import (
    OrderLoad,
    Run,
    ShipStation,
    Verdict,
    World,
    audit,
    publish_poison,
    settle,
)
from tests.chaos.vendors import WatchedSftpServer, X12Partner, gateway_deliveries
from tests.support import unique, wait_until

PARTNER_ORDERS = 320
ORDERS_PER_SECOND = 8.0
"""40 s of orders: they keep coming through both kills."""
PARTNER_SETTINGS = {"sender_id": "MERCHANT", "receiver_id": "ACMEDIST"}
STORED_BEFORE_KILL = 3
"""Interchanges stored and not uploaded that kill (a) waits for (while the server is stopped)."""
UPLOAD_DELAY_SECONDS = 0.05
"""Per file from kill (b) on: a round's uploads take long enough that a kill lands among them."""
PILE_UP_SECONDS = 3.0
"""How long kill (b) holds uploads, so the next round has a few dozen to send."""
UPLOADS_BEFORE_KILL = 5
"""Files put into place after the pile-up before kill (b): done, and not recorded by their round."""

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(420)]


async def _db(world: World) -> asyncpg.Connection:
    return await asyncpg.connect(world.database_url, timeout=10)


async def _stored_unsent(world: World, partner: X12Partner) -> dict[str, int]:
    """Delivery id → ISA13 of the partner's interchanges stored but not in ``/orders``."""
    connection = await _db(world)
    try:
        rows = await connection.fetch(
            "SELECT delivery_id, control_number, file_name FROM gateway.x12_interchanges"
            " WHERE vendor = $1 AND direction = 'out' AND sent_at IS NULL",
            partner.code,
        )
    finally:
        await connection.close()
    present = partner.files()
    return {row["delivery_id"]: row["control_number"] for row in rows if row["file_name"] not in present}


async def _uploaded_unrecorded(world: World, partner: X12Partner) -> int:
    """The partner's order deliveries still pending although their file is in ``/orders``."""
    connection = await _db(world)
    try:
        rows = await connection.fetch(
            "SELECT x.file_name, x.content FROM gateway.deliveries d"
            " JOIN gateway.x12_interchanges x USING (delivery_id) WHERE d.vendor = $1 AND d.state = 'pending'",
            partner.code,
        )
    finally:
        await connection.close()
    present = partner.files()
    return sum(1 for row in rows if present.get(row["file_name"]) == bytes(row["content"]))


async def _wait_for(check: asyncio.Event, timeout: float) -> bool:
    try:
        await asyncio.wait_for(check.wait(), timeout)
    except TimeoutError:
        return False
    return True


async def _run(world: World, name: str, partner: X12Partner, fault: KillsAroundUploads) -> Run:
    """:func:`tests.chaos.flow.run_scenario` with every order carrying a line for ``partner`` (that one
    adds only a CSV SFTP vendor's line, audited by file name), then the partner's own audit."""
    verdict = Verdict(name)
    started = time.monotonic()
    poison = await publish_poison(world.amqp_url, world.namespace)
    load = OrderLoad(
        world.api.session,
        world.processes.urls["intake"],
        world.shop,
        PARTNER_ORDERS,
        concurrency=24,
        rate=ORDERS_PER_SECOND,
        extra_sku=partner.sku,
    )
    shipstation = ShipStation(
        world.api.session, [world.store_url(world.processes.urls["shipstation"])], world.shop.store_auth
    )
    stop = asyncio.Event()
    poller = asyncio.create_task(shipstation.run(stop), name="shipstation-poller")
    sending = asyncio.create_task(load.run(), name="order-load")
    try:
        verdict.faults = await fault(load, verdict)
        try:
            await asyncio.wait_for(asyncio.shield(sending), timeout=180)
        except TimeoutError:
            verdict.problem(f"only {len(load.accepted)} of {PARTNER_ORDERS} orders accepted within 180s")
        verdict.notes["orders accepted after"] = f"{time.monotonic() - started:.1f}s"
        try:
            await world.processes.wait_ready(timeout=90)
        except (TimeoutError, RuntimeError) as error:
            verdict.problem(f"a service did not come back by itself: {str(error)[:2000]}")
        pending = await settle(world, load, shipstation, 180)
        if pending is not None:
            verdict.problem(f"not settled within 180s: {pending}")
        verdict.notes["settled after"] = f"{time.monotonic() - started:.1f}s"
    finally:
        sending.cancel()
        stop.set()
        await asyncio.gather(sending, poller, return_exceptions=True)
    await audit(world, load, shipstation, {poison}, verdict)
    await audit_x12_partner(world, partner, set(load.accepted.values()), verdict)
    verdict.seconds = time.monotonic() - started
    return Run(verdict, load, shipstation)


async def audit_x12_partner(world: World, partner: X12Partner, order_ids: set[str], verdict: Verdict) -> None:
    """Every vendor order's PO at the partner once, under one ISA13, a repeat byte-identical; no
    control number used for two documents; what the gateway stored is what the partner has."""
    connection = await _db(world)
    try:
        vendor_orders = await connection.fetch(
            "SELECT id, order_id, number FROM splitter.vendor_orders WHERE vendor = $1 AND order_id = ANY($2)",
            partner.code,
            list(order_ids),
        )
        stored = await connection.fetch(
            "SELECT control_number, delivery_id, vendor_order_id, po_number, file_name, content, sent_at"
            " FROM gateway.x12_interchanges WHERE vendor = $1 AND direction = 'out' ORDER BY id",
            partner.code,
        )
        reserved = await connection.fetchval(
            "SELECT interchange FROM gateway.x12_counters WHERE vendor = $1", partner.code
        )
        deliveries = await gateway_deliveries(connection, partner.code)
    finally:
        await connection.close()
    code = partner.code

    # The splitter: one vendor order for the partner per order.
    per_order: dict[str, list[str]] = defaultdict(list)
    numbers: dict[str, str] = {}
    for row in vendor_orders:
        per_order[row["order_id"]].append(row["id"])
        numbers[row["id"]] = row["number"]
    for order_id in sorted(order_ids):
        ids = per_order.get(order_id, [])
        if not ids:
            verdict.lose("vendor order", f"order {order_id} has no vendor order for {code}")
        elif len(ids) > 1:
            verdict.duplicate("vendor order", f"order {order_id} has {len(ids)} vendor orders for {code}", len(ids) - 1)

    # What the server was given: a repeat of a name carries the bytes of its first upload.
    first_upload: dict[str, bytes] = {}
    uploads = partner.uploads()
    repeats = 0
    for upload in uploads:
        if upload.name not in first_upload:
            first_upload[upload.name] = upload.content
            continue
        repeats += 1
        if upload.content != first_upload[upload.name]:
            verdict.problem(f"{code}: /orders/{upload.name} was uploaded again with different bytes")
    files = partner.files()
    for name, content in files.items():
        if first_upload.get(name) != content:
            verdict.problem(f"{code}: /orders/{name} is not the file first uploaded under that name")

    # Each file: one interchange, its ISA13 its name, one 850 whose BEG03 is the PO.
    control_numbers_of: dict[str, set[int]] = defaultdict(set)
    for name, content in files.items():
        read = read_file(content)
        if read.errors or len(read.interchanges) != 1:
            verdict.problem(f"{code}: /orders/{name} is not one readable interchange: {read.errors[:2]}")
            continue
        interchange = read.interchanges[0]
        if name != f"{interchange.control_number:09d}.x12":
            verdict.problem(f"{code}: /orders/{name} holds ISA13 {interchange.control_number}")
        sets = [ts for group in interchange.groups for ts in group.sets]
        if len(sets) != 1 or sets[0].set_id != "850" or sets[0].errors:
            verdict.problem(f"{code}: /orders/{name} is not one well-formed 850: {[ts.set_id for ts in sets]}")
            continue
        beg = next((segment for segment in sets[0].segments if segment.id == "BEG"), None)
        if beg is None or beg.element(1) != "00":
            verdict.problem(f"{code}: /orders/{name} is not an original purchase order (BEG {beg})")
            continue
        control_numbers_of[beg.element(3)].add(interchange.control_number)

    expected = {number: vendor_order_id for vendor_order_id, number in numbers.items()}
    lost = sorted(po for po in expected if po not in control_numbers_of)
    twice = {po: found for po, found in control_numbers_of.items() if len(found) > 1}
    unknown = sorted(set(control_numbers_of) - set(expected))
    for po in lost:
        verdict.lose("PO at partner", f"{code}: PO {po} (vendor order {expected[po]}) never arrived")
    for po, found in sorted(twice.items()):
        verdict.duplicate("PO at partner", f"{code}: PO {po} under ISA13s {sorted(found)}", len(found) - 1)
    for po in unknown:
        verdict.duplicate("PO at partner", f"{code}: PO {po} is no vendor order's")

    # The gateway's books: one interchange per delivery, no ISA13 twice, the stored bytes on the server.
    for row in stored:
        if row["file_name"] != f"{row['control_number']:09d}.x12":
            verdict.problem(f"{code}: ISA13 {row['control_number']} stored as {row['file_name']}")
        if row["sent_at"] is None:
            verdict.problem(f"{code}: interchange {row['file_name']} (PO {row['po_number']}) stored, never sent")
        if files.get(row["file_name"]) != bytes(row["content"]):
            verdict.problem(f"{code}: /orders/{row['file_name']} is not the interchange stored under that number")
    rows_under = Counter(row["control_number"] for row in stored)
    reused = sorted(number for number, count in rows_under.items() if count > 1)
    for number in reused:
        verdict.duplicate("ISA13", f"{code}: ISA13 {number} stored for {rows_under[number]} documents")
    for vendor_order_id in sorted(numbers):
        state = deliveries.get(vendor_order_id, ("missing", None))[0]
        if state not in ("sent", "acknowledged"):
            verdict.lose(f"{code} delivery", f"vendor order {vendor_order_id}: gateway delivery {state}")

    gaps = (reserved or 0) - len(stored)
    summary = (
        f"{len(expected)} POs, {len(files)} files in /orders, {len(uploads)} uploads ({repeats} repeats,"
        f" byte-identical), lost {len(lost)}, duplicated {len(twice) + len(unknown)},"
        f" ISA13s reserved {reserved} (gaps {gaps}), reused {len(reused)}"
    )
    verdict.notes[f"{code} (x12)"] = summary
    verdict.notes["x12 repeats"] = repeats
    print(f"\nX12 partner {summary}")


class KillsAroundUploads:
    """The two kills, each waiting on the load's progress; notes in the verdict where they landed."""

    def __init__(self, world: World, partner: X12Partner) -> None:
        self.world = world
        self.partner = partner
        self.stored_at_kill: dict[str, int] = {}
        """Delivery id → ISA13 of what was stored and not uploaded when kill (a) struck."""
        self.unrecorded = 0
        """Uploads done and not recorded when kill (b) struck."""

    async def _kill_gateway(self) -> None:
        await asyncio.to_thread(self.world.processes.restart, "gateway", kill=True)

    async def __call__(self, load: OrderLoad, verdict: Verdict) -> int:
        server, partner = self.partner.server, self.partner
        # (a) Between reserving and uploading: stored interchanges the server does not have, one of
        # them held mid-upload when the gateway dies.
        await load.reached(0.15)
        await server.stop()
        with contextlib.suppress(AssertionError):  # fewer than hoped is noted below, not fatal here

            async def enough_stored() -> bool:
                return len(await _stored_unsent(self.world, partner)) >= STORED_BEFORE_KILL

            await wait_until(enough_stored, timeout=30, every=0.2)
        server.hold()
        await server.start()
        held = await _wait_for(server.holding, 30)
        self.stored_at_kill = await _stored_unsent(self.world, partner)
        await self._kill_gateway()
        server.release()
        verdict.notes["(a) stored, not uploaded at the kill"] = len(self.stored_at_kill)
        verdict.notes["(a) an upload held at the kill"] = held
        if not held or not self.stored_at_kill:
            verdict.problem(f"kill (a) did not land between reserving and uploading (held {held})")

        # (b) Between uploading and recording: uploads pile up, then go, and the kill lands among them.
        await load.reached(0.6)
        server.upload_delay = UPLOAD_DELAY_SECONDS
        server.hold()
        await asyncio.sleep(PILE_UP_SECONDS)
        server.release()
        try:
            for _ in range(UPLOADS_BEFORE_KILL):
                await server.next_upload(timeout=30)
        except TimeoutError:
            verdict.problem("kill (b): uploads stopped coming")
        await self._kill_gateway()
        self.unrecorded = await _uploaded_unrecorded(self.world, partner)
        verdict.notes["(b) uploaded, not recorded at the kill"] = self.unrecorded
        if not self.unrecorded:
            verdict.problem("kill (b) did not land between uploading and recording")
        return 2


async def test_gateway_killed_around_x12_uploads(
    chaos_world: World, chaos_ledger: list[Verdict], tmp_path: Path
) -> None:
    server = WatchedSftpServer(tmp_path / "sftp")
    await server.start()
    try:
        partner = await X12Partner.set_up(chaos_world.api, server, unique("acme-"), unique("EDI-"), PARTNER_SETTINGS)
        fault = KillsAroundUploads(chaos_world, partner)
        verdict = (await _run(chaos_world, "SIGKILL gateway around X12 uploads", partner, fault)).verdict

        # An interchange stored before kill (a) went out under the numbers stored with it.
        connection = await _db(chaos_world)
        try:
            now_stored = {
                row["delivery_id"]: row["control_number"]
                for row in await connection.fetch(
                    "SELECT delivery_id, control_number FROM gateway.x12_interchanges WHERE delivery_id = ANY($1)",
                    list(fault.stored_at_kill),
                )
            }
        finally:
            await connection.close()
        for delivery_id, number in fault.stored_at_kill.items():
            if now_stored.get(delivery_id) != number:
                verdict.problem(
                    f"{delivery_id}: stored as ISA13 {number} before the kill, now {now_stored.get(delivery_id)}"
                )
            if f"{number:09d}.x12" not in partner.files():
                verdict.lose(
                    "PO at partner", f"{delivery_id}: stored as ISA13 {number} before the kill, never uploaded"
                )
        if fault.unrecorded and verdict.notes["x12 repeats"] < fault.unrecorded:
            verdict.problem(
                f"{fault.unrecorded} uploads were cut off from their record, yet only"
                f" {verdict.notes['x12 repeats']} went again: the audit would not see a loss"
            )
        chaos_ledger.append(verdict)
        assert not (verdict.total_lost or verdict.total_duplicated or verdict.problems), verdict.report()
    finally:
        server.release()
        await server.stop()
