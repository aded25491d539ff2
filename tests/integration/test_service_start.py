"""A service's start on the real broker and database: its background jobs begin once its broker
consumes, so a queue a job subscribes at once (the vendor queues' follow round does, right after a
restart) is consumed like one subscribed in the setup."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.contracts.vendor_orders import VendorOrderCancelled, VendorOrderCancelledData
from shared.db import drop_database, ensure_database
from shared.messaging.subscriptions import VENDOR_ADDRESSED_EVENTS
from shared.service import Runtime, ServiceDefinition, running_service
from shared.settings import Settings
from shared.vendor_queues import VendorQueues
from tests.conftest import SuiteEnvironment
from tests.support import publish_as_producer, unique, wait_until


def _cancellation(vendor: str) -> VendorOrderCancelled:
    return VendorOrderCancelled(
        correlation_id="ord_start",
        data=VendorOrderCancelledData(
            vendor_order_id=unique("vo_"),
            vendor_order_number="1001-01",
            vendor=vendor,
            order_id="ord_start",
            cancelled_at=datetime.now(UTC),
        ),
    )


async def test_a_vendor_queue_a_background_job_subscribes_at_once_is_consumed(
    test_env: SuiteEnvironment, tmp_path: Path
) -> None:
    # A database of its own: the service's schema is named after it, and the suite's other services
    # (with their relays) use that name in the suite's database.
    database_url = f"{test_env.database_url}_start"
    await ensure_database(database_url)
    in_setup, in_background = unique("setup-"), unique("background-")
    received: list[str] = []
    broker_running_when_the_job_began: list[bool] = []
    following: list[VendorQueues] = []

    async def record(_: Any, event: VendorOrderCancelled) -> None:
        received.append(event.data.vendor)

    async def setup(runtime: Runtime) -> None:
        queues = VendorQueues(
            runtime,
            dict.fromkeys(VENDOR_ADDRESSED_EVENTS, record),
            consumer="tests",
            adapter="tests",
            description="Note which vendor's queue the event came from.",
        )
        following.append(queues)
        await queues.subscribe(in_setup)  # before the broker starts: started with it

        async def subscribe_at_once() -> None:
            broker_running_when_the_job_began.append(runtime.broker.running)
            await queues.subscribe(in_background)

        runtime.add_background(subscribe_at_once)

    definition = ServiceDefinition(name="tracking", package_dir=tmp_path, setup=setup, settings_type=Settings)
    try:
        async with running_service(definition, test_env.settings(database_url=database_url), port=0) as runtime:

            async def both_bound() -> bool:  # declared and bound: a publish is routed from now on
                return {in_setup, in_background} <= following[0].subscribed

            await wait_until(both_bound)
            for vendor in (in_setup, in_background):
                await publish_as_producer(runtime.amqp, runtime.topology, _cancellation(vendor))

            async def both_received() -> bool:
                return sorted(received) == sorted([in_setup, in_background])

            await wait_until(both_received, timeout=15)
    finally:
        await drop_database(database_url)
    assert broker_running_when_the_job_began == [True]
