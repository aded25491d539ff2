"""The adapter's use cases against a fake repository: what a ship notice records and publishes, and
how an export pages through its snapshot and reuses rendered orders."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import pytest
from lxml import etree
from prometheus_client import CollectorRegistry

from services.shipstation.fragment_cache import FragmentCache
from services.shipstation.metrics import AdapterMetrics
from services.shipstation.repository import ExportSnapshot, PollRecord, StoreConnection, StoredVendorOrder
from services.shipstation.shipnotice import NoticeItem, ShipNotice
from services.shipstation.use_cases.export import ExportPage, export_page
from services.shipstation.use_cases.notices import AcceptShipNotice, accept_ship_notice
from services.shipstation.use_cases.ports import StoreCall, StorePorts
from shared.contracts.envelope import Envelope
from shared.contracts.vendor_orders import VendorOrderAcknowledged
from tests.unit.shipstation.support import LAST_MODIFIED, minimal_order_fields, vendor_order

VENDOR = "east"
CONNECTION = StoreConnection(
    vendor=VENDOR,
    username="ss-east",
    password_hash="scrypt$…",
    timezone="UTC",
    status_names={},
    page_size=2,
    lookback_minutes=0,
    zone_warning=None,
    zone_warning_at=None,
)
TWO_LINES = [
    {"line_id": "L1", "sku": "MUG", "name": "Mug", "quantity": 2, "unit_price": "9.50"},
    {"line_id": "L2", "sku": "CAP", "name": "Cap", "quantity": 1, "unit_price": "5.00"},
]


@dataclass
class RecordedShipment:
    shipment_id: str
    shipped: dict[str, int]
    state: str
    state_changed: bool
    event: Envelope


@dataclass
class FakeRepository:
    """The adapter's tables in memory, with what the use cases wrote to them."""

    orders: dict[str, StoredVendorOrder] = field(default_factory=dict)
    shipments: list[RecordedShipment] = field(default_factory=list)
    problems: list[tuple[str, str | None, str]] = field(default_factory=list)
    polls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    snapshots: list[list[str]] = field(default_factory=list)
    pages_read: list[tuple[int, int]] = field(default_factory=list)
    zone_warnings: list[str | None] = field(default_factory=list)
    outbox: list[Envelope] = field(default_factory=list)

    async def get_connection(self, db: object, vendor: str) -> StoreConnection | None:
        return CONNECTION if vendor == VENDOR else None

    async def set_credentials(self, db: object, vendor: str, username: str, password_hash: str) -> None:
        raise NotImplementedError

    async def update_settings(self, db: object, vendor: str, changes: dict[str, Any]) -> None:
        raise NotImplementedError

    async def record_zone_warning(self, db: object, vendor: str, warning: str | None) -> None:
        self.zone_warnings.append(warning)

    async def snapshot_window(
        self, db: object, vendor: str, start: datetime, end: datetime, page_size: int
    ) -> ExportSnapshot:
        in_window = sorted(
            (order for order in self.orders.values() if start <= order.last_modified < end),
            key=lambda order: (order.last_modified, order.id),
        )
        self.snapshots.append([order.id for order in in_window])
        return ExportSnapshot(len(self.snapshots), len(in_window), page_size)

    async def latest_snapshot(self, db: object, vendor: str, start: datetime, end: datetime) -> ExportSnapshot | None:
        if not self.snapshots:
            return None
        return ExportSnapshot(len(self.snapshots), len(self.snapshots[-1]), CONNECTION.page_size)

    async def snapshot_page(self, db: object, snapshot: ExportSnapshot, page: int) -> list[StoredVendorOrder]:
        self.pages_read.append((snapshot.id, page))
        ids = self.snapshots[snapshot.id - 1][(page - 1) * snapshot.page_size : page * snapshot.page_size]
        return [self.orders[order_id] for order_id in ids]

    async def find_vendor_order(
        self, connection: object, vendor: str, order_id: str | None, number: str | None
    ) -> StoredVendorOrder | None:
        return self.orders.get(order_id or "")

    async def record_shipment(
        self,
        connection: object,
        shipment_id: str,
        vendor: str,
        vendor_order_id: str,
        payload: dict[str, Any],
        shipped: dict[str, int],
        state: str,
        state_changed: bool,
        event: Envelope,
    ) -> bool:
        if any(shipment.shipment_id == shipment_id for shipment in self.shipments):
            return False
        self.shipments.append(RecordedShipment(shipment_id, shipped, state, state_changed, event))
        stored = self.orders[vendor_order_id]
        self.orders[vendor_order_id] = replace(stored, shipped=shipped, state=state)
        return True

    async def mark_first_exported(self, connection: object, vendor_order_ids: Sequence[str]) -> list[StoredVendorOrder]:
        first_time = [self.orders[i] for i in vendor_order_ids if self.orders[i].first_exported_at is None]
        for stored in first_time:
            self.orders[stored.id] = replace(stored, first_exported_at=datetime.now(UTC))
        return first_time

    async def enqueue_events(self, connection: object, events: Sequence[Envelope]) -> None:
        self.outbox.extend(events)

    async def record_problem(
        self, db: object, vendor: str, kind: str, vendor_order_id: str | None, detail: str
    ) -> None:
        self.problems.append((kind, vendor_order_id, detail))

    async def list_problems(self, db: object, vendor: str, limit: int = 200) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def record_poll(self, db: object, poll: PollRecord) -> None:
        self.polls.append(
            (
                poll.action,
                poll.outcome,
                {"page": poll.page, "orders_returned": poll.orders_returned, "detail": poll.detail},
            )
        )

    async def list_polls(self, db: object, vendor: str, limit: int = 200) -> list[dict[str, Any]]:
        raise NotImplementedError


class FakeConnection:
    def __init__(self) -> None:
        self.transactions = 0

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self.transactions += 1
        yield


class FakePool:
    """Hands out one connection whose transactions are only counted: the fake repository needs no database."""

    def __init__(self) -> None:
        self.connection = FakeConnection()

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[FakeConnection]:
        yield self.connection


@dataclass
class Adapter:
    repository: FakeRepository
    pool: FakePool
    ports: StorePorts
    relay_wakes: list[None] = field(default_factory=list)

    def wake_relay(self) -> None:
        self.relay_wakes.append(None)

    @property
    def call(self) -> StoreCall:
        return StoreCall(VENDOR, time.perf_counter())


@pytest.fixture
def adapter() -> Adapter:
    repository, pool = FakeRepository(), FakePool()
    # The use cases only acquire connections and open transactions on the pool.
    ports = StorePorts(cast(asyncpg.Pool, pool), AdapterMetrics(CollectorRegistry()), repository)
    return Adapter(repository, pool, ports)


def store(adapter: Adapter, vendor_order_id: str, *, minutes: int = 0, **changes: Any) -> StoredVendorOrder:
    order = vendor_order(minimal_order_fields(), vendor_order_id=vendor_order_id, **changes)
    stored = StoredVendorOrder(
        id=vendor_order_id,
        vendor=VENDOR,
        state="paid",
        payload=order.model_dump(mode="json"),
        shipped={},
        last_modified=LAST_MODIFIED + timedelta(minutes=minutes),
    )
    adapter.repository.orders[vendor_order_id] = stored
    return stored


def notice(order_id: str, *items: NoticeItem) -> ShipNotice:
    return ShipNotice(
        order_id=order_id,
        order_number=None,
        carrier="UPS",
        service=None,
        tracking_number="1Z999",
        ship_date=None,
        label_created_at=None,
        shipping_cost=None,
        notes_to_customer=None,
        notify_customer=None,
        items=items,
        customer_code=None,
    )


async def send_notice(adapter: Adapter, shipped: ShipNotice) -> str:
    return await accept_ship_notice(
        AcceptShipNotice(CONNECTION, shipped), adapter.call, adapter.ports, adapter.wake_relay
    )


# --- ship notices ---------------------------------------------------------------------------------


async def test_a_full_shipment_ships_the_order_and_announces_it(adapter: Adapter) -> None:
    store(adapter, "vo_1", lines=TWO_LINES)

    outcome = await send_notice(adapter, notice("vo_1"))

    assert outcome == "accepted"
    [shipment] = adapter.repository.shipments
    assert (shipment.state, shipment.state_changed, shipment.shipped) == ("shipped", True, {"L1": 2, "L2": 1})
    assert shipment.event.type == "shipment.reported"
    assert adapter.pool.connection.transactions == 1
    assert len(adapter.relay_wakes) == 1
    assert adapter.repository.polls[-1][:2] == ("shipnotify", "accepted")


async def test_a_partial_shipment_leaves_the_order_partially_shipped(adapter: Adapter) -> None:
    store(adapter, "vo_1", lines=TWO_LINES)

    await send_notice(adapter, notice("vo_1", NoticeItem(line_item_id="L1", sku=None, quantity=1, name=None)))

    [shipment] = adapter.repository.shipments
    assert (shipment.state, shipment.shipped) == ("partially_shipped", {"L1": 1})
    assert adapter.repository.orders["vo_1"].state == "partially_shipped"


async def test_the_same_notice_again_is_a_duplicate_and_publishes_nothing(adapter: Adapter) -> None:
    store(adapter, "vo_1", lines=TWO_LINES)
    partial = notice("vo_1", NoticeItem(line_item_id="L1", sku=None, quantity=1, name=None))
    await send_notice(adapter, partial)

    outcome = await send_notice(adapter, partial)

    assert outcome == "duplicate"
    assert len(adapter.repository.shipments) == 1
    assert len(adapter.relay_wakes) == 1
    assert adapter.repository.polls[-1][:2] == ("shipnotify", "duplicate")


async def test_a_notice_for_an_unknown_order_is_a_problem_for_ops(adapter: Adapter) -> None:
    outcome = await send_notice(adapter, notice("vo_nobody"))

    assert outcome == "unknown_order"
    [(kind, vendor_order_id, detail)] = adapter.repository.problems
    assert (kind, vendor_order_id) == ("unknown_order", "vo_nobody")
    assert "vo_nobody" in detail
    assert adapter.repository.shipments == []
    assert adapter.relay_wakes == []


# --- export ---------------------------------------------------------------------------------------

WINDOW_START = LAST_MODIFIED - timedelta(hours=1)
WINDOW_END = LAST_MODIFIED + timedelta(hours=1)


async def export(adapter: Adapter, fragments: FragmentCache, page: int = 1) -> etree._Element:
    command = ExportPage(CONNECTION, WINDOW_START, WINDOW_END, "11/27/2026 04:42", "11/27/2026 06:42", page)
    body = await export_page(command, adapter.call, adapter.ports, fragments, adapter.wake_relay)
    return etree.fromstring(body)


async def test_later_pages_read_the_snapshot_page_one_froze(adapter: Adapter) -> None:
    for n in range(3):
        store(adapter, f"vo_{n}", minutes=n)
    fragments = FragmentCache()

    first = await export(adapter, fragments, page=1)
    store(adapter, "vo_late", minutes=3)  # arrives mid-walk: left to the next refresh
    second = await export(adapter, fragments, page=2)

    assert first.get("pages") == second.get("pages") == "2"
    assert [order.findtext("OrderID") for order in first] == ["vo_0", "vo_1"]
    assert [order.findtext("OrderID") for order in second] == ["vo_2"]
    assert len(adapter.repository.snapshots) == 1
    assert adapter.repository.pages_read == [(1, 1), (1, 2)]
    assert [poll[2]["orders_returned"] for poll in adapter.repository.polls] == [2, 1]


async def test_a_page_beyond_the_last_is_empty_but_counts_the_pages(adapter: Adapter) -> None:
    store(adapter, "vo_0")

    page = await export(adapter, FragmentCache(), page=5)

    assert (page.get("pages"), len(page)) == ("1", 0)
    assert adapter.repository.pages_read == []


async def test_a_repeated_poll_reuses_rendered_orders(adapter: Adapter) -> None:
    store(adapter, "vo_0")
    store(adapter, "vo_1", minutes=1)
    fragments = FragmentCache()

    first = await export(adapter, fragments)
    again = await export(adapter, fragments)

    assert etree.tostring(first) == etree.tostring(again)
    assert (fragments.hits, fragments.misses, len(fragments)) == (2, 2, 2)


async def test_an_order_that_changed_is_rendered_anew(adapter: Adapter) -> None:
    stored = store(adapter, "vo_0")
    fragments = FragmentCache()
    await export(adapter, fragments)
    adapter.repository.orders["vo_0"] = replace(stored, state="cancelled", last_modified=stored.last_modified)

    page = await export(adapter, fragments)

    assert page.findtext("Order/OrderStatus") == "cancelled"
    assert (fragments.hits, fragments.misses) == (0, 2)


async def test_an_invalid_order_is_left_out_recorded_and_never_cached(adapter: Adapter) -> None:
    store(adapter, "vo_good")
    store(adapter, "vo_bad", minutes=1, currency="DOLLARS")
    fragments = FragmentCache()

    first = await export(adapter, fragments)
    await export(adapter, fragments)

    assert [order.findtext("OrderID") for order in first] == ["vo_good"]
    assert [(kind, order_id) for kind, order_id, _ in adapter.repository.problems] == [
        ("invalid_order", "vo_bad"),
        ("invalid_order", "vo_bad"),
    ]
    assert len(fragments) == 1
    assert "1 left out" in str(adapter.repository.polls[0][2]["detail"])


async def test_an_export_datetime_far_from_now_warns_of_a_zone_mismatch(adapter: Adapter) -> None:
    now = datetime.now(UTC)
    store(adapter, "vo_0")
    end_text = (now - timedelta(hours=6)).strftime("%m/%d/%Y %H:%M")
    command = ExportPage(CONNECTION, WINDOW_START, WINDOW_END, "11/27/2026 04:42", end_text, 1)

    await export_page(command, adapter.call, adapter.ports, FragmentCache(), adapter.wake_relay)

    [warning] = adapter.repository.zone_warnings
    assert warning is not None


async def test_settings_of_a_vendor_without_a_connection_are_a_domain_error_not_an_http_one() -> None:
    from services.shipstation.use_cases import admin

    class NoConnections:
        async def get_connection(self, pool: object, vendor: str) -> None:
            return None

    ports = cast(Any, SimpleNamespace(repository=NoConnections(), pool=None))
    with pytest.raises(admin.NoConnection, match="east"):
        await admin.connection_settings("east", ports)


# --- acknowledgement on first export --------------------------------------------------------------


async def test_the_first_export_of_a_vendor_order_acknowledges_every_line_that_stands(adapter: Adapter) -> None:
    store(adapter, "vo_0", lines=TWO_LINES)
    adapter.repository.orders["vo_0"] = replace(adapter.repository.orders["vo_0"], withdrawn={"L1": 1})

    await export(adapter, FragmentCache())

    [event] = adapter.repository.outbox
    assert isinstance(event, VendorOrderAcknowledged)
    assert (event.correlation_id, event.data.vendor_order_id) == (event.data.order_id, "vo_0")
    assert [(line.line_id, line.status, line.quantity) for line in event.data.lines] == [
        ("L1", "accepted", 1),
        ("L2", "accepted", 1),
    ]
    assert adapter.repository.orders["vo_0"].first_exported_at is not None
    assert len(adapter.relay_wakes) == 1


async def test_a_later_export_acknowledges_nothing_again(adapter: Adapter) -> None:
    store(adapter, "vo_0")
    await export(adapter, FragmentCache())
    transactions = adapter.pool.connection.transactions

    await export(adapter, FragmentCache())

    assert len(adapter.repository.outbox) == 1
    assert adapter.pool.connection.transactions == transactions  # already stamped: no statement at all
    assert len(adapter.relay_wakes) == 1


async def test_orders_left_out_or_cancelled_are_not_acknowledged(adapter: Adapter) -> None:
    store(adapter, "vo_bad", currency="DOLLARS")
    cancelled = store(adapter, "vo_cancelled", minutes=1)
    adapter.repository.orders["vo_cancelled"] = replace(cancelled, state="cancelled")

    await export(adapter, FragmentCache())

    assert adapter.repository.outbox == []
    assert adapter.repository.orders["vo_bad"].first_exported_at is None  # ShipStation never got it
    assert adapter.repository.orders["vo_cancelled"].first_exported_at is not None
    assert adapter.relay_wakes == []
