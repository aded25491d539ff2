"""Stock feeds (services/splitter/routing/feeds.py): resolving the vendor's names to our SKUs, what a
snapshot or a delta changes, which feed is ignored, quarantined or applied and why, and when a feed
ends a reservation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.splitter.routing.feeds import (
    FeedGuards,
    FeedVerdict,
    ResolvedLevels,
    assess_feed,
    next_levels,
    reservations_counted,
    resolve_levels,
)
from shared.contracts.inventory import FeedMode, StockLevel

AS_OF = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
KNOWN = {"TSHIRT-RED-M", "MUG-BLUE", "CAP-GREEN"}
BY_VENDOR_SKU = {"TS-R-M": "TSHIRT-RED-M", "MB-01": "MUG-BLUE", "GONE-1": "RETIRED-SKU"}


def level(stock: int, sku: str | None = None, vendor_sku: str | None = None) -> StockLevel:
    return StockLevel(sku=sku, vendor_sku=vendor_sku, stock=stock)


# ------------------------------------------------------------------------------------------- resolution


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        pytest.param([level(5, sku="MUG-BLUE")], ResolvedLevels({"MUG-BLUE": 5}, ()), id="our-sku"),
        pytest.param([level(40, vendor_sku="TS-R-M")], ResolvedLevels({"TSHIRT-RED-M": 40}, ()), id="vendor-sku"),
        pytest.param(
            [level(3, vendor_sku="CAP-GREEN")],
            ResolvedLevels({"CAP-GREEN": 3}, ()),
            id="vendor-sku-of-a-source-without-one-is-ours",
        ),
        pytest.param(
            [level(7, sku="NOT-OURS"), level(8, vendor_sku="XX-9")],
            ResolvedLevels({}, ("NOT-OURS", "XX-9")),
            id="unknown-names-reported-not-applied",
        ),
        pytest.param(
            [level(2, vendor_sku="GONE-1")],
            ResolvedLevels({}, ("GONE-1",)),
            id="mapped-to-a-sku-the-vendor-no-longer-carries",
        ),
        pytest.param(
            [level(5, sku="MUG-BLUE"), level(9, vendor_sku="MB-01")],
            ResolvedLevels({"MUG-BLUE": 9}, ()),
            id="same-sku-twice-last-wins",
        ),
        pytest.param(
            [level(1, sku="NOPE"), level(2, sku="NOPE")], ResolvedLevels({}, ("NOPE",)), id="unknown-reported-once"
        ),
        pytest.param(
            [level(4, sku="WRONG", vendor_sku="TS-R-M")],
            ResolvedLevels({"TSHIRT-RED-M": 4}, ()),
            id="unknown-sku-falls-back-to-its-vendor-sku",
        ),
        pytest.param(
            [level(6, sku="MUG-BLUE", vendor_sku="TS-R-M")],
            ResolvedLevels({"MUG-BLUE": 6}, ()),
            id="our-sku-wins-over-the-vendor-sku",
        ),
        pytest.param([], ResolvedLevels({}, ()), id="empty"),
    ],
)
def test_resolve_levels(levels: list[StockLevel], expected: ResolvedLevels) -> None:
    assert resolve_levels(levels, BY_VENDOR_SKU, KNOWN) == expected


# ------------------------------------------------------------------------------------------- next levels


@pytest.mark.parametrize(
    ("mode", "incoming", "current", "expected"),
    [
        pytest.param("snapshot", {"A": 5, "B": 3}, {"A": 5, "B": 1}, {"B": 3}, id="snapshot-only-changes"),
        pytest.param("snapshot", {"A": 5}, {"A": 5, "B": 4, "C": 0}, {"B": 0}, id="snapshot-left-out-goes-to-zero"),
        pytest.param("snapshot", {"A": 0}, {"A": None, "B": None}, {"A": 0, "B": 0}, id="snapshot-untracked-to-zero"),
        pytest.param("snapshot", {"A": 2}, {}, {"A": 2}, id="snapshot-new-sku"),
        pytest.param("snapshot", {}, {"A": 0}, {}, id="snapshot-empty-nothing-had-stock"),
        pytest.param("delta", {"A": 7}, {"A": 5, "B": 4}, {"A": 7}, id="delta-others-untouched"),
        pytest.param("delta", {"A": 5}, {"A": 5}, {}, id="delta-replayed-changes-nothing"),
        pytest.param("delta", {"A": 3}, {"A": None}, {"A": 3}, id="delta-untracked-to-a-level"),
        pytest.param("delta", {"A": 0}, {"A": 2}, {"A": 0}, id="delta-to-zero"),
        pytest.param("delta", {}, {"A": 2}, {}, id="delta-empty"),
    ],
)
def test_next_levels(
    mode: FeedMode, incoming: dict[str, int], current: dict[str, int | None], expected: dict[str, int]
) -> None:
    assert next_levels(mode, incoming, current) == expected


skus = st.sampled_from([f"SKU-{n}" for n in range(8)])
stock = st.integers(min_value=0, max_value=50)


@given(st.dictionaries(skus, stock), st.dictionaries(skus, st.none() | stock))
def test_a_snapshot_answers_exactly_the_skus_that_change(
    incoming: dict[str, int], current: dict[str, int | None]
) -> None:
    changes = next_levels("snapshot", incoming, current)
    after = {**current, **{sku: 0 for sku in current if sku not in incoming}, **incoming}
    assert changes == {sku: value for sku, value in after.items() if current.get(sku) != value}
    assert {**current, **changes} == after


@given(st.dictionaries(skus, stock), st.dictionaries(skus, st.none() | stock))
def test_a_delta_applied_twice_changes_nothing_the_second_time(
    incoming: dict[str, int], current: dict[str, int | None]
) -> None:
    once = {**current, **next_levels("delta", incoming, current)}
    assert next_levels("delta", incoming, once) == {}
    assert set(next_levels("delta", incoming, current)) <= set(incoming)


# -------------------------------------------------------------------------------------------- assessment


STOCKED = {"A": 400, "B": 300, "C": 200, "D": 100}  # 1,000 units over 4 SKUs


@pytest.mark.parametrize(
    ("mode", "incoming", "current", "guards", "last_as_of", "expected"),
    [
        pytest.param(
            "snapshot",
            STOCKED,
            STOCKED,
            FeedGuards(),
            AS_OF + timedelta(hours=1),
            FeedVerdict("ignore", "as of 2026-12-01T08:00:00Z, older than the last feed applied, 2026-12-01T09:00:00Z"),
            id="ignore-older",
        ),
        pytest.param(
            "delta",
            {"A": 1},
            STOCKED,
            FeedGuards(),
            AS_OF,
            FeedVerdict("ignore", "as of 2026-12-01T08:00:00Z, as old as the last feed applied, 2026-12-01T08:00:00Z"),
            id="ignore-same-time-delta-too",
        ),
        pytest.param(
            "snapshot",
            {"A": 400, "B": 300},
            {"A": 400, "B": 300},
            FeedGuards(min_inventory_rows=3),
            None,
            FeedVerdict("quarantine", "the snapshot has 2 rows, fewer than the minimum of 3"),
            id="quarantine-too-few-rows",
        ),
        pytest.param(
            "snapshot",
            {"A": 100, "B": 100, "C": 50, "D": 50},
            STOCKED,
            FeedGuards(),
            AS_OF - timedelta(days=1),
            FeedVerdict("quarantine", "total stock falls from 1,000 to 300 (\N{MINUS SIGN}70 %, limit 50 %)"),
            id="quarantine-total-drop",
        ),
        pytest.param(
            "snapshot",
            {"A": 997, "B": 1, "C": 1, "D": 1},
            STOCKED,
            FeedGuards(),
            None,
            FeedVerdict("apply", "snapshot of 4 SKUs: 4 levels change, total stock 1,000 to 1,000"),
            id="apply-shuffled-stock",
        ),
        pytest.param(
            "snapshot",
            {"A": 1000},
            STOCKED,
            FeedGuards(),
            None,
            FeedVerdict("quarantine", "3 of the 4 SKUs in stock go to zero (75 %, limit 50 %)"),
            id="quarantine-most-skus-zeroed",
        ),
        pytest.param(
            "snapshot",
            {},
            STOCKED,
            FeedGuards(min_inventory_rows=1),
            None,
            FeedVerdict(
                "quarantine",
                "the snapshot has 0 rows, fewer than the minimum of 1; "
                "total stock falls from 1,000 to 0 (\N{MINUS SIGN}100 %, limit 50 %); "
                "4 of the 4 SKUs in stock go to zero (100 %, limit 50 %)",
            ),
            id="quarantine-every-guard-named",
        ),
        pytest.param(
            "snapshot",
            {"A": 200, "B": 150, "C": 100, "D": 50},
            STOCKED,
            FeedGuards(),
            None,
            FeedVerdict("apply", "snapshot of 4 SKUs: 4 levels change, total stock 1,000 to 500"),
            id="apply-drop-exactly-at-the-limit",
        ),
        pytest.param(
            "snapshot",
            {"A": 400, "B": 300},
            STOCKED,
            FeedGuards(),
            None,
            FeedVerdict("apply", "snapshot of 2 SKUs: 2 levels change, total stock 1,000 to 700"),
            id="apply-half-zeroed-is-at-the-limit",
        ),
        pytest.param(
            "snapshot",
            {"A": 100, "B": 100, "C": 50, "D": 50},
            STOCKED,
            FeedGuards(max_drop_ratio=Decimal("0.8")),
            None,
            FeedVerdict("apply", "snapshot of 4 SKUs: 4 levels change, total stock 1,000 to 300"),
            id="apply-under-a-vendors-own-drop-limit",
        ),
        pytest.param(
            "snapshot",
            {"A": 1, "B": 0, "C": 0},
            {"A": 2, "B": 1, "C": 0},
            FeedGuards(max_drop_ratio=Decimal("1"), max_zeroed_ratio=Decimal("0.25")),
            None,
            FeedVerdict("quarantine", "1 of the 2 SKUs in stock goes to zero (50 %, limit 25 %)"),
            id="quarantine-under-a-vendors-own-zeroed-limit",
        ),
        pytest.param(
            "snapshot",
            {"A": 0, "B": 0},
            {"A": 1, "B": 2, "C": 0},
            FeedGuards(),
            None,
            FeedVerdict(
                "quarantine",
                "total stock falls from 3 to 0 (\N{MINUS SIGN}100 %, limit 50 %); "
                "2 of the 2 SKUs in stock go to zero (100 %, limit 50 %)",
            ),
            id="quarantine-small-numbers",
        ),
        pytest.param(
            "snapshot",
            {"A": 1, "B": 2},
            {"A": 0, "B": None},
            FeedGuards(),
            None,
            FeedVerdict("apply", "snapshot of 2 SKUs: 2 levels change, total stock 0 to 3"),
            id="apply-first-stock-nothing-to-compare",
        ),
        pytest.param(
            "snapshot",
            {"A": 0, "B": 3000},
            {"A": 10, "B": None},
            FeedGuards(),
            None,
            FeedVerdict(
                "quarantine",
                "total stock falls from 10 to 0 (\N{MINUS SIGN}100 %, limit 50 %); "
                "1 of the 1 SKU in stock goes to zero (100 %, limit 50 %)",
            ),
            id="newly-tracked-stock-does-not-hide-a-collapse",
        ),
        pytest.param(
            "snapshot",
            STOCKED,
            STOCKED,
            FeedGuards(min_inventory_rows=4),
            AS_OF - timedelta(seconds=1),
            FeedVerdict("apply", "snapshot of 4 SKUs: no level changes, total stock 1,000 to 1,000"),
            id="apply-newer-unchanged",
        ),
        pytest.param(
            "delta",
            {"A": 0, "B": 0, "C": 0},
            STOCKED,
            FeedGuards(min_inventory_rows=10),
            None,
            FeedVerdict("apply", "delta of 3 SKUs: 3 levels change; deltas are not guarded"),
            id="delta-applied-despite-the-guards",
        ),
        pytest.param(
            "delta",
            {"A": 400},
            STOCKED,
            FeedGuards(),
            None,
            FeedVerdict("apply", "delta of 1 SKU: no level changes; deltas are not guarded"),
            id="delta-replayed",
        ),
        pytest.param(
            "delta",
            {"A": 401},
            STOCKED,
            FeedGuards(),
            None,
            FeedVerdict("apply", "delta of 1 SKU: 1 level changes; deltas are not guarded"),
            id="delta-one-change",
        ),
    ],
)
def test_assess_feed(
    mode: FeedMode,
    incoming: dict[str, int],
    current: dict[str, int | None],
    guards: FeedGuards,
    last_as_of: datetime | None,
    expected: FeedVerdict,
) -> None:
    assert assess_feed(mode, incoming, current, guards, last_as_of=last_as_of, as_of=AS_OF) == expected


def test_drop_percentages_keep_a_tenth() -> None:
    verdict = assess_feed(
        "snapshot", {"A": 1, "B": 1, "C": 1}, {"A": 3, "B": 3, "C": 3}, FeedGuards(), last_as_of=None, as_of=AS_OF
    )
    assert verdict == FeedVerdict("quarantine", "total stock falls from 9 to 3 (\N{MINUS SIGN}66.7 %, limit 50 %)")


def test_timestamps_in_reasons_are_utc() -> None:
    east = datetime(2026, 12, 1, 3, 0, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    verdict = assess_feed("delta", {}, {}, FeedGuards(), last_as_of=AS_OF, as_of=east)
    assert verdict.reason == "as of 2026-12-01T03:00:00Z, older than the last feed applied, 2026-12-01T08:00:00Z"


# ----------------------------------------------------------------------------------------- reservations


@pytest.mark.parametrize(
    ("as_of", "counted_at", "expected"),
    [
        pytest.param(AS_OF, AS_OF - timedelta(minutes=1), True, id="feed-after-ack"),
        pytest.param(AS_OF, AS_OF, False, id="feed-at-the-same-moment"),
        pytest.param(AS_OF, AS_OF + timedelta(minutes=1), False, id="feed-before-ack"),
        pytest.param(AS_OF, None, False, id="never-acknowledged"),
    ],
)
def test_reservations_counted(as_of: datetime, counted_at: datetime | None, expected: bool) -> None:
    assert reservations_counted(as_of, counted_at) is expected
