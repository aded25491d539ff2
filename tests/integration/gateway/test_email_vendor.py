"""E-mail vendors through the running gateway and a real SMTP server (aiosmtpd): one message per vendor
order to ``to`` and ``cc`` with ``Reply-To``, the order's CSV attached in the vendor's SKUs, a
Message-ID made from the delivery id, and a cancellation e-mail of its own when the channel cancels."""

from __future__ import annotations

import csv
import io
from email.message import EmailMessage
from typing import Any

from tests.gateway_servers import ReceivedMail
from tests.integration.gateway.conftest import Gateway
from tests.support import wait_until


async def email_vendor(gateway: Gateway, skus: int = 1) -> tuple[str, list[str], dict[str, str]]:
    """An e-mail vendor with ``skus`` SKUs of its own; answers (vendor, its SKUs, its addresses)."""
    vendor = await gateway.vendor("email")
    addresses = {
        "to": f"orders@{vendor}.example",
        "cc": f"warehouse@{vendor}.example",
        "reply_to": f"ops-{vendor}@merchant.example",
    }
    await gateway.connect(
        vendor,
        {
            "transport": "email",
            "format": "csv",
            "email": {"to": [addresses["to"]], "cc": [addresses["cc"]], "reply_to": addresses["reply_to"]},
        },
    )
    names = [f"SKU-{vendor}-{n}" for n in range(1, skus + 1)]
    for sku in names:
        await gateway.catalog(sku, vendor, vendor_sku=f"V-{sku}")
    return vendor, names, addresses


async def mail_to(gateway: Gateway, address: str, count: int) -> list[ReceivedMail]:
    """The messages whose envelope names ``address``, once there are ``count`` of them."""

    async def arrived() -> list[ReceivedMail] | None:
        found = [mail for mail in gateway.smtp.received if address in mail.rcpt_tos]
        return found if len(found) >= count else None

    return await wait_until(arrived, timeout=30)


def attachment(message: EmailMessage) -> tuple[str, list[dict[str, str]]]:
    """The one attached file: its name and its rows (by header)."""
    [part] = list(message.iter_attachments())
    name = part.get_filename()
    assert name is not None
    content = part.get_content()
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    return name, list(csv.DictReader(io.StringIO(text)))


async def test_each_vendor_order_is_one_message_with_its_csv_attached(gateway: Gateway) -> None:
    vendor, (first, second), addresses = await email_vendor(gateway, skus=2)
    other, (elsewhere,), other_addresses = await email_vendor(gateway)
    order_id = await gateway.place(
        await gateway.channel(), [(first, 2, "19.00"), (second, 1, "7.50"), (elsewhere, 4, "3.00")]
    )

    [mail] = await mail_to(gateway, addresses["to"], 1)
    [sent] = await gateway.wait_delivery(vendor, "sent")
    vendor_orders = {v["vendor"]: v for v in await gateway.vendor_orders(order_id)}
    number = vendor_orders[vendor]["vendor_order_number"]
    assert sent["vendor_order_id"] == vendor_orders[vendor]["vendor_order_id"]

    assert sorted(mail.rcpt_tos) == sorted([addresses["to"], addresses["cc"]])
    message = mail.message
    assert message["To"] == addresses["to"]
    assert message["Cc"] == addresses["cc"]
    assert message["Reply-To"] == addresses["reply_to"]
    assert number in message["Subject"]
    assert message["Message-ID"] == f"<{sent['delivery_id']}@dropship-router>"
    assert message["X-Dropship-Delivery-Id"] == sent["delivery_id"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and number in body.get_content()

    name, rows = attachment(message)
    assert name == f"{number}.csv"
    assert [(row["PO Number"], row["SKU"], row["Qty"]) for row in rows] == [
        (number, f"V-{first}", "2"),
        (number, f"V-{second}", "1"),
    ]
    assert sent["file_name"] == name

    # The other vendor's part is its own message, with only its line.
    [other_mail] = await mail_to(gateway, other_addresses["to"], 1)
    other_number = vendor_orders[other]["vendor_order_number"]
    other_name, other_rows = attachment(other_mail.message)
    assert other_name == f"{other_number}.csv"
    assert [(row["SKU"], row["Qty"]) for row in other_rows] == [(f"V-{elsewhere}", "4")]
    assert other_mail.message["Message-ID"] != message["Message-ID"]

    # Nothing more for either: one message per vendor order.
    await gateway.wait_delivery(other, "sent")
    assert len([m for m in gateway.smtp.received if addresses["to"] in m.rcpt_tos]) == 1
    assert len([m for m in gateway.smtp.received if other_addresses["to"] in m.rcpt_tos]) == 1


async def test_a_cancelled_order_is_cancelled_by_e_mail(gateway: Gateway) -> None:
    vendor, (sku,), addresses = await email_vendor(gateway)
    channel = await gateway.channel()
    order_id = await gateway.place(channel, [(sku, 3, "11.00")])
    [order_mail] = await mail_to(gateway, addresses["to"], 1)
    [order_sent] = await gateway.wait_delivery(vendor, "sent")

    cancelled = await gateway.system.api.ok("post", "intake", f"/v1/orders/{order_id}/cancel", token=channel[1])
    assert cancelled["status"] == "cancelled"
    _, cancel_mail = await mail_to(gateway, addresses["to"], 2)
    message = cancel_mail.message
    number = order_sent["vendor_order_number"]
    cancel_id = f"dlv_{order_sent['vendor_order_id']}_cancel"
    assert message["Message-ID"] == f"<{cancel_id}@dropship-router>"
    assert message["Message-ID"] != order_mail.message["Message-ID"]
    assert "cancel" in message["Subject"].lower() and number in message["Subject"]
    name, rows = attachment(message)
    assert name == f"{number}-cancel.csv"
    assert [(row["PO Number"], row["SKU"], row["Qty"]) for row in rows] == [(number, f"V-{sku}", "3")]

    async def cancellation_sent() -> dict[str, Any] | None:
        found = [d for d in await gateway.deliveries(vendor) if d["delivery_id"] == cancel_id]
        return found[0] if found and found[0]["state"] == "sent" else None

    delivered = await wait_until(cancellation_sent, timeout=20)
    assert (delivered["event"], delivered["file_name"]) == ("vendor_order.cancelled", name)
