"""The subscription map is consistent: every event a queue says it carries reaches it through its
bindings, and the outbox SQL the services compose is the outbox's own."""

from __future__ import annotations

import re

import pytest

from shared.contracts.orders import OrderReceived
from shared.messaging.outbox import insert_event_sql, insert_events_sql
from shared.messaging.subscriptions import SERVICE_QUEUES, QueueSpec, service_queues, vendor_queue


def topic_matches(binding: str, routing_key: str) -> bool:
    """RabbitMQ's topic rule for the patterns we bind (``*`` is exactly one word; no ``#`` used)."""
    pattern = r"\.".join("[^.]+" if word == "*" else re.escape(word) for word in binding.split("."))
    return re.fullmatch(pattern, routing_key) is not None


@pytest.mark.parametrize("spec", [*SERVICE_QUEUES, vendor_queue("acme")], ids=lambda spec: spec.name)
def test_every_event_a_queue_carries_matches_one_of_its_bindings(spec: QueueSpec) -> None:
    assert spec.events, spec.name
    for event in spec.events:
        routing_key = f"{event.event_type}.acme" if spec.name.startswith("vendor.") else event.event_type
        assert any(topic_matches(binding, routing_key) for binding in spec.bindings), (spec.name, routing_key)


def test_a_vendor_queue_binds_only_its_own_vendor() -> None:
    spec = vendor_queue("acme")
    assert not any(topic_matches(binding, "vendor_order.created.beta") for binding in spec.bindings)
    assert not any(topic_matches(binding, "order.received") for binding in spec.bindings)


def test_bindings_are_derived_from_the_events_unless_given() -> None:
    assert QueueSpec("q", (OrderReceived,), "tests").bindings == ("order.received",)
    assert QueueSpec("q", (), "tests", ("custom.key",)).bindings == ("custom.key",)


def test_service_queues_names_what_each_service_consumes() -> None:
    assert {spec.name for spec in service_queues("splitter")} == {
        "splitter.orders",
        "splitter.inventory",
        "splitter.vendor_events",
    }
    assert {spec.name for spec in service_queues("intake")} == {"intake.status"}
    assert {spec.name for spec in service_queues("channels")} == {"channels.status"}


def test_no_event_the_services_publish_is_unroutable() -> None:
    # Publishes are mandatory: every published event type must reach at least one queue.
    from shared.messaging.subscriptions import PUBLICATIONS, SERVICE_QUEUES

    bindings = [binding for spec in (*SERVICE_QUEUES, vendor_queue("acme")) for binding in spec.bindings]
    for publication in PUBLICATIONS:
        key = publication.routing_key.replace("<vendor>", "acme")
        assert any(topic_matches(binding, key) for binding in bindings), key


def test_a_queue_of_several_events_validates_bodies_by_their_type() -> None:
    from pydantic import TypeAdapter

    from shared.messaging.subscriptions import TRACKING_ORDERS

    adapter = TypeAdapter(TRACKING_ORDERS.message_type)
    cancelled = adapter.validate_python(
        {"type": "order.cancelled", "correlation_id": "ord_1", "data": {"order_id": "ord_1"}}
    )
    assert type(cancelled).__name__ == "OrderCancelled"


def test_composed_outbox_inserts_number_their_parameters_from_the_given_one() -> None:
    assert insert_event_sql(6, for_each_row_of="new_order") == (
        "INSERT INTO outbox (message_id, routing_key, message_type, correlation_id, body)"
        " SELECT $6, $7, $8, $9, $10 FROM new_order"
    )
    assert "$15::text[], $16::text[], $17::text[], $18::text[], $19::bytea[]" in insert_events_sql(15)
