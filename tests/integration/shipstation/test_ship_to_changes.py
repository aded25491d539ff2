"""``vendor_order.ship_to_changed.<vendor>`` on a ShipStation vendor's queue: the adapter gives its stored
vendor order the new address and bumps LastModified, so ShipStation's next refresh (which asks for the
orders modified since the last one) brings the order again with the new ShipTo, valid against the
project's schema. A shipped or cancelled vendor order keeps its address; an older change arriving late
is not applied over a newer one; a change that overtakes its vendor order waits for it."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from lxml import etree

from services.shipstation.use_cases import vendor_orders as adapter
from shared.contracts.envelope import Envelope, utc_now
from shared.contracts.orders import Address
from shared.contracts.vendor_orders import (
    VendorOrderCancelled,
    VendorOrderCancelledData,
    VendorOrderCreated,
    VendorOrderCreatedData,
    VendorOrderShipToChanged,
    VendorOrderShipToChangedData,
)
from shared.messaging.inbox import apply_once
from tests.conftest import RunningSystem
from tests.integration.shipstation.support import (
    deliver_vendor_orders,
    new_merchant,
    received_by_adapter,
    standin,
    vendor_order_data,
)
from tests.support import publish_as_producer, unique, wait_until

MOVED = Address(
    name="Jo Müller", address1="9 Other Street", address2="Apt 3", city="Springfield", state="IL",
    postal_code="62704", country="US",
)  # fmt: skip


def ship_to_change(
    order: VendorOrderCreatedData, address: Address, *, hours_ago: float = 0
) -> VendorOrderShipToChanged:
    return VendorOrderShipToChanged(
        correlation_id=order.order_id,
        data=VendorOrderShipToChangedData(
            vendor_order_id=order.vendor_order_id, vendor_order_number=order.vendor_order_number,
            vendor=order.vendor, order_id=order.order_id, ship_to=address,
            changed_at=utc_now() - timedelta(hours=hours_ago),
        ),
    )  # fmt: skip


async def publish(system: RunningSystem, event: Envelope) -> None:
    await publish_as_producer(system.shipstation.amqp, system.shipstation.topology, event)


async def applied(system: RunningSystem, event: Envelope) -> bool:
    found = await system.shipstation.pool.fetchval("SELECT 1 FROM inbox WHERE message_id = $1", event.message_id)
    return found is not None


def ship_to_of(order: etree._Element) -> dict[str, str]:
    ship_to = order.find("Customer/ShipTo")
    assert ship_to is not None
    return {child.tag: child.text or "" for child in ship_to}


async def test_the_next_refresh_brings_the_new_ship_to_with_a_later_last_modified(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    order = vendor_order_data(merchant, unique("S") + "-1")
    await deliver_vendor_orders(system, [order], last_modified=utc_now() - timedelta(minutes=30))
    shipstation = standin(system, merchant)
    first = await shipstation.refresh()
    assert order.vendor_order_id in first.order_ids
    before = shipstation.orders[order.vendor_order_id]
    assert ship_to_of(before.element)["Address1"] != "9 Other Street"

    change = ship_to_change(order, MOVED)
    await publish(system, change)  # through the vendor's queue and the adapter's consumer
    await wait_until(partial(applied, system, change))
    again = await shipstation.refresh()  # only what was modified since the last refresh

    assert again.order_ids == [order.vendor_order_id]
    after = shipstation.orders[order.vendor_order_id]
    shown = ship_to_of(after.element)
    assert (shown["Name"], shown["Address1"], shown["Address2"]) == ("Jo Müller", "9 Other Street", "Apt 3")
    assert (shown["City"], shown["State"], shown["PostalCode"], shown["Country"]) == (
        "Springfield", "IL", "62704", "US")  # fmt: skip
    assert after.last_modified > before.last_modified
    assert after.imports == 2
    stored = await received_by_adapter(system, order.vendor_order_id)
    assert stored.payload["ship_to"]["address1"] == "9 Other Street"
    assert stored.payload["lines"] == order.model_dump(mode="json")["lines"]  # nothing else changed


async def test_an_older_change_is_not_applied_over_a_newer_one(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    order = vendor_order_data(merchant, unique("S") + "-1")
    await deliver_vendor_orders(system, [order])
    newer, older = (
        ship_to_change(order, MOVED),
        ship_to_change(order, MOVED.model_copy(update={"address1": "1 Old Road"}), hours_ago=1),
    )

    for event in (newer, older):
        await apply_once(
            system.shipstation.pool, "tests", event, partial(adapter.change_vendor_order_ship_to, event=event)
        )

    stored = await received_by_adapter(system, order.vendor_order_id)
    assert stored.payload["ship_to"]["address1"] == "9 Other Street"


async def test_a_cancelled_vendor_order_keeps_its_address(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    order = vendor_order_data(merchant, unique("S") + "-1")
    await deliver_vendor_orders(system, [order])
    cancelled = VendorOrderCancelled(
        correlation_id=order.order_id,
        data=VendorOrderCancelledData(
            vendor_order_id=order.vendor_order_id, vendor_order_number=order.vendor_order_number,
            vendor=order.vendor, order_id=order.order_id, cancelled_at=utc_now(),
        ),
    )  # fmt: skip
    await apply_once(system.shipstation.pool, "tests", cancelled, partial(adapter.cancel_vendor_order, event=cancelled))
    modified = (await received_by_adapter(system, order.vendor_order_id)).last_modified

    change = ship_to_change(order, MOVED)
    await apply_once(
        system.shipstation.pool, "tests", change, partial(adapter.change_vendor_order_ship_to, event=change)
    )

    stored = await received_by_adapter(system, order.vendor_order_id)
    assert stored.payload["ship_to"]["address1"] != "9 Other Street" and stored.last_modified == modified


async def test_a_change_that_overtakes_its_vendor_order_is_applied_once_the_order_arrives(
    system: RunningSystem,
) -> None:
    merchant = await new_merchant(system)
    order = vendor_order_data(merchant, unique("S") + "-1")

    await publish(system, ship_to_change(order, MOVED))
    await publish(system, VendorOrderCreated(correlation_id=order.order_id, data=order))

    async def readdressed() -> bool:
        row = await system.shipstation.pool.fetchval(
            "SELECT payload -> 'ship_to' ->> 'address1' FROM vendor_orders WHERE id = $1", order.vendor_order_id
        )
        return bool(row == "9 Other Street")

    await wait_until(readdressed, timeout=30)
