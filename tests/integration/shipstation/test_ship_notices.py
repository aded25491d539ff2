"""Shipment notices (``POST ?action=shipnotify``) through the adapter into ``shipment.reported`` and the
tracking service: lookup, item matching, partial and repeated notices, hostile or oversized bodies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.shipstation.shipnotice import MAX_NOTICE_BYTES
from tests.conftest import RunningSystem
from tests.integration.shipstation.support import (
    Merchant,
    channel_order,
    new_merchant,
    post_order,
    received_by_adapter,
    standin,
    vendor_order_of,
)
from tests.shipstation_standin import ShippedItem, ShipStationStandIn
from tests.support import unique, wait_until


@dataclass
class Shipping:
    system: RunningSystem
    merchant: Merchant
    shipstation: ShipStationStandIn
    second_sku: str

    async def order(self) -> tuple[str, str]:
        """An order of two of the merchant's SKU (L1) and one of the second SKU (L2), imported by
        ShipStation: answers (order id, vendor order id)."""
        payload = channel_order(
            self.merchant,
            lines=[
                {"line_id": "L1", "sku": self.merchant.sku, "name": "Mug", "quantity": 2, "unit_price": "12.00"},
                {"line_id": "L2", "sku": self.second_sku, "name": "Plate", "quantity": 1, "unit_price": "9.00"},
            ],
        )
        order = await post_order(self.system, self.merchant, payload)
        vendor_order_id = str((await vendor_order_of(self.system, order["id"]))["vendor_order_id"])

        async def imported() -> bool:
            await self.shipstation.refresh()
            return vendor_order_id in self.shipstation.orders

        await wait_until(imported)
        return str(order["id"]), vendor_order_id

    async def shipments(self, order_id: str, count: int, status: str | None = None) -> dict[str, Any]:
        """Tracking's view once it has applied ``count`` shipments (and shows ``status``: the view reads
        the order and its shipments in two queries, so one may be a moment ahead of the other)."""

        async def applied() -> dict[str, Any] | None:
            answer, view = await self.system.api.call("GET", "tracking", f"/v1/orders/{order_id}/shipments")
            if answer != 200 or len([s for s in view["shipments"] if s["applied"]]) < count:
                return None
            return dict(view) if status is None or view["status"] == status else None

        return await wait_until(applied)

    async def polls(self) -> list[dict[str, Any]]:
        answer = await self.system.api.ok("GET", "shipstation", f"/v1/shipstation/{self.merchant.vendor}/polls")
        return list(answer["polls"])

    async def problems(self) -> list[dict[str, Any]]:
        answer = await self.system.api.ok("GET", "shipstation", f"/v1/shipstation/{self.merchant.vendor}/problems")
        return list(answer["problems"])


@pytest.fixture(scope="module")
async def shipping(system: RunningSystem) -> AsyncIterator[Shipping]:
    merchant = await new_merchant(system, settings={"timezone": "America/Chicago"})
    second_sku = unique("SKU2-")
    await system.api.ok("PUT", "splitter", f"/v1/catalog/{second_sku}", {"sources": [{"vendor": merchant.vendor}]})
    yield Shipping(system, merchant, standin(system, merchant, zone=ZoneInfo("America/Chicago")), second_sku)


async def test_a_notice_carries_every_shipment_field_into_shipment_reported(shipping: Shipping) -> None:
    order_id, vendor_order_id = await shipping.order()
    label_created = datetime(2026, 11, 27, 20, 5, tzinfo=UTC)  # 14:05 in Chicago, the vendor's zone

    await shipping.shipstation.ship(
        vendor_order_id,
        carrier="FedEx",
        service="FedEx Home Delivery®",
        tracking_number="7489 1234 5678",
        ship_date=date(2026, 11, 27),
        label_created_at=label_created,
        shipping_cost=Decimal("11.37"),
        notes_to_customer="Packed with care & love",
        notify_customer=False,
    )

    [shipment] = (await shipping.shipments(order_id, 1))["shipments"]
    assert {key: shipment[key] for key in shipment if key not in {"shipment_id", "reported_at", "applied"}} == {
        "vendor": shipping.merchant.vendor,
        "vendor_order_id": vendor_order_id,
        "vendor_order_number": shipping.shipstation.orders[vendor_order_id].order_number,
        "order_id": order_id,
        "carrier": "FedEx",
        "service": "FedEx Home Delivery®",  # from the XML: ShipStation's query ``service`` is empty
        "tracking_number": "7489 1234 5678",
        "ship_date": "2026-11-27",
        "label_created_at": "2026-11-27T20:05:00Z",
        "shipping_cost": "11.37",
        "notes_to_buyer": "Packed with care & love",
        "notify_customer": False,
        "lines": [
            {"line_id": "L1", "sku": shipping.merchant.sku, "quantity": 2},
            {"line_id": "L2", "sku": shipping.second_sku, "quantity": 1},
        ],
    }


async def test_partial_shipments_several_packages_and_duplicates(shipping: Shipping) -> None:
    order_id, vendor_order_id = await shipping.order()
    ship = shipping.shipstation.ship

    # Package 1: one of the two mugs, by LineItemID; ShipStation sends the notice three times.
    await ship(vendor_order_id, items=[ShippedItem(shipping.merchant.sku, 1, "L1")], tracking_number="PKG-1", times=3)
    # Package 2: the plate, whose LineItemID ShipStation lost: matched by SKU.
    await ship(vendor_order_id, items=[ShippedItem(shipping.second_sku, 1, "ln-unknown")], tracking_number="PKG-2")
    await shipping.shipments(order_id, 2, "partially_shipped")
    # Package 3 lists no items: everything not yet shipped, i.e. the second mug.
    await ship(vendor_order_id, items=None, tracking_number="PKG-3", times=2)

    view = await shipping.shipments(order_id, 3, "shipped")
    assert [(line["line_id"], line["ordered"], line["shipped"]) for line in view["lines"]] == [
        ("L1", 2, 2),
        ("L2", 1, 1),
    ]
    assert [(s["tracking_number"], s["lines"]) for s in view["shipments"]] == [
        ("PKG-1", [{"line_id": "L1", "sku": shipping.merchant.sku, "quantity": 1}]),
        ("PKG-2", [{"line_id": "L2", "sku": shipping.second_sku, "quantity": 1}]),
        ("PKG-3", [{"line_id": "L1", "sku": shipping.merchant.sku, "quantity": 1}]),
    ]
    stored = await received_by_adapter(shipping.system, vendor_order_id)
    assert (stored.state, stored.shipped) == ("shipped", {"L1": 2, "L2": 1})
    outcomes = [p["outcome"] for p in await shipping.polls() if p["action"] == "shipnotify" and "PKG-" in p["detail"]]
    assert sorted(outcomes) == ["accepted"] * 3 + ["duplicate"] * 3


async def test_lookup_by_order_id_then_order_number(shipping: Shipping) -> None:
    order_id, vendor_order_id = await shipping.order()
    number = shipping.shipstation.orders[vendor_order_id].order_number

    # A stale OrderID falls back to the number (query and XML).
    body = (
        f"<ShipNotice><OrderID>vo_gone</OrderID><OrderNumber>{number}</OrderNumber><TrackingNumber>BYNUM</TrackingNumber>"
        f"<Items><Item><SKU>{shipping.merchant.sku}</SKU><Quantity>1</Quantity></Item></Items></ShipNotice>"
    ).encode()
    assert (await shipping.shipstation.post_notice(body, {"order_number": number}))[0] == 200
    # The OrderID alone is enough.
    body = (
        f"<ShipNotice><OrderID>{vendor_order_id}</OrderID><TrackingNumber>BYID</TrackingNumber>"
        f"<Items><Item><SKU>{shipping.second_sku}</SKU><Quantity>1</Quantity></Item></Items></ShipNotice>"
    ).encode()
    assert (await shipping.shipstation.post_notice(body, {}))[0] == 200

    view = await shipping.shipments(order_id, 2)
    assert [s["tracking_number"] for s in view["shipments"]] == ["BYNUM", "BYID"]


async def test_an_empty_body_is_a_notice_from_the_query(shipping: Shipping) -> None:
    order_id, vendor_order_id = await shipping.order()
    number = shipping.shipstation.orders[vendor_order_id].order_number

    status, _ = await shipping.shipstation.post_notice(
        b"", {"order_number": number, "carrier": "USPS", "service": "Priority Mail", "tracking_number": "9400 1"}
    )

    assert status == 200
    [shipment] = (await shipping.shipments(order_id, 1))["shipments"]
    assert (shipment["carrier"], shipment["service"], shipment["tracking_number"]) == (
        "USPS",
        "Priority Mail",
        "9400 1",
    )
    assert [line["quantity"] for line in shipment["lines"]] == [2, 1]


async def test_a_notice_for_an_unknown_order_is_answered_200_and_recorded(shipping: Shipping) -> None:
    number = unique("GHOST-")
    body = f"<ShipNotice><OrderNumber>{number}</OrderNumber><TrackingNumber>X</TrackingNumber></ShipNotice>".encode()

    for _ in range(2):
        status, _ = await shipping.shipstation.post_notice(body, {"order_number": number})
        assert status == 200

    [problem] = [p for p in await shipping.problems() if number in p["detail"]]
    assert (problem["kind"], problem["occurrences"]) == ("unknown_order", 2)


SECRET_FILE_LINE = "root:"
HOSTILE = [
    pytest.param(
        '<?xml version="1.0"?><!DOCTYPE n [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<ShipNotice><OrderNumber>&x;</OrderNumber></ShipNotice>",
        "DOCTYPE",
        id="external-entity",
    ),
    pytest.param(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
        "<ShipNotice><OrderNumber>&lol2;</OrderNumber></ShipNotice>",
        "DOCTYPE",
        id="entity-expansion",
    ),
    pytest.param("<!DOCTYPE ShipNotice><ShipNotice/>", "DOCTYPE", id="bare-doctype"),
    pytest.param("<ShipNotice><OrderNumber>1</OrderNumber>", "malformed", id="malformed"),
    pytest.param("<Orders/>", "expected <ShipNotice>", id="wrong-root"),
    pytest.param(
        "<ShipNotice><OrderNumber>1</OrderNumber><ShippingCost>lots</ShippingCost></ShipNotice>",
        "Shipping",
        id="bad-cost",
    ),
]


@pytest.mark.parametrize(("body", "reason"), HOSTILE)
async def test_hostile_or_broken_xml_is_refused_with_400_and_never_expanded(
    shipping: Shipping, body: str, reason: str
) -> None:
    status, text = await shipping.shipstation.post_notice(body.encode(), {"order_number": "1"})

    assert status == 400
    assert reason in text
    assert SECRET_FILE_LINE not in text and "lollol" not in text


def notice_of_size(order_number: str, size: int) -> bytes:
    head = f"<ShipNotice><OrderNumber>{order_number}</OrderNumber><TrackingNumber>BIG</TrackingNumber><InternalNotes>"
    tail = "</InternalNotes></ShipNotice>"
    return (head + "n" * (size - len(head) - len(tail)) + tail).encode()


async def chunks_of(body: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    """The body in chunks with a pause between them, as a slow network delivers it."""
    for start in range(0, len(body), size):
        yield body[start : start + size]
        await asyncio.sleep(0.005)


async def test_oversized_bodies_get_413_with_or_without_a_content_length(shipping: Shipping) -> None:
    oversized = notice_of_size("1", MAX_NOTICE_BYTES + 1)
    assert (await shipping.shipstation.post_notice(oversized, {}))[0] == 413

    query, headers = shipping.shipstation.with_credentials({"action": "shipnotify"})
    async with shipping.system.api.session.post(
        shipping.shipstation.url, params=query, data=chunks_of(oversized), headers=headers
    ) as response:
        assert response.request_info.headers.get("Transfer-Encoding") == "chunked"
        assert response.status == 413


async def test_a_large_notice_within_the_limit_arriving_in_pieces_is_read_whole(shipping: Shipping) -> None:
    order_id, vendor_order_id = await shipping.order()
    number = shipping.shipstation.orders[vendor_order_id].order_number
    body = notice_of_size(number, MAX_NOTICE_BYTES - 10)

    query, headers = shipping.shipstation.with_credentials({"action": "shipnotify"})
    async with shipping.system.api.session.post(
        shipping.shipstation.url, params=query, data=chunks_of(body), headers=headers
    ) as response:
        assert response.status == 200, await response.text()

    [shipment] = (await shipping.shipments(order_id, 1))["shipments"]
    assert shipment["tracking_number"] == "BIG"
