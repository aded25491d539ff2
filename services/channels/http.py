"""The channels service's HTTP API. Admin (admin token): shops, their tasks and platform orders, a
reconcile on demand. Platforms (their signatures): ``/hooks/shopify/{shop}`` and
``/hooks/woocommerce/{shop}``, answered as soon as the webhook is queued. Each handler parses, calls
one use case, answers; domain errors become status codes here and nowhere else."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from aiohttp import web

from services.channels.intake import IntakeRefused, IntakeUnavailable
from services.channels.requests import Code, ShopRequest
from services.channels.store import shops as shop_store
from services.channels.store import stock, tasks
from services.channels.use_cases import inbound, shops
from services.channels.use_cases.context import ChannelsPorts, UnknownShop
from services.channels.use_cases.reconcile import reconcile_shop
from shared.http import ApiError, json_response, read_model, refuse_if_throttled, require_admin
from shared.logging import get_logger
from shared.throttle import record_auth_failure

log = get_logger(__name__)

MAX_LIST = 500
TASK_STATES = ("pending", "done", "failed")
ORDER_STATES = ("open", "cancelled", "skipped")
_CODE = Code.__metadata__[0].pattern  # type: ignore[attr-defined]


@contextlib.contextmanager
def _answer_errors() -> Iterator[None]:
    try:
        yield
    except UnknownShop as error:
        raise ApiError(404, "unknown_shop", f"no shop {error}: PUT /v1/shops/{error}") from None
    except shops.InvalidShop as error:
        raise ApiError(422, "invalid", str(error), error.fields) from None
    except shops.ChannelTaken as error:
        raise ApiError(409, "channel_taken", str(error)) from None
    except IntakeUnavailable as error:
        raise ApiError(503, "intake_unavailable", str(error)) from None
    except IntakeRefused as error:
        raise ApiError(502, "intake_refused", str(error)) from None


def _code(request: web.Request) -> str:
    code = request.match_info["shop"]
    if not re.fullmatch(_CODE, code):
        raise ApiError(400, "invalid_code", "a shop code is 1-50 of a-z, 0-9, '-' and '_'")
    return code


def _limit(request: web.Request) -> int:
    text = request.query.get("limit", "100")
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIST:
        raise ApiError(400, "invalid_limit", f"limit is a whole number from 1 to {MAX_LIST}")
    return int(text)


def _state(request: web.Request, allowed: tuple[str, ...]) -> str | None:
    state = request.query.get("state")
    if state is not None and state not in allowed:
        raise ApiError(400, "invalid_state", f"state is one of {', '.join(allowed)}")
    return state


class ChannelsApi:
    def __init__(self, ports: ChannelsPorts) -> None:
        self.ports = ports

    def routes(self) -> list[web.RouteDef]:
        return [
            web.put("/v1/shops/{shop}", self.put_shop),
            web.get("/v1/shops", self.list_shops),
            web.get("/v1/shops/{shop}", self.get_shop),
            web.get("/v1/shops/{shop}/tasks", self.list_tasks),
            web.post("/v1/shops/{shop}/tasks/{seq}/retry", self.retry_task),
            web.get("/v1/shops/{shop}/orders", self.list_orders),
            web.get("/v1/shops/{shop}/stock/{sku}", self.get_stock),
            web.post("/v1/shops/{shop}/reconcile", self.reconcile),
            web.post("/hooks/shopify/{shop}", self.shopify_hook),
            web.post("/hooks/woocommerce/{shop}", self.woocommerce_hook),
        ]

    async def put_shop(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = _code(request)
        body = await read_model(request, ShopRequest)
        with _answer_errors():
            view, created = await shops.put_shop(self.ports, code, body)
        self.ports.wake_reconciler()
        return json_response(view, 201 if created else 200)

    async def list_shops(self, request: web.Request) -> web.Response:
        require_admin(request)
        return json_response({"shops": await shops.list_shops(self.ports)})

    async def get_shop(self, request: web.Request) -> web.Response:
        require_admin(request)
        with _answer_errors():
            return json_response(await shops.shop_view(self.ports, _code(request)))

    async def _known(self, code: str) -> None:
        if await shop_store.get(self.ports.pool, code) is None:
            raise ApiError(404, "unknown_shop", f"no shop {code}")

    async def list_tasks(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = _code(request)
        await self._known(code)
        rows = await tasks.listed(self.ports.pool, code, _state(request, TASK_STATES), _limit(request))
        return json_response({"tasks": rows})

    async def retry_task(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = _code(request)
        seq = request.match_info["seq"]
        if not seq.isdigit():
            raise ApiError(400, "invalid_seq", "a task is named by its number")
        if not await tasks.retry_failed(self.ports.pool, code, int(seq)):
            raise ApiError(404, "no_failed_task", f"shop {code} has no failed task {seq}")
        self.ports.wake_worker()
        return json_response({"seq": int(seq), "state": "pending"}, 202)

    async def list_orders(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = _code(request)
        await self._known(code)
        rows = await shop_store.platform_orders(self.ports.pool, code, _state(request, ORDER_STATES), _limit(request))
        return json_response({"orders": [row.__dict__ for row in rows]})

    async def get_stock(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = _code(request)
        level = await stock.level(self.ports.pool, code, request.match_info["sku"])
        if level is None:
            raise ApiError(404, "unknown_level", "no stock level for that SKU in this shop")
        return json_response(level)

    async def reconcile(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = _code(request)
        with _answer_errors():
            queued = await reconcile_shop(self.ports, code)
        return json_response({"shop": code, "queued": queued})

    async def shopify_hook(self, request: web.Request) -> web.Response:
        return await self._hook(request, "shopify")

    async def woocommerce_hook(self, request: web.Request) -> web.Response:
        return await self._hook(request, "woocommerce")

    async def _hook(self, request: web.Request, platform: str) -> web.Response:
        refuse_if_throttled(request)  # bad signatures count against the address, as wrong tokens do
        code = _code(request)
        if request.content_length is not None and request.content_length > self.ports.settings.max_webhook_bytes:
            raise ApiError(413, "too_large", "the webhook body is larger than this service accepts")
        body = await request.content.read(self.ports.settings.max_webhook_bytes + 1)
        if len(body) > self.ports.settings.max_webhook_bytes:
            raise ApiError(413, "too_large", "the webhook body is larger than this service accepts")
        try:
            shop = await self.ports.shop(code)
        except UnknownShop:
            raise ApiError(404, "unknown_shop", f"no shop {code}") from None
        if shop.kind.name != platform:
            raise ApiError(404, "unknown_shop", f"shop {code} is not a {platform} shop")
        try:
            received = await inbound.receive_webhook(self.ports, shop, request.headers, request.content_type, body)
        except inbound.BadSignature:
            record_auth_failure(request)
            raise ApiError(401, "bad_signature", "the signature does not match the body") from None
        except inbound.BadWebhook as error:
            raise ApiError(400, "bad_webhook", str(error)) from None
        if received.ping:
            return json_response({"status": "ping"})
        return json_response({"status": "queued" if received.queued else "duplicate"})
