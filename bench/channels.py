"""The channels service under load, with a Shopify shop played by the fake Shopify (``tests/fakes/shopify.py``)
in the bench process: order webhooks in, fulfillments out, and a platform outage caught up.

1. **Webhook → intake order**: N orders (Shopify's documented example shape, each with its own ids and
   customer) are placed on the fake and their ``orders/create`` webhooks, signed by the fake, sent open
   loop at a fixed rate. Client side: each webhook's answer time from its scheduled send. Service side,
   from the channels service's own ``tasks`` table: arrival (``created_at``) → intake order created
   (``done_at``, when the worker's round recorded intake's answer).
2. **Fulfillments per second**: one shipment per order (every line intake holds, a tracking number) is
   published at once as ``order.status_changed``, as tracking publishes it. Fulfillments per second is N ÷
   (the fake's last fulfillment - the first publish); the task figures are ``created_at`` → ``done_at``.
3. **Outage**: the fake answers 503 to everything while M = N/4 more orders arrive by webhook (they do not
   need the platform) and each is shipped as soon as intake holds it (which does). The shop view's backlog
   is sampled meanwhile; once the platform is back, the time until the backlog is empty, then how many
   fulfillments each order got (none is lost, none doubled).

Times from the database are PostgreSQL's clock; the bench's own are this machine's monotonic clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp

from bench.environment import connect_database
from bench.scenario import call
from bench.stats import summary
from bench.system import BenchSystem
from shared.contracts.orders import OrderStatusChanged, OrderStatusChangedData, ShipmentSummary
from tests.fakes.shopify import FakeShopify

ORDER_EXAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "channels" / "shopify_order.json"
FIRST_ORDER_ID = 7_000_000_000_000
"""Platform order ids of the run (line item ids are derived from them): far from the example's own."""
BACKLOG_SAMPLE_SECONDS = 1.0
RETURN_WITHIN_SECONDS = 240.0
"""After the platform's return, how long the backlog may take to empty (the worker's longest backoff is a minute)."""


class TimedShopify(FakeShopify):
    """The fake Shopify, noting when each order got each fulfillment (this machine's monotonic clock)."""

    def __init__(self, access_token: str, webhook_secret: str) -> None:
        super().__init__(access_token, webhook_secret)
        self.fulfilled_at: dict[int, list[float]] = {}

    def _fulfillment_create(
        self, _info: Any, fulfillment: dict[str, Any], message: str | None = None
    ) -> dict[str, Any]:
        answer = super()._fulfillment_create(_info, fulfillment, message)
        if answer.get("fulfillment") is not None:
            order = int(str(fulfillment["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderId"]).rsplit("/", 1)[1])
            self.fulfilled_at.setdefault(self.fulfillment_orders[order]["order_id"], []).append(time.monotonic())
        return answer

    def fulfillment_counts(self, order_ids: list[int]) -> list[int]:
        return [len(self.fulfillment_records.get(order_id, [])) for order_id in order_ids]


@dataclass
class Shop:
    """The bench's Shopify shop: the fake, its code on the channels service, and its intake channel."""

    fake: TimedShopify
    code: str
    channel: str
    hook_url: str
    orders: list[dict[str, Any]] = field(default_factory=list)

    def place(self, count: int) -> list[dict[str, Any]]:
        """``count`` more orders on the fake: the documented example, each with its own ids and customer."""
        example = json.loads(ORDER_EXAMPLE.read_text(encoding="utf-8"))
        placed = []
        for _ in range(count):
            index = len(self.orders)
            order = copy.deepcopy(example)
            number = FIRST_ORDER_ID + index * 100
            order.update(id=number, name=f"#{20_000 + index}", email=f"buyer.{self.code}.{index}@example.com")
            order["admin_graphql_api_id"] = f"gid://shopify/Order/{number}"
            order["customer"].update(id=number + 1, email=order["email"], first_name=f"Buyer{index}")
            order["shipping_address"].update(name=f"Buyer{index} Shipper", first_name=f"Buyer{index}")
            for position, item in enumerate(order["line_items"], start=1):
                item["id"] = number + position
                item["admin_graphql_api_id"] = f"gid://shopify/LineItem/{number + position}"
            stored = self.fake.add_order(order)
            self.orders.append(stored)
            placed.append(stored)
        return placed


async def set_up(session: aiohttp.ClientSession, urls: dict[str, str], admin_token: str, run_id: str) -> Shop:
    """The fake started and the shop added through the channels service's admin API; answers once the
    shop's first reconcile has run (so it cannot race the webhooks for the orders placed next)."""
    token, secret = f"shpat_{secrets.token_hex(16)}", secrets.token_urlsafe(24)
    fake = TimedShopify(token, secret)
    await fake.start()
    code, channel = f"bench-shopify-{run_id}", f"bench-shopify-{run_id}"
    base = f"{urls['channels']}/v1/shops/{code}"
    body = {"platform": "shopify", "channel": channel, "base_url": fake.base_url, "access_token": token}
    try:
        await call(session, "PUT", base, admin_token, {**body, "webhook_secret": secret})
        deadline = time.monotonic() + 30
        while (await call(session, "GET", base, admin_token))["reconcile"]["last_at"] is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"shop {code}: no first reconcile within 30 s")
            await asyncio.sleep(0.2)
    except BaseException:
        await fake.stop()
        raise
    return Shop(fake, code, channel, f"{urls['channels']}/hooks/shopify/{code}")


async def _send_webhooks(shop: Shop, orders: list[dict[str, Any]], rate: float) -> dict[str, Any]:
    """``orders/create`` for each order, open loop at ``rate``: answer times count from the scheduled send."""
    answers: list[float] = []
    errors: dict[str, int] = {}

    async def send(order: dict[str, Any], scheduled: float) -> None:
        status = await shop.fake.send_webhook(shop.hook_url, "orders/create", order)
        if status == 200:
            answers.append(time.monotonic() - scheduled)
        else:
            errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1

    start = time.monotonic() + 0.05
    sends = []
    for index, order in enumerate(orders):
        scheduled = start + index / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sends.append(asyncio.create_task(send(order, scheduled)))
    await asyncio.gather(*sends)
    return {"sent": len(orders), "answered_200": len(answers), "errors": errors, "answer_s": summary(answers)}


async def _task_figures(dsn: str, shop: str, kind: str, lanes: list[str]) -> dict[str, Any]:
    """The shop's ``kind`` tasks of these platform orders: states, and created → done of those done."""
    connection = await connect_database(dsn)
    try:
        rows = await connection.fetch(
            "SELECT state, extract(epoch FROM done_at - created_at)::float8 AS took FROM channels.tasks"
            " WHERE shop = $1 AND kind = $2 AND lane = ANY($3::text[])",
            shop,
            kind,
            lanes,
        )
    finally:
        await connection.close()
    states = {state: sum(1 for row in rows if row["state"] == state) for state in ("pending", "done", "failed")}
    return {**states, "created_to_done_s": summary([row["took"] for row in rows if row["state"] == "done"])}


async def _wait_tasks(dsn: str, shop: str, kind: str, lanes: list[str], states: tuple[str, ...], within: float) -> None:
    """Until a ``kind`` task of each of these platform orders is in one of ``states`` (or ``within`` passed)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        figures = await _task_figures(dsn, shop, kind, lanes)
        if sum(figures[state] for state in states) >= len(lanes):
            return
        await asyncio.sleep(0.1)


async def _intake_orders(dsn: str, channel: str, external_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Intake's orders of the channel (of these platform orders) by external id: id, number, lines."""
    connection = await connect_database(dsn)
    try:
        rows = await connection.fetch(
            "SELECT id, external_id, order_number, payload->'lines' AS lines FROM intake.orders"
            " WHERE channel = $1 AND ($2::text[] IS NULL OR external_id = ANY($2::text[]))",
            channel,
            external_ids,
        )
    finally:
        await connection.close()
    return {
        row["external_id"]: {"id": row["id"], "order_number": row["order_number"], "lines": json.loads(row["lines"])}
        for row in rows
    }


def _shipment(channel: str, external_id: str, order: dict[str, Any]) -> OrderStatusChanged:
    """The whole order shipped in one package, as tracking announces it."""
    return OrderStatusChanged(
        correlation_id=order["id"],
        data=OrderStatusChangedData(
            order_id=order["id"],
            channel=channel,
            external_id=external_id,
            order_number=order["order_number"],
            status="shipped",
            previous_status="routed",
            shipment=ShipmentSummary(
                shipment_id=f"shp_{external_id}",
                vendor="bench-vendor",
                carrier="UPS",
                service="Ground",
                tracking_number=f"1ZBENCH{external_id}",
                ship_date=time.strftime("%Y-%m-%d", time.gmtime()),
                lines=[
                    {"line_id": line["line_id"], "sku": line["sku"], "quantity": line["quantity"]}
                    for line in order["lines"]
                ],
            ),
        ),
    )


@contextlib.asynccontextmanager
async def _exchange(system: BenchSystem) -> AsyncIterator[aio_pika.abc.AbstractExchange]:
    """The namespace's events exchange on a confirming channel: publishing there is what a producer's relay does."""
    connection = await aio_pika.connect(system.environment.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        yield await channel.get_exchange(system.environment.topology.exchange)
    finally:
        await connection.close()


async def _publish(exchange: aio_pika.abc.AbstractExchange, events: list[OrderStatusChanged]) -> None:
    """Persistent and mandatory, every confirm awaited."""
    await asyncio.gather(
        *(
            exchange.publish(
                aio_pika.Message(event.model_dump_json().encode(), message_id=event.message_id, delivery_mode=2),
                routing_key=event.routing_key(),
                mandatory=True,
            )
            for event in events
        )
    )


def _per_order(counts: list[int]) -> dict[str, int]:
    return {
        "orders": len(counts),
        "fulfilled_once": sum(1 for n in counts if n == 1),
        "duplicates": sum(1 for n in counts if n > 1),
        "lost": sum(1 for n in counts if n == 0),
    }


async def _fulfillments(shop: Shop, system: BenchSystem, orders: list[dict[str, Any]], within: float) -> dict[str, Any]:
    """Ship every order at once; fulfillments per second until the fake has one for each."""
    ids = [order["id"] for order in orders]
    held = await _intake_orders(system.environment.database_url, shop.channel)
    events = [_shipment(shop.channel, str(i), held[str(i)]) for i in ids if str(i) in held]
    throttled_before = sum(1 for r in shop.fake.requests if r["throttled"])
    async with _exchange(system) as exchange:
        started = time.monotonic()
        await _publish(exchange, events)
        published_s = time.monotonic() - started
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and min(shop.fake.fulfillment_counts(ids), default=1) == 0:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # the fake notes fulfillments as they come: waiting here is polling it
    firsts = [shop.fake.fulfilled_at[i][0] for i in ids if i in shop.fake.fulfilled_at]
    span = max(firsts) - started if firsts else None
    await asyncio.sleep(1.0)  # a second push of the same shipment would show by now
    tasks = await _task_figures(system.environment.database_url, shop.code, "shipment", [str(i) for i in ids])
    return {
        "shipments": len(events),
        "published_s": round(published_s, 3),
        "seconds": round(span, 3) if span is not None else None,
        "per_s": round(len(firsts) / span, 1) if span else 0.0,
        "tasks": tasks,
        "throttled_requests": sum(1 for r in shop.fake.requests if r["throttled"]) - throttled_before,
        **_per_order(shop.fake.fulfillment_counts(ids)),
    }


async def _backlog(session: aiohttp.ClientSession, url: str, token: str) -> dict[str, Any]:
    backlog = (await call(session, "GET", url, token))["backlog"]
    return {kind: backlog.get(kind, {}) for kind in ("webhook", "shipment")}


async def _outage(
    session: aiohttp.ClientSession,
    system: BenchSystem,
    admin_token: str,
    shop: Shop,
    count: int,
    outage_seconds: float,
) -> dict[str, Any]:
    """The platform down while ``count`` orders come in and ship at a low rate; then back, and caught up."""
    orders = shop.place(count)
    ids = [order["id"] for order in orders]
    view = f"{system.urls['channels']}/v1/shops/{shop.code}"
    dsn = system.environment.database_url
    peak = {"webhook": 0, "shipment": 0, "total": 0, "oldest_s": 0.0}
    samples = 0

    async def sample() -> dict[str, Any]:
        nonlocal samples
        backlog = await _backlog(session, view, admin_token)
        pending = {kind: int(backlog[kind].get("pending", 0)) for kind in ("webhook", "shipment")}
        for kind, value in pending.items():
            peak[kind] = max(peak[kind], value)
        peak["total"] = max(peak["total"], sum(pending.values()))
        oldest = max(float(backlog[kind].get("oldest_seconds", 0.0)) for kind in ("webhook", "shipment"))
        peak["oldest_s"] = max(peak["oldest_s"], oldest)
        samples += 1
        return {**pending, "failed": sum(int(backlog[k].get("failed", 0)) for k in ("webhook", "shipment"))}

    async def watch() -> None:
        while True:
            await sample()
            await asyncio.sleep(BACKLOG_SAMPLE_SECONDS)

    shipped: set[str] = set()

    async def ship_as_intake_holds_them(exchange: aio_pika.abc.AbstractExchange) -> None:
        wanted = {str(i) for i in ids}
        while shipped != wanted:
            held = await _intake_orders(dsn, shop.channel, sorted(wanted - shipped))
            new = [str(i) for i in ids if str(i) in held]
            await _publish(exchange, [_shipment(shop.channel, i, held[i]) for i in new])
            shipped.update(new)
            await asyncio.sleep(0.25)

    refused_before = sum(1 for r in shop.fake.requests if r["status"] == 503)
    watcher = asyncio.create_task(watch())
    try:
        async with _exchange(system) as exchange:
            shop.fake.down = True
            went_down = time.monotonic()
            shipper = asyncio.create_task(ship_as_intake_holds_them(exchange))
            try:
                webhooks = await _send_webhooks(shop, orders, count / outage_seconds)
                # Down for the whole outage, and until every shipment of the batch was told while it was.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(shipper), RETURN_WITHIN_SECONDS)
                await asyncio.sleep(max(0.0, went_down + outage_seconds - time.monotonic()))
            finally:
                shipper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await shipper
            # The consumer's inbox transaction follows the publisher's confirm by a little: every shipment of
            # the batch is a task before the platform comes back.
            await _wait_tasks(dsn, shop.code, "shipment", sorted(shipped), ("pending", "done", "failed"), 30.0)
            await sample()
            shop.fake.down = False
            back = time.monotonic()
        down_s = back - went_down
        drained_s: float | None = None
        left: dict[str, Any] = {}
        while time.monotonic() - back < RETURN_WITHIN_SECONDS:
            left = await sample()
            if left["webhook"] == left["shipment"] == 0:
                drained_s = time.monotonic() - back
                break
            await asyncio.sleep(0.25)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    await asyncio.sleep(1.0)  # a second push of the same shipment would show by now
    lanes = [str(i) for i in ids]
    return {
        "orders": count,
        "platform_down_s": round(down_s, 1),
        "shipments_published": len(shipped),
        "webhooks": webhooks,
        "platform_503s": sum(1 for r in shop.fake.requests if r["status"] == 503) - refused_before,
        "backlog_peak": {**peak, "oldest_s": round(peak["oldest_s"], 1)},
        "backlog_samples": samples,
        "drained_after_return_s": round(drained_s, 2) if drained_s is not None else None,
        "failed_tasks": left.get("failed"),
        "webhook_tasks": await _task_figures(dsn, shop.code, "webhook", lanes),
        "shipment_tasks": await _task_figures(dsn, shop.code, "shipment", lanes),
        **_per_order(shop.fake.fulfillment_counts(ids)),
    }


async def measure(
    session: aiohttp.ClientSession,
    system: BenchSystem,
    admin_token: str,
    shop: Shop,
    orders: int,
    rate: float,
    outage_seconds: float,
    drain_seconds: float,
) -> dict[str, Any]:
    """The three parts in turn, on one shop; the fake is stopped at the end."""
    dsn = system.environment.database_url
    try:
        placed = shop.place(orders)
        lanes = [str(order["id"]) for order in placed]
        webhooks = await _send_webhooks(shop, placed, rate)
        await _wait_tasks(dsn, shop.code, "webhook", lanes, ("done", "failed"), max(drain_seconds, 60.0))
        system.check_alive()
        tasks = await _task_figures(dsn, shop.code, "webhook", lanes)
        held = await _intake_orders(dsn, shop.channel)
        intake = {"orders": len(held), "of_these": sum(1 for lane in lanes if lane in held)}
        # Shopify's cost bucket (2,000 points, 100 restored a second) lets a few fulfillments a second through
        # once it is spent: the wait allows for that.
        fulfillments = await _fulfillments(shop, system, placed, max(drain_seconds, 60.0) + orders * 0.5)
        system.check_alive()
        outage = await _outage(session, system, admin_token, shop, max(1, orders // 4), outage_seconds)
        system.check_alive()
        everything = _per_order(shop.fake.fulfillment_counts([order["id"] for order in shop.orders]))
    finally:
        await shop.fake.stop()
    return {
        "orders": orders,
        "offered_per_s": rate,
        "webhooks": {**webhooks, "tasks": tasks, "intake": intake},
        "fulfillments": fulfillments,
        "outage": outage,
        "all_orders": everything,
        "intake_orders_at_end": len(await _intake_orders(dsn, shop.channel)),
    }


def summary_line(results: dict[str, Any]) -> str:
    hooks, figures, outage = results["webhooks"], results["fulfillments"], results["outage"]
    to_intake = hooks["tasks"]["created_to_done_s"]
    peak = outage["backlog_peak"]
    return (
        f"channels: {hooks['tasks']['done']}/{results['orders']} webhooks → intake orders at"
        f" {results['offered_per_s']:.0f}/s (answer p99 {hooks['answer_s']['p99']} s, to intake p99"
        f" {to_intake['p99']} s); {figures['fulfilled_once']}/{figures['orders']} fulfilled once,"
        f" {figures['per_s']}/s; outage of {outage['platform_down_s']} s: backlog peak {peak['total']},"
        f" empty {outage['drained_after_return_s']} s after the return, duplicates {outage['duplicates']},"
        f" lost {outage['lost']}"
    )
