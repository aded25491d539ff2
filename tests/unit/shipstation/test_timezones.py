"""ShipStation's date formats, read and written in the vendor's zone, and zone-mismatch detection."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from services.shipstation.timezones import (
    clocks_agree,
    detect_zone_mismatch,
    format_export_datetime,
    format_utc_offset,
    parse_export_datetime,
    parse_ship_date,
)

UTC_ZONE = ZoneInfo("UTC")
CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")
KATHMANDU = ZoneInfo("Asia/Kathmandu")

DATETIME16 = re.compile(r"(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])/[0-9]{4} ([01][0-9]|2[0-3]):[0-5][0-9]")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- parsing and formatting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("01/23/2012 17:28", UTC_ZONE, utc(2012, 1, 23, 17, 28)),
        ("1/2/2026 7:05", UTC_ZONE, utc(2026, 1, 2, 7, 5)),
        ("12/31/2026 23:59", UTC_ZONE, utc(2026, 12, 31, 23, 59)),
        (" 02/29/2028 00:00 ", UTC_ZONE, utc(2028, 2, 29, 0, 0)),
        ("01/15/2026 06:00", CHICAGO, utc(2026, 1, 15, 12, 0)),
        ("07/15/2026 06:00", CHICAGO, utc(2026, 7, 15, 11, 0)),
        ("07/15/2026 06:00", BERLIN, utc(2026, 7, 15, 4, 0)),
        ("01/01/2026 00:00", KOLKATA, utc(2025, 12, 31, 18, 30)),
    ],
)
def test_parse_export_datetime(text: str, zone: ZoneInfo, expected: datetime) -> None:
    parsed = parse_export_datetime(text, zone)

    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "2026-01-02 10:00",
        "2026-01-02T10:00:00Z",
        "13/01/2026 10:00",
        "00/10/2026 10:00",
        "02/30/2026 10:00",
        "01/32/2026 10:00",
        "01/02/2026 24:00",
        "01/02/2026 10:60",
        "01/02/26 10:00",
        "01/02/2026 10:00:00",
        "01/02/2026 10:00 PM",
        "01/02/2026",
        "01/02/2026+10:00",
        "01%2f02%2f2026+10%3a00",
        "001/02/2026 10:00",
        "01/02/2026 10:0",
        "\uff101/02/2026 10:00",  # a fullwidth zero
    ],
)
def test_parse_export_datetime_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_export_datetime(text, UTC_ZONE)


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (utc(2012, 1, 23, 17, 28), UTC_ZONE, "01/23/2012 17:28"),
        (utc(2026, 1, 2, 7, 5, 59), UTC_ZONE, "01/02/2026 07:05"),
        (utc(2026, 11, 27, 5, 41), CHICAGO, "11/26/2026 23:41"),
        (utc(2026, 7, 1, 0, 0), CHICAGO, "06/30/2026 19:00"),
        (utc(2025, 12, 31, 18, 30), KOLKATA, "01/01/2026 00:00"),
        (utc(999, 3, 4, 5, 6), UTC_ZONE, "03/04/0999 05:06"),
        (datetime(2026, 5, 5, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo")), UTC_ZONE, "05/05/2026 03:00"),
    ],
)
def test_format_export_datetime(instant: datetime, zone: ZoneInfo, expected: str) -> None:
    formatted = format_export_datetime(instant, zone)

    assert formatted == expected
    assert len(formatted) == 16


def test_format_export_datetime_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_export_datetime(datetime(2026, 1, 1, 12, 0), UTC_ZONE)  # noqa: DTZ001


def test_round_trip_in_a_fixed_example() -> None:
    instant = utc(2026, 11, 27, 5, 41)
    for zone in (UTC_ZONE, CHICAGO, BERLIN, KOLKATA, KATHMANDU):
        assert parse_export_datetime(format_export_datetime(instant, zone), zone) == instant


ZONE_NAMES = sorted(available_timezones())
MINUTES_1970_TO_2100 = (utc(2100, 1, 1) - utc(1970, 1, 1)) // timedelta(minutes=1)


def is_ambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    """The wall time happens twice in ``zone`` (clocks went back over it)."""
    first = wall.replace(tzinfo=zone, fold=0).utcoffset()
    second = wall.replace(tzinfo=zone, fold=1).utcoffset()
    return first != second


@settings(max_examples=400, deadline=None)
@given(
    zone_name=st.sampled_from(ZONE_NAMES),
    minutes=st.integers(min_value=0, max_value=MINUTES_1970_TO_2100),
)
@example(zone_name="America/Chicago", minutes=(utc(2026, 11, 1, 7, 30) - utc(1970, 1, 1)) // timedelta(minutes=1))
@example(zone_name="Europe/Berlin", minutes=(utc(2026, 10, 25, 1, 30) - utc(1970, 1, 1)) // timedelta(minutes=1))
def test_format_then_parse_returns_the_same_instant(zone_name: str, minutes: int) -> None:
    zone = ZoneInfo(zone_name)
    instant = utc(1970, 1, 1) + timedelta(minutes=minutes)

    text = format_export_datetime(instant, zone)
    parsed = parse_export_datetime(text, zone)

    assert DATETIME16.fullmatch(text), text
    local = instant.astimezone(zone)
    # Some zones had offsets with seconds (Africa/Monrovia was UTC-0:44:30 until 1972): the minute
    # format drops those seconds, so the round trip lands on the start of the local minute.
    instant = instant - timedelta(seconds=local.second)
    wall = local.replace(tzinfo=None, second=0)
    if is_ambiguous(wall, zone):
        # The text names two instants; parsing picks the first (fold=0), which may be this one or the
        # one a DST-length earlier. Either way it formats back to the same text.
        first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        assert parsed == first
        assert format_export_datetime(parsed, zone) == text
    else:
        assert parsed == instant
    # A formatted wall time came from a real instant, so it can never fall into a DST gap.


# --- DST transitions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        # Chicago 2026-03-08: 02:00 CST jumps to 03:00 CDT. 02:30 never happens; read with CST.
        ("03/08/2026 01:59", CHICAGO, utc(2026, 3, 8, 7, 59)),
        ("03/08/2026 02:30", CHICAGO, utc(2026, 3, 8, 8, 30)),
        ("03/08/2026 03:00", CHICAGO, utc(2026, 3, 8, 8, 0)),
        # Chicago 2026-11-01: 02:00 CDT falls back to 01:00 CST. 01:30 happens twice; the first wins.
        ("11/01/2026 00:59", CHICAGO, utc(2026, 11, 1, 5, 59)),
        ("11/01/2026 01:30", CHICAGO, utc(2026, 11, 1, 6, 30)),
        ("11/01/2026 02:00", CHICAGO, utc(2026, 11, 1, 8, 0)),
        # Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST.
        ("03/29/2026 02:30", BERLIN, utc(2026, 3, 29, 1, 30)),
        ("03/29/2026 03:00", BERLIN, utc(2026, 3, 29, 1, 0)),
        # Berlin 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        ("10/25/2026 02:30", BERLIN, utc(2026, 10, 25, 0, 30)),
        ("10/25/2026 03:00", BERLIN, utc(2026, 10, 25, 2, 0)),
    ],
)
def test_parse_around_dst_transitions(text: str, zone: ZoneInfo, expected: datetime) -> None:
    assert parse_export_datetime(text, zone) == expected


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (utc(2026, 3, 8, 7, 59), CHICAGO, "03/08/2026 01:59"),
        (utc(2026, 3, 8, 8, 0), CHICAGO, "03/08/2026 03:00"),
        (utc(2026, 11, 1, 6, 30), CHICAGO, "11/01/2026 01:30"),
        (utc(2026, 11, 1, 7, 30), CHICAGO, "11/01/2026 01:30"),
        (utc(2026, 3, 29, 0, 59), BERLIN, "03/29/2026 01:59"),
        (utc(2026, 3, 29, 1, 0), BERLIN, "03/29/2026 03:00"),
        (utc(2026, 10, 25, 0, 30), BERLIN, "10/25/2026 02:30"),
        (utc(2026, 10, 25, 1, 30), BERLIN, "10/25/2026 02:30"),
    ],
)
def test_format_around_dst_transitions(instant: datetime, zone: ZoneInfo, expected: str) -> None:
    assert format_export_datetime(instant, zone) == expected


# --- ship dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11/27/2026", date(2026, 11, 27)),
        ("1/2/2026", date(2026, 1, 2)),
        (" 02/29/2028 ", date(2028, 2, 29)),
        ("2026-11-27", date(2026, 11, 27)),
    ],
)
def test_parse_ship_date(text: str, expected: date) -> None:
    assert parse_ship_date(text) == expected


@pytest.mark.parametrize(
    "text", ["", "27.11.2026", "2026/11/27", "11-27-2026", "02/30/2026", "2026-02-30", "11/27/26", "2026-1-2"]
)
def test_parse_ship_date_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_ship_date(text)


# --- zone mismatch ----------------------------------------------------------------------------------

WINTER_NOW = utc(2026, 1, 15, 18, 0, 12)
SUMMER_NOW = utc(2026, 7, 15, 18, 0, 12)


def wall(now: datetime, zone: ZoneInfo, shift: timedelta = timedelta(0)) -> datetime:
    """What ShipStation would send as end_date if its clock read ``now`` in ``zone``, plus ``shift``."""
    return (now.astimezone(zone) + shift).replace(tzinfo=None, second=0)


@pytest.mark.parametrize(
    ("configured", "shipstation_zone", "now", "offset", "fitting"),
    [
        pytest.param(UTC_ZONE, CHICAGO, WINTER_NOW, -timedelta(hours=6), "UTC-06:00", id="utc-vs-chicago-winter"),
        pytest.param(UTC_ZONE, CHICAGO, SUMMER_NOW, -timedelta(hours=5), "UTC-05:00", id="utc-vs-chicago-summer"),
        pytest.param(CHICAGO, UTC_ZONE, WINTER_NOW, timedelta(hours=6), "UTC+00:00", id="chicago-vs-utc-winter"),
        pytest.param(CHICAGO, UTC_ZONE, SUMMER_NOW, timedelta(hours=5), "UTC+00:00", id="chicago-vs-utc-summer"),
        pytest.param(UTC_ZONE, KOLKATA, WINTER_NOW, timedelta(hours=5, minutes=30), "UTC+05:30", id="utc-vs-kolkata"),
        pytest.param(KOLKATA, UTC_ZONE, WINTER_NOW, -timedelta(hours=5, minutes=30), "UTC+00:00", id="kolkata-vs-utc"),
        pytest.param(KOLKATA, KATHMANDU, WINTER_NOW, timedelta(minutes=15), "UTC+05:45", id="kolkata-vs-kathmandu"),
        pytest.param(BERLIN, CHICAGO, WINTER_NOW, -timedelta(hours=7), "UTC-06:00", id="berlin-vs-chicago"),
    ],
)
def test_zone_mismatch_is_detected(
    configured: ZoneInfo, shipstation_zone: ZoneInfo, now: datetime, offset: timedelta, fitting: str
) -> None:
    mismatch = detect_zone_mismatch(wall(now, shipstation_zone), now, configured)

    assert mismatch is not None
    assert mismatch.offset == offset
    assert format_utc_offset(mismatch.fitting_utc_offset) == fitting
    assert fitting in mismatch.message
    assert str(configured) in mismatch.message


def test_mismatch_message_reads_well() -> None:
    mismatch = detect_zone_mismatch(wall(WINTER_NOW, CHICAGO, -timedelta(hours=6)), WINTER_NOW, CHICAGO)

    assert mismatch is not None
    assert mismatch.message.startswith("ShipStation's clock reads 6h behind America/Chicago")
    assert "the zone that fits is UTC-12:00" in mismatch.message


@pytest.mark.parametrize("jitter_minutes", [-4, -1, 0, 2, 5])
def test_mismatch_tolerates_a_few_minutes_of_latency(jitter_minutes: int) -> None:
    end_date = wall(WINTER_NOW, UTC_ZONE, timedelta(minutes=jitter_minutes))

    mismatch = detect_zone_mismatch(end_date, WINTER_NOW, CHICAGO)

    assert mismatch is not None
    assert mismatch.offset == timedelta(hours=6)


@pytest.mark.parametrize(
    ("configured", "shipstation_zone", "shift"),
    [
        pytest.param(UTC_ZONE, UTC_ZONE, timedelta(0), id="equal-utc"),
        pytest.param(CHICAGO, CHICAGO, timedelta(0), id="equal-chicago"),
        pytest.param(CHICAGO, CHICAGO, timedelta(minutes=-3), id="three-minutes-late"),
        pytest.param(CHICAGO, CHICAGO, timedelta(minutes=4), id="four-minutes-fast"),
        pytest.param(UTC_ZONE, UTC_ZONE, timedelta(minutes=17), id="17-minute-drift"),
        pytest.param(UTC_ZONE, UTC_ZONE, -timedelta(minutes=17), id="17-minute-lag"),
        pytest.param(CHICAGO, CHICAGO, -timedelta(minutes=17), id="17-minute-lag-chicago"),
        pytest.param(UTC_ZONE, UTC_ZONE, -timedelta(hours=2, minutes=37), id="stale-request"),
        pytest.param(UTC_ZONE, UTC_ZONE, timedelta(days=2), id="days-off"),
    ],
)
def test_no_mismatch_without_a_zone_offset(configured: ZoneInfo, shipstation_zone: ZoneInfo, shift: timedelta) -> None:
    end_date = wall(WINTER_NOW, shipstation_zone, shift)

    assert detect_zone_mismatch(end_date, WINTER_NOW, configured) is None


def test_mismatch_detection_needs_naive_end_date_and_aware_now() -> None:
    with pytest.raises(ValueError, match="naive"):
        detect_zone_mismatch(WINTER_NOW, WINTER_NOW, UTC_ZONE)
    with pytest.raises(ValueError, match="aware"):
        detect_zone_mismatch(wall(WINTER_NOW, UTC_ZONE), WINTER_NOW.replace(tzinfo=None), UTC_ZONE)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(0), "UTC+00:00"),
        (timedelta(hours=5, minutes=45), "UTC+05:45"),
        (-timedelta(hours=3, minutes=30), "UTC-03:30"),
        (-timedelta(hours=12), "UTC-12:00"),
        (timedelta(hours=14), "UTC+14:00"),
    ],
)
def test_format_utc_offset(offset: timedelta, expected: str) -> None:
    assert format_utc_offset(offset) == expected


@pytest.mark.parametrize(
    ("shipstation_zone", "shift", "agree"),
    [
        pytest.param(CHICAGO, timedelta(0), True, id="same-zone"),
        pytest.param(CHICAGO, timedelta(minutes=-4), True, id="a-few-minutes-late"),
        pytest.param(CHICAGO, timedelta(minutes=-17), False, id="stale"),
        pytest.param(UTC_ZONE, timedelta(0), False, id="other-zone"),
    ],
)
def test_clocks_agree_only_near_our_now_in_the_configured_zone(
    shipstation_zone: ZoneInfo, shift: timedelta, agree: bool
) -> None:
    assert clocks_agree(wall(WINTER_NOW, shipstation_zone, shift), WINTER_NOW, CHICAGO) is agree
