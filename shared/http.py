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

from shared.db import database_unavailable
from shared.logging import get_logger
from shared.throttle import record_auth_failure, throttled_for

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


def _refuse_non_standard_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def read_json(request: web.Request) -> Any:
    """The body as JSON; numbers with a fraction become Decimal so money is never a float."""
    raw = await request.read()
    if not raw.strip():
        raise ApiError(400, "empty_body", "a JSON body is required")
    try:
        # NaN and Infinity are Python's extension, not JSON: refused rather than let through as floats.
        return json.loads(raw, parse_float=Decimal, parse_constant=_refuse_non_standard_constant)
    except RecursionError:
        # Thousands of nested brackets: the decoder recurses once per level.
        raise ApiError(400, "malformed_json", "the body is nested too deeply") from None
    except ValueError as error:
        # JSONDecodeError and UnicodeDecodeError are ValueErrors, and so is an integer with more digits
        # than Python converts (sys.get_int_max_str_digits).
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {error}") from None


async def read_model(request: web.Request, model: type[Model]) -> Model:
    payload = await read_json(request)
    if not isinstance(payload, dict):
        raise ApiError(400, "malformed_json", "the body must be a JSON object")
    # The decoder refuses a raw control character in a string, so U+0000 can reach the payload only
    # as the escape: a body without it needs no search (the search was a tenth of intake's order CPU).
    return validate_model(model, payload, may_hold_nul=NUL_ESCAPE in await request.read())


NUL_ESCAPE = b"\\u0000"
"""U+0000 as a JSON text must write it (JSON has no other escape for it, and ``\\U`` is no escape)."""


def nul_character_fields(payload: Any) -> dict[str, str]:
    """Where ``payload`` holds a string with U+0000, by dotted location (keys included)."""
    problem = "must not contain the NUL character (U+0000)"
    found: dict[str, str] = {}
    # Iterative: the JSON decoder allows nesting deeper than the interpreter's stack has room left for.
    pending: list[tuple[str, Any]] = [("", payload)]
    while pending:
        location, value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found[location or "body"] = problem
        elif isinstance(value, dict):
            for key, item in value.items():
                path = f"{location}.{key}" if location else str(key)
                if "\x00" in str(key):
                    found[path] = problem
                pending.append((path, item))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                pending.append((f"{location}.{index}" if location else str(index), item))
    return found


def validate_model(model: type[Model], payload: Any, *, may_hold_nul: bool = True) -> Model:
    """``payload`` as ``model``, or the 422 naming each invalid field. ``may_hold_nul``: False when the
    caller knows no string of ``payload`` holds U+0000 (skips looking for it)."""
    try:
        validated = model.model_validate(payload)
    except ValidationError as error:
        raise ApiError(422, "invalid", "the request has invalid fields", validation_fields(error)) from None
    # PostgreSQL's text and jsonb cannot store U+0000: refused here, naming the field, rather than
    # failing later as a database error. Only what the model kept is looked at: an unknown field is
    # ignored, whatever it holds.
    nul_fields = nul_character_fields(validated.model_dump(exclude_unset=True)) if may_hold_nul else {}
    if nul_fields:
        raise ApiError(422, "invalid", "the request has invalid fields", nul_fields)
    return validated


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        # aiohttp keeps header bytes that are not UTF-8 as lone surrogates, which no token holds and
        # which cannot be hashed or compared: such a header counts as no token at all.
        token.encode()
    except UnicodeEncodeError:
        return None
    return token.strip()


def constant_time_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def refuse_if_throttled(request: web.Request) -> None:
    """``429`` before any credential is looked at, while the caller's address has failed too often."""
    wait = throttled_for(request)
    if wait is not None:
        error = ApiError(
            429,
            "too_many_failures",
            f"too many failed authentications from this address; try again in {wait} s",
        )
        error.headers["Retry-After"] = str(wait)
        raise error


def unauthorized(request: web.Request, detail: str) -> ApiError:
    """The ``401`` for missing or wrong credentials, counted against the caller's address."""
    record_auth_failure(request)
    return ApiError(401, "unauthorized", detail)


def require_admin(request: web.Request) -> None:
    refuse_if_throttled(request)
    token = bearer_token(request)
    expected: str = request.app[ADMIN_TOKEN_KEY]
    if token is None:
        raise unauthorized(request, "missing or malformed Authorization: Bearer <admin token>")
    if not constant_time_equal(token, expected):
        raise unauthorized(request, "wrong token")


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
        except Exception as error:
            if database_unavailable(error):
                # Not the caller's mistake and not a bug: PostgreSQL is restarting or out of connections.
                log.warning("database unavailable", path=request.path, method=request.method, error=repr(error))
                response = json_response(
                    {"error": "unavailable", "detail": "the database is unavailable; try again shortly"},
                    status=503,
                    headers={"Retry-After": "1"},
                )
            else:
                log.exception("unhandled error", path=request.path, method=request.method)
                response = json_response({"error": "internal", "detail": "internal error"}, status=500)
        metrics.requests.labels(request.method, route, str(response.status)).inc()
        metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    return middleware
