"""The channels core's pure parts: webhook signatures and the shop request."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from pydantic import ValidationError

from services.channels import signatures
from services.channels.requests import ShopRequest

BODY = b'{"id":820982911946154508,"name":"#1001"}'


def test_a_signature_is_the_base64_hmac_sha256_of_the_raw_body() -> None:
    expected = base64.b64encode(hmac.new(b"hush", BODY, hashlib.sha256).digest()).decode()
    assert signatures.sign("hush", BODY) == expected
    assert signatures.verify("hush", BODY, expected)
    assert signatures.verify("hush", BODY, f" {expected}\n")  # header values may carry stray whitespace


@pytest.mark.parametrize(
    ("secret", "body", "signature"),
    [
        ("other", BODY, signatures.sign("hush", BODY)),  # signed with another secret
        ("hush", BODY + b" ", signatures.sign("hush", BODY)),  # the body changed after signing
        ("hush", BODY, None),  # unsigned
        ("hush", BODY, ""),
        ("", BODY, signatures.sign("", BODY)),  # a shop without a secret accepts nothing
        ("hush", BODY, "not base64 at all"),
    ],
)
def test_a_signature_that_does_not_match_is_refused(secret: str, body: bytes, signature: str | None) -> None:
    assert not signatures.verify(secret, body, signature)


def test_a_shopify_shop_takes_an_access_token_and_no_woocommerce_keys() -> None:
    shop = ShopRequest.model_validate(
        {
            "platform": "shopify",
            "channel": "acme",
            "base_url": "https://acme.myshopify.com",
            "access_token": "shpat_x",
            "webhook_secret": "s",
        }
    )
    assert shop.secrets() == {"access_token": "shpat_x", "webhook_secret": "s"}
    assert "shpat_x" not in repr(shop)  # secrets stay out of reprs and so out of logs
    with pytest.raises(ValidationError, match="consumer_key"):
        ShopRequest.model_validate(
            {"platform": "shopify", "channel": "acme", "base_url": "https://a.example", "consumer_key": "ck"}
        )


@pytest.mark.parametrize(
    "change",
    [
        {"base_url": "ftp://acme.example"},
        {"base_url": "https://"},
        {"channel": "Acme Shop"},
        {"api_version": "2026-05"},  # Shopify releases quarterly: 01, 04, 07, 10
        {"platform": "magento"},
        {"options": {"tracking_url_templates": {"Acme Freight": "https://acme.example/track"}}},  # no {number}
        {"push_stock": "yes"},
        {"unknown": 1},
    ],
)
def test_a_bad_shop_request_is_refused(change: dict[str, object]) -> None:
    body: dict[str, object] = {"platform": "shopify", "channel": "acme", "base_url": "https://acme.myshopify.com"}
    body.update(change)
    with pytest.raises(ValidationError):
        ShopRequest.model_validate(body)
