"""A WooCommerce shop on loopback, answering the REST API v3 as WooCommerce documents (and its code does)
for exactly what our client uses, and checking each request the way the real shop would refuse it.

- Auth: HTTP Basic with the REST key on every ``/wp-json/wc/v3`` and ``wc-shipment-tracking`` route. A wrong
  key or secret answers 401 ``woocommerce_rest_authentication_error`` ("Consumer key is invalid."); no
  credentials answer 401 ``woocommerce_rest_cannot_view`` / ``_cannot_create`` / ``_cannot_edit``. (The
  real shop takes Basic only over HTTPS; this one serves plain HTTP on loopback as a shop behind TLS.)
- Routes: an unknown path or method answers 404 ``rest_no_route``, exactly as WordPress does; so do the
  Shipment Tracking routes when the extension is not installed (``shipment_tracking=False``).
- Bodies and parameters: an order status outside Woo's list, a webhook status or topic it does not know,
  a ``per_page`` outside 1..100 or an ill-formed ``modified_after`` answer 400 ``rest_invalid_param``; a
  missing required field 400 ``rest_missing_callback_param``; a batch over 100 items 413
  ``woocommerce_rest_request_entity_too_large``; an unknown order 404 ``woocommerce_rest_shop_order_invalid_id``.
- Lists page with ``X-WP-Total`` and ``X-WP-TotalPages``; ``modified_after`` is strictly after (WP's date
  query), compared with ``date_modified_gmt`` when ``dates_are_gmt`` is true; ``GET /products?sku=a,b``
  finds products and variations alike, ignoring case (MySQL's comparison).
- Webhooks: creating one posts Woo's unsigned ping (``webhook_id=<id>``, form-encoded) to its URL;
  deliveries are signed as Woo signs them (base64 HMAC-SHA256 of the raw body) with Woo's headers.

Knobs: ``down`` (503 with ``Retry-After: 600``, as WordPress's maintenance mode), ``fail_next(status)``
(one answer), ``throttle(times, retry_after)`` (429s, as a host or CDN in front of the shop sends; Woo core
itself does not rate-limit v3), ``auto_webhooks``, and ``requests``, every request seen.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import json
import math
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

WC = "/wp-json/wc/v3"
TRACKING = "/wp-json/wc-shipment-tracking/v3"
TRACKING_PROVIDERS = (
    "Australia Post", "Canada Post", "Purolator", "DHL", "DPD", "ParcelForce", "Royal Mail", "PostNL",
    "Fedex", "FedEx Sameday", "OnTrac", "UPS", "USPS", "DHL US",
)  # fmt: skip
USER_AGENT = "WooCommerce/9.8.1 Hookshot (WordPress/6.8)"
ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "checkout-draft")
WEBHOOK_TOPICS = frozenset(
    f"{resource}.{event}"
    for resource in ("coupon", "customer", "order", "product")
    for event in ("created", "updated", "deleted", "restored")
)
Handler = Callable[["Call"], Awaitable[web.Response]]


class WooError(Exception):
    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Call:
    request: web.Request
    params: dict[str, str]
    body: Any
    match: dict[str, str] = field(default_factory=dict)

    def id(self, name: str = "id") -> int:
        return int(self.match[name])


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def _invalid(param: str, reason: str) -> WooError:
    return WooError(400, "rest_invalid_param", f"Invalid parameter(s): {param}", params={param: reason})


def _page(items: list[dict[str, Any]], params: Mapping[str, str], default: int = 10) -> web.Response:
    per_page, page = _int_param(params, "per_page", default, 1, 100), _int_param(params, "page", 1, 1, None)
    total_pages = math.ceil(len(items) / per_page)
    headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(total_pages)}
    return _json(items[(page - 1) * per_page : page * per_page], headers=headers)


def _int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    if name not in params:
        return default
    try:
        value = int(params[name])
    except ValueError:
        raise _invalid(name, f"{name} is not of type integer.") from None
    if value < low or (high is not None and value > high):
        raise _invalid(name, f"{name} must be between {low} (inclusive) and {high} (inclusive)")
    return value


class FakeWooCommerce:
    def __init__(self, consumer_key: str, consumer_secret: str, *, shipment_tracking: bool = False) -> None:
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.shipment_tracking = shipment_tracking
        self.down = False
        self.auto_webhooks = False
        self.requests: list[RecordedRequest] = []
        self.deliveries: list[dict[str, Any]] = []
        """Every webhook delivery and ping sent: url, headers, body, the receiver's status."""
        self._orders: dict[int, dict[str, Any]] = {}
        self._notes: dict[int, list[dict[str, Any]]] = {}
        self._trackings: dict[int, list[dict[str, Any]]] = {}
        self._webhooks: dict[int, dict[str, Any]] = {}
        self._products: dict[int, dict[str, Any]] = {}
        self._next_id = 100
        self._failures: list[tuple[int, float | None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._add_routes()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        await self.settle()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def settle(self) -> None:
        """Wait for the webhooks and pings sent in the background."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- knobs -----------------------------------------------------------------------------------

    def fail_next(self, status: int, retry_after: float | None = None) -> None:
        self._failures.append((status, retry_after))

    def throttle(self, times: int, retry_after: float = 1) -> None:
        self._failures.extend([(429, retry_after)] * times)

    # -- state, for tests ------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_order(self, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """An order shaped as ``GET /orders/<id>`` answers it; ``payload`` overrides the defaults."""
        order_id = int((payload or {}).get("id") or self._new_id())
        order = default_order(order_id, _now())
        order.update(copy.deepcopy(dict(payload or {})))
        order["id"] = order_id
        self._orders[order_id] = order
        self._notes.setdefault(order_id, [])
        self._trackings.setdefault(order_id, [])
        self._announce("order.created", order)
        return copy.deepcopy(order)

    def add_product(
        self, sku: str, *, stock: int | None = None, name: str | None = None, kind: str = "simple"
    ) -> dict[str, Any]:
        """A product (``kind="variable"`` for one with variations) with its SKU; stock managed when given."""
        product = product_body(self._new_id(), sku, name or f"Product {sku}", kind, parent_id=0, stock=stock)
        self._products[product["id"]] = product
        return copy.deepcopy(product)

    def add_variation(self, parent_sku: str, sku: str, *, stock: int | None = None) -> dict[str, Any]:
        parent = self._product_by_sku(parent_sku)
        assert parent is not None and parent["type"] == "variable", f"no variable product {parent_sku}"
        variation = product_body(self._new_id(), sku, f"{parent['name']} - {sku}", "variation", parent["id"], stock)
        self._products[variation["id"]] = variation
        parent["variations"].append(variation["id"])
        return copy.deepcopy(variation)

    def order(self, order_id: int | str) -> dict[str, Any]:
        return copy.deepcopy(self._orders[int(order_id)])

    def notes(self, order_id: int | str) -> list[dict[str, Any]]:
        return copy.deepcopy(self._notes.get(int(order_id), []))

    def trackings(self, order_id: int | str) -> list[dict[str, Any]]:
        return copy.deepcopy(self._trackings.get(int(order_id), []))

    def webhooks(self) -> list[dict[str, Any]]:
        return copy.deepcopy(list(self._webhooks.values()))

    def stock(self, sku: str) -> int | None:
        product = self._product_by_sku(sku)
        assert product is not None, f"no product {sku}"
        return product["stock_quantity"] if product["manage_stock"] else None

    def _product_by_sku(self, sku: str) -> dict[str, Any] | None:
        return next((p for p in self._products.values() if p["sku"].lower() == sku.lower()), None)

    # -- webhooks out ----------------------------------------------------------------------------

    def signature(self, secret: str, body: bytes) -> str:
        return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()

    async def send_webhook(
        self, url: str, topic: str, payload: Any, delivery_id: str | None = None, *, secret: str | None = None
    ) -> int:
        """One delivery as Woo makes it: PHP's ``json_encode`` bytes (``\\/`` escaped), signed, Woo's headers."""
        hook = next((h for h in self._webhooks.values() if h["delivery_url"] == url and h["topic"] == topic), None)
        key = secret if secret is not None else (hook["secret"] if hook else None)
        assert key is not None, f"no webhook for {topic} at {url}, and no secret given"
        body = json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()
        resource, _, event = topic.partition(".")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-WC-Webhook-Source": f"{self.base_url}/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": self.signature(key, body),
            "X-WC-Webhook-ID": str(hook["id"] if hook else 0),
            "X-WC-Webhook-Delivery-ID": delivery_id or secrets.token_hex(16),
        }
        return await self._post(url, body, headers)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        try:
            async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
                status = response.status
        except aiohttp.ClientError:
            status = 0
        self.deliveries.append({"url": url, "headers": headers, "body": body, "status": status})
        return status

    def _background(self, work: Awaitable[Any]) -> None:
        async def run() -> None:
            await work

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _announce(self, topic: str, order: dict[str, Any]) -> None:
        if not self.auto_webhooks:
            return
        for hook in list(self._webhooks.values()):
            if hook["topic"] == topic and hook["status"] == "active":
                self._background(self.send_webhook(hook["delivery_url"], topic, copy.deepcopy(order)))

    def _ping(self, hook: dict[str, Any]) -> None:
        body = f"webhook_id={hook['id']}".encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT}
        self._background(self._post(hook["delivery_url"], body, headers))

    # -- HTTP in ---------------------------------------------------------------------------------

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    async def _dispatch(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        query = dict(request.query)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        self.requests.append(RecordedRequest(request.method, request.path, query, body, headers))
        if self.down:
            html = "<h1>Briefly unavailable for scheduled maintenance. Check back in a minute.</h1>"
            return web.Response(status=503, text=html, content_type="text/html", headers={"Retry-After": "600"})
        try:
            if self._failures:
                status, retry_after = self._failures.pop(0)
                extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
                return _json(
                    {"code": "fake_failure", "message": "Injected.", "data": {"status": status}}, status, extra
                )
            if request.path.startswith(("/wp-json/wc/", "/wp-json/wc-")):
                self._authenticate(request)
            for method, pattern, handler in self._routes:
                found = pattern.match(request.path)
                if found and method == request.method:
                    self._authorize(request)
                    return await handler(Call(request, query, body, found.groupdict()))
            raise WooError(404, "rest_no_route", "No route was found matching the URL and request method.")
        except WooError as error:
            return _json(
                {"code": error.code, "message": error.message, "data": {"status": error.status, **error.data}},
                error.status,
            )

    def _credentials(self, request: web.Request) -> tuple[str, str] | None:
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None
        key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return key, secret

    def _authenticate(self, request: web.Request) -> None:
        given = self._credentials(request)
        if given is None:
            return  # anonymous: refused by each route's permission check, as WordPress does
        if not hmac.compare_digest(given[0], self.consumer_key):
            raise WooError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if not hmac.compare_digest(given[1], self.consumer_secret):
            raise WooError(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")

    def _authorize(self, request: web.Request) -> None:
        if self._credentials(request) is not None:
            return
        if request.method == "GET":
            raise WooError(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if request.method == "POST":
            raise WooError(401, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
        raise WooError(401, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")

    def _add_routes(self) -> None:
        self._route("GET", f"{WC}/orders", self._list_orders)
        self._route("GET", rf"{WC}/orders/(?P<id>\d+)", self._get_order)
        self._route("PUT", rf"{WC}/orders/(?P<id>\d+)", self._put_order)
        self._route("GET", rf"{WC}/orders/(?P<id>\d+)/notes", self._list_notes)
        self._route("POST", rf"{WC}/orders/(?P<id>\d+)/notes", self._add_note)
        self._route("GET", f"{WC}/webhooks", self._list_webhooks)
        self._route("POST", f"{WC}/webhooks", self._add_webhook)
        self._route("PUT", rf"{WC}/webhooks/(?P<id>\d+)", self._put_webhook)
        self._route("GET", f"{WC}/products", self._list_products)
        self._route("POST", f"{WC}/products/batch", self._batch_products)
        self._route("POST", rf"{WC}/products/(?P<parent>\d+)/variations/batch", self._batch_variations)
        if self.shipment_tracking:
            self._route("GET", rf"{TRACKING}/orders/(?P<id>\d+)/shipment-trackings", self._list_trackings)
            self._route("POST", rf"{TRACKING}/orders/(?P<id>\d+)/shipment-trackings", self._add_tracking)

    # -- orders ----------------------------------------------------------------------------------

    def _order_or_404(self, order_id: int, code: str = "woocommerce_rest_shop_order_invalid_id") -> dict[str, Any]:
        if order_id not in self._orders:
            raise WooError(404, code, "Invalid ID." if "shop_order" in code else "Invalid order ID.")
        return self._orders[order_id]

    async def _list_orders(self, call: Call) -> web.Response:
        params = call.params
        if params.get("orderby", "date") not in {"date", "id", "include", "title", "slug", "modified"}:
            raise _invalid("orderby", "orderby is not one of date, id, include, title, slug, and modified.")
        if params.get("order", "desc") not in {"asc", "desc"}:
            raise _invalid("order", "order is not one of asc and desc.")
        orders = list(self._orders.values())
        if "modified_after" in params:
            after = self._date_param(params, "modified_after")
            column = "date_modified_gmt" if params.get("dates_are_gmt") in {"true", "1"} else "date_modified"
            orders = [o for o in orders if datetime.fromisoformat(o[column]).replace(tzinfo=UTC) > after]
        key = "date_modified_gmt" if params.get("orderby") == "modified" else "date_created_gmt"
        key = "id" if params.get("orderby") == "id" else key
        orders.sort(key=lambda o: (o[key], o["id"]), reverse=params.get("order", "desc") == "desc")
        return _page([copy.deepcopy(o) for o in orders], params)

    def _date_param(self, params: Mapping[str, str], name: str) -> datetime:
        text = params[name]
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", text):
            raise _invalid(name, "Invalid date.")
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed

    async def _get_order(self, call: Call) -> web.Response:
        return _json(copy.deepcopy(self._order_or_404(call.id())))

    async def _put_order(self, call: Call) -> web.Response:
        order = self._order_or_404(call.id())
        if not isinstance(call.body, dict):
            raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.")
        status = call.body.get("status")
        if status is not None:
            if status not in ORDER_STATUSES:
                raise _invalid("status", f"status is not one of {', '.join(ORDER_STATUSES)}.")
            order["status"] = status
            if status == "completed":
                order["date_completed"] = order["date_completed_gmt"] = _now()
        order["date_modified"] = order["date_modified_gmt"] = _now()
        self._announce("order.updated", order)
        return _json(copy.deepcopy(order))

    async def _list_notes(self, call: Call) -> web.Response:
        self._order_or_404(call.id(), "woocommerce_rest_order_invalid_id")
        return _json(copy.deepcopy(list(reversed(self._notes[call.id()]))))

    async def _add_note(self, call: Call) -> web.Response:
        self._order_or_404(call.id(), "woocommerce_rest_order_invalid_id")
        body = call.body if isinstance(call.body, dict) else {}
        if "note" not in body:
            raise WooError(400, "rest_missing_callback_param", "Missing parameter(s): note", params=["note"])
        if not isinstance(body["note"], str) or not body["note"].strip():
            raise _invalid("note", "note is not of type string.")
        customer_note = body.get("customer_note", False)
        if not isinstance(customer_note, bool):
            raise _invalid("customer_note", "customer_note is not of type boolean.")
        note = {
            "id": self._new_id(),
            "author": "WooCommerce",
            "date_created": _now(),
            "date_created_gmt": _now(),
            "note": body["note"],
            "customer_note": customer_note,
            "added_by_user": False,
        }
        self._notes[call.id()].append(note)
        return _json(copy.deepcopy(note), 201)

    # -- webhooks --------------------------------------------------------------------------------

    def _webhook_view(self, hook: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in hook.items() if key != "secret"}  # "secret" is edit context only

    async def _list_webhooks(self, call: Call) -> web.Response:
        return _page([self._webhook_view(h) for h in self._webhooks.values()], call.params)

    def _check_webhook(self, body: dict[str, Any]) -> None:
        if "status" in body and body["status"] not in {"active", "paused", "disabled"}:
            raise _invalid("status", "status is not one of active, paused, and disabled.")

    async def _add_webhook(self, call: Call) -> web.Response:
        body = call.body if isinstance(call.body, dict) else {}
        self._check_webhook(body)
        if body.get("topic") not in WEBHOOK_TOPICS:
            raise WooError(
                400, "woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid."
            )
        if not re.match(r"^https?://\S+$", str(body.get("delivery_url") or "")):
            message = "Webhook delivery URL must be a valid URL starting with http:// or https://."
            raise WooError(400, "woocommerce_rest_webhook_invalid_delivery_url", message)
        resource, _, event = body["topic"].partition(".")
        hook = {
            "id": self._new_id(),
            "name": str(body.get("name") or f"Webhook created on {_now()}"),
            "status": body.get("status", "active"),
            "topic": body["topic"],
            "resource": resource,
            "event": event,
            "hooks": [f"woocommerce_{event}_{resource}"],
            "delivery_url": body["delivery_url"],
            "secret": str(body.get("secret") or secrets.token_urlsafe(24)),
            "date_created": _now(),
            "date_created_gmt": _now(),
        }
        self._webhooks[hook["id"]] = hook
        if hook["status"] == "active":
            self._ping(hook)
        return _json(self._webhook_view(hook), 201)

    async def _put_webhook(self, call: Call) -> web.Response:
        if call.id() not in self._webhooks:
            raise WooError(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
        body = call.body if isinstance(call.body, dict) else {}
        self._check_webhook(body)
        hook = self._webhooks[call.id()]
        hook.update({k: v for k, v in body.items() if k in {"name", "status", "secret", "delivery_url"}})
        return _json(self._webhook_view(hook))

    # -- products and stock ----------------------------------------------------------------------

    async def _list_products(self, call: Call) -> web.Response:
        skus = call.params.get("sku")
        if skus:
            wanted = {s.lower() for s in skus.split(",")} | {skus.lower()}  # Woo adds the whole string too
            found = [p for p in self._products.values() if p["sku"] and p["sku"].lower() in wanted]
        else:
            found = [p for p in self._products.values() if p["type"] != "variation"]
        return _page([copy.deepcopy(p) for p in found], call.params)

    def _batch_updates(self, call: Call) -> list[Any]:
        body = call.body if isinstance(call.body, dict) else {}
        if any(body.get(key) for key in ("create", "delete")):
            raise WooError(400, "fake_not_implemented", "This fake takes batch updates only.")
        updates = body.get("update", [])
        if not isinstance(updates, list):
            raise _invalid("update", "update is not of type array.")
        if len(updates) > 100:
            message = "Unable to accept more than 100 items for this request."
            raise WooError(413, "woocommerce_rest_request_entity_too_large", message)
        return updates

    def _apply_stock(self, item: Any, product: dict[str, Any] | None, missing_code: str) -> dict[str, Any]:
        item_id = item.get("id") if isinstance(item, dict) else None
        if product is None:
            error = {"code": missing_code, "message": "Invalid ID.", "data": {"status": 400}}
            return {"id": item_id or 0, "error": error}
        quantity, manage = item.get("stock_quantity"), item.get("manage_stock", product["manage_stock"])
        if (quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, int))) or not isinstance(
            manage, bool
        ):
            error = {
                "code": "rest_invalid_param",
                "message": "Invalid parameter(s): stock_quantity",
                "data": {"status": 400},
            }
            return {"id": item_id, "error": error}
        product["manage_stock"] = manage
        if quantity is not None:
            product["stock_quantity"] = quantity
            product["stock_status"] = "instock" if quantity > 0 else "outofstock"
        product["date_modified"] = product["date_modified_gmt"] = _now()
        return copy.deepcopy(product)

    async def _batch_products(self, call: Call) -> web.Response:
        results = []
        for item in self._batch_updates(call):
            product = self._products.get(item.get("id") if isinstance(item, dict) else -1)  # type: ignore[arg-type]
            results.append(self._apply_stock(item, product, "woocommerce_rest_product_invalid_id"))
        return _json({"update": results})

    async def _batch_variations(self, call: Call) -> web.Response:
        parent = self._products.get(call.id("parent"))
        if parent is None or parent["type"] != "variable":
            raise WooError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        results = []
        for item in self._batch_updates(call):
            found = self._products.get(item.get("id") if isinstance(item, dict) else -1)  # type: ignore[arg-type]
            variation = found if found is not None and found["parent_id"] == parent["id"] else None
            results.append(self._apply_stock(item, variation, "woocommerce_rest_product_variation_invalid_id"))
        return _json({"update": results})

    # -- Shipment Tracking extension -------------------------------------------------------------

    async def _list_trackings(self, call: Call) -> web.Response:
        self._order_or_404(call.id(), "woocommerce_rest_order_invalid_id")
        return _json(copy.deepcopy(self._trackings[call.id()]))

    async def _add_tracking(self, call: Call) -> web.Response:
        self._order_or_404(call.id(), "woocommerce_rest_order_invalid_id")
        body = call.body if isinstance(call.body, dict) else {}
        if not body.get("tracking_number"):
            raise WooError(400, "rest_missing_callback_param", "Missing parameter(s): tracking_number")
        provider = str(body.get("tracking_provider") or "")
        known = next((p for p in TRACKING_PROVIDERS if _slug(p) == _slug(provider)), None) if provider else None
        custom = str(body.get("custom_tracking_provider") or "")
        link = str(body.get("custom_tracking_link") or "")
        item = {
            "tracking_id": secrets.token_hex(16),
            # The extension stores the provider's slug and shows its listed name; an unknown one shows as empty.
            "tracking_provider": known or ("" if provider else custom),
            "tracking_link": link,
            "tracking_number": str(body["tracking_number"]),
            "date_shipped": str(body.get("date_shipped") or _now()[:10]),
            "sent": {k: body[k] for k in sorted(body)},
        }
        self._trackings[call.id()].append(item)
        return _json({k: v for k, v in item.items() if k != "sent"}, 201)


def default_order(order_id: int, now: str) -> dict[str, Any]:
    """An order as WC REST v3 renders it (the documented fields our client and mapping read, and more)."""
    address = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "",
        "address_1": "12 Analytical Row",
        "address_2": "",
        "city": "Springfield",
        "state": "IL",
        "postcode": "62701",
        "country": "US",
        "phone": "555-0100",
    }
    return {
        "id": order_id,
        "parent_id": 0,
        "number": str(order_id),
        "order_key": f"wc_order_{secrets.token_hex(6)}",
        "created_via": "checkout",
        "status": "processing",
        "currency": "USD",
        "date_created": now,
        "date_created_gmt": now,
        "date_modified": now,
        "date_modified_gmt": now,
        "date_completed": None,
        "date_completed_gmt": None,
        "discount_total": "0.00",
        "shipping_total": "5.00",
        "total": "25.00",
        "total_tax": "0.00",
        "prices_include_tax": False,
        "customer_id": 0,
        "customer_note": "",
        "billing": {**address, "email": "ada@example.com"},
        "shipping": dict(address),
        "payment_method": "stripe",
        "payment_method_title": "Credit card",
        "meta_data": [],
        "line_items": [
            {
                "id": order_id * 10 + 1,
                "name": "Widget",
                "product_id": 7,
                "variation_id": 0,
                "quantity": 2,
                "subtotal": "20.00",
                "subtotal_tax": "0.00",
                "total": "20.00",
                "total_tax": "0.00",
                "sku": "WIDGET-1",
                "price": 10.0,
                "meta_data": [],
            }
        ],
        "tax_lines": [],
        "shipping_lines": [
            {"id": order_id * 10 + 2, "method_title": "Flat rate", "method_id": "flat_rate", "total": "5.00"}
        ],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [],
    }


def product_body(product_id: int, sku: str, name: str, kind: str, parent_id: int, stock: int | None) -> dict[str, Any]:
    """A product (or, with ``type: variation``, a variation) as ``GET /products`` lists it."""
    now = _now()
    return {
        "id": product_id,
        "name": name,
        "type": kind,
        "status": "publish",
        "sku": sku,
        "parent_id": parent_id,
        "manage_stock": stock is not None,
        "stock_quantity": stock,
        "stock_status": "instock" if stock is None or stock > 0 else "outofstock",
        "variations": [],
        "date_modified": now,
        "date_modified_gmt": now,
    }
