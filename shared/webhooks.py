"""Standard Webhooks (https://www.standardwebhooks.com/): the secret format, the signature and the
headers a signed webhook carries. Pure: every service that sends signed webhooks to the outside (intake
to its channels, the gateway to vendors, channels to platforms) signs them here, the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the standard's prefix, not a secret


def new_webhook_secret() -> str:
    """A fresh secret in the standard's form: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_key(secret: str) -> bytes:
    """Standard Webhooks secrets are ``whsec_<base64>``; any other secret is used as its UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except ValueError:
            pass
    return secret.encode()


def sign_webhook(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """``webhook-signature`` per Standard Webhooks: HMAC-SHA256 over ``id.timestamp.body``."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(secret: str, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of a signed JSON webhook; ``webhook-id`` is what the receiver dedupes on."""
    return {
        "content-type": "application/json",
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(secret, delivery_id, timestamp, body),
    }
