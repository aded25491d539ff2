"""Export pages put together from cached ``<Order>`` fragments are the pages rendered anew, and the
cache never serves a fragment for a state, time, zone or status name it was not made for."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from services.shipstation.fragment_cache import FragmentCache, fragment_key
from services.shipstation.xml_export import (
    DEFAULT_STATUS_NAMES,
    RejectedOrder,
    export_document,
    order_fragment,
    render_export_page,
)
from tests.unit.shipstation.support import LAST_MODIFIED, exportable, rich_order_fields, vendor_order

CHICAGO = ZoneInfo("America/Chicago")


def test_a_page_from_fragments_is_byte_for_byte_the_rendered_page() -> None:
    orders = [
        exportable(vendor_order(rich_order_fields(), vendor_order_id=f"vo_{n}", vendor_order_number=f"100{n}-1"))
        for n in range(5)
    ]
    rendered, rejected = render_export_page(orders, pages=3, zone=CHICAGO, status_names=DEFAULT_STATUS_NAMES)
    assert rejected == []
    fragments = [order_fragment(order, CHICAGO, DEFAULT_STATUS_NAMES) for order in orders]
    assert all(isinstance(fragment, bytes) for fragment in fragments)
    assembled = export_document([f for f in fragments if isinstance(f, bytes)], pages=3)
    assert assembled == rendered


def test_an_empty_page_is_the_empty_document() -> None:
    body, _ = render_export_page([], pages=0, zone=CHICAGO, status_names=DEFAULT_STATUS_NAMES)
    assert body == export_document([], pages=0)
    assert body.endswith(b'<Orders pages="0"/>')


def test_an_order_that_cannot_be_exported_is_a_rejection_not_a_fragment() -> None:
    broken = exportable(vendor_order(rich_order_fields(), lines=[]))
    outcome = order_fragment(broken, CHICAGO, DEFAULT_STATUS_NAMES)
    assert isinstance(outcome, RejectedOrder)
    assert outcome.problems


def test_the_key_changes_with_everything_the_fragment_depends_on() -> None:
    base = fragment_key("vo_1", "paid", LAST_MODIFIED, CHICAGO, DEFAULT_STATUS_NAMES)
    renamed = {**DEFAULT_STATUS_NAMES, "paid": "Awaiting Shipment"}
    variants = [
        fragment_key("vo_2", "paid", LAST_MODIFIED, CHICAGO, DEFAULT_STATUS_NAMES),
        fragment_key("vo_1", "cancelled", LAST_MODIFIED, CHICAGO, DEFAULT_STATUS_NAMES),
        fragment_key("vo_1", "paid", LAST_MODIFIED + timedelta(microseconds=1), CHICAGO, DEFAULT_STATUS_NAMES),
        fragment_key("vo_1", "paid", LAST_MODIFIED, ZoneInfo("UTC"), DEFAULT_STATUS_NAMES),
        fragment_key("vo_1", "paid", LAST_MODIFIED, CHICAGO, renamed),
    ]
    assert all(variant != base for variant in variants)
    assert fragment_key("vo_1", "paid", LAST_MODIFIED, CHICAGO, dict(DEFAULT_STATUS_NAMES)) == base


def test_the_cache_keeps_the_most_recently_used_fragments() -> None:
    cache = FragmentCache(max_entries=2)
    keys = [fragment_key(f"vo_{n}", "paid", LAST_MODIFIED, CHICAGO, DEFAULT_STATUS_NAMES) for n in range(3)]
    cache.put(keys[0], b"<Order>0</Order>")
    cache.put(keys[1], b"<Order>1</Order>")
    assert cache.get(keys[0]) == b"<Order>0</Order>"  # now the most recently used
    cache.put(keys[2], b"<Order>2</Order>")  # evicts keys[1], the least recently used
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) == b"<Order>0</Order>"
    assert cache.get(keys[2]) == b"<Order>2</Order>"
    assert len(cache) == 2
    assert (cache.hits, cache.misses) == (3, 1)
