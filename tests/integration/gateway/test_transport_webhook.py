"""The webhook transport against an aiohttp receiver that verifies with the ``standardwebhooks``
library: signatures, the delivery id as ``webhook-id`` and ``Idempotency-Key`` on every attempt,
non-2xx answers and timeouts as retryable failures, redirects not followed, the secret never told."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from services.gateway.connections import WebhookSettings
from services.gateway.ports import DeliveryError, OutboundDocument
from services.gateway.transports.webhook import WebhookTransport
from shared.processes import free_port
from shared.webhooks import new_webhook_secret
from tests.gateway_servers import WebhookReceiver

SECRET = new_webhook_secret()
BODY = json.dumps({"type": "vendor_order.created", "data": {"vendor_order_number": "1001-1"}}).encode()


def document(delivery_id: str = "dlv_1001-1_created") -> OutboundDocument:
    return OutboundDocument(
        delivery_id=delivery_id,
        event_type="vendor_order.created",
        vendor_order_number="1001-1",
        file_name="1001-1.json",
        content=BODY,
        media_type="application/json",
        subject="Order 1001-1",
        text="Order 1001-1",
    )


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver(SECRET)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def transport(
    session: aiohttp.ClientSession, url: str, *, secret: str = SECRET, timeout_seconds: float = 5.0
) -> WebhookTransport:
    return WebhookTransport(session, WebhookSettings(url=url, secret=secret), timeout_seconds=timeout_seconds)


async def test_a_delivery_is_signed_and_carries_its_delivery_id(
    receiver: WebhookReceiver, session: aiohttp.ClientSession
) -> None:
    receipt = await transport(session, receiver.url).send(document())

    assert receipt == "HTTP 202"
    [request] = receiver.received
    assert request.verified
    assert request.body == BODY
    assert request.headers["webhook-id"] == "dlv_1001-1_created"
    assert request.headers["idempotency-key"] == "dlv_1001-1_created"
    assert request.headers["user-agent"] == "dropship-router-gateway"
    assert request.headers["content-type"] == "application/json"


async def test_a_signature_with_another_secret_does_not_verify(
    receiver: WebhookReceiver, session: aiohttp.ClientSession
) -> None:
    """The receiver's check is real: a transport signing with a different secret is caught."""
    await transport(session, receiver.url, secret=new_webhook_secret()).send(document())

    assert [request.verified for request in receiver.received] == [False]


async def test_the_same_delivery_twice_has_the_same_id(
    receiver: WebhookReceiver, session: aiohttp.ClientSession
) -> None:
    webhook = transport(session, receiver.url)
    await webhook.send(document())
    await webhook.send(document())
    await webhook.send(document("dlv_1001-1_cancelled"))

    ids = [(request.headers["webhook-id"], request.headers["idempotency-key"]) for request in receiver.received]
    assert ids == [("dlv_1001-1_created",) * 2, ("dlv_1001-1_created",) * 2, ("dlv_1001-1_cancelled",) * 2]
    assert all(request.verified for request in receiver.received)


async def test_a_503_is_retryable_with_its_status_and_the_start_of_the_body(
    receiver: WebhookReceiver, session: aiohttp.ClientSession
) -> None:
    receiver.fail_next(1, status=503, body="maintenance until 04:00 " + "x" * 500)
    webhook = transport(session, receiver.url)

    with pytest.raises(DeliveryError) as caught:
        await webhook.send(document())

    assert caught.value.retryable is True
    assert caught.value.status == 503
    assert str(caught.value).startswith("HTTP 503: maintenance until 04:00 xxx")
    assert len(str(caught.value)) == len("HTTP 503: ") + 200
    assert SECRET not in str(caught.value)
    assert await webhook.send(document()) == "HTTP 202"  # the retry
    assert len(receiver.received) == 2


async def test_a_4xx_is_a_failure_too(receiver: WebhookReceiver, session: aiohttp.ClientSession) -> None:
    receiver.fail_next(1, status=422, body='{"error": "unknown SKU"}')

    with pytest.raises(DeliveryError) as caught:
        await transport(session, receiver.url).send(document())

    assert (caught.value.status, caught.value.retryable) == (422, True)
    assert "unknown SKU" in str(caught.value)


async def test_a_timeout_is_retryable(receiver: WebhookReceiver, session: aiohttp.ClientSession) -> None:
    receiver.delay = 2.0

    with pytest.raises(DeliveryError) as caught:
        await transport(session, receiver.url, timeout_seconds=0.2).send(document())

    assert caught.value.retryable is True
    assert caught.value.status is None
    assert SECRET not in str(caught.value)


async def test_a_refused_connection_is_retryable(session: aiohttp.ClientSession) -> None:
    with pytest.raises(DeliveryError) as caught:
        await transport(session, f"http://127.0.0.1:{free_port()}/orders?token=t0ps3cret").send(document())

    assert caught.value.retryable is True
    assert "t0ps3cret" not in str(caught.value)
    assert SECRET not in str(caught.value)


async def test_a_redirect_is_not_followed(receiver: WebhookReceiver, session: aiohttp.ClientSession) -> None:
    elsewhere = receiver.url.replace("/orders", "/elsewhere")
    receiver.fail_next(1, status=307, body="", headers={"Location": elsewhere})

    with pytest.raises(DeliveryError) as caught:
        await transport(session, receiver.url).send(document())

    assert caught.value.status == 307
    assert elsewhere in str(caught.value)
    assert [request.path for request in receiver.received] == ["/orders"]


async def test_check_posts_a_signed_ping(receiver: WebhookReceiver, session: aiohttp.ClientSession) -> None:
    webhook = transport(session, receiver.url)

    [step] = await webhook.check()
    receiver.fail_next(1, status=500, body="boom")
    [failed] = await webhook.check()

    assert (step.step, step.ok, step.detail) == ("endpoint", True, "HTTP 202")
    assert (failed.ok, failed.detail) == (False, "HTTP 500: boom")
    first, second = receiver.received
    assert json.loads(first.body) == {"type": "ping", "data": {}}
    assert first.verified and second.verified
    assert first.headers["webhook-id"].startswith("ping_")
    assert first.headers["webhook-id"] != second.headers["webhook-id"]
    assert first.headers["idempotency-key"] == first.headers["webhook-id"]


async def test_check_of_an_endpoint_that_is_down(session: aiohttp.ClientSession) -> None:
    [step] = await transport(session, f"http://127.0.0.1:{free_port()}/orders").check()

    assert step.ok is False
    assert "cannot connect" in step.detail
