"""Helpers the integration and end-to-end tests share: ports, waiting, an admin client, a channel
that receives webhooks, and order builders."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import aio_pika
import aiohttp
import asyncpg
import pytest
import structlog
import structlog.testing
from aiohttp import web
from faststream.rabbit import RabbitBroker
from prometheus_client import CollectorRegistry
from pydantic import TypeAdapter

from shared.contracts.envelope import Contract, Envelope
from shared.db import create_pool, migrate, migration_files
from shared.logging import configure_logging
from shared.messaging.broker import make_broker
from shared.messaging.consumer import ConsumerMetrics, DeliveryGuard, subscribe_guarded
from shared.messaging.topology import QueueSpec, Topology
from shared.processes import free_port

AMQP_URL = os.environ.get("DROPSHIP_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")

T = TypeVar("T")


def basic_auth(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def wait_until(check: Callable[[], Awaitable[T | None]], timeout: float = 20.0, every: float = 0.05) -> T:
    """Poll ``check`` until it answers something other than None or False; fail after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: T | None = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last is not None and last is not False:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s; last answer: {last!r}")


@dataclass
class Api:
    """Calls the services' HTTP APIs as a person or a channel would."""

    session: aiohttp.ClientSession
    urls: dict[str, str]
    admin_token: str

    def _headers(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin_token}"}

    async def call(
        self, method: str, service: str, path: str, json: Any = None, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        async with self.session.request(
            method, self.urls[service] + path, json=json, headers=self._headers(token), **kwargs
        ) as response:
            body: Any = await response.text()
            if response.content_type == "application/json":
                body = await response.json()
            return response.status, body

    async def ok(self, method: str, service: str, path: str, json: Any = None, token: str | None = None) -> Any:
        status, body = await self.call(method, service, path, json, token)
        assert 200 <= status < 300, f"{method} {path} answered {status}: {body}"
        return body


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class ChannelReceiver:
    """A real HTTP server on loopback playing the sales channel's webhook endpoint."""

    secret: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    attempts: list[Delivery] = field(default_factory=list)
    fail_next: int = 0
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.attempts.append(Delivery(dict(request.headers), body))
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.Response(status=503, text="down for maintenance")
        self.deliveries.append(Delivery(dict(request.headers), body))
        return web.Response(status=204)

    async def start(self) -> ChannelReceiver:
        app = web.Application()
        app.router.add_post("/webhooks", self._handle)
        self.runner, self.port = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def verify(self, delivery: Delivery) -> bool:
        """Standard Webhooks verification, written from the specification, independent of the product."""
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        signed = f"{delivery.headers['webhook-id']}.{delivery.headers['webhook-timestamp']}.".encode() + delivery.body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        given = [part.removeprefix("v1,") for part in delivery.headers["webhook-signature"].split() if part]
        return any(hmac.compare_digest(expected, g) for g in given)


def order_payload(channel: str, skus: list[tuple[str, int, str]], **extra: Any) -> dict[str, Any]:
    """A channel order with the given (sku, quantity, unit price) lines."""
    external_id = extra.pop("external_id", unique("ext-"))
    payload: dict[str, Any] = {
        "channel": channel,
        "external_id": external_id,
        "order_number": extra.pop("order_number", external_id.upper()[-10:]),
        "ordered_at": "2026-11-26T23:41:00-06:00",
        "currency": "USD",
        # A customer of their own per order: the duplicate-order hold (same customer, ship-to and lines
        # within an hour) must not catch the tests' many look-alike orders.
        "customer": {"name": "Jo Müller", "email": f"jo+{external_id}@example.com", "phone": "+1 555 0100"},
        "ship_to": {
            "name": "Jo Müller",
            "company": "Acme & Sons",
            "address1": "1 Main St",
            "address2": "Apt 4",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "country": "US",
            "phone": "+1 555 0100",
        },
        "tax_amount": "3.99",
        "shipping_amount": "5.99",
        "discounts": [{"code": "WELCOME5", "amount": "5.00"}],
        "lines": [
            {"line_id": f"L{i}", "sku": sku, "name": f"Item {sku}", "quantity": qty, "unit_price": price}
            for i, (sku, qty, price) in enumerate(skus, start=1)
        ],
    }
    payload.update(extra)
    return payload


class PingData(Contract):
    n: int


class Ping(Envelope):
    """A tiny event for tests of the messaging building blocks."""

    event_type = "test.ping"
    type: Literal["test.ping"] = "test.ping"
    data: PingData


def guarded_test_broker(
    amqp: Any, topology: Topology, spec: QueueSpec, handler: Callable[[Ping], Awaitable[object]]
) -> RabbitBroker:
    """A real FastStream broker consuming ``spec`` through the delivery guard, as a service's runtime does."""
    broker = make_broker(AMQP_URL, service="tests", prefetch_count=10)
    guard = DeliveryGuard(
        amqp=amqp,
        topology=topology,
        spec=spec,
        adapter=TypeAdapter(Ping),
        handler=handler,
        metrics=ConsumerMetrics(CollectorRegistry()),
    )
    subscribe_guarded(broker, topology.queue(spec), guard)
    return broker


async def serve_on_loopback(app: web.Application) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on 127.0.0.1 on a free port; answers the runner (``cleanup()`` stops it) and the port."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


async def publish_as_producer(amqp: aio_pika.abc.AbstractConnection, topology: Topology, event: Envelope) -> None:
    """Publish ``event`` to the events exchange as its producer's relay would: persistent, mandatory,
    publisher-confirmed (tests acting as a vendor adapter, or as a service that is not running)."""
    channel = await amqp.channel(publisher_confirms=True, on_return_raises=True)
    try:
        exchange = await channel.get_exchange(topology.exchange)
        await exchange.publish(
            aio_pika.Message(event.model_dump_json().encode(), message_id=event.message_id, delivery_mode=2),
            routing_key=event.routing_key(),
            mandatory=True,
        )
    finally:
        await channel.close()


LIBRARY_LOGGERS = (
    "aiohttp",
    "aiohttp.access",
    "aiohttp.server",
    "aiohttp.client",
    "faststream",
    "aio_pika",
    "aiormq",
    "asyncssh",
    "asyncssh.sftp",
    "aiosmtplib",
)


@contextlib.contextmanager
def debug_logging(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Everything at DEBUG, then the suite's logging exactly as it was.

    Entered inside the test: the log renderer binds the ``sys.stderr`` of the moment, and only during
    the test itself is that the one ``capfd`` reads.
    """
    saved_structlog = structlog.get_config()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_levels = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    configure_logging("tests", "json", "DEBUG")
    root.addHandler(caplog.handler)  # configure_logging replaced the root's handlers
    root.setLevel(logging.DEBUG)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield
    finally:
        structlog.configure(**saved_structlog)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def captured_logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """Every structlog entry made inside, whatever level the suite logs at: structlog's own
    ``capture_logs`` keeps the configured level filter, which drops info entries under the suite's WARNING."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with structlog.testing.capture_logs() as logs:
            yield logs
    finally:
        structlog.configure(**saved)


@contextlib.asynccontextmanager
async def effects_pool(database_url: str, prefix: str, effects_table: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a schema of its own holding only the inbox (and outbox) tables and the table the
    tests' effects write to (``effects_table``, its CREATE TABLE)."""
    schema = unique(prefix)
    await migrate(database_url, schema, migration_files(Path("/nonexistent")))
    pool = await create_pool(database_url, schema)
    await pool.execute(effects_table)
    try:
        yield pool
    finally:
        await pool.close()
