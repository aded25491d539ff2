"""A source's available stock at a moment, and the sentence that explains it.

available = max(0, feed - reserved - the vendor's buffer). A source with no feed quantity is not
tracked and counts as in stock; one whose last feed is older than the vendor's staleness limit counts
as unknown, which covers nothing (routing would rather hold than promise stock nobody vouches for).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.splitter.routing.model import Source, VendorProfile

MINUS = "\N{MINUS SIGN}"


@dataclass(frozen=True)
class Availability:
    """What a source can ship now. ``units`` is ``None`` only when stock is not tracked."""

    units: int | None
    tracked: bool
    stale: bool
    text: str

    def covers(self, quantity: int) -> bool:
        if not self.tracked:
            return True
        if self.stale or self.units is None:
            return False
        return self.units >= quantity

    @property
    def known_units(self) -> int:
        """Units that can be counted on: what a split may take from this source (untracked: none known)."""
        return 0 if self.units is None or self.stale else self.units

    def short(self) -> str:
        """The availability in a few words, for the list of the vendors that were not chosen."""
        if not self.tracked:
            return "not tracked"
        if self.stale:
            return "stock unknown"
        return "no stock" if not self.units else f"available {self.units}"


def _utc(moment: datetime) -> datetime:
    # Feeds and clocks are stored timezone-aware; a naive value is taken as UTC rather than local time.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def availability(source: Source, vendor: VendorProfile, now: datetime) -> Availability:
    if source.stock is None:
        return Availability(None, tracked=False, stale=False, text="stock not tracked (counts as in stock)")
    stale_hours = vendor.feed_stale_after_hours
    if stale_hours is not None:
        if source.stock_as_of is None:
            return Availability(0, True, True, f"stock unknown: no feed time, and stock is stale after {stale_hours} h")
        as_of = _utc(source.stock_as_of)
        if _utc(now) - as_of > timedelta(hours=stale_hours):
            stamp = as_of.strftime("%Y-%m-%d %H:%M UTC")
            return Availability(0, True, True, f"stock unknown: last feed {stamp} is older than {stale_hours} h")
    units = max(0, source.stock - source.reserved - vendor.stock_buffer)
    text = (
        f"available {units} (feed {source.stock} {MINUS} reserved {source.reserved}"
        f" {MINUS} buffer {vendor.stock_buffer})"
    )
    return Availability(units, tracked=True, stale=False, text=text)
