"""A Shopify Admin GraphQL API on loopback, behaving as Shopify documents it for what our client uses.

Every request is checked as Shopify checks it: the API version in the path (404 for one Shopify does not
serve), the ``X-Shopify-Access-Token`` (401 with Shopify's body), the document against the schema subset in
``shopify_admin.graphql`` (validation errors answered HTTP 200 with an ``errors`` list, as Shopify does),
the single-query cost limit (1000) and the cost bucket (2000 points, restored at 100 a second). Mutations
check their input as documented (over-fulfilment, unknown ids, a location mix, a missing ``@idempotent``
key or ``changeFromQuantity`` on ``inventorySetQuantities`` from 2026-04 on) and answer ``userErrors``.

Knobs: ``down`` (503 to everything), :meth:`throttle_next`, :meth:`fail_next`, ``auto_webhooks``; what
happened: ``requests``, ``sent_webhooks``, :meth:`fulfillments`, :meth:`stock`. Webhooks are signed as
Shopify signs them (base64 HMAC-SHA256 of the raw body), here, without our code.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    execute,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)
from graphql.language import IntValueNode, SelectionSetNode, VariableNode

SCHEMA_PATH = Path(__file__).with_name("shopify_admin.graphql")
SUPPORTED_VERSIONS = frozenset({"2025-07", "2025-10", "2026-01", "2026-04", "2026-07", "2026-10", "2027-01"})
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
BUCKET_SIZE = 2000.0
RESTORE_RATE = 100.0
MAX_QUERY_COST = 1000
MUTATION_COST = 10
FORCED_THROTTLE_WAIT = 0.05
"""Seconds a :meth:`FakeShopify.throttle_next` answer says the bucket needs (kept short for tests)."""


ORDER_GID = "gid://shopify/Order/"
FINANCIAL_STATUSES = frozenset(
    {"authorized", "expired", "paid", "partially_paid", "partially_refunded", "pending", "refunded", "voided"}
)
SET_REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
MAX_PAGE = 250
MAX_INVENTORY_QUANTITIES = 250
DEFAULT_LOCATION_ID = 64_000_000_001


def _gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def _gid_number(gid: Any, kind: str) -> int:
    """The number of ``gid://shopify/<kind>/<n>``; a malformed id is refused as Shopify refuses it."""
    text = str(gid)
    prefix = f"gid://shopify/{kind}/"
    tail = text.removeprefix(prefix)
    if not text.startswith("gid://shopify/") or not tail.isdigit():
        raise GraphQLError(f"Invalid global id '{text}'", extensions={"code": "argumentLiteralsIncompatible"})
    if not text.startswith(prefix):
        return -1  # a gid of another kind: nothing of this kind has it
    return int(tail)


def _utc_text(value: Any) -> str | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _money_bag(amount: Any, currency: str) -> dict[str, Any]:
    money = {"amount": str(amount if amount not in (None, "") else "0.0"), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def _page(items: list[Any], args: dict[str, Any]) -> dict[str, Any]:
    """A connection over ``items``: ``first``/``after`` as Shopify pages them (opaque cursors)."""
    first = args.get("first")
    if first is None and args.get("last") is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
    if (first or 0) > MAX_PAGE:
        raise GraphQLError(f"The maximum number of records per page is {MAX_PAGE}", extensions={"code": "BAD_REQUEST"})
    start = 0
    if args.get("after"):
        try:
            start = int(base64.b64decode(str(args["after"])).decode().removeprefix("cursor:")) + 1
        except ValueError as error:
            raise GraphQLError("Invalid cursor for current pagination sort.") from error
    chosen = items[start : start + (first or MAX_PAGE)]
    cursors = [base64.b64encode(f"cursor:{start + i}".encode()).decode() for i in range(len(chosen))]
    return {
        "nodes": chosen,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, chosen, strict=True)],
        "pageInfo": {
            "hasNextPage": start + len(chosen) < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


_SEARCH_TERM = re.compile(r"""(\w+):(>=|<=|>|<)?(?:'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+))""")


def _search_terms(query: str | None) -> list[tuple[str, str, str]]:
    """Shopify search syntax, the part we use: ``field:value``, ``field:>='value'``, ``OR`` between terms."""
    terms = []
    for match in _SEARCH_TERM.finditer(query or ""):
        value = match.group(3) if match.group(3) is not None else match.group(4) or match.group(5) or ""
        terms.append((match.group(1), match.group(2) or "", value.replace('\\"', '"').replace("\\\\", "\\")))
    return terms


class GraphState:
    """The shop's records (plain dicts, REST-shaped orders) and the GraphQL root that reads and writes them."""

    def __init__(self, api_version: str) -> None:
        self.api_version = api_version
        self.version_in_use = api_version
        self.orders: dict[int, dict[str, Any]] = {}
        self.variants: dict[int, dict[str, Any]] = {}
        self.locations: dict[int, dict[str, Any]] = {
            DEFAULT_LOCATION_ID: {"id": DEFAULT_LOCATION_ID, "name": "Warehouse", "active": True}
        }
        self.fulfillment_orders: dict[int, dict[str, Any]] = {}
        self.fulfillment_records: dict[int, list[dict[str, Any]]] = {}
        self.inventory: dict[tuple[int, int], int] = {}
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.idempotency_key: str | None = None
        self._idempotent_answers: dict[str, tuple[str, dict[str, Any]]] = {}
        self._ids = itertools.count(5_000_000_001)

    def emit(self, topic: str, payload: dict[str, Any]) -> None:  # overridden by the server
        """A change Shopify would announce by webhook."""

    # --- helpers for tests --------------------------------------------------------------------------

    def add_location(self, name: str, active: bool = True) -> int:
        number = next(self._ids)
        self.locations[number] = {"id": number, "name": name, "active": active}
        return number

    def add_variant(
        self, sku: str, *, title: str = "Default Title", stock: dict[int, int] | None = None
    ) -> dict[str, Any]:
        """A product variant with its inventory item, stocked at the default location (or ``stock``'s)."""
        number = next(self._ids)
        item = next(self._ids)
        variant: dict[str, Any] = {"id": number, "sku": sku, "title": title, "inventory_item_id": item}
        self.variants[number] = variant
        for location, quantity in (stock or {DEFAULT_LOCATION_ID: 0}).items():
            self.inventory[(item, location)] = quantity
        return variant

    def add_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Store a REST-shaped order (Shopify's ``orders/create`` example shape), filling what it lacks; one
        fulfillment order at the default location holds its lines that require shipping."""
        order = copy.deepcopy(payload)
        number = int(order.get("id") or next(self._ids))
        now = _now_text()
        order["id"] = number
        order["admin_graphql_api_id"] = _gid("Order", number)
        order.setdefault("name", f"#{1000 + len(self.orders) + 1}")
        order.setdefault("created_at", now)
        order.setdefault("updated_at", order["created_at"])
        order.setdefault("financial_status", "paid")
        order.setdefault("currency", "USD")
        order.setdefault("fulfillments", [])
        order.setdefault("fulfillment_status", None)
        by_sku = {v["sku"]: v for v in self.variants.values()}
        for item in order.setdefault("line_items", []):
            item["id"] = int(item.get("id") or next(self._ids))
            item["admin_graphql_api_id"] = _gid("LineItem", item["id"])
            item.setdefault("quantity", 1)
            item.setdefault("current_quantity", item["quantity"])
            item.setdefault("requires_shipping", True)
            if not item.get("variant_id") and item.get("sku") in by_sku:
                item["variant_id"] = by_sku[item["sku"]]["id"]
        self.orders[number] = order
        self.fulfillment_records[number] = []
        shippable = [item for item in order["line_items"] if item["requires_shipping"] and item["current_quantity"] > 0]
        if shippable:
            self._new_fulfillment_order(number, DEFAULT_LOCATION_ID, shippable)
        self.emit("orders/create", order)
        if order["financial_status"] == "paid":
            self.emit("orders/paid", order)
        return copy.deepcopy(order)

    def split_order(self, order_id: int, line_item_ids: list[int], location_id: int) -> None:
        """Move these lines to a second fulfillment order, assigned to ``location_id`` (two warehouses)."""
        items = [i for i in self.orders[order_id]["line_items"] if i["id"] in line_item_ids]
        for fulfillment_order in self.fulfillment_orders.values():
            if fulfillment_order["order_id"] == order_id:
                fulfillment_order["lines"] = [
                    ln for ln in fulfillment_order["lines"] if ln["line_item_id"] not in line_item_ids
                ]
        self._new_fulfillment_order(order_id, location_id, items)

    def update_order(self, order_id: int, **changes: Any) -> dict[str, Any]:
        order = self.orders[order_id]
        order.update(changes)
        order["updated_at"] = _now_text()
        self.emit("orders/updated", order)
        return copy.deepcopy(order)

    def fulfillments(self, order_id: int) -> list[dict[str, Any]]:
        """What was fulfilled: id, tracking ({company, number, url}), lines ({line_item_id, quantity})."""
        return copy.deepcopy(self.fulfillment_records.get(order_id, []))

    def fulfillment_order_lines(self, order_id: int) -> list[dict[str, Any]]:
        return [
            {"fulfillment_order": fo["id"], "status": fo["status"], **line}
            for fo in self.fulfillment_orders.values()
            if fo["order_id"] == order_id
            for line in fo["lines"]
        ]

    def stock(self, sku: str, location_id: int = DEFAULT_LOCATION_ID) -> int | None:
        variant = next((v for v in self.variants.values() if v["sku"] == sku), None)
        return None if variant is None else self.inventory.get((variant["inventory_item_id"], location_id))

    def _new_fulfillment_order(self, order_id: int, location_id: int, items: list[dict[str, Any]]) -> None:
        number = next(self._ids)
        lines = [
            {
                "id": next(self._ids),
                "line_item_id": i["id"],
                "total": i["current_quantity"],
                "remaining": i["current_quantity"],
            }
            for i in items
        ]
        self.fulfillment_orders[number] = {
            "id": number,
            "order_id": order_id,
            "location_id": location_id,
            "status": "OPEN",
            "lines": lines,
        }

    # --- GraphQL views ------------------------------------------------------------------------------

    def root(self) -> dict[str, Any]:
        return {
            "order": lambda _info, id: self._order_view(self.orders.get(_gid_number(id, "Order"))),
            "orders": self._orders,
            "productVariants": self._variants,
            "locations": self._locations,
            "webhookSubscriptions": self._webhook_subscriptions,
            "webhookSubscriptionCreate": self._webhook_create,
            "fulfillmentCreate": self._fulfillment_create,
            "fulfillmentTrackingInfoUpdate": self._tracking_update,
            "inventorySetQuantities": self._inventory_set,
        }

    def _orders(self, _info: Any, **args: Any) -> dict[str, Any]:
        chosen = list(self.orders.values())
        for field, op, value in _search_terms(args.get("query")):
            if field in ("updated_at", "created_at"):
                bound = _utc_text(value)
                compare = {
                    ">=": lambda a, b: a >= b,
                    ">": lambda a, b: a > b,
                    "<=": lambda a, b: a <= b,
                    "<": lambda a, b: a < b,
                    "": lambda a, b: a[:10] == b[:10],
                }[op]
                chosen = [o for o in chosen if compare(_utc_text(o[field]) or "", bound or "")]  # type: ignore[no-untyped-call]
        key = "updated_at" if args.get("sortKey") == "UPDATED_AT" else "id"
        chosen.sort(key=lambda o: (_utc_text(o[key]) or "", o["id"]) if key != "id" else (o["id"],))
        if args.get("reverse"):
            chosen.reverse()
        return _page([self._order_view(o) for o in chosen], args)

    def _order_view(self, order: dict[str, Any] | None) -> dict[str, Any] | None:
        if order is None:
            return None
        currency = order.get("currency") or "USD"
        customer = order.get("customer") or None
        discounts = sum(float(c.get("amount") or 0) for c in order.get("discount_codes") or [])
        number = order["id"]
        return {
            "id": _gid("Order", number),
            "legacyResourceId": str(number),
            "name": order["name"],
            "createdAt": _utc_text(order["created_at"]),
            "updatedAt": _utc_text(order["updated_at"]),
            "cancelledAt": _utc_text(order.get("cancelled_at")),
            "cancelReason": str(order["cancel_reason"]).upper() if order.get("cancel_reason") else None,
            "displayFinancialStatus": str(order.get("financial_status") or "").upper() or None,
            "currencyCode": currency,
            "email": order.get("email"),
            "phone": order.get("phone"),
            "note": order.get("note"),
            "tags": [t.strip() for t in str(order.get("tags") or "").split(",") if t.strip()],
            "totalWeight": str(order.get("total_weight") or 0),
            "discountCodes": [c["code"] for c in order.get("discount_codes") or [] if c.get("code")],
            "customAttributes": [
                {"key": a.get("name"), "value": a.get("value")} for a in order.get("note_attributes") or []
            ],
            "customer": {
                "id": _gid("Customer", int(customer.get("id") or 1)),
                "firstName": customer.get("first_name"),
                "lastName": customer.get("last_name"),
                "phone": customer.get("phone"),
                "defaultEmailAddress": {"emailAddress": customer.get("email")} if customer.get("email") else None,
            }
            if customer
            else None,
            "shippingAddress": self._address(order.get("shipping_address")),
            "billingAddress": self._address(order.get("billing_address")),
            "totalTaxSet": _money_bag(order.get("total_tax"), currency),
            "totalDiscountsSet": _money_bag(f"{discounts:.2f}", currency),
            "shippingLines": lambda _info, **a: _page(
                [
                    {"title": s.get("title") or "", "originalPriceSet": _money_bag(s.get("price"), currency)}
                    for s in order.get("shipping_lines") or []
                ],
                a,
            ),
            "lineItems": lambda _info, **a: _page([self._line_view(i, currency) for i in order["line_items"]], a),
            "fulfillmentOrders": lambda _info, **a: _page(
                [
                    self._fulfillment_order_view(fo, order)
                    for fo in self.fulfillment_orders.values()
                    if fo["order_id"] == number
                ],
                a,
            ),
            "fulfillments": lambda _info, **a: [
                self._fulfillment_view(f) for f in self.fulfillment_records[number][: a.get("first") or MAX_PAGE]
            ],
        }

    @staticmethod
    def _address(address: Any) -> dict[str, Any] | None:
        if not isinstance(address, dict):
            return None
        return {
            "id": _gid("MailingAddress", 1),
            "name": address.get("name"),
            "firstName": address.get("first_name"),
            "lastName": address.get("last_name"),
            "company": address.get("company"),
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "province": address.get("province"),
            "provinceCode": address.get("province_code"),
            "zip": address.get("zip"),
            "country": address.get("country"),
            "countryCodeV2": address.get("country_code"),
            "phone": address.get("phone"),
        }

    def _line_view(self, item: dict[str, Any], currency: str) -> dict[str, Any]:
        variant = self.variants.get(int(item.get("variant_id") or 0))
        return {
            "id": _gid("LineItem", item["id"]),
            "sku": item.get("sku"),
            "name": item.get("name") or item.get("title") or "",
            "title": item.get("title") or "",
            "variantTitle": item.get("variant_title"),
            "quantity": item["quantity"],
            "currentQuantity": item["current_quantity"],
            "requiresShipping": item["requires_shipping"],
            "originalUnitPriceSet": _money_bag(item.get("price"), currency),
            "variant": self._variant_view(variant) if variant else None,
            "customAttributes": [{"key": p.get("name"), "value": p.get("value")} for p in item.get("properties") or []],
        }

    def _variant_view(self, variant: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _gid("ProductVariant", variant["id"]),
            "legacyResourceId": str(variant["id"]),
            "sku": variant["sku"],
            "title": variant["title"],
            "inventoryItem": {
                "id": _gid("InventoryItem", variant["inventory_item_id"]),
                "sku": variant["sku"],
                "tracked": True,
            },
        }

    def _fulfillment_order_view(self, fo: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        items = {i["id"]: i for i in order["line_items"]}
        location = self.locations[fo["location_id"]]
        lines = [
            {
                "id": _gid("FulfillmentOrderLineItem", ln["id"]),
                "remainingQuantity": ln["remaining"],
                "totalQuantity": ln["total"],
                "lineItem": self._line_view(items[ln["line_item_id"]], order.get("currency") or "USD"),
            }
            for ln in fo["lines"]
        ]
        return {
            "id": _gid("FulfillmentOrder", fo["id"]),
            "status": fo["status"],
            "assignedLocation": {"name": location["name"], "location": self._location_view(location)},
            "lineItems": lambda _info, **a: _page(lines, a),
        }

    @staticmethod
    def _location_view(location: dict[str, Any]) -> dict[str, Any]:
        return {"id": _gid("Location", location["id"]), "name": location["name"], "isActive": location["active"]}

    @staticmethod
    def _fulfillment_view(record: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _gid("Fulfillment", record["id"]),
            "status": record["status"],
            "createdAt": record["created_at"],
            "trackingInfo": lambda _info, **a: list(record["tracking"][: a.get("first") or MAX_PAGE]),
        }

    def _variants(self, _info: Any, **args: Any) -> dict[str, Any]:
        chosen = list(self.variants.values())
        terms = _search_terms(args.get("query"))
        if terms:
            skus = {value for field, _, value in terms if field == "sku"}
            chosen = [v for v in chosen if v["sku"] in skus]
        return _page([self._variant_view(v) for v in chosen], args)

    def _locations(self, _info: Any, **args: Any) -> dict[str, Any]:
        chosen = list(self.locations.values())
        if ("active", "", "true") in _search_terms(args.get("query")):
            chosen = [loc for loc in chosen if loc["active"]]
        return _page([self._location_view(loc) for loc in chosen], args)

    def _webhook_subscriptions(self, _info: Any, **args: Any) -> dict[str, Any]:
        chosen = [
            w
            for w in self.webhooks.values()
            if (not args.get("topics") or w["topic"] in args["topics"])
            and (not args.get("uri") or w["uri"] == args["uri"])
        ]
        return _page([{**w, "id": _gid("WebhookSubscription", w["id"])} for w in chosen], args)

    # --- mutations ----------------------------------------------------------------------------------

    def _webhook_create(self, _info: Any, topic: str, webhookSubscription: dict[str, Any]) -> dict[str, Any]:
        uri = webhookSubscription.get("uri")
        field = ["webhookSubscription", "uri"]
        if not uri:
            return {"webhookSubscription": None, "userErrors": [{"field": field, "message": "Address can't be blank"}]}
        # Shopify takes only https endpoints; the fake lets loopback http through so tests can receive.
        if not (uri.startswith("https://") or uri.startswith(("http://127.0.0.1", "http://localhost"))):
            return {
                "webhookSubscription": None,
                "userErrors": [{"field": field, "message": "Address protocol http:// is not supported"}],
            }
        if any(w["topic"] == topic and w["uri"] == uri for w in self.webhooks.values()):
            return {
                "webhookSubscription": None,
                "userErrors": [{"field": field, "message": "Address for this topic has already been taken"}],
            }
        number = next(self._ids)
        record = {
            "id": number,
            "topic": topic,
            "uri": uri,
            "format": webhookSubscription.get("format") or "JSON",
            "createdAt": _now_text(),
        }
        self.webhooks[number] = record
        return {"webhookSubscription": {**record, "id": _gid("WebhookSubscription", number)}, "userErrors": []}

    def _fulfillment_create(
        self, _info: Any, fulfillment: dict[str, Any], message: str | None = None
    ) -> dict[str, Any]:
        def refuse(text: str) -> dict[str, Any]:
            return {"fulfillment": None, "userErrors": [{"field": ["fulfillment"], "message": text}]}

        groups = fulfillment["lineItemsByFulfillmentOrder"]
        if not groups:
            return refuse("Line items by fulfillment order can't be blank")
        plan: list[tuple[dict[str, Any], int]] = []
        chosen = []
        for group in groups:
            fo = self.fulfillment_orders.get(_gid_number(group["fulfillmentOrderId"], "FulfillmentOrder"))
            if fo is None:
                return refuse("Fulfillment order does not exist.")
            if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                return refuse(f"Fulfillment order {fo['id']} has an unfulfillable status= {fo['status'].lower()}.")
            chosen.append(fo)
            wanted = group.get("fulfillmentOrderLineItems")
            lines = {ln["id"]: ln for ln in fo["lines"]}
            if wanted is None:
                plan += [(ln, ln["remaining"]) for ln in fo["lines"] if ln["remaining"] > 0]
                continue
            for entry in wanted:
                line = lines.get(_gid_number(entry["id"], "FulfillmentOrderLineItem"))
                if line is None:
                    return refuse("Invalid fulfillment order line item id.")
                if entry["quantity"] <= 0 or entry["quantity"] > line["remaining"]:
                    return refuse("Invalid fulfillment order line item quantity requested.")
                plan.append((line, entry["quantity"]))
        if len({fo["order_id"] for fo in chosen}) > 1 or len({fo["location_id"] for fo in chosen}) > 1:
            return refuse("All fulfillment orders must belong to the same order and location.")
        if not plan:
            return refuse("Fulfillment order line items can't be blank.")
        for line, quantity in plan:
            line["remaining"] -= quantity
        for fo in chosen:
            fo["status"] = "CLOSED" if all(ln["remaining"] == 0 for ln in fo["lines"]) else "IN_PROGRESS"
        order_id = chosen[0]["order_id"]
        record = {
            "id": next(self._ids),
            "status": "SUCCESS",
            "created_at": _now_text(),
            "tracking": _tracking(fulfillment.get("trackingInfo") or {}),
            "lines": [{"line_item_id": line["line_item_id"], "quantity": quantity} for line, quantity in plan],
            "notify_customer": bool(fulfillment.get("notifyCustomer")),
        }
        self.fulfillment_records[order_id].append(record)
        self._fulfilled(order_id)
        return {"fulfillment": self._fulfillment_view(record), "userErrors": []}

    def _tracking_update(
        self, _info: Any, fulfillmentId: str, trackingInfoInput: dict[str, Any], notifyCustomer: bool | None = None
    ) -> dict[str, Any]:
        number = _gid_number(fulfillmentId, "Fulfillment")
        for order_id, records in self.fulfillment_records.items():
            for record in records:
                if record["id"] == number:
                    record["tracking"] = _tracking(trackingInfoInput)  # the input replaces what was there
                    self._fulfilled(order_id)
                    return {"fulfillment": self._fulfillment_view(record), "userErrors": []}
        return {
            "fulfillment": None,
            "userErrors": [{"field": ["fulfillmentId"], "message": "Fulfillment does not exist."}],
        }

    def _fulfilled(self, order_id: int) -> None:
        order = self.orders[order_id]
        remaining = sum(
            ln["remaining"]
            for fo in self.fulfillment_orders.values()
            if fo["order_id"] == order_id
            for ln in fo["lines"]
        )
        order["fulfillment_status"] = "fulfilled" if remaining == 0 else "partial"
        order["fulfillments"] = [
            {
                "id": r["id"],
                "status": "success",
                "tracking_numbers": [t["number"] for t in r["tracking"] if t.get("number")],
                "tracking_company": next((t["company"] for t in r["tracking"] if t.get("company")), None),
            }
            for r in self.fulfillment_records[order_id]
        ]
        order["updated_at"] = _now_text()
        self.emit("orders/updated", order)

    def _inventory_set(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        key = self.idempotency_key
        self.idempotency_key = None
        fingerprint = json.dumps(input, sort_keys=True)
        if key and key in self._idempotent_answers:
            earlier_input, answer = self._idempotent_answers[key]
            if earlier_input == fingerprint:
                return answer
        answer = self._apply_quantities(input)
        if key:
            self._idempotent_answers[key] = (fingerprint, answer)
        return answer

    def _apply_quantities(self, data: dict[str, Any]) -> dict[str, Any]:
        def refuse(code: str, field: list[str], text: str) -> dict[str, Any]:
            return {"inventoryAdjustmentGroup": None, "userErrors": [{"code": code, "field": field, "message": text}]}

        quantities = data["quantities"]
        if len(quantities) > MAX_INVENTORY_QUANTITIES:
            raise GraphQLError(
                f"The input array size of {len(quantities)} is greater than the maximum allowed of "
                f"{MAX_INVENTORY_QUANTITIES}.",
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
        if data["name"] not in ("available", "on_hand"):
            return refuse(
                "INVALID_NAME", ["input", "name"], "The quantity name must be either 'available' or 'on_hand'."
            )
        if data["reason"] not in SET_REASONS:
            return refuse("INVALID_REASON", ["input", "reason"], "The specified reason is invalid.")
        seen: set[tuple[int, int]] = set()
        changes = []
        for index, quantity in enumerate(quantities):
            field = ["input", "quantities", str(index)]
            item = _gid_number(quantity["inventoryItemId"], "InventoryItem")
            location = _gid_number(quantity["locationId"], "Location")
            if not any(v["inventory_item_id"] == item for v in self.variants.values()):
                return refuse(
                    "INVALID_INVENTORY_ITEM",
                    [*field, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                )
            if location not in self.locations:
                return refuse("INVALID_LOCATION", [*field, "locationId"], "The specified location could not be found.")
            if (item, location) not in self.inventory:
                return refuse(
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                    field,
                    "The specified inventory item is not stocked at the location.",
                )
            if (item, location) in seen:
                return refuse(
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                    field,
                    "The combination of inventoryItemId and locationId must be unique.",
                )
            seen.add((item, location))
            if self.version_in_use >= "2026-04" and "changeFromQuantity" not in quantity:
                return refuse(
                    "CHANGE_FROM_QUANTITY_STALE",
                    [*field, "changeFromQuantity"],
                    "changeFromQuantity is required; pass null to opt out of the check.",
                )
            expected = quantity.get("changeFromQuantity")
            if expected is not None and expected != self.inventory[(item, location)]:
                return refuse(
                    "CHANGE_FROM_QUANTITY_STALE",
                    [*field, "changeFromQuantity"],
                    "The specified compare quantity does not match the persisted value.",
                )
            changes.append((item, location, quantity["quantity"]))
        for item, location, value in changes:
            self.inventory[(item, location)] = value
        return {"inventoryAdjustmentGroup": {"reason": data["reason"], "createdAt": _now_text()}, "userErrors": []}


def _tracking(info: dict[str, Any]) -> list[dict[str, Any]]:
    numbers = list(info.get("numbers") or ([info["number"]] if info.get("number") else []))
    urls = list(info.get("urls") or ([info["url"]] if info.get("url") else []))
    company = info.get("company")
    return [{"company": company, "number": n, "url": urls[i] if i < len(urls) else None} for i, n in enumerate(numbers)]


def _schema() -> GraphQLSchema:
    return build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))


class FakeShopify(GraphState):
    """One shop. ``start()`` it, point a client at ``base_url``, ``stop()`` it."""

    def __init__(self, access_token: str, webhook_secret: str, api_version: str = "2026-10") -> None:
        super().__init__(api_version)
        self.access_token = access_token
        self.webhook_secret = webhook_secret
        self.shop_domain = "fake-shop.myshopify.com"
        self.schema = _schema()
        self.down = False
        self.auto_webhooks = False
        self.requests: list[dict[str, Any]] = []
        self.sent_webhooks: list[dict[str, Any]] = []
        self._throttle_next = 0
        self._failures: list[tuple[int, Any, dict[str, str]]] = []
        self._available = BUCKET_SIZE
        self._refilled_at = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/admin/api/{version}/graphql.json", self._graphql)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.drain_webhooks()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # --- knobs --------------------------------------------------------------------------------------

    def throttle_next(self, count: int = 1) -> None:
        """The next ``count`` GraphQL requests are answered ``THROTTLED`` (HTTP 200), whatever the bucket holds."""
        self._throttle_next += count

    def fail_next(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """The next request is answered ``status`` with ``body`` (JSON) and ``headers``, once."""
        self._failures.append((status, body, headers or {}))

    # --- HTTP ---------------------------------------------------------------------------------------

    async def _graphql(self, request: web.Request) -> web.Response:
        raw = await request.read()
        record: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "headers": dict(request.headers),
            "body": raw.decode("utf-8", errors="replace"),
            "operation": None,
            "status": None,
            "throttled": False,
        }
        self.requests.append(record)
        response = self._answer(request, raw, record)
        record["status"] = response.status
        return response

    def _answer(self, request: web.Request, raw: bytes, record: dict[str, Any]) -> web.Response:
        if self.down:
            return web.json_response({"errors": "Service Unavailable"}, status=503)
        version = request.match_info["version"]
        if version not in SUPPORTED_VERSIONS:
            return web.json_response({"errors": "Not Found"}, status=404)
        if request.headers.get("X-Shopify-Access-Token") != self.access_token:
            return web.json_response({"errors": INVALID_TOKEN}, status=401)
        if self._failures:
            status, body, headers = self._failures.pop(0)
            return web.json_response(
                body if body is not None else {"errors": "Internal Server Error"}, status=status, headers=headers
            )
        try:
            document = json.loads(raw)
        except ValueError:
            return web.json_response({"errors": {"query": "Required parameter missing or invalid"}}, status=400)
        if not isinstance(document, dict) or not isinstance(document.get("query"), str):
            return web.json_response({"errors": {"query": "Required parameter missing or invalid"}}, status=400)
        variables = document.get("variables") or {}
        record["variables"] = variables
        return web.json_response(self._run(document["query"], variables, version, record))

    def _run(self, query: str, variables: dict[str, Any], version: str, record: dict[str, Any]) -> dict[str, Any]:
        try:
            ast = parse(query)
        except GraphQLError as error:
            return {"errors": [_error(error, "parseError")]}
        problems = validate(self.schema, ast)
        if problems:
            return {"errors": [_error(problem, "validationError") for problem in problems]}
        operation = next(d for d in ast.definitions if isinstance(d, OperationDefinitionNode))
        record["operation"] = operation.name.value if operation.name else None
        is_mutation = operation.operation == OperationType.MUTATION
        requested = MUTATION_COST if is_mutation else self._requested_cost(operation.selection_set, variables)
        if requested > MAX_QUERY_COST:
            message = f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST})."
            return {"errors": [{"message": message, "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested}}]}
        self._refill()
        if self._throttle_next > 0 or requested > self._available:
            record["throttled"] = True
            available = self._available
            if self._throttle_next > 0:
                self._throttle_next -= 1
                available = max(requested - RESTORE_RATE * FORCED_THROTTLE_WAIT, 0.0)
            return {
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                "extensions": {"cost": self._cost(requested, None, available)},
            }
        if is_mutation:
            refusal = self._mutation_refusal(operation, version, variables)
            if refusal:
                return {"errors": [refusal]}
        self.version_in_use = version
        result = execute(self.schema, ast, root_value=self.root(), variable_values=variables)
        assert isinstance(result, ExecutionResult)  # every resolver here is synchronous
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [_error(error, "executionError") for error in result.errors]
        actual = MUTATION_COST if is_mutation else _objects_in(result.data) + 1
        self._available = max(self._available - actual, 0.0)
        body["extensions"] = {"cost": self._cost(requested, actual, self._available)}
        return body

    def _mutation_refusal(
        self, operation: OperationDefinitionNode, version: str, variables: dict[str, Any]
    ) -> dict[str, Any] | None:
        """From 2026-04 ``inventorySetQuantities`` needs ``@idempotent(key:)``: refused at run time, as documented."""
        for selection in operation.selection_set.selections:
            if not isinstance(selection, FieldNode) or selection.name.value != "inventorySetQuantities":
                continue
            directive = next((d for d in selection.directives or () if d.name.value == "idempotent"), None)
            if directive is None and version >= "2026-04":
                return {
                    "message": "The @idempotent directive is required for this mutation.",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            if directive is not None and directive.arguments:
                key_node = directive.arguments[0].value
                key = variables.get(key_node.name.value) if isinstance(key_node, VariableNode) else None
                if key is None and not isinstance(key_node, VariableNode):
                    key = getattr(key_node, "value", None)
                self.idempotency_key = str(key) if key else None
        return None

    def _cost(self, requested: float, actual: float | None, available: float) -> dict[str, Any]:
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": BUCKET_SIZE,
                "currentlyAvailable": round(available, 1),
                "restoreRate": RESTORE_RATE,
            },
        }

    def _refill(self) -> None:
        now = time.monotonic()
        self._available = min(BUCKET_SIZE, self._available + (now - self._refilled_at) * RESTORE_RATE)
        self._refilled_at = now

    def _requested_cost(
        self, selection_set: SelectionSetNode | None, variables: dict[str, Any], parent: Any = None
    ) -> int:
        """Shopify's rule of thumb: an object 1, a scalar 0, a connection or list 2 + ``first`` times its
        nodes' cost."""
        if selection_set is None:
            return 0
        parent_type = parent or self.schema.query_type
        total = 0
        for selection in selection_set.selections:
            if not isinstance(selection, FieldNode):
                continue
            field = parent_type.fields.get(selection.name.value)  # type: ignore[union-attr]
            if field is None:
                continue
            named = get_named_type(field.type)
            if is_leaf_type(named):
                continue
            inner = self._requested_cost(selection.selection_set, variables, named)
            first = _first(selection, variables)
            if first is not None:
                total += 2 + first * max(inner, 1)
            elif selection.name.value in ("nodes", "edges"):
                total += inner  # counted by the connection's multiplier
            else:
                total += 1 + inner
        return total

    # --- webhooks -----------------------------------------------------------------------------------

    async def send_webhook(self, url: str, topic: str, payload: dict[str, Any], webhook_id: str | None = None) -> int:
        """POST ``payload`` to ``url`` as Shopify delivers a webhook; answers the HTTP status."""
        assert self._session is not None, "start() the fake first"
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        digest = hmac.new(self.webhook_secret.encode("utf-8"), body, hashlib.sha256).digest()
        webhook_id = webhook_id or str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode("ascii"),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
        }
        status = 0
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                status = response.status
        except aiohttp.ClientError:
            status = 0
        self.sent_webhooks.append({"url": url, "topic": topic, "webhook_id": webhook_id, "status": status})
        return status

    def emit(self, topic: str, payload: dict[str, Any]) -> None:
        """Called by the state on a change: with ``auto_webhooks``, each subscribed URL gets it in the background."""
        if not self.auto_webhooks:
            return
        for subscription in self.webhooks.values():
            if subscription["topic"] == topic.upper().replace("/", "_"):
                task = asyncio.get_running_loop().create_task(
                    self._send_quietly(subscription["uri"], topic, copy.deepcopy(payload))
                )
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _send_quietly(self, url: str, topic: str, payload: dict[str, Any]) -> None:
        await self.send_webhook(url, topic, payload)

    async def drain_webhooks(self) -> None:
        """Wait for the webhooks sent in the background."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _first(selection: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in selection.arguments or ():
        if argument.name.value in ("first", "last"):
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                found = variables.get(value.name.value)
                return int(found) if isinstance(found, int) else None
    return None


def _objects_in(data: Any) -> int:
    if isinstance(data, dict):
        return 1 + sum(_objects_in(v) for v in data.values())
    if isinstance(data, list):
        return sum(_objects_in(v) for v in data)
    return 0


def _error(error: GraphQLError, code: str) -> dict[str, Any]:
    found: dict[str, Any] = {"message": error.message}
    if error.locations:
        found["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        found["path"] = list(error.path)
    found["extensions"] = {"code": (error.extensions or {}).get("code", code)}
    return found
