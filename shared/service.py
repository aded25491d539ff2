"""The runtime every service shares: database, broker, outbox relay, HTTP server, health and metrics,
and a graceful stop.

A service is a :class:`ServiceDefinition`: its name, its package folder (for migrations) and a
``setup`` function that adds routes, subscribers and background tasks to a :class:`Runtime`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
from aio_pika.abc import AbstractRobustConnection
from aiohttp import web
from faststream.rabbit import RabbitBroker
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from pydantic import TypeAdapter

from shared.contracts.envelope import Envelope
from shared.db import Connection, create_pool, ensure_database, migrate, migration_files, pending_migrations
from shared.http import ADMIN_TOKEN_KEY, REGISTRY_KEY, HttpMetrics, error_middleware, json_response
from shared.logging import configure_logging, get_logger
from shared.messaging.broker import connect, make_broker
from shared.messaging.consumer import ConsumerMetrics, DeliveryGuard, subscribe_guarded
from shared.messaging.inbox import Announced, EventEffect, EventsEffect, InboxBatcher, OneStatementRun, in_runs
from shared.messaging.outbox import OutboxRelay, purge_published
from shared.messaging.topology import QueueSpec, Topology, declare_queue, declare_topology
from shared.secrets import SecretBox, SecretKeyError
from shared.settings import NoSecretKey, ServiceName, Settings
from shared.throttle import AUTH_LIMITER_KEY, FailureLimiter

log = get_logger(__name__)

ServiceSettings = TypeVar("ServiceSettings", bound=Settings)


@dataclass(frozen=True)
class ServiceDefinition(Generic[ServiceSettings]):
    name: ServiceName
    package_dir: Path
    setup: Callable[[Runtime], Awaitable[None]]
    settings_type: type[ServiceSettings]
    """The service's own settings: the shared ones and what this service alone reads."""
    description: str = ""
    openapi: Callable[[], dict[str, Any]] | None = None
    """Builds the service's OpenAPI document, served at ``GET /openapi.json``."""

    def settings_from(self, settings: Settings | None) -> ServiceSettings:
        """``settings`` as this service's type: the values given, the rest from the environment."""
        if isinstance(settings, self.settings_type):
            return settings
        given = {} if settings is None else settings.model_dump(exclude_unset=True)
        return self.settings_type(**given)


@dataclass
class Runtime:
    """What a service's setup receives: the shared parts, already connected."""

    definition: ServiceDefinition[Any]
    settings: Settings
    """Of the service's own ``settings_type``: :meth:`settings_as` gives it that type."""
    topology: Topology
    pool: asyncpg.Pool
    amqp: AbstractRobustConnection
    broker: RabbitBroker
    app: web.Application
    registry: CollectorRegistry
    relay: OutboxRelay
    secrets: SecretBox
    """Seals and opens the secrets the service stores (``DROPSHIP_SECRET_KEY``)."""
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    stoppers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    port: int = 0
    consumer_metrics: ConsumerMetrics = field(init=False)

    def __post_init__(self) -> None:
        self.consumer_metrics = ConsumerMetrics(self.registry)

    @property
    def name(self) -> str:
        return self.definition.name

    def settings_as(self, settings_type: type[ServiceSettings]) -> ServiceSettings:
        """The service's own settings, typed (what its ``ServiceDefinition.settings_type`` built)."""
        if not isinstance(self.settings, settings_type):
            raise TypeError(f"{self.name} runs with {type(self.settings).__name__}, not {settings_type.__name__}")
        return self.settings

    async def declare(self, spec: QueueSpec) -> None:
        channel = await self.amqp.channel()
        try:
            await declare_queue(channel, self.topology, spec)
        finally:
            await channel.close()

    def consume(
        self,
        spec: QueueSpec,
        handlers: Mapping[type[Envelope], EventEffect],
        *,
        consumer: str | None = None,
        description: str | None = None,
        publishes: bool = True,
        title: str | None = None,
        run_handlers: Mapping[type[Envelope], EventsEffect] | None = None,
    ) -> Any:
        """Consume ``spec`` with one handler per event type the spec carries, each applied once
        through the inbox (as consumer ``consumer``, default the queue's name) in batches.

        ``run_handlers``: for some types, a handler that takes a run of consecutive events of that type
        in a batch at once (with the effect of the single handler applied to each in turn, reading what
        they share once). Other events of the batch keep their place between the runs. A run handler
        that is a :class:`~shared.messaging.inbox.OneStatementRun` also takes a batch wholly of its
        type (or a lone event) together with the inbox's insert, in one statement.

        The handlers must cover exactly the spec's events: the subscription map, not the wiring,
        says what a queue carries. ``publishes``: the handlers write outbox events (wake the relay).
        See :mod:`shared.messaging.consumer` for what happens when validation or a handler fails.
        """
        missing = set(spec.events) - set(handlers)
        extra = set(handlers) - set(spec.events)
        if missing or extra:
            raise ValueError(
                f"{spec.name}: handlers for {sorted(e.event_type for e in extra)} that the queue does not carry"
                f" and none for {sorted(e.event_type for e in missing)}"
            )
        by_type = {event.event_type: handler for event, handler in handlers.items()}

        by_type_in_runs = {event.event_type: handler for event, handler in (run_handlers or {}).items()}
        unknown = set(by_type_in_runs) - set(by_type)
        if unknown:
            raise ValueError(f"{spec.name}: run handlers for {sorted(unknown)} that the queue does not carry")

        async def apply(connection: Connection, event: Envelope) -> Announced:
            return await by_type[event.type](connection, event)

        name = consumer or spec.name
        batcher = InboxBatcher(
            self.pool,
            name,
            apply,
            on_applied=self.relay.wake if publishes else None,
            on_batch=self.consumer_metrics.batch_size.labels(name).observe,
            description=description,
            linger_seconds=self.settings.batch_linger_seconds,
            effect_many=in_runs(by_type, by_type_in_runs) if by_type_in_runs else None,
            statement_runs={kind: run for kind, run in by_type_in_runs.items() if isinstance(run, OneStatementRun)},
        )
        guard = DeliveryGuard(
            amqp=self.amqp,
            topology=self.topology,
            spec=spec,
            adapter=TypeAdapter(spec.message_type),
            handler=batcher,
            metrics=self.consumer_metrics,
        )
        return subscribe_guarded(
            self.broker,
            self.topology.queue(spec),
            guard,
            title=title or spec.name,
            description=f"{spec.name}: bound to {', '.join(spec.bindings)} on {self.topology.exchange}",
            include_in_schema=False,
        )

    def add_background(self, task: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.background.append(task)

    def on_stop(self, stopper: Callable[[], Awaitable[None]]) -> None:
        self.stoppers.append(stopper)


def _health_routes(runtime: Runtime) -> list[web.RouteDef]:
    files = migration_files(runtime.definition.package_dir)

    async def healthz(_: web.Request) -> web.Response:
        return json_response({"status": "ok", "service": runtime.name})

    async def readyz(_: web.Request) -> web.Response:
        problems: dict[str, str] = {}
        try:
            pending = await asyncio.wait_for(pending_migrations(runtime.pool, files), timeout=2)
            if pending:
                problems["migrations"] = f"pending: {', '.join(pending)}"
        except Exception as error:
            problems["database"] = f"unreachable: {type(error).__name__}"
        if runtime.amqp.is_closed:
            problems["broker"] = "connection closed"
        status = 503 if problems else 200
        return json_response({"status": "ready" if not problems else "not_ready", "problems": problems}, status)

    async def metrics(_: web.Request) -> web.Response:
        body = generate_latest(runtime.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    routes = [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics)]
    if runtime.definition.openapi is not None:
        document = runtime.definition.openapi()  # built once: the routes do not change while running

        async def openapi(_: web.Request) -> web.Response:
            return json_response(document)

        routes.append(web.get("/openapi.json", openapi))
    return routes


async def _connected_runtime(definition: ServiceDefinition[Any], settings: Settings) -> Runtime:
    """The database migrated, the pool and broker connected, the queues declared and the HTTP app built."""
    schema = definition.name
    # First: a bad or missing key stops the start with one line, before anything is connected.
    secrets = settings.secret_box
    await ensure_database(settings.database_url)
    applied = await migrate(settings.database_url, schema, migration_files(definition.package_dir))
    if applied:
        log.info("migrations applied", schema=schema, migrations=applied)
    # Every outbox write of the service wakes its relay here (consumers, HTTP handlers, rounds), so
    # the pool's inserts leave the table's NOTIFY out (shared.db.create_pool).
    pool = await create_pool(settings.database_url, schema, max_size=settings.db_pool_size, relay_in_process=True)
    amqp = await connect(settings.amqp_url, name=f"dropship-{definition.name}")
    topology = Topology(settings.namespace, settings.delivery_limit)
    channel = await amqp.channel()
    await declare_topology(channel, topology)
    await channel.close()

    registry = CollectorRegistry()
    # The client's standard series (process_*, python_info, python_gc_*): the default registry has
    # them, a registry of one's own (one per service, several in a test process) must add them.
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    http_metrics = HttpMetrics(registry)
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[error_middleware(http_metrics)])
    app[ADMIN_TOKEN_KEY] = settings.resolved_admin_token
    app[REGISTRY_KEY] = registry
    app[AUTH_LIMITER_KEY] = FailureLimiter(settings.auth_failure_limit, settings.auth_failure_window_seconds)
    broker = make_broker(settings.amqp_url, service=definition.name, prefetch_count=settings.prefetch_count)
    relay = OutboxRelay(
        pool=pool,
        dsn=settings.database_url,
        schema=schema,
        connection=amqp,
        topology=topology,
        app_id=definition.name,
    )
    return Runtime(definition, settings, topology, pool, amqp, broker, app, registry, relay, secrets)


@contextlib.asynccontextmanager
async def running_service(
    definition: ServiceDefinition[ServiceSettings], given: Settings | None = None, *, port: int | None = None
) -> AsyncIterator[Runtime]:
    """Start ``definition`` and stop it gracefully on exit. ``port=0`` picks a free port.

    ``given`` settings are completed into the service's own type (values given win, the rest comes
    from the environment), so a test can start every service from one set of overrides.
    """
    settings = definition.settings_from(given)
    schema = definition.name
    runtime = await _connected_runtime(definition, settings)
    pool, amqp, broker, app, relay = runtime.pool, runtime.amqp, runtime.broker, runtime.app, runtime.relay
    published = Counter("outbox_published", "Events the outbox relay published", registry=runtime.registry)
    app.router.add_routes(_health_routes(runtime))
    await definition.setup(runtime)

    tasks: list[asyncio.Task[None]] = [asyncio.create_task(relay.run(), name=f"{schema}-relay")]

    async def purge_loop() -> None:
        last = 0
        while True:
            with contextlib.suppress(Exception):
                await purge_published(pool)
            published.inc(relay.published - last)
            last = relay.published
            await asyncio.sleep(30)

    await broker.start()
    # The background jobs start once the broker consumes: a job that subscribes a queue (the vendor
    # queues' follow round) while broker.start() goes through its subscribers would add one that the
    # start had already passed over, with `broker.running` not yet true to start it itself: a vendor
    # queue left unconsumed until the next restart.
    tasks += [asyncio.create_task(job(), name=f"{schema}-background") for job in runtime.background]
    tasks.append(asyncio.create_task(purge_loop(), name=f"{schema}-purge"))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=10)
    await runner.setup()
    site = web.TCPSite(runner, settings.bind_host, settings.port(definition.name) if port is None else port)
    await site.start()
    runtime.port = _bound_port(site)
    log.info("service started", port=runtime.port, namespace=settings.namespace or "(none)")
    try:
        yield runtime
    finally:
        log.info("service stopping")
        # Order matters: stop taking new HTTP requests and messages, let in-flight work finish and
        # ack, then let the relay and the background jobs finish the round they are in (publish
        # what that work wrote, record the webhooks they sent), then close connections.
        # runner.cleanup() is what closes the listening socket and waits for the requests under way;
        # runner.shutdown() alone only runs on_shutdown hooks and leaves the port open.
        await runner.cleanup()
        await broker.stop()
        for stopper in runtime.stoppers:
            with contextlib.suppress(Exception):
                await stopper()
        await relay.stop()
        # Everything but the purge loop ends by itself once stopped; cancelling one mid-round would
        # roll back work already done outside (a webhook sent, not recorded, is sent again).
        finishing = tasks[:-1]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*finishing, return_exceptions=True)), timeout=10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await pool.close()
        await amqp.close()
        log.info("service stopped")


def _bound_port(site: web.TCPSite) -> int:
    server: Any = site._server
    sockets = getattr(server, "sockets", None) or ()
    return int(sockets[0].getsockname()[1]) if sockets else 0


def run(definition: ServiceDefinition[ServiceSettings]) -> None:
    """Entry point of ``python -m services.<name>``: run until SIGTERM or SIGINT."""
    settings = definition.settings_type()
    configure_logging(definition.name, settings.log_format, settings.log_level)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with running_service(definition, settings):
            await stop.wait()

    import uvloop

    from shared.db import InfrastructureUnavailable

    try:
        uvloop.run(main())
    except (InfrastructureUnavailable, SecretKeyError, NoSecretKey) as error:
        log.error(str(error))
        raise SystemExit(2) from None
