"""What the ShipStation integration tests share: a merchant set up through the admin API (channel,
ShipStation vendor, catalog, credentials), channel orders, the stand-in connected to the adapter,
and direct access to the adapter's tables where a test must place orders in time."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from services.shipstation import repository
from services.shipstation.use_cases import vendor_orders as adapter
from shared.contracts.vendor_orders import (
    VendorOrderCancelled,
    VendorOrderCancelledData,
    VendorOrderCreated,
    VendorOrderCreatedData,
)
from shared.messaging.inbox import apply_once
from tests.conftest import RunningSystem
from tests.shipstation_standin import ShipStationStandIn
from tests.support import unique, wait_until
from tests.unit.shipstation.support import minimal_order_fields, set_path


@dataclass
class Merchant:
    channel: str
    api_key: str
    vendor: str
    sku: str
    credentials: dict[str, Any]
    webhook_secret: str

    @property
    def store_url(self) -> str:
        return str(self.credentials["url"])


async def new_merchant(
    system: RunningSystem, *, settings: dict[str, Any] | None = None, webhook_url: str | None = None
) -> Merchant:
    """A channel, a ShipStation vendor with credentials (after ``settings``), and one SKU routed to it."""
    api = system.api
    channel, vendor, sku = unique("shop-"), unique("ss-"), unique("SKU-")
    channel_body: dict[str, Any] = {"name": "Shop"}
    if webhook_url is not None:
        channel_body["webhook_url"] = webhook_url
    created = await api.ok("PUT", "intake", f"/v1/channels/{channel}", channel_body)
    await api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", {"name": "Warehouse", "kind": "shipstation"})
    if settings:
        await api.ok("PUT", "shipstation", f"/v1/shipstation/{vendor}/settings", settings)
    credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{vendor}/credentials")
    # The adapter answers with the Host it was reached on; ShipStation uses that URL.
    credentials["url"] = f"{system.url('shipstation')}/shipstation/{vendor}"
    await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": vendor, "priority": 1}]})
    return Merchant(channel, created["api_key"], vendor, sku, credentials, created["webhook_secret"])


def standin(system: RunningSystem, merchant: Merchant, **options: Any) -> ShipStationStandIn:
    return ShipStationStandIn.connected(system.api.session, merchant.credentials, **options)


def channel_order(merchant: Merchant, **fields: Any) -> dict[str, Any]:
    """A channel order with only the required fields, one line of the merchant's SKU, plus ``fields``."""
    external_id = unique("ext-")
    payload: dict[str, Any] = {
        "channel": merchant.channel,
        "external_id": external_id,
        "order_number": unique("N"),
        "ordered_at": "2026-11-26T23:41:00-06:00",
        "currency": "USD",
        "ship_to": {
            "name": "Ana Lima",
            # Each order its own purchase: the splitter holds one that repeats a recent order's
            # customer, ship-to and lines as a suspected duplicate.
            "address1": f"2 Side St {unique('#')}",
            "city": "Austin",
            "state": "TX",
            "postal_code": "73301",
            "country": "US",
        },
        "lines": [{"line_id": "L1", "sku": merchant.sku, "name": "Mug, blue", "quantity": 1, "unit_price": "12.00"}],
    }
    for path, value in fields.items():
        payload = set_path(payload, path.replace("__", "."), copy.deepcopy(value))
    return payload


async def post_order(system: RunningSystem, merchant: Merchant, payload: dict[str, Any]) -> dict[str, Any]:
    status, order = await system.api.call("POST", "intake", "/v1/orders", payload, token=merchant.api_key)
    assert status == 201, order
    return dict(order)


async def vendor_order_of(system: RunningSystem, order_id: str) -> dict[str, Any]:
    """The order's (single) vendor order, once the splitter has routed it."""

    async def routed() -> dict[str, Any] | None:
        status, body = await system.api.call("GET", "splitter", f"/v1/orders/{order_id}/routing")
        if status == 200 and body["state"] == "routed" and body["vendor_orders"]:
            return dict(body["vendor_orders"][0])
        return None

    return await wait_until(routed)


async def received_by_adapter(system: RunningSystem, vendor_order_id: str) -> repository.StoredVendorOrder:
    """The vendor order as the adapter stored it, once its consumer has applied the event."""
    return await wait_until(lambda: _stored(system, vendor_order_id))


async def _stored(system: RunningSystem, vendor_order_id: str) -> repository.StoredVendorOrder | None:
    row = await system.shipstation.pool.fetchrow("SELECT vendor FROM vendor_orders WHERE id = $1", vendor_order_id)
    if row is None:
        return None
    async with system.shipstation.pool.acquire() as connection:
        return await repository.find_vendor_order(connection, row["vendor"], vendor_order_id, None)


def vendor_order_data(merchant: Merchant, number: str, **changes: Any) -> VendorOrderCreatedData:
    """A vendor order for the merchant's vendor, as the splitter would publish it."""
    fields = minimal_order_fields()
    fields.update(
        vendor_order_id=f"vo_{uuid.uuid4().hex}",
        vendor_order_number=number,
        vendor=merchant.vendor,
        channel=merchant.channel,
        order_id=unique("ord_"),
        external_id=unique("x"),
        order_number=number.rsplit("-", 1)[0],
    )
    fields["lines"][0]["sku"] = merchant.sku
    for path, value in changes.items():
        fields = set_path(fields, path.replace("__", "."), value)
    return VendorOrderCreatedData.model_validate(fields)


async def deliver_vendor_orders(
    system: RunningSystem, orders: list[VendorOrderCreatedData], *, last_modified: datetime | None = None
) -> None:
    """Apply ``vendor_order.created`` events as the adapter's consumer does, in one transaction; then,
    for tests that place orders in time, set when each was last modified."""
    pool = system.shipstation.pool
    async with pool.acquire() as connection, connection.transaction():
        for data in orders:
            await adapter.store_vendor_order(connection, VendorOrderCreated(correlation_id=data.order_id, data=data))
        if last_modified is not None:
            await connection.execute(
                "UPDATE vendor_orders SET last_modified = $2 WHERE id = ANY($1::text[])",
                [data.vendor_order_id for data in orders],
                last_modified,
            )


async def cancel_vendor_order(system: RunningSystem, data: VendorOrderCreatedData) -> None:
    """``vendor_order.cancelled`` through the consumer path (inbox included)."""
    event = VendorOrderCancelled(
        correlation_id=data.order_id,
        data=VendorOrderCancelledData(
            vendor_order_id=data.vendor_order_id,
            vendor_order_number=data.vendor_order_number,
            vendor=data.vendor,
            order_id=data.order_id,
            cancelled_at=datetime.now().astimezone(),
        ),
    )
    await apply_once(system.shipstation.pool, "tests", event, lambda c: adapter.cancel_vendor_order(c, event))


async def metric(system: RunningSystem, name: str, **labels: str) -> float:
    """A sample of the adapter's /metrics (0 when it was never counted)."""
    async with system.api.session.get(f"{system.url('shipstation')}/metrics") as response:
        text = await response.text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
