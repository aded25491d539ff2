"""Shipments and stock out: ``order.status_changed`` with a shipment becomes a task to push to the
shop's platform (queued in the consumer's inbox transaction, pushed by the worker), and
``inventory.available`` becomes the level each shop should show (coalesced per SKU, pushed in batches).

Nothing is pushed twice: a shipment's task is keyed by its shipment id, what it became is recorded,
and the platform client reads the order's fulfillments (or notes) before it writes, so a worker that
died between the push and the record finds the push there and records it.
"""

from __future__ import annotations

from datetime import date

from services.channels.ports import PlatformError, PushedShipment, ShipmentPush, ShippedLine, StockPush
from services.channels.store import shipments as shipment_store
from services.channels.store import shops as shop_store
from services.channels.store import stock, tasks
from services.channels.store.tasks import DueTask, TaskResult
from services.channels.use_cases.context import ChannelsPorts, OpenShop
from services.channels.use_cases.retries import give_up_or_retry, retry_in
from shared.contracts.inventory import InventoryAvailable
from shared.contracts.orders import OrderStatusChanged
from shared.db import Connection
from shared.logging import get_logger

log = get_logger(__name__)

STOCK_BATCH = 250
"""Levels per platform call: Shopify's ``inventorySetQuantities`` takes 250; the Woo client splits by 100."""


async def order_status_changed(connection: Connection, event: OrderStatusChanged) -> None:
    """A shipment of a shop's order: owe the platform its fulfillment. Other channels' orders are not ours."""
    data = event.data
    if data.shipment is None:
        return
    shop = await shop_store.by_channel(connection, data.channel)
    if shop is None:
        return
    body = {
        "order_id": data.order_id,
        "order_number": data.order_number,
        "status": data.status,
        "shipment": data.shipment.model_dump(mode="json"),
    }
    # The lane is the platform's order id (intake's external_id): an order's shipments go in the order shipped.
    await tasks.add(connection, shop.code, "shipment", data.shipment.shipment_id, data.external_id, "shipment", body)


async def inventory_available(connection: Connection, event: InventoryAvailable) -> None:
    # A SKU whose stock is not tracked (no limit known) is left as the shop has it.
    levels = [level for level in event.data.levels if level.available is not None]
    if levels:
        await stock.want(connection, [level.sku for level in levels], [level.available or 0 for level in levels])


def shipment_push(task: DueTask, earlier: tuple[PushedShipment, ...], default_notify: bool) -> ShipmentPush:
    body = task.body
    shipment = body["shipment"]
    ship_date = shipment.get("ship_date")
    notify = shipment.get("notify_customer")
    return ShipmentPush(
        shipment_id=shipment["shipment_id"],
        platform_order_id=task.lane,
        order_number=body["order_number"],
        vendor=shipment["vendor"],
        carrier=shipment.get("carrier"),
        service=shipment.get("service"),
        tracking_number=shipment.get("tracking_number"),
        ship_date=date.fromisoformat(ship_date) if ship_date else None,
        notify_customer=default_notify if notify is None else bool(notify),
        lines=tuple(
            ShippedLine(str(line["line_id"]), int(line["quantity"]))
            for line in shipment.get("lines", [])
            if int(line.get("quantity", 0)) > 0
        ),
        order_shipped=body["status"] == "shipped",
        earlier=earlier,
    )


async def push_shipment(ports: ChannelsPorts, shop: OpenShop, task: DueTask) -> TaskResult:
    earlier = tuple(await shipment_store.of_order(ports.pool, shop.code, task.lane))
    shipment_id = task.body["shipment"]["shipment_id"]
    if any(pushed.shipment_id == shipment_id for pushed in earlier):
        return TaskResult(task.seq, "done", "pushed before")
    push = shipment_push(task, earlier, bool(shop.stored.options.get("notify_customer", True)))
    try:
        outcome = await ports.platform(shop).push_shipment(push)
    except PlatformError as error:
        if not error.retryable:
            log.warning("platform refused a shipment", shop=shop.code, shipment_id=shipment_id, error=error.message)
            return TaskResult(task.seq, "failed", "refused by the platform", error.message)
        return give_up_or_retry(ports.settings, task, error.message, error.retry_after)
    await shipment_store.record(ports.pool, shop.code, task.lane, shipment_id, push.vendor, outcome)
    log.info("shipment pushed", shop=shop.code, shipment_id=shipment_id, remote_id=outcome.remote_id)
    return TaskResult(task.seq, "done", outcome.detail or f"pushed as {outcome.remote_id}")


async def push_stock_round(ports: ChannelsPorts, lease_seconds: float) -> int:
    """One batch of one shop's due levels; answers how many levels were handled."""
    claimed = await stock.claim(ports.pool, STOCK_BATCH, lease_seconds)
    if claimed is None:
        return 0
    code, levels = claimed
    try:
        shop = await ports.shop(code)
        outcome = await ports.platform(shop).set_stock([StockPush(level.sku, level.wanted) for level in levels])
    except PlatformError as error:
        attempts = max(level.attempts for level in levels)
        wait = retry_in(ports.settings, attempts, error.retry_after)
        await stock.failed(ports.pool, code, [level.sku for level in levels], error.message, wait)
        log.info("stock not set, will retry", shop=code, levels=len(levels), error=error.message, retry_in=round(wait))
        return len(levels)
    await stock.pushed(ports.pool, code, levels, outcome.unknown)
    ports.metrics.stock_pushed.labels(shop.kind.name).inc(len(outcome.updated))
    return len(levels)
