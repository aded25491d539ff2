"""Routing decisions per second: the pure engine alone (``route_lines`` then ``split_order``) on
realistic orders of 3 to 5 lines, each SKU carried by 3 vendors, with every strategy and both switches
in turn; one core, no I/O.

The baseline, measured in the same process just before and after, is ``OrderReceivedData.model_validate``
of the same orders as JSON-shaped dicts: every ``order.received`` the splitter consumes is validated
with pydantic before it is routed, so the ratio says what routing costs next to a price each order
pays anyway. Far above 1: routing is not what limits the splitter; near or below 1, it is worth a look.

``python -m bench.routing [--seconds S] [--smoke]`` prints
``routing: N decisions/s (baseline X: M/s, ratio R)``; ``make bench`` records the same figure.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.splitter.routing.model import (
    STRATEGIES,
    LineToRoute,
    RoutingInput,
    RoutingSettings,
    Source,
    VendorProfile,
)
from services.splitter.routing.split import split_order
from services.splitter.routing.strategies import route_lines
from shared.contracts.orders import OrderReceivedData

BASELINE = "OrderReceivedData.model_validate"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
VENDORS = {
    "east": VendorProfile("east", handling_fee=Decimal("1.50"), stock_buffer=2, feed_stale_after_hours=48),
    "west": VendorProfile("west", countries=frozenset({"US", "CA"}), accepts_backorders=True),
    "north": VendorProfile("north", handling_fee=Decimal("0.75"), feed_stale_after_hours=24),
    "south": VendorProfile("south", accepts_backorders=True, stock_buffer=1),
}
SKUS = 60


@dataclass(frozen=True)
class Sample:
    order_json: dict[str, Any]
    order: OrderReceivedData
    request: RoutingInput


def _catalog(rng: random.Random) -> dict[str, tuple[Source, ...]]:
    catalog = {}
    for index in range(SKUS):
        vendors = rng.sample(sorted(VENDORS), 3)
        catalog[f"SKU-{index:03}"] = tuple(
            Source(
                vendor,
                vendor_sku=f"{vendor[0].upper()}-{index:03}",
                cost=None if rng.random() < 0.1 else Decimal(rng.randint(150, 2500)) / 100,
                stock=None if rng.random() < 0.15 else rng.randint(0, 40),
                priority=rng.randint(1, 3),
                stock_as_of=NOW - timedelta(hours=rng.randint(0, 30)),
                reserved=rng.randint(0, 4),
            )
            for vendor in vendors
        )
    return catalog


def _order_json(rng: random.Random, number: int) -> dict[str, Any]:
    skus = rng.sample(range(SKUS), rng.randint(3, 5))
    return {
        "order_id": f"ord_bench_{number}",
        "channel": "shop",
        "external_id": f"ext-{number}",
        "order_number": f"#{1000 + number}",
        "ordered_at": "2026-11-27T05:41:00Z",
        "currency": "USD",
        "customer": {"name": "Jo Müller", "email": "jo@example.com"},
        "ship_to": {"name": "Jo Müller", "address1": "1 Main St", "city": "Springfield", "state": "IL",
                    "postal_code": "62701", "country": "US"},
        "tax_amount": "3.99",
        "shipping_amount": "5.99",
        "discounts": [{"code": "WELCOME5", "amount": "5.00"}],
        "lines": [
            {"line_id": f"L{i}", "sku": f"SKU-{sku:03}", "name": f"Item {sku}", "quantity": rng.randint(1, 3),
             "unit_price": f"{rng.randint(500, 4000) / 100:.2f}", "weight": "6.5", "weight_unit": "ounces"}
            for i, sku in enumerate(skus, start=1)
        ],
    }  # fmt: skip


def samples(count: int = 64, seed: int = 5) -> list[Sample]:
    """``count`` orders over one catalog, cycling through every strategy with both switches."""
    rng = random.Random(seed)  # noqa: S311 - bench data
    catalog = _catalog(rng)
    settings = itertools.cycle(
        RoutingSettings(strategy, prefer_single_vendor=prefer, split_quantities=split)
        for strategy in STRATEGIES
        for prefer in (False, True)
        for split in (False, True)
    )
    out = []
    for number in range(count):
        order_json = _order_json(rng, number)
        order = OrderReceivedData.model_validate(order_json)
        lines = tuple(LineToRoute(line.line_id, line.sku, line.quantity) for line in order.lines)
        request = RoutingInput(lines, order.ship_to.country, catalog, VENDORS, next(settings), NOW)
        out.append(Sample(order_json, order, request))
    return out


def _decide(sample: Sample) -> None:
    routing = route_lines(sample.request)
    if not routing.held:
        split_order(sample.order, routing.allocations, first_sequence=1, new_vendor_order_id=lambda: "vo_bench")


def _validate(sample: Sample) -> None:
    OrderReceivedData.model_validate(sample.order_json)


def _rate(work: Callable[[Sample], None], batch: list[Sample], seconds: float) -> float:
    """Calls per second of ``work`` over ``batch``, repeated for at least ``seconds``."""
    done = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds or done == 0:
        for sample in batch:
            work(sample)
        done += len(batch)
    return done / elapsed


def measure(seconds: float = 3.0, rounds: int = 3) -> dict[str, Any]:
    """Routing and the baseline alternately, ``rounds`` times each for ``seconds`` each; the medians."""
    batch = samples()
    _rate(_decide, batch, 0.05)  # warm caches, so the first round is not the slowest by accident
    routed, baseline = [], []
    for _ in range(rounds):
        baseline.append(_rate(_validate, batch, seconds))
        routed.append(_rate(_decide, batch, seconds))
    decisions, validations = statistics.median(routed), statistics.median(baseline)
    lines = sum(len(sample.request.lines) for sample in batch) / len(batch)
    return {
        "orders": len(batch),
        "lines_per_order": round(lines, 2),
        "held": sum(route_lines(sample.request).held for sample in batch),
        "seconds_per_round": seconds,
        "rounds": rounds,
        "decisions_per_s": round(decisions, 1),
        "lines_per_s": round(decisions * lines, 1),
        "baseline": BASELINE,
        "baseline_per_s": round(validations, 1),
        "ratio": round(decisions / validations, 3),
    }


def summary_line(result: dict[str, Any]) -> str:
    return (
        f"routing: {result['decisions_per_s']:.0f} decisions/s"
        f" (baseline {result['baseline']}: {result['baseline_per_s']:.0f}/s, ratio {result['ratio']:.2f})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.routing", description="Routing decisions per second beside a baseline."
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="per round, for routing and the baseline each")
    parser.add_argument("--smoke", action="store_true", help="a fraction of a second: checks it runs, means nothing")
    args = parser.parse_args(argv)
    result = measure(seconds=0.1, rounds=1) if args.smoke else measure(seconds=args.seconds)
    sys.stdout.write(summary_line(result) + "\n")


if __name__ == "__main__":
    main()
