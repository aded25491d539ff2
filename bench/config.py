"""How big each part of the benchmark is (full and smoke) and the targets it is judged against."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    # Baselines.
    broker_messages: int
    broker_window: int
    db_transactions: int
    db_concurrency: int
    # Orders through the whole system.
    warmup_rate: float
    warmup_seconds: float
    steady_rate: float
    steady_seconds: float
    ramp_rates: tuple[float, ...]
    ramp_seconds: float
    ramp_fine_step: float
    """After the first step not sustained, the rates between it and the last sustained one this far apart."""
    ramp_runs: int
    """Whole ramps run one after another; the sustained rate reported is their median, with the spread."""
    drain_seconds: float
    # Export.
    stored_vendor_orders: int
    window_orders: int
    poll_orders: int
    page_repeats: int
    # Ship notices.
    notice_rates: tuple[float, ...]
    notice_seconds: float
    # The gateway: orders of one line for each of its two vendors.
    gateway_rate: float
    gateway_seconds: float
    # The channels service with a Shopify shop: orders by webhook, then an outage of the platform.
    channels_orders: int
    channels_rate: float
    channels_outage_seconds: float
    # The ops console: orders COPY-seeded into intake, then each page loaded this many times.
    console_orders: int
    console_loads: int


FULL = Sizes(
    broker_messages=20_000,
    broker_window=500,
    db_transactions=10_000,
    db_concurrency=16,
    warmup_rate=20,
    warmup_seconds=10,
    steady_rate=100,
    steady_seconds=60,
    ramp_rates=(50, 100, 150, 200, 300, 400, 500, 600, 800, 1000),
    ramp_seconds=30,
    ramp_fine_step=25,
    ramp_runs=3,
    drain_seconds=30,
    stored_vendor_orders=100_000,
    window_orders=10_000,
    poll_orders=100,
    page_repeats=200,
    notice_rates=(100, 250, 500, 750, 1000),
    notice_seconds=15,
    gateway_rate=50,
    gateway_seconds=20,
    channels_orders=1000,
    channels_rate=50,
    channels_outage_seconds=600,
    console_orders=100_000,
    console_loads=20,
)

SMOKE = Sizes(
    broker_messages=300,
    broker_window=50,
    db_transactions=200,
    db_concurrency=4,
    warmup_rate=5,
    warmup_seconds=1,
    steady_rate=10,
    steady_seconds=2,
    ramp_rates=(10,),
    ramp_seconds=2,
    ramp_fine_step=0,
    ramp_runs=1,
    drain_seconds=20,
    stored_vendor_orders=1_000,
    window_orders=200,
    poll_orders=100,
    page_repeats=5,
    notice_rates=(10,),
    notice_seconds=1,
    gateway_rate=5,
    gateway_seconds=2,
    channels_orders=20,
    channels_rate=10,
    channels_outage_seconds=3,
    console_orders=1_000,
    console_loads=3,
)


@dataclass(frozen=True)
class Targets:
    """The targets, for 2 cores shared by every service, RabbitMQ and PostgreSQL: the throughput work's
    (300 orders/s at 0.15 of the raw broker hop or more, 120 ms at 100/s, 300 notices/s, 6 ms of CPU per
    order), which replaced the first benchmark's 500/s, 150 ms and 500 notices/s."""

    sustained_orders_per_s: float = 300
    sustained_p99_s: float = 1.0
    steady_p99_s: float = 0.120
    export_page_p50_s: float = 0.025
    export_window_s: float = 5.0
    notices_per_s: float = 300
    cpu_ms_per_order: float = 6.0
    service_rss_mb: float = 150
    console_page_p95_s: float = 0.200


TARGETS = Targets()
