"""A ship-to changed through intake reaches each kind of gateway vendor the way its withdrawals do, as a
delivery of its own after the order: a signed change document to a webhook vendor, a change file in the
order's columns over SFTP, a change e-mail with that file attached, an 860 (BCH01 04, N1*ST) to an EDI
partner that takes 860s (a 997 refusing it fails that delivery, not the order). Where the vendor's format
cannot say it (a CSV profile without ship-to columns, a partner that takes no 860) the delivery fails at
once and is listed as failed with the reason."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from services.gateway.use_cases.vendor_orders import ship_to_changed
from shared.contracts.envelope import utc_now
from shared.contracts.orders import Address
from shared.contracts.vendor_orders import VendorOrderShipToChanged, VendorOrderShipToChangedData
from shared.messaging.inbox import apply_once
from tests.gateway_servers import SftpServer
from tests.integration.gateway.conftest import Gateway
from tests.integration.gateway.test_email_vendor import attachment, email_vendor, mail_to
from tests.integration.gateway.test_sftp_vendor import file_appears, read_rows, sftp_vendor, stocked
from tests.integration.gateway.test_webhook_vendor import Endpoint, body_of, endpoint, stocked_vendor
from tests.integration.gateway.test_x12_partner import Partners, catalog, partners, place, sent
from tests.integration.gateway.x12_partner import functional_ack, segments
from tests.support import wait_until

__all__ = ["endpoint", "partners"]  # the fixtures, shared with their own modules

MOVED = {"name": "Jo Müller", "address1": "9 Other Street", "city": "Springfield", "state": "IL",
         "postal_code": "62704", "country": "US"}  # fmt: skip


async def change_ship_to(gateway: Gateway, order_id: str, channel: tuple[str, str]) -> None:
    status, body = await gateway.system.api.call(
        "post", "intake", f"/v1/orders/{order_id}/ship_to", MOVED, token=channel[1]
    )
    assert status == 202, body


async def ship_to_delivery(gateway: Gateway, vendor: str, state: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        return next(
            (
                d
                for d in await gateway.deliveries(vendor)
                if d["event"] == "vendor_order.ship_to_changed" and d["state"] == state
            ),
            None,
        )

    return await wait_until(reached, timeout=30)


async def test_a_webhook_vendor_gets_a_signed_change_document_after_the_order(
    gateway: Gateway, endpoint: Endpoint
) -> None:
    vendor, sku = await stocked_vendor(gateway)
    await gateway.connect(vendor, endpoint.connection())
    channel = await gateway.channel()
    order_id = await gateway.place(channel, [(sku, 1, "12.00")])
    [order_sent] = await gateway.wait_delivery(vendor, "sent")

    await change_ship_to(gateway, order_id, channel)

    first, second = await endpoint.server.wait_for(2, timeout=30)
    assert second.verified
    change = body_of(second)
    assert change["type"] == "vendor_order.ship_to_changed"
    assert change["data"]["vendor_order_id"] == body_of(first)["data"]["vendor_order_id"]
    assert change["data"]["ship_to"]["address1"] == "9 Other Street"
    change_id = f"dlv_{order_sent['vendor_order_id']}_moved_1"
    assert second.headers["webhook-id"] == second.headers["idempotency-key"] == change_id
    delivered = await ship_to_delivery(gateway, vendor, "sent")
    assert delivered["delivery_id"] == change_id
    assert delivered["file_name"] == f"{order_sent['vendor_order_number']}-ship-to-1.json"

    # An older change arriving late (a replay, say) is not sent after the newer one.
    data = change["data"]
    older = VendorOrderShipToChanged(
        correlation_id=order_id,
        data=VendorOrderShipToChangedData(
            vendor_order_id=data["vendor_order_id"], vendor_order_number=data["vendor_order_number"],
            vendor=vendor, order_id=order_id, ship_to=Address.model_validate({**MOVED, "address1": "1 Old Road"}),
            changed_at=utc_now() - timedelta(hours=1),
        ),
    )  # fmt: skip
    assert await apply_once(gateway.runtime.pool, "tests", older, partial(ship_to_changed, event=older))
    changes = [d for d in await gateway.deliveries(vendor) if d["event"] == "vendor_order.ship_to_changed"]
    assert [d["delivery_id"] for d in changes] == [change_id]


async def test_a_csv_vendor_over_sftp_gets_a_change_file_in_its_columns(gateway: Gateway, sftp: SftpServer) -> None:
    vendor, chroot = await sftp_vendor(gateway, sftp, csv={
        "delimiter": ";", "encoding": "utf-8-sig",
        "order_columns": [["PO Number", "vendor_order_number"], ["Item", "line.vendor_sku"],
                          ["Units", "line.quantity"], ["Street", "ship_to.address1"], ["Zip", "ship_to.postal_code"]],
    })  # fmt: skip
    sku, vendor_sku = await stocked(gateway, vendor)
    channel = await gateway.channel()
    order_id = await gateway.place(channel, [(sku, 2, "7.00")])
    [vendor_order] = await gateway.vendor_orders(order_id)
    number = vendor_order["vendor_order_number"]
    original = read_rows(await file_appears(chroot / "orders" / f"{number}.csv"))
    assert original[1][3] != "9 Other Street"

    await change_ship_to(gateway, order_id, channel)

    rows = read_rows(await file_appears(chroot / "orders" / f"{number}-ship-to-1.csv"))
    assert rows[0] == ["PO Number", "Item", "Units", "Street", "Zip"]
    assert rows[1:] == [[number, vendor_sku, "2", "9 Other Street", "62704"]]
    assert (await ship_to_delivery(gateway, vendor, "sent"))["file_name"] == f"{number}-ship-to-1.csv"


async def test_columns_without_a_ship_to_fail_the_change_at_once_visibly(gateway: Gateway, sftp: SftpServer) -> None:
    vendor, chroot = await sftp_vendor(gateway, sftp)  # its profile: PO number, item and units only
    sku, _ = await stocked(gateway, vendor)
    channel = await gateway.channel()
    order_id = await gateway.place(channel, [(sku, 1, "7.00")])
    [vendor_order] = await gateway.vendor_orders(order_id)
    await file_appears(chroot / "orders" / f"{vendor_order['vendor_order_number']}.csv")

    await change_ship_to(gateway, order_id, channel)

    failed = await ship_to_delivery(gateway, vendor, "failed")
    assert failed["attempts"] == 1 and "no ship_to column" in failed["last_error"]
    assert sorted(path.name for path in (chroot / "orders").iterdir()) == [f"{vendor_order['vendor_order_number']}.csv"]
    # The order itself stands: nothing is rerouted for a change that could not be sent.
    [order_delivery] = [d for d in await gateway.deliveries(vendor) if d["event"] == "vendor_order.created"]
    assert order_delivery["state"] == "sent"


async def test_an_e_mail_vendor_gets_a_change_mail_with_the_file_attached(gateway: Gateway) -> None:
    vendor, (sku,), addresses = await email_vendor(gateway)
    channel = await gateway.channel()
    order_id = await gateway.place(channel, [(sku, 3, "11.00")])
    await mail_to(gateway, addresses["to"], 1)
    [order_sent] = await gateway.wait_delivery(vendor, "sent")

    await change_ship_to(gateway, order_id, channel)

    _, change_mail = await mail_to(gateway, addresses["to"], 2)
    message = change_mail.message
    number = order_sent["vendor_order_number"]
    assert message["Message-ID"] == f"<dlv_{order_sent['vendor_order_id']}_moved_1@dropship-router>"
    assert message["Subject"] == f"Change to order {number}: new ship-to address"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "9 Other Street" in body.get_content() and "62704" in body.get_content()
    name, rows = attachment(message)
    assert name == f"{number}-ship-to-1.csv"
    assert [(row["PO Number"], row["Address 1"], row["Postal Code"], row["Qty"]) for row in rows] == [
        (number, "9 Other Street", "62704", "3")
    ]


async def test_an_edi_partner_that_takes_860s_gets_one_with_the_new_ship_to(
    gateway: Gateway, partners: Partners
) -> None:
    partner = await partners.new(cancel_as="860")
    sku = await catalog(gateway, partner)
    placed = await place(gateway, partner, [(sku, 2)])

    await change_ship_to(gateway, placed.order_id, placed.channel)

    names = await partner.files("orders", 2)
    change = sent(partner, next(name for name in names if name != placed.order.name))
    assert change.interchange.groups[0].functional_id == "PC"
    assert change.interchange.groups[0].sets[0].set_id == "860"
    assert change.control_number == placed.order.control_number + 1
    assert change.segment("BCH")[1:4] == ["04", "DS", placed.number]
    found = segments(change.content)
    [n1] = [s for s in found if s[0] == "N1"]
    assert n1[1] == "ST" and n1[2].upper() == "JO MULLER"
    n3 = next(s for s in found if s[0] == "N3")
    n4 = next(s for s in found if s[0] == "N4")
    assert n3[1].upper() == "9 OTHER STREET" and n4[2:5] == ["IL", "62704", "US"]
    assert not any(s[0] in ("POC", "PO1") for s in found)
    delivered = await ship_to_delivery(gateway, partner.code, "sent")
    assert delivered["file_name"] == change.name

    # The partner's 997 refuses the 860: the change's delivery says so; the order stands.
    refusal = partner.writer.interchange(
        "FA", [("997", functional_ack(change.group_number, [change.set_number], accepted=False, functional_id="PC"))]
    )
    partner.drop("refuse-860.x12", refusal.content)
    failed = await ship_to_delivery(gateway, partner.code, "failed")
    assert failed["last_error"] == "the partner's 997 rejected the new ship-to"
    [order_delivery] = [d for d in await gateway.deliveries(partner.code) if d["event"] == "vendor_order.created"]
    assert order_delivery["state"] == "sent"


async def test_an_edi_partner_that_takes_no_860_has_the_change_failed_visibly(
    gateway: Gateway, partners: Partners
) -> None:
    partner = await partners.new()  # cancel_as 850: the partner takes no 860 change orders
    sku = await catalog(gateway, partner)
    placed = await place(gateway, partner, [(sku, 1)])

    await change_ship_to(gateway, placed.order_id, placed.channel)

    failed = await ship_to_delivery(gateway, partner.code, "failed")
    assert failed["attempts"] == 1 and "860" in failed["last_error"] and "by hand" in failed["last_error"]
    assert partner.names("orders") == [placed.order.name]
