"""HTTP plumbing every service shares: JSON errors, body parsing, access checks, health and metrics.

Errors are JSON ``{"error": <code>, "detail": ..., "fields": {...}}``; the caller's mistakes are 4xx,
never 500.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel, ValidationError

from shared.logging import get_logger

log = get_logger(__name__)
Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: Any = None, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail
        self.fields = dict(fields or {})
        self.headers: dict[str, str] = {}


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(body, default=_json_default, ensure_ascii=False),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error_body(error: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error.error, "detail": error.detail}
    if error.fields:
        body["fields"] = error.fields
    return body


def validation_fields(error: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "body"
        fields.setdefault(location, item["msg"])
    return fields


async def read_json(request: web.Request) -> Any:
    """The body as JSON; numbers with a fraction become Decimal so money is never a float."""
    raw = await request.read()
    if not raw.strip():
        raise ApiError(400, "empty_body", "a JSON body is required")
    try:
        return json.loads(raw, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {error}") from None


async def read_model(request: web.Request, model: type[Model]) -> Model:
    payload = await read_json(request)
    if not isinstance(payload, dict):
        raise ApiError(400, "malformed_json", "the body must be a JSON object")
    return validate_model(model, payload)


def validate_model(model: type[Model], payload: Any) -> Model:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise ApiError(422, "invalid", "the request has invalid fields", validation_fields(error)) from None


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def constant_time_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def require_admin(request: web.Request) -> None:
    token = bearer_token(request)
    expected: str = request.app[ADMIN_TOKEN_KEY]
    if token is None:
        raise ApiError(401, "unauthorized", "missing Authorization: Bearer <admin token>")
    if not constant_time_equal(token, expected):
        raise ApiError(401, "unauthorized", "wrong token")


ADMIN_TOKEN_KEY = web.AppKey("admin_token", str)
REGISTRY_KEY = web.AppKey("metrics_registry", CollectorRegistry)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests", "HTTP requests answered", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds", "HTTP request latency", ["method", "route"], registry=registry
        )


def error_middleware(metrics: HttpMetrics) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
        try:
            response = await handler(request)
        except ApiError as error:
            response = json_response(error_body(error), status=error.status, headers=error.headers)
        except web.HTTPRequestEntityTooLarge:
            limit = request.app._client_max_size
            response = json_response(
                {"error": "body_too_large", "detail": f"the body exceeds the limit of {limit} bytes"}, status=413
            )
        except web.HTTPException as error:
            if error.status >= 400:
                response = json_response(
                    {"error": error.reason.lower().replace(" ", "_"), "detail": error.text or error.reason},
                    status=error.status,
                    headers={k: v for k, v in error.headers.items() if k.lower() == "allow"},
                )
            else:
                raise
        except Exception:
            log.exception("unhandled error", path=request.path, method=request.method)
            response = json_response({"error": "internal", "detail": "internal error"}, status=500)
        metrics.requests.labels(request.method, route, str(response.status)).inc()
        metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    return middleware
