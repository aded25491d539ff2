"""One shop's Admin GraphQL API: the :class:`~services.channels.ports.Platform` for Shopify.

Every call is ``POST /admin/api/<version>/graphql.json`` with the shop's ``X-Shopify-Access-Token``.
Failures become :class:`PlatformError`:

- retryable: network errors, timeouts, 5xx, HTTP 429 (``Retry-After`` honoured), ``THROTTLED`` answers once
  ``max_throttle_wait`` seconds of waiting are spent (``retry_after`` says how long the bucket needs);
- not retryable: 401/403/404, any other top-level ``errors`` (a document Shopify refuses is a bug of ours),
  and ``userErrors`` (the input is wrong). A refused ``fulfillmentCreate`` is first resolved by reading the
  order again: lines fulfilled meanwhile make the answer "already there"; only a second refusal raises.
  ``Address for this topic has already been taken`` on a webhook means another instance subscribed it.

Logged per call: method, path, operation, status, ms. Never the token.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp
from cachetools import TTLCache

from services.channels.ports import (
    ChangedOrder,
    PlatformError,
    PushOutcome,
    ShipmentPush,
    ShopConfig,
    StockOutcome,
    StockPush,
)
from services.channels.shopify import graphql as gql
from services.channels.shopify.bucket import CostBucket
from services.channels.shopify.carriers import tracking_info
from services.channels.shopify.fulfillment import (
    AddTracking,
    AlreadyThere,
    CreateFulfillments,
    UnplannableShipment,
    plan_shipment,
    read_order_fulfilment,
)
from services.channels.shopify.orders import TOPICS
from services.channels.shopify.reconcile import order_payload
from shared.logging import get_logger

log = get_logger(__name__)

REQUEST_TIMEOUT_SECONDS = 30.0
ORDERS_PAGE = 50
STOCK_BATCH = 250
SKUS_PER_LOOKUP = 50
"""SKUs per ``productVariants`` search: the query string stays short and the answer under 250 variants."""
RETRYABLE_ERROR_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})


def webhook_topic(topic: str) -> str:
    """``orders/create`` → ``ORDERS_CREATE`` (the ``WebhookSubscriptionTopic`` enum)."""
    return topic.upper().replace("/", "_")


class ShopifyClient:
    """:class:`~services.channels.ports.Platform` for one Shopify shop; ``session`` is the caller's."""

    def __init__(self, shop: ShopConfig, session: aiohttp.ClientSession, *, max_throttle_wait: float = 20.0) -> None:
        self._shop = shop
        self._session = session
        self._max_throttle_wait = max_throttle_wait
        version = shop.api_version or gql.DEFAULT_API_VERSION
        self._path = f"/admin/api/{version}/graphql.json"
        self._url = shop.base_url.rstrip("/") + self._path
        self._token = shop.secrets.get("access_token", "")
        self._items: TTLCache[str, tuple[str, ...]] = TTLCache(maxsize=20_000, ttl=900)
        self._location_id: str | None = None
        self._bucket = CostBucket()
        """Shared by every call of this client (one per shop): pushes side by side take turns."""

    async def close(self) -> None:
        """Nothing to close: the session belongs to the caller."""

    # --- webhooks -----------------------------------------------------------------------------------

    async def register_webhooks(self, callback_url: str) -> list[str]:
        subscribed: set[str] = set()
        after: str | None = None
        while True:
            data = await self.call("WebhookSubscriptions", gql.WEBHOOK_SUBSCRIPTIONS, {"after": after})
            connection = data.get("webhookSubscriptions") or {}
            for node in connection.get("nodes") or []:
                if node.get("uri") == callback_url:
                    subscribed.add(str(node.get("topic")))
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                break
            after = page.get("endCursor")
        for topic in TOPICS:
            if webhook_topic(topic) in subscribed:
                continue
            variables = {"topic": webhook_topic(topic), "webhookSubscription": {"uri": callback_url, "format": "JSON"}}
            data = await self.call("WebhookSubscriptionCreate", gql.WEBHOOK_SUBSCRIPTION_CREATE, variables)
            errors = gql.user_errors(data.get("webhookSubscriptionCreate"))
            if errors and not all("already been taken" in error for error in errors):
                raise PlatformError(f"Shopify refused the {topic} webhook: {'; '.join(errors)}", retryable=False)
        return list(TOPICS)

    # --- reconciliation -----------------------------------------------------------------------------

    async def orders_changed_since(self, since: datetime | None) -> AsyncIterator[ChangedOrder]:
        search = None
        if since is not None:
            search = f"updated_at:>='{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
        after: str | None = None
        while True:
            variables = {"first": ORDERS_PAGE, "after": after, "query": search}
            data = await self.call("OrdersChanged", gql.ORDERS_CHANGED, variables)
            connection = data.get("orders") or {}
            for node in connection.get("nodes") or []:
                detail = await self.call("OrderDetail", gql.ORDER_DETAIL, {"id": node["id"]})
                if detail.get("order"):
                    yield ChangedOrder("orders/updated", order_payload(detail["order"]))
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return
            after = page.get("endCursor")

    # --- shipments ----------------------------------------------------------------------------------

    async def push_shipment(self, push: ShipmentPush) -> PushOutcome:
        templates = self._shop.options.get("tracking_url_templates") or {}
        tracking = tracking_info(push.carrier, push.tracking_number, templates)
        for attempt in range(2):
            state = await self._fulfilment_state(push)
            try:
                plan = plan_shipment(state, push, tracking)
            except UnplannableShipment as error:
                raise PlatformError(str(error), retryable=False) from error
            if isinstance(plan, AlreadyThere):
                return PushOutcome(plan.remote_id, plan.tracking_numbers, plan.detail)
            if isinstance(plan, AddTracking):
                return await self._add_tracking(plan, push)
            outcome = await self._create(plan, push, last_try=attempt == 1)
            if outcome is not None:
                return outcome
        raise PlatformError("the fulfillment could not be created", retryable=True)  # pragma: no cover

    async def _fulfilment_state(self, push: ShipmentPush) -> Any:
        data = await self.call("OrderFulfilment", gql.ORDER_FULFILMENT, {"id": gql.order_gid(push.platform_order_id)})
        order = data.get("order")
        if not order:
            raise PlatformError(f"order {push.platform_order_id} is not on Shopify", retryable=False, status=404)
        return read_order_fulfilment(order)

    async def _add_tracking(self, plan: AddTracking, push: ShipmentPush) -> PushOutcome:
        variables = {
            "fulfillmentId": plan.fulfillment_id,
            "trackingInfoInput": plan.tracking_input,
            "notifyCustomer": push.notify_customer,
        }
        data = await self.call("FulfillmentTrackingInfoUpdate", gql.FULFILLMENT_TRACKING_UPDATE, variables)
        errors = gql.user_errors(data.get("fulfillmentTrackingInfoUpdate"))
        if errors:
            raise PlatformError(f"Shopify refused the tracking update: {'; '.join(errors)}", retryable=False)
        return PushOutcome(
            plan.fulfillment_id, plan.tracking_numbers, f"tracking number added to fulfillment {plan.fulfillment_id}"
        )

    async def _create(self, plan: CreateFulfillments, push: ShipmentPush, *, last_try: bool) -> PushOutcome | None:
        """Creates each group's fulfillment. ``None``: Shopify refused one (``userErrors``); the caller reads the
        order again, which answers "already there" when the lines were fulfilled meanwhile, and gives up with a
        not-retryable error when the second plan is refused too (the input is wrong)."""
        created: list[str] = []
        for group in plan.groups:
            fulfillment: dict[str, Any] = {
                "lineItemsByFulfillmentOrder": list(group.line_items_by_fulfillment_order),
                "notifyCustomer": push.notify_customer,
            }
            if plan.tracking_input:
                fulfillment["trackingInfo"] = plan.tracking_input
            data = await self.call("FulfillmentCreate", gql.FULFILLMENT_CREATE, {"fulfillment": fulfillment})
            payload = data.get("fulfillmentCreate") or {}
            errors = gql.user_errors(payload)
            if errors:
                if not last_try:
                    return None  # fulfilled meanwhile, or our read is stale: read again and plan anew
                raise PlatformError(f"Shopify refused the fulfillment: {'; '.join(errors)}", retryable=False)
            created.append(str((payload.get("fulfillment") or {}).get("id")))
        numbers = (push.tracking_number,) if push.tracking_number else ()
        return PushOutcome(created[0], numbers, f"fulfillment {', '.join(created)} created")

    # --- stock --------------------------------------------------------------------------------------

    async def set_stock(self, levels: Sequence[StockPush]) -> StockOutcome:
        wanted: dict[str, int] = {}
        for level in levels:
            wanted[level.sku] = max(level.available, 0)
        if not wanted:
            return StockOutcome(())
        items = await self._inventory_items(list(wanted))
        location = await self._location()
        quantities = [
            (
                sku,
                {"inventoryItemId": item, "locationId": location, "quantity": wanted[sku], "changeFromQuantity": None},
            )
            for sku in wanted
            for item in items.get(sku, ())
        ]
        updated: list[str] = []
        for start in range(0, len(quantities), STOCK_BATCH):
            batch = quantities[start : start + STOCK_BATCH]
            variables = {
                "input": {"name": "available", "reason": "correction", "quantities": [q for _, q in batch]},
                # One key per batch, the same on a throttled retry: Shopify applies the batch once.
                "idempotencyKey": str(uuid.uuid4()),
            }
            data = await self.call("InventorySet", gql.INVENTORY_SET, variables)
            errors = gql.user_errors(data.get("inventorySetQuantities"))
            if errors:
                raise PlatformError(f"Shopify refused the stock levels: {'; '.join(errors)}", retryable=False)
            updated += [sku for sku, _ in batch if sku not in updated]
        unknown = tuple(sku for sku in wanted if not items.get(sku))
        return StockOutcome(tuple(updated), unknown)

    async def _inventory_items(self, skus: list[str]) -> dict[str, tuple[str, ...]]:
        found = {sku: self._items[sku] for sku in skus if sku in self._items}
        missing = [sku for sku in skus if sku not in found]
        for start in range(0, len(missing), SKUS_PER_LOOKUP):
            chunk = missing[start : start + SKUS_PER_LOOKUP]
            search = " OR ".join(f'sku:"{_search_quoted(sku)}"' for sku in chunk)
            data = await self.call("VariantsBySku", gql.VARIANTS_BY_SKU, {"query": search})
            by_sku: dict[str, list[str]] = {}
            for node in (data.get("productVariants") or {}).get("nodes") or []:
                item = (node.get("inventoryItem") or {}).get("id")
                if node.get("sku") in chunk and item:
                    by_sku.setdefault(str(node["sku"]), []).append(str(item))
            for sku, items in by_sku.items():
                self._items[sku] = found[sku] = tuple(items)
        return found

    async def _location(self) -> str:
        configured = self._shop.options.get("location_id")
        if configured:
            text = str(configured)
            return text if text.startswith("gid://") else f"gid://shopify/Location/{text}"
        if self._location_id is None:
            data = await self.call("FirstLocation", gql.FIRST_LOCATION, {})
            nodes = [n for n in (data.get("locations") or {}).get("nodes") or [] if n.get("isActive", True)]
            if not nodes:
                raise PlatformError("the shop has no active location to set stock at", retryable=False)
            self._location_id = str(nodes[0]["id"])
        return self._location_id

    # --- transport ----------------------------------------------------------------------------------

    async def call(self, operation: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """One GraphQL operation's ``data``: sent when the shop's cost bucket can pay for it, throttled
        answers waited out, up to ``max_throttle_wait`` of waiting in all."""
        waited = 0.0
        while True:
            turn = self._bucket.reserve(operation, time.monotonic(), self._max_throttle_wait - waited)
            if turn is None:
                raise PlatformError(
                    f"Shopify's cost bucket cannot pay for {operation} within {self._max_throttle_wait:g} s",
                    retryable=True,
                    retry_after=self._max_throttle_wait,
                )
            body: dict[str, Any] | None = None
            try:
                if turn.wait > 0:
                    await asyncio.sleep(turn.wait)
                    waited += turn.wait
                body = await self._post(operation, query, variables)
            finally:
                self._bucket.answered(operation, turn, gql.read_cost(body) if body else None, time.monotonic())
            if gql.is_throttled(body):
                wait = gql.throttle_wait(body)
                if waited + wait > self._max_throttle_wait:
                    raise PlatformError(
                        f"Shopify throttled {operation} past {self._max_throttle_wait:g} s",
                        retryable=True,
                        retry_after=wait,
                    )
                log.info("shopify throttled", operation=operation, wait_s=round(wait, 3))
                await asyncio.sleep(wait)
                waited += wait
                continue
            messages = gql.error_messages(body)
            if messages:
                retryable = any(code in RETRYABLE_ERROR_CODES for code in gql.error_codes(body))
                raise PlatformError(f"Shopify refused {operation}: {'; '.join(messages)[:500]}", retryable=retryable)
            data = body.get("data")
            return data if isinstance(data, dict) else {}

    async def _post(self, operation: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        headers = {
            "X-Shopify-Access-Token": self._token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        started = time.monotonic()
        status: int | None = None
        try:
            async with self._session.post(
                self._url,
                data=json.dumps({"query": query, "variables": variables}),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
                allow_redirects=False,
            ) as response:
                status = response.status
                text = await response.text()
                retry_after = response.headers.get("Retry-After")
        except TimeoutError as error:
            raise PlatformError(f"Shopify gave no answer to {operation} in time", retryable=True) from error
        except aiohttp.ClientConnectorError as error:
            raise PlatformError(f"cannot connect to Shopify: {error}", retryable=True) from error
        except aiohttp.ClientError as error:
            raise PlatformError(f"the call to Shopify failed: {type(error).__name__}", retryable=True) from error
        finally:
            elapsed = round((time.monotonic() - started) * 1000, 1)
            log.info("shopify call", method="POST", path=self._path, operation=operation, status=status, ms=elapsed)
        return _read_answer(operation, status, text, retry_after)


def _read_answer(operation: str, status: int, text: str, retry_after: str | None) -> dict[str, Any]:
    excerpt = text[:200].strip()
    if status == 429:
        raise PlatformError(
            f"Shopify answered 429 to {operation}", retryable=True, status=429, retry_after=_seconds(retry_after)
        )
    if status >= 500:
        raise PlatformError(
            f"Shopify answered {status} to {operation}",
            retryable=True,
            status=status,
            retry_after=_seconds(retry_after),
        )
    if status in (401, 403):
        raise PlatformError(f"Shopify refused the access token ({status}): {excerpt}", retryable=False, status=status)
    if status >= 300:
        raise PlatformError(f"Shopify answered {status} to {operation}: {excerpt}", retryable=False, status=status)
    try:
        body = json.loads(text)
    except ValueError as error:
        raise PlatformError(f"Shopify's answer to {operation} is not JSON", retryable=True, status=status) from error
    if not isinstance(body, dict):
        raise PlatformError(f"Shopify's answer to {operation} is not an object", retryable=True, status=status)
    return body


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def _search_quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
