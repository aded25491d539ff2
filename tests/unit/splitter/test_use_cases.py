"""The splitter's use cases on in-memory tables: what each command and each event does to the
splitter's state, and what it announces (services/splitter/use_cases.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.splitter import use_cases
from services.splitter.commands import CatalogRequest, SourceRequest, VendorRequest
from services.splitter.ports import SplitterPorts
from services.splitter.routing import Source
from services.splitter.use_cases import DuplicateSource, NotFound, UnknownVendor
from shared.contracts.inventory import InventoryUpdated, InventoryUpdatedData, StockLevel
from shared.contracts.orders import OrderCancelled, OrderCancelledData, OrderReceived, OrderReceivedData
from shared.contracts.vendor_orders import VendorOrderCancelled, VendorOrderCreated
from tests.unit.splitter.fake_store import CONNECTION, FakeDatabase, FakeSplitterStore
from tests.unit.test_routing import make_line, make_order

CANCELLED_AT = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


@pytest.fixture
def store() -> FakeSplitterStore:
    tables = FakeSplitterStore()
    for code in ("east", "west"):
        tables.add_vendor(code)
    tables.sources = {"MUG": [Source("east", priority=1)], "SHIRT": [Source("west", priority=1)]}
    return tables


class Ports:
    """The command ports around a fake store, recording what they were asked to do."""

    def __init__(self, store: FakeSplitterStore) -> None:
        self.declared: list[str] = []
        self.wakes = 0
        self.ports = SplitterPorts(FakeDatabase(), self.declare, self.wake, store)

    async def declare(self, code: str) -> None:
        self.declared.append(code)

    def wake(self) -> None:
        self.wakes += 1


def two_vendor_order() -> OrderReceivedData:
    return make_order([make_line("L1", "MUG", 1), make_line("L2", "SHIRT", 2)])


def received(order: OrderReceivedData) -> OrderReceived:
    return OrderReceived(correlation_id=order.order_id, data=order)


def cancelled(order_id: str = "ord_1", reason: str | None = "customer asked") -> OrderCancelled:
    return OrderCancelled(
        correlation_id=order_id, occurred_at=CANCELLED_AT, data=OrderCancelledData(order_id=order_id, reason=reason)
    )


# ---------------------------------------------------------------------------------------------- order.received


async def test_an_order_is_split_and_each_vendor_order_announced(store: FakeSplitterStore) -> None:
    event = received(two_vendor_order())

    await use_cases.on_order_received(CONNECTION, event, store=store)

    assert store.routed["ord_1"].state == "routed"
    assert store.statuses("ord_1") == {"1001-1": "open", "1001-2": "open"}
    assert [type(e) for e in store.outbox] == [VendorOrderCreated, VendorOrderCreated]
    assert [e.routing_key() for e in store.outbox] == ["vendor_order.created.east", "vendor_order.created.west"]
    assert {e.causation_id for e in store.outbox} == {event.message_id}


async def test_an_order_with_an_unmapped_sku_is_held_with_a_reason(store: FakeSplitterStore) -> None:
    order = make_order([make_line("L1", "MUG", 1), make_line("L2", "GHOST-7", 1)])

    await use_cases.on_order_received(CONNECTION, received(order), store=store)

    routed = store.routed["ord_1"]
    assert routed.state == "held"
    assert routed.hold_reason is not None and "GHOST-7" in routed.hold_reason
    assert store.vendor_orders == {} and store.outbox == []  # never half-sent


async def test_an_order_seen_before_is_not_routed_again(store: FakeSplitterStore) -> None:
    order = two_vendor_order()
    await use_cases.on_order_received(CONNECTION, received(order), store=store)

    await use_cases.on_order_received(CONNECTION, received(order), store=store)  # another message id

    assert len(store.vendor_orders) == 2 and len(store.outbox) == 2


# ---------------------------------------------------------------------------------------------- order.cancelled


async def test_a_cancellation_cancels_only_open_vendor_orders_and_announces_each(store: FakeSplitterStore) -> None:
    await use_cases.on_order_received(CONNECTION, received(two_vendor_order()), store=store)
    store.withdraw("1001-1")  # withdrawn before, e.g. by a reroute
    store.outbox.clear()
    event = cancelled()

    await use_cases.on_order_cancelled(CONNECTION, event, store=store)

    assert store.routed["ord_1"].state == "cancelled"
    assert store.statuses("ord_1") == {"1001-1": "cancelled", "1001-2": "cancelled"}
    [notice] = store.outbox
    assert isinstance(notice, VendorOrderCancelled)
    assert notice.routing_key() == "vendor_order.cancelled.west"
    assert (notice.data.vendor_order_number, notice.data.reason) == ("1001-2", "customer asked")
    assert notice.data.cancelled_at == notice.occurred_at == CANCELLED_AT
    assert notice.causation_id == event.message_id


async def test_a_second_cancellation_announces_nothing(store: FakeSplitterStore) -> None:
    await use_cases.on_order_received(CONNECTION, received(two_vendor_order()), store=store)
    await use_cases.on_order_cancelled(CONNECTION, cancelled(), store=store)
    announced = list(store.outbox)

    await use_cases.on_order_cancelled(CONNECTION, cancelled(), store=store)

    assert store.outbox == announced


async def test_a_held_order_cancelled_has_nothing_to_announce(store: FakeSplitterStore) -> None:
    order = make_order([make_line("L1", "GHOST-7", 1)])
    await use_cases.on_order_received(CONNECTION, received(order), store=store)

    await use_cases.on_order_cancelled(CONNECTION, cancelled(), store=store)

    assert store.routed["ord_1"].state == "cancelled" and store.outbox == []


async def test_a_cancellation_that_overtakes_its_order_keeps_the_order_from_being_routed(
    store: FakeSplitterStore,
) -> None:
    await use_cases.on_order_cancelled(CONNECTION, cancelled(), store=store)

    await use_cases.on_order_received(CONNECTION, received(two_vendor_order()), store=store)

    assert store.routed["ord_1"].state == "cancelled"
    assert store.vendor_orders == {} and store.outbox == []


# ---------------------------------------------------------------------------------------------- inventory.updated


async def test_new_stock_levels_apply_to_that_vendors_sources_only(store: FakeSplitterStore) -> None:
    store.sources["MUG"].append(Source("west", stock=3, priority=2))
    event = InventoryUpdated(
        correlation_id="feed", data=InventoryUpdatedData(vendor="west", levels=[StockLevel(sku="MUG", stock=9)])
    )

    await use_cases.on_inventory_updated(CONNECTION, event, store=store)

    assert [(s.vendor, s.stock) for s in store.sources["MUG"]] == [("east", None), ("west", 9)]


# ---------------------------------------------------------------------------------------------- commands


async def test_put_vendor_declares_its_queue_then_creates_it_and_updates_it_the_second_time(
    store: FakeSplitterStore,
) -> None:
    ports = Ports(store)
    request = VendorRequest(name="North", kind="shipstation")

    first = await use_cases.put_vendor(ports.ports, "north", request)
    second = await use_cases.put_vendor(ports.ports, "north", request.model_copy(update={"name": "North DC"}))

    assert (first.created, second.created) == (True, False)
    assert ports.declared == ["north", "north"]
    assert store.vendors["north"].name == "North DC"


async def test_putting_a_catalog_entry_releases_the_held_orders_that_wait_for_it(store: FakeSplitterStore) -> None:
    ports = Ports(store)
    for order_id in ("ord_1", "ord_2"):
        order = make_order([make_line("L1", "NEW-SKU", 1)]).model_copy(update={"order_id": order_id})
        await use_cases.on_order_received(CONNECTION, received(order), store=store)
    assert {r.state for r in store.routed.values()} == {"held"}

    put = await use_cases.put_catalog_entry(
        ports.ports, "NEW-SKU", CatalogRequest(name="New", sources=[SourceRequest(vendor="east")])
    )

    assert put.released_vendor_orders == 2
    assert put.entry["sku"] == "NEW-SKU" and put.entry["sources"][0]["vendor"] == "east"
    assert {r.state for r in store.routed.values()} == {"routed"}
    assert [e.causation_id for e in store.outbox] == [None, None]  # released by a person, not by a message
    assert ports.wakes == 1


async def test_putting_a_catalog_entry_nobody_waits_for_does_not_wake_the_relay(store: FakeSplitterStore) -> None:
    ports = Ports(store)

    put = await use_cases.put_catalog_entry(ports.ports, "MUG", CatalogRequest(sources=[SourceRequest(vendor="west")]))

    assert put.released_vendor_orders == 0 and ports.wakes == 0
    assert store.sources["MUG"] == [Source("west")]


async def test_a_catalog_entry_naming_an_unknown_vendor_is_refused_and_nothing_changes(
    store: FakeSplitterStore,
) -> None:
    request = CatalogRequest(sources=[SourceRequest(vendor="east"), SourceRequest(vendor="nobody")])

    with pytest.raises(UnknownVendor) as refused:
        await use_cases.put_catalog_entry(Ports(store).ports, "MUG", request)

    assert refused.value.codes == {"nobody"}
    assert store.sources["MUG"] == [Source("east", priority=1)]


async def test_a_catalog_entry_with_a_vendor_twice_is_refused(store: FakeSplitterStore) -> None:
    request = CatalogRequest(sources=[SourceRequest(vendor="east"), SourceRequest(vendor="east", priority=2)])

    with pytest.raises(DuplicateSource):
        await use_cases.put_catalog_entry(Ports(store).ports, "MUG", request)


async def test_what_is_not_there_is_not_found(store: FakeSplitterStore) -> None:
    ports = Ports(store).ports
    with pytest.raises(NotFound):
        await use_cases.get_vendor(ports, "nobody")
    with pytest.raises(NotFound):
        await use_cases.get_catalog_entry(ports, "NO-SUCH-SKU")
    with pytest.raises(NotFound):
        await use_cases.get_routing(ports, "ord_unseen")


async def test_the_routing_view_is_read_from_one_snapshot(store: FakeSplitterStore) -> None:
    ports = Ports(store).ports
    await use_cases.on_order_received(CONNECTION, received(two_vendor_order()), store=store)

    view = await use_cases.get_routing(ports, "ord_1")

    assert view["state"] == "routed"
    assert isinstance(ports.pool, FakeDatabase)
    assert ports.pool.connection.transactions == [{"isolation": "repeatable_read", "readonly": True}]
