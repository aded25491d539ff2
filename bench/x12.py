"""The X12 codec alone, one core, no I/O: 850s rendered per second from vendor orders of 3 to 5 lines,
and 856s (two packages) read per second, each beside a baseline measured alternately in the same
process.

Baselines: for rendering, ``model_dump_json`` of the same vendor order (what a webhook vendor's JSON
costs); for reading, splitting the same bytes into segments and elements (touching every byte once,
the least any reader does). Ratios well above a small fraction mean the codec is not what limits an
EDI partner's throughput.

``python -m bench.x12 [--seconds S] [--smoke]`` prints
``x12: N 850s/s rendered (baseline …), M 856s/s read (baseline …)``; ``make bench`` records it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.routing import samples
from services.gateway.x12 import ControlNumbers, PartnerSettings, read_file, read_ship_notice, render_purchase_order
from shared.contracts.vendor_orders import VendorOrderCreatedData

SHIP_NOTICE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "x12" / "ship_notice_856.x12"
PARTNER = PartnerSettings(sender_id="MERCHANT", receiver_id="ACMEDIST")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def vendor_orders() -> list[VendorOrderCreatedData]:
    """The routing bench's orders as vendor orders (every line to one vendor, with its vendor SKU)."""
    out = []
    for number, sample in enumerate(samples(), start=1):
        data = sample.order.model_dump(mode="json")
        data["lines"] = [{**line, "vendor_sku": f"V-{line['sku']}", "cost": "4.10"} for line in data["lines"]]
        out.append(
            VendorOrderCreatedData.model_validate(
                {**data, "vendor_order_id": f"vo_bench_{number}", "vendor_order_number": f"{1000 + number}-1",
                 "vendor": "acme"}
            )
        )  # fmt: skip
    return out


def _rate(work: Callable[[], object], seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds or done == 0:
        work()
        done += 1
    return done / elapsed


def _split(content: bytes) -> int:
    text = content.decode("ascii")
    return sum(len(segment.split("*")) for segment in text.split("~"))


def measure(seconds: float = 2.0, rounds: int = 3) -> dict[str, Any]:
    orders = vendor_orders()
    notice = SHIP_NOTICE.read_bytes()
    position = {"order": 0}

    def render() -> None:
        order = orders[position["order"] % len(orders)]
        position["order"] += 1
        render_purchase_order(order, PARTNER, ControlNumbers(position["order"], 1, 1), NOW)

    def as_json() -> None:
        orders[position["order"] % len(orders)].model_dump_json()
        position["order"] += 1

    def read() -> None:
        for interchange in read_file(notice).interchanges:
            for group in interchange.groups:
                for transaction in group.sets:
                    read_shipment = read_ship_notice(transaction)
                    assert read_shipment.orders

    def split() -> None:
        _split(notice)

    figures: dict[str, list[float]] = {"render": [], "json": [], "read": [], "split": []}
    for _ in range(rounds):
        figures["json"].append(_rate(as_json, seconds))
        figures["render"].append(_rate(render, seconds))
        figures["split"].append(_rate(split, seconds))
        figures["read"].append(_rate(read, seconds))
    rendered, dumped = statistics.median(figures["render"]), statistics.median(figures["json"])
    parsed, split_rate = statistics.median(figures["read"]), statistics.median(figures["split"])
    return {
        "rounds": rounds,
        "seconds_per_round": seconds,
        "lines_per_850": round(sum(len(order.lines) for order in orders) / len(orders), 2),
        "rendered_850_per_s": round(rendered, 1),
        "render_baseline": "VendorOrderCreatedData.model_dump_json",
        "render_baseline_per_s": round(dumped, 1),
        "render_ratio": round(rendered / dumped, 3),
        "read_856_per_s": round(parsed, 1),
        "read_baseline": "split the same bytes into segments and elements",
        "read_baseline_per_s": round(split_rate, 1),
        "read_ratio": round(parsed / split_rate, 3),
        "bytes_per_856": len(notice),
    }


def summary_line(result: dict[str, Any]) -> str:
    return (
        f"x12: {result['rendered_850_per_s']:.0f} 850s/s rendered (baseline {result['render_baseline']}:"
        f" {result['render_baseline_per_s']:.0f}/s, ratio {result['render_ratio']:.2f});"
        f" {result['read_856_per_s']:.0f} 856s/s read (baseline {result['read_baseline']}:"
        f" {result['read_baseline_per_s']:.0f}/s, ratio {result['read_ratio']:.3f})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.x12", description="The X12 codec beside baselines.")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--smoke", action="store_true", help="a fraction of a second: checks it runs")
    args = parser.parse_args(argv)
    result = measure(seconds=0.05, rounds=1) if args.smoke else measure(seconds=args.seconds)
    sys.stdout.write(summary_line(result) + "\n")


if __name__ == "__main__":
    main()
