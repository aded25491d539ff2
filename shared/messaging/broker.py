"""Connections to RabbitMQ: a robust aio-pika connection for publishing and declaring, and the
FastStream broker every consumer runs on. Both go through :class:`ClusterConnection`, so a
comma-separated ``DROPSHIP_AMQP_URL`` (the nodes of one cluster) is tried in turn on the first
connect and on every reconnect (:mod:`shared.messaging.nodes`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from typing import Any

import aio_pika
from aio_pika import RobustConnection
from aio_pika.abc import AbstractRobustConnection, TimeoutType
from aiormq.connection import parse_bool
from faststream.rabbit import RabbitBroker
from faststream.rabbit.schemas.channel import Channel
from yarl import URL

from shared.db import InfrastructureUnavailable
from shared.logging import get_logger
from shared.messaging.nodes import NodeRotation, node_urls, redacted_node, redacted_nodes

RECONNECT_INTERVAL_SECONDS = 1.0
"""The pause after every node of the list has failed in a row (none between two nodes of one round)."""

_log = get_logger("shared.messaging.broker")


def redacted_amqp_url(url: str) -> str:
    """``DROPSHIP_AMQP_URL`` (one node or several) with every password replaced."""
    return redacted_nodes(url)


def _closing_error(closing: asyncio.Future[Any]) -> BaseException | None:
    try:
        return closing.exception()
    except asyncio.CancelledError as cancelled:
        return cancelled


class ClusterConnection(RobustConnection):
    """A robust connection to one of several nodes of a cluster (aio-pika has no multi-host URL).

    Each attempt, the first or one after the connection was lost, goes to the next node in turn, at
    once; only after every node failed in a row does it wait ``reconnect_interval``. With
    ``fail_fast`` (aio-pika's default) the first connect gives up once every node has refused, with
    the last node's error; afterwards it keeps trying for as long as the connection is not closed.
    Connection options in the query of the first URL apply to every node; a node's own win."""

    def __init__(
        self, url: URL, loop: asyncio.AbstractEventLoop | None = None, *, nodes: tuple[str, ...], **kwargs: Any
    ) -> None:
        first = URL(url)  # nodes[0], as the caller built it (FastStream adds its options to the query)
        self._nodes = (first, *(URL(node).update_query({**first.query, **URL(node).query}) for node in nodes[1:]))
        self._rotation = NodeRotation(len(self._nodes))
        self._give_up_when_every_node_refused = parse_bool(kwargs.pop("fail_fast", first.query.get("fail_fast", "1")))
        self._refused: asyncio.Future[BaseException] = (loop or asyncio.get_event_loop()).create_future()
        self._ever_connected = False
        # aio-pika's own fail-fast gives up after the first node; this class gives up after the last.
        super().__init__(self._nodes[0], loop, fail_fast=False, **kwargs)
        self._pause_after_round = float(self.reconnect_interval)

    async def connect(self, timeout: TimeoutType = None) -> None:  # noqa: ASYNC109 (aio-pika's signature)
        if self._ever_connected or not self._give_up_when_every_node_refused:
            await super().connect(timeout)
            return
        joining = asyncio.ensure_future(super().connect(timeout))
        await asyncio.wait((joining, self._refused), return_when=asyncio.FIRST_COMPLETED)
        if joining.done():
            joining.result()
            return
        joining.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await joining
        await self.close()
        raise self._refused.result()

    async def _on_connected(self) -> None:
        await super()._on_connected()
        if self._rotation.failures_in_a_row:
            _log.info(
                "rabbitmq connected", node=redacted_node(str(self.url)), after_failures=self._rotation.failures_in_a_row
            )
        self._rotation.connected()
        self._ever_connected = True
        self.reconnect_interval = self._pause_after_round

    async def _on_connection_close(self, closing: asyncio.Future[Any]) -> None:
        if not (self._close_called or self.is_closed):
            error = _closing_error(closing)
            left = str(self.url)
            self._rotation.failed()
            self.url = self._nodes[self._rotation.current]
            self.reconnect_interval = self._rotation.pause_before_next(self._pause_after_round)
            if not self._ever_connected and self._rotation.every_node_failed and not self._refused.done():
                self._refused.set_result(error if isinstance(error, Exception) else ConnectionError(str(error)))
            if len(self._nodes) > 1:
                _log.warning(
                    "rabbitmq node unavailable, trying the next",
                    node=redacted_node(left),
                    error=str(error) or type(error).__name__,
                    next=redacted_node(str(self.url)),
                    pause_seconds=self.reconnect_interval,
                )
        await super()._on_connection_close(closing)


async def connect(url: str, *, name: str) -> AbstractRobustConnection:
    """A connection that reconnects by itself after a broker restart, to any node ``url`` names."""
    nodes = node_urls(url)
    connection = ClusterConnection(
        URL(nodes[0]),
        nodes=nodes,
        client_properties={"connection_name": name},
        reconnect_interval=RECONNECT_INTERVAL_SECONDS,
    )
    try:
        await connection.connect(timeout=10)
    except (OSError, aio_pika.exceptions.AMQPError) as error:
        raise InfrastructureUnavailable(
            f"RabbitMQ does not answer at {redacted_amqp_url(url)} ({error}); start it with "
            "'rabbitmq-server -detached' or 'docker compose up -d rabbitmq'"
        ) from error
    return connection


def make_broker(url: str, *, service: str, prefetch_count: int) -> RabbitBroker:
    """The consumer side: bounded prefetch, confirms, returns raised, graceful stop, quiet per-message logs."""
    nodes = node_urls(url)
    broker = RabbitBroker(
        nodes[0],
        app_id=service,
        default_channel=Channel(prefetch_count=prefetch_count, publisher_confirms=True, on_return_raises=True),
        graceful_timeout=20.0,
        reconnect_interval=RECONNECT_INTERVAL_SECONDS,
        logger=get_logger(f"{service}.broker"),
        # One "Received"/"Processed" line per message is a debugging aid, not an operations log: at
        # INFO it cost an eighth of a consumer's CPU. The delivery guard logs what goes wrong.
        log_level=logging.DEBUG,
        # Handlers take the whole message (see subscribe_guarded) and validate it themselves, so
        # FastDepends' per-call argument resolution would be pure overhead.
        apply_types=False,
    )
    # FastStream hands these to aio_pika.connect_robust as they are, and connect_robust builds its
    # connection from connection_class: the only way in for the other nodes (its URL holds one).
    # tests/cluster/test_rabbit_cluster.py (clients move to the next node) fails if FastStream stops passing it.
    broker._connection_kwargs["connection_class"] = partial(ClusterConnection, nodes=nodes)
    return broker
