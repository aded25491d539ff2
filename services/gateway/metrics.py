"""What the gateway counts in /metrics: deliveries by vendor and outcome, the oldest undelivered vendor
order, pickups and rejected files by vendor."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "gateway_deliveries",
            "Delivery attempts by vendor and outcome (sent, retry, failed)",
            ["vendor", "outcome"],
            registry=registry,
        )
        self.oldest_undelivered = Gauge(
            "gateway_oldest_undelivered_age_seconds",
            "Age of the oldest vendor order event not yet delivered",
            registry=registry,
        )
        self.delivery_seconds = Histogram(
            "gateway_delivery_seconds",
            "From the vendor order event's arrival to its delivery",
            ["transport"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=registry,
        )
        self.pickups = Counter(
            "gateway_pickups", "Inbound files read by vendor and outcome", ["vendor", "outcome"], registry=registry
        )
        self.rejected_files = Counter(
            "gateway_rejected_files", "Inbound files set aside as unreadable", ["vendor"], registry=registry
        )
        self.acknowledgements_overdue = Gauge(
            "gateway_x12_acknowledgements_overdue",
            "Interchanges sent to X12 partners whose 997 is later than the partner's ack_997_within_hours",
            registry=registry,
        )
        self.rows_refused = Counter(
            "gateway_rows_refused", "Rows of inbound files or API calls refused", ["vendor", "kind"], registry=registry
        )
