"""Every action leaves its audit row, with the outcome, however it ended: also when the broker or the
owning service fails in a way nobody planned for."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import aiormq
import pytest

from services.console.clients import Answer
from services.console.ports import ConsolePorts
from services.console.use_cases import actions


class Recorded:
    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    async def execute(self, sql: str, *arguments: Any) -> str:
        assert sql.startswith("INSERT INTO audit_log")
        self.rows.append(arguments)
        return "INSERT 0 1"


def _ports(services: Any = None) -> tuple[ConsolePorts, Recorded]:
    pool = Recorded()
    return cast(ConsolePorts, SimpleNamespace(pool=pool, amqp=None, topology=None, services=services)), pool


async def test_a_broker_failure_during_a_replay_is_audited_with_its_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*_: Any) -> list[Any]:
        raise aiormq.exceptions.ChannelInvalidStateError("writer is None")

    monkeypatch.setattr(actions, "replay_parked", broken)
    ports, pool = _ports()
    outcome = await actions.replay(ports, "Ops Person", "splitter.orders", "m1")
    assert not outcome.ok and outcome.status == 502 and "ChannelInvalidStateError" in outcome.message
    [(who, action, target, detail, recorded)] = pool.rows
    assert (who, action, target, detail) == ("Ops Person", "replay", "splitter.orders", {"message_id": "m1"})
    assert recorded == outcome.message


async def test_a_call_that_raises_is_audited_with_its_outcome() -> None:
    class Raising:
        async def post(self, *_: Any, **__: Any) -> Answer:
            raise RuntimeError("connector closed")

    ports, pool = _ports(Raising())
    outcome = await actions.cancel(ports, "Ops Person", "ord_1", "duplicate")
    assert not outcome.ok and outcome.status == 502
    assert outcome.message == "failed: RuntimeError: connector closed"
    [(who, action, target, _, recorded)] = pool.rows
    assert (who, action, target, recorded) == ("Ops Person", "cancel", "ord_1", outcome.message)


async def test_a_refused_sign_in_is_audited_without_the_token() -> None:
    ports, pool = _ports()
    await actions.signin_refused(ports, None, "10.0.0.9", "wrong token")
    assert pool.rows == [("(no name)", "signin", "", {"address": "10.0.0.9"}, "wrong token")]
