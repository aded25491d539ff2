"""The chaos suite's fixtures: each scenario gets its own database, namespace and five fresh service
processes (a fault in one scenario must not leak into the next), and the figures of every scenario
are printed at the end of the run, whatever ``-s`` or ``-q`` say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.chaos.flow import Verdict, World
from tests.chaos.world import chaos_system
from tests.support import AMQP_URL

LEDGER = pytest.StashKey[list[Verdict]]()


@pytest.fixture
def chaos_ledger(request: pytest.FixtureRequest) -> list[Verdict]:
    """Where scenarios record their figures for the summary at the end of the run."""
    return request.config.stash.setdefault(LEDGER, [])


@pytest.fixture
async def chaos_world(tmp_path: Path) -> AsyncIterator[World]:
    """The five services as processes on a database and namespace of their own, a channel that
    receives webhooks, a webhook vendor the gateway delivers to, and a shop set up through the admin API."""
    async with chaos_system(tmp_path, AMQP_URL) as world:
        yield world


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    verdicts = config.stash.get(LEDGER, [])
    if not verdicts:
        return
    write = terminalreporter.write_line
    terminalreporter.write_sep("=", "chaos figures")
    write(f"{'scenario':<34} {'orders':>7} {'faults':>6} {'lost':>5} {'dup':>5} {'seconds':>8}")
    for v in verdicts:
        write(
            f"{v.scenario:<34} {v.orders:>7} {v.faults:>6} {v.total_lost:>5} {v.total_duplicated:>5} {v.seconds:>8.1f}"
        )
    write(
        f"{'total':<34} {sum(v.orders for v in verdicts):>7} {sum(v.faults for v in verdicts):>6}"
        f" {sum(v.total_lost for v in verdicts):>5} {sum(v.total_duplicated for v in verdicts):>5}"
        f" {sum(v.seconds for v in verdicts):>8.1f}"
    )
    for v in verdicts:
        write(v.report())
