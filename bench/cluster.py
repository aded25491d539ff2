"""``python -m bench.cluster``: orders/s on a RabbitMQ cluster of the run's own, beside one node, in one run.

Not part of ``make bench`` (it starts RabbitMQ nodes, as root, and takes about six minutes). Three
set-ups, one after the other, each sent the same saturating flow (``--orders`` orders, 24 requests in
flight; ShipStation polling the export and posting a notice for each vendor order; a webhook vendor;
the channel receiving every shipment) and audited afterwards:

1. one node of our own, one instance of every service;
2. the three-node cluster, one instance of every service;
3. the three-node cluster, two instances of every service.

Each node is configured as the tier's (``tests/cluster/rabbit.py``: ``pause_minority``, balanced
quorum leaders), and never the machine's broker. On a machine of two shared cores a second instance
measures what it costs (more processes for the same cores) and that the flow is shared correctly,
not a speed-up: see ``docs/scaling.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import describe
from tests.chaos.flow import OrderLoad, run_scenario
from tests.chaos.world import chaos_system
from tests.cluster.rabbit import RabbitCluster

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "cluster.json"


@dataclass
class Measured:
    setup: str
    nodes: int
    instances: int
    orders: int
    accepted_seconds: float
    """From the first order posted to the last one accepted (201)."""
    settled_seconds: float
    """From the first order posted to every order's shipment received by the channel, nothing pending."""
    lost: int
    duplicated: int
    problems: int
    load_average: float

    @property
    def accepted_per_second(self) -> float:
        return self.orders / self.accepted_seconds if self.accepted_seconds else 0.0

    @property
    def orders_per_second(self) -> float:
        """Orders all the way: in, split, exported, shipped, and the shipment pushed to the channel."""
        return self.orders / self.settled_seconds if self.settled_seconds else 0.0


def say(message: str) -> None:
    sys.stderr.write(f"[bench cluster {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


async def _no_fault(load: OrderLoad) -> int:
    return 0


def _seconds(note: object) -> float:
    return float(str(note).rstrip("s"))


async def measure(cluster: RabbitCluster, setup: str, instances: int, orders: int) -> Measured:
    with tempfile.TemporaryDirectory(prefix="dropship-bench-cluster-") as folder:
        async with chaos_system(
            Path(folder),
            cluster.amqp_url,
            instances=instances,
            queue_depths=cluster.list_queues,
            env_overrides={"DROPSHIP_DB_POOL_SIZE": "3"},
            cleanup=cluster.remove_namespace,
        ) as world:
            say(f"{setup}: {orders} orders")
            run = await run_scenario(world, setup, orders=orders, fault=_no_fault, settle_timeout=600)
    verdict = run.verdict
    return Measured(
        setup=setup,
        nodes=len(cluster.nodes),
        instances=instances,
        orders=verdict.orders,
        accepted_seconds=_seconds(verdict.notes.get("orders accepted after", "0s")),
        settled_seconds=_seconds(verdict.notes.get("settled after", "0s")),
        lost=verdict.total_lost,
        duplicated=verdict.total_duplicated,
        problems=len(verdict.problems),
        load_average=os.getloadavg()[0],
    )


async def run(orders: int) -> list[Measured]:
    measured: list[Measured] = []
    for size, instance_counts in ((1, (1,)), (3, (1, 2))):
        cluster = RabbitCluster(Path(tempfile.mkdtemp(prefix="dstest-rabbit-", dir="/tmp")), size=size)
        try:
            say(f"starting {size} node(s)")
            await cluster.start()
            for instances in instance_counts:
                label = f"{'one node' if size == 1 else 'three-node cluster'}, {instances} instance(s) each"
                measured.append(await measure(cluster, label, instances, orders))
                say(f"{label}: {measured[-1].orders_per_second:.1f} orders/s")
        finally:
            forced = cluster.remove()
            if forced:
                say(f"nodes that had to be killed: {forced}")
    return measured


def table(measured: list[Measured]) -> str:
    lines = [
        "| setup | orders | accepted/s | orders/s, all the way | seconds | lost | duplicated |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in measured:
        lines.append(
            f"| {m.setup} | {m.orders} | {m.accepted_per_second:.1f} | {m.orders_per_second:.1f}"
            f" | {m.settled_seconds:.1f} | {m.lost} | {m.duplicated} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    machine = describe()
    measured = asyncio.run(run(args.orders))
    results = {
        "started_at": started,
        "machine": machine,
        "orders": args.orders,
        "setups": [
            {**asdict(m), "accepted_per_second": m.accepted_per_second, "orders_per_second": m.orders_per_second}
            for m in measured
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(f"{machine['cores']} cores, load average at start {machine.get('load_average')}\n\n")
    sys.stdout.write(table(measured) + "\n")
    if any(m.lost or m.duplicated or m.problems for m in measured):
        raise SystemExit("the audit found lost, duplicated or unsettled orders: see the figures above")


if __name__ == "__main__":
    main()
