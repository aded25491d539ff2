"""Tracking on the real database: a shipment reported while its order is being stored is applied,
whichever of the two transactions gets there first (each commits while the other is half done)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from services.tracking import repository
from services.tracking.use_cases import on_order_received, on_shipment_reported
from shared.contracts.orders import OrderReceived
from shared.contracts.shipments import ShipmentLine, ShipmentReported, ShipmentReportedData
from tests.conftest import RunningSystem
from tests.unit.test_routing import make_line, make_order


def _order_and_shipment() -> tuple[OrderReceived, ShipmentReported]:
    order_id = f"ord_{uuid.uuid4().hex[:12]}"
    data = make_order([make_line("1", "SKU-A", 2), make_line("2", "SKU-B", 1)]).model_copy(
        update={"order_id": order_id, "external_id": order_id}
    )
    shipment = ShipmentReportedData(
        shipment_id=f"shp_{order_id}",
        vendor="acme",
        vendor_order_id=f"vo_{order_id}",
        vendor_order_number="1001-1",
        order_id=order_id,
        tracking_number="1Z999",
        lines=[ShipmentLine(line_id="1", sku="SKU-A", quantity=2), ShipmentLine(line_id="2", sku="SKU-B", quantity=1)],
    )
    return (
        OrderReceived(correlation_id=order_id, data=data),
        ShipmentReported(correlation_id=order_id, data=shipment),
    )


async def _shipped(pool: asyncpg.Pool, order_id: str) -> tuple[str | None, list[int]]:
    order = await repository.get_order(pool, order_id)
    progress = await repository.lines(pool, order_id)
    return (order.status if order else None), [line.shipped for line in progress]


@pytest.mark.parametrize("first", ["order", "shipment"])
async def test_a_shipment_racing_its_order_is_applied_once_both_commit(system: RunningSystem, first: str) -> None:
    pool = system.tracking.pool
    order, shipment = _order_and_shipment()
    handlers = {
        "order": lambda connection: on_order_received(connection, order),
        "shipment": lambda connection: on_shipment_reported(connection, shipment),
    }
    second = "shipment" if first == "order" else "order"
    async with pool.acquire() as early, pool.acquire() as late:
        early_transaction = early.transaction()
        await early_transaction.start()
        await handlers[first](early)  # done but not committed yet

        async def run_late() -> None:
            async with late.transaction():
                await handlers[second](late)

        racing = asyncio.create_task(run_late())
        await asyncio.sleep(0.3)  # the late one is now as far as it can get before the early commits
        await early_transaction.commit()
        await asyncio.wait_for(racing, timeout=10)
    assert await _shipped(pool, order.data.order_id) == ("shipped", [2, 1])
    outbox = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE correlation_id = $1 AND message_type = 'order.status_changed'",
        order.data.order_id,
    )
    assert outbox == 1
