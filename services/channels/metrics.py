"""The channels service's Prometheus series: webhooks received, work done and owed, stock pushed."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ChannelsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.webhooks = Counter(
            "channel_webhooks_received",
            "Platform webhooks received, by outcome (queued, duplicate, bad_signature, ping, refused)",
            ["platform", "outcome"],
            registry=registry,
        )
        self.tasks = Counter(
            "channel_tasks",
            "Webhook and shipment tasks run, by outcome (done, retry, failed)",
            ["kind", "outcome"],
            registry=registry,
        )
        self.backlog = Gauge(
            "channel_backlog",
            "Tasks owed to intake (webhook) or to the platform (shipment)",
            ["shop", "kind"],
            registry=registry,
        )
        self.backlog_oldest = Gauge(
            "channel_backlog_oldest_seconds",
            "How long the oldest owed task has waited",
            ["shop", "kind"],
            registry=registry,
        )
        self.failed = Gauge(
            "channel_tasks_failed",
            "Tasks given up after their attempts (retry them by hand)",
            ["shop", "kind"],
            registry=registry,
        )
        self.stock_pending = Gauge(
            "channel_stock_pending", "SKU levels the shop has not been told yet", ["shop"], registry=registry
        )
        self.stock_pushed = Counter(
            "channel_stock_levels_pushed", "SKU levels set on a platform", ["platform"], registry=registry
        )
        self.webhook_to_intake = Histogram(
            "channel_webhook_to_intake_seconds",
            "From a webhook's arrival to intake's answer for it",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=registry,
        )
