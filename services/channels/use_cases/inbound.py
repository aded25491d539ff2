"""Orders in: a platform webhook is checked and queued while the platform waits (it wants an answer
within seconds), then turned into intake calls by the worker, once and in order per platform order.

The decision (create, change status, cancel, skip, ignore) is the platform's pure ``decide``; this
module compares it with what the platform order already is to us, so a webhook seen twice, an older
webhook arriving late, or our own write echoing back as ``orders/updated`` changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from services.channels import signatures
from services.channels.intake import IntakeRefused, IntakeUnavailable
from services.channels.ports import InboundDecision
from services.channels.store import shops as shop_store
from services.channels.store import tasks
from services.channels.store.shops import PlatformOrder
from services.channels.store.tasks import DueTask, TaskResult
from services.channels.use_cases.context import ChannelsPorts, OpenShop
from services.channels.use_cases.retries import give_up_or_retry
from shared.db import loads
from shared.logging import get_logger

log = get_logger(__name__)


class BadSignature(Exception):
    pass


class BadWebhook(Exception):
    """The webhook is signed but not one we can read (no delivery id or topic, a body that is not JSON)."""


@dataclass(frozen=True)
class Received:
    queued: bool
    """False: the same delivery id was queued before (the platform sent it again)."""
    ping: bool = False


async def receive_webhook(
    ports: ChannelsPorts, shop: OpenShop, headers: Any, content_type: str, body: bytes
) -> Received:
    """Check the signature and queue the webhook; no intake call is made while the platform waits."""
    kind = shop.kind
    signature = headers.get(kind.signature_header)
    if signature is None and kind.is_unsigned_ping(content_type, body):
        ports.metrics.webhooks.labels(kind.name, "ping").inc()
        return Received(queued=False, ping=True)
    if not signatures.verify(shop.webhook_secret, body, signature):
        ports.metrics.webhooks.labels(kind.name, "bad_signature").inc()
        raise BadSignature(shop.code)
    delivery_id = (headers.get(kind.delivery_header) or "").strip()
    topic = (headers.get(kind.topic_header) or "").strip()
    if not delivery_id or not topic:
        ports.metrics.webhooks.labels(kind.name, "refused").inc()
        raise BadWebhook(f"{kind.delivery_header} and {kind.topic_header} are required")
    try:
        payload = loads(body.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included
        ports.metrics.webhooks.labels(kind.name, "refused").inc()
        raise BadWebhook("the body is not JSON") from None
    if not isinstance(payload, dict) or "id" not in payload:
        ports.metrics.webhooks.labels(kind.name, "refused").inc()
        raise BadWebhook("the body is not an order (an object with an id)")
    lane = str(payload["id"])
    queued = await tasks.add(
        ports.pool, shop.code, "webhook", delivery_id[:200], lane, topic[:100], {"payload": payload, "at": time.time()}
    )
    ports.metrics.webhooks.labels(kind.name, "queued" if queued else "duplicate").inc()
    if queued:
        ports.wake_worker()
    return Received(queued=queued)


async def process_webhook(ports: ChannelsPorts, shop: OpenShop, task: DueTask) -> TaskResult:
    """One queued webhook (or reconciled order) applied to intake."""
    decision = shop.kind.decide(task.topic, task.body["payload"])
    record = await shop_store.platform_order(ports.pool, shop.code, decision.platform_order_id)
    try:
        outcome = await _apply(ports, shop, decision, record)
    except IntakeUnavailable as error:
        return give_up_or_retry(ports.settings, task, str(error))
    except IntakeRefused as error:
        if error.status in (400, 404, 422):
            # The order as the platform sent it is not one intake takes (no usable ship-to, say): said once, kept.
            await shop_store.record_platform_order(
                ports.pool,
                shop=shop.code,
                platform_order_id=decision.platform_order_id,
                state="skipped",
                reason=str(error),
                fingerprint=decision.fingerprint,
                platform_updated_at=decision.updated_at,
            )
            log.warning("intake refused a platform order", shop=shop.code, error=str(error))
            return TaskResult(task.seq, "failed", "refused by intake", str(error))
        return give_up_or_retry(ports.settings, task, str(error))
    if "at" in task.body and task.kind == "webhook" and outcome.startswith("order"):
        ports.metrics.webhook_to_intake.observe(max(0.0, time.time() - float(task.body["at"])))
    log.info("platform order applied", shop=shop.code, platform_order_id=decision.platform_order_id, outcome=outcome)
    return TaskResult(task.seq, "done", outcome)


SHIP_TO_APPLIED = (
    "ship-to changed on the platform after intake took the order: applied (sent to every vendor not shipped yet)"
)
SHIP_TO_UNCHANGED = "ship-to changed on the platform: intake had this address already"
SHIP_TO_CLOSED = "ship-to changed on the platform after the order shipped or was cancelled: not applied"


def ship_to_digest(decision: InboundDecision) -> str | None:
    """A digest of the ship-to intake got (or would get) for the platform order."""
    ship_to = (decision.order or {}).get("ship_to")
    if ship_to is None:
        return None
    return hashlib.sha256(json.dumps(ship_to, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _is_stale(decision: InboundDecision, record: PlatformOrder | None) -> bool:
    return (
        record is not None
        and record.platform_updated_at is not None
        and decision.updated_at is not None
        and decision.updated_at < record.platform_updated_at
    )


async def _apply(ports: ChannelsPorts, shop: OpenShop, decision: InboundDecision, record: PlatformOrder | None) -> str:
    """What the decision does, given what the platform order already is; answers the outcome in words."""
    if decision.kind == "ignore":
        return f"ignored: {decision.reason}"
    if _is_stale(decision, record):
        return "ignored: older than what was applied already"

    async def remember(state: str, **what: Any) -> None:
        """What the platform order is to us now, with the decision's fingerprint and time."""
        await shop_store.record_platform_order(
            ports.pool,
            shop=shop.code,
            platform_order_id=decision.platform_order_id,
            fingerprint=decision.fingerprint,
            platform_updated_at=decision.updated_at,
            state=state,
            **what,
        )

    if decision.kind == "cancel":
        if record is not None and record.state == "cancelled":
            return "ignored: cancelled already"
        if record is not None and record.order_id is not None:
            await ports.intake.cancel(shop.channel_key, record.order_id, decision.reason or "cancelled on the platform")
        await remember("cancelled", reason=decision.reason)
        return "cancelled" if record is not None and record.order_id else "cancelled before it reached intake"
    if record is not None and record.state == "cancelled":
        return "ignored: the order is cancelled"
    if decision.kind == "skip":
        if record is not None and record.order_id is not None:
            return f"ignored: {decision.reason} (the order is in intake already)"
        await remember("skipped", reason=decision.reason)
        return f"skipped: {decision.reason}"
    if record is None or record.order_id is None:
        return await _create(ports, shop, decision, remember)
    if record.fingerprint == decision.fingerprint:
        return "unchanged: nothing we act on changed (our own write coming back, or a tag)"
    said = []
    reason = decision.reason or None
    new_digest = ship_to_digest(decision)
    if record.ship_to_digest is not None and new_digest not in (None, record.ship_to_digest):
        # Before a payment change: an order released by its payment then goes out to the new address.
        assert new_digest is not None and decision.order is not None
        reason = await _change_ship_to(ports, shop, decision, record, new_digest)
        said.append(reason)
    if decision.channel_status is not None and decision.channel_status != record.channel_status:
        await ports.intake.change_status(shop.channel_key, record.order_id, decision.channel_status)
        said.append(f"status {decision.channel_status}")
    await remember("open", channel_status=decision.channel_status, reason=reason)
    return "order updated: " + (", ".join(said) or "nothing intake takes")


async def _change_ship_to(
    ports: ChannelsPorts, shop: OpenShop, decision: InboundDecision, record: PlatformOrder, digest: str
) -> str:
    """Pass the platform order's new ship-to on to intake; answers what became of it, in words. An
    address intake refuses is said and kept in view, never taken for a refusal of the whole order."""
    assert record.order_id is not None and decision.order is not None
    try:
        outcome = await ports.intake.change_ship_to(shop.channel_key, record.order_id, decision.order["ship_to"])
    except IntakeRefused as error:
        said = f"ship-to changed on the platform: not applied, intake refused the new address ({error})"
        log.warning("ship-to change refused by intake", shop=shop.code, order_id=record.order_id, error=str(error))
    else:
        said = {"changed": SHIP_TO_APPLIED, "unchanged": SHIP_TO_UNCHANGED, "closed": SHIP_TO_CLOSED}[outcome]
        log.info("ship-to change passed on to intake", shop=shop.code, order_id=record.order_id, outcome=outcome)
    # Said once: the same address in a later update is no change again.
    await shop_store.set_ship_to_digest(ports.pool, shop.code, decision.platform_order_id, digest)
    return said


async def _create(
    ports: ChannelsPorts, shop: OpenShop, decision: InboundDecision, remember: Callable[..., Awaitable[None]]
) -> str:
    assert decision.order is not None, "an upsert decision carries the order"
    body = {**decision.order, "channel": shop.stored.channel}
    if decision.channel_status is not None:
        body["status"] = decision.channel_status
    order_id, new = await ports.intake.create_order(shop.channel_key, body)
    await remember(
        "open",
        ship_to_digest=ship_to_digest(decision),
        order_id=order_id,
        order_number=str(body.get("order_number", "")),
        channel_status=decision.channel_status,
        reason=decision.reason or None,
    )
    return f"order {order_id} {'created' if new else 'found in intake'}" + (
        f" ({decision.reason})" if decision.reason else ""
    )
