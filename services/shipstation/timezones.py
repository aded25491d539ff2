"""Dates and times as ShipStation's Custom Store protocol writes them, and time-zone mismatch detection.

ShipStation sends ``start_date``/``end_date`` as ``MM/dd/yyyy HH:mm`` wall times and expects ``OrderDate``
and ``LastModified`` back in the same shape. Each ShipStation vendor has a configured IANA zone (default
``UTC``) in which those wall times are read and written; inside the service every instant is aware UTC.
A wrong zone shifts every export window by a whole number of hours, which is why
:func:`detect_zone_mismatch` compares ShipStation's ``end_date`` (its "now") with our own clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_EXPORT_DATETIME = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4}) ([0-9]{1,2}):([0-9]{2})")
_US_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")

EXPORT_DATETIME_FORMAT = "MM/dd/yyyy HH:mm"

MISMATCH_TOLERANCE = timedelta(minutes=5)
"""How far ShipStation's ``end_date`` may sit from a plausible zone offset and still count as one:
request latency plus ShipStation rounding ``now`` down to the minute."""

_QUARTER_HOUR = timedelta(minutes=15)

# UTC offsets that civil time actually uses (whole hours from -12 to +14, and the half/quarter-hour
# ones such as India's +05:30 and Nepal's +05:45). Only a ShipStation clock that lands on one of these
# is taken as a zone mismatch; anything else (a 17-minute drift, a stale or replayed request) is noise.
_REAL_WORLD_UTC_OFFSETS: frozenset[timedelta] = frozenset(
    [timedelta(hours=hours) for hours in range(-12, 15)]
    + [
        timedelta(hours=-9, minutes=-30),
        timedelta(hours=-3, minutes=-30),
        timedelta(hours=-2, minutes=-30),
        timedelta(hours=3, minutes=30),
        timedelta(hours=4, minutes=30),
        timedelta(hours=5, minutes=30),
        timedelta(hours=5, minutes=45),
        timedelta(hours=6, minutes=30),
        timedelta(hours=8, minutes=45),
        timedelta(hours=9, minutes=30),
        timedelta(hours=10, minutes=30),
        timedelta(hours=12, minutes=45),
        timedelta(hours=13, minutes=45),
    ]
)


def parse_export_datetime(text: str, zone: ZoneInfo) -> datetime:
    """Read ShipStation's ``MM/dd/yyyy HH:mm`` (already URL-decoded) as wall time in ``zone``.

    One-digit month, day and hour are accepted. The result is aware and in UTC.
    """
    match = _EXPORT_DATETIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"expected a date and time as {EXPORT_DATETIME_FORMAT} (24-hour), got {text!r}")
    month, day, year, hour, minute = (int(part) for part in match.groups())
    try:
        # fold=0 decides the two DST edge cases deterministically (PEP 495):
        # - a wall time that happens twice (clocks go back) means its *first* occurrence, the earlier
        #   instant, so a window starting there never skips orders modified in the repeated hour;
        # - a wall time that never happens (clocks go forward) is read with the offset in force before
        #   the jump, i.e. the instant one gap-length later than the same digits after the jump.
        # Both cases are at most one hour wide and the window's lookback absorbs them.
        wall = datetime(year, month, day, hour, minute, fold=0, tzinfo=zone)
        return wall.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"not a valid date and time: {text!r} ({error})") from error


def format_export_datetime(instant: datetime, zone: ZoneInfo) -> str:
    """Write an aware instant as ``MM/dd/yyyy HH:mm`` in ``zone``: always exactly 16 characters.

    Seconds are dropped (not rounded): ShipStation's windows have minute precision and include the
    whole ``end_date`` minute, so truncation keeps an instant inside the window that contains it.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("format_export_datetime needs an aware datetime, got a naive one")
    local = instant.astimezone(zone)
    # Formatted by hand: strftime("%Y") does not zero-pad years below 1000 on every platform.
    return f"{local.month:02d}/{local.day:02d}/{local.year:04d} {local.hour:02d}:{local.minute:02d}"


def parse_ship_date(text: str) -> date:
    """Read a ship date as ShipStation writes it (``MM/dd/yyyy``), or as ISO ``yyyy-mm-dd``."""
    stripped = text.strip()
    us_match = _US_DATE.fullmatch(stripped)
    iso_match = _ISO_DATE.fullmatch(stripped)
    try:
        if us_match is not None:
            month, day, year = (int(part) for part in us_match.groups())
            return date(year, month, day)
        if iso_match is not None:
            year, month, day = (int(part) for part in iso_match.groups())
            return date(year, month, day)
    except ValueError as error:
        raise ValueError(f"not a valid date: {text!r} ({error})") from error
    raise ValueError(f"expected a date as MM/dd/yyyy or yyyy-mm-dd, got {text!r}")


@dataclass(frozen=True)
class ZoneMismatch:
    """ShipStation's clock and the configured zone disagree by (about) a whole zone offset."""

    offset: timedelta
    """ShipStation's wall clock minus ours, rounded to the quarter hour (negative: ShipStation behind)."""
    fitting_utc_offset: timedelta
    """The UTC offset whose wall clock matches ShipStation's ``end_date``."""
    message: str


def format_utc_offset(offset: timedelta) -> str:
    """``UTC+05:30``, ``UTC-12:00``, ``UTC+00:00``."""
    sign = "-" if offset < timedelta(0) else "+"
    total_minutes = abs(offset) // timedelta(minutes=1)
    return f"UTC{sign}{total_minutes // 60:02d}:{total_minutes % 60:02d}"


def _format_duration(duration: timedelta) -> str:
    total_minutes = abs(duration) // timedelta(minutes=1)
    hours, minutes = divmod(total_minutes, 60)
    if minutes == 0:
        return f"{hours}h"
    if hours == 0:
        return f"{minutes}m"
    return f"{hours}h{minutes:02d}m"


def _round_to_quarter_hour(duration: timedelta) -> timedelta:
    return round(duration / _QUARTER_HOUR) * _QUARTER_HOUR


def detect_zone_mismatch(end_date_wall: datetime, now_utc: datetime, zone: ZoneInfo) -> ZoneMismatch | None:
    """Tell whether ShipStation's ``end_date`` suggests it uses another zone than ``zone``.

    ShipStation asks with ``end_date`` ≈ its "now". ``end_date_wall`` is that wall time as sent (naive);
    ``now_utc`` is our clock. When the two differ by close to a real-world zone offset difference (not
    close to zero), the configured zone is probably wrong and the export window is shifted by that much.
    """
    if end_date_wall.tzinfo is not None:
        raise ValueError("end_date_wall must be the naive wall time ShipStation sent")
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be aware")
    our_wall = now_utc.astimezone(zone).replace(tzinfo=None)
    difference = end_date_wall - our_wall
    if abs(difference) <= MISMATCH_TOLERANCE:
        return None

    configured_offset = now_utc.astimezone(zone).utcoffset() or timedelta(0)
    fitting_exact = configured_offset + difference
    fitting_offset = _round_to_quarter_hour(fitting_exact)
    if abs(fitting_exact - fitting_offset) > MISMATCH_TOLERANCE:
        return None
    if fitting_offset not in _REAL_WORLD_UTC_OFFSETS:
        return None
    offset = fitting_offset - configured_offset
    if offset == timedelta(0):
        return None

    zone_name = str(zone)
    direction = "ahead of" if offset > timedelta(0) else "behind"
    advice = " (set the vendor's timezone to UTC)" if fitting_offset == timedelta(0) else ""
    message = (
        f"ShipStation's clock reads {_format_duration(offset)} {direction} {zone_name} "
        f"(end_date {end_date_wall:%m/%d/%Y %H:%M}, our time there {our_wall:%m/%d/%Y %H:%M}); "
        f"ShipStation is probably not using {zone_name} ({format_utc_offset(configured_offset)} now): "
        f"the zone that fits is {format_utc_offset(fitting_offset)}{advice}. "
        "Export windows are shifted by that much until the setting matches ShipStation's."
    )
    return ZoneMismatch(offset=offset, fitting_utc_offset=fitting_offset, message=message)


def clocks_agree(end_date_wall: datetime, now_utc: datetime, zone: ZoneInfo) -> bool:
    """Whether ShipStation's ``end_date`` reads as our own "now" in ``zone`` (within the tolerance).

    The positive counterpart of :func:`detect_zone_mismatch`: evidence that the configured zone is right,
    so an earlier mismatch warning no longer holds. A request for an old window agrees with nothing.
    """
    if end_date_wall.tzinfo is not None:
        raise ValueError("end_date_wall must be the naive wall time ShipStation sent")
    our_wall = now_utc.astimezone(zone).replace(tzinfo=None)
    return abs(end_date_wall - our_wall) <= MISMATCH_TOLERANCE
