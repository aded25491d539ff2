"""Reroute on reject, end to end: the four services as processes on the real broker and database.

A third-party vendor (the test, acting as its adapter on the public ``vendor.<code>`` queue) receives
both lines of an order, rejects one as discontinued and ships the other. The splitter takes the
rejected line back from it (``vendor_order.lines_cancelled``) and sends it to the next candidate, a
ShipStation vendor, as a new vendor order numbered on. ShipStation's first export of it counts as its
acknowledgement, a ship notice ships it, and the channel's signed webhook says ``partially_shipped``,
then ``shipped``. The routing view shows both vendors tried, and why.
"""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from shared.contracts.shipments import ShipmentLine, ShipmentReported, ShipmentReportedData
from shared.contracts.vendor_orders import AcknowledgedLine, VendorOrderAcknowledged, VendorOrderAcknowledgedData
from tests.conftest import SuiteEnvironment
from tests.e2e.harness import ProcessSystem, VendorAdapterStandIn
from tests.shipstation_standin import ImportedOrder, ShipStationStandIn
from tests.support import AMQP_URL, Api, ChannelReceiver, Delivery, order_payload, unique, wait_until

CHICAGO = ZoneInfo("America/Chicago")


async def test_a_rejected_line_is_rerouted_to_shipstation_and_the_channel_hears_shipped(
    process_api: Api, processes: ProcessSystem, test_env: SuiteEnvironment
) -> None:
    api = process_api
    receiver = await ChannelReceiver().start()
    thirdparty, warehouse = unique("thirdparty-"), unique("ss-")
    adapter: VendorAdapterStandIn | None = None
    try:
        channel = unique("shop-")
        created = await api.ok(
            "PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop", "webhook_url": receiver.url}
        )
        receiver.secret, key = created["webhook_secret"], created["api_key"]
        # The test plays this vendor's own adapter, so the gateway leaves its queue alone.
        distributor = {"name": "Distributor", "kind": "webhook", "settings": {"adapter": "own"}}
        await api.ok("PUT", "splitter", f"/v1/vendors/{thirdparty}", distributor)
        await api.ok("PUT", "splitter", f"/v1/vendors/{warehouse}", {"name": "Warehouse", "kind": "shipstation"})
        await api.ok("PUT", "shipstation", f"/v1/shipstation/{warehouse}/settings", {"timezone": "America/Chicago"})
        credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{warehouse}/credentials")
        widget, gadget = unique("WIDGET-"), unique("GADGET-")
        for sku in (widget, gadget):
            sources = [{"vendor": thirdparty, "priority": 1}, {"vendor": warehouse, "priority": 2}]
            await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": sources})
        adapter = await VendorAdapterStandIn.connect(AMQP_URL, test_env.namespace, thirdparty)
        shipstation = ShipStationStandIn.connected(
            api.session,
            credentials,
            url=f"{processes.urls['shipstation']}/shipstation/{warehouse}",
            zone=CHICAGO,
        )

        payload = order_payload(channel, [(widget, 2, "12.00"), (gadget, 1, "30.00")])
        number = payload["order_number"]
        status, order = await api.call("POST", "intake", "/v1/orders", payload, token=key)
        assert status == 201, order
        order_id = order["id"]

        # The third-party vendor, priority 1, receives both lines as <n>-1.
        created_event = await wait_until(lambda: _first(adapter.created_for(order_id)))
        first = created_event["data"]
        assert first["vendor"] == thirdparty
        assert first["vendor_order_number"] == f"{number}-1"
        assert [(line["line_id"], line["sku"], line["quantity"]) for line in first["lines"]] == [
            ("L1", widget, 2),
            ("L2", gadget, 1),
        ]

        # It accepts the widgets and rejects the gadget as discontinued.
        await adapter.publish(
            VendorOrderAcknowledged(
                correlation_id=order_id,
                causation_id=created_event["message_id"],
                data=VendorOrderAcknowledgedData(
                    vendor_order_id=first["vendor_order_id"],
                    vendor_order_number=first["vendor_order_number"],
                    vendor=thirdparty,
                    order_id=order_id,
                    lines=[
                        AcknowledgedLine(line_id="L1", sku=widget, status="accepted", quantity=2),
                        AcknowledgedLine(
                            line_id="L2", sku=gadget, status="rejected", quantity=1, reason="discontinued"
                        ),
                    ],
                ),
            )
        )
        withdrawn = await wait_until(
            lambda: _first(adapter.messages("vendor_order.lines_cancelled", first["vendor_order_id"]))
        )
        assert withdrawn["data"]["lines"] == [{"line_id": "L2", "quantity": 1}]
        assert "discontinued" in withdrawn["data"]["reason"]

        # It ships the widgets: the channel hears partially_shipped.
        await adapter.publish(
            ShipmentReported(
                correlation_id=order_id,
                data=ShipmentReportedData(
                    shipment_id=f"shp_{uuid.uuid4().hex}",
                    vendor=thirdparty,
                    vendor_order_id=first["vendor_order_id"],
                    vendor_order_number=first["vendor_order_number"],
                    order_id=order_id,
                    carrier="FedEx",
                    tracking_number="794600000001",
                    lines=[ShipmentLine(line_id="L1", sku=widget, quantity=2)],
                ),
            )
        )
        partial = await wait_until(lambda: _nth(receiver, 0))
        assert receiver.verify(partial)
        assert (partial.json["order_id"], partial.json["status"]) == (order_id, "partially_shipped")
        assert partial.json["shipment"]["lines"] == [{"line_id": "L1", "sku": widget, "quantity": 2}]

        # The gadget went to the ShipStation vendor as <n>-2; ShipStation imports it from the export.
        async def rerouted() -> ImportedOrder | None:
            await shipstation.refresh()
            return shipstation.by_number(f"{number}-2")

        imported = await wait_until(rerouted)
        assert imported.status == "awaiting_shipment"
        items = [
            (item.findtext("SKU"), item.findtext("Quantity"))
            for item in imported.element.iter("Item")
            if item.findtext("Adjustment") != "true"  # the discount's share travels as an adjustment item
        ]
        assert items == [(gadget, "1")]
        assert shipstation.by_number(f"{number}-1") is None  # the third party's vendor order is not ShipStation's

        # That first export was the warehouse's acknowledgement.
        async def acknowledged_by_export() -> dict[str, Any] | None:
            view = await api.ok("GET", "splitter", f"/v1/orders/{order_id}/routing")
            second = next(v for v in view["vendor_orders"] if v["vendor_order_number"] == f"{number}-2")
            return second if second["acknowledged_at"] else None

        second = await wait_until(acknowledged_by_export)
        assert second["vendor"] == warehouse
        assert second["vendor_order_id"] == imported.order_id

        await shipstation.ship(imported.order_id, carrier="UPS", tracking_number="1ZREROUTE0001")
        complete = await wait_until(lambda: _nth(receiver, 1))
        assert receiver.verify(complete)
        assert (complete.json["order_id"], complete.json["status"]) == (order_id, "shipped")
        assert complete.json["shipment"]["vendor"] == warehouse
        assert complete.json["shipment"]["tracking_number"] == "1ZREROUTE0001"
        assert complete.json["shipment"]["lines"] == [{"line_id": "L2", "sku": gadget, "quantity": 1}]

        view = await api.ok("GET", "intake", f"/v1/orders/{order_id}", token=key)
        assert view["status"] == "shipped"
        assert sorted(s["tracking_number"] for s in view["shipments"]) == ["1ZREROUTE0001", "794600000001"]

        # The routing view: both vendors tried for the gadget, each decision with its reason.
        routing = await api.ok("GET", "splitter", f"/v1/orders/{order_id}/routing")
        assert routing["tried"] == {"L2": [thirdparty]}
        decisions = [(d["kind"], d["line_id"], d["vendor"]) for d in routing["decisions"]]
        assert decisions == [
            ("routed", "L1", thirdparty),
            ("routed", "L2", thirdparty),
            ("rerouted", "L2", warehouse),
        ]
        reroute = routing["decisions"][-1]
        assert f"rejected by {thirdparty}: discontinued" in reroute["reason"]
        assert warehouse in reroute["reason"]
        kinds = [entry["kind"] for entry in routing["history"]]
        assert kinds.index("acknowledged") < kinds.index("rerouted")
        by_number = {v["vendor_order_number"]: v for v in routing["vendor_orders"]}
        assert set(by_number) == {f"{number}-1", f"{number}-2"}
        lines_first = {line["line_id"]: line for line in by_number[f"{number}-1"]["lines"]}
        assert (lines_first["L1"]["accepted"], lines_first["L1"]["shipped"]) == (2, 2)
        assert (lines_first["L2"]["rejected"], lines_first["L2"]["withdrawn"], lines_first["L2"]["shipped"]) == (
            1,
            1,
            0,
        )
        assert by_number[f"{number}-1"]["status"] == "shipped"  # everything that stayed on it shipped
        assert by_number[f"{number}-2"]["status"] == "shipped"
        assert [(line["line_id"], line["shipped"]) for line in by_number[f"{number}-2"]["lines"]] == [("L2", 1)]
        assert not any(v["shipped_after_cancel"] for v in routing["vendor_orders"])

        # The third party was never told to cancel the whole vendor order, only to drop the gadget.
        assert adapter.messages("vendor_order.cancelled") == []
        assert len(adapter.messages("vendor_order.lines_cancelled")) == 1
        assert len(receiver.deliveries) == 2
    finally:
        if adapter is not None:
            await adapter.close()
        await receiver.stop()


async def _first(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    return messages[0] if messages else None


async def _nth(receiver: ChannelReceiver, index: int) -> Delivery | None:
    return receiver.deliveries[index] if len(receiver.deliveries) > index else None
