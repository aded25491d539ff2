"""Platform webhook signatures: Shopify and WooCommerce both sign the raw body with HMAC-SHA256 under the
shop's webhook secret and send it base64-encoded (``X-Shopify-Hmac-Sha256``, ``X-WC-Webhook-Signature``)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """The signature is the body's under ``secret``; compared in constant time."""
    if not signature or not secret:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), signature.strip().encode())
