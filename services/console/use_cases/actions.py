"""What ops do from the console. Each action calls the service that owns the thing (parked messages go
through :mod:`shared.messaging.parking` over AMQP, as the CLI's do) and writes its audit row, with the
outcome, before the page answers: also when the owning service or the broker fails mid-way, and for
every sign-in, refused or not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.console import store
from services.console.clients import Answer
from services.console.ports import ConsolePorts
from shared.logging import get_logger
from shared.messaging.parking import ParkingError, discard_parked, replay_parked

log = get_logger(__name__)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    status: int = 200
    """What the page answers with: 200, the owning service's 4xx, 409 for the broker, 502 when it failed."""


async def audit(
    ports: ConsolePorts, who: str, action: str, target: str, detail: Mapping[str, Any], outcome: Outcome
) -> Outcome:
    await store.record_audit(ports.pool, who, action, target, dict(detail), "ok" if outcome.ok else outcome.message)
    log.info("console action", who=who, action=action, target=target, ok=outcome.ok)
    return outcome


def _failed(error: BaseException) -> str:
    """What the page and the audit row say of an unexpected failure: its kind and message, never more."""
    text = str(error).strip()
    return f"failed: {type(error).__name__}{': ' + text[:300] if text else ''}"


async def signed_in(ports: ConsolePorts, who: str, address: str) -> None:
    await audit(ports, who, "signin", "", {"address": address}, Outcome(True, ""))


async def signin_refused(ports: ConsolePorts, who: str | None, address: str, why: str) -> None:
    """A refused sign-in: the name given (if any, as cleaned) and the address, never the token tried."""
    await audit(ports, who or "(no name)", "signin", "", {"address": address}, Outcome(False, why, 401))


async def _called(
    ports: ConsolePorts,
    who: str,
    action: str,
    target: str,
    detail: Mapping[str, Any],
    call: Awaitable[Answer],
    done: str,
) -> Outcome:
    try:
        answer = await call
    except Exception as error:  # the client answers every failure it knows; anything else is still audited
        log.warning("console action failed", action=action, target=target, error=repr(error))
        return await audit(ports, who, action, target, detail, Outcome(False, _failed(error), 502))
    status = answer.status if answer.status is not None and 400 <= answer.status < 500 else 502
    outcome = Outcome(True, done) if answer.ok else Outcome(False, answer.problem(), status)
    return await audit(ports, who, action, target, detail, outcome)


async def release(ports: ConsolePorts, who: str, order_id: str, overrides: Mapping[str, str]) -> Outcome:
    body = {"overrides": dict(overrides)} if overrides else None
    call = ports.services.post("splitter", f"/v1/orders/{order_id}/release", body)
    return await _called(
        ports, who, "release", order_id, {"overrides": dict(overrides)}, call, f"order {order_id} released"
    )


async def cancel(ports: ConsolePorts, who: str, order_id: str, reason: str) -> Outcome:
    call = ports.services.post("intake", f"/v1/orders/{order_id}/cancel", {"reason": reason or f"cancelled by {who}"})
    return await _called(ports, who, "cancel", order_id, {"reason": reason}, call, f"order {order_id} cancelled")


async def accept_feed(ports: ConsolePorts, who: str, feed_id: str) -> Outcome:
    call = ports.services.post("splitter", f"/v1/feeds/{feed_id}/accept")
    return await _called(ports, who, "accept_feed", feed_id, {}, call, f"feed {feed_id} accepted")


async def acknowledge(ports: ConsolePorts, who: str, vendor_order_id: str, lines: list[dict[str, Any]]) -> Outcome:
    """An e-mail vendor's acknowledgement, entered by hand (lines left out are accepted)."""
    call = ports.services.post("gateway", f"/v1/vendor/orders/{vendor_order_id}/acknowledgement", {"lines": lines})
    detail = {"lines": lines}
    return await _called(ports, who, "acknowledge", vendor_order_id, detail, call, f"{vendor_order_id} acknowledged")


async def ship(ports: ConsolePorts, who: str, vendor_order_id: str, shipment: dict[str, Any]) -> Outcome:
    """An e-mail vendor's shipment, entered by hand (no lines: everything not yet shipped)."""
    call = ports.services.post("gateway", f"/v1/vendor/orders/{vendor_order_id}/shipments", shipment)
    return await _called(ports, who, "ship", vendor_order_id, shipment, call, f"shipment of {vendor_order_id} recorded")


async def _parking(
    ports: ConsolePorts,
    who: str,
    action: str,
    queue: str,
    message_id: str | None,
    run: Callable[..., Awaitable[list[Any]]],
    verb: str,
) -> Outcome:
    try:
        done = await run(ports.amqp, ports.topology, queue, message_id)
        outcome = Outcome(True, f"{len(done)} message(s) {verb} from {queue}.parked")
    except ParkingError as error:
        outcome = Outcome(False, str(error), 409)
    except Exception as error:  # the broker went away mid-way, a channel closed: ops see it, and so does the log
        log.warning("console action failed", action=action, target=queue, error=repr(error))
        outcome = Outcome(False, _failed(error), 502)
    detail = {"message_id": message_id} if message_id else {"all": True}
    return await audit(ports, who, action, queue, detail, outcome)


async def replay(ports: ConsolePorts, who: str, queue: str, message_id: str | None) -> Outcome:
    return await _parking(ports, who, "replay", queue, message_id, replay_parked, "replayed")


async def discard(ports: ConsolePorts, who: str, queue: str, message_id: str | None) -> Outcome:
    return await _parking(ports, who, "discard", queue, message_id, discard_parked, "discarded")
