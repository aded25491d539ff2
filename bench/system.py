"""The five services as their own processes, as ``make run`` starts them (``python -m services.<name>``),
on free loopback ports so a running install keeps its ports; their pids give memory and CPU readings."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika

from bench.environment import BenchEnvironment, connect_database
from bench.machine import find_processes, rss_mb
from shared.messaging.topology import SERVICE_QUEUES, vendor_queue
from shared.processes import REPO_ROOT, ServiceProcess, free_port, wait_ready
from shared.runner import SERVICES, prepare


@dataclass
class BenchSystem:
    environment: BenchEnvironment
    log_dir: Path
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        return {name: proc.url for name, proc in self.services.items()}

    @property
    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.services.items()}

    async def start(self, ready_within: float = 90) -> None:
        """Prepare the database and queues as ``make run`` does, start every service, wait until ready."""
        await prepare(self.environment.settings())
        ports = {name: free_port() for name in SERVICES}
        base = {**os.environ, **self.environment.env(), "PYTHONPATH": str(REPO_ROOT)}
        for name, port in ports.items():
            base[f"DROPSHIP_{name.upper()}_PORT"] = str(port)
            base[f"DROPSHIP_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in SERVICES:
            proc = ServiceProcess(name, ports[name], base, self.log_dir / f"{name}.log")
            proc.start()
            self.services[name] = proc
        await wait_ready(self.services.values(), ready_within)

    async def process_groups(self) -> dict[str, list[int]]:
        """Each service's pid, the PostgreSQL backends serving the services (not the bench's own
        connections) and RabbitMQ's runtime, which other users of the broker share."""
        groups = {name: [pid] for name, pid in self.pids.items()}
        connection = await connect_database(self.environment.database_url)
        try:
            rows = await connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name NOT LIKE 'bench-%' AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()
        groups["postgres (services' backends)"] = [row["pid"] for row in rows]
        groups["rabbitmq (whole broker, shared)"] = find_processes("beam.smp")
        return groups

    async def wait_idle(self, within: float = 120) -> float:
        """Wait until the pipeline is empty: no unpublished outbox row in any schema, no channel webhook
        left to send, no ready message in any of the namespace's queues. Answers the seconds waited (a
        step that overloaded the system leaves a backlog that would otherwise count against the next
        measurement)."""
        started = time.monotonic()
        topology = self.environment.topology
        # Queues of services that run here (channels.status waits for the channel connectors).
        running = [spec for spec in SERVICE_QUEUES if spec.consumer in SERVICES]
        specs = [*running, *(vendor_queue(v) for v in self.environment.vendors)]
        database = await connect_database(self.environment.database_url)
        broker = await aio_pika.connect(self.environment.amqp_url)
        try:
            channel = await broker.channel()
            while time.monotonic() - started < within:
                unpublished = 0
                for schema in SERVICES:
                    unpublished += int(
                        await database.fetchval(f'SELECT count(*) FROM "{schema}".outbox WHERE published_at IS NULL')  # noqa: S608
                    )
                # Channel webhooks still to send keep intake busy as much as queued messages do.
                unsent = "SELECT count(*) FROM intake.upstream_deliveries WHERE delivered_at IS NULL"
                unpublished += int(await database.fetchval(unsent))
                # And the gateway's deliveries to vendors.
                undelivered = "SELECT count(*) FROM gateway.deliveries WHERE state = 'pending'"
                unpublished += int(await database.fetchval(undelivered))
                ready = 0
                for spec in specs:
                    with contextlib.suppress(aio_pika.exceptions.ChannelClosed):
                        queue = await channel.declare_queue(topology.queue(spec), passive=True)
                        ready += queue.declaration_result.message_count or 0
                    if channel.is_closed:
                        channel = await broker.channel()
                if unpublished == 0 and ready == 0:
                    break
                await asyncio.sleep(0.5)
        finally:
            await broker.close()
            await database.close()
        return round(time.monotonic() - started, 1)

    def check_alive(self) -> None:
        for proc in self.services.values():
            if not proc.alive():
                raise RuntimeError(f"{proc.name} died during the run:\n{proc.logs()[-3000:]}")

    def rss(self) -> dict[str, float | None]:
        return {name: rss_mb(pid) for name, pid in self.pids.items()}

    def stop(self, timeout: float = 30) -> dict[str, int | None]:
        """SIGTERM every service (the graceful stop ``make run``'s Ctrl-C gives), kill what lingers."""
        for proc in self.services.values():
            proc.signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        deadline = time.monotonic() + timeout
        for name, proc in self.services.items():
            if proc.process is None:
                continue
            try:
                codes[name] = proc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.process.kill()
                codes[name] = proc.process.wait(timeout=10)
        return codes
