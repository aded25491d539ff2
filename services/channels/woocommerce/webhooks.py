"""WooCommerce's webhook deliveries as they arrive, checked without I/O.

A delivery is a ``POST`` of the resource's REST JSON, signed in ``X-WC-Webhook-Signature``: the base64
HMAC-SHA256 of the raw body with the webhook's secret. When a webhook is created Woo first posts an
unsigned ping, ``webhook_id=<id>`` form-encoded, to the delivery URL; it carries no order and must be
answered 200 (Woo records a failed delivery otherwise).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
DELIVERY_ID_HEADER = "X-WC-Webhook-Delivery-ID"
WEBHOOK_ID_HEADER = "X-WC-Webhook-ID"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
_PING_BODY = re.compile(rb"webhook_id=[0-9]+")


def is_creation_ping(content_type: str, body: bytes) -> bool:
    """Woo's ping on a webhook's creation: form-encoded ``webhook_id=<digits>`` and nothing else."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == FORM_MEDIA_TYPE and _PING_BODY.fullmatch(body.strip()) is not None


def signature(secret: str, body: bytes) -> str:
    """What Woo puts in ``X-WC-Webhook-Signature`` for ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` (compared in constant time)."""
    if not header or not secret:
        return False
    return hmac.compare_digest(signature(secret, body), header.strip())
