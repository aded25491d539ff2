"""``order.ship_to_changed`` (the ``splitter.orders`` queue): the order ships to another address now.

Every vendor order with units left to ship is sent ``vendor_order.ship_to_changed.<vendor>``; one that
shipped everything is told nothing, and the routing history says so for each. The stored order takes
the new address, so held lines and vendor orders made later (a release, a reroute) carry it; a held
order is looked at again, since its PO box hold and its lines' "no vendor for the country" depend on
the address.
"""

from __future__ import annotations

from services.splitter.routing.ship_to import ADDRESS_HOLD_CODES, address_summary, ship_to_plan
from services.splitter.store import orders as order_store
from services.splitter.store import ship_to as ship_to_store
from services.splitter.store import vendor_orders as vendor_order_store
from services.splitter.store.orders import HistoryEntry
from services.splitter.use_cases.holds import route_again
from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderShipToChanged
from shared.contracts.vendor_orders import VendorOrderShipToChanged, VendorOrderShipToChangedData
from shared.db import Connection
from shared.logging import get_logger
from shared.messaging.consumer import RetryLater

log = get_logger(__name__)


async def on_order_ship_to_changed(connection: Connection, event: OrderShipToChanged) -> None:
    data = event.data
    routed = await order_store.load(connection, data.order_id, lock=True)
    if routed is None:
        # Overtook its order.received (consumers apply batches side by side): once the order is routed.
        raise RetryLater(f"ship-to change for order {data.order_id}, not seen yet")
    if routed.state == "cancelled" or routed.order is None:
        log.info("ship-to change of a cancelled order: nothing to send", order_id=data.order_id)
        return
    if not await ship_to_store.take_if_newer(connection, data.order_id, data.changed_at):
        log.info("ship-to change older than the one applied, ignored", order_id=data.order_id)
        return
    if routed.order.ship_to == data.ship_to:
        return
    ship_to = data.ship_to
    where = address_summary(ship_to.city, ship_to.state, ship_to.postal_code, ship_to.country)
    routed.order = routed.order.model_copy(update={"ship_to": ship_to})
    plan = ship_to_plan([tracked.state for tracked in await vendor_order_store.of_order(connection, data.order_id)])
    events: list[Envelope] = []
    history = [HistoryEntry("ship_to_changed", f"ship-to changed: now {where}")]
    for state in plan.tell:
        events.append(
            VendorOrderShipToChanged(
                correlation_id=data.order_id,
                causation_id=event.message_id,
                occurred_at=event.occurred_at,
                data=VendorOrderShipToChangedData(
                    vendor_order_id=state.id,
                    vendor_order_number=state.number,
                    vendor=state.vendor,
                    order_id=data.order_id,
                    ship_to=ship_to,
                    changed_at=data.changed_at,
                ),
            )
        )
        history.append(
            HistoryEntry(
                "ship_to_sent",
                f"vendor order {state.number}: the new ship-to sent to {state.vendor}",
                vendor=state.vendor,
                vendor_order_id=state.id,
            )
        )
    for state in plan.already_shipped:
        history.append(
            HistoryEntry(
                "ship_to_not_sent",
                f"vendor order {state.number} had shipped everything: the new ship-to not sent",
                vendor=state.vendor,
                vendor_order_id=state.id,
            )
        )
    await ship_to_store.readdress_vendor_orders(connection, [state.id for state in plan.tell], ship_to)
    await order_store.save(connection, routed, history=history, events=events, payload_changed=True)
    log.info(
        "ship-to changed",
        order_id=data.order_id,
        told=[state.id for state in plan.tell],
        already_shipped=[state.id for state in plan.already_shipped],
    )
    if routed.holds:
        # The new address may clear a hold or cause one: a held order's PO box check is made again, and
        # held lines are routed again for the new country.
        rechecked = ADDRESS_HOLD_CODES if routed.state == "held" else frozenset()
        await route_again(connection, routed, by="auto", causation_id=event.message_id, rechecked=rechecked)
