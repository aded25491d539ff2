"""Every service as a real process (:class:`shared.processes.ServiceProcess`), as ``make run``
runs them, for the end-to-end and chaos suites: start, stop with a signal, kill, restart, add
instances, read their logs; and a stand-in for a third-party vendor adapter on the real broker."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from shared.contracts.envelope import Envelope
from shared.messaging.broker import connect
from shared.messaging.topology import Topology, vendor_queue
from shared.processes import REPO_ROOT, ServiceProcess, free_port, wait_ready

SERVICE_NAMES = ("intake", "splitter", "shipstation", "tracking", "gateway", "channels", "console")


@dataclass
class ProcessSystem:
    """The services as processes sharing one database and namespace; more instances on request."""

    base_env: dict[str, str]
    log_dir: Path
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    extra: list[ServiceProcess] = field(default_factory=list)

    @property
    def urls(self) -> dict[str, str]:
        return {name: proc.url for name, proc in self.processes.items()}

    def _env(self, ports: dict[str, int], own_port: int, name: str) -> dict[str, str]:
        env = {**os.environ, **self.base_env}
        for service, port in ports.items():
            env[f"DROPSHIP_{service.upper()}_URL"] = f"http://127.0.0.1:{port}"
        env[f"DROPSHIP_{name.upper()}_PORT"] = str(own_port)
        env["PYTHONPATH"] = str(REPO_ROOT)
        return env

    def start(self, names: Iterable[str] = SERVICE_NAMES) -> None:
        ports = {name: free_port() for name in SERVICE_NAMES}
        for name in names:
            proc = ServiceProcess(name, ports[name], self._env(ports, ports[name], name), self.log_dir / f"{name}.log")
            self.processes[name] = proc
            proc.start()

    def add_instance(self, name: str) -> ServiceProcess:
        """Another process of ``name`` on its own port, consuming the same queues."""
        ports = {n: p.port for n, p in self.processes.items()}
        port = free_port()
        index = len([e for e in self.extra if e.name == name]) + 1
        proc = ServiceProcess(name, port, self._env(ports, port, name), self.log_dir / f"{name}-{index}.log", index)
        self.extra.append(proc)
        proc.start()
        return proc

    async def wait_ready(self, timeout: float = 60) -> None:
        await wait_ready([*self.processes.values(), *self.extra], timeout)

    def restart(self, name: str, *, kill: bool = False) -> None:
        proc = self.processes[name]
        if kill:
            proc.kill()
        else:
            proc.stop()
        proc.start()

    def stop_all(self) -> dict[str, int | None]:
        everything = [*self.processes.values(), *self.extra]
        for proc in everything:
            proc.signal(signal.SIGTERM)
        return {f"{p.name}#{p.instance}": p.wait(30) for p in everything}

    def all_logs(self) -> str:
        return "\n".join(p.logs() for p in [*self.processes.values(), *self.extra])


@dataclass
class VendorAdapterStandIn:
    """The test playing a third-party vendor adapter on the real broker, as contract §3 allows anyone:
    it consumes the vendor's public ``vendor.<code>`` queue (named with the run's namespace, as the
    services name it) and publishes what an adapter publishes (persistent, mandatory, confirmed)."""

    vendor: str
    topology: Topology
    connection: AbstractRobustConnection
    channel: AbstractChannel
    received: list[dict[str, Any]] = field(default_factory=list)
    """Every message the vendor's queue delivered, as parsed JSON, in arrival order."""

    @classmethod
    async def connect(cls, amqp_url: str, namespace: str, vendor: str) -> VendorAdapterStandIn:
        """Start consuming ``vendor.<vendor>``; the splitter declared it when the vendor was put."""
        connection = await connect(amqp_url, name=f"tests-adapter-{vendor}")
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        adapter = cls(vendor, Topology(namespace=namespace), connection, channel)
        queue = await channel.get_queue(adapter.topology.queue(vendor_queue(vendor)), ensure=True)
        await queue.consume(adapter._on_message)
        return adapter

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        async with message.process():
            self.received.append(json.loads(message.body))

    def messages(self, event_type: str, vendor_order_id: str | None = None) -> list[dict[str, Any]]:
        """The messages of ``event_type`` received so far (for ``vendor_order_id`` if given)."""
        return [
            message
            for message in self.received
            if message["type"] == event_type
            and (vendor_order_id is None or message["data"]["vendor_order_id"] == vendor_order_id)
        ]

    def created_for(self, order_id: str) -> list[dict[str, Any]]:
        """The ``vendor_order.created`` messages of one order, in arrival order."""
        return [m for m in self.messages("vendor_order.created") if m["data"]["order_id"] == order_id]

    async def publish(self, event: Envelope) -> None:
        exchange = await self.channel.get_exchange(self.topology.exchange, ensure=False)
        message = aio_pika.Message(
            event.model_dump_json().encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=event.message_id,
            correlation_id=event.correlation_id,
            type=event.type,
            app_id=f"adapter-{self.vendor}",
        )
        await exchange.publish(message, routing_key=event.routing_key(), mandatory=True)

    async def close(self) -> None:
        await self.channel.close()
        await self.connection.close()


@dataclass
class BrokerTap:
    """A queue of the test's own (exclusive, gone when it closes) bound to some routing keys of the
    run's exchange: it sees every such event the services publish, beside their real consumers."""

    connection: AbstractRobustConnection
    received: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    async def open(cls, amqp_url: str, namespace: str, routing_keys: Iterable[str]) -> BrokerTap:
        connection = await connect(amqp_url, name="tests-broker-tap")
        tap = cls(connection)
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for routing_key in routing_keys:
            await queue.bind(Topology(namespace=namespace).exchange, routing_key=routing_key)
        await queue.consume(tap._on_message, no_ack=True)
        return tap

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self.received.append(json.loads(message.body))

    def messages(self, event_type: str, vendor_order_id: str | None = None) -> list[dict[str, Any]]:
        return [
            message
            for message in self.received
            if message["type"] == event_type
            and (vendor_order_id is None or message["data"]["vendor_order_id"] == vendor_order_id)
        ]

    async def close(self) -> None:
        await self.connection.close()
