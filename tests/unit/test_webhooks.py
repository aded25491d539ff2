"""Standard Webhooks signing (shared/webhooks.py), checked against the standard's published test vector
and an independent computation written from its specification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.webhooks import new_webhook_secret, sign_webhook, webhook_headers, webhook_key


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Written from the Standard Webhooks spec, independently of the code under test."""
    key = base64.b64decode(secret.split("_", 1)[1])
    to_sign = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    mac = hmac.new(key, to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def test_sign_webhook_matches_the_standard_webhooks_reference_vector() -> None:
    # The test vector published with the Standard Webhooks reference libraries.
    signature = sign_webhook(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )

    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@given(
    key=st.binary(min_size=1, max_size=64),
    msg_id=st.text(alphabet=st.characters(codec="ascii", exclude_characters="."), min_size=1, max_size=40),
    timestamp=st.integers(min_value=0, max_value=2**40),
    body=st.binary(max_size=500),
)
def test_sign_webhook_matches_an_independent_computation(key: bytes, msg_id: str, timestamp: int, body: bytes) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()

    assert sign_webhook(secret, msg_id, timestamp, body) == standard_webhooks_signature(secret, msg_id, timestamp, body)


def test_sign_webhook_changes_with_every_input() -> None:
    secret = new_webhook_secret()
    body = json.dumps({"type": "order.status_changed", "status": "shipped"}).encode()
    reference = sign_webhook(secret, "dlv_1", 1_800_000_000, body)

    variants = {
        sign_webhook(new_webhook_secret(), "dlv_1", 1_800_000_000, body),
        sign_webhook(secret, "dlv_2", 1_800_000_000, body),
        sign_webhook(secret, "dlv_1", 1_800_000_001, body),
        sign_webhook(secret, "dlv_1", 1_800_000_000, body + b" "),
    }

    assert reference.startswith("v1,")
    assert len(base64.b64decode(reference.removeprefix("v1,"))) == 32
    assert reference not in variants
    assert len(variants) == 4


@pytest.mark.parametrize(
    ("secret", "key"),
    [
        ("whsec_" + base64.b64encode(b"\x00\x01binary\xff").decode(), b"\x00\x01binary\xff"),
        ("plain-shared-secret-value", b"plain-shared-secret-value"),
        ("sk_live_ümlaut", "sk_live_ümlaut".encode()),
        # Looks like Standard Webhooks but is not base64: used as it is rather than refused.
        ("whsec_not*base64!", b"whsec_not*base64!"),
        ("WHSEC_" + base64.b64encode(b"k").decode(), ("WHSEC_" + base64.b64encode(b"k").decode()).encode()),
    ],
    ids=["whsec", "plain", "unicode", "whsec-not-base64", "prefix-is-case-sensitive"],
)
def test_webhook_key(secret: str, key: bytes) -> None:
    assert webhook_key(secret) == key


def test_a_plain_secret_signs_with_its_raw_bytes() -> None:
    secret = "not-a-standard-webhooks-secret"
    expected = base64.b64encode(hmac.new(secret.encode(), b"id.1.{}", hashlib.sha256).digest()).decode()

    assert sign_webhook(secret, "id", 1, b"{}") == f"v1,{expected}"


def test_new_webhook_secret_is_a_fresh_32_byte_standard_webhooks_secret() -> None:
    secrets = {new_webhook_secret() for _ in range(20)}

    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(webhook_key(secret)) == 32


def test_webhook_headers_carry_the_id_the_time_and_a_signature_over_both() -> None:
    secret = new_webhook_secret()
    body = b'{"status":"shipped"}'

    headers = webhook_headers(secret, "whd_1", 1_800_000_000, body)

    assert headers == {
        "content-type": "application/json",
        "webhook-id": "whd_1",
        "webhook-timestamp": "1800000000",
        "webhook-signature": standard_webhooks_signature(secret, "whd_1", 1_800_000_000, body),
    }
