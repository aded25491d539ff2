"""Two instances of every service that has scheduled work, on one database and namespace, and each unit of
that work done once: the outbox relays (each event on the bus once, counted by a tap beside the real
consumers), intake's webhook rounds (each channel webhook once), the gateway's deliveries (each webhook
vendor order once, each SFTP order file written once), its SFTP polls (each tracking and stock file read
once, one pickup each) and the stock feeds they bring (one feed each), the channels service's worker
(each platform order applied once, each shipment pushed to the platform once).

"Once" is counted where the outside world sees it (the tap, the receivers, the SFTP server's own
record of opens, the fake platform's requests) and where the claim is recorded (every claim counts an
attempt: one each). Both instances must have done some of the work, or the test would prove nothing.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from shared.db import drop_database, ensure_database
from tests.chaos.vendors import VendorWebhooks, WatchedSftpServer, webhook_secret
from tests.chaos.world import chaos_env
from tests.conftest import BASE_DATABASE_URL, RUN_ID, _broker_queues, _remove_namespaces
from tests.e2e.harness import BrokerTap, ProcessSystem
from tests.fakes.shopify import FakeShopify
from tests.integration.channels.conftest import SHOPIFY_SECRET, SHOPIFY_TOKEN, shopify_order
from tests.support import AMQP_URL, Api, ChannelReceiver, order_payload, unique, wait_until

DOUBLED = ("intake", "splitter", "tracking", "gateway", "channels")
"""The services whose scheduled work is under test (no ShipStation vendor here: its adapter is not needed)."""
ORDERS = 40
TRACKING_FILES = 4
STOCK_FILES = 3
SHOP_ORDERS = 6
INBOUND = {"shipments": "/tracking", "inventory": "/inventory"}
TAPPED = ("order.received", "vendor_order.created.*", "shipment.reported", "order.status_changed", "inventory.updated")

pytestmark = pytest.mark.timeout(300)


@dataclass
class Doubled:
    processes: ProcessSystem
    first: Api
    second: Api
    tap: BrokerTap

    def both(self, index: int) -> Api:
        """The first instance's API for even ``index``, the second's for odd: callers alternate."""
        return self.second if index % 2 else self.first

    database: asyncpg.Connection
    """The test's one connection (the machine's PostgreSQL is shared: no connection per question)."""

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self.database.fetch(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        rows = await self.fetch(sql, *args)
        return rows[0][0] if rows else None

    async def work_by_instance(self, series: dict[str, str]) -> dict[str, list[float]]:
        """For each service named in ``series``, the sum of that series' samples, per instance (first,
        second): counters that the scheduled work increments as it goes."""
        figures: dict[str, list[float]] = {}
        async with aiohttp.ClientSession() as session:
            for proc in [*self.processes.processes.values(), *self.processes.extra]:
                if proc.name not in series:
                    continue
                async with session.get(f"{proc.url}/metrics") as response:
                    text = await response.text()
                samples = [line for line in text.splitlines() if line.startswith(series[proc.name])]
                figures.setdefault(proc.name, []).append(sum(float(line.split()[-1]) for line in samples))
        return figures


@pytest.fixture(scope="module")
async def doubled(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Doubled]:
    namespace = f"test{RUN_ID}{uuid.uuid4().hex[:4]}"
    database_url = f"{BASE_DATABASE_URL}/dropship_{namespace.replace('test', 'test_', 1)}"
    admin_token = f"admin-{uuid.uuid4().hex}"
    await ensure_database(database_url)
    env = {
        **chaos_env(database_url, AMQP_URL, namespace, admin_token),
        "DROPSHIP_PICKUP_CHECK_SECONDS": "0.5",
        # Ten processes share the machine's PostgreSQL (100 connections) with everyone else's runs.
        "DROPSHIP_DB_POOL_SIZE": "2",
    }
    logs = tmp_path_factory.mktemp("two-instances-logs")
    processes = ProcessSystem(env, logs)
    tap: BrokerTap | None = None
    try:
        processes.start(DOUBLED)
        for name in DOUBLED:
            processes.add_instance(name)
        await processes.wait_ready(timeout=120)
        tap = await BrokerTap.open(AMQP_URL, namespace, TAPPED)
        second_urls = {proc.name: proc.url for proc in processes.extra}
        database = await asyncpg.connect(database_url, timeout=10)
        try:
            async with aiohttp.ClientSession() as session:
                yield Doubled(
                    processes,
                    Api(session, processes.urls, admin_token),
                    Api(session, second_urls, admin_token),
                    tap,
                    database,
                )
        finally:
            await database.close()
    finally:
        processes.stop_all()
        if tap is not None:
            await tap.close()
        try:
            await drop_database(database_url)
        finally:
            await _remove_namespaces({namespace}, _broker_queues())


def once_each(values: list[str]) -> dict[str, int]:
    """The values seen more than once, with how often."""
    return {value: count for value, count in Counter(values).items() if count > 1}


async def _sftp_vendor(api: Api, server: WatchedSftpServer) -> tuple[str, str, Path]:
    """A ``csv_sftp`` vendor polled every second; answers its code, its SKU and its chroot."""
    code, sku = unique("north-"), unique("BOX-")
    chroot = server.add_user(code, password="two-instances-sftp")
    for folder in ("orders", "tracking", "inventory"):
        (chroot / folder).mkdir()
    await api.ok("PUT", "splitter", f"/v1/vendors/{code}", {"name": "North", "kind": "csv_sftp"})
    await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": code, "vendor_sku": sku}]})
    settings = server.settings(code, password="two-instances-sftp", outbound_dir="/orders")
    sftp = {**settings.model_dump(mode="json", exclude_none=True), "inbound": INBOUND, "poll_seconds": 1}
    await api.ok("PUT", "gateway", f"/v1/connections/{code}", {"transport": "sftp", "format": "csv", "sftp": sftp})
    return code, sku, chroot


def _drop(folder: Path, name: str, content: str) -> None:
    """A vendor's upload: written under a hidden name, then renamed into place."""
    hidden = folder / f".{name}.uploading"
    hidden.write_text(content)
    hidden.rename(folder / name)


async def test_orders_deliveries_pickups_and_webhooks_once_with_two_of_each(doubled: Doubled, tmp_path: Path) -> None:
    api = doubled.first
    receiver = ChannelReceiver()
    west_hooks = VendorWebhooks(webhook_secret())
    server = WatchedSftpServer(tmp_path / "sftp")
    await receiver.start()
    await west_hooks.start()
    await server.start()
    try:
        channel = unique("shop-")
        created = await api.ok(
            "PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop", "webhook_url": receiver.url}
        )
        receiver.secret = created["webhook_secret"]
        west, west_sku = unique("west-"), unique("MUG-")
        await api.ok("PUT", "splitter", f"/v1/vendors/{west}", {"name": "West", "kind": "webhook"})
        await api.ok("PUT", "splitter", f"/v1/catalog/{west_sku}", {"sources": [{"vendor": west}]})
        connected = await api.ok(
            "PUT",
            "gateway",
            f"/v1/connections/{west}",
            {"transport": "webhook", "format": "json", "webhook": {"url": west_hooks.url, "secret": west_hooks.secret}},
        )
        north, north_sku, chroot = await _sftp_vendor(api, server)

        # Orders through both intakes: each is one order.received and two vendor orders.
        order_ids = []
        for index in range(ORDERS):
            payload = order_payload(channel, [(west_sku, 1, "9.50"), (north_sku, 1, "12.00")])
            order_ids.append(
                (await doubled.both(index).ok("POST", "intake", "/v1/orders", payload, created["api_key"]))["id"]
            )

        async def delivered_to_both() -> bool:
            files = [u for u in server.uploads if u.folder == "/orders"]
            return len(west_hooks.received) >= ORDERS and len(files) >= ORDERS

        await wait_until(delivered_to_both, timeout=90, every=0.2)
        rows = await doubled.fetch(
            "SELECT id, vendor, number FROM splitter.vendor_orders WHERE order_id = ANY($1)", order_ids
        )
        by_vendor: dict[str, list[asyncpg.Record]] = {west: [], north: []}
        for row in rows:
            by_vendor[row["vendor"]].append(row)
        assert {vendor: len(found) for vendor, found in by_vendor.items()} == {west: ORDERS, north: ORDERS}

        # West ships through the vendor API of either gateway; north drops tracking files, then stock files.
        for index, row in enumerate(by_vendor[west]):
            shipment = {"carrier": "UPS", "tracking_number": f"1ZW{index:08d}", "ship_date": "2026-11-27"}
            await doubled.both(index).ok(
                "POST", "gateway", f"/v1/vendor/orders/{row['id']}/shipments", shipment, connected["api_key"]
            )
        north_rows = by_vendor[north]
        tracking_names = [f"track-{index}.csv" for index in range(TRACKING_FILES)]
        for index, name in enumerate(tracking_names):
            lines = [
                f"{row['number']},{north_sku},1,UPS,1ZN{row['number']}" for row in north_rows[index::TRACKING_FILES]
            ]
            _drop(
                chroot / "tracking",
                name,
                "PO Number,SKU,Qty,Carrier,Tracking\r\n" + "".join(f"{line}\r\n" for line in lines),
            )
        stock_names = [f"stock-{index}.csv" for index in range(STOCK_FILES)]
        for index, name in enumerate(stock_names):
            _drop(chroot / "inventory", name, f"SKU,Qty\r\n{north_sku},{1000 + index}\r\n")
            await asyncio.sleep(0.7)  # over several polls, which either instance may take

        async def settled() -> str | None:
            """What is still under way; ``None`` once everything is done."""
            shipped = await doubled.fetchval(
                "SELECT count(*) FROM intake.orders WHERE channel = $1 AND status = 'shipped'", channel
            )
            if shipped < ORDERS:
                return f"{shipped} of {ORDERS} orders shipped"
            for schema in DOUBLED:
                if await doubled.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL"):  # noqa: S608
                    return f"outbox of {schema}"
            if await doubled.fetchval("SELECT count(*) FROM intake.upstream_deliveries WHERE delivered_at IS NULL"):
                return "channel webhooks"
            if await doubled.fetchval("SELECT count(*) FROM gateway.pickups WHERE vendor = $1 AND put_away", north) < (
                TRACKING_FILES + STOCK_FILES
            ):
                return "pickups"
            return None

        async def nothing_pending() -> bool:
            return await settled() is None

        await wait_until(nothing_pending, timeout=90, every=0.5)
        await asyncio.sleep(2.0)  # room for a second copy of anything, were one on its way

        # The bus: every event once (the relays of both instances of each service share their outbox).
        repeated = {kind: once_each([m["message_id"] for m in doubled.tap.messages(kind)]) for kind in
                    ("order.received", "vendor_order.created", "shipment.reported", "order.status_changed",
                     "inventory.updated")}  # fmt: skip
        assert repeated == {kind: {} for kind in repeated}, repeated
        assert len(doubled.tap.messages("order.received")) >= ORDERS
        mine = set(order_ids)
        shipments = [m for m in doubled.tap.messages("shipment.reported") if m["data"]["order_id"] in mine]
        assert len(shipments) == 2 * ORDERS
        for schema in DOUBLED:
            claimed_again = await doubled.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE attempts <> 1")  # noqa: S608
            assert claimed_again == 0, f"{claimed_again} outbox rows of {schema} were claimed more than once"

        # The gateway's deliveries: each vendor order once to the webhook vendor, each file written once.
        hook_ids = [hook.headers["webhook-id"] for hook in west_hooks.received]
        assert len(hook_ids) == ORDERS and once_each(hook_ids) == {}
        order_files = [u.name for u in server.uploads if u.folder == "/orders"]
        assert sorted(order_files) == sorted(f"{row['number']}.csv" for row in north_rows)
        attempts = await doubled.fetch(
            "SELECT vendor, attempts FROM gateway.deliveries WHERE vendor = ANY($1)", [west, north]
        )
        assert Counter(row["attempts"] for row in attempts) == {1: 2 * ORDERS}

        # The SFTP polls: each inbound file opened once, one pickup each; each stock file one feed.
        inbound = [f"/tracking/{name}" for name in tracking_names] + [f"/inventory/{name}" for name in stock_names]
        assert {path: server.reads[path] for path in inbound} == dict.fromkeys(inbound, 1)
        pickups = await doubled.fetch("SELECT name FROM gateway.pickups WHERE vendor = $1", north)
        assert sorted(row["name"] for row in pickups) == sorted([*tracking_names, *stock_names])
        feeds = [m for m in doubled.tap.messages("inventory.updated") if m["data"]["vendor"] == north]
        assert len(feeds) == STOCK_FILES
        assert await doubled.fetchval("SELECT count(*) FROM splitter.feeds WHERE vendor = $1", north) == STOCK_FILES

        # Intake's webhook rounds: each channel webhook once.
        webhook_ids = [delivery.headers["webhook-id"] for delivery in receiver.deliveries]
        assert once_each(webhook_ids) == {}
        assert (
            await doubled.fetchval(
                "SELECT count(*) FROM intake.upstream_deliveries WHERE attempts <> 1 AND order_id = ANY($1)", order_ids
            )
            == 0
        )

        # Both instances did part of the work: a second instance that never ran would pass the rest.
        work = await doubled.work_by_instance(
            {"intake": "webhook_deliveries_total", "gateway": "gateway_deliveries_total{"}
        )
        print(f"\ntwo instances: channel webhooks and vendor deliveries per instance {work}")
        assert all(len(figures) == 2 for figures in work.values()), work
        assert all(sum(figures) > 0 for figures in zip(*work.values(), strict=True)), work
    finally:
        await server.stop()
        await west_hooks.stop()
        await receiver.stop()


async def test_a_shops_orders_and_shipments_once_with_two_channels_instances(doubled: Doubled) -> None:
    api = doubled.first
    west_hooks = VendorWebhooks(webhook_secret())
    shopify = FakeShopify(SHOPIFY_TOKEN, SHOPIFY_SECRET)
    await west_hooks.start()
    await shopify.start()
    try:
        west = unique("west-")
        skus = (unique("PINK-"), unique("CASE-"))
        await api.ok("PUT", "splitter", f"/v1/vendors/{west}", {"name": "West", "kind": "webhook"})
        for sku in skus:
            await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": west}]})
        connected = await api.ok(
            "PUT",
            "gateway",
            f"/v1/connections/{west}",
            {"transport": "webhook", "format": "json", "webhook": {"url": west_hooks.url, "secret": west_hooks.secret}},
        )
        shop = unique("shop-")
        shop_fields = {
            "platform": "shopify",
            "channel": unique("sf-"),
            "base_url": shopify.base_url,
            "access_token": SHOPIFY_TOKEN,
            "webhook_secret": SHOPIFY_SECRET,
        }
        await api.ok("PUT", "channels", f"/v1/shops/{shop}", shop_fields)
        platform_orders = []
        for index in range(SHOP_ORDERS):
            payload = shopify_order(id=random.randint(10**15, 10**16))
            for line, sku in zip(payload["line_items"], skus, strict=False):
                line["sku"] = sku
            # A ship-to of its own: look-alike orders within the hour would be held as duplicates.
            payload["shipping_address"]["address1"] = f"{index + 1} Main St"
            order = shopify.add_order(payload)
            platform_orders.append(order["id"])
            hook = f"{doubled.both(index).urls['channels']}/hooks/shopify/{shop}"
            assert await shopify.send_webhook(hook, "orders/create", order) == 200

        async def all_in_intake() -> list[str] | None:
            listed = await api.ok("GET", "channels", f"/v1/shops/{shop}/orders")
            found = [o["order_id"] for o in listed["orders"] if o["order_id"]]
            return found if len(found) >= SHOP_ORDERS else None

        order_ids = await wait_until(all_in_intake, timeout=60, every=0.2)
        await wait_until(lambda: _at_least(len(west_hooks.received), SHOP_ORDERS), timeout=60, every=0.2)
        vendor_orders = await doubled.fetch("SELECT id FROM splitter.vendor_orders WHERE order_id = ANY($1)", order_ids)
        assert len(vendor_orders) == SHOP_ORDERS
        for index, row in enumerate(vendor_orders):
            shipment = {"carrier": "UPS", "tracking_number": f"1ZS{index:08d}", "ship_date": "2026-11-27"}
            await doubled.both(index).ok(
                "POST", "gateway", f"/v1/vendor/orders/{row['id']}/shipments", shipment, connected["api_key"]
            )

        async def all_fulfilled() -> bool:
            return all(shopify.fulfillments(order_id) for order_id in platform_orders)

        await wait_until(all_fulfilled, timeout=60, every=0.2)
        await asyncio.sleep(3.0)  # room for a second push, were one on its way

        creates = [r for r in shopify.requests if "fulfillmentCreate" in r["body"]]
        assert len(creates) == SHOP_ORDERS, f"{len(creates)} fulfillmentCreate calls for {SHOP_ORDERS} shipments"
        assert {order_id: len(shopify.fulfillments(order_id)) for order_id in platform_orders} == dict.fromkeys(
            platform_orders, 1
        )
        work = await doubled.work_by_instance({"channels": "channel_tasks_total{"})
        print(f"\ntwo instances: shop tasks per channels instance {work}")
        tasks = await doubled.fetch("SELECT kind, state, attempts FROM channels.tasks WHERE shop = $1", shop)
        assert Counter((row["kind"], row["state"], row["attempts"]) for row in tasks) == {
            ("webhook", "done", 1): SHOP_ORDERS,
            ("shipment", "done", 1): SHOP_ORDERS,
        }
    finally:
        await shopify.stop()
        await west_hooks.stop()


async def _at_least(value: int, wanted: int) -> bool:
    return value >= wanted
