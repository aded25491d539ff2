"""What the services really consume matches the catalog the AsyncAPI document is generated from."""

from __future__ import annotations

from typing import Any, cast

from shared.contracts.catalog import SUBSCRIPTIONS
from tests.conftest import RunningSystem


async def test_each_service_consumes_exactly_the_queues_the_catalog_documents(system: RunningSystem) -> None:
    documented = {s.queue.name: s.consumer for s in SUBSCRIPTIONS if not s.queue.name.startswith("vendor.")}
    for runtime in (system.intake, system.splitter, system.tracking, system.shipstation):
        prefix = f"{runtime.topology.namespace}."
        queues = [cast(Any, sub).queue.name.removeprefix(prefix) for sub in runtime.broker.subscribers]
        consumed = {name for name in queues if not name.startswith("vendor.")}
        expected = {name for name, consumer in documented.items() if consumer == runtime.name}
        assert consumed == expected, runtime.name
