"""Deliveries to vendors: each vendor order event sent once, in order per vendor order, with retries.

Rounds run in a :class:`shared.messaging.relay.RelayLoop` (woken by ``LISTEN deliveries_<schema>``)
and hold no transaction while a vendor answers: a round leases what it sends (one statement), sends
side by side, then records every attempt (one round trip). The document is built from the stored
event, so every attempt sends the same delivery id, file name and bytes; a deliverer that dies
between "sent" and "recorded" leaves the lease to run out and the same document goes again, which
the vendor recognises (``webhook-id``/``Idempotency-Key``, the same file name, the same Message-ID).

After ``delivery_attempts`` failed attempts a delivery is failed and, for an order, the splitter hears
``vendor_order.failed`` (it reroutes) in the same statement.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiohttp

from services.gateway.connections import Connection
from services.gateway.outbound import document_for, transport_for
from services.gateway.ports import ChangeNotExpressible, DeliveryError, DeliveryEvent, OrderTransport, OutboundDocument
from services.gateway.store import deliveries
from services.gateway.store.deliveries import AttemptOutcome, DueDelivery
from services.gateway.transports.sftp import SftpConnection
from services.gateway.use_cases.context import GatewayPorts, open_connection
from services.gateway.use_cases.x12_outbound import UnsentChange, x12_document, x12_sent
from services.gateway.x12 import PoNumberTooLong
from shared.backoff import backoff_seconds
from shared.contracts.vendor_orders import VendorOrderFailed, VendorOrderFailedData
from shared.logging import get_logger
from shared.messaging.relay import RelayLoop

log = get_logger(__name__)

Sender = Callable[[Connection, OutboundDocument], Awaitable[str]]
"""Sends one document over a session already open (the round's SFTP session of a vendor)."""

IDLE_SECONDS = 1.0
"""Retries fall due with time, not with an insert (which NOTIFYs): the loop looks again this often."""


async def _within(sending: Awaitable[str], seconds: float) -> str:
    """The send's receipt, or :class:`DeliveryError` after ``seconds``. A send still running then is
    cancelled and left to wind down by itself: waiting for its cleanup (an SSH session whose server
    stopped answering) would hold up the round again."""
    task = asyncio.ensure_future(sending)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task in done:
        return task.result()
    task.cancel()
    task.add_done_callback(lambda finished: finished.cancelled() or finished.exception())
    raise DeliveryError(f"no answer within {seconds:g} s")


def _sender(transport: OrderTransport) -> Sender:
    async def send(_: Connection, document: OutboundDocument) -> str:
        return await transport.send(document)

    return send


class Deliverer:
    def __init__(self, ports: GatewayPorts, dsn: str, schema: str, *, batch_size: int = 32) -> None:
        self._ports = ports
        self._settings = ports.settings
        self._batch_size = batch_size
        # The sends of a round run side by side, each within the timeout: a lease of several timeouts
        # outlasts the round, so no other deliverer sends the same rows while this one still may.
        self._lease_seconds = max(60.0, 3 * self._settings.delivery_timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self._next_gauge_update = 0.0
        self._loop = RelayLoop(
            name="gateway-deliveries",
            dsn=dsn,
            channel=f"deliveries_{schema}",
            run_round=self._round,
            batch_size=batch_size,
            idle_seconds=IDLE_SECONDS,
        )

    async def run(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._settings.delivery_timeout_seconds)
        )
        try:
            await self._loop.run()
        finally:
            await self._session.close()

    def wake(self) -> None:
        self._loop.wake()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _round(self) -> int:
        handled = await self.deliver_due()
        if time.monotonic() >= self._next_gauge_update:
            self._ports.metrics.oldest_undelivered.set(
                await deliveries.oldest_undelivered_age_seconds(self._ports.pool)
            )
            self._next_gauge_update = time.monotonic() + 1.0
        return handled

    async def deliver_due(self) -> int:
        """Send up to one batch of due deliveries; answers how many were attempted."""
        due = await deliveries.claim_due(self._ports.pool, self._batch_size, self._lease_seconds)
        if not due:
            return 0
        # One SSH session per SFTP vendor and round, its files uploaded one after another: a vendor's
        # server is not asked for dozens of logins at once (OpenSSH drops beyond MaxStartups).
        groups: dict[str, list[DueDelivery]] = {}
        for delivery in due:
            groups.setdefault(delivery.vendor if delivery.transport == "sftp" else delivery.delivery_id, []).append(
                delivery
            )
        sent = await asyncio.gather(*(self._attempt_group(group) for group in groups.values()))
        by_seq = {outcome.seq: outcome for group in sent for outcome in group}
        outcomes = [by_seq[delivery.seq] for delivery in due]
        within_budget = [outcome for outcome in outcomes if outcome.ok or outcome.retry_in_seconds is not None]
        await deliveries.record_outcomes(self._ports.pool, within_budget)
        for delivery, outcome in zip(due, outcomes, strict=True):
            if not outcome.ok and outcome.retry_in_seconds is None:
                await self._give_up(delivery, outcome)
        return len(due)

    async def _attempt_group(self, group: list[DueDelivery]) -> list[AttemptOutcome]:
        if group[0].transport != "sftp" or len(group) == 1:
            return [await self._attempt(delivery) for delivery in group]
        first = group[0]
        outcomes: list[AttemptOutcome] = []
        try:
            connection = open_connection(self._ports.secrets, first.vendor, first.settings, first.sealed_secrets)
            assert connection.sftp is not None  # transport sftp
            folder = connection.sftp.outbound_dir
            async with SftpConnection(connection.sftp, timeout_seconds=self._settings.delivery_timeout_seconds) as sftp:

                async def upload(_: Connection, document: OutboundDocument) -> str:
                    return await sftp.upload(folder, document.file_name, document.content)

                for delivery in group:
                    outcomes.append(await self._attempt(delivery, upload))
        except (DeliveryError, ValueError) as error:
            # The login failed or the session broke: what was not tried yet fails with it (what was
            # uploaded before keeps its outcome, even when closing the session failed after it).
            message, status, retryable = (
                (error.message, error.status, error.retryable)
                if isinstance(error, DeliveryError)
                else (str(error), None, False)
            )
            tried = {outcome.seq for outcome in outcomes}
            outcomes += [
                self._failed(delivery, delivery.attempts + 1, message, status, retryable)
                for delivery in group
                if delivery.seq not in tried
            ]
        return outcomes

    async def _attempt(self, delivery: DueDelivery, send: Sender | None = None) -> AttemptOutcome:
        attempt = delivery.attempts + 1
        metrics = self._ports.metrics
        document: OutboundDocument | None = None
        try:
            connection = open_connection(
                self._ports.secrets, delivery.vendor, delivery.settings, delivery.sealed_secrets
            )
            event: DeliveryEvent = delivery.event  # type: ignore[assignment]  # written only by the store, one of four
            if connection.format == "x12":
                document = await x12_document(
                    self._ports, connection, delivery.delivery_id, event, delivery.order, delivery.payload
                )
            else:
                document = document_for(connection, delivery.delivery_id, event, delivery.payload, delivery.order)
            if send is None:
                if self._session is None:
                    raise DeliveryError("the deliverer is not running")
                send = _sender(transport_for(connection, self._settings, self._session))
            # Every send within the timeout, whatever the transport: a server that takes the login and
            # then stops answering must not hold up the round (and every other vendor in it).
            receipt = await _within(send(connection, document), self._settings.delivery_timeout_seconds)
        except DeliveryError as error:
            return self._failed(delivery, attempt, error.message, error.status, error.retryable)
        except PoNumberTooLong as error:  # no retry can help: the vendor order fails now, visibly
            self._ports.metrics.deliveries.labels(delivery.vendor, "failed").inc()
            return AttemptOutcome(
                delivery.seq, delivery.delivery_id, attempt, False, str(error), reason="po_number_too_long"
            )
        except (UnsentChange, ChangeNotExpressible) as error:  # failed at once, visibly: ops tell the vendor
            self._ports.metrics.deliveries.labels(delivery.vendor, "failed").inc()
            return AttemptOutcome(delivery.seq, delivery.delivery_id, attempt, False, str(error))
        except ValueError as error:  # a secret that no key opens, a stored payload no longer valid
            return self._failed(delivery, attempt, str(error), None, retryable=False)
        if connection.format == "x12":
            await x12_sent(self._ports, delivery.delivery_id)
        metrics.deliveries.labels(delivery.vendor, "sent").inc()
        age = (datetime.now(UTC) - delivery.created_at).total_seconds()
        metrics.delivery_seconds.labels(delivery.transport).observe(max(age, 0.0))
        log.info(
            "delivered to vendor",
            vendor=delivery.vendor,
            delivery_id=delivery.delivery_id,
            event_type=delivery.event,
            attempt=attempt,
            receipt=receipt,
        )
        return AttemptOutcome(delivery.seq, delivery.delivery_id, attempt, True, receipt, file_name=document.file_name)

    def _failed(
        self, delivery: DueDelivery, attempt: int, detail: str, status: int | None, retryable: bool
    ) -> AttemptOutcome:
        shown = detail if retryable else f"{detail} (needs a change to the connection)"
        if attempt >= self._settings.delivery_attempts:
            self._ports.metrics.deliveries.labels(delivery.vendor, "failed").inc()
            return AttemptOutcome(delivery.seq, delivery.delivery_id, attempt, False, shown, status)
        retry_in = backoff_seconds(
            attempt,
            first=self._settings.delivery_first_retry_seconds,
            cap=self._settings.delivery_max_backoff_seconds,
            jitter=random.random(),  # noqa: S311 - spreading retries, not a secret
        )
        self._ports.metrics.deliveries.labels(delivery.vendor, "retry").inc()
        log.info(
            "delivery not accepted, will retry",
            vendor=delivery.vendor,
            delivery_id=delivery.delivery_id,
            attempt=attempt,
            error=shown,
            retry_in=round(retry_in, 1),
        )
        return AttemptOutcome(delivery.seq, delivery.delivery_id, attempt, False, shown, status, None, retry_in)

    async def _give_up(self, delivery: DueDelivery, outcome: AttemptOutcome) -> None:
        event = None
        if delivery.event == "vendor_order.created" and delivery.order is not None:
            event = VendorOrderFailed(
                correlation_id=delivery.order["order_id"],
                data=VendorOrderFailedData(
                    vendor_order_id=delivery.vendor_order_id,
                    vendor=delivery.vendor,
                    order_id=delivery.order["order_id"],
                    reason=outcome.reason or f"not delivered after {outcome.attempt} attempts: {outcome.detail}"[:500],
                    attempts=outcome.attempt,
                ),
            )
        async with self._ports.pool.acquire() as connection, connection.transaction():
            failed = await deliveries.fail_delivery(connection, outcome, event)
        if event is not None:
            self._ports.wake_relay()
        if failed:
            log.warning(
                "delivery failed: retry budget spent",
                vendor=delivery.vendor,
                delivery_id=delivery.delivery_id,
                attempts=outcome.attempt,
                error=outcome.detail,
            )
