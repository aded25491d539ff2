"""The channels service's HTTP API as an OpenAPI document: shops, their work, and the platform webhooks."""

from __future__ import annotations

from typing import Any

from services.channels.requests import ShopRequest
from shared.openapi import Body, Operation, Parameter, build_document, error, json_reply, path_parameter
from shared.secrets import RESEAL_OPERATION

OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
SHOP = path_parameter("shop", "The shop's code.", pattern="^[a-z0-9][a-z0-9_-]{0,49}$")
LIMIT = Parameter("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "At most this many (100).")
SHOPS = "shops"
HOOKS = "platform webhooks"
WEBHOOK_BODY = Body({"type": "object", "description": "The platform's order JSON, as it signs it."})


def _hook(platform: str, headers: str) -> Operation:
    return Operation(
        "post",
        f"/hooks/{platform}/{{shop}}",
        f"{platform}Webhook",
        f"A {platform} order webhook ({headers}): checked, queued, answered at once.",
        "platform",
        {
            200: json_reply(
                "Queued (`queued`), seen before (`duplicate`) or WooCommerce's creation ping (`ping`).", OBJECT
            ),
            400: error("No delivery id or topic, or a body that is not an order."),
            404: error(f"No {platform} shop with that code."),
            413: error("The body is larger than DROPSHIP_MAX_WEBHOOK_BYTES."),
        },
        parameters=(SHOP,),
        request=WEBHOOK_BODY,
        tag=HOOKS,
    )


OPERATIONS = [
    Operation(
        "put",
        "/v1/shops/{shop}",
        "putShop",
        "Add or change a shop: its intake channel (created without a webhook URL), sealed credentials,"
        " webhooks registered.",
        "admin",
        {
            200: json_reply("Replaced; secrets left out are kept.", OBJECT),
            201: json_reply("Created.", OBJECT),
            409: error("The channel belongs to another shop or has a webhook URL of its own (channel_taken)."),
            503: error("Intake does not answer."),
        },
        parameters=(SHOP,),
        request=Body(ShopRequest),
        tag=SHOPS,
    ),
    Operation(
        "get",
        "/v1/shops",
        "listShops",
        "Every shop, without secrets.",
        "admin",
        {200: json_reply("The shops.", OBJECT)},
        tag=SHOPS,
    ),
    Operation(
        "get",
        "/v1/shops/{shop}",
        "getShop",
        "A shop without its secrets: webhooks, reconcile, and the backlog owed to intake and the platform.",
        "admin",
        {200: json_reply("The shop.", OBJECT), 404: error("No such shop.")},
        parameters=(SHOP,),
        tag=SHOPS,
    ),
    Operation(
        "get",
        "/v1/shops/{shop}/tasks",
        "listShopTasks",
        "Webhooks and shipment pushes of the shop, newest first, with attempts and the last error.",
        "admin",
        {200: json_reply("The tasks.", OBJECT), 404: error("No such shop.")},
        parameters=(
            SHOP,
            Parameter("state", "query", {"type": "string", "enum": ["pending", "done", "failed"]}, "Only these."),
            LIMIT,
        ),
        tag=SHOPS,
    ),
    Operation(
        "post",
        "/v1/shops/{shop}/tasks/{seq}/retry",
        "retryShopTask",
        "Try a failed task again (after its cause is mended).",
        "admin",
        {202: json_reply("Due again.", OBJECT), 404: error("No failed task with that number.")},
        parameters=(SHOP, path_parameter("seq", "The task's number.", pattern="^[0-9]+$")),
        request_required=False,
        tag=SHOPS,
    ),
    Operation(
        "get",
        "/v1/shops/{shop}/orders",
        "listShopOrders",
        "Platform orders seen: the intake order each became, or why it was skipped.",
        "admin",
        {200: json_reply("The platform orders.", OBJECT), 404: error("No such shop.")},
        parameters=(
            SHOP,
            Parameter("state", "query", {"type": "string", "enum": ["open", "cancelled", "skipped"]}, "Only these."),
            LIMIT,
        ),
        tag=SHOPS,
    ),
    Operation(
        "get",
        "/v1/shops/{shop}/stock/{sku}",
        "getShopStock",
        "What the shop should show of a SKU, what it was last told, and the last error.",
        "admin",
        {200: json_reply("The level.", OBJECT), 404: error("No level for that SKU.")},
        parameters=(SHOP, path_parameter("sku", "The SKU.")),
        tag=SHOPS,
    ),
    Operation(
        "post",
        "/v1/shops/{shop}/reconcile",
        "reconcileShop",
        "Ask the platform now for orders changed since the last one seen (otherwise on start and hourly).",
        "admin",
        {200: json_reply("How many orders were queued.", OBJECT), 404: error("No such shop.")},
        parameters=(SHOP,),
        request_required=False,
        tag=SHOPS,
    ),
    _hook("shopify", "X-Shopify-Hmac-Sha256, X-Shopify-Webhook-Id, X-Shopify-Topic"),
    _hook("woocommerce", "X-WC-Webhook-Signature, X-WC-Webhook-Delivery-ID, X-WC-Webhook-Topic"),
    RESEAL_OPERATION,
]


def document() -> dict[str, Any]:
    return build_document(
        "channels",
        "Takes Shopify and WooCommerce orders in from their webhooks (through intake's API, as any channel), and"
        " pushes fulfillments, tracking and stock back to the platforms. Errors are JSON `{error, detail, fields}`.",
        OPERATIONS,
    )
