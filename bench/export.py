"""The ShipStation export with many stored vendor orders: seeded fast with COPY straight into the
adapter's table (in the bench's own database), with payloads made by the real intake and splitter
code from realistic orders; then one page many times, and a whole window page by page."""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp

from bench.environment import connect_database
from bench.machine import rss_mb
from bench.scenario import SKUS_PER_VENDOR, Merchant
from bench.stats import summary
from bench.system import BenchSystem
from services.intake.domain import OrderRequest, new_order_id, to_order_received
from services.shipstation.timezones import format_export_datetime
from services.splitter.routing.model import LineToRoute, RoutingInput, RoutingSettings, Source, VendorProfile
from services.splitter.routing.split import split_order
from services.splitter.routing.strategies import route_lines

TEMPLATES = 256
UTC_ZONE = ZoneInfo("UTC")


def basic_auth(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def vendor_order_templates(merchant: Merchant, count: int = TEMPLATES) -> list[dict[str, Any]]:
    """Vendor orders exactly as the splitter makes them (intake's validation, routing, split)."""
    rng = random.Random(7)  # noqa: S311 - test data
    sources = {
        merchant.sku(vendor, index): (Source(vendor, f"V-{merchant.sku(vendor, index)}", Decimal("7.10"), None, 1),)
        for vendor in (merchant.vendor_a, merchant.vendor_b)
        for index in range(SKUS_PER_VENDOR)
    }
    vendors = {vendor: VendorProfile(vendor) for vendor in (merchant.vendor_a, merchant.vendor_b)}
    templates: list[dict[str, Any]] = []
    for index in range(count):
        order, _ = merchant.order_dict(f"T{index}", rng)
        request = OrderRequest.model_validate(json.loads(json.dumps(order), parse_float=Decimal))
        received = to_order_received(new_order_id(), request)
        lines = tuple(LineToRoute(line.line_id, line.sku, line.quantity) for line in received.lines)
        routing = route_lines(
            RoutingInput(lines, received.ship_to.country, sources, vendors, RoutingSettings(), datetime.now(UTC))
        )
        made = split_order(received, routing.allocations, first_sequence=1, new_vendor_order_id=lambda: "vo_template")
        for vendor_order in made:
            templates.append(vendor_order.model_dump(mode="json"))
    return templates


POLL_WINDOW = timedelta(minutes=10)
"""ShipStation's routine poll: the minutes since its last one. The seed puts ``poll_orders`` there."""


def export_window(now: datetime) -> tuple[datetime, datetime]:
    """A catch-up window: the last day, ending now (so no time-zone warning fires)."""
    end = now.replace(second=0, microsecond=0)
    return end - timedelta(days=1), end


def poll_window(now: datetime) -> tuple[datetime, datetime]:
    _, end = export_window(now)
    return end - POLL_WINDOW, end


async def seed(
    dsn: str, merchant: Merchant, total: int, in_window: int, poll_orders: int, now: datetime
) -> dict[str, Any]:
    """COPY ``total`` vendor orders for the bulk vendor: ``in_window`` of them modified within the
    last day (the newest ``poll_orders`` of those within the last few minutes, one routine poll), the
    rest spread over the 100 days before."""
    started = time.perf_counter()
    templates = vendor_order_templates(merchant)
    window_start, _ = export_window(now)
    poll_start, _ = poll_window(now)
    old_end = window_start - timedelta(hours=1)
    old_count = total - in_window
    day_count = in_window - poll_orders
    old_step = timedelta(days=100) / max(old_count, 1)
    day_step = (poll_start - window_start - timedelta(minutes=2)) / max(day_count, 1)
    poll_step = (POLL_WINDOW - timedelta(minutes=1)) / max(poll_orders, 1)
    records = []
    for index in range(total):
        payload = dict(templates[index % len(templates)])
        vendor_order_id = f"vo_{uuid.uuid4().hex}"
        order_id = f"ord_{uuid.uuid4().hex}"
        order_number = f"S{merchant.run_id}-{index:07d}"
        number = f"{order_number}-1"
        payload.update(
            vendor_order_id=vendor_order_id,
            vendor_order_number=number,
            vendor=merchant.vendor_bulk,
            order_id=order_id,
            order_number=order_number,
            external_id=f"ext-{order_number}",
        )
        if index < old_count:
            modified = old_end - timedelta(days=100) + old_step * index
        elif index < old_count + day_count:
            modified = window_start + timedelta(seconds=30) + day_step * (index - old_count)
        else:
            modified = poll_start + timedelta(seconds=20) + poll_step * (index - old_count - day_count)
        records.append(
            (vendor_order_id, merchant.vendor_bulk, order_id, number, "paid", json.dumps(payload), modified, modified)
        )
    built = time.perf_counter()
    connection = await connect_database(dsn, "bench-seed")
    try:
        await connection.copy_records_to_table(
            "vendor_orders",
            schema_name="shipstation",
            columns=["id", "vendor", "order_id", "number", "state", "payload", "last_modified", "created_at"],
            records=records,
        )
        copied = time.perf_counter()
        # A table that grew to this size would have been analysed by autovacuum long since.
        await connection.execute("ANALYZE shipstation.vendor_orders")
        size = await connection.fetchval("SELECT pg_total_relation_size('shipstation.vendor_orders')")
    finally:
        await connection.close()
    return {
        "rows": total,
        "rows_in_window": in_window,
        "rows_in_poll_window": poll_orders,
        "payload_bytes_avg": round(sum(len(r[5]) for r in records) / max(total, 1)),
        "build_seconds": round(built - started, 2),
        "copy_seconds": round(copied - built, 2),
        "table_mb": round(int(size) / 1_048_576, 1),
    }


async def measure(
    session: aiohttp.ClientSession,
    system: BenchSystem,
    merchant: Merchant,
    now: datetime,
    expected: int,
    poll_orders: int,
    page_repeats: int,
) -> dict[str, Any]:
    """A routine poll (one page of ``poll_orders``) ``page_repeats`` times, then a whole catch-up
    window walked page by page as ShipStation does (page 1 freezes the window, pages 2.. read it)."""
    vendor = merchant.vendor_bulk
    auth = basic_auth(*merchant.credentials[vendor])
    base = f"{system.urls['shipstation']}/shipstation/{vendor}"
    adapter_pid = system.pids["shipstation"]
    rss_before = rss_mb(adapter_pid)
    rss_peak = rss_before or 0.0

    async def page(window: tuple[datetime, datetime], number: int) -> tuple[float, bytes]:
        nonlocal rss_peak
        query = urlencode(
            {
                "action": "export",
                "start_date": format_export_datetime(window[0], UTC_ZONE),
                "end_date": format_export_datetime(window[1], UTC_ZONE),
                "page": number,
            }
        )
        started = time.perf_counter()
        async with session.get(f"{base}?{query}", headers=auth) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"export page {number} answered {response.status}: {body[:300]!r}")
        elapsed = time.perf_counter() - started
        rss_peak = max(rss_peak, rss_mb(adapter_pid) or 0.0)
        return elapsed, body

    poll = poll_window(now)
    _, first = await page(poll, 1)  # the first call pays scrypt once; ShipStation's later polls do not
    repeats = [(await page(poll, 1))[0] for _ in range(page_repeats)]

    catch_up = export_window(now)
    window_started = time.perf_counter()
    elapsed, body = await page(catch_up, 1)
    pages = int(body.split(b'pages="', 1)[1].split(b'"', 1)[0]) if b'pages="' in body else 0
    per_page, exported = [elapsed], body.count(b"<Order>")
    for number in range(2, pages + 1):
        elapsed, body = await page(catch_up, number)
        per_page.append(elapsed)
        exported += body.count(b"<Order>")
    window_seconds = time.perf_counter() - window_started
    return {
        "poll_window": {"start": poll[0].isoformat(), "end": poll[1].isoformat(), "orders": first.count(b"<Order>")},
        "poll_page_bytes": len(first),
        "poll_page_s": summary(repeats),
        "window": {"start": catch_up[0].isoformat(), "end": catch_up[1].isoformat(), "pages": pages},
        "window_pages_s": summary(per_page),
        "window_first_page_s": round(per_page[0], 4) if per_page else None,
        "window_total_s": round(window_seconds, 3),
        "window_orders_exported": exported,
        "window_orders_expected": expected,
        "adapter_rss_mb": {"before": rss_before, "peak": rss_peak, "after": rss_mb(adapter_pid)},
    }


def utc_now() -> datetime:
    return datetime.now(UTC)
