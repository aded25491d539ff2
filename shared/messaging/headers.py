"""The AMQP headers this system writes on a message it parks or delays, and the one way a message is
copied for that (and for a replay), so the consumer guard and the parking tools agree on both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

ERROR = "x-error"
"""Why the message was parked (the exception text, cut to 2,000 characters)."""
ERROR_TYPE = "x-error-type"
PARKED_AT = "x-parked-at"
"""ISO 8601, UTC."""
DELIVERIES = "x-deliveries"
"""How many times it was delivered before it was parked."""
ORIGINAL_ROUTING_KEY = "x-original-routing-key"
"""The routing key it was first published with: where a replay sends it."""
ORIGINAL_EXCHANGE = "x-original-exchange"
ORIGINAL_QUEUE = "x-original-queue"
DELIVERY_COUNT = "x-delivery-count"
"""Set by RabbitMQ on quorum queues: deliveries so far (the poison budget)."""
RETRIES = "x-retries"
"""Transient failures so far (the delay-queue ladder; does not use up the poison budget)."""
LAST_ERROR = "x-last-error"

PARKING_HEADERS = frozenset(
    {
        ERROR,
        ERROR_TYPE,
        ORIGINAL_ROUTING_KEY,
        ORIGINAL_EXCHANGE,
        ORIGINAL_QUEUE,
        PARKED_AT,
        DELIVERIES,
        # Redelivery bookkeeping: a replayed message starts over with the whole budget.
        DELIVERY_COUNT,
        RETRIES,
        LAST_ERROR,
    }
)
"""What parking and delaying add, and what a replay takes off again."""
BROKER_DEATH_PREFIXES = ("x-death", "x-first-death-", "x-last-death-")
"""The broker's own dead-lettering records."""


def without_broker_deaths(headers: Mapping[str, Any] | None) -> dict[str, Any]:
    return {key: value for key, value in (headers or {}).items() if not key.startswith(BROKER_DEATH_PREFIXES)}


def replay_headers(headers: Mapping[str, Any] | None) -> dict[str, Any]:
    """The headers a replayed message carries: its own, without the parking and redelivery records."""
    return {key: value for key, value in without_broker_deaths(headers).items() if key not in PARKING_HEADERS}


def message_copy(message: AbstractIncomingMessage, headers: Mapping[str, Any]) -> aio_pika.Message:
    """A persistent copy of ``message`` with ``headers`` instead of its own: same body, ids and type."""
    return aio_pika.Message(
        message.body,
        headers=dict(headers),
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        type=message.type,
        app_id=message.app_id,
        timestamp=message.timestamp,
    )
