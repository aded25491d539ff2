"""What the console's use cases take: the database (sessions, audit), the other services' APIs, the
broker (queue figures, parked messages), the last queue figures, kept for the gauges, and the last
readings of the services' handled-messages counters, for the message rates."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from aio_pika.abc import AbstractConnection

from services.console.clients import Services
from services.console.metrics import QueueWatch
from services.console.rates import MessageRates
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
    rates: MessageRates
