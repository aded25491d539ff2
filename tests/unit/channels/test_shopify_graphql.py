"""The client's GraphQL documents and how answers are read."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from services.channels.shopify import graphql as gql
from tests.fakes.shopify import _schema
from tests.unit.test_architecture import io_imports

DOCUMENTS = [
    gql.WEBHOOK_SUBSCRIPTIONS, gql.WEBHOOK_SUBSCRIPTION_CREATE, gql.ORDERS_CHANGED, gql.ORDER_DETAIL,
    gql.ORDER_FULFILMENT, gql.FULFILLMENT_CREATE, gql.FULFILLMENT_TRACKING_UPDATE, gql.VARIANTS_BY_SKU,
    gql.FIRST_LOCATION, gql.INVENTORY_SET,
]  # fmt: skip


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_document_is_valid_for_the_schema(document: str) -> None:
    assert validate(_schema(), parse(document)) == []


def test_throttle_wait_is_what_the_bucket_lacks_over_the_restore_rate() -> None:
    body = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": 502,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 302.0, "restoreRate": 100.0},
            }
        },
    }
    assert gql.is_throttled(body)
    assert gql.throttle_wait(body) == pytest.approx(2.0)
    body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = 600.0  # type: ignore[index]
    assert gql.throttle_wait(body) == gql.MIN_THROTTLE_WAIT


def test_errors_and_user_errors_read_as_text() -> None:
    assert gql.error_messages({"errors": "[API] Invalid API key"}) == ["[API] Invalid API key"]
    assert gql.error_messages({"errors": [{"message": "Field 'x' doesn't exist"}]}) == ["Field 'x' doesn't exist"]
    payload = {"userErrors": [{"field": ["fulfillment", "lineItemsByFulfillmentOrder"], "message": "Invalid"}]}
    assert gql.user_errors(payload) == ["fulfillment.lineItemsByFulfillmentOrder: Invalid"]
    assert gql.order_gid("5") == "gid://shopify/Order/5"


@pytest.mark.parametrize(
    "module",
    ["services.channels.shopify.orders", "services.channels.shopify.carriers", "services.channels.shopify.fulfillment",
     "services.channels.shopify.graphql", "services.channels.shopify.reconcile"],
)  # fmt: skip
def test_pure_modules_do_no_io(module: str) -> None:
    assert io_imports(module) == []
