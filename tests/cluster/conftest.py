"""The cluster tier's fixtures: one three-node RabbitMQ cluster for the whole run (started, joined,
stopped and removed here; the machine's broker must have the same start time afterwards), and per
test the whole system, two instances of every service, on it. The figures of every fault are
printed at the end of the run, whatever ``-s`` or ``-q`` say."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.chaos.flow import Verdict, World
from tests.chaos.world import chaos_system
from tests.cluster.rabbit import RabbitCluster, machine_broker_started_at, machine_node

FIGURES = pytest.StashKey[list["FaultFigures"]]()
CLUSTER_STARTED_IN = pytest.StashKey[float]()
FORCED_STOPS = pytest.StashKey[list[str]]()
INSTANCES = 2
"""Processes of every service: each queue has two competing consumers, every relay and round two claimants."""


@dataclass
class FaultFigures:
    fault: str
    verdict: Verdict = field(default_factory=lambda: Verdict("not run"))
    node: str = ""
    outage_seconds: float = 0.0
    """From the fault to the cluster whole again (the node back, every node running)."""
    recovery_seconds: float = 0.0
    """Catching up: from the cluster whole again and the last order accepted, whichever is later, to
    nothing pending anywhere (every order's shipment at the channel)."""
    notes: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
async def rabbit_cluster(request: pytest.FixtureRequest) -> AsyncIterator[RabbitCluster]:
    """Three nodes ``dstest-1..3@<host>`` in their own folder under /tmp, removed at the end."""
    machine_started = machine_broker_started_at()
    root = Path(tempfile.mkdtemp(prefix="dstest-rabbit-", dir="/tmp"))
    cluster = RabbitCluster(root)
    started = time.monotonic()
    try:
        await cluster.start()
        cluster.started_in = request.config.stash[CLUSTER_STARTED_IN] = time.monotonic() - started
        yield cluster
    finally:
        forced = cluster.remove()
        machine_after = machine_broker_started_at()
        assert not await asyncio.to_thread(root.exists), f"{root} is still there"
        assert abs(machine_after - machine_started) < 5, (
            f"the machine's broker {machine_node()} restarted during the cluster tier"
            f" (started at {machine_started:.0f}, now {machine_after:.0f})"
        )
        request.config.stash[FORCED_STOPS] = forced


@pytest.fixture
def cluster_figures(request: pytest.FixtureRequest) -> list[FaultFigures]:
    return request.config.stash.setdefault(FIGURES, [])


@pytest.fixture
async def cluster_world(rabbit_cluster: RabbitCluster, tmp_path: Path) -> AsyncIterator[World]:
    """The system on the cluster: every service twice, each given every node's URL."""

    async with chaos_system(
        tmp_path,
        rabbit_cluster.amqp_url,
        instances=INSTANCES,
        queue_depths=rabbit_cluster.list_queues,
        # Fourteen processes (pool + 1 to 3 LISTEN connections each) share PostgreSQL's 100 connections
        # with everyone else's test runs here.
        env_overrides={"DROPSHIP_DB_POOL_SIZE": "2"},
        cleanup=rabbit_cluster.remove_namespace,
    ) as world:
        yield world


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    figures = config.stash.get(FIGURES, [])
    if not figures:
        return
    write = terminalreporter.write_line
    terminalreporter.write_sep("=", "cluster figures (three RabbitMQ nodes, two instances of every service)")
    if CLUSTER_STARTED_IN in config.stash:
        write(f"three nodes started and joined in {config.stash[CLUSTER_STARTED_IN]:.1f}s")
    header = f"{'fault':<44} {'node':<14} {'orders':>6} {'lost':>5} {'dup':>4}"
    write(f"{header} {'outage s':>8} {'catch-up s':>10} {'total s':>8}")
    for f in figures:
        v = f.verdict
        write(
            f"{f.fault:<44} {f.node:<14} {v.orders:>6} {v.total_lost:>5} {v.total_duplicated:>4}"
            f" {f.outage_seconds:>8.1f} {f.recovery_seconds:>10.1f} {v.seconds:>8.1f}"
        )
    if config.stash.get(FORCED_STOPS, []):
        write(f"nodes that did not stop by rabbitmqctl stop within 120 s and were killed: {config.stash[FORCED_STOPS]}")
    for f in figures:
        write(f.verdict.report())
        for key, value in f.notes.items():
            write(f"  {key}: {value}")
