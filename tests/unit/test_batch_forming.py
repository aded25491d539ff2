"""The adaptive wait of a forming batch (shared/messaging/linger.py) and the acknowledgement of a run of
settled deliveries by one multiple-ack (shared/messaging/acks.py), against a recording channel."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

import pytest

from shared.messaging import acks as acks_module
from shared.messaging.acks import BatchAcks
from shared.messaging.inbox import in_runs
from shared.messaging.linger import LONGEST_GAP_SECONDS, LingerPolicy
from tests.support import Ping, PingData


def policy_after_arrivals(gap: float, count: int, *, linger: float = 0.010, max_batch: int = 32) -> LingerPolicy:
    policy = LingerPolicy(linger, max_batch)
    for index in range(count):
        policy.arrived(100.0 + index * gap)
    return policy


def test_a_first_arrival_never_waits() -> None:
    policy = LingerPolicy(0.010, 32)
    policy.arrived(100.0)
    assert policy.wait_for_more(1, 100.0, 100.0) == 0


def test_sparse_arrivals_do_not_wait() -> None:
    policy = policy_after_arrivals(0.050, 10)  # 20 a second: the next would come after the deadline
    assert policy.wait_for_more(1, 100.45, 100.45) == 0


def test_frequent_arrivals_wait_until_the_deadline_at_most() -> None:
    policy = policy_after_arrivals(0.002, 10)  # 500 a second
    oldest = 100.018
    assert policy.wait_for_more(1, oldest, oldest) == pytest.approx(0.010)
    assert policy.wait_for_more(3, oldest, oldest + 0.004) == pytest.approx(0.006)
    # Too little left for the next arrival, or the deadline passed: go.
    assert policy.wait_for_more(4, oldest, oldest + 0.0095) == 0
    assert policy.wait_for_more(5, oldest, oldest + 0.020) == 0


def test_a_full_batch_or_no_linger_never_waits() -> None:
    policy = policy_after_arrivals(0.001, 40, max_batch=32)
    assert policy.wait_for_more(32, 100.0, 100.0) == 0
    no_linger = LingerPolicy(0.0, 32)
    for index in range(10):
        no_linger.arrived(100.0 + index * 0.001)
    assert no_linger.wait_for_more(1, 100.009, 100.009) == 0


def test_an_idle_spell_is_forgotten_within_a_few_arrivals() -> None:
    policy = policy_after_arrivals(0.001, 10)
    policy.arrived(10_000.0)  # an hour of nothing counts as a second
    assert policy.expected_gap is not None and policy.expected_gap <= LONGEST_GAP_SECONDS
    for index in range(1, 40):
        policy.arrived(10_000.0 + index * 0.001)
    assert policy.wait_for_more(1, 10_000.039, 10_000.039) > 0


class RecordingChannel:
    def __init__(self) -> None:
        self.acks: list[tuple[int, bool]] = []

    async def basic_ack(self, delivery_tag: int, multiple: bool = False) -> None:
        self.acks.append((delivery_tag, multiple))


class Delivery:
    def __init__(self, channel: RecordingChannel, tag: int) -> None:
        self.channel = channel
        self.delivery_tag = tag


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_batch_settled_together_is_acknowledged_by_one_multiple_ack() -> None:
    channel, acks = RecordingChannel(), BatchAcks()
    for tag in range(1, 9):
        acks.ack(Delivery(channel, tag))
    await settle()
    assert channel.acks == [(8, True)]


async def test_an_ack_never_reaches_past_a_delivery_still_being_applied() -> None:
    channel, acks = RecordingChannel(), BatchAcks()
    for tag in (2, 3, 4):  # delivery 1 is still in its transaction
        acks.ack(Delivery(channel, tag))
    await settle()
    assert channel.acks == []
    acks.ack(Delivery(channel, 1))
    await settle()
    assert channel.acks == [(4, True)]


async def test_a_nacked_delivery_is_passed_over_by_the_next_multiple_ack() -> None:
    channel, acks = RecordingChannel(), BatchAcks()
    acks.ack(Delivery(channel, 1))
    acks.settled(Delivery(channel, 2))  # nacked on its own by the guard
    acks.ack(Delivery(channel, 3))
    await settle()
    assert channel.acks == [(3, True)]


async def test_deliveries_blocked_behind_a_slow_one_are_acknowledged_alone_soon(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(acks_module, "BLOCKED_ACK_SECONDS", 0.01)
    channel, acks = RecordingChannel(), BatchAcks()
    acks.ack(Delivery(channel, 2))
    acks.ack(Delivery(channel, 3))
    await asyncio.sleep(0.05)
    assert channel.acks == [(2, False), (3, False)]
    acks.ack(Delivery(channel, 1))  # the slow one settles at last: the run is passed over in one go
    acks.ack(Delivery(channel, 4))
    await settle()
    assert channel.acks[2:] == [(4, True)]


async def test_each_channel_counts_its_own_delivery_tags() -> None:
    first, second, acks = RecordingChannel(), RecordingChannel(), BatchAcks()
    acks.ack(Delivery(first, 1))
    acks.ack(Delivery(second, 2))  # delivery 1 of the second channel is not settled
    await settle()
    assert first.acks == [(1, True)]
    assert second.acks == []


async def test_a_batch_is_applied_in_runs_of_one_type_and_other_events_keep_their_place() -> None:
    calls: list[tuple[str, list[int]]] = []

    async def one(_: object, event: Ping) -> None:
        calls.append(("one", [event.data.n]))

    async def run(_: object, events: Sequence[Ping]) -> None:
        calls.append(("run", [event.data.n for event in events]))

    class Pong(Ping):
        event_type = "test.pong"
        type: Literal["test.pong"] = "test.pong"  # type: ignore[assignment]

    def pong(n: int) -> Pong:
        return Pong(correlation_id="c", data=PingData(n=n))

    def ping(n: int) -> Ping:
        return Ping(correlation_id="c", data=PingData(n=n))

    apply = in_runs({"test.ping": one, "test.pong": one}, {"test.ping": run})
    await apply(None, [ping(1), ping(2), pong(3), pong(4), ping(5), pong(6)])  # type: ignore[arg-type]
    assert calls == [("run", [1, 2]), ("one", [3]), ("one", [4]), ("run", [5]), ("one", [6])]
