"""What routing decides with and what it decides: the vendors' routing fields, the catalog's sources
with their stock, the merchant's settings, and the allocations and holds that come out. Pure data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal, get_args

from shared.contracts.orders import HoldCode

Strategy = Literal["priority", "lowest_cost", "lowest_cost_backorder", "most_stock"]
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)


@dataclass(frozen=True)
class VendorProfile:
    """A vendor's routing fields (``PUT /v1/vendors/{code}``)."""

    code: str
    active: bool = True
    countries: frozenset[str] = frozenset()
    """ISO-2 codes it ships to; empty: everywhere."""
    accepts_backorders: bool = False
    handling_fee: Decimal = Decimal("0")
    """Per vendor order; shared by the order's lines that vendor is eligible for."""
    stock_buffer: int = 0
    """Units held back from every SKU's stock."""
    feed_stale_after_hours: int | None = None
    """Stock older than this counts as unknown (not in stock); none: never stale."""
    ack_deadline_hours: int | None = None

    def ships_to(self, country: str) -> bool:
        return not self.countries or country.upper() in self.countries


@dataclass(frozen=True)
class Source:
    """A vendor that carries a SKU, with what is known of its stock.

    ``stock`` is the last feed's quantity (or what ops set in the catalog); ``None``: never had one, so
    the stock is not tracked and the source counts as in stock. ``reserved``: units of open vendor
    orders the vendor has not yet counted in a feed.
    """

    vendor: str
    vendor_sku: str | None = None
    cost: Decimal | None = None
    stock: int | None = None
    priority: int = 100
    stock_as_of: datetime | None = None
    reserved: int = 0


@dataclass(frozen=True)
class HoldRules:
    """``holds`` of ``PUT /v1/routing/settings``."""

    unpaid: bool = True
    max_order_value: Decimal | None = None
    """In the order's currency; none: no limit."""
    po_box: bool = False
    duplicate_window_minutes: int = 60
    """0: no duplicate check."""


@dataclass(frozen=True)
class RoutingSettings:
    strategy: Strategy = "priority"
    prefer_single_vendor: bool = False
    split_quantities: bool = False
    holds: HoldRules = field(default_factory=HoldRules)


@dataclass(frozen=True)
class LineToRoute:
    line_id: str
    sku: str
    quantity: int
    excluded: frozenset[str] = frozenset()
    """Vendors already tried for this line (a reroute): never chosen again."""


@dataclass(frozen=True)
class Allocation:
    """Units of a line given to one vendor. A line split across vendors has several."""

    line_id: str
    sku: str
    quantity: int
    vendor: str
    vendor_sku: str | None
    cost: Decimal | None
    reason: str
    backorder: bool = False
    """Sent although the vendor has no stock (``lowest_cost_backorder``)."""


@dataclass(frozen=True)
class Hold:
    """Why (part of) an order waits; ``line_id`` none: the whole order."""

    code: HoldCode
    detail: str
    line_id: str | None = None


@dataclass(frozen=True)
class RoutingInput:
    """Everything one routing decision reads; ``now`` decides which stock is stale."""

    lines: tuple[LineToRoute, ...]
    country: str
    sources_by_sku: Mapping[str, tuple[Source, ...]]
    vendors: Mapping[str, VendorProfile]
    settings: RoutingSettings
    now: datetime


@dataclass(frozen=True)
class LineRouting:
    """The outcome for a set of lines: each line fully allocated, or held (never both, never half)."""

    allocations: tuple[Allocation, ...]
    holds: tuple[Hold, ...]

    @property
    def held(self) -> bool:
        return bool(self.holds)
