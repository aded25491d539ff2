"""One chaos scenario: thousands of orders through the five services (as processes), ShipStation
polling the export and posting ship notices, the gateway delivering to a webhook vendor (and, when a
scenario asks, an SFTP vendor), a channel receiving the webhooks, a fault injected mid-flow; then the
books are checked.

The parts, each playing someone outside the system:

- :class:`OrderLoad`, a sales channel: concurrent ``POST /v1/orders``, retried on connection errors
  and 5xx with the same ``external_id`` (idempotent), until accepted (201, or 200 for a retry);
- :class:`ShipStation`: walks the export (all pages), posts a ship notice for every new vendor order,
  some of them twice;
- :class:`tests.support.ChannelReceiver`, the channel's webhook endpoint;
- :class:`tests.chaos.vendors.VendorWebhooks`, the webhook vendor's endpoint the gateway posts to, and
  :class:`tests.chaos.vendors.SftpVendor`, an SFTP vendor's server;
- :func:`drain`, the person who reads the bus tap (every vendor message published) and the parked queues.

:func:`audit` then counts what was lost and what was duplicated, end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import aio_pika
import aiohttp
import asyncpg
from aiohttp import web
from lxml import etree

from shared.messaging.broker import connect
from shared.messaging.subscriptions import CHANNELS_STATUS
from tests.chaos.faults import list_queues
from tests.chaos.vendors import (
    SftpVendor,
    VendorWebhooks,
    audit_sftp_vendor,
    audit_webhook_vendor,
    connect_webhook_vendor,
    gateway_deliveries,
)
from tests.e2e.harness import ProcessSystem
from tests.support import Api, ChannelReceiver, basic_auth, order_payload, unique

EXPORT_PAGE_SIZE = 500
QueueDepths = Callable[[str], Awaitable[dict[str, tuple[int, int]]]]
SCHEMAS = ("intake", "splitter", "shipstation", "tracking", "gateway")


@dataclass
class SlowChannel(ChannelReceiver):
    """The channel's webhook endpoint, taking ``latency`` seconds to answer, as real ones do: a
    delivery is then in flight for long enough that a stop in the middle of it is likely."""

    latency: float = 0.0

    async def _handle(self, request: web.Request) -> web.Response:
        # Taken in at once, answered late: a sender that gives up waiting will send it again.
        response = await super()._handle(request)
        await asyncio.sleep(self.latency)
        return response


@dataclass(frozen=True)
class Shop:
    """The merchant's set-up: one channel, one ShipStation vendor (east), one webhook vendor (west)
    served by the gateway."""

    channel: str
    key: str
    east: str
    west: str
    east_skus: tuple[str, str]
    west_sku: str
    store_auth: dict[str, str]


async def set_up_shop(api: Api, receiver: ChannelReceiver, west_hooks: VendorWebhooks) -> Shop:
    channel, east, west = unique("shop-"), unique("east-"), unique("west-")
    created = await api.ok("PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop", "webhook_url": receiver.url})
    receiver.secret = created["webhook_secret"]
    await api.ok("PUT", "splitter", f"/v1/vendors/{east}", {"name": "East", "kind": "shipstation"})
    await api.ok("PUT", "splitter", f"/v1/vendors/{west}", {"name": "West", "kind": "webhook"})
    credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{east}/credentials")
    await api.ok("PUT", "shipstation", f"/v1/shipstation/{east}/settings", {"page_size": EXPORT_PAGE_SIZE})
    east_skus = (unique("TS-"), unique("CAP-"))
    west_sku = unique("MUG-")
    for sku in east_skus:
        await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": east, "priority": 1}]})
    await api.ok("PUT", "splitter", f"/v1/catalog/{west_sku}", {"sources": [{"vendor": west}]})
    await connect_webhook_vendor(api, west, west_hooks)
    return Shop(
        channel,
        created["api_key"],
        east,
        west,
        east_skus,
        west_sku,
        basic_auth(credentials["username"], credentials["password"]),
    )


async def _backoff(attempt: int) -> None:
    await asyncio.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))


class OrderLoad:
    """The channel: ``total`` orders of two or three lines (one more for ``extra_sku``), ``concurrency``
    requests in flight; with ``rate``, no more than that many orders started per second."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        intake_url: str,
        shop: Shop,
        total: int,
        concurrency: int,
        *,
        rate: float | None = None,
        extra_sku: str | None = None,
    ):
        self.session = session
        self.rate = rate
        self.extra_sku = extra_sku
        self._started_at = 0.0
        self.url = f"{intake_url}/v1/orders"
        self.shop = shop
        self.total = total
        self.concurrency = concurrency
        self.batch = uuid.uuid4().hex[:6]
        self.accepted: dict[str, str] = {}
        """external id → order id, for every order intake answered 201 (or 200 to a retry)."""
        self.created = 0
        self.posts = 0
        self.retries: Counter[str] = Counter()
        self._next = 0
        self._waiting: list[tuple[float, asyncio.Event]] = []

    def payload(self, index: int) -> dict[str, Any]:
        east_a, east_b = self.shop.east_skus
        lines = [(east_a, 1 + index % 3, "19.75")]
        if index % 2:
            lines.append((east_b, 1, "7.50"))
        lines.append((self.shop.west_sku, 1, "9.50"))
        if self.extra_sku:
            lines.append((self.extra_sku, 2, "4.25"))
        return order_payload(
            self.shop.channel,
            lines,
            external_id=f"ext-{self.batch}-{index:05d}",
            order_number=f"{self.batch.upper()}{index:05d}",
        )

    async def run(self) -> None:
        self._started_at = time.monotonic()
        await asyncio.gather(*(self._worker() for _ in range(self.concurrency)))

    async def _worker(self) -> None:
        while self._next < self.total:
            index = self._next
            self._next += 1
            if self.rate:
                await asyncio.sleep(max(0.0, self._started_at + index / self.rate - time.monotonic()))
            await self._place(self.payload(index))

    async def _place(self, payload: dict[str, Any]) -> None:
        headers = {"Authorization": f"Bearer {self.shop.key}"}
        timeout = aiohttp.ClientTimeout(total=20)
        for attempt in range(10_000):
            self.posts += 1
            try:
                async with self.session.post(self.url, json=payload, headers=headers, timeout=timeout) as response:
                    body = await response.read()
                    if response.status in (200, 201):
                        self.accepted[payload["external_id"]] = json.loads(body)["id"]
                        self.created += response.status == 201
                        for threshold, event in self._waiting:
                            if len(self.accepted) >= threshold:
                                event.set()
                        return
                    if response.status < 500 and response.status != 429:
                        raise AssertionError(f"intake refused an order: {response.status} {body[:500]!r}")
                    self.retries[f"HTTP {response.status}"] += 1
            except (aiohttp.ClientError, TimeoutError) as error:
                self.retries[type(error).__name__] += 1
            await _backoff(min(attempt, 6))

    async def reached(self, fraction: float) -> None:
        """Wait until ``fraction`` of the orders have been accepted."""
        reached = asyncio.Event()
        if len(self.accepted) >= self.total * fraction:
            return
        self._waiting.append((self.total * fraction, reached))
        await reached.wait()


class Refused(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"answered {status}: {body!r}")
        self.status = status


@dataclass(frozen=True)
class ExportedOrder:
    vendor_order_id: str
    number: str
    status: str


class ShipStation:
    """Polls the Custom Store export and posts a ship notice for each vendor order it has not shipped;
    every ``duplicate_every``-th notice is posted twice, as ShipStation sometimes does."""

    def __init__(
        self, session: aiohttp.ClientSession, store_urls: list[str], auth: dict[str, str], duplicate_every: int = 7
    ) -> None:
        self.session = session
        self.store_urls = store_urls
        self.auth = auth
        self.duplicate_every = duplicate_every
        self.notified: dict[str, str] = {}
        """vendor order id → tracking number, for every notice the adapter answered 200."""
        self.duplicates = 0
        self.walks = 0
        self.errors: Counter[str] = Counter()
        self._in_flight: set[str] = set()
        self._turn = 0

    def _url(self) -> str:
        self._turn += 1
        return self.store_urls[self._turn % len(self.store_urls)]

    async def export_page(self, page: int, end: str) -> etree._Element:
        query = urlencode({"action": "export", "start_date": "01/01/2020 00:00", "end_date": end, "page": page})
        timeout = aiohttp.ClientTimeout(total=60)
        async with self.session.get(f"{self._url()}?{query}", headers=self.auth, timeout=timeout) as response:
            body = await response.read()
            if response.status != 200:
                raise Refused(response.status, body[:300])
            return etree.fromstring(body)

    async def walk(self) -> list[ExportedOrder]:
        """Every page of the export, as ShipStation reads it."""
        # One window for the whole walk, as ShipStation does: later pages are read from page 1's snapshot.
        end = datetime.now(UTC).strftime("%m/%d/%Y %H:%M")
        first = await self.export_page(1, end)
        pages = [first] + [await self.export_page(page, end) for page in range(2, int(first.get("pages") or 0) + 1)]
        self.walks += 1
        return [
            ExportedOrder(o.findtext("OrderID") or "", o.findtext("OrderNumber") or "", o.findtext("OrderStatus") or "")
            for root in pages
            for o in root.iter("Order")
        ]

    async def notify(self, order: ExportedOrder) -> bool:
        tracking = f"1Z{order.vendor_order_id[-16:].upper()}"
        notice = (
            f"<ShipNotice><OrderNumber>{order.number}</OrderNumber><OrderID>{order.vendor_order_id}</OrderID>"
            f"<Carrier>UPS</Carrier><Service>Ground</Service><TrackingNumber>{tracking}</TrackingNumber>"
            "<ShipDate>11/27/2026</ShipDate><ShippingCost>4.10</ShippingCost></ShipNotice>"
        )
        query = urlencode({"action": "shipnotify", "order_number": order.number, "carrier": "UPS"})
        try:
            timeout = aiohttp.ClientTimeout(total=20)
            async with self.session.post(
                f"{self._url()}?{query}", data=notice, headers=self.auth, timeout=timeout
            ) as response:
                await response.read()
                if response.status != 200:
                    self.errors[f"shipnotify HTTP {response.status}"] += 1
                    return False
        except (aiohttp.ClientError, TimeoutError) as error:
            self.errors[f"shipnotify {type(error).__name__}"] += 1
            return False
        self.notified[order.vendor_order_id] = tracking
        return True

    async def _ship(self, order: ExportedOrder) -> None:
        self._in_flight.add(order.vendor_order_id)
        try:
            if await self.notify(order) and len(self.notified) % self.duplicate_every == 0 and await self.notify(order):
                self.duplicates += 1
        finally:
            self._in_flight.discard(order.vendor_order_id)

    async def run(self, stop: asyncio.Event) -> None:
        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            try:
                exported = await self.walk()
            except Refused as error:
                self.errors[f"export HTTP {error.status}"] += 1
                exported = []
            except (aiohttp.ClientError, TimeoutError, etree.XMLSyntaxError) as error:
                self.errors[f"export {type(error).__name__}"] += 1
                exported = []
            for order in exported:
                if order.vendor_order_id not in self.notified and order.vendor_order_id not in self._in_flight:
                    while len(tasks) >= 12:
                        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    task = asyncio.create_task(self._ship(order))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


async def publish_poison(amqp_url: str, namespace: str) -> str:
    """A deliberately malformed ``order.received``: it must end up parked, and nothing else may."""
    message_id = f"poison-{uuid.uuid4().hex}"
    connection = await connect(amqp_url, name="tests-chaos-poison")
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{namespace}.dropship.events")
        await exchange.publish(
            aio_pika.Message(b'{"type": "order.received", "data": ', message_id=message_id, content_type="text/plain"),
            routing_key="order.received",
            mandatory=True,
        )
    finally:
        await connection.close()
    return message_id


@dataclass
class Drained:
    """Messages taken off a queue (and acknowledged): message id and body of each."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)


async def drain(amqp_url: str, queues: Iterable[str], settle: float = 1.0, timeout: float = 120) -> dict[str, Drained]:
    """Take every message off ``queues`` and acknowledge it; stop when each stayed empty for ``settle``."""
    drained: dict[str, Drained] = {}
    deadline = time.monotonic() + timeout
    connection = await connect(amqp_url, name="tests-chaos-drain")
    try:
        channel = await connection.channel()
        for name in queues:
            queue = await channel.get_queue(name, ensure=True)
            taken = drained.setdefault(name, Drained())
            quiet_since = time.monotonic()
            while time.monotonic() - quiet_since < settle and time.monotonic() < deadline:
                message = await queue.get(no_ack=False, fail=False, timeout=10)
                if message is None:
                    await asyncio.sleep(0.1)
                    continue
                taken.messages.append((message.message_id or "", message.body))
                await message.ack()
                quiet_since = time.monotonic()
    finally:
        await connection.close()
    return drained


@dataclass
class Verdict:
    """What a scenario found: orders accepted, faults injected, and every loss or duplicate by kind."""

    scenario: str
    orders: int = 0
    faults: int = 0
    seconds: float = 0.0
    lost: Counter[str] = field(default_factory=Counter)
    duplicated: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def problem(self, text: str) -> None:
        if len(self.problems) < 40:
            self.problems.append(text)

    def lose(self, kind: str, what: str, count: int = 1) -> None:
        self.lost[kind] += count
        self.problem(f"lost ({kind}): {what}")

    def duplicate(self, kind: str, what: str, count: int = 1) -> None:
        self.duplicated[kind] += count
        self.problem(f"duplicated ({kind}): {what}")

    @property
    def total_lost(self) -> int:
        return sum(self.lost.values())

    @property
    def total_duplicated(self) -> int:
        return sum(self.duplicated.values())

    def report(self) -> str:
        lines = [
            f"{self.scenario}: {self.orders} orders, {self.faults} faults, "
            f"lost {self.total_lost} {dict(self.lost)}, duplicated {self.total_duplicated} {dict(self.duplicated)}",
            *(f"  - {p}" for p in self.problems),
            *(f"  {k}: {v}" for k, v in self.notes.items()),
        ]
        return "\n".join(lines)


@dataclass
class World:
    """A running system and the outside parties around it, for one scenario."""

    processes: ProcessSystem
    api: Api
    receiver: SlowChannel
    shop: Shop
    database_url: str
    amqp_url: str
    namespace: str
    west_hooks: VendorWebhooks
    tap: str
    """The queue that keeps a copy of every vendor message published (:func:`tests.chaos.vendors.open_tap`)."""
    north: SftpVendor | None = None
    """An SFTP vendor, for the scenarios that add one: then every order has a line for it too."""
    queue_depths: QueueDepths = list_queues
    """Ready and unacknowledged messages of a namespace's queues, asked of the broker the system runs on."""

    def store_url(self, url: str) -> str:
        return f"{url}/shipstation/{self.shop.east}"

    def queue(self, base: str) -> str:
        return f"{self.namespace}.{base}"

    @property
    def gateway_vendors(self) -> list[str]:
        """The vendors the gateway delivers to in this scenario."""
        return [self.shop.west, *([self.north.code] if self.north else [])]


async def _check_listeners(world: World, verdict: Verdict) -> None:
    expected: Counter[str] = Counter()
    for proc in [*world.processes.processes.values(), *world.processes.extra]:
        expected[f"outbox_{proc.name}"] += 1
        if proc.name == "intake":
            expected["upstream_intake"] += 1
        if proc.name == "gateway":
            expected["deliveries_gateway"] += 1
    database = urlsplit(world.database_url).path.lstrip("/")  # a URL may carry parameters after its name
    connection = await _db(world.database_url)
    try:
        rows = await connection.fetch(
            "SELECT query FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN %'", database
        )
    finally:
        await connection.close()
    listening = Counter(row["query"].split(None, 1)[1].strip().strip('"') for row in rows)
    verdict.notes["LISTEN connections"] = dict(listening)
    for channel, count in expected.items():
        if listening[channel] < count:
            verdict.problem(f"{count - listening[channel]} of {count} LISTEN {channel} connections not re-established")


Fault = Callable[[OrderLoad], Awaitable[int]]
"""Injects faults while the flow runs (waiting on the load's progress); answers how many it injected."""


async def _db(database_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(database_url, timeout=10)


async def _pending_work(world: World, load: OrderLoad, shipstation: ShipStation) -> str | None:
    """What the system still has to do; ``None`` once everything accepted has gone all the way."""
    expected = len(load.accepted)
    shipped_orders = {d.json["order_id"] for d in world.receiver.deliveries if d.json.get("shipment")}
    if len(shipstation.notified) < expected:
        return f"ShipStation notified {len(shipstation.notified)} of {expected} vendor orders"
    if len(shipped_orders) < expected:
        return f"the channel heard of shipments for {len(shipped_orders)} of {expected} orders"
    connection = await _db(world.database_url)
    try:
        for schema in SCHEMAS:
            unsent = await connection.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL")  # noqa: S608
            if unsent:
                return f"{unsent} unpublished outbox rows in {schema}"
        undelivered = await connection.fetchval(
            "SELECT count(*) FROM intake.upstream_deliveries WHERE delivered_at IS NULL"
        )
        if undelivered:
            return f"{undelivered} channel webhooks not delivered yet"
        unsent = await connection.fetchval("SELECT count(*) FROM gateway.deliveries WHERE state = 'pending'")
        if unsent:
            return f"{unsent} vendor deliveries pending in the gateway"
        vendor_orders = await connection.fetchval(
            "SELECT count(*) FROM splitter.vendor_orders WHERE vendor = $1", world.shop.west
        )
        if vendor_orders < expected:
            return f"the splitter made {vendor_orders} of {expected} vendor orders for {world.shop.west}"
    finally:
        await connection.close()
    for name, (ready, unacked) in (await world.queue_depths(world.namespace)).items():
        if name.endswith(".parked") or (name in (world.tap, world.queue(CHANNELS_STATUS.name)) and not unacked):
            continue  # queues nobody here consumes (the audit's tap, the channel connectors')
        if ready or unacked:
            return f"queue {name}: {ready} ready, {unacked} unacknowledged"
    return None


async def settle(world: World, load: OrderLoad, shipstation: ShipStation, timeout: float) -> str | None:
    """Wait until nothing is pending; answers what was still pending at the deadline, if anything."""
    deadline = time.monotonic() + timeout
    pending: str | None = "not checked yet"
    while time.monotonic() < deadline:
        try:
            pending = await _pending_work(world, load, shipstation)
        except (OSError, asyncpg.PostgresError, RuntimeError) as error:
            pending = f"could not check: {error}"
        if pending is None:
            return None
        await asyncio.sleep(1.0)
    return pending


async def audit(world: World, load: OrderLoad, shipstation: ShipStation, poisoned: set[str], verdict: Verdict) -> None:
    """Count, end to end, what was lost and what was duplicated."""
    shop = world.shop
    order_ids = set(load.accepted.values())
    verdict.orders = len(order_ids)

    connection = await _db(world.database_url)
    try:
        stored = await connection.fetchval("SELECT count(*) FROM intake.orders WHERE channel = $1", shop.channel)
        if stored != len(order_ids):
            verdict.duplicate("intake order", f"{stored} orders stored for {len(order_ids)} accepted")
        routed: dict[str, str] = {
            row["order_id"]: row["state"]
            for row in await connection.fetch(
                "SELECT order_id, state FROM splitter.routed_orders WHERE order_id = ANY($1)", list(order_ids)
            )
        }
        rows = await connection.fetch(
            "SELECT id, order_id, vendor, number FROM splitter.vendor_orders WHERE order_id = ANY($1)", list(order_ids)
        )
        delivered = {vendor: await gateway_deliveries(connection, vendor) for vendor in world.gateway_vendors}
        statuses = Counter(
            row["status"]
            for row in await connection.fetch("SELECT status FROM intake.orders WHERE channel = $1", shop.channel)
        )
    finally:
        await connection.close()
    verdict.notes["intake statuses"] = dict(statuses)
    vendor_orders: dict[tuple[str, str], list[str]] = defaultdict(list)
    numbers: dict[str, str] = {}
    for row in rows:
        vendor_orders[(row["order_id"], row["vendor"])].append(row["id"])
        numbers[row["id"]] = row["number"]
    by_vendor: dict[str, dict[str, str]] = {vendor: {} for vendor in (shop.east, *world.gateway_vendors)}
    east_orders = by_vendor[shop.east]
    for order_id in sorted(order_ids):
        if routed.get(order_id) != "routed":
            verdict.problem(f"order {order_id} is {routed.get(order_id) or 'unknown to the splitter'}")
        for vendor, mine in by_vendor.items():
            ids = vendor_orders.get((order_id, vendor), [])
            if not ids:
                verdict.lose("vendor order", f"order {order_id} has no vendor order for {vendor}")
            elif len(ids) > 1:
                verdict.duplicate(
                    "vendor order", f"order {order_id} has {len(ids)} vendor orders for {vendor}", len(ids) - 1
                )
            for vendor_order_id in ids:
                mine[vendor_order_id] = order_id
    if statuses.get("partially_shipped", 0) != len(order_ids):
        verdict.lose(
            "intake status",
            f"intake shows {dict(statuses)} for {len(order_ids)} shipped orders",
            len(order_ids) - statuses.get("partially_shipped", 0),
        )

    # ShipStation: a full walk of the export, every page; each vendor order exactly once.
    exported = Counter(order.vendor_order_id for order in await shipstation.walk())
    for vendor_order_id in east_orders:
        seen = exported.pop(vendor_order_id, 0)
        if seen == 0:
            verdict.lose("export", f"vendor order {vendor_order_id} missing from the export")
        elif seen > 1:
            verdict.duplicate("export", f"vendor order {vendor_order_id} exported {seen} times", seen - 1)
    for vendor_order_id, seen in exported.items():
        verdict.duplicate("export", f"export lists {vendor_order_id}, which the splitter never made", seen)
    for vendor_order_id in east_orders:
        if vendor_order_id not in shipstation.notified:
            verdict.lose("ship notice", f"vendor order {vendor_order_id} was never shipped")

    # The channel: one shipment per order, each under one webhook-id however often it came.
    webhook_ids: dict[str, set[str]] = defaultdict(set)
    shipments: dict[str, set[str]] = defaultdict(set)
    unsigned = 0
    for delivery in world.receiver.deliveries:
        body = delivery.json
        if not world.receiver.verify(delivery):
            unsigned += 1
        if body.get("shipment"):
            webhook_ids[body["shipment"]["shipment_id"]].add(delivery.headers["webhook-id"])
            shipments[body["order_id"]].add(body["shipment"]["shipment_id"])
    if unsigned:
        verdict.problem(f"{unsigned} webhooks failed signature verification")
    repeats = len(world.receiver.deliveries) - len({d.headers["webhook-id"] for d in world.receiver.deliveries})
    verdict.notes["channel webhooks"] = f"{len(world.receiver.deliveries)} received, {repeats} repeated webhook-ids"
    verdict.notes["repeated webhook-ids"] = repeats
    for order_id in sorted(order_ids):
        if not shipments.get(order_id):
            verdict.lose("shipment at channel", f"order {order_id}: no shipment reached the channel")
        elif len(shipments[order_id]) > 1:
            verdict.duplicate(
                "shipment at channel",
                f"order {order_id}: shipments {sorted(shipments[order_id])}",
                len(shipments[order_id]) - 1,
            )
    for shipment_id, hook_ids in webhook_ids.items():
        if len(hook_ids) > 1:
            verdict.duplicate(
                "webhook", f"shipment {shipment_id} sent under webhook-ids {sorted(hook_ids)}", len(hook_ids) - 1
            )

    # Every process listens again for its wake-ups (a dead LISTEN leaves the relay polling).
    await _check_listeners(world, verdict)

    # The vendors the gateway serves: each vendor order delivered at least once, never under two identities.
    audit_webhook_vendor(verdict, shop.west, world.west_hooks, set(by_vendor[shop.west]), delivered[shop.west])
    if world.north is not None:
        north_numbers = {vendor_order_id: numbers[vendor_order_id] for vendor_order_id in by_vendor[world.north.code]}
        audit_sftp_vendor(verdict, world.north, north_numbers, delivered[world.north.code])

    # The bus: the tap holds each vendor message the gateway was given under one message id; the
    # parked queues hold exactly the poison; nothing else is left anywhere.
    queues = await world.queue_depths(world.namespace)
    parked = sorted(name for name in queues if name.endswith(".parked"))
    # channels.status: the chaos flow has no shop, so whatever the channels service has not taken yet is
    # emptied here rather than counted as a leftover.
    drained = await drain(world.amqp_url, [world.tap, world.queue(CHANNELS_STATUS.name), *parked])
    message_ids: dict[str, set[str]] = defaultdict(set)
    deliveries = Counter[str]()
    for message_id, body in drained[world.tap].messages:
        vendor_order_id = json.loads(body)["data"]["vendor_order_id"]
        message_ids[vendor_order_id].add(message_id)
        deliveries[message_id] += 1
    verdict.notes["vendor messages on the bus"] = (
        f"{len(drained[world.tap].messages)} taken, {sum(n - 1 for n in deliveries.values())} republished copies"
    )
    verdict.notes["republished copies"] = sum(n - 1 for n in deliveries.values())
    for vendor in world.gateway_vendors:
        for vendor_order_id in by_vendor[vendor]:
            carried = message_ids.pop(vendor_order_id, set())
            if not carried:
                verdict.lose("vendor message", f"vendor order {vendor_order_id} was never published for {vendor}")
            elif len(carried) > 1:
                verdict.duplicate(
                    "vendor message",
                    f"vendor order {vendor_order_id} under message ids {sorted(carried)}",
                    len(carried) - 1,
                )
    for vendor_order_id in message_ids:
        verdict.duplicate("vendor message", f"the bus carried unknown vendor order {vendor_order_id}")
    for name in parked:
        found = {message_id for message_id, _ in drained[name].messages}
        unexpected = found - poisoned
        if unexpected:
            verdict.lose("parked", f"{len(unexpected)} messages parked in {name}", len(unexpected))
    parked_poison = {message_id for name in parked for message_id, _ in drained[name].messages} & poisoned
    if parked_poison != poisoned:
        verdict.problem(f"the poison message was not parked (parked: {sorted(parked_poison)})")
    leftovers = {name: depth for name, depth in (await world.queue_depths(world.namespace)).items() if depth != (0, 0)}
    # Parking is at-least-once (the copy is confirmed before the original is acked), so a stop between
    # the two parks the poison again, possibly after the drain above: a late copy of the poison is fine,
    # anything else parked late is not.
    late = await drain(world.amqp_url, [name for name in leftovers if name.endswith(".parked")])
    for name, taken in late.items():
        unexpected = {message_id for message_id, _ in taken.messages} - poisoned
        if unexpected:
            verdict.lose("parked", f"{len(unexpected)} messages parked late in {name}", len(unexpected))
        leftovers.pop(name)
    if leftovers:
        verdict.problem(f"messages left in queues (ready, unacknowledged): {leftovers}")


@dataclass
class Run:
    verdict: Verdict
    load: OrderLoad
    shipstation: ShipStation

    def failed_requests(self) -> list[str]:
        """The kinds of failure the channel and ShipStation saw, e.g. ``HTTP 503``, ``export HTTP 500``."""
        return [*self.load.retries, *self.shipstation.errors]


async def run_scenario(
    world: World,
    name: str,
    *,
    orders: int,
    fault: Fault,
    concurrency: int = 24,
    rate: float | None = None,
    store_urls: list[str] | None = None,
    load_timeout: float = 300,
    settle_timeout: float = 180,
) -> Run:
    """Send ``orders`` orders while ``fault`` strikes, wait for the system to catch up, and audit it."""
    verdict = Verdict(name)
    started = time.monotonic()
    poison = await publish_poison(world.amqp_url, world.namespace)
    extra_sku = world.north.sku if world.north else None
    load = OrderLoad(
        world.api.session,
        world.processes.urls["intake"],
        world.shop,
        orders,
        concurrency,
        rate=rate,
        extra_sku=extra_sku,
    )
    urls = store_urls or [world.store_url(world.processes.urls["shipstation"])]
    shipstation = ShipStation(world.api.session, urls, world.shop.store_auth)
    stop = asyncio.Event()
    poller = asyncio.create_task(shipstation.run(stop), name="shipstation-poller")
    sending = asyncio.create_task(load.run(), name="order-load")
    try:
        verdict.faults = await fault(load)
        try:
            await asyncio.wait_for(asyncio.shield(sending), timeout=load_timeout)
        except TimeoutError:
            verdict.problem(f"only {len(load.accepted)} of {orders} orders accepted within {load_timeout:.0f}s")
        verdict.notes["orders accepted after"] = f"{time.monotonic() - started:.1f}s"
        # Nobody restarts anything by hand: every service must be ready again by itself.
        try:
            await world.processes.wait_ready(timeout=90)
        except (TimeoutError, RuntimeError) as error:
            verdict.problem(f"a service did not come back by itself: {str(error)[:2000]}")
        pending = await settle(world, load, shipstation, settle_timeout)
        if pending is not None:
            verdict.problem(f"not settled within {settle_timeout:.0f}s: {pending}")
        verdict.notes["settled after"] = f"{time.monotonic() - started:.1f}s"
    finally:
        sending.cancel()
        stop.set()
        await asyncio.gather(sending, poller, return_exceptions=True)
    await audit(world, load, shipstation, {poison}, verdict)
    verdict.seconds = time.monotonic() - started
    verdict.notes["order posts"] = (
        f"{load.posts} for {load.total} orders ({load.created} created), retries {dict(load.retries)}"
    )
    # An outage is a 503 with a JSON error, never a 500.
    failures = [kind for kind in [*load.retries, *shipstation.errors] if kind.endswith("HTTP 500")]
    if failures:
        verdict.problem(f"internal errors answered during the fault: {failures}")
    verdict.notes["ShipStation"] = (
        f"{len(shipstation.notified)} notices, {shipstation.duplicates} sent twice, {shipstation.walks} export walks,"
        f" errors {dict(shipstation.errors)}"
    )
    return Run(verdict, load, shipstation)
