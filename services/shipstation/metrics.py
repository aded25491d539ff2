"""What the adapter counts in /metrics: ShipStation's calls, exported and rejected orders, notices,
problems, refused credentials and export time; and, read from its tables, each connected vendor's
last poll and time-zone warning."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shared.db import Queryable
from shared.logging import get_logger
from shared.periodic import Every

log = get_logger(__name__)

REFRESH_SECONDS = 10.0
"""How often the connections are read: the alerts on them wait hours, not seconds."""

# A poll is an export call answered with orders (outcome ok): calls refused for wrong credentials do
# not count, ShipStation gets nothing from them. A vendor never polled counts from when its
# credentials were issued. The newest matching poll comes from the (vendor, id DESC) index.
CONNECTED_VENDORS = """
SELECT c.vendor, c.zone_warning IS NOT NULL AS zone_warning,
       coalesce((SELECT p.at FROM polls p WHERE p.vendor = c.vendor AND p.action = 'export' AND p.outcome = 'ok'
                 ORDER BY p.id DESC LIMIT 1), c.credentials_rotated_at, c.created_at) AS last_poll
FROM connections c WHERE c.password_hash IS NOT NULL
"""


class AdapterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.polls = Counter(
            "shipstation_polls", "ShipStation calls", ["vendor", "action", "outcome"], registry=registry
        )
        self.exported = Counter("shipstation_orders_exported", "Orders sent in exports", ["vendor"], registry=registry)
        self.notices = Counter("shipstation_notices", "Ship notices accepted", ["vendor", "outcome"], registry=registry)
        self.rejects = Counter(
            "shipstation_orders_rejected",
            "Orders left out of an export as invalid",
            ["vendor"],
            registry=registry,
        )
        self.problems = Counter(
            "shipstation_problems", "Problems recorded for ops", ["vendor", "kind"], registry=registry
        )
        self.auth_failures = Counter("shipstation_auth_failures", "Refused credentials", ["vendor"], registry=registry)
        self.export_seconds = Histogram("shipstation_export_seconds", "Export page time", registry=registry)


@dataclass(frozen=True)
class VendorConnection:
    vendor: str
    last_poll: datetime
    """The last export answered, else when the credentials were issued."""
    zone_warning: bool


async def read_connections(db: Queryable) -> list[VendorConnection]:
    rows = await db.fetch(CONNECTED_VENDORS)
    return [VendorConnection(row["vendor"], row["last_poll"], row["zone_warning"]) for row in rows]


class ConnectionMetrics(Collector):
    """``shipstation_last_poll_age_seconds`` and ``shipstation_zone_warning`` per connected vendor, from
    the last reading of the connections. The age is worked out at each scrape, so it keeps growing
    between readings. Every instance exports the same values (aggregate with ``max``)."""

    def __init__(self, registry: CollectorRegistry, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._connections: list[VendorConnection] = []
        self._clock = clock
        self._refresher = Every(what="metrics")
        registry.register(self)

    def show(self, connections: Iterable[VendorConnection]) -> None:
        self._connections = sorted(connections, key=lambda c: c.vendor)

    def describe(self) -> Iterable[Metric]:
        return self._families([])

    def collect(self) -> Iterable[Metric]:
        return self._families(self._connections)

    def _families(self, connections: list[VendorConnection]) -> list[Metric]:
        age = GaugeMetricFamily(
            "shipstation_last_poll_age_seconds",
            "Seconds since ShipStation's last export call was answered (or since the credentials were issued)",
            labels=["vendor"],
        )
        warning = GaugeMetricFamily(
            "shipstation_zone_warning",
            "1 while ShipStation's clock suggests another time zone than the vendor's setting, else 0",
            labels=["vendor"],
        )
        now = self._clock()
        for connection in connections:
            age.add_metric([connection.vendor], max(0.0, (now - connection.last_poll).total_seconds()))
            warning.add_metric([connection.vendor], 1 if connection.zone_warning else 0)
        return [age, warning]

    async def refresh_forever(self, db: Queryable, every: float = REFRESH_SECONDS) -> None:
        """Read the figures now and every ``every`` seconds until :meth:`stop` (:class:`shared.periodic.Every`)."""

        async def refresh() -> None:
            self.show(await read_connections(db))

        await self._refresher.run(refresh, every)

    async def stop(self) -> None:
        await self._refresher.stop()
