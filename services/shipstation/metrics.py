"""What the adapter counts in /metrics: ShipStation's calls, exported and rejected orders, notices,
problems, refused credentials and export time."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


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
