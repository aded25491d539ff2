"""The use case of ``POST /v1/orders/{id}/ship_to``: the channel changed where the order ships to.

The stored order takes the new address and ``order.ship_to_changed`` is written in the same
transaction; the splitter passes it on to every vendor order not shipped yet and routes a held order to
the new address. The same address again answers the order and announces nothing.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

import structlog

from services.intake.domain import AddressIn, Caller, OrderNotFound
from services.intake.ports import Database, OrderProgress, OutboxWritten
from services.intake.repository import StoredOrder
from services.intake.ship_to import history_cause, requested_address, ship_to_changes
from services.intake.use_cases import Answer, get_order_view, order_for
from shared.contracts.envelope import Envelope, utc_now
from shared.contracts.orders import Address, OrderShipToChanged, OrderShipToChangedData

log = structlog.get_logger()


class ShipToTables(Protocol):
    async def get_order(self, order_id: str, *, lock: bool = False) -> StoredOrder | None: ...

    async def set_ship_to_announced(self, order_id: str, ship_to: Address, cause: str, event: Envelope) -> None: ...


class ShipToDatabase(Database, Protocol):
    """Intake's database, whose transactions can also change an order's ship-to
    (:class:`services.intake.ship_to_repository.PostgresShipToDatabase`)."""

    def transaction(self) -> AbstractAsyncContextManager[ShipToTables]: ...  # type: ignore[override]


async def change_ship_to(
    db: ShipToDatabase,
    progress: OrderProgress,
    order_id: str,
    caller: Caller,
    request: AddressIn,
    *,
    outbox_written: OutboxWritten,
) -> Answer:
    """Store the order's new ship-to and announce it; the same address again changes nothing. Raises
    :class:`~services.intake.ship_to.ShipToClosed` once nothing is left to ship."""
    await order_for(db.tables, order_id, caller)
    address = requested_address(request)
    async with db.transaction() as tables:
        order = await tables.get_order(order_id, lock=True)
        if order is None:  # pragma: no cover - orders are never deleted
            raise OrderNotFound(order_id)
        changed = ship_to_changes(order.status, order.payload.get("ship_to"), address)
        if changed:
            event = OrderShipToChanged(
                correlation_id=order_id,
                data=OrderShipToChangedData(order_id=order_id, ship_to=address, changed_at=utc_now()),
            )
            await tables.set_ship_to_announced(order_id, address, history_cause(address), event)
    if changed:
        outbox_written()
        log.info("ship-to changed", country=address.country)
    return Answer(await get_order_view(db, progress, order_id, caller), changed=changed)
