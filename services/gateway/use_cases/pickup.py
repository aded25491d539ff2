"""Picking up a vendor's files over SFTP: shipments, stock and acknowledgements.

A round claims the vendors whose poll is due (a lease on the connection row, so one instance polls each
vendor at a time), lists each inbound folder and reads every file in turn. A file is remembered by
name, size and digest and applied once: its rows and their events commit with the pickup record, and
only then is the file archived or deleted (a crash in between finds it remembered next time and only
puts it away). A file that cannot be read is set aside with its error and the next files are still
read; rows refused within a readable file are listed with their row numbers on the pickup.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from services.gateway.connections import Connection
from services.gateway.formats.csv_read import (
    UnreadableFile,
    read_acknowledgements,
    read_inventory,
    read_shipments,
)
from services.gateway.ports import DeliveryError, FileDrop, RemoteFile
from services.gateway.store import answers, connections, deliveries
from services.gateway.store import x12 as x12_store
from services.gateway.transports.sftp import SftpConnection
from services.gateway.use_cases.answers import (
    ShipmentReport,
    StockRow,
    acknowledge_in,
    post_inventory_in,
    report_shipment_in,
)
from services.gateway.use_cases.context import GatewayPorts, open_connection
from services.gateway.use_cases.x12_inbound import InterchangesUnreadable, apply_x12_file
from services.gateway.vendor_answers import AckLine, AnswerRefused, line_by_sku, ordered_lines, packages_of
from shared.db import Connection as Db
from shared.logging import get_logger

log = get_logger(__name__)

POLL_LEASE_SECONDS = 300.0
VENDORS_PER_ROUND = 4


@dataclass(frozen=True)
class FileOutcome:
    state: str
    rows: int
    applied: int
    errors: list[dict[str, Any]]
    to_upload: tuple[x12_store.StoredInterchange, ...] = ()
    """What answering the file needs sent once it is applied (an X12 partner's 997s and TA1s)."""


class FileRefused(Exception):
    """The whole file cannot apply (unreadable, or not what its folder says)."""


class Poller:
    def __init__(self, ports: GatewayPorts, open_drop: Callable[[Connection], Any] | None = None) -> None:
        self._ports = ports
        self._open_drop = open_drop or self._sftp
        self._stopping = asyncio.Event()

    def _sftp(self, connection: Connection) -> SftpConnection:
        assert connection.sftp is not None  # only SFTP connections are polled
        return SftpConnection(connection.sftp, timeout_seconds=self._ports.settings.delivery_timeout_seconds)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.poll_due()
            except Exception as error:  # the database is away: the next round tries again
                log.warning("could not look for due SFTP polls", error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._ports.settings.pickup_check_seconds)

    async def stop(self) -> None:
        self._stopping.set()

    async def poll_due(self) -> int:
        due = await connections.claim_due_polls(self._ports.pool, VENDORS_PER_ROUND, POLL_LEASE_SECONDS)
        await asyncio.gather(*(self._poll(stored) for stored in due))
        return len(due)

    async def _poll(self, stored: connections.StoredConnection) -> None:
        connection = open_connection(self._ports.secrets, stored.vendor, stored.settings, stored.sealed_secrets)
        assert connection.sftp is not None  # claimed for transport sftp
        error: str | None = None
        try:
            async with self._open_drop(connection) as drop:
                if connection.format == "x12":  # answers a poll that stopped before sending them
                    async with self._ports.pool.acquire() as db:
                        unsent = await x12_store.unsent_acknowledgements(db, connection.vendor)
                    await self._upload(drop, unsent)
                for kind, folder in connection.sftp.inbound.folders().items():
                    await self._read_folder(connection, drop, kind, folder)
        except DeliveryError as failure:
            error = failure.message
            log.warning("SFTP poll failed", vendor=connection.vendor, error=error)
        await connections.finish_poll(self._ports.pool, connection.vendor, connection.sftp.poll_seconds, error)

    async def _read_folder(self, connection: Connection, drop: FileDrop, kind: str, folder: str) -> None:
        for remote in sorted(await drop.list_files(folder), key=lambda file: file.name):
            await self._read_file(connection, drop, kind, remote)

    async def _read_file(self, connection: Connection, drop: FileDrop, kind: str, remote: RemoteFile) -> None:
        vendor = connection.vendor
        metrics = self._ports.metrics
        try:
            content = await drop.read_file(remote, self._ports.settings.max_inbound_file_bytes)
        except DeliveryError as error:
            if error.retryable:
                raise
            await self._refuse(connection, drop, kind, remote, remote.size, "-", error.message)
            return
        digest = hashlib.sha256(content).hexdigest()
        seen = await answers.pickup_seen(self._ports.pool, vendor, remote.name, len(content), digest)
        if seen is not None:
            await self._put_away(connection, drop, remote, seen["id"], seen["state"] == "rejected")
            return
        try:
            async with self._ports.pool.acquire() as db, db.transaction():
                outcome = await self._apply(db, connection, kind, content, digest, remote.name)
                pickup_id = await answers.record_pickup(
                    db,
                    vendor=vendor,
                    kind=kind,
                    name=remote.name,
                    size=len(content),
                    digest=digest,
                    state=outcome.state,
                    rows=outcome.rows,
                    applied=outcome.applied,
                    errors=outcome.errors,
                )
        except FileRefused as refused:
            await self._refuse(connection, drop, kind, remote, len(content), digest, str(refused))
            return
        self._ports.wake_relay()
        metrics.pickups.labels(vendor, outcome.state).inc()
        if outcome.errors:
            metrics.rows_refused.labels(vendor, kind).inc(len(outcome.errors))
        log.info("file picked up", vendor=vendor, kind=kind, file=remote.path, state=outcome.state, rows=outcome.rows)
        await self._put_away(connection, drop, remote, pickup_id, False)
        await self._upload(drop, outcome.to_upload)

    async def _upload(self, drop: FileDrop, documents: Sequence[x12_store.StoredInterchange]) -> None:
        """Upload what was written to answer files; what fails is left for the next poll."""
        for document in documents:
            await drop.upload(document.folder or "/", document.file_name, document.content)
            async with self._ports.pool.acquire() as db:
                await x12_store.mark_sent(db, [document.id])

    async def _refuse(
        self, connection: Connection, drop: FileDrop, kind: str, remote: RemoteFile, size: int, digest: str, why: str
    ) -> None:
        async with self._ports.pool.acquire() as db:
            pickup_id = await answers.record_pickup(
                db,
                vendor=connection.vendor,
                kind=kind,
                name=remote.name,
                size=size,
                digest=digest,
                state="rejected",
                rows=0,
                applied=0,
                errors=[{"row": None, "error": why}],
            )
        self._ports.metrics.pickups.labels(connection.vendor, "rejected").inc()
        self._ports.metrics.rejected_files.labels(connection.vendor).inc()
        log.warning("file set aside", vendor=connection.vendor, kind=kind, file=remote.path, error=why)
        await self._put_away(connection, drop, remote, pickup_id, True, why)

    async def _put_away(
        self,
        connection: Connection,
        drop: FileDrop,
        remote: RemoteFile,
        pickup_id: int,
        rejected: bool,
        why: str = "set aside before",
    ) -> None:
        assert connection.sftp is not None
        if rejected:
            await drop.set_aside(remote, why)
        elif connection.sftp.after_pickup == "delete":
            await drop.delete(remote)
        else:
            await drop.archive(remote)
        await answers.mark_put_away(self._ports.pool, pickup_id)

    async def _apply(
        self, db: Db, connection: Connection, kind: str, content: bytes, digest: str, name: str
    ) -> FileOutcome:
        appliers: dict[str, Callable[[Db, Connection, bytes, str], Awaitable[FileOutcome]]] = {
            "shipments": _apply_shipments,
            "inventory": self._apply_inventory,
            "acknowledgements": _apply_acknowledgements,
        }
        if connection.format == "x12":  # any inbound folder: an interchange says what it holds
            catalog = await self._ports.splitter.vendor_catalog(connection.vendor)
            try:
                read = await apply_x12_file(db, connection, catalog, content, name)
            except InterchangesUnreadable as error:
                raise FileRefused(str(error)) from None
            faults = [error for error in read.errors if not error.get("repeat")]
            outcome = _outcome(read.sets, read.applied, faults)
            return replace(outcome, errors=read.errors, to_upload=tuple(read.acknowledgements))
        if connection.format != "csv":
            raise FileRefused(f"files in the {connection.format} format cannot be read")
        return await appliers[kind](db, connection, content, digest)

    async def _apply_inventory(self, db: Db, connection: Connection, content: bytes, digest: str) -> FileOutcome:
        profile = connection.csv
        parsed = _parsed(read_inventory, content, profile)
        errors = [{"row": error.row, "error": error.message} for error in parsed.errors]
        catalog = await self._ports.splitter.vendor_catalog(connection.vendor)
        rows = []
        for row in parsed.rows:
            if not catalog.carries(row.sku, vendor_sku=True):  # files speak the vendor's SKUs
                errors.append(
                    {"row": row.row, "error": f"SKU {row.sku!r} is not in the catalog for {connection.vendor}"}
                )
            else:
                rows.append(StockRow(f"row {row.row}", row.sku, row.quantity))
        if profile.inventory_mode == "snapshot" and len(parsed.rows) < profile.min_inventory_rows:
            raise FileRefused(
                f"a stock snapshot of {len(parsed.rows)} rows is fewer than the {profile.min_inventory_rows} expected"
            )
        if profile.inventory_mode == "snapshot" and errors:
            # A snapshot sets every SKU left out to 0: applying it without its refused rows would zero them.
            raise FileRefused(f"stock snapshot with refused rows, not applied: {_summary(errors)}")
        if rows:
            await post_inventory_in(db, connection.vendor, profile.inventory_mode, None, rows, "csv", feed_key=digest)
        return _outcome(len(parsed.rows) + len(parsed.errors), len(rows), errors)


def _parsed(reader: Callable[..., Any], content: bytes, profile: Any) -> Any:
    try:
        return reader(content, profile)
    except UnreadableFile as error:
        raise FileRefused(str(error)) from None


def _summary(errors: Sequence[dict[str, Any]]) -> str:
    return "; ".join(f"row {error['row']}: {error['error']}" for error in errors[:10])


def _outcome(rows: int, applied: int, errors: list[dict[str, Any]]) -> FileOutcome:
    if applied == 0 and errors:
        return FileOutcome("rejected", rows, 0, errors)
    return FileOutcome("partly_applied" if errors else "applied", rows, applied, errors)


async def _vendor_order(db: Db, vendor: str, number: str, row: int) -> dict[str, Any]:
    found = await deliveries.vendor_order_by_number(db, vendor, number.strip())
    if found is None:
        raise AnswerRefused(f"row {row}", f"no vendor order {number!r} for {vendor}")
    return found


async def _apply_shipments(db: Db, connection: Connection, content: bytes, _digest: str) -> FileOutcome:
    parsed = _parsed(read_shipments, content, connection.csv)
    errors = [{"row": error.row, "error": error.message} for error in parsed.errors]
    applied_rows: set[int] = set()  # a row with several tracking numbers is several packages, one row
    for package in packages_of(parsed.rows):
        first_row = package.rows[0]
        try:
            async with db.transaction():  # a savepoint: one package refused leaves the others applied
                found = await _vendor_order(db, connection.vendor, package.vendor_order_number, first_row)
                lines = ordered_lines(found["data"])
                requested: list[tuple[str, str, int]] | None = []
                for row, sku, quantity in package.skus:
                    if sku is None:
                        requested = None  # a row without a SKU ships everything that remains
                        break
                    line = line_by_sku(lines, sku, f"row {row}")
                    assert requested is not None
                    requested.append((f"row {row}", line.line_id, quantity or line.quantity))
                report = ShipmentReport(
                    carrier=package.carrier,
                    service=package.service,
                    tracking_number=package.tracking_number,
                    ship_date=package.ship_date,
                    shipping_cost=package.shipping_cost,
                    lines=requested,
                )
                await report_shipment_in(db, found, report)
                applied_rows.update(package.rows)
        except AnswerRefused as refused:
            errors.append({"row": _row_of(refused.field, first_row), "error": refused.message})
    return _outcome(len(parsed.rows) + len(parsed.errors), len(applied_rows), errors)


async def _apply_acknowledgements(db: Db, connection: Connection, content: bytes, _digest: str) -> FileOutcome:
    parsed = _parsed(read_acknowledgements, content, connection.csv)
    errors = [{"row": error.row, "error": error.message} for error in parsed.errors]
    by_order: dict[str, list[Any]] = {}
    for row in parsed.rows:
        by_order.setdefault(row.po.strip(), []).append(row)
    applied = 0
    for number, rows in by_order.items():
        try:
            async with db.transaction():
                found = await _vendor_order(db, connection.vendor, number, rows[0].row)
                lines = ordered_lines(found["data"])
                answered: list[tuple[str, AckLine]] = []
                for row in rows:
                    chosen = (
                        [line_by_sku(lines, row.sku, f"row {row.row}")] if row.sku else lines
                    )  # a row without a SKU answers the whole order
                    answered += [
                        (
                            f"row {row.row}",
                            AckLine(line.line_id, row.status, row.quantity, row.reason, row.expected_ship_date),
                        )
                        for line in chosen
                    ]
                await acknowledge_in(db, found, answered)
                applied += len(rows)
        except AnswerRefused as refused:
            errors.append({"row": _row_of(refused.field, rows[0].row), "error": refused.message})
    return _outcome(len(parsed.rows) + len(parsed.errors), applied, errors)


def _row_of(field: str, default: int) -> int:
    words = field.split()
    if len(words) >= 2 and words[0] == "row" and words[1].split(".")[0].isdigit():
        return int(words[1].split(".")[0])
    return default
