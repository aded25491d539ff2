"""Intake's use cases: one function per command of its API and per event it consumes.

Each takes plain data (a validated request, ids, the :class:`~services.intake.domain.Caller`) and its
ports (:mod:`services.intake.ports`), owns its unit of work (one statement, or one transaction), and
raises :class:`~services.intake.domain.IntakeError` subclasses for the HTTP layer to answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from services.intake import domain, holds, status_order
from services.intake.domain import Caller
from services.intake.ports import Database, OrderProgress, OutboxWritten, Tables
from services.intake.repository import IntakeRepository, StoredOrder
from shared.contracts.envelope import Envelope
from shared.contracts.orders import (
    ChannelOrderStatus,
    OrderCancelled,
    OrderCancelledData,
    OrderHeld,
    OrderReceived,
    OrderReleased,
    OrderStatusChanged,
    OrderUpdated,
    OrderUpdatedData,
    ShipmentSummary,
)
from shared.db import Connection
from shared.messaging.consumer import RetryLater
from shared.secrets import SecretBox
from shared.webhooks import new_webhook_secret

log = structlog.get_logger()


@dataclass(frozen=True)
class Answer:
    """What a command answers: the body, and whether it changed anything (201/202 rather than 200)."""

    body: dict[str, Any]
    changed: bool


# ---------------------------------------------------------------------------------------------- orders


async def create_order(
    db: Database, request: domain.OrderRequest, caller: Caller, *, outbox_written: OutboxWritten
) -> Answer:
    """Store a channel order and announce it; the same ``(channel, external_id)`` again answers the
    stored order and announces nothing. One statement for a new order (see the repository)."""
    if not caller.may_act_for(request.channel):
        raise domain.ForeignChannel(caller.channel or "", request.channel)
    order = domain.to_order_received(domain.new_order_id(), request)
    structlog.contextvars.bind_contextvars(order_id=order.order_id)
    try:
        received_at = await db.tables.insert_order_announced(
            order, OrderReceived(correlation_id=order.order_id, data=order)
        )
    except asyncpg.ForeignKeyViolationError:
        raise domain.UnknownChannel(order.channel) from None
    if received_at is None:
        existing = await db.tables.get_order_by_external_id(order.channel, order.external_id)
        if existing is None:  # pragma: no cover - orders are never deleted
            raise domain.OrderNotFound(order.external_id)
        structlog.contextvars.bind_contextvars(order_id=existing.id)
        return Answer(_stored_view(existing, existing.status), changed=False)
    outbox_written()
    log.info("order accepted", channel=order.channel, order_number=order.order_number)
    # The split happens after this answer, so there is nothing to ask the other services yet; the
    # answer is built from what was just stored rather than read back.
    payload = order.model_dump(mode="json")
    body = {
        **payload,
        "id": order.order_id,
        "status": "received",
        "channel_status": payload.get("status"),
        "received_at": received_at,
    }
    return Answer(body, changed=True)


async def get_order_view(db: Database, progress: OrderProgress, order_id: str, caller: Caller) -> dict[str, Any]:
    order = await order_for(db.tables, order_id, caller)
    return await _order_view(db, progress, order)


async def cancel_order(
    db: Database,
    progress: OrderProgress,
    order_id: str,
    caller: Caller,
    reason: str | None,
    *,
    outbox_written: OutboxWritten,
) -> Answer:
    """Cancel the order (the splitter withdraws every vendor order not yet shipped); asked again, the
    same view and nothing published."""
    await order_for(db.tables, order_id, caller)
    async with db.transaction() as tables:
        order = await tables.get_order(order_id, lock=True)
        if order is None:  # pragma: no cover - orders are never deleted
            raise domain.OrderNotFound(order_id)
        decision = domain.cancel_decision(order.status)
        if decision == "cancel":
            event = OrderCancelled(correlation_id=order_id, data=OrderCancelledData(order_id=order_id, reason=reason))
            await tables.set_status_announced(order_id, "cancelled", "cancel request", event)
    if decision == "cancel":
        outbox_written()
        log.info("order cancelled", reason=reason)
    current = await db.tables.get_order(order_id)
    assert current is not None
    return Answer(await _order_view(db, progress, current), changed=decision == "cancel")


async def change_channel_status(
    db: Database,
    progress: OrderProgress,
    order_id: str,
    caller: Caller,
    status: ChannelOrderStatus,
    *,
    outbox_written: OutboxWritten,
) -> Answer:
    """The channel's own status of the order changed (payment captured, a review): keep it and announce
    ``order.updated``, on which the splitter holds or releases the order. The same status again
    answers the same view and announces nothing."""
    await order_for(db.tables, order_id, caller)
    async with db.transaction() as tables:
        order = await tables.get_order(order_id, lock=True)
        if order is None:  # pragma: no cover - orders are never deleted
            raise domain.OrderNotFound(order_id)
        changed = domain.channel_status_changes(order.status, order.channel_status, status)
        if changed:
            event = OrderUpdated(correlation_id=order_id, data=OrderUpdatedData(order_id=order_id, status=status))
            await tables.set_channel_status_announced(order_id, status, f"channel status {status}", event)
    if changed:
        outbox_written()
        log.info("channel status changed", previous=order.channel_status, status=status)
    current = await db.tables.get_order(order_id)
    assert current is not None
    return Answer(await _order_view(db, progress, current), changed=changed)


async def order_for(tables: Tables, order_id: str, caller: Caller) -> StoredOrder:
    """The order, if the caller may see it: the admin, or the key of the order's channel."""
    order = await tables.get_order(order_id)
    if order is None:
        raise domain.OrderNotFound(order_id)
    if not caller.may_act_for(order.channel):
        raise domain.ForeignChannel(caller.channel or "", order.channel)
    structlog.contextvars.bind_contextvars(order_id=order.id)
    return order


def _stored_view(order: StoredOrder, status: str) -> dict[str, Any]:
    # The request's "status" is the channel's payment status; the answer's is where the order is.
    return {
        **order.payload,
        "id": order.id,
        "status": status,
        "channel_status": order.channel_status,
        "received_at": order.received_at,
    }


async def _order_view(db: Database, progress: OrderProgress, order: StoredOrder) -> dict[str, Any]:
    """The stored order with its status, split, shipments, history and webhooks to the channel."""
    routing, shipments, history, deliveries = await asyncio.gather(
        progress.routing(order.id),
        progress.shipments(order.id),
        db.tables.status_history(order.id),
        db.tables.deliveries_for_order(order.id),
    )
    shown = domain.shown_status(order.status, routing, order.hold_state.holds)
    return {
        **_stored_view(order, shown.status),
        "holds": [hold.as_json() for hold in order.hold_state.holds],
        "hold_reason": shown.hold_reason,
        "updated_at": order.updated_at,
        "cancelled_at": order.cancelled_at,
        "split": routing,
        "shipments": _shipments_of(shipments),
        "status_history": history,
        "upstream_deliveries": deliveries,
    }


def _shipments_of(answer: Any) -> list[Any]:
    """Tracking's shipments; none while tracking has not seen the order or does not answer (its
    ``{"unavailable": …}`` is not a list of shipments)."""
    shipments = answer.get("shipments") if isinstance(answer, dict) else None
    return shipments if isinstance(shipments, list) else []


# ---------------------------------------------------------------------------------------------- channels


async def channel_for_key(db: Database, api_key: str) -> str | None:
    """The channel a key belongs to, if any."""
    return await db.tables.channel_for_key(domain.hash_api_key(api_key))


async def put_channel(db: Database, code: str, request: domain.ChannelRequest, secrets: SecretBox) -> Answer:
    """Create or update a channel. A new channel's key, and a secret intake generated, are answered
    this once and never again. The webhook secret is stored sealed by ``secrets``."""
    api_key = domain.new_api_key()
    generated_secret = new_webhook_secret()
    # Every seal is a fresh token: the stored value equals this one only if the generated secret was kept.
    sealed_generated = secrets.seal(generated_secret)
    async with db.transaction() as tables:
        created = await tables.upsert_channel(
            code,
            request.name,
            request.webhook_url,
            None if request.webhook_secret is None else secrets.seal(request.webhook_secret),
            sealed_generated,
            domain.hash_api_key(api_key),
        )
        channel = await tables.get_channel(code)
    assert channel is not None
    body: dict[str, Any] = {"code": code, "name": channel.name, "webhook_url": channel.webhook_url}
    if created:
        body["api_key"] = api_key
    if request.webhook_secret is None and channel.webhook_secret == sealed_generated:
        body["webhook_secret"] = generated_secret
    return Answer(body, changed=created)


async def get_channel(db: Database, code: str) -> dict[str, Any]:
    channel = await db.tables.get_channel(code)
    if channel is None:
        raise domain.ChannelNotFound(code)
    return {"code": channel.code, "name": channel.name, "webhook_url": channel.webhook_url}


async def rotate_key(db: Database, code: str) -> dict[str, Any]:
    """A new key for the channel; the previous one stops working at once."""
    api_key = domain.new_api_key()
    if not await db.tables.rotate_key(code, domain.hash_api_key(api_key)):
        raise domain.ChannelNotFound(code)
    return {"code": code, "api_key": api_key}


# ---------------------------------------------------------------------------------------------- events


async def _queue_webhook(
    tables: Tables,
    order: StoredOrder,
    cause: Envelope,
    *,
    status: str,
    previous_status: str | None,
    shipment: ShipmentSummary | None = None,
    order_holds: tuple[holds.Hold, ...] | None = None,
) -> None:
    """Store the order's new ``status`` with its history and queue the channel's signed webhook, in
    one statement: every status the channel hears of goes through here."""
    body: dict[str, Any] = {
        "type": "",
        "order_id": order.id,
        "channel": order.channel,
        "external_id": order.payload.get("external_id"),
        "order_number": order.payload.get("order_number"),
        "status": status,
        "previous_status": previous_status,
        "occurred_at": cause.occurred_at.isoformat(),
        "shipment": shipment.model_dump(mode="json") if shipment else None,
    }
    if order_holds is not None:
        body["holds"] = [hold.as_json() for hold in order_holds]
    body["type"] = domain.webhook_event_type(body)
    # The delivery id derives from the message id, so a redelivered event cannot queue a second webhook.
    await tables.record_status_change(
        order.id,
        status,
        cause.message_id,
        f"whd_{cause.message_id.removeprefix('msg_')}",
        order.channel,
        body["type"],
        body,
    )


async def _locked_order(tables: Tables, order_id: str, event: Envelope) -> StoredOrder:
    order = await tables.get_order(order_id, lock=True)
    if order is None:
        raise RetryLater(f"{event.type} for unknown order {order_id}")
    structlog.contextvars.bind_contextvars(order_id=order_id)
    return order


async def record_status_changed(tables: Tables, event: OrderStatusChanged) -> None:
    """``order.status_changed``: the order's new status, its history and the channel's signed webhook.
    Tracking's statuses are news that wins over a hold or a release."""
    data = event.data
    order = await _locked_order(tables, data.order_id, event)
    if status_order.status_change_overtook(order.status, data.previous_status):
        # Two changes of one order can be applied out of order (consumers run batches side by side).
        raise RetryLater(f"{data.status} follows {data.previous_status}, not yet recorded (order is {order.status})")
    if status_order.status_change_is_stale(order.status, data.previous_status, data.shipment is not None):
        log.info("status change older than the order's shipped status, ignored", message_id=event.message_id)
        return
    await _queue_webhook(
        tables, order, event, status=data.status, previous_status=data.previous_status, shipment=data.shipment
    )


async def record_order_held(tables: Tables, event: OrderHeld) -> None:
    """``order.held``: the splitter's reasons become the order's holds; a received (or routed) order is
    ``held`` now and the channel is told, with the holds."""
    order = await _locked_order(tables, event.data.order_id, event)
    outcome = holds.after_held(order.status, order.hold_state, event.data.reasons, event.occurred_at)
    await _apply_holds(tables, order, event, outcome)


async def record_order_released(tables: Tables, event: OrderReleased) -> None:
    """``order.released``: the holds are gone and the splitter routes the order; a held order is
    ``routed`` now and the channel is told."""
    order = await _locked_order(tables, event.data.order_id, event)
    outcome = holds.after_released(order.status, order.hold_state, event.occurred_at)
    await _apply_holds(tables, order, event, outcome)


async def _apply_holds(
    tables: Tables, order: StoredOrder, event: OrderHeld | OrderReleased, outcome: holds.HoldOutcome | None
) -> None:
    if outcome is None:
        log.info("older than the holds applied already, ignored", event_type=event.type, message_id=event.message_id)
        return
    await tables.set_holds(order.id, outcome.state)
    if outcome.tell_channel:
        await _queue_webhook(
            tables,
            order,
            event,
            status=outcome.status,
            previous_status=order.status,
            order_holds=outcome.state.holds,
        )


async def apply_status_changed(connection: Connection, event: OrderStatusChanged) -> None:
    """The consumers of ``intake.status``: the inbox's transaction is each event's unit of work."""
    await record_status_changed(IntakeRepository(connection), event)


async def apply_order_held(connection: Connection, event: OrderHeld) -> None:
    await record_order_held(IntakeRepository(connection), event)


async def apply_order_released(connection: Connection, event: OrderReleased) -> None:
    await record_order_released(IntakeRepository(connection), event)
