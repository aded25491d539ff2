"""What the console's use cases take: the database (sessions, audit), the other services' APIs, the
broker (queue figures, parked messages) and the last queue figures, kept for the gauges."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from aio_pika.abc import AbstractConnection

from services.console.clients import Services
from services.console.metrics import QueueWatch
from services.console.settings import ConsoleSettings
from shared.messaging.topology import Topology


@dataclass(frozen=True)
class ConsolePorts:
    pool: asyncpg.Pool
    services: Services
    amqp: AbstractConnection
    topology: Topology
    settings: ConsoleSettings
    watch: QueueWatch
