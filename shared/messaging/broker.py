"""Connections to RabbitMQ: a robust aio-pika connection for publishing and declaring, and the
FastStream broker every consumer runs on."""

from __future__ import annotations

import logging

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from faststream.rabbit import RabbitBroker
from faststream.rabbit.schemas.channel import Channel

from shared.db import InfrastructureUnavailable
from shared.logging import get_logger


def redacted_amqp_url(url: str) -> str:
    from shared.db import redacted_dsn

    return redacted_dsn(url)


async def connect(url: str, *, name: str) -> AbstractRobustConnection:
    """A connection that reconnects by itself after a broker restart."""
    try:
        return await aio_pika.connect_robust(url, client_properties={"connection_name": name}, timeout=10)
    except (OSError, aio_pika.exceptions.AMQPError) as error:
        raise InfrastructureUnavailable(
            f"RabbitMQ does not answer at {redacted_amqp_url(url)} ({error}); start it with "
            "'rabbitmq-server -detached' or 'docker compose up -d rabbitmq'"
        ) from error


def make_broker(url: str, *, service: str, prefetch_count: int) -> RabbitBroker:
    """The consumer side: bounded prefetch, confirms, returns raised, graceful stop, quiet per-message logs."""
    return RabbitBroker(
        url,
        app_id=service,
        default_channel=Channel(prefetch_count=prefetch_count, publisher_confirms=True, on_return_raises=True),
        graceful_timeout=20.0,
        reconnect_interval=1.0,
        logger=get_logger(f"{service}.broker"),
        # One "Received"/"Processed" line per message is a debugging aid, not an operations log: at
        # INFO it cost an eighth of a consumer's CPU. The delivery guard logs what goes wrong.
        log_level=logging.DEBUG,
        # Handlers take the whole message (see subscribe_guarded) and validate it themselves, so
        # FastDepends' per-call argument resolution would be pure overhead.
        apply_types=False,
    )
