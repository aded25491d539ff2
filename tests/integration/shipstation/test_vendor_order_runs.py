"""A run of ``vendor_order.created`` in one inbox batch is stored in one statement, with the rows that
storing each event alone would give: every field as the single handler stores it, a vendor order
already stored left as it was, and one that comes twice in the run stored once, as it first came.

The use case is called directly on the adapter's database, so the run is exactly the one written
here (through the bus, how deliveries fall into batches depends on timing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.shipstation.use_cases import vendor_orders as adapter
from shared.contracts.vendor_orders import VendorOrderCreated, VendorOrderCreatedData
from tests.conftest import RunningSystem
from tests.integration.shipstation.support import new_merchant, vendor_order_data

COLUMNS = "vendor, order_id, number, state, payload, shipped, withdrawn, first_exported_at"


def _created(data: VendorOrderCreatedData) -> VendorOrderCreated:
    return VendorOrderCreated(correlation_id=data.order_id, data=data)


async def _rows(system: RunningSystem, orders: Sequence[VendorOrderCreatedData]) -> list[dict[str, Any]]:
    rows = await system.shipstation.pool.fetch(
        f"SELECT id, {COLUMNS} FROM vendor_orders WHERE id = ANY($1::text[])",  # noqa: S608 - constant columns
        [order.vendor_order_id for order in orders],
    )
    by_id = {row["id"]: dict(row) for row in rows}
    for columns in by_id.values():
        del columns["id"]
    return [by_id[order.vendor_order_id] for order in orders]


async def test_a_run_stores_what_each_event_alone_would(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    pool = system.shipstation.pool
    stored = {}
    for pass_number, apply in enumerate(("run", "run with the inbox", "alone")):
        orders = [vendor_order_data(merchant, f"R{pass_number}{index}-1") for index in range(4)]
        early, *rest = orders
        async with pool.acquire() as connection, connection.transaction():
            await adapter.store_vendor_order(connection, _created(early))
        await pool.execute("UPDATE vendor_orders SET state = 'cancelled' WHERE id = $1", early.vendor_order_id)
        # The same vendor order again under another message id, its number changed: the first stands.
        again = rest[0].model_copy(update={"vendor_order_number": "CHANGED-1"})
        events = [_created(order) for order in [*orders, again]]
        async with pool.acquire() as connection, connection.transaction():
            if apply == "run":
                await adapter.store_vendor_orders(connection, events)
            elif apply == "run with the inbox":
                fresh = await adapter.store_vendor_orders.apply_fresh(connection, "tests", events)
                assert fresh == {event.message_id for event in events}
            else:
                for event in events:
                    await adapter.store_vendor_order(connection, event)
        rows = await _rows(system, orders)
        for row, order in zip(rows, orders, strict=True):
            # What differs between the two passes by construction: the ids and numbers made for each.
            assert row.pop("order_id") == order.order_id
            assert row.pop("number") == order.vendor_order_number
            assert row["payload"].pop("vendor_order_number") == order.vendor_order_number
            for key in ("vendor_order_id", "order_id", "external_id", "order_number"):
                assert row["payload"].pop(key) == getattr(order, key)
        stored[apply] = rows
    assert stored["run"] == stored["run with the inbox"] == stored["alone"]
    assert [row["state"] for row in stored["run"]] == ["cancelled", *(order.status for order in orders[1:])]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM vendor_orders WHERE vendor = $1 AND number = 'CHANGED-1'", merchant.vendor
        )
        == 0
    )
