"""A webhook vendor receives its part of an order, signed, once; answers through the vendor API."""

from __future__ import annotations

import json

from tests.gateway_servers import WebhookReceiver
from tests.integration.gateway.conftest import Gateway

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def test_a_webhook_vendor_receives_its_order_signed_and_once(gateway: Gateway) -> None:
    receiver = WebhookReceiver(SECRET)
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
        await receiver2.stop()
    finally:
        await receiver.stop()


async def test_an_order_cancelled_before_it_was_ever_sent_is_never_sent(gateway: Gateway) -> None:
    vendor = await gateway.vendor("webhook")
    sku = f"SKU-{vendor}"
    await gateway.catalog(sku, vendor)
    channel = await gateway.channel()
    order_id = await gateway.place(channel, [(sku, 1, "5.00")])
    waiting = await gateway.wait_delivery(vendor, "pending")  # no connection yet: it waits
    assert waiting[0]["waiting_for"] == "connection"
    await gateway.system.api.ok("post", "intake", f"/v1/orders/{order_id}/cancel", token=channel[1])
    await gateway.wait_delivery(vendor, "cancelled")

    receiver = WebhookReceiver(SECRET)
    await receiver.start()
    try:
        await gateway.connect(
            vendor,
            {"transport": "webhook", "format": "json", "webhook": {"url": receiver.url, "secret": SECRET}},
        )
        # A later order of the same vendor goes out: the deliverer ran, and still sent nothing cancelled.
        await gateway.place(channel, [(sku, 1, "5.00")])
        arrived = await receiver.wait_for(1, timeout=30)
        assert [json.loads(r.body)["type"] for r in arrived] == ["vendor_order.created"]
        assert json.loads(arrived[0].body)["data"]["order_id"] != order_id
        await gateway.wait_delivery(vendor, "sent")
        states = sorted(d["state"] for d in await gateway.deliveries(vendor))
        assert states == ["cancelled", "sent"]
    finally:
        await receiver.stop()
