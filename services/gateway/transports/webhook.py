"""Delivery to a webhook vendor: one signed ``POST`` per document (Standard Webhooks, ``shared/webhooks.py``).

The body is the document's bytes as the JSON format made them; ``webhook-id`` and ``Idempotency-Key``
are its delivery id, the same on every attempt, so a vendor that saw it already can answer 2xx and drop
it. Anything but a 2xx, a timeout or a connection error is a retryable :class:`DeliveryError`: the
delivery's retry budget decides when to give up. Redirects are not followed (a signed order should not
wander to another host). The secret never appears in a message.
"""

from __future__ import annotations

import json
import secrets
import time

import aiohttp

from services.gateway.connections import WebhookSettings
from services.gateway.ports import CheckStep, DeliveryError, OutboundDocument
from shared.webhooks import webhook_headers

USER_AGENT = "dropship-router-gateway"
BODY_EXCERPT_CHARS = 200
PING_BODY = json.dumps({"type": "ping", "data": {}}, separators=(",", ":")).encode()


class WebhookTransport:
    """:class:`~services.gateway.ports.OrderTransport` for ``transport: webhook``."""

    def __init__(self, session: aiohttp.ClientSession, settings: WebhookSettings, *, timeout_seconds: float) -> None:
        self._session = session
        self._settings = settings
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._timeout_seconds = timeout_seconds

    async def send(self, document: OutboundDocument) -> str:
        return await self._post(document.delivery_id, document.content)

    async def check(self) -> list[CheckStep]:
        """Posts a signed ``ping`` (a fresh delivery id each time, so it is never taken for an order)."""
        try:
            receipt = await self._post(f"ping_{secrets.token_hex(8)}", PING_BODY)
        except DeliveryError as error:
            return [CheckStep(step="endpoint", ok=False, detail=error.message)]
        return [CheckStep(step="endpoint", ok=True, detail=receipt)]

    async def _post(self, delivery_id: str, body: bytes) -> str:
        secret = self._settings.secret
        if not secret:
            raise DeliveryError("the webhook connection has no secret to sign with", retryable=False)
        headers = webhook_headers(secret, delivery_id, int(time.time()), body)
        headers["Idempotency-Key"] = delivery_id
        headers["User-Agent"] = USER_AGENT
        try:
            async with self._session.post(
                self._settings.url, data=body, headers=headers, timeout=self._timeout, allow_redirects=False
            ) as response:
                if 200 <= response.status < 300:
                    return f"HTTP {response.status}"
                excerpt = await _body_excerpt(response)
                if 300 <= response.status < 400:
                    location = response.headers.get("Location", "")
                    excerpt = f"redirect to {location[:BODY_EXCERPT_CHARS]} not followed"
                raise DeliveryError(f"HTTP {response.status}: {excerpt}", retryable=True, status=response.status)
        except TimeoutError as error:
            raise DeliveryError(f"no answer within {self._timeout_seconds:g} s", retryable=True) from error
        except aiohttp.ClientConnectorError as error:
            # Its text names host, port and the OS error; never the path or query, where a token may sit.
            raise DeliveryError(f"cannot connect: {error}", retryable=True) from error
        except aiohttp.ClientError as error:
            raise DeliveryError(f"the request failed: {type(error).__name__}", retryable=True) from error


async def _body_excerpt(response: aiohttp.ClientResponse) -> str:
    """The start of an error answer, for the delivery's attempts (read no more than that)."""
    try:
        raw = await response.content.read(BODY_EXCERPT_CHARS * 4)
    except (aiohttp.ClientError, TimeoutError):
        return ""
    return raw.decode("utf-8", errors="replace")[:BODY_EXCERPT_CHARS].strip()
