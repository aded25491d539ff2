"""The Admin GraphQL documents the client sends, and how their answers are read (no I/O).

Costs: Shopify refuses a query whose requested cost passes 1000 points and charges the actual cost
against a bucket (2000 points on a standard plan, restored at 100 points a second). So orders are listed
lightly (ids and ``updatedAt``) and each is then read in full, and nested connections ask for what
a real order has, not the maximum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_API_VERSION = "2026-10"
"""The Admin API version a shop without one of its own is called with."""
MIN_THROTTLE_WAIT = 0.05
"""Seconds: never retry a throttled call at once, even when the numbers say it would fit."""

WEBHOOK_SUBSCRIPTIONS = """
query WebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic uri format }
    pageInfo { hasNextPage endCursor }
  }
}
"""

WEBHOOK_SUBSCRIPTION_CREATE = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

ORDERS_CHANGED = """
query OrdersChanged($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    nodes { id updatedAt }
    pageInfo { hasNextPage endCursor }
  }
}
"""

_ADDRESS = (
    "name firstName lastName company address1 address2 city province provinceCode zip country countryCodeV2 phone"
)

ORDER_DETAIL = f"""
query OrderDetail($id: ID!) {{
  order(id: $id) {{
    id legacyResourceId name createdAt updatedAt cancelledAt cancelReason
    displayFinancialStatus currencyCode email phone note tags totalWeight
    discountCodes
    customAttributes {{ key value }}
    customer {{ firstName lastName phone defaultEmailAddress {{ emailAddress }} }}
    shippingAddress {{ {_ADDRESS} }}
    billingAddress {{ {_ADDRESS} }}
    totalTaxSet {{ shopMoney {{ amount currencyCode }} }}
    totalDiscountsSet {{ shopMoney {{ amount currencyCode }} }}
    shippingLines(first: 5) {{ nodes {{ title originalPriceSet {{ shopMoney {{ amount currencyCode }} }} }} }}
    lineItems(first: 100) {{
      nodes {{
        id sku title variantTitle quantity currentQuantity requiresShipping
        originalUnitPriceSet {{ shopMoney {{ amount currencyCode }} }}
        variant {{ id legacyResourceId }}
        customAttributes {{ key value }}
      }}
    }}
  }}
}}
"""

ORDER_FULFILMENT = """
query OrderFulfilment($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 10) {
      nodes {
        id status
        assignedLocation { location { id } }
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id sku } } }
      }
    }
    fulfillments(first: 20) { id status trackingInfo(first: 10) { company number url } }
  }
}
"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo(first: 10) { company number url } }
    userErrors { field message }
  }
}
"""

FULFILLMENT_TRACKING_UPDATE = """
mutation FulfillmentTrackingInfoUpdate(
  $fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean
) {
  fulfillmentTrackingInfoUpdate(
    fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput, notifyCustomer: $notifyCustomer
  ) {
    fulfillment { id trackingInfo(first: 10) { company number url } }
    userErrors { field message }
  }
}
"""

VARIANTS_BY_SKU = """
query VariantsBySku($query: String!) {
  productVariants(first: 250, query: $query) {
    nodes { id sku inventoryItem { id } }
  }
}
"""

FIRST_LOCATION = """
query FirstLocation {
  locations(first: 1, query: "active:true") { nodes { id isActive } }
}
"""

INVENTORY_SET = """
mutation InventorySet($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { reason }
    userErrors { field message code }
  }
}
"""


@dataclass(frozen=True)
class Cost:
    requested: float
    actual: float | None
    maximum_available: float
    currently_available: float
    restore_rate: float


def read_cost(body: Mapping[str, Any]) -> Cost | None:
    """``extensions.cost`` of an answer, when Shopify sent it."""
    cost = (body.get("extensions") or {}).get("cost")
    if not isinstance(cost, Mapping):
        return None
    status = cost.get("throttleStatus") or {}
    try:
        return Cost(
            requested=float(cost.get("requestedQueryCost") or 0),
            actual=float(cost["actualQueryCost"]) if cost.get("actualQueryCost") is not None else None,
            maximum_available=float(status.get("maximumAvailable") or 0),
            currently_available=float(status.get("currentlyAvailable") or 0),
            restore_rate=float(status.get("restoreRate") or 0),
        )
    except (TypeError, ValueError):
        return None


def error_codes(body: Mapping[str, Any]) -> list[str]:
    errors = body.get("errors")
    if not isinstance(errors, list):
        return []
    return [str((e.get("extensions") or {}).get("code") or "") for e in errors if isinstance(e, Mapping)]


def is_throttled(body: Mapping[str, Any]) -> bool:
    return "THROTTLED" in error_codes(body)


def throttle_wait(body: Mapping[str, Any], default: float = 1.0) -> float:
    """Seconds until the bucket holds what the query asked for: (requested - available) / restore rate."""
    cost = read_cost(body)
    if cost is None or cost.restore_rate <= 0:
        return default
    return max((cost.requested - cost.currently_available) / cost.restore_rate, MIN_THROTTLE_WAIT)


def error_messages(body: Mapping[str, Any]) -> list[str]:
    """The top-level ``errors`` as text (a string too: Shopify answers 401s with ``{"errors": "..."}``)."""
    errors = body.get("errors")
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, list):
        return [str(e.get("message") if isinstance(e, Mapping) else e) for e in errors]
    return []


def user_errors(payload: Any) -> list[str]:
    """A mutation payload's ``userErrors``, as "field: message" lines."""
    if not isinstance(payload, Mapping):
        return []
    found = []
    for error in payload.get("userErrors") or []:
        field = ".".join(str(part) for part in error.get("field") or [])
        found.append(f"{field}: {error.get('message')}" if field else str(error.get("message")))
    return found


def order_gid(order_id: str) -> str:
    return order_id if order_id.startswith("gid://") else f"gid://shopify/Order/{order_id}"
