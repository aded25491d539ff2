"""What GET /v1/orders/counts accepts and answers, without the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.intake.order_counts import CountsRequest, counts_view, parse_counts, parse_since, start_of_day
from services.intake.order_search import ORDER_STATUSES, InvalidSearch

NOW = datetime(2026, 3, 4, 15, 30, 20, tzinfo=UTC)


def test_since_defaults_to_midnight_utc_and_minutes_to_ten() -> None:
    assert parse_counts({}, NOW) == CountsRequest(datetime(2026, 3, 4, tzinfo=UTC), 10)
    assert start_of_day(datetime(2026, 3, 4, 1, 0, tzinfo=timezone(timedelta(hours=3)))) == datetime(
        2026, 3, 3, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-04T00:00:00Z", datetime(2026, 3, 4, tzinfo=UTC)),
        ("2026-03-04t00:00:00.123z", datetime(2026, 3, 4, 0, 0, 0, 123000, tzinfo=UTC)),
        ("2026-03-04T02:00:00+02:00", datetime(2026, 3, 4, tzinfo=UTC)),
        ("2026-03-04T02:00:00 02:00", datetime(2026, 3, 4, tzinfo=UTC)),  # an unencoded + in a query string
        ("2026-03-03T19:00:00-05:00", datetime(2026, 3, 4, tzinfo=UTC)),
    ],
)
def test_since_is_a_moment_with_its_offset(text: str, expected: datetime) -> None:
    parsed = parse_since(text)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2026-03-04T00:00:00", "2026-03-04", "2026-13-01T00:00:00Z", "x" * 41]
)
def test_a_since_without_an_offset_or_not_a_time_is_refused(text: str) -> None:
    with pytest.raises(InvalidSearch) as refused:
        parse_counts({"since": text}, NOW)
    assert refused.value.code == "invalid_since"


@pytest.mark.parametrize("text", ["0", "61", "-1", "ten", "", "1.5"])
def test_minutes_are_1_to_60(text: str) -> None:
    with pytest.raises(InvalidSearch) as refused:
        parse_counts({"minutes": text}, NOW)
    assert refused.value.code == "invalid_minutes"
    assert parse_counts({"minutes": "60"}, NOW).minutes == 60


def test_the_answer_has_every_status_and_every_minute_oldest_first() -> None:
    request = CountsRequest(datetime(2026, 3, 4, tzinfo=UTC), 3)
    view = counts_view(request, NOW, {"held": 2, "received": 1500}, {0: 4, 2: 1, 7: 99})
    assert view["by_status"] == {status: {"held": 2, "received": 1500}.get(status, 0) for status in ORDER_STATUSES}
    assert view["total"] == 1502
    assert [(m["from"], m["to"], m["orders"]) for m in view["per_minute"]] == [
        (NOW - timedelta(minutes=3), NOW - timedelta(minutes=2), 1),
        (NOW - timedelta(minutes=2), NOW - timedelta(minutes=1), 0),
        (NOW - timedelta(minutes=1), NOW, 4),
    ]
    assert view["orders_in_minutes"] == 5, "a minute outside the window (7 ago) is not counted"
