"""The envelope every event travels in.

The envelope's ``message_id`` is also the AMQP ``message_id`` property; consumers deduplicate on it.
``correlation_id`` is the order id the event belongs to; ``causation_id`` is the message that caused
it (``None`` for events caused by an HTTP request).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An aware timestamp, normalised to UTC on the way in."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    """Base of every payload: unknown fields are kept, so older consumers pass newer fields on."""

    model_config = ConfigDict(extra="allow", frozen=False)


class Envelope(Contract):
    """Fields every message carries, whatever its type."""

    event_type: ClassVar[str] = ""
    current_schema_version: ClassVar[int] = 1

    message_id: str = Field(default_factory=new_message_id, min_length=1, max_length=100)
    type: str
    schema_version: int = 1
    occurred_at: UtcDatetime = Field(default_factory=utc_now)
    correlation_id: str = Field(description="The order id this event belongs to.")
    causation_id: str | None = Field(default=None, description="message_id of the message that caused this one.")
    data: Any

    def routing_key(self) -> str:
        """The topic routing key: the event type (vendor events add the vendor code)."""
        return self.type
