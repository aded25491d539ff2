"""Stock pushes planned for WooCommerce: SKU look-ups and batches of at most 100."""

from __future__ import annotations

from services.channels.ports import PlatformItem, StockPush
from services.channels.woocommerce.stock import items_found, latest_levels, lookup_groups, stock_batches


def test_the_last_level_wins_and_none_is_negative() -> None:
    levels = [StockPush("A", 5), StockPush("B", -2), StockPush("A", 7)]
    assert latest_levels(levels) == {"A": 7, "B": 0}


def test_lookups_are_grouped_and_a_sku_with_a_comma_goes_alone() -> None:
    skus = [f"S{i}" for i in range(45)] + ["RED,L"]
    groups = lookup_groups(skus)
    assert [len(group) for group in groups] == [40, 5, 1]
    assert groups[-1] == ["RED,L"]


def test_found_products_and_variations_by_the_sku_asked_for() -> None:
    products = [
        {"id": 10, "sku": "shirt", "type": "variable", "parent_id": 0},
        {"id": 11, "sku": "SHIRT-L", "type": "variation", "parent_id": 10},
        {"id": 12, "sku": "other", "type": "simple", "parent_id": 0},
    ]
    found = items_found(["SHIRT", "shirt-l"], products)
    assert found == {
        "SHIRT": PlatformItem(sku="SHIRT", item_id="10"),
        "shirt-l": PlatformItem(sku="shirt-l", item_id="11", parent_id="10"),
    }


def test_batches_hold_at_most_100_and_variations_go_to_their_parent() -> None:
    items = {f"P{i}": PlatformItem(sku=f"P{i}", item_id=str(1000 + i)) for i in range(150)}
    items["V1"] = PlatformItem(sku="V1", item_id="21", parent_id="20")
    quantities = {sku: 3 for sku in items}
    batches = stock_batches(items, quantities)
    assert [(b.path, len(b.skus)) for b in batches] == [
        ("/products/batch", 100),
        ("/products/batch", 50),
        ("/products/20/variations/batch", 1),
    ]
    assert batches[2].body == {"update": [{"id": 21, "stock_quantity": 3, "manage_stock": True}]}
    assert batches[0].body["update"][0] == {"id": 1000, "stock_quantity": 3, "manage_stock": True}
