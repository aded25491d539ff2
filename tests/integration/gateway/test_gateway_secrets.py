"""The gateway's secrets stay secret: at rest (the ``connections`` row holds the webhook secret and the
SFTP password only sealed, the vendor API key only hashed) and in the logs (a webhook delivery answered
through the vendor API, and an SFTP connection checked and delivered to, with every logger at DEBUG:
ours and the libraries', asyncssh among them; then every line written and every record is searched for
the actual secret values)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator

import pytest

from tests.gateway_servers import SftpServer, WebhookReceiver
from tests.integration.gateway.conftest import Gateway
from tests.support import debug_logging


def webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    secret = webhook_secret()
    server = WebhookReceiver(secret)
    await server.start()
    try:
        yield server, secret
    finally:
        await server.stop()


async def test_stored_connections_hold_no_secret_in_the_clear(gateway: Gateway, sftp: SftpServer) -> None:
    secret = webhook_secret()
    webhook_vendor = await gateway.vendor("webhook")
    created = await gateway.connect(
        webhook_vendor,
        {"transport": "webhook", "format": "json", "webhook": {"url": "http://127.0.0.1:9/orders", "secret": secret}},
    )
    password = "pw-" + secrets.token_urlsafe(16)
    sftp_vendor = await gateway.vendor("csv_sftp")
    sftp_created = await gateway.connect(
        sftp_vendor,
        {
            "transport": "sftp",
            "format": "csv",
            "sftp": sftp.settings("acme", password=password).model_dump(mode="json", exclude_none=True),
        },
    )

    rows = await gateway.runtime.pool.fetch(
        "SELECT vendor, sealed_secrets, settings::text AS settings, api_key_hash FROM connections"
        " WHERE vendor = ANY($1::text[])",
        [webhook_vendor, sftp_vendor],
    )
    assert len(rows) == 2
    stored = " ".join(f"{row['sealed_secrets']} {row['settings']} {row['api_key_hash']}" for row in rows)
    for what, value in {
        "webhook secret": secret,
        "webhook secret's key": secret.removeprefix("whsec_"),
        "SFTP password": password,
        "webhook vendor's API key": created["api_key"],
        "SFTP vendor's API key": sftp_created["api_key"],
    }.items():
        assert value not in stored, f"the {what} is stored in the clear"
    for row in rows:
        assert row["sealed_secrets"], "the secrets are stored, sealed"
    # Sealed means the runtime's key opens it again, to the values given.
    by_vendor = {row["vendor"]: row["sealed_secrets"] for row in rows}
    assert secret in gateway.runtime.secrets.open(by_vendor[webhook_vendor])
    assert password in gateway.runtime.secrets.open(by_vendor[sftp_vendor])


async def test_a_webhook_delivery_and_an_sftp_vendor_at_debug_level_log_no_secret(
    gateway: Gateway,
    receiver: tuple[WebhookReceiver, str],
    sftp: SftpServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    server, secret = receiver
    password = "pw-" + secrets.token_urlsafe(16)
    username = f"logs{secrets.token_hex(3)}"
    (sftp.add_user(username, password=password) / "orders").mkdir()

    with debug_logging(caplog):
        webhook_vendor = await gateway.vendor("webhook")
        created = await gateway.connect(
            webhook_vendor, {"transport": "webhook", "format": "json", "webhook": {"url": server.url, "secret": secret}}
        )
        api_key = created["api_key"]
        sku = f"SKU-{webhook_vendor}"
        await gateway.catalog(sku, webhook_vendor)
        await gateway.place(await gateway.channel(), [(sku, 1, "30.00")])
        [arrived] = await server.wait_for(1, timeout=30)
        assert arrived.verified
        [sent] = await gateway.wait_delivery(webhook_vendor, "sent")
        status, answer = await gateway.call(
            "post", f"/v1/vendor/orders/{sent['vendor_order_id']}/acknowledgement", {"lines": []}, token=api_key
        )
        assert status == 202, answer
        await gateway.wait_delivery(webhook_vendor, "acknowledged")

        sftp_vendor = await gateway.vendor("csv_sftp")
        sftp_created = await gateway.connect(
            sftp_vendor,
            {
                "transport": "sftp",
                "format": "csv",
                "sftp": sftp.settings(username, password=password).model_dump(mode="json", exclude_none=True),
            },
        )
        checked = await gateway.ok("post", f"/v1/connections/{sftp_vendor}/check")
        assert checked["ok"] is True, checked
        sftp_sku = f"SKU-{sftp_vendor}"
        await gateway.catalog(sftp_sku, sftp_vendor)
        await gateway.place(await gateway.channel(), [(sftp_sku, 2, "30.00")])
        [uploaded] = await gateway.wait_delivery(sftp_vendor, "sent")
        assert uploaded["file_name"].endswith(".csv")

    captured = capfd.readouterr()
    written = captured.out + captured.err
    assert '"level": "debug"' in written, "the flow should have been logged at DEBUG"
    assert "delivered to vendor" in written, "the gateway's own lines should be there"
    records = "\n".join(f"{record.getMessage()} {record.__dict__!r}" for record in caplog.records)
    assert "asyncssh" in records and "aiohttp" in records, "the libraries' records should have been captured"
    for what, value in {
        "webhook secret": secret.removeprefix("whsec_"),
        "SFTP password": password,
        "webhook vendor's API key": api_key,
        "SFTP vendor's API key": sftp_created["api_key"],
        "admin token": gateway.system.env.admin_token,
        "secret key (DROPSHIP_SECRET_KEY)": gateway.system.env.secret_key,
    }.items():
        assert value not in written, f"the {what} was written to the logs"
        assert value not in records, f"the {what} is in a log record"
