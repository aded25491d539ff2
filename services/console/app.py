"""The console service (see the package docstring).

Setup: the pages and actions, the static files, and one background task that, every few seconds,
refreshes the queue gauges and the services' handled-messages readings (the message rates) and forgets
sessions idle past the longest idle time any instance may have.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import get_args

import aiohttp

from services.console import openapi, store
from services.console.clients import Answer, Services
from services.console.http import ConsoleApi
from services.console.metrics import QueueWatch
from services.console.ports import ConsolePorts
from services.console.rates import MessageRates
from services.console.rendering import Renderer
from services.console.settings import ConsoleSettings
from services.console.use_cases.overview import read_service_metrics
from shared.http import ADMIN_TOKEN_KEY
from shared.logging import get_logger
from shared.service import Runtime, ServiceDefinition
from shared.settings import ServiceName

log = get_logger(__name__)


async def setup(runtime: Runtime) -> None:
    settings = runtime.settings_as(ConsoleSettings)
    session = aiohttp.ClientSession()
    runtime.on_stop(session.close)
    others = [name for name in get_args(ServiceName) if name != "console"]
    services = Services(
        session,
        {name: settings.service_url(name) for name in others},
        runtime.app[ADMIN_TOKEN_KEY],
        settings.console_call_timeout_seconds,
    )

    async def vendors() -> Answer:
        return await services.get("splitter", "/v1/vendors")

    watch = QueueWatch(runtime.amqp, runtime.topology, vendors, runtime.registry)
    ports = ConsolePorts(runtime.pool, services, runtime.amqp, runtime.topology, settings, watch, MessageRates())
    renderer = Renderer(
        {
            "management_url": settings.console_rabbitmq_management_url,
            "refresh_ms": int(settings.console_refresh_seconds * 1000),
            "session": None,
            "csrf": "",
            "outcome": None,
            "problems": [],
        }
    )
    runtime.app.router.add_routes(ConsoleApi(ports, renderer).routes())

    stopping = asyncio.Event()

    async def refresh() -> None:
        while not stopping.is_set():
            try:
                await watch.refresh()
                await read_service_metrics(ports)  # the message rates stay current while nobody watches
                await store.purge_idle_sessions(runtime.pool)
            except Exception as error:  # the next round tries again; a broker or database outage passes
                log.warning("queue figures not refreshed", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=settings.console_refresh_seconds)

    async def stop() -> None:
        stopping.set()

    runtime.add_background(refresh)
    runtime.on_stop(stop)


SERVICE = ServiceDefinition(
    name="console",
    package_dir=Path(__file__).parent,
    setup=setup,
    settings_type=ConsoleSettings,
    openapi=openapi.document,
)
