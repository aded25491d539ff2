"""Secrets never reach the logs: a whole flow (channel, ShipStation credentials, order, export and ship
notice with the password in the query as ShipStation sends it, a signed webhook) with every logger at
DEBUG, ours and the libraries' (aiohttp, faststream, aio-pika), and then a search of everything written
to stdout and stderr and every log record for the actual secret values, the key that seals stored
secrets among them."""

from __future__ import annotations

import base64
import secrets
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import RunningSystem
from tests.support import ChannelReceiver, basic_auth, debug_logging, order_payload, unique, wait_until


async def test_a_whole_flow_at_debug_level_logs_no_secret(
    system: RunningSystem, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    receiver = await ChannelReceiver().start()
    try:
        with debug_logging(caplog):
            secrets_used = await _flow(system, receiver)
    finally:
        await receiver.stop()

    captured = capfd.readouterr()
    written = captured.out + captured.err
    assert '"level": "debug"' in written, "the flow should have been logged at DEBUG"
    assert "shipstation call" in written and "order accepted" in written, "our own lines should be there"
    records = "\n".join(f"{record.getMessage()} {record.__dict__!r}" for record in caplog.records)
    assert "aiormq" in records and "aiohttp" in records, "the libraries' records should have been captured"
    for what, value in secrets_used.items():
        assert value not in written, f"the {what} was written to the logs"
        assert value not in records, f"the {what} is in a log record"


async def _flow(system: RunningSystem, receiver: ChannelReceiver) -> dict[str, str]:
    """Channel, ShipStation vendor, order, export, ship notice and webhook; answers the secrets used."""
    api = system.api
    webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    receiver.secret = webhook_secret
    channel, vendor, sku = unique("secret-"), unique("ss-secret-"), unique("SKU-")
    created = await api.ok(
        "PUT",
        "intake",
        f"/v1/channels/{channel}",
        {"name": "Shop", "webhook_url": receiver.url, "webhook_secret": webhook_secret},
    )
    api_key = created["api_key"]
    await api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", {"name": "East", "kind": "shipstation"})
    credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{vendor}/credentials")
    username, password = credentials["username"], credentials["password"]
    await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": vendor, "priority": 1}]})
    payload = order_payload(channel, [(sku, 1, "10.00")], discounts=[])
    status, order = await api.call("POST", "intake", "/v1/orders", payload, token=api_key)
    assert status == 201, order

    endpoint = system.url("shipstation") + f"/shipstation/{vendor}"
    in_query = urlencode({"SS-UserName": username, "SS-Password": password})  # as ShipStation appends them
    window = urlencode({"action": "export", "start_date": "01/01/2026 00:00", "end_date": "12/31/2099 23:59"})
    vendor_order_number = f"{payload['order_number']}-1"

    async def exported() -> bool:
        async with api.session.get(f"{endpoint}?{window}&{in_query}") as response:
            body = await response.text()
            assert response.status == 200, body
        return f"<OrderNumber>{vendor_order_number}</OrderNumber>" in body

    await wait_until(exported, timeout=20)
    notice = (
        f"<ShipNotice><OrderNumber>{vendor_order_number}</OrderNumber><Carrier>UPS</Carrier>"
        "<TrackingNumber>1Z999</TrackingNumber></ShipNotice>"
    )
    notify = urlencode({"action": "shipnotify", "order_number": vendor_order_number})
    async with api.session.post(f"{endpoint}?{notify}&{in_query}", data=notice.encode()) as response:
        assert response.status == 200, await response.text()
    # Basic auth once too, and a wrong password, which is a secret as much as the right one.
    async with api.session.get(f"{endpoint}?{window}", headers=basic_auth(username, password)) as response:
        assert response.status == 200
    wrong_password = "wrong-" + secrets.token_urlsafe(12)
    wrong = urlencode({"SS-UserName": username, "SS-Password": wrong_password})
    async with api.session.get(f"{endpoint}?{window}&{wrong}") as response:
        assert response.status == 401

    delivery = await wait_until(lambda: _first_delivery(receiver), timeout=20)
    assert receiver.verify(delivery)
    return {
        "ShipStation password": password,
        "wrong ShipStation password": wrong_password,
        "Basic credentials": basic_auth(username, password)["Authorization"].removeprefix("Basic "),
        "webhook secret": webhook_secret.removeprefix("whsec_"),
        "channel API key": api_key,
        "admin token": system.env.admin_token,
        "secret key (DROPSHIP_SECRET_KEY)": system.env.secret_key,
    }


async def _first_delivery(receiver: ChannelReceiver) -> Any:
    return receiver.deliveries[0] if receiver.deliveries else None
