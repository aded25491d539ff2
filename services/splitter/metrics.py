"""What the splitter shows in /metrics from its own tables: orders held by hold reason, quarantined
feeds per vendor and vendor orders created per vendor.

Read by a background round every few seconds (one query each) and served from the last reading, so
a scrape never waits for the database. The figures are the tables' own, not this instance's work:
every splitter instance exports the same values (aggregate with ``max``, not ``sum``), a restart
changes nothing, and the vendor order count is a counter that only grows (vendor orders are never
deleted), so ``rate()`` over it works as for any counter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shared.contracts.orders import HOLD_CODES
from shared.db import Queryable
from shared.logging import get_logger
from shared.periodic import Every

log = get_logger(__name__)

REFRESH_SECONDS = 10.0
"""How often the tables are read: alerts wait minutes, a query every few seconds is plenty."""

# An order counts once per reason it is held for (an order held for two reasons counts under both),
# the same orders GET /v1/holds lists: holds present, not cancelled.
HELD_BY_REASON = """
SELECT h.code AS reason, count(DISTINCT o.order_id) AS orders
FROM routed_orders o CROSS JOIN LATERAL jsonb_to_recordset(o.holds) AS h(code text)
WHERE o.holds <> '[]'::jsonb AND o.state <> 'cancelled'
GROUP BY h.code
"""
QUARANTINED_BY_VENDOR = """
SELECT v.code AS vendor, count(f.id) AS feeds
FROM vendors v LEFT JOIN feeds f ON f.vendor = v.code AND f.state = 'quarantined'
GROUP BY v.code
"""
# Answered from the (vendor, number) unique index.
VENDOR_ORDERS_BY_VENDOR = "SELECT vendor, count(*) AS created FROM vendor_orders GROUP BY vendor"


@dataclass(frozen=True)
class SplitterFigures:
    held_by_reason: Mapping[str, int] = field(default_factory=dict)
    quarantined_by_vendor: Mapping[str, int] = field(default_factory=dict)
    vendor_orders_by_vendor: Mapping[str, int] = field(default_factory=dict)


async def read_figures(db: Queryable) -> SplitterFigures:
    held = await db.fetch(HELD_BY_REASON)
    quarantined = await db.fetch(QUARANTINED_BY_VENDOR)
    created = await db.fetch(VENDOR_ORDERS_BY_VENDOR)
    return SplitterFigures(
        held_by_reason={row["reason"]: row["orders"] for row in held},
        quarantined_by_vendor={row["vendor"]: row["feeds"] for row in quarantined},
        vendor_orders_by_vendor={row["vendor"]: row["created"] for row in created},
    )


class SplitterMetrics(Collector):
    """The series, from the last :class:`SplitterFigures` shown (none before the first reading)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._figures: SplitterFigures | None = None
        self._refresher = Every(what="metrics")
        registry.register(self)

    def show(self, figures: SplitterFigures) -> None:
        self._figures = figures

    def describe(self) -> Iterable[Metric]:
        # Without it the registry would call collect() at registration to learn the names.
        return self._families(None)

    def collect(self) -> Iterable[Metric]:
        return self._families(self._figures)

    @staticmethod
    def _families(figures: SplitterFigures | None) -> list[Metric]:
        held = GaugeMetricFamily(
            "splitter_held_orders",
            "Orders with a hold, by hold reason code (an order counts under each of its reasons)",
            labels=["reason"],
        )
        quarantined = GaugeMetricFamily(
            "splitter_feeds_quarantined", "Stock feeds quarantined until a person accepts them", labels=["vendor"]
        )
        created = CounterMetricFamily(
            "splitter_vendor_orders_created", "Vendor orders created (all time, from the table)", labels=["vendor"]
        )
        if figures is not None:
            # Every reason code, 0 when none: a panel or alert sees a hold clear instead of a series vanish.
            for reason in sorted({*HOLD_CODES, *figures.held_by_reason}):
                held.add_metric([reason], figures.held_by_reason.get(reason, 0))
            for vendor, feeds in sorted(figures.quarantined_by_vendor.items()):
                quarantined.add_metric([vendor], feeds)
            for vendor, count in sorted(figures.vendor_orders_by_vendor.items()):
                created.add_metric([vendor], count)
        return [held, quarantined, created]

    async def refresh_forever(self, db: Queryable, every: float = REFRESH_SECONDS) -> None:
        """Read the figures now and every ``every`` seconds until :meth:`stop` (:class:`shared.periodic.Every`)."""

        async def refresh() -> None:
            self.show(await read_figures(db))

        await self._refresher.run(refresh, every)

    async def stop(self) -> None:
        await self._refresher.stop()
