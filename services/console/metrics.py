"""Queue figures, for the pages and for Prometheus: every service queue and vendor queue with its parked
queue, by passive declare. The console alone exports these series, so several service instances never
double one; a background task refreshes them every few seconds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aio_pika.abc import AbstractConnection
from prometheus_client import CollectorRegistry, Gauge

from services.console.broker import queue_figures
from services.console.clients import Answer
from services.console.views import QueueRow, queue_names, queue_rows
from shared.logging import get_logger
from shared.messaging.subscriptions import SERVICE_QUEUES
from shared.messaging.topology import Topology

log = get_logger(__name__)


class QueueWatch:
    def __init__(
        self,
        amqp: AbstractConnection,
        topology: Topology,
        vendors: Callable[[], Awaitable[Answer]],
        registry: CollectorRegistry,
    ) -> None:
        self._amqp = amqp
        self._topology = topology
        self._vendors = vendors
        self.vendor_codes: list[str] = []
        """The splitter's vendors as last answered: kept while the splitter does not answer."""
        self.vendors_problem: str | None = None
        self.rows: list[QueueRow] = []
        self.messages = Gauge("dropship_queue_messages", "Messages ready in the queue", ["queue"], registry=registry)
        self.consumers = Gauge("dropship_queue_consumers", "Consumers of the queue", ["queue"], registry=registry)
        self.parked = Gauge(
            "dropship_parked_messages", "Messages in the queue's parked queue", ["queue"], registry=registry
        )

    async def refresh(self) -> list[QueueRow]:
        """Figures now (vendors from the splitter, queues from the broker); the gauges follow them."""
        answer = await self._vendors()
        vendors = answer.field("vendors")
        if isinstance(vendors, list):
            self.vendor_codes = [str(v["code"]) for v in vendors if isinstance(v, dict) and "code" in v]
            self.vendors_problem = None
        else:
            self.vendors_problem = f"vendor queues as last known: {answer.problem()}"
        names = queue_names((spec.name for spec in SERVICE_QUEUES), self.vendor_codes)
        rows = queue_rows(await queue_figures(self._amqp, self._topology, names))
        self.rows = rows
        self._export(rows)
        return rows

    def _export(self, rows: list[QueueRow]) -> None:
        # Cleared first: a removed vendor's queue stops being a series instead of keeping its last value.
        for gauge in (self.messages, self.consumers, self.parked):
            gauge.clear()
        for row in rows:
            if row.messages is not None:
                self.messages.labels(row.queue).set(row.messages)
                self.consumers.labels(row.queue).set(row.consumers or 0)
            if row.parked is not None:
                self.parked.labels(row.queue).set(row.parked)
