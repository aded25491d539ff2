"""The splitter's tables: vendors, catalog and sources, routing decisions and vendor orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.splitter.routing import LineDecision, RoutedState, Source, VendorOrderRef
from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderReceivedData
from shared.contracts.vendor_orders import VendorOrderCreatedData
from shared.contracts.vendors import VendorKind
from shared.db import Connection, Queryable, dumps
from shared.messaging.outbox import insert_events_sql, outbox_rows


@dataclass(frozen=True)
class Vendor:
    code: str
    name: str
    kind: VendorKind
    settings: dict[str, Any]


async def upsert_vendor(db: Queryable, vendor: Vendor) -> bool:
    created: bool = await db.fetchval(
        "INSERT INTO vendors (code, name, kind, settings) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind,"
        "   settings = excluded.settings, updated_at = now()"
        " RETURNING (xmax = 0)",
        vendor.code,
        vendor.name,
        vendor.kind,
        vendor.settings,
    )
    return created


async def get_vendor(db: Queryable, code: str) -> Vendor | None:
    row = await db.fetchrow("SELECT code, name, kind, settings FROM vendors WHERE code = $1", code)
    return Vendor(row["code"], row["name"], row["kind"], row["settings"]) if row else None


async def list_vendors(db: Queryable) -> list[Vendor]:
    rows = await db.fetch("SELECT code, name, kind, settings FROM vendors ORDER BY code")
    return [Vendor(r["code"], r["name"], r["kind"], r["settings"]) for r in rows]


async def existing_vendors(connection: Connection, codes: Sequence[str]) -> set[str]:
    rows = await connection.fetch("SELECT code FROM vendors WHERE code = ANY($1::text[])", list(codes))
    return {row["code"] for row in rows}


async def replace_catalog_entry(connection: Connection, sku: str, name: str | None, sources: Sequence[Source]) -> None:
    await connection.execute(
        "INSERT INTO catalog (sku, name) VALUES ($1, $2)"
        " ON CONFLICT (sku) DO UPDATE SET name = coalesce(excluded.name, catalog.name), updated_at = now()",
        sku,
        name,
    )
    await connection.execute("DELETE FROM sources WHERE sku = $1", sku)
    await connection.executemany(
        "INSERT INTO sources (sku, vendor, vendor_sku, cost, stock, priority) VALUES ($1, $2, $3, $4, $5, $6)",
        [(sku, s.vendor, s.vendor_sku, s.cost, s.stock, s.priority) for s in sources],
    )


async def get_catalog_entry(db: Queryable, sku: str) -> dict[str, Any] | None:
    row = await db.fetchrow("SELECT sku, name, updated_at FROM catalog WHERE sku = $1", sku)
    if row is None:
        return None
    sources = await db.fetch(
        "SELECT vendor, vendor_sku, cost, stock, priority FROM sources WHERE sku = $1 ORDER BY priority, vendor", sku
    )
    return {**dict(row), "sources": [dict(s) for s in sources]}


async def sources_for(connection: Connection, skus: Sequence[str]) -> dict[str, list[Source]]:
    rows = await connection.fetch(
        "SELECT sku, vendor, vendor_sku, cost, stock, priority FROM sources WHERE sku = ANY($1::text[])",
        list(skus),
    )
    found: dict[str, list[Source]] = {}
    for row in rows:
        found.setdefault(row["sku"], []).append(
            Source(row["vendor"], row["vendor_sku"], row["cost"], row["stock"], row["priority"])
        )
    return found


async def set_stock(connection: Connection, vendor: str, levels: Sequence[tuple[str, int]]) -> None:
    await connection.executemany(
        "UPDATE sources SET stock = $3 WHERE vendor = $1 AND sku = $2", [(vendor, sku, n) for sku, n in levels]
    )


async def routed_order_state(connection: Connection, order_id: str, *, lock: bool = False) -> RoutedState | None:
    sql = "SELECT state FROM routed_orders WHERE order_id = $1" + (" FOR UPDATE" if lock else "")  # noqa: S608
    state: RoutedState | None = await connection.fetchval(sql, order_id)
    return state


SAVE_ROUTING_SQL = f"""
WITH routed AS (
    INSERT INTO routed_orders (order_id, order_number, state, hold_reason, payload) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (order_id) DO UPDATE SET state = excluded.state, hold_reason = excluded.hold_reason,
        payload = excluded.payload, updated_at = now()
), decided AS (
    INSERT INTO routing_decisions (order_id, line_id, sku, quantity, vendor, reason)
    SELECT $1, d.line_id, d.sku, d.quantity, d.vendor, d.reason
    FROM unnest($6::text[], $7::text[], $8::int[], $9::text[], $10::text[]) AS d(line_id, sku, quantity, vendor, reason)
), split AS (
    INSERT INTO vendor_orders (id, order_id, vendor, number, payload)
    SELECT v.id, $1, v.vendor, v.number, v.payload::jsonb
    FROM unnest($11::text[], $12::text[], $13::text[], $14::text[]) AS v(id, vendor, number, payload)
), announced AS ({insert_events_sql(15)})
SELECT 1
"""  # noqa: S608 - composed of constant SQL only


async def save_routing(
    connection: Connection,
    order: OrderReceivedData,
    state: RoutedState,
    hold_reason: str | None,
    decisions: Sequence[LineDecision],
    vendor_orders: Sequence[VendorOrderCreatedData] = (),
    events: Sequence[Envelope] = (),
    *,
    replace: bool = False,
) -> None:
    """Store the routing outcome, the vendor orders and the events announcing them in one statement.

    ``replace`` drops the decisions of an earlier routing first (a held order routed again).
    """
    if replace:
        await connection.execute("DELETE FROM routing_decisions WHERE order_id = $1", order.order_id)
    await connection.execute(
        SAVE_ROUTING_SQL,
        order.order_id,
        order.order_number,
        state,
        hold_reason,
        order.model_dump(mode="json"),
        [d.line_id for d in decisions],
        [d.sku for d in decisions],
        [d.quantity for d in decisions],
        [d.vendor for d in decisions],
        [d.reason for d in decisions],
        [v.vendor_order_id for v in vendor_orders],
        [v.vendor for v in vendor_orders],
        [v.vendor_order_number for v in vendor_orders],
        [dumps(v.model_dump(mode="json")) for v in vendor_orders],
        *outbox_rows(events),
    )


async def mark_cancelled_before_seen(connection: Connection, order_id: str) -> None:
    """A cancellation that overtook its order: remember it, so the late order is not routed."""
    await connection.execute(
        "INSERT INTO routed_orders (order_id, state) VALUES ($1, 'cancelled') ON CONFLICT (order_id) DO NOTHING",
        order_id,
    )


async def vendor_orders_of(connection: Connection, order_id: str) -> list[VendorOrderRef]:
    rows = await connection.fetch(
        "SELECT id, vendor, number, status FROM vendor_orders WHERE order_id = $1 ORDER BY number", order_id
    )
    return [VendorOrderRef(r["id"], r["vendor"], r["number"], r["status"]) for r in rows]


RECORD_CANCELLATION_SQL = f"""
WITH routed AS (
    UPDATE routed_orders SET state = 'cancelled', updated_at = now() WHERE order_id = $1
), withdrawn AS (
    UPDATE vendor_orders SET status = 'cancelled', cancelled_at = now() WHERE id = ANY($2::text[])
), announced AS ({insert_events_sql(3)})
SELECT 1
"""  # noqa: S608 - composed of constant SQL only


async def record_cancellation(
    connection: Connection, order_id: str, vendor_order_ids: Sequence[str], events: Sequence[Envelope]
) -> None:
    """Mark the order cancelled, withdraw ``vendor_order_ids`` and queue the events announcing it: one
    statement. Call with the order's row locked (:func:`routed_order_state` with ``lock``)."""
    await connection.execute(RECORD_CANCELLATION_SQL, order_id, list(vendor_order_ids), *outbox_rows(events))


async def held_orders_with_sku(connection: Connection, sku: str) -> list[OrderReceivedData]:
    rows = await connection.fetch(
        "SELECT payload FROM routed_orders WHERE state = 'held' AND payload -> 'lines' @> $1::jsonb"
        " ORDER BY created_at FOR UPDATE SKIP LOCKED",
        [{"sku": sku}],
    )
    return [OrderReceivedData.model_validate(row["payload"]) for row in rows]


async def routing_view(db: Queryable, order_id: str) -> dict[str, Any] | None:
    head = await db.fetchrow(
        "SELECT order_id, order_number, state, hold_reason, created_at, updated_at FROM routed_orders"
        " WHERE order_id = $1",
        order_id,
    )
    if head is None:
        return None
    decisions = await db.fetch(
        "SELECT line_id, sku, quantity, vendor, reason, decided_at FROM routing_decisions WHERE order_id = $1"
        " ORDER BY line_id",
        order_id,
    )
    vendor_orders = await db.fetch(
        "SELECT id, vendor, number, status, payload, created_at, cancelled_at FROM vendor_orders"
        " WHERE order_id = $1 ORDER BY number",
        order_id,
    )
    return {
        **dict(head),
        "decisions": [dict(d) for d in decisions],
        "vendor_orders": [
            {
                "vendor_order_id": v["id"],
                "vendor_order_number": v["number"],
                "vendor": v["vendor"],
                "status": v["status"],
                "created_at": v["created_at"],
                "cancelled_at": v["cancelled_at"],
                "tax_amount": v["payload"]["tax_amount"],
                "shipping_amount": v["payload"]["shipping_amount"],
                "discounts": v["payload"]["discounts"],
                "lines": [
                    {"line_id": li["line_id"], "sku": li["sku"], "quantity": li["quantity"]}
                    for li in v["payload"]["lines"]
                ],
            }
            for v in vendor_orders
        ],
    }
