"""Intake's use cases (services/intake/use_cases.py) against in-memory ports: what each command stores,
announces and answers, who may call it, and how many round trips it costs."""

from __future__ import annotations

from typing import Any

import pytest

from services.intake import use_cases
from services.intake.domain import (
    ADMIN,
    Caller,
    ChannelNotFound,
    ChannelRequest,
    ForeignChannel,
    NotCancellable,
    OrderNotFound,
    OrderRequest,
    UnknownChannel,
    hash_api_key,
)
from services.intake.repository import Channel
from shared.contracts.orders import (
    OrderCancelled,
    OrderReceived,
    OrderStatusChanged,
    OrderStatusChangedData,
    ShipmentSummary,
)
from shared.messaging.consumer import RetryLater
from shared.secrets import SecretBox, is_sealed, new_secret_key
from tests.unit.intake.fakes import FakeDatabase, FakeProgress, FakeTables, Wakes

SHOP = "shop"
SECRETS = SecretBox(new_secret_key())


def order_request(channel: str = SHOP, external_id: str = "5521", **changes: Any) -> OrderRequest:
    payload: dict[str, Any] = {
        "channel": channel,
        "external_id": external_id,
        "order_number": "1001",
        "ordered_at": "2026-11-26T23:41:00-06:00",
        "currency": "USD",
        "ship_to": {"name": "Jo", "address1": "1 Main St", "city": "Springfield", "state": "IL",
                    "postal_code": "62701", "country": "US"},
        "lines": [{"line_id": "L1", "sku": "MUG", "name": "Mug", "quantity": 2, "unit_price": "9.50"}],
    }  # fmt: skip
    payload.update(changes)
    return OrderRequest.model_validate(payload)


def database_with_shop() -> FakeDatabase:
    tables = FakeTables()
    tables.channels[SHOP] = Channel(SHOP, "Shop", "https://shop.example/hooks", "whsec_c2VjcmV0")
    tables.key_hashes[SHOP] = hash_api_key("dsk_shop")
    return FakeDatabase(tables)


async def placed_order(db: FakeDatabase) -> str:
    answer = await use_cases.create_order(db, order_request(), Caller(SHOP), outbox_written=Wakes())
    order_id: str = answer.body["id"]
    return order_id


# ---------------------------------------------------------------------------------------------- create


async def test_a_new_order_is_stored_and_announced_in_one_statement() -> None:
    db = database_with_shop()
    wakes = Wakes()

    answer = await use_cases.create_order(db, order_request(), Caller(SHOP), outbox_written=wakes)

    assert answer.changed
    assert answer.body["status"] == "received" and answer.body["channel_status"] == "paid"
    assert answer.body["id"].startswith("ord_") and answer.body["lines"][0]["quantity"] == 2
    assert db.tables.statements == ["insert_order_announced"]
    assert db.transactions == 0
    [event] = db.tables.outbox
    assert isinstance(event, OrderReceived) and event.correlation_id == answer.body["id"]
    assert wakes.count == 1


async def test_the_same_channel_order_again_answers_the_stored_one_and_announces_nothing() -> None:
    db = database_with_shop()
    first = await use_cases.create_order(db, order_request(), Caller(SHOP), outbox_written=Wakes())
    wakes = Wakes()

    again = await use_cases.create_order(db, order_request(), ADMIN, outbox_written=wakes)

    assert not again.changed
    assert again.body["id"] == first.body["id"]
    assert again.body["status"] == "received"
    assert len(db.tables.outbox) == 1
    assert wakes.count == 0


async def test_a_channel_key_cannot_place_another_channels_order() -> None:
    db = database_with_shop()

    with pytest.raises(ForeignChannel):
        await use_cases.create_order(db, order_request(channel="other"), Caller(SHOP), outbox_written=Wakes())

    assert db.tables.statements == []


async def test_an_order_for_an_unknown_channel_is_refused() -> None:
    db = database_with_shop()

    with pytest.raises(UnknownChannel) as refused:
        await use_cases.create_order(db, order_request(channel="ghost"), ADMIN, outbox_written=Wakes())

    assert refused.value.channel == "ghost"
    assert db.tables.orders == {}


# ---------------------------------------------------------------------------------------------- view


async def test_the_view_shows_held_while_the_splitter_holds_the_order() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    progress = FakeProgress(routing_answer={"state": "held", "hold_reason": "unmapped_sku"})

    view = await use_cases.get_order_view(db, progress, order_id, Caller(SHOP))

    assert (view["status"], view["hold_reason"]) == ("held", "unmapped_sku")
    assert view["split"] == {"state": "held", "hold_reason": "unmapped_sku"}
    assert [entry["status"] for entry in view["status_history"]] == ["received"]
    assert progress.asked == [f"routing {order_id}", f"shipments {order_id}"]


async def test_the_view_is_shown_while_the_other_services_are_away() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    away = FakeProgress(routing_answer={"unavailable": "ClientConnectorError"}, shipments_answer={"unavailable": "x"})

    view = await use_cases.get_order_view(db, away, order_id, ADMIN)

    assert view["status"] == "received"
    assert view["split"] == {"unavailable": "ClientConnectorError"}
    assert view["shipments"] == []  # a list, as documented, while tracking is away


async def test_shipments_are_taken_from_trackings_answer() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    progress = FakeProgress(shipments_answer={"shipments": [{"shipment_id": "shp_1"}]})

    view = await use_cases.get_order_view(db, progress, order_id, ADMIN)

    assert view["shipments"] == [{"shipment_id": "shp_1"}]


async def test_an_unknown_order_and_another_channels_order_are_refused() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)

    with pytest.raises(OrderNotFound):
        await use_cases.get_order_view(db, FakeProgress(), "ord_missing", ADMIN)
    with pytest.raises(ForeignChannel):
        await use_cases.get_order_view(db, FakeProgress(), order_id, Caller("other"))


# ---------------------------------------------------------------------------------------------- cancel


async def test_cancelling_locks_the_order_and_announces_it_with_the_reason_in_one_transaction() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    wakes = Wakes()

    answer = await use_cases.cancel_order(db, FakeProgress(), order_id, Caller(SHOP), "fraud", outbox_written=wakes)

    assert answer.changed and answer.body["status"] == "cancelled"
    assert db.transactions == 1 and db.tables.locked == [order_id]
    event = db.tables.outbox[-1]
    assert isinstance(event, OrderCancelled) and event.data.reason == "fraud"
    assert wakes.count == 1


async def test_cancelling_twice_answers_the_same_and_announces_nothing_more() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    await use_cases.cancel_order(db, FakeProgress(), order_id, ADMIN, None, outbox_written=Wakes())
    wakes = Wakes()

    again = await use_cases.cancel_order(db, FakeProgress(), order_id, ADMIN, None, outbox_written=wakes)

    assert not again.changed and again.body["status"] == "cancelled"
    assert [type(e) for e in db.tables.outbox] == [OrderReceived, OrderCancelled]
    assert wakes.count == 0


async def test_a_shipped_order_is_not_cancelled_and_nothing_changes() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)
    db.tables._set_status(order_id, "shipped", "tracking")

    with pytest.raises(NotCancellable):
        await use_cases.cancel_order(db, FakeProgress(), order_id, ADMIN, None, outbox_written=Wakes())

    assert db.tables.orders[order_id].status == "shipped"
    assert [type(e) for e in db.tables.outbox] == [OrderReceived]


async def test_another_channel_cannot_cancel_the_order() -> None:
    db = database_with_shop()
    order_id = await placed_order(db)

    with pytest.raises(ForeignChannel):
        await use_cases.cancel_order(db, FakeProgress(), order_id, Caller("other"), None, outbox_written=Wakes())

    assert db.transactions == 0


# ---------------------------------------------------------------------------------------------- channels


async def test_a_new_channel_answers_its_key_and_generated_secret_once() -> None:
    db = FakeDatabase()

    created = await use_cases.put_channel(db, "new", ChannelRequest(name="New"), SECRETS)
    updated = await use_cases.put_channel(db, "new", ChannelRequest(name="Renamed"), SECRETS)

    assert created.changed and created.body["api_key"].startswith("dsk_")
    assert created.body["webhook_secret"].startswith("whsec_")
    assert SECRETS.open(db.tables.channels["new"].webhook_secret) == created.body["webhook_secret"]
    assert await use_cases.channel_for_key(db, created.body["api_key"]) == "new"
    assert not updated.changed and updated.body == {"code": "new", "name": "Renamed", "webhook_url": None}
    assert db.transactions == 2


async def test_a_secret_the_admin_chose_is_never_echoed() -> None:
    db = FakeDatabase()

    created = await use_cases.put_channel(db, "own", ChannelRequest(name="Own", webhook_secret="s" * 20), SECRETS)

    assert "webhook_secret" not in created.body
    stored = db.tables.channels["own"].webhook_secret
    assert is_sealed(stored) and SECRETS.open(stored) == "s" * 20


async def test_rotating_a_key_replaces_the_old_one() -> None:
    db = database_with_shop()

    rotated = await use_cases.rotate_key(db, SHOP)

    assert await use_cases.channel_for_key(db, rotated["api_key"]) == SHOP
    assert await use_cases.channel_for_key(db, "dsk_shop") is None


async def test_an_unknown_channel_is_not_found() -> None:
    db = database_with_shop()

    with pytest.raises(ChannelNotFound):
        await use_cases.get_channel(db, "ghost")
    with pytest.raises(ChannelNotFound):
        await use_cases.rotate_key(db, "ghost")
    assert await use_cases.get_channel(db, SHOP) == {
        "code": SHOP,
        "name": "Shop",
        "webhook_url": "https://shop.example/hooks",
    }


# ---------------------------------------------------------------------------------------------- events


def status_changed(order_id: str, *, shipment: bool) -> OrderStatusChanged:
    return OrderStatusChanged(
        message_id="msg_abc",
        correlation_id=order_id,
        data=OrderStatusChangedData(
            order_id=order_id,
            channel=SHOP,
            external_id="5521",
            order_number="1001",
            status="shipped",
            previous_status="routed",
            shipment=ShipmentSummary(shipment_id="shp_1", vendor="east") if shipment else None,
        ),
    )


@pytest.mark.parametrize(
    ("shipment", "event_type"), [(True, "order.shipment_created"), (False, "order.status_changed")]
)
async def test_a_status_change_records_the_status_and_queues_the_channels_webhook(
    shipment: bool, event_type: str
) -> None:
    db = database_with_shop()
    order_id = await placed_order(db)

    await use_cases.record_status_changed(db.tables, status_changed(order_id, shipment=shipment))

    assert db.tables.orders[order_id].status == "shipped"
    assert db.tables.locked == [order_id]
    # The delivery id derives from the message id: a redelivered event queues no second webhook.
    [(delivery_id, delivery)] = db.tables.deliveries.items()
    assert delivery_id == "whd_abc"
    assert delivery["event_type"] == event_type == delivery["body"]["type"]
    assert delivery["body"]["previous_status"] == "routed"
    assert (delivery["body"]["shipment"] is not None) is shipment


async def test_a_status_change_for_an_order_not_seen_yet_is_retried_later() -> None:
    db = database_with_shop()

    with pytest.raises(RetryLater):
        await use_cases.record_status_changed(db.tables, status_changed("ord_unknown", shipment=False))

    assert db.tables.deliveries == {}
