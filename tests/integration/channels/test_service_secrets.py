"""A shop's secrets never reach the logs: a whole shop flow at DEBUG (shop added, webhooks registered,
an order webhook, a shipment pushed, a bad signature refused) and then a search of everything written
and every log record for the access token, the webhook secret and the channel key the service holds."""

from __future__ import annotations

import json
import random
import secrets

import pytest

from tests.fakes.shopify import FakeShopify
from tests.integration.channels.conftest import Channels, shopify_order
from tests.support import debug_logging, unique, wait_until


async def test_a_shop_flow_at_debug_level_logs_no_secret(
    channels: Channels, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    token, webhook_secret = f"shpat_{secrets.token_hex(16)}", secrets.token_urlsafe(24)
    fake = FakeShopify(token, webhook_secret)
    await fake.start()
    try:
        with debug_logging(caplog):
            shop, channel = unique("sec-"), unique("sec-")
            await channels.ok(
                "PUT",
                f"/v1/shops/{shop}",
                {
                    "platform": "shopify",
                    "channel": channel,
                    "base_url": fake.base_url,
                    "access_token": token,
                    "webhook_secret": webhook_secret,
                },
            )
            order = fake.add_order(shopify_order(id=random.randint(10**15, 10**16)))
            url = channels.hook_url("shopify", shop)
            assert await fake.send_webhook(url, "orders/create", order) == 200
            intake = await channels.intake_order(shop, order["id"])
            line = intake["lines"][0]
            await channels.ship(channel, intake, [(line["line_id"], line["quantity"])], tracking="1ZSECRET")
            await wait_until(lambda: _fulfilled(fake, order["id"]))
            async with channels.system.api.session.post(url, data=b"{}", headers={"X-Shopify-Hmac-Sha256": "x"}) as bad:
                assert bad.status == 401
    finally:
        await fake.stop()
    sealed = await channels.runtime.pool.fetchval("SELECT sealed_secrets FROM shops WHERE code = $1", shop)
    channel_key = json.loads(channels.runtime.secrets.open(sealed))["channel_key"]
    captured = capfd.readouterr()
    written = captured.out + captured.err
    assert "shopify call" in written, "the platform calls should have been logged"
    records = "\n".join(f"{record.getMessage()} {record.__dict__!r}" for record in caplog.records)
    for what, value in {"access token": token, "webhook secret": webhook_secret, "channel key": channel_key}.items():
        assert value not in written, f"the {what} was written to the logs"
        assert value not in records, f"the {what} is in a log record"


async def _fulfilled(fake: FakeShopify, order_id: int) -> bool:
    return bool(fake.fulfillments(order_id))
