"""Every service's /metrics exports exactly the series docs/metrics.md lists for it, the client's
process series among them, and the figures read from the tables follow the tables: held orders,
quarantined feeds and vendor orders (splitter), last poll age and zone warning (ShipStation).

Intake, the splitter, ShipStation and tracking run in this process (the session ``system``) on the
real broker and database and are scraped over HTTP. The gateway's, the channels service's and the
console's own series are checked by registering their metrics classes in a fresh registry.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.channels.metrics import ChannelsMetrics
from services.console.metrics import QueueWatch
from services.gateway.metrics import GatewayMetrics
from services.splitter.metrics import HELD_BY_REASON
from shared.messaging.topology import Topology
from tests.conftest import RunningSystem, remove_vendor_queues
from tests.integration.shipstation.support import new_merchant, standin
from tests.support import order_payload, unique, wait_until
from tests.unit.test_observability import documented_for

IN_PROCESS = ("intake", "splitter", "shipstation", "tracking")
T = TypeVar("T")


def _help_names(text: str) -> set[str]:
    """The series names an exposition announces (one HELP line each, with or without samples), less
    the ``<name>_created`` the client announces beside an unlabelled counter or histogram."""
    names = set(re.findall(r"^# HELP (\S+) ", text, re.MULTILINE))
    created = {
        name
        for name in names
        if name.endswith("_created") and {name[: -len("_created")], name.replace("_created", "_total")} & names
    }
    return names - created


def _sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


async def _scrape(system: RunningSystem, service: str) -> str:
    async with system.api.session.get(f"{system.url(service)}/metrics") as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        return await response.text()


async def _until(
    system: RunningSystem, service: str, read: Callable[[str], T], ok: Callable[[T], bool], timeout: float = 30
) -> T:
    """Scrape ``service`` until what ``read`` takes from it is ``ok`` (the table figures are read every
    10 seconds); fail with the last reading."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got = read(await _scrape(system, service))
        if ok(got):
            return got
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{service}/metrics: still {got!r} after {timeout}s")
        await asyncio.sleep(0.5)


async def test_each_service_exports_exactly_what_the_doc_lists(system: RunningSystem) -> None:
    for service in IN_PROCESS:
        text = await _scrape(system, service)
        exported, listed = _help_names(text), documented_for(service)
        assert not listed - exported, f"{service} does not export {sorted(listed - exported)}"
        assert not exported - listed, f"{service} exports {sorted(exported - listed)}, not in docs/metrics.md"
        # The process series carry real values, not just their names.
        assert (_sample(text, "process_resident_memory_bytes") or 0) > 1_000_000, service
        assert (_sample(text, "process_start_time_seconds") or 0) > datetime(2024, 1, 1, tzinfo=UTC).timestamp()
        assert _sample(text, "python_info", implementation="CPython") == 1, service


def test_gateway_channels_and_console_series_are_the_ones_listed() -> None:
    shared = documented_for("tracking")  # tracking exports only what every runtime does
    makers: dict[str, Callable[[CollectorRegistry], object]] = {
        "gateway": GatewayMetrics,
        "channels": ChannelsMetrics,
        # Its gauges are made when it is built; the broker and the splitter are only asked on refresh.
        "console": lambda registry: QueueWatch(cast(Any, None), Topology(""), cast(Any, None), registry),
    }
    for service, make in makers.items():
        registry = CollectorRegistry()
        make(registry)
        exported = _help_names(generate_latest(registry).decode())
        assert exported == documented_for(service) - shared, service


async def test_splitter_figures_follow_its_tables(system: RunningSystem) -> None:
    api = system.api
    vendor = unique("mv-")
    channel = unique("shop-")
    try:
        await api.ok(
            "PUT", "splitter", f"/v1/vendors/{vendor}", {"name": "Metrics", "kind": "webhook", "min_inventory_rows": 2}
        )
        skus = [unique("SKU-") for _ in range(3)]
        for sku in skus:
            await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": vendor, "stock": 10}]})
        key = (await api.ok("PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop"}))["api_key"]
        before = await _scrape(system, "splitter")
        # The first reading happened at start: every reason is there.
        assert _sample(before, "splitter_held_orders", reason="unmapped_sku") is not None

        # One feed that would zero two of three SKUs: quarantined.
        status, feed = await api.call(
            "PUT", "splitter", f"/v1/stock/{vendor}", {"mode": "snapshot", "items": [{"sku": skus[0], "quantity": 10}]}
        )
        assert (status, feed["state"]) == (202, "quarantined")
        # One order routed to the vendor, one held for a SKU nobody sells.
        placed = []
        for lines in ([(skus[0], 1, "5.00")], [(unique("NOSUCH-"), 1, "5.00")]):
            status, body = await api.call("POST", "intake", "/v1/orders", order_payload(channel, lines), token=key)
            assert status == 201
            placed.append(body["id"])

        def splitter_figures(text: str) -> tuple[float | None, ...]:
            return (
                _sample(text, "splitter_feeds_quarantined", vendor=vendor),
                _sample(text, "splitter_vendor_orders_created_total", vendor=vendor),
                _sample(text, "splitter_held_orders", reason="unmapped_sku"),
            )

        # Held orders of every test count: the gauge must come to what the table holds once ours is held
        # (a reading taken before could be up to one refresh old, so no "before + 1").
        pool = system.splitter.pool

        async def figures_follow_the_table() -> bool:
            figures = splitter_figures(await _scrape(system, "splitter"))
            held = {row["reason"]: row["orders"] for row in await pool.fetch(HELD_BY_REASON)}
            ours = await pool.fetchval("SELECT state FROM routed_orders WHERE order_id = $1", placed[1])
            return ours == "held" and figures == (1, 1, held.get("unmapped_sku", 0))

        await wait_until(figures_follow_the_table, timeout=30, every=0.5)

        accepted = await api.ok("POST", "splitter", f"/v1/feeds/{feed['feed_id']}/accept")
        assert accepted["state"] == "accepted"

        await _until(
            system,
            "splitter",
            lambda text: _sample(text, "splitter_feeds_quarantined", vendor=vendor),
            lambda got: got == 0,
        )
    finally:
        await remove_vendor_queues(system, [vendor])


async def test_shipstation_poll_age_and_zone_warning_follow_its_tables(system: RunningSystem) -> None:
    merchant = await new_merchant(system, settings={"timezone": "America/Chicago"})
    vendor = merchant.vendor
    try:
        # Connected five hours ago and never polled since: the age counts from the credentials.
        await system.shipstation.pool.execute(
            "UPDATE connections SET created_at = now() - interval '5 hours',"
            " credentials_rotated_at = now() - interval '5 hours' WHERE vendor = $1",
            vendor,
        )

        def connection_figures(text: str) -> tuple[float | None, float | None]:
            return (
                _sample(text, "shipstation_last_poll_age_seconds", vendor=vendor),
                _sample(text, "shipstation_zone_warning", vendor=vendor),
            )

        five_hours = 5 * 3600
        await _until(
            system,
            "shipstation",
            connection_figures,
            lambda got: got[0] is not None and five_hours <= got[0] < five_hours + 120 and got[1] == 0,
        )

        # ShipStation refreshes with its clock in UTC while the vendor is set to Chicago: an answered
        # export (the age starts again) and a zone warning.
        await standin(system, merchant, zone=ZoneInfo("UTC")).refresh()
        polled_at = datetime.now(UTC)

        def fresh(got: tuple[float | None, float | None]) -> bool:
            limit = (datetime.now(UTC) - polled_at + timedelta(seconds=5)).total_seconds()
            return got[0] is not None and got[0] <= limit and got[1] == 1

        await _until(system, "shipstation", connection_figures, fresh)
    finally:
        await remove_vendor_queues(system, [vendor])
