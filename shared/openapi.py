"""OpenAPI documents of the services' HTTP APIs, built in code.

Each service lists its operations in ``services/<name>/openapi.py``; :func:`build_document` adds what
every service shares: the health routes, the error body, the security schemes, the answers that
follow from an operation's access (401, 429) and from its JSON body (400, 413, 422), and the JSON
schemas of the pydantic models the operations name (request models as validated, response models as
serialised). Each service serves its document at ``GET /openapi.json``.

``python -m shared.openapi docs/openapi`` (``make openapi``) writes ``docs/openapi/<service>.json``; a
test fails when a committed document differs from what the code generates.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.openapi_requests import RequestSchemas
from shared.settings import ServiceName

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
REF_TEMPLATE = "#/components/schemas/{model}"
ERROR_REF = {"$ref": "#/components/schemas/Error"}

Access = Literal["public", "admin", "channel", "vendor", "shipstation", "platform"]
Schema = Mapping[str, Any] | type[BaseModel]
DocumentBuilder = Callable[[], dict[str, Any]]

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error of the JSON APIs: what went wrong, and for invalid fields which ones and why.",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "A stable code: unauthorized, invalid, not_found, …"},
        "detail": {"description": "What is wrong, for people (usually a sentence)."},
        "fields": {
            "type": "object",
            "description": "Per invalid field, by dotted location (ship_to.address1, lines.0.quantity): the problem.",
            "additionalProperties": {"type": "string"},
        },
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "adminToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The admin token: DROPSHIP_ADMIN_TOKEN, else the file `make run` writes "
        "(.dropship/admin-token).",
    },
    "vendorKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A vendor's API key (answered once by the gateway's PUT /v1/connections/{vendor}); it acts only"
        " for its own vendor orders.",
    },
    "channelKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A sales channel's API key (answered once by PUT /v1/channels/{code}); it acts only for its "
        "own channel.",
    },
    "shipstationBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "The ShipStation vendor's username and password (POST /v1/shipstation/{vendor}/credentials).",
    },
    # Platform webhooks: base64 HMAC-SHA256 of the raw body under the shop's webhook secret.
    "shopifyHmac": {"type": "apiKey", "in": "header", "name": "X-Shopify-Hmac-Sha256"},
    "wooSignature": {"type": "apiKey", "in": "header", "name": "X-WC-Webhook-Signature"},
    "shipstationUserName": {"type": "apiKey", "in": "query", "name": "SS-UserName"},
    "shipstationPassword": {"type": "apiKey", "in": "query", "name": "SS-Password"},
}

SECURITY: dict[Access, list[dict[str, list[str]]]] = {
    "public": [],
    "admin": [{"adminToken": []}],
    "channel": [{"channelKey": []}, {"adminToken": []}],
    "vendor": [{"vendorKey": []}, {"adminToken": []}],
    # ShipStation sends Basic auth and appends the same credentials to the query; either is enough.
    "shipstation": [{"shipstationBasic": []}, {"shipstationUserName": [], "shipstationPassword": []}],
    "platform": [{"shopifyHmac": []}, {"wooSignature": []}],
}

TEXT: dict[str, Any] = {"type": "string"}


@dataclass(frozen=True)
class Body:
    """A request or response body: a JSON schema, or a pydantic model whose schema is taken."""

    schema: Schema
    media_types: tuple[str, ...] = ("application/json",)


@dataclass(frozen=True)
class Reply:
    description: str
    body: Body | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """Response headers that are always sent with this answer, with what they mean."""


@dataclass(frozen=True)
class Parameter:
    name: str
    location: Literal["path", "query", "header"]
    schema: Mapping[str, Any]
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    access: Access
    replies: Mapping[int, Reply]
    parameters: tuple[Parameter, ...] = ()
    request: Body | None = None
    request_required: bool = True
    description: str = ""
    tag: str = ""


def path_parameter(name: str, description: str, **schema: Any) -> Parameter:
    return Parameter(name, "path", {"type": "string", **schema}, description, required=True)


def error(description: str) -> Reply:
    return Reply(description, Body(ERROR_REF))


def text_error(description: str, headers: Mapping[str, str] | None = None) -> Reply:
    return Reply(description, Body(TEXT, ("text/plain",)), headers or {})


def json_reply(description: str, schema: Schema) -> Reply:
    return Reply(description, Body(schema))


RETRY_AFTER = {"Retry-After": "Seconds to wait before trying again."}

_ACCESS_REPLIES: dict[Access, dict[int, Reply]] = {
    "public": {},
    "admin": {
        401: error("Missing, malformed or wrong admin token."),
        429: Reply("Too many failed authentications from this address lately.", Body(ERROR_REF), RETRY_AFTER),
    },
    "channel": {
        401: error("Missing, malformed or unknown channel key (or admin token)."),
        429: Reply("Too many failed authentications from this address lately.", Body(ERROR_REF), RETRY_AFTER),
    },
    "vendor": {
        401: error("Missing, malformed or unknown vendor key (or admin token)."),
        429: Reply("Too many failed authentications from this address lately.", Body(ERROR_REF), RETRY_AFTER),
    },
    "shipstation": {
        401: text_error(
            "Wrong or missing credentials.", {"WWW-Authenticate": 'Basic realm="Dropship Router"; what to send.'}
        ),
        429: text_error("Too many failed logins from this address lately.", RETRY_AFTER),
    },
    "platform": {
        401: error("The signature does not match the raw body under the shop's webhook secret."),
        429: Reply("Too many bad signatures from this address lately.", Body(ERROR_REF), RETRY_AFTER),
    },
}

_JSON_BODY_REPLIES: dict[int, Reply] = {
    400: error("The body is not a JSON object (malformed_json, empty_body), or a path segment is invalid."),
    413: error("The body is larger than the service accepts (DROPSHIP_MAX_BODY_BYTES)."),
    422: error("Fields are missing or invalid; `fields` names each one."),
}


def health_operations(service: str) -> list[Operation]:
    """``/healthz``, ``/readyz``, ``/metrics`` and ``/openapi.json``, which every service serves."""
    return [
        Operation(
            "get",
            "/healthz",
            "healthz",
            "The process is alive.",
            "public",
            {
                200: json_reply(
                    "Alive.",
                    {
                        "type": "object",
                        "required": ["status", "service"],
                        "properties": {"status": {"const": "ok"}, "service": {"const": service}},
                    },
                )
            },
            tag="operations",
        ),
        Operation(
            "get",
            "/readyz",
            "readyz",
            "The broker and the database are reachable and the migrations applied.",
            "public",
            {
                200: json_reply("Ready.", _READINESS),
                503: json_reply("Not ready; `problems` says what is missing.", _READINESS),
            },
            tag="operations",
        ),
        Operation(
            "get",
            "/metrics",
            "metrics",
            "Prometheus metrics (text exposition format).",
            "public",
            {200: Reply("The metrics.", Body(TEXT, ("text/plain",)))},
            tag="operations",
        ),
        Operation(
            "get",
            "/openapi.json",
            "openapi",
            "This document.",
            "public",
            {200: json_reply("The OpenAPI document of this service.", {"type": "object"})},
            tag="operations",
        ),
    ]


_READINESS: dict[str, Any] = {
    "type": "object",
    "required": ["status", "problems"],
    "properties": {
        "status": {"enum": ["ready", "not_ready"]},
        "problems": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


class _Models:
    """Collects the pydantic models the document names, and turns them into component schemas."""

    def __init__(self) -> None:
        self._wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = []
        self._placeholders: dict[tuple[type[BaseModel], JsonSchemaMode], str] = {}

    def schema(self, schema: Schema, mode: JsonSchemaMode) -> Any:
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            key = (schema, mode)
            if key not in self._placeholders:
                self._wanted.append(key)
                self._placeholders[key] = f"__model_{len(self._placeholders)}__"
            return self._placeholders[key]
        return dict(schema)

    def resolve(self, document: dict[str, Any]) -> None:
        if not self._wanted:
            return
        references, definitions = models_json_schema(
            self._wanted, ref_template=REF_TEMPLATE, schema_generator=RequestSchemas
        )
        by_placeholder = {self._placeholders[key]: references[key] for key in self._wanted}
        document["components"]["schemas"].update(definitions.get("$defs", {}))
        _replace_placeholders(document["paths"], by_placeholder)


def _replace_placeholders(node: Any, references: Mapping[str, Any]) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        if isinstance(value, str) and value in references:
            node[key] = dict(references[value])
        else:
            _replace_placeholders(value, references)


def _content(body: Body, models: _Models, mode: JsonSchemaMode) -> dict[str, Any]:
    schema = models.schema(body.schema, mode)
    return {media_type: {"schema": schema} for media_type in body.media_types}


def _operation_object(operation: Operation, models: _Models) -> dict[str, Any]:
    replies: dict[int, Reply] = dict(_ACCESS_REPLIES[operation.access])
    if (
        operation.request is not None
        and operation.request_required
        and "application/json" in operation.request.media_types
    ):
        # Validated against a model: the answers read_model gives. An optional body lists its own.
        replies.update(_JSON_BODY_REPLIES)
    replies.update(operation.replies)
    responses: dict[str, Any] = {}
    for status in sorted(replies):
        reply = replies[status]
        response: dict[str, Any] = {"description": reply.description}
        if reply.headers:
            response["headers"] = {
                name: {"description": meaning, "required": True, "schema": {"type": "string"}}
                for name, meaning in reply.headers.items()
            }
        if reply.body is not None:
            response["content"] = _content(reply.body, models, "serialization")
        responses[str(status)] = response
    result: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "security": SECURITY[operation.access],
        "responses": responses,
    }
    if operation.description:
        result["description"] = operation.description
    if operation.tag:
        result["tags"] = [operation.tag]
    if operation.parameters:
        result["parameters"] = [
            {
                "name": parameter.name,
                "in": parameter.location,
                "required": parameter.required,
                "schema": dict(parameter.schema),
                **({"description": parameter.description} if parameter.description else {}),
            }
            for parameter in operation.parameters
        ]
    if operation.request is not None:
        result["requestBody"] = {
            "required": operation.request_required,
            "content": _content(operation.request, models, "validation"),
        }
    return result


def build_document(service: ServiceName, description: str, operations: Sequence[Operation]) -> dict[str, Any]:
    """The OpenAPI document of ``service``: its own operations and the shared health routes."""
    models = _Models()
    paths: dict[str, dict[str, Any]] = {}
    for operation in [*operations, *health_operations(service)]:
        methods = paths.setdefault(operation.path, {})
        if operation.method in methods:
            raise ValueError(f"{operation.method.upper()} {operation.path} is described twice")
        methods[operation.method] = _operation_object(operation, models)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": f"Dropship Router: {service}", "version": API_VERSION, "description": description},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
    models.resolve(document)
    # A JSON round trip: plain data only, in a stable order, exactly as committed and served.
    result: dict[str, Any] = json.loads(json.dumps(document, sort_keys=True))
    return result


SERVICES: tuple[ServiceName, ...] = get_args(ServiceName)


def service_document(service: ServiceName) -> dict[str, Any]:
    """The document of ``service``, from its ``services/<service>/openapi.py``.

    Imported by name so that :mod:`shared` does not depend on the services' packages at import time.
    """
    module = importlib.import_module(f"services.{service}.openapi")
    builder: DocumentBuilder = module.document
    return builder()


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Write every service's document into the folder given (``docs/openapi``)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    folder = Path(arguments[0] if arguments else "docs/openapi")
    folder.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        target = folder / f"{service}.json"
        target.write_text(render(service_document(service)))
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
