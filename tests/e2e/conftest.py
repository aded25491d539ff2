"""The end-to-end suites run the services as separate processes, as ``make run`` does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import SuiteEnvironment
from tests.e2e.harness import ProcessSystem
from tests.support import Api


@pytest.fixture(scope="session")
def process_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-logs")


@pytest.fixture(scope="package")
def processes(test_env: SuiteEnvironment, process_logs: Path) -> Iterator[ProcessSystem]:
    system = ProcessSystem(
        {
            **test_env.env(),
            "DROPSHIP_LOG_LEVEL": "DEBUG",
            "DROPSHIP_WEBHOOK_MAX_BACKOFF_SECONDS": "2",
            # The gateway finds new vendors and due SFTP polls within a second, so the tests need not wait.
            "DROPSHIP_VENDOR_DISCOVERY_SECONDS": "1",
            "DROPSHIP_PICKUP_CHECK_SECONDS": "0.5",
        },
        process_logs,
    )
    system.start()
    try:
        yield system
    finally:
        system.stop_all()


# Package scope: the processes stop when the end-to-end tests are done. Left running, their gateway would
# keep consuming the queues of every vendor the later tests create (one database and namespace per run)
# and hold on to those the tests delete.
@pytest.fixture(scope="package")
async def process_api(processes: ProcessSystem, test_env: SuiteEnvironment) -> AsyncIterator[Api]:
    await processes.wait_ready()
    async with aiohttp.ClientSession() as session:
        yield Api(session, processes.urls, test_env.admin_token)
