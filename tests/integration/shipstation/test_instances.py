"""Credentials issued through one adapter instance are picked up by the others without a restart."""

from __future__ import annotations

from typing import Any, cast

from services.shipstation.app import SERVICE as SHIPSTATION
from shared.service import running_service
from tests.conftest import RunningSystem
from tests.support import unique, wait_until


async def test_a_second_adapter_instance_follows_new_connections(system: RunningSystem) -> None:
    async with running_service(SHIPSTATION, system.shipstation.settings, port=0) as second:
        vendor = unique("ss-")
        await system.api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", {"name": "East", "kind": "shipstation"})
        await system.api.ok("POST", "shipstation", f"/v1/shipstation/{vendor}/credentials")

        async def consumes() -> bool:
            names = {cast(Any, sub).queue.name for sub in second.broker.subscribers}
            return f"{second.topology.namespace}.vendor.{vendor}" in names

        assert await wait_until(consumes, timeout=20)
