"""Intake's HTTP API: the channel API (orders), the admin API (channels) and the listings for ops (the
orders listing, an order's timeline, the channels). Each route authenticates, parses, calls one use
case (:mod:`services.intake.use_cases`, :mod:`services.intake.views`) and answers; the use cases'
refusals become the JSON errors below."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from services.intake import domain, order_counts, order_search, use_cases, views
from services.intake.channel_keys import ChannelKeys
from services.intake.fields import CHANNEL_CODE
from services.intake.ports import Database, Listing, OrderProgress, OutboxWritten
from shared.contracts.envelope import utc_now
from shared.http import (
    ApiError,
    bearer_token,
    constant_time_equal,
    json_response,
    read_json,
    read_model,
    refuse_if_throttled,
    require_admin,
    unauthorized,
    validate_model,
)
from shared.secrets import SecretBox

Route = Callable[[web.Request], Awaitable[web.Response]]


def _api_error(error: domain.IntakeError) -> ApiError:
    if isinstance(error, domain.OrderNotFound):
        return ApiError(404, "not_found", str(error))
    if isinstance(error, domain.ChannelNotFound):
        return ApiError(404, "not_found", "no such channel")
    if isinstance(error, domain.ForeignChannel):
        return ApiError(403, "forbidden", f"this key belongs to channel {error.caller!r}")
    if isinstance(error, domain.NotCancellable):
        return ApiError(409, "not_cancellable", str(error))
    if isinstance(error, domain.CancelledOrder):
        return ApiError(409, "order_cancelled", str(error))
    if isinstance(error, domain.UnknownChannel):
        return ApiError(422, "invalid", "unknown channel", {"channel": str(error)})
    raise error  # pragma: no cover - every IntakeError is mapped above


def _answering_errors(route: Route) -> Route:
    async def answering(request: web.Request) -> web.Response:
        try:
            return await route(request)
        except domain.IntakeError as error:
            raise _api_error(error) from None

    return answering


class IntakeApi:
    def __init__(
        self,
        db: Database,
        listing: Listing,
        progress: OrderProgress,
        secrets: SecretBox,
        *,
        admin_token: str,
        outbox_written: OutboxWritten,
    ) -> None:
        self.db = db
        self.listing = listing
        self.progress = progress
        self.secrets = secrets
        self.admin_token = admin_token
        self.outbox_written = outbox_written
        self.keys = ChannelKeys(lambda api_key: use_cases.channel_for_key(db, api_key))

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/orders", _answering_errors(self.create_order)),
            web.get("/v1/orders", _answering_errors(self.list_orders)),
            # Before /v1/orders/{order_id}, which would take "counts" for an order id.
            web.get("/v1/orders/counts", _answering_errors(self.order_counts)),
            web.get("/v1/orders/{order_id}", _answering_errors(self.get_order)),
            web.get("/v1/orders/{order_id}/history", _answering_errors(self.order_history)),
            web.post("/v1/orders/{order_id}/cancel", _answering_errors(self.cancel_order)),
            web.post("/v1/orders/{order_id}/status", _answering_errors(self.change_status)),
            web.get("/v1/channels", _answering_errors(self.list_channels)),
            web.put("/v1/channels/{code}", _answering_errors(self.put_channel)),
            web.get("/v1/channels/{code}", _answering_errors(self.get_channel)),
            web.post("/v1/channels/{code}/key", _answering_errors(self.rotate_key)),
        ]

    async def _caller(self, request: web.Request) -> domain.Caller:
        """Who calls: a channel by its key, or the admin (who may act for any channel)."""
        refuse_if_throttled(request)
        token = bearer_token(request)
        if token is None:
            raise unauthorized(request, "missing or malformed Authorization: Bearer <channel key or admin token>")
        if constant_time_equal(token, self.admin_token):
            return domain.ADMIN
        channel = await self.keys.channel_for(token)
        if channel is None:
            raise unauthorized(request, "unknown key")
        return domain.Caller(channel)

    async def create_order(self, request: web.Request) -> web.Response:
        caller = await self._caller(request)
        order_request = await read_model(request, domain.OrderRequest)
        answer = await use_cases.create_order(self.db, order_request, caller, outbox_written=self.outbox_written)
        return json_response(answer.body, status=201 if answer.changed else 200)

    async def get_order(self, request: web.Request) -> web.Response:
        caller = await self._caller(request)
        view = await use_cases.get_order_view(self.db, self.progress, request.match_info["order_id"], caller)
        return json_response(view)

    async def list_orders(self, request: web.Request) -> web.Response:
        # A channel's key is a real credential but not for this: 403, not counted as a failed login.
        if await self._caller(request) != domain.ADMIN:
            raise ApiError(403, "forbidden", "the orders listing is for the admin token only")
        try:
            search = order_search.parse_search(request.query)
        except order_search.InvalidSearch as error:
            raise ApiError(400, error.code, str(error)) from None
        return json_response(await views.search_orders(self.listing, search))

    async def order_counts(self, request: web.Request) -> web.Response:
        if await self._caller(request) != domain.ADMIN:
            raise ApiError(403, "forbidden", "the order figures are for the admin token only")
        now = utc_now()
        try:
            counts = order_counts.parse_counts(request.query, now)
        except order_search.InvalidSearch as error:
            raise ApiError(400, error.code, str(error)) from None
        return json_response(await views.order_counts(self.listing, counts, now))

    async def order_history(self, request: web.Request) -> web.Response:
        caller = await self._caller(request)
        return json_response(await views.order_history(self.db, request.match_info["order_id"], caller))

    async def cancel_order(self, request: web.Request) -> web.Response:
        caller = await self._caller(request)
        cancel_request = await _read_cancel_request(request)
        answer = await use_cases.cancel_order(
            self.db,
            self.progress,
            request.match_info["order_id"],
            caller,
            cancel_request.reason,
            outbox_written=self.outbox_written,
        )
        return json_response(answer.body, status=202 if answer.changed else 200)

    async def change_status(self, request: web.Request) -> web.Response:
        caller = await self._caller(request)
        status_request = await read_model(request, domain.StatusRequest)
        answer = await use_cases.change_channel_status(
            self.db,
            self.progress,
            request.match_info["order_id"],
            caller,
            status_request.status,
            outbox_written=self.outbox_written,
        )
        return json_response(answer.body, status=202 if answer.changed else 200)

    async def list_channels(self, request: web.Request) -> web.Response:
        require_admin(request)
        return json_response(await views.list_channels(self.listing))

    async def put_channel(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = request.match_info["code"]
        if not CHANNEL_CODE.match(code):
            raise ApiError(400, "invalid_code", "a channel code is 1-50 of a-z, 0-9, '-' and '_'")
        channel_request = validate_model(domain.ChannelRequest, await read_json(request))
        answer = await use_cases.put_channel(self.db, code, channel_request, self.secrets)
        return json_response(answer.body, status=201 if answer.changed else 200)

    async def get_channel(self, request: web.Request) -> web.Response:
        require_admin(request)
        return json_response(await use_cases.get_channel(self.db, request.match_info["code"]))

    async def rotate_key(self, request: web.Request) -> web.Response:
        require_admin(request)
        rotated = await use_cases.rotate_key(self.db, request.match_info["code"])
        self.keys.forget()
        return json_response(rotated)


async def _read_cancel_request(request: web.Request) -> domain.CancelRequest:
    """No body (or only whitespace) is a cancel without a reason; anything else must be the object."""
    if not request.can_read_body or not (await request.read()).strip():
        return domain.CancelRequest()
    payload: Any = await read_json(request)
    if not isinstance(payload, dict):
        raise ApiError(400, "malformed_json", "the body must be a JSON object (or empty)")
    return validate_model(domain.CancelRequest, payload)
