"""The overview page's figures, gathered from every service at once: each panel carries its figures or
what kept it from having them."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, get_args

from services.console.clients import Answer
from services.console.ports import ConsolePorts
from services.console.rates import Reading, handled_by_queue
from services.console.views import (
    RATE_WINDOW_MINUTES,
    Figure,
    PollState,
    QueueRow,
    order_figures,
    poll_state,
    start_of_day,
)
from shared.contracts.envelope import utc_now
from shared.settings import ServiceName

OLDEST_WEBHOOK_METRIC = "webhook_oldest_undelivered_age_seconds"


@dataclass
class Overview:
    now: datetime
    queues: list[QueueRow]
    queues_problem: str | None
    rate: Figure | None
    today: dict[str, Figure]
    orders_problem: str | None
    holds: list[dict[str, Any]]
    holds_problem: str | None
    oldest_webhook_seconds: float | None
    webhook_problem: str | None
    polls: list[PollState]
    polls_problem: str | None
    failed_deliveries: list[dict[str, Any]]
    deliveries_problem: str | None
    shops: list[dict[str, Any]] = field(default_factory=list)
    shops_problem: str | None = None
    rates: dict[str, Decimal] = field(default_factory=dict)
    """Messages handled per second by queue, from the services' own metrics (:mod:`services.console.rates`)."""

    @property
    def warnings(self) -> int:
        return sum(1 for row in self.queues if row.warnings)


async def _order_figures(ports: ConsolePorts, now: datetime) -> tuple[Figure | None, dict[str, Figure], str | None]:
    answer = await ports.services.get(
        "intake", "/v1/orders/counts", since=start_of_day(now).isoformat(), minutes=str(RATE_WINDOW_MINUTES)
    )
    figures = order_figures(answer.body) if answer.ok else None
    if figures is None:
        return None, {}, f"orders: {answer.problem() if not answer.ok else 'intake answered figures it cannot read'}"
    return figures[0], figures[1], None


def oldest_undelivered(metrics_text: str) -> float | None:
    """The gauge's value from intake's Prometheus text, or ``None`` when intake does not export it.

    Only the gauge's own line is read: parsing every family of the exposition (a histogram per route,
    the process series) was two thirds of the overview's time in the console."""
    for line in metrics_text.splitlines():
        if not line.startswith(OLDEST_WEBHOOK_METRIC):
            continue
        rest = line[len(OLDEST_WEBHOOK_METRIC) :]
        if rest.startswith("{"):
            rest = rest.partition("}")[2]
        elif not rest.startswith(" "):
            continue  # another series whose name starts with this one's
        value = rest.split()
        if value:
            return float(value[0])  # ValueError for what is not a number: the caller says so
    return None


METRICS_SERVICES: tuple[ServiceName, ...] = tuple(name for name in get_args(ServiceName) if name != "console")
"""The services whose ``/metrics`` the overview reads: every one but the console itself."""


def _reading(answer: Answer, at: float) -> Reading | None:
    if not answer.ok or not isinstance(answer.body, str):
        return None
    try:
        return Reading(at, handled_by_queue(answer.body))
    except ValueError:
        return None


async def read_service_metrics(ports: ConsolePorts) -> dict[str, Answer]:
    """Every service's ``/metrics`` at once; the handled-messages counters go to the message rates."""
    answers = await asyncio.gather(*(ports.services.call("GET", name, "/metrics") for name in METRICS_SERVICES))
    at = time.monotonic()
    for name, answer in zip(METRICS_SERVICES, answers, strict=True):
        ports.rates.observe(name, _reading(answer, at))
    return dict(zip(METRICS_SERVICES, answers, strict=True))


def _webhook_age(answer: Answer) -> tuple[float | None, str | None]:
    if not answer.ok or not isinstance(answer.body, str):
        return None, f"webhook backlog: {answer.problem()}"
    try:
        return oldest_undelivered(answer.body), None
    except ValueError:
        return None, "webhook backlog: intake's metrics could not be read"


async def shipstation_polls(ports: ConsolePorts, vendors: list[dict[str, Any]], now: datetime) -> list[PollState]:
    codes = [str(v["code"]) for v in vendors if v.get("kind") == "shipstation"]

    async def one(code: str) -> PollState:
        base = f"/v1/shipstation/{code}"
        polls, settings, problems = await asyncio.gather(
            ports.services.get("shipstation", f"{base}/polls"),
            ports.services.get("shipstation", f"{base}/settings"),
            ports.services.get("shipstation", f"{base}/problems"),
        )
        if polls.status is None:
            return poll_state(code, None, None, None, now, polls.problem())
        error = None if settings.ok or settings.status == 404 else settings.problem()
        return poll_state(
            code,
            polls.field("polls", []),
            settings.body if settings.ok else None,
            problems.field("problems", []),
            now,
            error or ("no credentials yet" if settings.status == 404 else None),
        )

    return list(await asyncio.gather(*(one(code) for code in codes)))


async def _shops(ports: ConsolePorts) -> tuple[list[dict[str, Any]], str | None]:
    listed = await ports.services.get("channels", "/v1/shops")
    shops = listed.field("shops")
    if not isinstance(shops, list):
        return [], f"shops: {listed.problem()}"
    views = await asyncio.gather(*(ports.services.get("channels", f"/v1/shops/{s['code']}") for s in shops))
    return [
        view.body if view.ok else {**shop, "problem": view.problem()} for shop, view in zip(shops, views, strict=True)
    ], None


async def overview(ports: ConsolePorts) -> Overview:
    now = utc_now()
    services = ports.services
    vendors_answer, holds, deliveries = await asyncio.gather(
        services.get("splitter", "/v1/vendors"),
        services.get("splitter", "/v1/holds"),
        services.get("gateway", "/v1/deliveries", state="failed", limit="50"),
    )
    vendors = vendors_answer.field("vendors", [])
    queues, (rate, today, orders_problem), metrics, polls, (shops, shops_problem) = await asyncio.gather(
        ports.watch.refresh(),
        _order_figures(ports, now),
        read_service_metrics(ports),
        shipstation_polls(ports, vendors, now),
        _shops(ports),
    )
    age, webhook_problem = _webhook_age(metrics["intake"])
    return Overview(
        now=now,
        queues=queues,
        queues_problem=ports.watch.vendors_problem,
        rate=rate,
        today=today,
        orders_problem=orders_problem,
        holds=holds.field("holds", []),
        holds_problem=None if holds.ok else f"holds: {holds.problem()}",
        oldest_webhook_seconds=age,
        webhook_problem=webhook_problem,
        polls=polls,
        polls_problem=None if vendors_answer.ok else f"ShipStation vendors: {vendors_answer.problem()}",
        failed_deliveries=deliveries.field("deliveries", []),
        deliveries_problem=None if deliveries.ok else f"failed deliveries: {deliveries.problem()}",
        shops=shops,
        shops_problem=shops_problem,
        rates=ports.rates.by_queue(),
    )
