"""What a vendor's stock feed (``inventory.updated``) does to its SKUs, and whether to trust it.

A feed is a **snapshot** (every SKU the vendor carries for us; one left out has 0) or a **delta** (only
the SKUs listed change, each to the level given, so replaying one is harmless). A feed older than the
last one applied is ignored. A snapshot that looks broken (too few rows, the total stock collapsing,
most stocked SKUs going to zero) is quarantined until a person accepts it: a truncated file would
otherwise mark the vendor out of stock everywhere and send every order elsewhere or on hold.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from shared.contracts.inventory import FeedMode, StockLevel

MINUS = "\N{MINUS SIGN}"


@dataclass(frozen=True)
class FeedGuards:
    """A vendor's limits on what a snapshot may change before a person must confirm it.

    ``min_inventory_rows``: fewer SKUs than this is a partial file (none: no minimum).
    ``max_drop_ratio``: the share the total tracked stock may fall by.
    ``max_zeroed_ratio``: the share of the SKUs in stock that may go to zero.
    """

    min_inventory_rows: int | None = None
    max_drop_ratio: Decimal = Decimal("0.5")
    max_zeroed_ratio: Decimal = Decimal("0.5")


@dataclass(frozen=True)
class ResolvedLevels:
    """A feed's levels by our SKU, and the names in it that are no product this vendor carries for us."""

    levels: dict[str, int]
    unknown: tuple[str, ...]


@dataclass(frozen=True)
class FeedVerdict:
    action: Literal["apply", "ignore", "quarantine"]
    reason: str


def resolve_levels(
    levels: Sequence[StockLevel], sku_by_vendor_sku: Mapping[str, str], known_skus: Collection[str]
) -> ResolvedLevels:
    """Our SKU for every level of the feed.

    A level names our ``sku``, or the vendor's ``vendor_sku`` (mapped through ``sku_by_vendor_sku``; a
    source without a vendor SKU is known to the vendor by ours, so a ``vendor_sku`` that is one of
    ``known_skus`` is taken as it is). A name that resolves to no SKU of ``known_skus`` is reported in
    ``unknown`` and not applied: stock for a product the vendor does not carry for us must not create
    a source. The same SKU twice in one feed: the last level wins, as a vendor appending corrections
    to a file means it.
    """
    resolved: dict[str, int] = {}
    unknown: dict[str, None] = {}  # insertion-ordered set: each unknown name once, as first seen
    for level in levels:
        sku = _our_sku(level, sku_by_vendor_sku, known_skus)
        if sku is None:
            unknown[level.sku or level.vendor_sku or ""] = None
        else:
            resolved[sku] = level.stock
    return ResolvedLevels(resolved, tuple(unknown))


def _our_sku(level: StockLevel, sku_by_vendor_sku: Mapping[str, str], known_skus: Collection[str]) -> str | None:
    if level.sku and level.sku in known_skus:
        return level.sku
    if level.vendor_sku:
        mapped = sku_by_vendor_sku.get(level.vendor_sku)
        if mapped is not None and mapped in known_skus:
            return mapped
        if level.vendor_sku in known_skus:
            return level.vendor_sku
    return None


def _after_feed(mode: FeedMode, incoming: Mapping[str, int], current: Mapping[str, int | None]) -> dict[str, int]:
    """Every level the feed sets: the incoming ones, and on a snapshot 0 for each SKU it leaves out."""
    if mode == "delta":
        return dict(incoming)
    return {**{sku: 0 for sku in current if sku not in incoming}, **incoming}


def next_levels(mode: FeedMode, incoming: Mapping[str, int], current: Mapping[str, int | None]) -> dict[str, int]:
    """The levels that change: SKU → its stock after the feed, for each SKU whose level differs from
    ``current`` (a SKU whose stock was not tracked, ``None``, changes to any level)."""
    return {sku: stock for sku, stock in _after_feed(mode, incoming, current).items() if current.get(sku) != stock}


def assess_feed(
    mode: FeedMode,
    incoming: Mapping[str, int],
    current: Mapping[str, int | None],
    guards: FeedGuards,
    *,
    last_as_of: datetime | None,
    as_of: datetime,
) -> FeedVerdict:
    """Apply, ignore or quarantine a feed, with the numbers that decided it.

    ``incoming`` is the feed's levels by our SKU (:func:`resolve_levels`), ``current`` the vendor's
    SKUs with their stock now. A feed not newer than the last one applied is ignored: feeds can arrive
    out of order, and an older count must not overwrite a newer one. Only snapshots are guarded: a
    delta names the few SKUs that changed, so its row count and total say nothing about its health.
    """
    if last_as_of is not None and as_of <= last_as_of:
        relation = "older than" if as_of < last_as_of else "as old as"
        return FeedVerdict(
            "ignore", f"as of {_timestamp(as_of)}, {relation} the last feed applied, {_timestamp(last_as_of)}"
        )
    changes = len(next_levels(mode, incoming, current))
    if mode == "delta":
        return FeedVerdict(
            "apply", f"delta of {_count(len(incoming), 'SKU')}: {_changes(changes)}; deltas are not guarded"
        )
    after = _after_feed(mode, incoming, current)
    previous_total = sum(stock for stock in current.values() if stock is not None)
    # Only SKUs tracked before: a SKU counted for the first time must not hide a collapse of the others.
    new_total = sum(after[sku] for sku, stock in current.items() if stock is not None)
    problems = [
        problem
        for problem in (
            _too_few_rows(len(incoming), guards.min_inventory_rows),
            _total_drop(previous_total, new_total, guards.max_drop_ratio),
            _zeroed(current, after, guards.max_zeroed_ratio),
        )
        if problem is not None
    ]
    if problems:
        return FeedVerdict("quarantine", "; ".join(problems))
    return FeedVerdict(
        "apply",
        f"snapshot of {_count(len(incoming), 'SKU')}: {_changes(changes)}, "
        f"total stock {_number(previous_total)} to {_number(sum(after.values()))}",
    )


def _too_few_rows(rows: int, minimum: int | None) -> str | None:
    if minimum is None or rows >= minimum:
        return None
    return f"the snapshot has {_count(rows, 'row')}, fewer than the minimum of {_number(minimum)}"


def _total_drop(previous: int, new: int, limit: Decimal) -> str | None:
    if previous <= 0 or new >= previous:
        return None
    drop = Decimal(previous - new) / Decimal(previous)
    if drop <= limit:
        return None
    return (
        f"total stock falls from {_number(previous)} to {_number(new)} "
        f"({MINUS}{_percent(drop)}, limit {_percent(limit)})"
    )


def _zeroed(current: Mapping[str, int | None], after: Mapping[str, int], limit: Decimal) -> str | None:
    in_stock = [sku for sku, stock in current.items() if stock is not None and stock > 0]
    if not in_stock:
        return None
    zeroed = sum(1 for sku in in_stock if after.get(sku, 0) == 0)
    share = Decimal(zeroed) / Decimal(len(in_stock))
    if share <= limit:
        return None
    return (
        f"{_number(zeroed)} of the {_count(len(in_stock), 'SKU')} in stock {'goes' if zeroed == 1 else 'go'} to zero "
        f"({_percent(share)}, limit {_percent(limit)})"
    )


def reservations_counted(as_of: datetime, counted_at: datetime | None) -> bool:
    """Whether a feed already counts an open vendor order's units, so they are no longer reserved.

    ``counted_at`` is when the vendor took the order into its own stock (its acknowledgement, or its
    first pickup of the order); a feed counted after that has the units off already. Never taken in:
    the vendor's counts cannot know of the order, the reservation stands.
    """
    return counted_at is not None and as_of > counted_at


def _number(value: int) -> str:
    return f"{value:,}"


def _count(value: int, noun: str) -> str:
    return f"{_number(value)} {noun}" if value == 1 else f"{_number(value)} {noun}s"


def _changes(changes: int) -> str:
    if changes == 0:
        return "no level changes"
    return "1 level changes" if changes == 1 else f"{_number(changes)} levels change"


def _percent(ratio: Decimal) -> str:
    """70 %, 66.7 %: a tenth of a percent at most, no trailing zeros."""
    text = f"{(ratio * 100).quantize(Decimal('0.1')):f}".removesuffix(".0")
    return f"{text} %"


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
