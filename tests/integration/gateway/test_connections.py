"""Connections through the gateway's admin API: the pairing a vendor's kind allows, unknown vendors, no
secret ever answered back (the API key and a generated webhook secret once, on creation), key rotation,
and checks against a real webhook receiver and a real SFTP server with the wrong host key."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncssh
import pytest

from tests.gateway_servers import SftpServer, WebhookReceiver, client_key
from tests.integration.gateway.conftest import Gateway


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def sftp_body(server: SftpServer, username: str, **login: Any) -> dict[str, Any]:
    settings = server.settings(username, **login).model_dump(mode="json", exclude_none=True)
    return {"transport": "sftp", "format": "csv", "sftp": settings}


def other_host_key() -> str:
    return asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode().strip()


async def not_a_vendor_order(gateway: Gateway, token: str) -> int:
    """The status the vendor API answers ``token`` for an order nobody has: 404 when the key is good."""
    status, _ = await gateway.call("post", "/v1/vendor/orders/vo_nobody/acknowledgement", {"lines": []}, token=token)
    return status


async def test_a_vendor_takes_only_the_pairing_of_its_kind(gateway: Gateway, sftp: SftpServer) -> None:
    webhook_vendor = await gateway.vendor("webhook")
    status, refused = await gateway.call(
        "put", f"/v1/connections/{webhook_vendor}", sftp_body(sftp, "acme", password="pw-" + secrets.token_hex(8))
    )
    assert (status, refused["error"]) == (409, "wrong_kind"), refused
    assert "webhook/json" in refused["detail"]

    sftp_vendor = await gateway.vendor("csv_sftp")
    status, refused = await gateway.call(
        "put",
        f"/v1/connections/{sftp_vendor}",
        {"transport": "webhook", "format": "json", "webhook": {"url": "http://127.0.0.1:9/orders"}},
    )
    assert (status, refused["error"]) == (409, "wrong_kind"), refused

    shipstation_vendor = await gateway.vendor("shipstation")
    status, refused = await gateway.call(
        "put", f"/v1/connections/{shipstation_vendor}", sftp_body(sftp, "acme", password="pw")
    )
    assert (status, refused["error"]) == (409, "wrong_kind"), refused
    assert "ShipStation" in refused["detail"]

    for vendor in (webhook_vendor, sftp_vendor):
        assert (await gateway.ok("get", f"/v1/connections/{vendor}"))["state"] == "unconnected"


async def test_unknown_vendors_and_vendors_without_a_connection(gateway: Gateway) -> None:
    status, answer = await gateway.call(
        "put",
        "/v1/connections/nobody-by-this-name",
        {"transport": "webhook", "format": "json", "webhook": {"url": "http://127.0.0.1:9/orders"}},
    )
    assert (status, answer["error"]) == (404, "unknown_vendor"), answer
    status, answer = await gateway.call("get", "/v1/connections/nobody-by-this-name")
    assert (status, answer["error"]) == (404, "unknown_vendor"), answer

    vendor = await gateway.vendor("webhook")
    for path in (f"/v1/connections/{vendor}/check", f"/v1/connections/{vendor}/key"):
        status, answer = await gateway.call("post", path)
        assert (status, answer["error"]) == (404, "no_connection"), answer
    status, _ = await gateway.call("get", f"/v1/connections/{vendor}", token="not-the-admin-token")
    assert status == 401


async def test_secrets_are_answered_once_and_never_again(gateway: Gateway, sftp: SftpServer) -> None:
    vendor = await gateway.vendor("webhook")
    created = await gateway.connect(
        vendor, {"transport": "webhook", "format": "json", "webhook": {"url": "http://127.0.0.1:9/orders"}}
    )
    api_key, generated = created["api_key"], created["webhook_secret"]
    assert api_key.startswith("dsv_") and generated.startswith("whsec_")
    assert created["state"] == "connected" and created["webhook"] == {
        "url": "http://127.0.0.1:9/orders",
        "has_secret": True,
    }
    assert await not_a_vendor_order(gateway, api_key) == 404

    own_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    replaced = await gateway.connect(
        vendor,
        {"transport": "webhook", "format": "json", "webhook": {"url": "http://127.0.0.1:9/v2", "secret": own_secret}},
    )
    assert "api_key" not in replaced and "webhook_secret" not in replaced, "a replaced connection keeps its key"
    assert await not_a_vendor_order(gateway, api_key) == 404
    shown = await gateway.ok("get", f"/v1/connections/{vendor}")
    assert shown["webhook"] == {"url": "http://127.0.0.1:9/v2", "has_secret": True}
    text = json.dumps(shown)
    for secret in (api_key, generated, own_secret, own_secret.removeprefix("whsec_")):
        assert secret not in text

    sftp_vendor = await gateway.vendor("csv_sftp")
    password = "pw-" + secrets.token_urlsafe(12)
    private_key, _ = client_key()
    body = sftp_body(sftp, "acme", password=password, private_key=private_key)
    sftp_created = await gateway.connect(sftp_vendor, body)
    assert sftp_created["sftp"]["login"] == "private_key"
    sftp_shown = await gateway.ok("get", f"/v1/connections/{sftp_vendor}")
    assert sftp_shown["sftp"]["host_key"] == sftp.host_key_line
    assert "password" not in sftp_shown["sftp"] and "private_key" not in sftp_shown["sftp"]
    text = json.dumps(sftp_shown) + json.dumps(sftp_created)
    for secret in (password, private_key, *private_key.splitlines()[1:3]):
        assert secret not in text


async def test_a_rotated_key_replaces_the_old_one(gateway: Gateway) -> None:
    vendor = await gateway.vendor("webhook")
    created = await gateway.connect(
        vendor, {"transport": "webhook", "format": "json", "webhook": {"url": "http://127.0.0.1:9/orders"}}
    )
    old_key = created["api_key"]
    rotated = await gateway.ok("post", f"/v1/connections/{vendor}/key")
    assert rotated["vendor"] == vendor
    new_key = rotated["api_key"]
    assert new_key.startswith("dsv_") and new_key != old_key
    assert await not_a_vendor_order(gateway, old_key) == 401
    assert await not_a_vendor_order(gateway, new_key) == 404
    assert new_key not in json.dumps(await gateway.ok("get", f"/v1/connections/{vendor}"))


async def test_checks_reach_the_webhook_and_refuse_a_wrong_host_key(
    gateway: Gateway, receiver: WebhookReceiver, sftp: SftpServer
) -> None:
    vendor = await gateway.vendor("webhook")
    await gateway.connect(vendor, {"transport": "webhook", "format": "json", "webhook": {"url": receiver.url}})
    checked = await gateway.ok("post", f"/v1/connections/{vendor}/check")
    assert checked["ok"] is True, checked
    assert checked["steps"] and all(step["ok"] for step in checked["steps"])
    [ping] = await receiver.wait_for(1)
    assert json.loads(ping.body)["type"] == "ping"

    password = "pw-" + secrets.token_urlsafe(12)
    username = f"check{secrets.token_hex(3)}"
    (sftp.add_user(username, password=password) / "orders").mkdir()
    sftp_vendor = await gateway.vendor("csv_sftp")
    trusted = await gateway.connect(sftp_vendor, sftp_body(sftp, username, password=password))
    assert trusted["state"] == "connected"
    good = await gateway.ok("post", f"/v1/connections/{sftp_vendor}/check")
    assert good["ok"] is True, good

    wrong = sftp_body(sftp, username, password=password)
    wrong["sftp"]["host_key"] = other_host_key()
    await gateway.connect(sftp_vendor, wrong)
    checked = await gateway.ok("post", f"/v1/connections/{sftp_vendor}/check")
    assert checked["ok"] is False, checked
    failed = [step for step in checked["steps"] if not step["ok"]]
    assert failed and "host key" in failed[0]["detail"], checked
