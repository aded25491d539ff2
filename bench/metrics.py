"""What the services' ``/metrics`` say about batching: how many messages each consumer applied per
inbox transaction (``inbox_batch_size``) over a phase of the benchmark."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

_SAMPLE = re.compile(r'^inbox_batch_size_(sum|count)\{consumer="([^"]+)"\} ([0-9.e+]+)$', re.MULTILINE)

Totals = dict[str, dict[str, float]]
"""consumer → {"sum": messages, "count": transactions}, cumulative since the service started."""


def parse_batch_totals(exposition: str) -> Totals:
    totals: Totals = {}
    for kind, consumer, value in _SAMPLE.findall(exposition):
        totals.setdefault(consumer, {"sum": 0.0, "count": 0.0})[kind] = float(value)
    return totals


async def inbox_batches(session: aiohttp.ClientSession, urls: dict[str, str]) -> Totals:
    totals: Totals = {}
    for url in urls.values():
        async with session.get(f"{url}/metrics") as response:
            totals.update(parse_batch_totals(await response.text()))
    return totals


def batches_between(before: Totals, after: Totals) -> dict[str, Any]:
    """Per consumer over the phase: messages, transactions and messages per transaction."""
    phase: dict[str, Any] = {}
    for consumer, end in sorted(after.items()):
        start = before.get(consumer, {"sum": 0.0, "count": 0.0})
        messages, transactions = end["sum"] - start["sum"], end["count"] - start["count"]
        if transactions:
            phase[consumer] = {
                "messages": int(messages),
                "transactions": int(transactions),
                "per_transaction": round(messages / transactions, 2),
            }
    return phase
