"""Tracking on the real database: a shipment reported while its order is being stored is applied,
whichever of the two transactions gets there first (each commits while the other is half done), with
the order stored alone or in a run of orders (what the inbox batches hand over under load); and a run
stores what storing each order alone would."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from services.tracking import repository
from services.tracking.use_cases import on_order_received, on_orders_received, on_shipment_reported
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


@pytest.mark.parametrize("in_a_run", [False, True], ids=["order alone", "order in a run"])
@pytest.mark.parametrize("first", ["order", "shipment"])
async def test_a_shipment_racing_its_order_is_applied_once_both_commit(
    system: RunningSystem, first: str, in_a_run: bool
) -> None:
    pool = system.tracking.pool
    order, shipment = _order_and_shipment()
    others = [_order_and_shipment()[0] for _ in range(2)]
    handlers: dict[str, Callable[[Any], Awaitable[object]]] = {
        "order": (
            (lambda connection: on_orders_received(connection, [others[0], order, others[1]]))
            if in_a_run
            else (lambda connection: on_order_received(connection, order))
        ),
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


async def _tracked(pool: asyncpg.Pool, order_id: str) -> tuple[Any, ...]:
    order = await repository.get_order(pool, order_id)
    assert order is not None
    rows = await pool.fetch(
        "SELECT line_id, sku, ordered, shipped FROM order_lines WHERE order_id = $1 ORDER BY line_id", order_id
    )
    return (order.channel, order.status, order.cancelled, [tuple(row) for row in rows])


async def test_a_run_of_orders_stores_and_applies_what_each_alone_would(system: RunningSystem) -> None:
    """Four orders, one of them twice (another message id, other lines: the first stands), one known
    already, one with its shipment waiting: the run and the orders one by one leave the same rows and
    announce the same statuses."""
    pool = system.tracking.pool
    outcomes = []
    for apply in ("run", "alone"):
        known, plain = _order_and_shipment()[0], _order_and_shipment()[0]
        waiting, shipment = _order_and_shipment()
        async with pool.acquire() as connection, connection.transaction():
            await on_order_received(connection, known)
            await on_shipment_reported(connection, shipment)
        again = OrderReceived(
            correlation_id=plain.data.order_id,
            data=plain.data.model_copy(update={"lines": plain.data.lines[:1]}),
        )
        events = [known, waiting, plain, again]
        async with pool.acquire() as connection, connection.transaction():
            if apply == "run":
                await on_orders_received(connection, events)
            else:
                for event in events:
                    await on_order_received(connection, event)
        tracked = [await _tracked(pool, event.data.order_id) for event in (known, waiting, plain)]
        announced = await pool.fetch(
            "SELECT correlation_id, convert_from(body, 'UTF8')::jsonb -> 'data' ->> 'status' AS status FROM outbox"
            " WHERE correlation_id = ANY($1::text[]) AND message_type = 'order.status_changed'",
            [event.data.order_id for event in events],
        )
        statuses = {row["correlation_id"]: row["status"] for row in announced}
        outcomes.append((tracked, [statuses.get(event.data.order_id) for event in (known, waiting, plain)]))
    assert outcomes[0] == outcomes[1]
    tracked, announced_statuses = outcomes[0]
    assert [len(lines) for *_, lines in tracked] == [2, 2, 2]
    assert announced_statuses == [None, "shipped", None]
    assert tracked[1][3] == [("1", "SKU-A", 2, 2), ("2", "SKU-B", 1, 1)]
