"""A webhook vendor receives its part of an order, signed, once; answers through the vendor API."""

from __future__ import annotations

import json

from tests.gateway_servers import WebhookReceiver
from tests.integration.gateway.conftest import Gateway


async def test_a_webhook_vendor_receives_its_order_signed_and_once(gateway: Gateway) -> None:
    receiver = WebhookReceiver("whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    await receiver.start()
    try:
        vendor = await gateway.vendor("webhook")
        connected = await gateway.connect(
            vendor, {"transport": "webhook", "format": "json", "webhook": {"url": receiver.url}}
        )
        assert connected["api_key"].startswith("dsv_")
        assert connected["webhook_secret"].startswith("whsec_")
        receiver2 = WebhookReceiver(connected["webhook_secret"])
        await receiver2.start()
        await gateway.connect(
            vendor,
            {
                "transport": "webhook",
                "format": "json",
                "webhook": {"url": receiver2.url, "secret": connected["webhook_secret"]},
            },
        )
        sku = f"SKU-{vendor}"
        await gateway.catalog(sku, vendor, vendor_sku=f"V-{sku}")
        order_id = await gateway.place(await gateway.channel(), [(sku, 2, "9.50")])
        arrived = await receiver2.wait_for(1, timeout=30)
        assert arrived[0].verified
        body = json.loads(arrived[0].body)
        assert body["type"] == "vendor_order.created"
        assert body["data"]["order_id"] == order_id
        sent = await gateway.wait_delivery(vendor, "sent")
        vendor_order_id = sent[0]["vendor_order_id"]
        shipped = await gateway.ok(
            "post",
            f"/v1/vendor/orders/{vendor_order_id}/shipments",
            {"carrier": "UPS", "tracking_number": "1Z999"},
            token=connected["api_key"],
        )
        assert shipped["new"]
        await gateway.wait_delivery(vendor, "acknowledged")
    finally:
        await receiver.stop()
