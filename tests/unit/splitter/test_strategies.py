"""The routing strategies, table by table: which vendor gets each line and why, every tie, stock
arithmetic, the filters, splits, backorders and one vendor for the whole order
(services/splitter/routing/strategies.py, stock.py)."""

# The reasons spell subtraction with the real minus sign (U+2212), as the contract shows them.
# ruff: noqa: RUF001

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.splitter.routing.model import (
    LineRouting,
    LineToRoute,
    RoutingInput,
    RoutingSettings,
    Source,
    Strategy,
    VendorProfile,
)
from services.splitter.routing.stock import availability
from services.splitter.routing.strategies import route_lines

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOURS_AGO = {hours: NOW - timedelta(hours=hours) for hours in (1, 47, 49)}


def src(vendor: str, stock: int | None = None, cost: str | None = None, priority: int = 100, **extra: Any) -> Source:
    extra.setdefault("stock_as_of", NOW - timedelta(hours=1))
    return Source(
        vendor, f"{vendor.upper()}-SKU", Decimal(cost) if cost is not None else None, stock, priority, **extra
    )


def vendors(*codes: str, **profiles: VendorProfile) -> dict[str, VendorProfile]:
    return {**{code: VendorProfile(code) for code in codes}, **profiles}


def request(
    lines: Sequence[LineToRoute],
    sources: Mapping[str, Sequence[Source]],
    profiles: Mapping[str, VendorProfile],
    strategy: Strategy = "priority",
    country: str = "US",
    **settings: Any,
) -> RoutingInput:
    return RoutingInput(
        tuple(lines),
        country,
        {sku: tuple(found) for sku, found in sources.items()},
        profiles,
        RoutingSettings(strategy, **settings),
        NOW,
    )


def line(line_id: str = "L1", sku: str = "X", quantity: int = 1, excluded: Sequence[str] = ()) -> LineToRoute:
    return LineToRoute(line_id, sku, quantity, frozenset(excluded))


def outcome(routing: LineRouting) -> list[tuple[str, str, int, bool] | tuple[str, str]]:
    """(line, vendor, units, backorder) per allocation, then (line, hold code) per hold."""
    allocated: list[tuple[str, str, int, bool] | tuple[str, str]] = [
        (a.line_id, a.vendor, a.quantity, a.backorder) for a in routing.allocations
    ]
    return allocated + [(h.line_id or "", h.code) for h in routing.holds]


@dataclass(frozen=True)
class Case:
    id: str
    strategy: Strategy
    sources: Mapping[str, Sequence[Source]]
    expected: list[tuple[str, str, int, bool] | tuple[str, str]]
    lines: Sequence[LineToRoute] = (LineToRoute("L1", "X", 1),)
    profiles: Mapping[str, VendorProfile] = field(default_factory=lambda: vendors("east", "west", "north"))
    country: str = "US"
    settings: Mapping[str, bool] = field(default_factory=dict)


def run(case: Case) -> LineRouting:
    return route_lines(request(case.lines, case.sources, case.profiles, case.strategy, case.country, **case.settings))


def to(vendor: str, units: int = 1, line_id: str = "L1", *, backorder: bool = False) -> tuple[str, str, int, bool]:
    return (line_id, vendor, units, backorder)


def held(code: str, line_id: str = "L1") -> tuple[str, str]:
    return (line_id, code)


STALE = VendorProfile("east", feed_stale_after_hours=48)
BUFFERED = VendorProfile("east", stock_buffer=2)
INACTIVE = VendorProfile("east", active=False)
CANADA_ONLY = VendorProfile("east", countries=frozenset({"CA"}))
FEE_1 = VendorProfile("east", handling_fee=Decimal("1.00"))
BACKORDERS = {code: VendorProfile(code, accepts_backorders=True) for code in ("west", "north")}
TWO_LINES = (line("L1", "X"), line("L2", "Y"))

PRIORITY_CASES = [
    Case(
        "lowest number wins", "priority", {"X": [src("east", 9, priority=2), src("west", 9, priority=1)]}, [to("west")]
    ),
    Case(
        "equal priority: code",
        "priority",
        {"X": [src("west", 9, priority=1), src("east", 9, priority=1)]},
        [to("east")],
    ),
    Case(
        "short first source skipped",
        "priority",
        {"X": [src("east", 2, priority=1), src("west", 5, priority=2)]},
        [to("west", 3)],
        lines=[line(quantity=3)],
    ),
    Case(
        "untracked counts as in stock",
        "priority",
        {"X": [src("east", None, priority=1)]},
        [to("east", 1000)],
        lines=[line(quantity=1000)],
    ),
    Case(
        "reserved and buffer taken off",
        "priority",
        {"X": [src("east", 10, priority=1, reserved=6), src("west", 9, priority=2)]},
        [to("west", 3)],
        lines=[line(quantity=3)],
        profiles=vendors("west", east=BUFFERED),
    ),
    Case(
        "exactly enough after reserved and buffer",
        "priority",
        {"X": [src("east", 10, priority=1, reserved=5), src("west", 9, priority=2)]},
        [to("east", 3)],
        lines=[line(quantity=3)],
        profiles=vendors("west", east=BUFFERED),
    ),
    Case(
        "stale stock covers nothing",
        "priority",
        {"X": [src("east", 100, priority=1, stock_as_of=HOURS_AGO[49]), src("west", 5, priority=2)]},
        [to("west")],
        profiles=vendors("west", east=STALE),
    ),
    Case(
        "stock within the staleness limit counts",
        "priority",
        {"X": [src("east", 100, priority=1, stock_as_of=HOURS_AGO[47]), src("west", 5, priority=2)]},
        [to("east")],
        profiles=vendors("west", east=STALE),
    ),
    Case(
        "stock without a feed time is unknown where staleness is set",
        "priority",
        {"X": [src("east", 100, priority=1, stock_as_of=None), src("west", 5, priority=2)]},
        [to("west")],
        profiles=vendors("west", east=STALE),
    ),
    Case(
        "inactive vendor never chosen",
        "priority",
        {"X": [src("east", None, priority=1), src("west", 5, priority=9)]},
        [to("west")],
        profiles=vendors("west", east=INACTIVE),
    ),
    Case(
        "vendor tried before skipped",
        "priority",
        {"X": [src("east", 9, priority=1), src("west", 9, priority=2)]},
        [to("west")],
        lines=[line(excluded=["east"])],
    ),
    Case(
        "country filters first",
        "priority",
        {"X": [src("east", 9, priority=1), src("west", 9, priority=2)]},
        [to("west")],
        profiles=vendors("west", east=CANADA_ONLY),
    ),
    Case(
        "lower-case country matches",
        "priority",
        {"X": [src("east", 9, priority=1), src("west", 9, priority=2)]},
        [to("east")],
        profiles=vendors("west", east=CANADA_ONLY),
        country="ca",
    ),
    Case(
        "reserved above the feed is no stock, not negative",
        "priority",
        {"X": [src("east", 2, priority=1, reserved=5)]},
        [held("no_stock")],
    ),
]

COST_CASES = [
    Case(
        "cheapest in stock wins", "lowest_cost", {"X": [src("east", 9, "5.00"), src("west", 9, "4.00")]}, [to("west")]
    ),
    Case(
        "cheaper without stock skipped",
        "lowest_cost",
        {"X": [src("east", 5, "5.00"), src("west", 0, "4.00")]},
        [to("east")],
    ),
    Case(
        "equal cost: priority",
        "lowest_cost",
        {"X": [src("east", 9, "4.00", priority=2), src("west", 9, "4.00", priority=1)]},
        [to("west")],
    ),
    Case(
        "equal cost and priority: code",
        "lowest_cost",
        {"X": [src("west", 9, "4.00", priority=1), src("east", 9, "4.00", priority=1)]},
        [to("east")],
    ),
    Case(
        "the fee makes a cheaper cost dearer",
        "lowest_cost",
        {"X": [src("east", 9, "4.00"), src("west", 9, "4.50")]},
        [to("west")],
        profiles=vendors("west", east=FEE_1),
    ),
    Case(
        "the fee shared across two eligible lines",
        "lowest_cost",
        {"X": [src("east", 9, "4.00"), src("west", 9, "4.60")], "Y": [src("east", 9, "1.00")]},
        [to("east"), to("east", line_id="L2")],
        lines=TWO_LINES,
        profiles=vendors("west", east=FEE_1),
    ),
    Case(
        "the fee share counts lines without stock too",
        "lowest_cost",
        {"X": [src("east", 9, "4.00"), src("west", 9, "4.60")], "Y": [src("east", 0, "1.00"), src("west", 9, "2.00")]},
        [to("east"), to("west", line_id="L2")],
        lines=TWO_LINES,
        profiles=vendors("west", east=FEE_1),
    ),
    Case(
        "a line the vendor cannot take carries none of its fee",
        "lowest_cost",
        {"X": [src("east", 9, "4.00"), src("west", 9, "4.60")], "Y": [src("west", 9, "1.00")]},
        [to("west"), to("west", line_id="L2")],
        lines=TWO_LINES,
        profiles=vendors("west", east=FEE_1),
    ),
    Case(
        "cost × quantity",
        "lowest_cost",
        {"X": [src("east", 9, "4.00"), src("west", 9, "3.00")]},
        [to("west", 3)],
        lines=[line(quantity=3)],
        profiles=vendors("west", east=VendorProfile("east", handling_fee=Decimal("0.50"))),
    ),
    Case("no cost ranks after a cost", "lowest_cost", {"X": [src("east", 100), src("west", 5, "9.00")]}, [to("west")]),
    Case("no costs: most stock", "lowest_cost", {"X": [src("east", 5), src("west", 9)]}, [to("west")]),
    Case("no costs: tracked before untracked", "lowest_cost", {"X": [src("east", None), src("west", 5)]}, [to("west")]),
    Case(
        "no costs, nothing tracked: priority",
        "lowest_cost",
        {"X": [src("east", None, priority=2), src("west", None, priority=1)]},
        [to("west")],
    ),
    Case(
        "no costs, equal stock: priority then code",
        "lowest_cost",
        {"X": [src("west", 5, priority=1), src("north", 5, priority=1), src("east", 5, priority=2)]},
        [to("north")],
    ),
    Case(
        "nobody has it: held, not backordered",
        "lowest_cost",
        {"X": [src("west", 0, "1.00")]},
        [held("no_stock")],
        profiles=BACKORDERS,
    ),
]

BACKORDER_CASES = [
    Case(
        "in stock: as lowest_cost",
        "lowest_cost_backorder",
        {"X": [src("west", 0, "3.00"), src("north", 9, "5.00")]},
        [to("north")],
        profiles=BACKORDERS,
    ),
    Case(
        "nobody has stock: cheapest accepting",
        "lowest_cost_backorder",
        {"X": [src("east", 0, "3.00"), src("west", 0, "4.00"), src("north", 0, "5.00")]},
        [to("west", 5, backorder=True)],
        lines=[line(quantity=5)],
        profiles={**vendors("east"), **BACKORDERS},
    ),
    Case(
        "nobody accepting: held",
        "lowest_cost_backorder",
        {"X": [src("east", 0, "3.00"), src("west", 1, "4.00")]},
        [held("no_stock")],
        lines=[line(quantity=2)],
    ),
    Case(
        "an inactive vendor accepting is not chosen",
        "lowest_cost_backorder",
        {"X": [src("west", 0, "3.00"), src("north", 0, "4.00")]},
        [to("north", backorder=True)],
        profiles={"west": VendorProfile("west", active=False, accepts_backorders=True), "north": BACKORDERS["north"]},
    ),
]

STOCK_CASES = [
    Case(
        "most available wins",
        "most_stock",
        {"X": [src("east", 5, priority=1), src("west", 9, priority=2)]},
        [to("west")],
    ),
    Case(
        "equal stock: priority",
        "most_stock",
        {"X": [src("east", 9, priority=2), src("west", 9, priority=1)]},
        [to("west")],
    ),
    Case("equal stock and priority: code", "most_stock", {"X": [src("west", 9), src("east", 9)]}, [to("east")]),
    Case(
        "untracked after every tracked one",
        "most_stock",
        {"X": [src("east", None, priority=1), src("west", 2)]},
        [to("west")],
    ),
    Case(
        "untracked when no tracked one has enough",
        "most_stock",
        {"X": [src("east", None), src("west", 2)]},
        [to("east", 3)],
        lines=[line(quantity=3)],
    ),
    Case(
        "stock counted after the buffer",
        "most_stock",
        {"X": [src("east", 10), src("west", 7)]},
        [to("west")],
        profiles=vendors("west", east=VendorProfile("east", stock_buffer=5)),
    ),
    Case(
        "stale stock ranks as none",
        "most_stock",
        {"X": [src("east", 100, stock_as_of=HOURS_AGO[49]), src("west", 1)]},
        [to("west")],
        profiles=vendors("west", east=STALE),
    ),
]

HOLD_CASES = [
    Case("unmapped SKU", "priority", {}, [held("unmapped_sku")]),
    Case(
        "no vendor ships to the country",
        "lowest_cost",
        {"X": [src("east", 9)]},
        [held("no_vendor_for_country")],
        profiles={"east": CANADA_ONLY},
    ),
    Case(
        "only inactive vendors", "most_stock", {"X": [src("east", 9)]}, [held("no_stock")], profiles={"east": INACTIVE}
    ),
    Case("a vendor not set up", "priority", {"X": [src("ghost", 9)]}, [held("no_stock")]),
    Case(
        "every vendor tried before",
        "priority",
        {"X": [src("east", 9), src("west", 9)]},
        [held("vendor_rejected")],
        lines=[line(excluded=["east", "west"])],
    ),
    Case(
        "tried before and the rest inactive",
        "priority",
        {"X": [src("east", 9), src("west", 9)]},
        [held("vendor_rejected")],
        lines=[line(excluded=["west"])],
        profiles=vendors("west", east=INACTIVE),
    ),
    Case(
        "nobody has the quantity",
        "priority",
        {"X": [src("east", 4), src("west", 0)]},
        [held("no_stock")],
        lines=[line(quantity=5)],
    ),
    Case(
        "one line held, the other routed",
        "priority",
        {"X": [src("east", 9)]},
        [to("east"), held("unmapped_sku", "L2")],
        lines=TWO_LINES,
    ),
]

SPLIT = {"split_quantities": True}
SPLIT_CASES = [
    Case(
        "priority order",
        "priority",
        {"X": [src("east", 3, priority=1), src("west", 4, priority=2)]},
        [to("east", 3), to("west", 2)],
        lines=[line(quantity=5)],
        settings=SPLIT,
    ),
    Case(
        "cheapest first",
        "lowest_cost",
        {"X": [src("east", 3, "2.00"), src("west", 4, "1.00")]},
        [to("west", 4), to("east", 1)],
        lines=[line(quantity=5)],
        settings=SPLIT,
    ),
    Case(
        "most stock first",
        "most_stock",
        {"X": [src("east", 3), src("west", 2), src("north", 4)]},
        [to("north", 4), to("east", 3), to("west", 1)],
        lines=[line(quantity=8)],
        settings=SPLIT,
    ),
    Case(
        "all together too few: held",
        "priority",
        {"X": [src("east", 3), src("west", 1)]},
        [held("no_stock")],
        lines=[line(quantity=5)],
        settings=SPLIT,
    ),
    Case(
        "the rest as a backorder",
        "lowest_cost_backorder",
        {"X": [src("east", 2, "1.00"), src("west", 0, "2.00")]},
        [to("east", 2), to("west", 3, backorder=True)],
        lines=[line(quantity=5)],
        profiles={**vendors("east"), **BACKORDERS},
        settings=SPLIT,
    ),
    Case(
        "not split when one source has it all",
        "priority",
        {"X": [src("east", 3, priority=1), src("west", 10)]},
        [to("west", 5)],
        lines=[line(quantity=5)],
        settings=SPLIT,
    ),
    Case(
        "off: held rather than split",
        "priority",
        {"X": [src("east", 3), src("west", 4)]},
        [held("no_stock")],
        lines=[line(quantity=5)],
    ),
]

SINGLE = {"prefer_single_vendor": True}
SINGLE_SOURCES = {
    "X": [src("east", 9, "1.00", priority=1), src("west", 9, "1.70", priority=2)],
    "Y": [src("west", 9, "3.00")],
}
SINGLE_CASES = [
    Case(
        "one vendor takes the whole order though dearer",
        "lowest_cost",
        SINGLE_SOURCES,
        [to("west"), to("west", line_id="L2")],
        lines=TWO_LINES,
        settings=SINGLE,
    ),
    Case(
        "without the setting each line goes its own way",
        "lowest_cost",
        SINGLE_SOURCES,
        [to("east"), to("west", line_id="L2")],
        lines=TWO_LINES,
    ),
    Case(
        "not when no vendor can ship everything",
        "lowest_cost",
        {"X": [src("east", 9, "1.00"), src("west", 0, "1.70")], "Y": [src("west", 9, "3.00")]},
        [to("east"), to("west", line_id="L2")],
        lines=TWO_LINES,
        settings=SINGLE,
    ),
    Case(
        "backorders do not count",
        "lowest_cost_backorder",
        {"X": [src("east", 9, "1.00"), src("west", 0, "1.70")], "Y": [src("west", 9, "3.00"), src("east", 9, "3.50")]},
        [to("east"), to("east", line_id="L2")],
        lines=TWO_LINES,
        profiles={**vendors("east"), **BACKORDERS},
        settings=SINGLE,
    ),
    Case(
        "several can: lowest total",
        "lowest_cost",
        {"X": [src("east", 9, "1.00"), src("west", 9, "2.00")], "Y": [src("east", 9, "5.00"), src("west", 9, "3.00")]},
        [to("west"), to("west", line_id="L2")],
        lines=TWO_LINES,
        settings=SINGLE,
    ),
    Case(
        "several can: best priority",
        "priority",
        {
            "X": [src("east", 9, priority=1), src("west", 9, priority=2)],
            "Y": [src("east", 9, priority=5), src("west", 9, priority=3)],
        },
        [to("west"), to("west", line_id="L2")],
        lines=TWO_LINES,
        settings=SINGLE,
    ),
    Case(
        "several can: most total stock",
        "most_stock",
        {"X": [src("east", 10), src("west", 9)], "Y": [src("east", 2), src("west", 9)]},
        [to("west"), to("west", line_id="L2")],
        lines=TWO_LINES,
        settings=SINGLE,
    ),
    Case(
        "a held line: no single vendor",
        "priority",
        {"X": [src("east", 9), src("west", 9, priority=1)]},
        [to("west"), held("unmapped_sku", "L2")],
        lines=TWO_LINES,
        settings=SINGLE,
    ),
]

TABLES = {
    "priority": PRIORITY_CASES,
    "lowest_cost": COST_CASES,
    "backorder": BACKORDER_CASES,
    "most_stock": STOCK_CASES,
    "holds": HOLD_CASES,
    "split": SPLIT_CASES,
    "single": SINGLE_CASES,
}
ALL_CASES = [(table, case) for table, cases in TABLES.items() for case in cases]


@pytest.mark.parametrize(("table", "case"), ALL_CASES, ids=[f"{table}: {case.id}" for table, case in ALL_CASES])
def test_routing_table(table: str, case: Case) -> None:
    routing = run(case)

    assert outcome(routing) == case.expected
    assert all(a.reason.startswith(f"SKU {a.sku} → {a.vendor}: ") for a in routing.allocations)


@pytest.mark.parametrize(("table", "case"), ALL_CASES, ids=[f"{table}: {case.id}" for table, case in ALL_CASES])
def test_routing_does_not_depend_on_the_order_sources_are_listed_in(table: str, case: Case) -> None:
    expected = run(case)
    for sku, found in case.sources.items():
        for permutation in itertools.permutations(found):
            shuffled = Case(case.id, case.strategy, {**case.sources, sku: permutation}, case.expected, case.lines,
                            case.profiles, case.country, case.settings)  # fmt: skip
            assert run(shuffled) == expected


# ---------------------------------------------------------------------------------------------- stock


@pytest.mark.parametrize(
    ("source", "vendor", "units", "covers_3", "text"),
    [
        (
            src("e", 40, reserved=26),
            VendorProfile("e", stock_buffer=2),
            12,
            True,
            "available 12 (feed 40 − reserved 26 − buffer 2)",
        ),
        (src("e", 3), VendorProfile("e"), 3, True, "available 3 (feed 3 − reserved 0 − buffer 0)"),
        (src("e", 4, reserved=2), VendorProfile("e"), 2, False, "available 2 (feed 4 − reserved 2 − buffer 0)"),
        (
            src("e", 1, reserved=1),
            VendorProfile("e", stock_buffer=3),
            0,
            False,
            "available 0 (feed 1 − reserved 1 − buffer 3)",
        ),
        (src("e", None), VendorProfile("e", stock_buffer=3), None, True, "stock not tracked (counts as in stock)"),
        (
            src("e", 50, stock_as_of=datetime(2026, 11, 29, 11, 59, 30, tzinfo=UTC)),
            VendorProfile("e", feed_stale_after_hours=48),
            0,
            False,
            "stock unknown: last feed 2026-11-29 11:59 UTC is older than 48 h",
        ),
        (
            src("e", 50, stock_as_of=NOW - timedelta(hours=48)),
            VendorProfile("e", feed_stale_after_hours=48),
            50,
            True,
            "available 50 (feed 50 − reserved 0 − buffer 0)",
        ),
        (
            src("e", 50, stock_as_of=None),
            VendorProfile("e", feed_stale_after_hours=6),
            0,
            False,
            "stock unknown: no feed time, and stock is stale after 6 h",
        ),
        (
            src("e", 50, stock_as_of=None),
            VendorProfile("e"),
            50,
            True,
            "available 50 (feed 50 − reserved 0 − buffer 0)",
        ),
    ],
    ids=[
        "contract example",
        "nothing taken off",
        "reserved",
        "floor at zero",
        "untracked",
        "stale",
        "exactly at the limit",
        "no feed time with a limit",
        "no feed time without a limit",
    ],
)
def test_availability(source: Source, vendor: VendorProfile, units: int | None, covers_3: bool, text: str) -> None:
    stock = availability(source, vendor, NOW)

    assert (stock.units, stock.covers(3), stock.text) == (units, covers_3, text)
    assert stock.tracked == (source.stock is not None)


def test_untracked_covers_anything_and_stale_covers_nothing() -> None:
    untracked = availability(src("e", None), VendorProfile("e"), NOW)
    stale = availability(src("e", 10**6, stock_as_of=HOURS_AGO[49]), VendorProfile("e", feed_stale_after_hours=48), NOW)

    assert untracked.covers(10**9) and not untracked.stale
    assert not stale.covers(1) and stale.stale and stale.units == 0


# ---------------------------------------------------------------------------------------------- reasons


def reasons(routing: LineRouting) -> list[str]:
    return [a.reason for a in routing.allocations] + [h.detail for h in routing.holds]


def test_lowest_cost_reason_is_the_contracts_example() -> None:
    sources = {"X": [src("acme", 40, "4.10", reserved=26), src("beta", 9, "4.80"), src("gamma", 0, "5.00")]}
    profiles = {
        "acme": VendorProfile("acme", stock_buffer=2, handling_fee=Decimal("0.50")),
        **vendors("beta", "gamma"),
    }

    routing = route_lines(request([line()], sources, profiles, "lowest_cost"))

    assert reasons(routing) == [
        "SKU X → acme: available 12 (feed 40 − reserved 26 − buffer 2), cost 4.10 + fee 0.50,"
        " cheapest of 3 (beta 4.80, gamma no stock)"
    ]


def test_cost_reason_shows_the_line_total_and_the_vendors_tried_before() -> None:
    sources = {"X": [src("acme", 9, "4.10"), src("west", 9, "1.00")]}
    profiles = {"acme": VendorProfile("acme", handling_fee=Decimal("0.50")), **vendors("west")}

    routing = route_lines(request([line(quantity=2, excluded=["west"])], sources, profiles, "lowest_cost_backorder"))

    assert reasons(routing) == [
        "SKU X → acme: available 9 (feed 9 − reserved 0 − buffer 0), cost 4.10 + fee 0.50 = 8.70 for 2,"
        " cheapest of 1; tried before: west"
    ]


def test_priority_reason_names_every_other_candidate() -> None:
    sources = {"X": [src("acme", 12, priority=1), src("beta", 0, priority=2), src("gamma", None, priority=3)]}

    routing = route_lines(request([line(quantity=3)], sources, vendors("acme", "beta", "gamma")))

    assert reasons(routing) == [
        "SKU X → acme: available 12 (feed 12 − reserved 0 − buffer 0), priority 1, first with stock of 3"
        " (beta priority 2: no stock, gamma priority 3: not tracked)"
    ]


def test_most_stock_reason() -> None:
    sources = {"X": [src("acme", 12), src("beta", 4), src("gamma", None)]}

    routing = route_lines(request([line()], sources, vendors("acme", "beta", "gamma"), "most_stock"))

    assert reasons(routing) == [
        "SKU X → acme: available 12 (feed 12 − reserved 0 − buffer 0), most stock of 3"
        " (beta available 4, gamma not tracked)"
    ]


def test_no_stock_hold_lists_every_candidates_stock() -> None:
    sources = {"X": [src("acme", 4, reserved=2, priority=1), src("beta", 9, stock_as_of=HOURS_AGO[49], priority=2)]}
    profiles = {**vendors("acme"), "beta": VendorProfile("beta", feed_stale_after_hours=48)}

    routing = route_lines(request([line(quantity=5)], sources, profiles))

    assert [(h.code, h.line_id) for h in routing.holds] == [("no_stock", "L1")]
    assert reasons(routing) == [
        "SKU X: nobody has 5 available (acme: available 2 (feed 4 − reserved 2 − buffer 0),"
        " beta: stock unknown: last feed 2026-11-29 11:00 UTC is older than 48 h)"
    ]


@pytest.mark.parametrize(
    ("sources", "profiles", "lines", "detail"),
    [
        ({}, vendors("acme"), [line()], "SKU X has no vendor source in the catalog"),
        (
            {"X": [src("acme"), src("beta")]},
            {
                "acme": VendorProfile("acme", countries=frozenset({"US", "CA"})),
                "beta": VendorProfile("beta", countries=frozenset({"FR"})),
            },
            [line()],
            "SKU X: no vendor ships to DE (acme ships to CA, US; beta ships to FR)",
        ),
        (
            {"X": [src("acme"), src("beta")]},
            {"acme": VendorProfile("acme", active=False), **vendors("beta")},
            [line(excluded=["beta"])],
            "SKU X: every vendor that ships it was tried before (beta); acme inactive",
        ),
        (
            {"X": [src("acme"), src("ghost")]},
            {"acme": VendorProfile("acme", active=False)},
            [line()],
            "SKU X: no active vendor (acme inactive; ghost not set up)",
        ),
    ],
    ids=["unmapped", "no vendor for the country", "tried before", "no active vendor"],
)
def test_hold_details(
    sources: dict[str, list[Source]], profiles: dict[str, VendorProfile], lines: list[LineToRoute], detail: str
) -> None:
    routing = route_lines(request(lines, sources, profiles, country="DE"))

    assert reasons(routing) == [detail]
    assert routing.allocations == () and routing.held


def test_backorder_reason_says_nobody_has_it() -> None:
    sources = {"X": [src("west", 2, "4.00"), src("north", 0, "5.00")]}

    routing = route_lines(request([line(quantity=5)], sources, BACKORDERS, "lowest_cost_backorder"))

    (only,) = routing.allocations
    assert (only.vendor, only.quantity, only.backorder) == ("west", 5, True)
    assert only.reason == (
        "SKU X → west: backorder: nobody has 5 available (west available 2, north no stock),"
        " cost 4.00 + fee 0.00 = 20.00 for 5, cheapest of 2 accepting backorders"
    )


def test_split_reasons_say_which_part() -> None:
    sources = {"X": [src("east", 3, priority=1), src("west", 9, priority=2)]}

    routing = route_lines(request([line(quantity=12)], sources, vendors("east", "west"), split_quantities=True))

    assert reasons(routing) == [
        "SKU X → east: 3 of 12 (split: nobody has 12 available alone), available 3 (feed 3 − reserved 0 − buffer 0),"
        " priority 1",
        "SKU X → west: 9 of 12 (split: nobody has 12 available alone), available 9 (feed 9 − reserved 0 − buffer 0),"
        " priority 2",
    ]
    assert [a.vendor_sku for a in routing.allocations] == ["EAST-SKU", "WEST-SKU"]


def test_single_vendor_reason_names_the_cheaper_alternative() -> None:
    routing = route_lines(
        request(TWO_LINES, SINGLE_SOURCES, vendors("east", "west"), "lowest_cost", prefer_single_vendor=True)
    )

    assert reasons(routing) == [
        "SKU X → west: available 9 (feed 9 − reserved 0 − buffer 0), cost 1.70 + fee 0.00;"
        " one vendor for the whole order (prefer_single_vendor): east would be 0.70 cheaper for this line",
        "SKU Y → west: available 9 (feed 9 − reserved 0 − buffer 0), cost 3.00 + fee 0.00;"
        " one vendor for the whole order (prefer_single_vendor)",
    ]


def test_allocations_carry_the_sources_vendor_sku_and_cost_and_keep_the_request_order() -> None:
    sources = {"X": [src("east", 9, "2.50")], "Y": [src("west", 9, "0.99")], "Z": [src("east", 9)]}
    lines = [line("L3", "Z"), line("L1", "X"), line("L2", "Y")]

    routing = route_lines(request(lines, sources, vendors("east", "west"), "lowest_cost"))

    assert [(a.line_id, a.sku, a.vendor_sku, a.cost) for a in routing.allocations] == [
        ("L3", "Z", "EAST-SKU", None),
        ("L1", "X", "EAST-SKU", Decimal("2.50")),
        ("L2", "Y", "WEST-SKU", Decimal("0.99")),
    ]


@pytest.mark.parametrize("strategy", ["priority", "lowest_cost", "most_stock"])
def test_two_lines_of_one_sku_never_get_more_than_a_vendor_has(strategy: Strategy) -> None:
    sources = {"X": [src("acme", stock=3, cost="1.00", priority=1), src("beta", stock=2, cost="2.00", priority=2)]}
    routed = route_lines(
        request([line("L1", quantity=2), line("L2", quantity=2)], sources, vendors("acme", "beta"), strategy)
    )
    assert outcome(routed) == [("L1", "acme", 2, False), ("L2", "beta", 2, False)]
    taken_from_acme = sum(a.quantity for a in routed.allocations if a.vendor == "acme")
    assert taken_from_acme <= 3
    # The second line's reason counts what the first took from acme.
    assert "acme" in routed.allocations[1].reason and "available 1" in routed.allocations[1].reason


def test_a_third_line_of_one_sku_is_held_when_the_stock_is_used_up() -> None:
    sources = {"X": [src("acme", stock=3, priority=1)]}
    routed = route_lines(request([line("L1", quantity=2), line("L2", quantity=2)], sources, vendors("acme")))
    assert outcome(routed) == [("L1", "acme", 2, False), ("L2", "no_stock")]
