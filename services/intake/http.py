"""Intake's HTTP API: the channel API (orders) and the admin API (channels). Thin: validation is in
``domain``, storage in ``repository``."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import asyncpg
import structlog
from aiohttp import web

from services.intake import domain, repository
from shared.contracts.orders import OrderCancelled, OrderCancelledData, OrderReceived
from shared.http import (
    ADMIN_TOKEN_KEY,
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
from shared.messaging.outbox import enqueue
from shared.service import Runtime

CANCELLABLE = {"received", "held", "routed", "partially_shipped"}


class IntakeApi:
    def __init__(self, runtime: Runtime, session: aiohttp.ClientSession) -> None:
        self.runtime = runtime
        self.pool = runtime.pool
        self.session = session
        self.admin_token = runtime.app[ADMIN_TOKEN_KEY]

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/orders", self.create_order),
            web.get("/v1/orders/{order_id}", self.get_order),
            web.post("/v1/orders/{order_id}/cancel", self.cancel_order),
            web.put("/v1/channels/{code}", self.put_channel),
            web.get("/v1/channels/{code}", self.get_channel),
            web.post("/v1/channels/{code}/key", self.rotate_key),
        ]

    async def _caller_channel(self, request: web.Request) -> str | None:
        """The channel the caller may act for; ``None`` means the admin, who may act for any."""
        refuse_if_throttled(request)
        token = bearer_token(request)
        if token is None:
            raise unauthorized(request, "missing or malformed Authorization: Bearer <channel key or admin token>")
        if constant_time_equal(token, self.admin_token):
            return None
        channel = await repository.channel_for_key(self.pool, domain.hash_api_key(token))
        if channel is None:
            raise unauthorized(request, "unknown key")
        return channel

    async def create_order(self, request: web.Request) -> web.Response:
        caller = await self._caller_channel(request)
        order_request = await read_model(request, domain.OrderRequest)
        if caller is not None and caller != order_request.channel:
            raise ApiError(403, "forbidden", f"this key belongs to channel {caller!r}")
        order = domain.to_order_received(domain.new_order_id(), order_request)
        structlog.contextvars.bind_contextvars(order_id=order.order_id)
        try:
            received_at = await repository.insert_order_announced(
                self.pool, order, OrderReceived(correlation_id=order.order_id, data=order)
            )
        except asyncpg.ForeignKeyViolationError:
            raise ApiError(422, "invalid", "unknown channel", {"channel": f"no channel {order.channel!r}"}) from None
        if received_at is None:
            existing = await repository.get_order_by_external_id(self.pool, order.channel, order.external_id)
            assert existing is not None
            structlog.contextvars.bind_contextvars(order_id=existing.id)
            return json_response(await self._order_view(existing.id, with_progress=False), status=200)
        self.runtime.relay.wake()
        structlog.get_logger().info("order accepted", channel=order.channel, order_number=order.order_number)
        # The split happens after this answer, so there is nothing to ask the other services yet;
        # the answer is built from what was just stored rather than read back.
        payload = order.model_dump(mode="json")
        body = {
            **payload,
            "id": order.order_id,
            "status": "received",
            "channel_status": payload.get("status"),
            "received_at": received_at,
        }
        return json_response(body, status=201)

    async def _load_for_caller(self, request: web.Request) -> repository.StoredOrder:
        caller = await self._caller_channel(request)
        order_id = request.match_info["order_id"]
        order = await repository.get_order(self.pool, order_id)
        if order is None:
            raise ApiError(404, "not_found", f"no order {order_id!r}")
        if caller is not None and caller != order.channel:
            raise ApiError(403, "forbidden", "this order belongs to another channel")
        structlog.contextvars.bind_contextvars(order_id=order.id)
        return order

    async def get_order(self, request: web.Request) -> web.Response:
        order = await self._load_for_caller(request)
        return json_response(await self._order_view(order.id))

    async def cancel_order(self, request: web.Request) -> web.Response:
        await self._load_for_caller(request)
        reason = None
        if request.can_read_body and (await request.read()).strip():
            payload = await read_json(request)
            reason = str(payload.get("reason"))[:500] if isinstance(payload, dict) and payload.get("reason") else None
        order_id = request.match_info["order_id"]
        async with self.pool.acquire() as connection, connection.transaction():
            order = await repository.get_order(connection, order_id, lock=True)
            assert order is not None
            if order.status == "cancelled":
                return json_response(await self._order_view(order_id))
            if order.status not in CANCELLABLE:
                raise ApiError(409, "not_cancellable", f"the order is {order.status}")
            await repository.set_status(connection, order_id, "cancelled", cause="cancel request")
            await enqueue(
                connection,
                OrderCancelled(correlation_id=order_id, data=OrderCancelledData(order_id=order_id, reason=reason)),
            )
        self.runtime.relay.wake()
        structlog.get_logger().info("order cancelled", reason=reason)
        return json_response(await self._order_view(order_id), status=202)

    async def _fetch(self, url: str) -> Any:
        try:
            async with self.session.get(url, headers={"Authorization": f"Bearer {self.admin_token}"}) as response:
                if response.status == 404:
                    return None
                if response.status != 200:
                    return {"unavailable": f"HTTP {response.status}"}
                return await response.json()
        except (aiohttp.ClientError, TimeoutError) as error:
            return {"unavailable": type(error).__name__}

    async def _order_view(self, order_id: str, *, with_progress: bool = True) -> dict[str, Any]:
        """The stored order with its status; with its split, shipments and history when asked."""
        order = await repository.get_order(self.pool, order_id)
        assert order is not None
        if not with_progress:
            return {**order.payload, **self._status_fields(order, order.status), "received_at": order.received_at}
        settings = self.runtime.settings
        routing, shipments, history, deliveries = await asyncio.gather(
            self._fetch(f"{settings.service_url('splitter')}/v1/orders/{order_id}/routing"),
            self._fetch(f"{settings.service_url('tracking')}/v1/orders/{order_id}/shipments"),
            repository.status_history(self.pool, order_id),
            repository.deliveries_for_order(self.pool, order_id),
        )
        status = order.status
        hold_reason = None
        if isinstance(routing, dict) and routing.get("state") == "held":
            hold_reason = routing.get("hold_reason")
            if status == "received":
                status = "held"
        elif isinstance(routing, dict) and routing.get("state") == "routed" and status == "received":
            status = "routed"
        return {
            **order.payload,
            **self._status_fields(order, status),
            "hold_reason": hold_reason,
            "received_at": order.received_at,
            "updated_at": order.updated_at,
            "cancelled_at": order.cancelled_at,
            "split": routing,
            "shipments": shipments.get("shipments", shipments) if isinstance(shipments, dict) else [],
            "status_history": history,
            "upstream_deliveries": deliveries,
        }

    @staticmethod
    def _status_fields(order: repository.StoredOrder, status: str) -> dict[str, Any]:
        # The request's "status" is the channel's payment status; the answer's is where the order is.
        return {"id": order.id, "status": status, "channel_status": order.payload.get("status")}

    async def put_channel(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = request.match_info["code"]
        if not domain.CHANNEL_CODE.match(code):
            raise ApiError(400, "invalid_code", "a channel code is 1-50 of a-z, 0-9, '-' and '_'")
        channel_request = validate_model(domain.ChannelRequest, await read_json(request))
        api_key = domain.new_api_key()
        generated_secret = domain.new_webhook_secret()
        async with self.pool.acquire() as connection, connection.transaction():
            created = await repository.upsert_channel(
                connection,
                code,
                channel_request.name,
                channel_request.webhook_url,
                channel_request.webhook_secret,
                generated_secret,
                domain.hash_api_key(api_key),
            )
        channel = await repository.get_channel(self.pool, code)
        assert channel is not None
        body: dict[str, Any] = {"code": code, "name": channel.name, "webhook_url": channel.webhook_url}
        if created:
            body["api_key"] = api_key
        if channel_request.webhook_secret is None and channel.webhook_secret == generated_secret:
            body["webhook_secret"] = generated_secret
        return json_response(body, status=201 if created else 200)

    async def get_channel(self, request: web.Request) -> web.Response:
        require_admin(request)
        channel = await repository.get_channel(self.pool, request.match_info["code"])
        if channel is None:
            raise ApiError(404, "not_found", "no such channel")
        return json_response({"code": channel.code, "name": channel.name, "webhook_url": channel.webhook_url})

    async def rotate_key(self, request: web.Request) -> web.Response:
        require_admin(request)
        api_key = domain.new_api_key()
        if not await repository.rotate_key(self.pool, request.match_info["code"], domain.hash_api_key(api_key)):
            raise ApiError(404, "not_found", "no such channel")
        return json_response({"code": request.match_info["code"], "api_key": api_key})
