"""Which vendor ships each line, by the merchant's strategy, and why: pure and deterministic.

Per line: the catalog's sources → the candidates (a known, active vendor that ships to the order's
country and was not tried before for this line) → ranked by the strategy → the first whose stock
covers the quantity. Without one: a split across candidates (``split_quantities``), a backorder
(``lowest_cost_backorder``), or a hold. ``prefer_single_vendor`` then gives the whole request to one
vendor when one can ship every line from stock. Every allocation and hold carries a sentence with the
numbers it was decided on; every ranking ends on the vendor code, so the same input always gives the
same output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from services.splitter.routing.model import (
    Allocation,
    Hold,
    LineRouting,
    LineToRoute,
    RoutingInput,
    Source,
    Strategy,
    VendorProfile,
)
from services.splitter.routing.stock import Availability, availability

CENT = Decimal("0.01")
COST_STRATEGIES: frozenset[Strategy] = frozenset({"lowest_cost", "lowest_cost_backorder"})


def money(amount: Decimal) -> str:
    """An amount as a person reads it: cents, or the precision it was given with when finer."""
    exponent = amount.as_tuple().exponent
    finer = isinstance(exponent, int) and exponent < -2
    return str(amount if finer else amount.quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Candidate:
    """A source that may take a line, with its stock now and its vendor's fee share for the line."""

    source: Source
    vendor: VendorProfile
    stock: Availability
    fee: Decimal
    quantity: int

    @property
    def code(self) -> str:
        return self.source.vendor

    @property
    def priority(self) -> int:
        return self.source.priority

    @property
    def total(self) -> Decimal | None:
        """What the line costs at this vendor: cost * quantity + the fee share; none without a cost."""
        return None if self.source.cost is None else self.source.cost * self.quantity + self.fee

    @property
    def covers(self) -> bool:
        return self.stock.covers(self.quantity)

    def cost_text(self, *, with_total: bool = True) -> str:
        """``cost 4.10 + fee 0.50``, and the line total when the line has more than one unit."""
        if self.source.cost is None:
            return "no cost known"
        text = f"cost {money(self.source.cost)} + fee {money(self.fee)}"
        if with_total and self.quantity > 1 and self.total is not None:
            text += f" = {money(self.total)} for {self.quantity}"
        return text

    def allocation(self, line: LineToRoute, quantity: int, reason: str, *, backorder: bool = False) -> Allocation:
        return Allocation(
            line.line_id, line.sku, quantity, self.code, self.source.vendor_sku, self.source.cost, reason, backorder
        )


def _stock_rank(candidate: Candidate) -> tuple[int, int]:
    """Most known units first; untracked stock after every tracked one, as nothing is known of it."""
    return (0, -candidate.stock.known_units) if candidate.stock.tracked else (1, 0)


def _cost_rank(candidate: Candidate) -> tuple[bool, Decimal, tuple[int, int], int, str]:
    total = candidate.total
    unknown = total is None
    return (
        unknown,
        total or Decimal(0),
        _stock_rank(candidate) if unknown else (0, 0),
        candidate.priority,
        candidate.code,
    )


def rank(strategy: Strategy, candidates: Sequence[Candidate]) -> list[Candidate]:
    """The candidates in the strategy's order of preference (stock aside)."""
    if strategy in COST_STRATEGIES:
        return sorted(candidates, key=_cost_rank)
    if strategy == "most_stock":
        return sorted(candidates, key=lambda c: (_stock_rank(c), c.priority, c.code))
    return sorted(candidates, key=lambda c: (c.priority, c.code))


# ------------------------------------------------------------------------------------------ candidates


def _tried_text(line: LineToRoute) -> str:
    return f"; tried before: {', '.join(sorted(line.excluded))}" if line.excluded else ""


def eligible_sources(request: RoutingInput, line: LineToRoute) -> list[Source] | Hold:
    """The line's usable sources, one per vendor, by (priority, vendor); or the hold that says why none."""
    sources = sorted(request.sources_by_sku.get(line.sku, ()), key=lambda s: (s.priority, s.vendor))
    if not sources:
        return Hold("unmapped_sku", f"SKU {line.sku} has no vendor source in the catalog", line.line_id)
    known = {s.vendor: request.vendors[s.vendor] for s in sources if s.vendor in request.vendors}
    shipping = {code: vendor for code, vendor in known.items() if vendor.ships_to(request.country)}
    if known and not shipping:
        where = "; ".join(f"{code} ships to {', '.join(sorted(known[code].countries))}" for code in sorted(known))
        detail = f"SKU {line.sku}: no vendor ships to {request.country.upper()} ({where})"
        return Hold("no_vendor_for_country", detail, line.line_id)
    usable: dict[str, Source] = {}
    for source in sources:
        vendor = shipping.get(source.vendor)
        if vendor is not None and vendor.active and source.vendor not in line.excluded:
            usable.setdefault(source.vendor, source)
    if usable:
        return list(usable.values())
    tried = sorted(code for code in shipping if code in line.excluded)
    inactive = sorted(code for code, vendor in shipping.items() if not vendor.active)
    unknown = sorted({s.vendor for s in sources} - known.keys())
    notes = [f"{', '.join(inactive)} inactive"] * bool(inactive) + [f"{', '.join(unknown)} not set up"] * bool(unknown)
    if tried:
        detail = f"SKU {line.sku}: every vendor that ships it was tried before ({', '.join(tried)})"
        return Hold("vendor_rejected", detail + "".join(f"; {note}" for note in notes), line.line_id)
    return Hold("no_stock", f"SKU {line.sku}: no active vendor ({'; '.join(notes)})", line.line_id)


def _candidates(request: RoutingInput, eligible: Sequence[list[Source] | Hold]) -> list[list[Candidate] | Hold]:
    # A vendor's handling fee is charged once per vendor order, so each line it could take carries a
    # share of it: the fee over the request's lines this vendor is a candidate for, stock aside.
    lines_per_vendor = Counter(s.vendor for sources in eligible if not isinstance(sources, Hold) for s in sources)
    out: list[list[Candidate] | Hold] = []
    for line, sources in zip(request.lines, eligible, strict=True):
        if isinstance(sources, Hold):
            out.append(sources)
            continue
        candidates = []
        for source in sources:
            vendor = request.vendors[source.vendor]
            fee = (vendor.handling_fee / lines_per_vendor[source.vendor]).quantize(CENT, rounding=ROUND_HALF_UP)
            stock = availability(source, vendor, request.now)
            candidates.append(Candidate(source, vendor, stock, fee, line.quantity))
        out.append(rank(request.settings.strategy, candidates))
    return out


# ------------------------------------------------------------------------------------------ one line


def _others_text(strategy: Strategy, chosen: Candidate, ranked: Sequence[Candidate]) -> str:
    def one(candidate: Candidate) -> str:
        if strategy == "priority":
            return f"{candidate.code} priority {candidate.priority}: {candidate.stock.short()}"
        if strategy in COST_STRATEGIES and candidate.covers:
            total = candidate.total
            return f"{candidate.code} {money(total)}" if total is not None else f"{candidate.code} no cost"
        return f"{candidate.code} {candidate.stock.short()}"

    others = [one(c) for c in ranked if c is not chosen]
    return f" ({', '.join(others)})" if others else ""


def choice_reason(strategy: Strategy, line: LineToRoute, chosen: Candidate, ranked: Sequence[Candidate]) -> str:
    count = len(ranked)
    if strategy == "priority":
        how = f"priority {chosen.priority}, first with stock of {count}"
    elif strategy == "most_stock":
        how = f"most stock of {count}"
    elif chosen.total is None:
        how = f"no cost known: none with a cost has stock, chosen by stock of {count}"
    else:
        how = f"{chosen.cost_text()}, cheapest of {count}"
    others = _others_text(strategy, chosen, ranked)
    return f"SKU {line.sku} → {chosen.code}: {chosen.stock.text}, {how}{others}{_tried_text(line)}"


def _short_detail(strategy: Strategy, candidate: Candidate) -> str:
    if strategy == "priority":
        return f", priority {candidate.priority}"
    if strategy in COST_STRATEGIES:
        return f", {candidate.cost_text(with_total=False)}"
    return ""


def _no_stock_text(line: LineToRoute, ranked: Sequence[Candidate]) -> str:
    levels = ", ".join(f"{c.code}: {c.stock.text}" for c in ranked)
    return f"SKU {line.sku}: nobody has {line.quantity} available ({levels})"


def _split(strategy: Strategy, line: LineToRoute, ranked: Sequence[Candidate]) -> list[Allocation] | None:
    """Units from each candidate in the strategy's order, as many as it has; ``None`` if all together
    cannot cover the line (a backorder strategy then backorders the remainder, when someone accepts)."""
    allocations: list[Allocation] = []
    remaining = line.quantity
    for candidate in ranked:
        take = min(candidate.stock.known_units, remaining)
        if take <= 0:
            continue
        reason = (
            f"SKU {line.sku} → {candidate.code}: {take} of {line.quantity}"
            f" (split: nobody has {line.quantity} available alone), {candidate.stock.text}"
            f"{_short_detail(strategy, candidate)}{_tried_text(line)}"
        )
        allocations.append(candidate.allocation(line, take, reason))
        remaining -= take
        if remaining == 0:
            return allocations
    backorder = _backorder_vendor(strategy, ranked)
    if backorder is None:
        return None
    reason = (
        f"SKU {line.sku} → {backorder.code}: {remaining} of {line.quantity} as backorder"
        f" (backorder: nobody has {line.quantity} available, all together {line.quantity - remaining}),"
        f" {backorder.stock.text}{_short_detail(strategy, backorder)}{_tried_text(line)}"
    )
    return [*allocations, backorder.allocation(line, remaining, reason, backorder=True)]


def _backorder_vendor(strategy: Strategy, ranked: Sequence[Candidate]) -> Candidate | None:
    if strategy != "lowest_cost_backorder":
        return None
    return next((c for c in ranked if c.vendor.accepts_backorders), None)


def route_line(
    strategy: Strategy, split: bool, line: LineToRoute, ranked: Sequence[Candidate]
) -> list[Allocation] | Hold:
    chosen = next((c for c in ranked if c.covers), None)
    if chosen is not None:
        return [chosen.allocation(line, line.quantity, choice_reason(strategy, line, chosen, ranked))]
    if split:
        allocations = _split(strategy, line, ranked)
        if allocations is not None:
            return allocations
    backorder = _backorder_vendor(strategy, ranked)
    if backorder is not None:
        accepting = sum(c.vendor.accepts_backorders for c in ranked)
        reason = (
            f"SKU {line.sku} → {backorder.code}: backorder: nobody has {line.quantity} available"
            f" ({', '.join(f'{c.code} {c.stock.short()}' for c in ranked)}), {backorder.cost_text()},"
            f" cheapest of {accepting} accepting backorders{_tried_text(line)}"
        )
        return [backorder.allocation(line, line.quantity, reason, backorder=True)]
    return Hold("no_stock", _no_stock_text(line, ranked) + _tried_text(line), line.line_id)


# ------------------------------------------------------------------------------------------ one vendor


WholeOrderRank = tuple[int, Decimal, int]


def _whole_order_rank(strategy: Strategy) -> Callable[[Sequence[Candidate]], WholeOrderRank]:
    """How vendors that could each ship the whole request compare, given their candidate per line:
    cost strategies by the request's total (lines without a cost count against a vendor), most_stock
    by the units it has for the request (untracked lines against it), priority by the sum of the
    priorities; then by that sum, then by code."""

    def by_cost(picks: Sequence[Candidate]) -> WholeOrderRank:
        unknown = sum(c.total is None for c in picks)
        return (unknown, sum((c.total or Decimal(0) for c in picks), Decimal(0)), sum(c.priority for c in picks))

    def by_stock(picks: Sequence[Candidate]) -> WholeOrderRank:
        untracked = sum(not c.stock.tracked for c in picks)
        return (untracked, Decimal(-sum(c.stock.known_units for c in picks)), sum(c.priority for c in picks))

    def by_priority(picks: Sequence[Candidate]) -> WholeOrderRank:
        return (0, Decimal(0), sum(c.priority for c in picks))

    if strategy in COST_STRATEGIES:
        return by_cost
    return by_stock if strategy == "most_stock" else by_priority


def single_vendor(strategy: Strategy, per_line: Sequence[list[Candidate] | Hold]) -> str | None:
    """The vendor that can ship every line from stock, the strategy's best when several can; else none."""
    picks: dict[str, list[Candidate]] | None = None
    for ranked in per_line:
        if isinstance(ranked, Hold):
            return None
        covering = {c.code: c for c in ranked if c.covers}
        picks = (
            {code: [c] for code, c in covering.items()}
            if picks is None
            else {code: [*chosen, covering[code]] for code, chosen in picks.items() if code in covering}
        )
    if not picks:
        return None
    order = _whole_order_rank(strategy)
    return min(picks, key=lambda code: (order(picks[code]), code))


def _single_vendor_reason(strategy: Strategy, line: LineToRoute, chosen: Candidate, ranked: Sequence[Candidate]) -> str:
    detail = _short_detail(strategy, chosen) if strategy not in COST_STRATEGIES else f", {chosen.cost_text()}"
    reason = f"SKU {line.sku} → {chosen.code}: {chosen.stock.text}{detail}"
    reason += "; one vendor for the whole order (prefer_single_vendor)"
    best = next(c for c in ranked if c.covers)
    if best is not chosen:
        if strategy == "priority":
            reason += f": {best.code} has priority {best.priority} for this line"
        elif strategy == "most_stock":
            reason += f": {best.code} has more stock for this line ({best.stock.short()})"
        elif best.total is not None and chosen.total is not None and best.total < chosen.total:
            reason += f": {best.code} would be {money(chosen.total - best.total)} cheaper for this line"
        else:
            reason += f": {best.code} would be chosen for this line"
    return reason + _tried_text(line)


# ------------------------------------------------------------------------------------------ the request


def _after_earlier_lines(
    request: RoutingInput, line: LineToRoute, ranked: list[Candidate], taken: Counter[tuple[str, str]]
) -> list[Candidate]:
    """``ranked`` with the units earlier lines of the same SKU took from each source counted as
    reserved, so two lines of one SKU never get more than a vendor has."""
    if not any(taken[(line.sku, c.code)] for c in ranked):
        return ranked
    again = []
    for c in ranked:
        source = replace(c.source, reserved=c.source.reserved + taken[(line.sku, c.code)])
        again.append(Candidate(source, c.vendor, availability(source, c.vendor, request.now), c.fee, c.quantity))
    return rank(request.settings.strategy, again)


def route_lines(request: RoutingInput) -> LineRouting:
    """Every line of ``request`` fully allocated or held, in the request's order of lines."""
    settings = request.settings
    strategy = settings.strategy
    eligible = [eligible_sources(request, line) for line in request.lines]
    per_line = _candidates(request, eligible)
    # With a single line the strategy's own choice already is the best vendor for the whole order.
    preferred = single_vendor(strategy, per_line) if settings.prefer_single_vendor and len(request.lines) > 1 else None
    allocations: list[Allocation] = []
    holds: list[Hold] = []
    taken: Counter[tuple[str, str]] = Counter()
    for line, ranked in zip(request.lines, per_line, strict=True):
        if isinstance(ranked, Hold):
            holds.append(ranked)
            continue
        ranked = _after_earlier_lines(request, line, ranked, taken)
        if preferred is not None:
            chosen = next(c for c in ranked if c.code == preferred)
            reason = _single_vendor_reason(strategy, line, chosen, ranked)
            allocations.append(chosen.allocation(line, line.quantity, reason))
            continue
        outcome = route_line(strategy, settings.split_quantities, line, ranked)
        if isinstance(outcome, Hold):
            holds.append(outcome)
        else:
            allocations.extend(outcome)
            taken.update({(a.sku, a.vendor): a.quantity for a in outcome if not a.backorder})
    return LineRouting(tuple(allocations), tuple(holds))
