"""One WooCommerce shop's REST API (v3) as the channels service uses it: the :class:`Platform` of ports.py.

Every write is preceded by a read, so a push retried after a crash finds what the first attempt did:
the order's notes (ours end with ``[shipment <id>]``), the Shipment Tracking items, the order's status.
The Shipment Tracking extension is looked for, not assumed: its route answers 200 when it is installed
and 404 ``rest_no_route`` when not; the answer is kept for the client's life.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import aiohttp
from cachetools import TTLCache

from services.channels.ports import (
    ChangedOrder,
    PlatformError,
    PlatformItem,
    PushOutcome,
    ShipmentPush,
    ShopConfig,
    StockOutcome,
    StockPush,
)
from services.channels.woocommerce.api import Answer, WooApi
from services.channels.woocommerce.orders import TOPICS
from services.channels.woocommerce.stock import items_found, latest_levels, lookup_groups, stock_batches
from services.channels.woocommerce.tracking import note_text, shipment_in_note, tracking_item

TRACKING_API = "/wp-json/wc-shipment-tracking/v3"
RECENT = timedelta(days=7)
ORDERS_PER_PAGE = 50
WEBHOOK_NAME = "Dropship Router {topic}"
COMPLETABLE = frozenset({"pending", "processing", "on-hold"})
"""An order in another status (cancelled, refunded, failed) is not marked completed by a shipment."""
MISSING_PRODUCT_CODES = frozenset(
    {"woocommerce_rest_product_invalid_id", "woocommerce_rest_product_variation_invalid_id"}
)
FOUND_TTL_SECONDS = 3600
MISSING_TTL_SECONDS = 300
"""A SKU the shop lacks is asked again sooner: the merchant may be adding the product right now."""


class WooClient:
    """:class:`~services.channels.ports.Platform` for one WooCommerce shop."""

    def __init__(self, shop: ShopConfig, session: aiohttp.ClientSession) -> None:
        self._shop = shop
        self._api = WooApi(shop, session)
        self._has_tracking: bool | None = None
        self._found: TTLCache[str, PlatformItem] = TTLCache(maxsize=20_000, ttl=FOUND_TTL_SECONDS)
        self._missing: TTLCache[str, bool] = TTLCache(maxsize=20_000, ttl=MISSING_TTL_SECONDS)

    async def close(self) -> None:
        """Nothing to release: the session belongs to the caller."""

    async def register_webhooks(self, callback_url: str) -> list[str]:
        secret = self._shop.secrets.get("webhook_secret", "")
        if not secret:
            raise PlatformError("the shop has no webhook secret to sign its webhooks with", retryable=False)
        existing = [hook async for hook in self._pages("/webhooks", {"per_page": "100"})]
        for topic in TOPICS:
            mine = [h for h in existing if h.get("topic") == topic and h.get("delivery_url") == callback_url]
            if any(h.get("status") == "active" for h in mine):
                continue
            if mine:
                # Woo disables a webhook after repeated failed deliveries; bring it back as it was meant.
                body = {"status": "active", "secret": secret}
                await self._api.call("PUT", f"/webhooks/{mine[0]['id']}", body=body)
                continue
            body = {
                "name": WEBHOOK_NAME.format(topic=topic),
                "topic": topic,
                "delivery_url": callback_url,
                "secret": secret,
                "status": "active",
            }
            await self._api.call("POST", "/webhooks", body=body)
        return list(TOPICS)

    async def orders_changed_since(self, since: datetime | None) -> AsyncIterator[ChangedOrder]:
        start = (since or datetime.now(UTC) - RECENT).astimezone(UTC)
        # Woo's modified_after is strictly after, to the second: one second back keeps "at or after".
        params = {
            "modified_after": (start - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": str(ORDERS_PER_PAGE),
        }
        async for order in self._pages("/orders", params):
            yield ChangedOrder(topic="order.updated", payload=order)

    async def push_shipment(self, push: ShipmentPush) -> PushOutcome:
        order_path = f"/orders/{push.platform_order_id}"
        done: list[str] = []
        tracked = await self._add_tracking(push)
        if tracked:
            done.append(tracked)
        notes = (await self._api.call("GET", f"{order_path}/notes")).body
        ours = [n for n in notes if isinstance(n, dict) and shipment_in_note(str(n.get("note"))) == push.shipment_id]
        if ours:
            note_id = str(ours[0]["id"])
            done.append(f"note {note_id} already there (found after a restart)")
        else:
            body = {"note": note_text(push), "customer_note": push.notify_customer}
            note_id = str((await self._api.call("POST", f"{order_path}/notes", body=body)).body["id"])
            done.append(f"note {note_id} added")
        if push.order_shipped:
            done.append(await self._complete(order_path))
        numbers = (push.tracking_number,) if push.tracking_number else ()
        return PushOutcome(remote_id=note_id, tracking_numbers=numbers, detail="; ".join(done))

    async def set_stock(self, levels: Sequence[StockPush]) -> StockOutcome:
        quantities = latest_levels(levels)
        items = await self._items(list(quantities))
        unknown = [sku for sku in quantities if sku not in items]
        updated: list[str] = []
        refused: list[str] = []
        for batch in stock_batches(items, quantities):
            answer = await self._api.call("POST", batch.path, body=batch.body)
            results = answer.body.get("update", []) if isinstance(answer.body, dict) else []
            for sku, result in zip(batch.skus, results, strict=False):
                error = result.get("error") if isinstance(result, dict) else None
                if not error:
                    updated.append(sku)
                elif error.get("code") in MISSING_PRODUCT_CODES:
                    self._found.pop(sku, None)  # deleted since we looked: looked for again next time
                    unknown.append(sku)
                else:
                    refused.append(f"{sku}: {error.get('code')}: {error.get('message')}")
        if refused:
            raise PlatformError(f"WooCommerce refused stock for {len(refused)} SKU(s): {'; '.join(refused)}"[:500])
        return StockOutcome(updated=tuple(updated), unknown=tuple(unknown))

    async def _pages(self, path: str, params: dict[str, str]) -> AsyncIterator[dict[str, object]]:
        page = 1
        while True:
            answer = await self._api.call("GET", path, params={**params, "page": str(page)})
            for entry in answer.body if isinstance(answer.body, list) else []:
                if isinstance(entry, dict):
                    yield entry
            if page >= answer.total_pages():
                return
            page += 1

    async def _tracking_present(self, order_id: str) -> tuple[bool, list[dict[str, object]]]:
        """Whether the extension is installed (asked once) and, if so, the order's tracking items."""
        if self._has_tracking is False:
            return False, []
        answer: Answer = await self._api.call(
            "GET", f"/orders/{order_id}/shipment-trackings", api=TRACKING_API, accept=frozenset({404})
        )
        if answer.status == 404:
            if answer.code != "rest_no_route":
                said = answer.code or "not found"
                raise PlatformError(f"WooCommerce order {order_id}: {said}", retryable=False, status=404)
            self._has_tracking = False
            return False, []
        self._has_tracking = True
        return True, [entry for entry in answer.body if isinstance(entry, dict)]

    async def _add_tracking(self, push: ShipmentPush) -> str:
        item = tracking_item(push, self._shop.options.get("tracking_url_templates") or {})
        if item is None:
            return ""
        present, listed = await self._tracking_present(push.platform_order_id)
        if not present:
            return ""
        if any(str(entry.get("tracking_number")) == item["tracking_number"] for entry in listed):
            return f"tracking {item['tracking_number']} already there"
        path = f"/orders/{push.platform_order_id}/shipment-trackings"
        await self._api.call("POST", path, body=item, api=TRACKING_API)
        return f"tracking {item['tracking_number']} added"

    async def _complete(self, order_path: str) -> str:
        status = str((await self._api.call("GET", order_path)).body.get("status", ""))
        if status == "completed":
            return "order already completed"
        if status not in COMPLETABLE:
            return f"order left {status}: not marked completed"
        await self._api.call("PUT", order_path, body={"status": "completed"})
        return "order marked completed"

    async def _items(self, skus: list[str]) -> dict[str, PlatformItem]:
        items = {sku: self._found[sku] for sku in skus if sku in self._found}
        wanted = [sku for sku in skus if sku not in items and sku not in self._missing]
        for group in lookup_groups(wanted):
            params = {"sku": ",".join(group), "per_page": "100"}
            found = items_found(group, [product async for product in self._pages("/products", params)])
            for sku in group:
                if sku in found:
                    self._found[sku] = items[sku] = found[sku]
                else:
                    self._missing[sku] = True
        return items
