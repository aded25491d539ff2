"""Shopify: order webhooks into intake orders, fulfillments and stock back through the Admin GraphQL API.

Pure modules: :mod:`.orders` (``decide``), :mod:`.carriers`, :mod:`.fulfillment` (planning a push),
:mod:`.graphql` (documents, costs, errors), :mod:`.reconcile` (GraphQL order → webhook shape). The only
I/O is :mod:`.client` (:class:`ShopifyClient`), loaded when first asked for, so importing a pure module
never brings in aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from services.channels.shopify.graphql import DEFAULT_API_VERSION
from services.channels.shopify.orders import TOPICS, decide

if TYPE_CHECKING:
    from services.channels.shopify.client import ShopifyClient

__all__ = ["DEFAULT_API_VERSION", "TOPICS", "ShopifyClient", "decide"]


def __getattr__(name: str) -> Any:
    if name == "ShopifyClient":
        return importlib.import_module("services.channels.shopify.client").ShopifyClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
