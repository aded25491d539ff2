"""Stock pushes planned for WooCommerce's REST API, without I/O.

SKUs are found with ``GET /products?sku=a,b,…``: with a ``sku`` filter Woo searches products and
variations alike (``post_type`` product and product_variation), and a variation comes back with
``type: "variation"`` and its ``parent_id``. WooCommerce compares SKUs as MySQL does, ignoring case.
A SKU holding a comma cannot be part of a list (Woo splits on commas), so it is looked up alone.

Quantities are written with ``POST /products/batch`` and, for variations, ``POST
/products/<parent>/variations/batch``, at most 100 items a request (``woocommerce_rest_batch_items_limit``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.channels.ports import PlatformItem, StockPush

BATCH_LIMIT = 100
SKUS_PER_LOOKUP = 40
"""Keeps the query string well under the 8 KB many web servers accept."""


def latest_levels(levels: Sequence[StockPush]) -> dict[str, int]:
    """One quantity per SKU (the last given wins); what may be sold is never below zero."""
    return {level.sku: max(level.available, 0) for level in levels}


def lookup_groups(skus: Iterable[str]) -> list[list[str]]:
    """The ``sku`` filters to send: lists of up to :data:`SKUS_PER_LOOKUP`, a SKU with a comma alone."""
    plain = [sku for sku in skus if "," not in sku]
    groups = [plain[start : start + SKUS_PER_LOOKUP] for start in range(0, len(plain), SKUS_PER_LOOKUP)]
    return groups + [[sku] for sku in skus if "," in sku]


def items_found(wanted: Sequence[str], products: Iterable[Mapping[str, Any]]) -> dict[str, PlatformItem]:
    """The products and variations of a lookup answer, by the SKU asked for."""
    by_folded = {sku.casefold(): sku for sku in wanted}
    found: dict[str, PlatformItem] = {}
    for product in products:
        sku = by_folded.get(str(product.get("sku") or "").casefold())
        if sku is None or "id" not in product:
            continue
        parent = product.get("parent_id") or 0
        if product.get("type") == "variation" and parent:
            found[sku] = PlatformItem(sku=sku, item_id=str(product["id"]), parent_id=str(parent))
        else:
            found[sku] = PlatformItem(sku=sku, item_id=str(product["id"]))
    return found


@dataclass(frozen=True)
class StockBatch:
    """One batch request: its path under ``/wp-json/wc/v3`` and the SKU of each update, in order."""

    path: str
    skus: tuple[str, ...]
    body: dict[str, list[dict[str, Any]]]


def stock_batches(items: Mapping[str, PlatformItem], quantities: Mapping[str, int]) -> list[StockBatch]:
    """Products in ``/products/batch``, variations in their parent's ``/variations/batch``, ≤ 100 each."""
    by_path: dict[str, list[str]] = {}
    for sku, item in items.items():
        path = f"/products/{item.parent_id}/variations/batch" if item.parent_id else "/products/batch"
        by_path.setdefault(path, []).append(sku)
    batches: list[StockBatch] = []
    for path, skus in by_path.items():
        for start in range(0, len(skus), BATCH_LIMIT):
            chunk = tuple(skus[start : start + BATCH_LIMIT])
            updates = [_stock_update(items[sku], quantities[sku]) for sku in chunk]
            batches.append(StockBatch(path=path, skus=chunk, body={"update": updates}))
    return batches


def _stock_update(item: PlatformItem, quantity: int) -> dict[str, Any]:
    # manage_stock: a product that did not track stock ignores stock_quantity until told to.
    return {"id": int(item.item_id), "stock_quantity": quantity, "manage_stock": True}
