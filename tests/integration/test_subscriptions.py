"""What the services really consume matches the subscription map the AsyncAPI document is generated from."""

from __future__ import annotations

from typing import Any, cast

import pytest

from shared.messaging.subscriptions import SERVICE_QUEUES
from tests.conftest import RunningSystem


async def test_each_service_consumes_exactly_the_queues_the_catalog_documents(system: RunningSystem) -> None:
    documented = {spec.name: spec.consumer for spec in SERVICE_QUEUES}
    for runtime in (system.intake, system.splitter, system.tracking, system.shipstation):
        prefix = f"{runtime.topology.namespace}."
        queues = [cast(Any, sub).queue.name.removeprefix(prefix) for sub in runtime.broker.subscribers]
        consumed = {name for name in queues if not name.startswith("vendor.")}
        expected = {name for name, consumer in documented.items() if consumer == runtime.name}
        assert consumed == expected, runtime.name


async def test_a_consumer_must_handle_exactly_the_events_its_queue_carries(system: RunningSystem) -> None:
    from shared.contracts.orders import OrderReceived
    from shared.messaging.subscriptions import TRACKING_ORDERS

    async def ignore(connection: object, event: object) -> None:
        """Never called: wiring is refused before anything is consumed."""

    with pytest.raises(ValueError, match=r"none for \['order.cancelled', 'vendor_order.acknowledged'\]"):
        system.tracking.consume(TRACKING_ORDERS, {OrderReceived: ignore})
