"""Intake's composition root: wires the HTTP API, the status consumer and the webhook deliverer."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from services.intake import openapi
from services.intake.consumers import apply_status_changed
from services.intake.http import IntakeApi
from services.intake.upstream import UpstreamDeliverer
from shared.contracts.orders import OrderStatusChanged
from shared.messaging.topology import INTAKE_STATUS
from shared.service import Runtime, ServiceDefinition
from shared.settings import Settings


async def setup(runtime: Runtime) -> None:
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3))
    runtime.on_stop(session.close)
    runtime.app.router.add_routes(IntakeApi(runtime, session).routes())

    deliverer = UpstreamDeliverer(
        runtime.pool,
        runtime.settings.database_url,
        runtime.registry,
        timeout_seconds=runtime.settings.webhook_timeout_seconds,
        max_backoff_seconds=runtime.settings.webhook_max_backoff_seconds,
    )
    runtime.add_background(deliverer.run)
    runtime.on_stop(deliverer.stop)

    runtime.consume(
        INTAKE_STATUS,
        {OrderStatusChanged: apply_status_changed},
        description="Record the order's new status and queue the signed webhook to its channel.",
        publishes=False,
    )


SERVICE = ServiceDefinition(
    name="intake", package_dir=Path(__file__).parent, setup=setup, settings_type=Settings, openapi=openapi.document
)
