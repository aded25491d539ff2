"""WooCommerce as a sales channel: order webhooks mapped to intake orders (``orders``, ``addresses``),
webhook deliveries checked (``webhooks``), shipments told as notes and tracking items (``tracking``),
stock pushes planned (``stock``), all without I/O; ``client`` (over ``api``) is the only code that
talks to the shop's REST API.

``WooClient`` is loaded on first use rather than here: importing a pure module of this package runs
this file, and the client brings aiohttp with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from services.channels.woocommerce.orders import decide
from services.channels.woocommerce.webhooks import is_creation_ping

if TYPE_CHECKING:
    from services.channels.woocommerce.client import WooClient

TOPICS = ("order.created", "order.updated")
"""The webhooks a shop is subscribed to."""

__all__ = ["TOPICS", "WooClient", "decide", "is_creation_ping"]


def __getattr__(name: str) -> Any:
    if name == "WooClient":
        return importlib.import_module("services.channels.woocommerce.client").WooClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
