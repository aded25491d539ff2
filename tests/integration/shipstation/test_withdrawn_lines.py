"""``vendor_order.lines_cancelled.<vendor>``: part of a vendor order is withdrawn (a reroute, a partial
cancellation) and the rest stands. The next export shows only what stands, still valid against the
project's schema, with OrderTotal added up from what is left; with nothing left the vendor order shows
cancelled. The same units withdrawn twice never go below zero, and a withdrawal that overtakes its
vendor order waits for it."""

from __future__ import annotations

from lxml import etree

from services.shipstation import repository
from services.shipstation.use_cases import vendor_orders as adapter
from shared.contracts.envelope import Envelope
from shared.contracts.vendor_orders import (
    VendorOrderCreated,
    VendorOrderCreatedData,
    VendorOrderLinesCancelled,
    VendorOrderLinesCancelledData,
    WithdrawnLine,
)
from shared.messaging.inbox import apply_once
from tests.conftest import RunningSystem
from tests.integration.shipstation.support import (
    Merchant,
    deliver_vendor_orders,
    new_merchant,
    received_by_adapter,
    standin,
    vendor_order_data,
)
from tests.shipstation_standin import ShipStationStandIn
from tests.support import publish_as_producer, unique, wait_until


def three_mugs_and_a_cap(merchant: Merchant) -> VendorOrderCreatedData:
    return vendor_order_data(
        merchant,
        unique("W") + "-1",
        tax_amount="2.00",
        shipping_amount="4.00",
        lines=[
            {"line_id": "L1", "sku": merchant.sku, "name": "Mug", "quantity": 3, "unit_price": "9.50"},
            {"line_id": "L2", "sku": "CAP-1", "name": "Cap", "quantity": 1, "unit_price": "5.00"},
        ],
    )


def withdrawal(order: VendorOrderCreatedData, *lines: tuple[str, int]) -> VendorOrderLinesCancelled:
    return VendorOrderLinesCancelled(
        correlation_id=order.order_id,
        data=VendorOrderLinesCancelledData(
            vendor_order_id=order.vendor_order_id,
            vendor_order_number=order.vendor_order_number,
            vendor=order.vendor,
            order_id=order.order_id,
            lines=[WithdrawnLine(line_id=line_id, quantity=quantity) for line_id, quantity in lines],
            reason="rerouted to another vendor",
        ),
    )


async def withdraw(system: RunningSystem, event: VendorOrderLinesCancelled) -> None:
    """Through the consumer's path, inbox included."""
    await apply_once(system.shipstation.pool, "tests", event, lambda c: adapter.withdraw_vendor_order_lines(c, event))


async def exported(shipstation: ShipStationStandIn, vendor_order_id: str) -> etree._Element:
    """The order as the next refresh shows it (the stand-in validates every page against the schema)."""
    shipstation.last_refresh = None
    await shipstation.refresh()
    return shipstation.orders[vendor_order_id].element


def items(order: etree._Element) -> list[tuple[str, str]]:
    return [(item.findtext("LineItemID") or "", item.findtext("Quantity") or "") for item in order.iter("Item")]


async def test_the_export_shows_only_what_stands_with_its_total(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    order = three_mugs_and_a_cap(merchant)
    await deliver_vendor_orders(system, [order])
    shipstation = standin(system, merchant)
    before = await exported(shipstation, order.vendor_order_id)
    assert items(before) == [("L1", "3"), ("L2", "1")]
    assert before.findtext("OrderTotal") == "39.50"  # 28.50 + 5.00 + 2.00 + 4.00
    modified_before = (await received_by_adapter(system, order.vendor_order_id)).last_modified

    await withdraw(system, withdrawal(order, ("L1", 1), ("L2", 1)))
    after = await exported(shipstation, order.vendor_order_id)

    assert items(after) == [("L1", "2")]
    assert after.findtext("OrderTotal") == "25.00"  # 19.00 + 2.00 + 4.00
    assert after.findtext("OrderStatus") == "paid"
    # LastModified moves, so ShipStation's next refresh picks the change up.
    assert (await received_by_adapter(system, order.vendor_order_id)).last_modified > modified_before


async def test_the_same_units_withdrawn_again_never_go_below_zero(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    order = three_mugs_and_a_cap(merchant)
    await deliver_vendor_orders(system, [order])
    first = withdrawal(order, ("L1", 2))
    await withdraw(system, first)

    await withdraw(system, first)  # redelivered: the inbox skips it
    await withdraw(system, withdrawal(order, ("L1", 2)))  # another message for the same units: clamped

    stored = await received_by_adapter(system, order.vendor_order_id)
    assert (stored.withdrawn, stored.state) == ({"L1": 3}, "paid")
    assert items(await exported(standin(system, merchant), order.vendor_order_id)) == [("L2", "1")]


async def test_with_nothing_left_standing_the_vendor_order_shows_cancelled(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    order = three_mugs_and_a_cap(merchant)
    await deliver_vendor_orders(system, [order])
    shipstation = standin(system, merchant)
    await exported(shipstation, order.vendor_order_id)

    await withdraw(system, withdrawal(order, ("L1", 3), ("L2", 1)))
    shown = await exported(shipstation, order.vendor_order_id)

    assert shown.findtext("OrderStatus") == "cancelled"
    assert shipstation.orders[order.vendor_order_id].status == "cancelled"
    assert items(shown) == [("L1", "3"), ("L2", "1")]  # what was cancelled, as vendor_order.cancelled shows it


async def publish(system: RunningSystem, event: Envelope) -> None:
    await publish_as_producer(system.shipstation.amqp, system.shipstation.topology, event)


async def test_a_withdrawal_that_overtakes_its_vendor_order_is_applied_once_the_order_arrives(
    system: RunningSystem,
) -> None:
    merchant = await new_merchant(system)
    order = three_mugs_and_a_cap(merchant)

    await publish(system, withdrawal(order, ("L2", 1)))
    await publish(system, VendorOrderCreated(correlation_id=order.order_id, data=order))

    async def withdrawn() -> dict[str, int] | None:
        async with system.shipstation.pool.acquire() as connection:
            stored = await repository.lock_vendor_order(connection, order.vendor_order_id)
        return stored.withdrawn if stored is not None and stored.withdrawn else None

    assert await wait_until(withdrawn, timeout=30) == {"L2": 1}
    assert items(await exported(standin(system, merchant), order.vendor_order_id)) == [("L1", "3")]
