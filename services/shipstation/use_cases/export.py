"""The export use case: one page of a vendor's orders for ShipStation (``?action=export``)."""

from __future__ import annotations

import math
import time
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from services.shipstation.acknowledgements import first_export_acknowledgement
from services.shipstation.export_rules import ExportableOrder, RejectedOrder
from services.shipstation.fragment_cache import FragmentCache, fragment_key
from services.shipstation.order_states import status_names_of
from services.shipstation.repository import ExportSnapshot, StoreConnection, StoredVendorOrder
from services.shipstation.timezones import clocks_agree, detect_zone_mismatch, parse_export_datetime
from services.shipstation.use_cases.calls import record_call
from services.shipstation.use_cases.ports import StoreCall, StorePorts
from services.shipstation.withdrawals import standing_order
from services.shipstation.xml_export import MAX_PAGES, export_document, order_fragment
from shared.contracts.vendor_orders import VendorOrderCreatedData
from shared.contracts.vendors import ShipStationStatus

log = structlog.get_logger(__name__)
UTC_ZONE = zoneinfo.ZoneInfo("UTC")


@dataclass(frozen=True)
class ExportPage:
    """``GET ?action=export&start_date=…&end_date=…&page=N`` from an authenticated ShipStation."""

    connection: StoreConnection
    start: datetime
    end: datetime
    start_text: str
    end_text: str
    """The dates as ShipStation sent them: the poll log shows them, the zone check reads ``end_date``."""
    page: int


async def refuse_export(call: StoreCall, reason: str, ports: StorePorts) -> None:
    await record_call(call, "export", "bad_request", ports, detail=reason[:500])


async def export_page(
    command: ExportPage,
    call: StoreCall,
    ports: StorePorts,
    fragments: FragmentCache,
    wake_relay: Callable[[], None],
) -> bytes:
    """One page of the orders last modified in ``[start_date - lookback, end_date + 1 minute)``.

    Paging: page 1 freezes the window's order ids in ``(last_modified, id)`` order; pages 2..n of
    the same window read their slice of that list (for an hour), each order as it is *now*. So an
    order modified mid-walk keeps its place instead of moving to the end and making the order
    behind it slide onto a page ShipStation already has (a live OFFSET would skip that one).
    Orders created or changed during the walk are left to ShipStation's next refresh, whose window
    starts at this one's ``end_date`` minute, before they changed. A page asked for without a
    recent page 1 freezes the window then.

    The first answer that carries a vendor order is its acknowledgement (``vendor_order.acknowledged``).
    """
    connection, page = command.connection, command.page
    vendor, zone = connection.vendor, zoneinfo.ZoneInfo(connection.timezone)
    await check_zone(connection, command.end_text, ports)
    lookback, minute = timedelta(minutes=connection.lookback_minutes), timedelta(minutes=1)
    # Kept within the calendar: a window from 01/01/0001 or to 12/31/9999 is odd, not an error.
    window_start = max(command.start, datetime.min.replace(tzinfo=UTC) + lookback) - lookback
    window_end = min(command.end, datetime.max.replace(tzinfo=UTC) - minute) + minute  # end_date's minute counts
    snapshot = await _snapshot(connection, window_start, window_end, page, ports)
    pages = math.ceil(snapshot.total / snapshot.page_size)
    if pages > MAX_PAGES:
        log.warning("export window has more pages than ShipStation can take", pages=pages, served=MAX_PAGES)
        pages = MAX_PAGES
    rows = await ports.repository.snapshot_page(ports.pool, snapshot, page) if page <= pages else []
    exported, rejected = page_fragments(rows, zone, status_names_of(connection.status_names), fragments)
    body = export_document(exported, pages=pages)
    left_out = {reject.vendor_order_id for reject in rejected}
    if await acknowledge_first_exports([row for row in rows if row.id not in left_out], ports):
        wake_relay()
    for reject in rejected:
        detail = f"left out of export: {'; '.join(reject.problems)}"
        log.warning("order left out of export", vendor_order_id=reject.vendor_order_id, problems=reject.problems)
        await ports.repository.record_problem(ports.pool, vendor, "invalid_order", reject.vendor_order_id, detail)
        ports.metrics.rejects.labels(vendor).inc()
        ports.metrics.problems.labels(vendor, "invalid_order").inc()
    ports.metrics.exported.labels(vendor).inc(len(exported))
    ports.metrics.export_seconds.observe(time.perf_counter() - call.started)
    await record_call(
        call,
        "export",
        "ok",
        ports,
        window_start=window_start,
        window_end=window_end,
        page=page,
        orders_returned=len(exported),
        detail=(
            f"start_date {command.start_text.strip()!s}, end_date {command.end_text.strip()!s} read in {zone}; "
            f"page {page} of {pages}; {len(rejected)} left out"
        )[:500],
    )
    return body


async def _snapshot(
    connection: StoreConnection, start: datetime, end: datetime, page: int, ports: StorePorts
) -> ExportSnapshot:
    """Page 1 freezes the window; later pages read the latest fresh snapshot of it, if there is one."""
    snapshot = None if page == 1 else await ports.repository.latest_snapshot(ports.pool, connection.vendor, start, end)
    if snapshot is None:
        snapshot = await ports.repository.snapshot_window(
            ports.pool, connection.vendor, start, end, connection.page_size
        )
    return snapshot


def page_fragments(
    rows: list[StoredVendorOrder],
    zone: zoneinfo.ZoneInfo,
    status_names: dict[ShipStationStatus, str],
    fragments: FragmentCache,
) -> tuple[list[bytes], list[RejectedOrder]]:
    """Each row's ``<Order>`` fragment, from the cache where it was rendered before, and the rows
    left out as invalid (never cached: they are validated again on every export)."""
    exported: list[bytes] = []
    rejected: list[RejectedOrder] = []
    for row in rows:
        key = fragment_key(row.id, row.state, row.last_modified, zone, status_names)
        fragment = fragments.get(key)
        if fragment is None:
            vendor_order = standing_order(VendorOrderCreatedData.model_validate(row.payload), row.withdrawn)
            exportable = ExportableOrder(vendor_order, row.state, row.last_modified)  # type: ignore[arg-type]
            outcome = order_fragment(exportable, zone, status_names)
            if isinstance(outcome, RejectedOrder):
                rejected.append(outcome)
                continue
            fragments.put(key, outcome)
            fragment = outcome
        exported.append(fragment)
    return exported, rejected


async def acknowledge_first_exports(exported: Sequence[StoredVendorOrder], ports: StorePorts) -> int:
    """Stamp the vendor orders this answer carries for the first time and queue, in the same
    transaction, one ``vendor_order.acknowledged`` for each (a cancelled one acknowledges nothing).

    Rows already stamped cost nothing (the page read says so); the others take one statement for the
    whole page, plus one for their events. Answers how many events were queued.
    """
    unexported = [row.id for row in exported if row.first_exported_at is None]
    if not unexported:
        return 0
    async with ports.pool.acquire() as db, db.transaction():
        first_time = await ports.repository.mark_first_exported(db, unexported)
        events = [
            first_export_acknowledgement(
                standing_order(VendorOrderCreatedData.model_validate(row.payload), row.withdrawn)
            )
            for row in first_time
            if row.state != "cancelled"
        ]
        if events:
            await ports.repository.enqueue_events(db, events)
    for event in events:
        log.info(
            "vendor order acknowledged by its first export",
            vendor_order_id=event.data.vendor_order_id,
            order_id=event.data.order_id,
        )
    return len(events)


async def check_zone(connection: StoreConnection, end_text: str, ports: StorePorts) -> None:
    """Record (or clear) the warning that ShipStation's clock runs in another zone than configured."""
    zone = zoneinfo.ZoneInfo(connection.timezone)
    try:
        wall = parse_export_datetime(end_text, UTC_ZONE).replace(tzinfo=None)
    except ValueError:
        return
    now = datetime.now(UTC)
    mismatch = detect_zone_mismatch(wall, now, zone)
    if mismatch is not None:
        log.warning("time zone mismatch with ShipStation", detail=mismatch.message)
        if mismatch.message != connection.zone_warning:
            await ports.repository.record_zone_warning(ports.pool, connection.vendor, mismatch.message)
    elif connection.zone_warning is not None and clocks_agree(wall, now, zone):
        # ShipStation's clock now matches the setting (the merchant fixed ShipStation's side).
        log.info("time zone agrees with ShipStation again", timezone=str(zone))
        await ports.repository.record_zone_warning(ports.pool, connection.vendor, None)
