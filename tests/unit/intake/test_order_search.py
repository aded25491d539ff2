"""The orders listing's pure rules: its parameters, the keyset cursor (a cursor edited out of shape is
refused, every one of its pattern decodes), a row's summary and total, and an order's timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.openapi import LIST_PARAMETERS
from services.intake.order_search import (
    CURSOR_PATTERN,
    DEFAULT_LIMIT,
    InvalidSearch,
    OrderSearch,
    Position,
    decode_cursor,
    encode_cursor,
    order_row,
    order_total,
    page_of,
    parse_search,
    timeline,
)
from tests.unit.test_architecture import io_imports

AT = datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)
ORDER_ID = "ord_" + "ab" * 16


def test_the_module_is_pure() -> None:
    assert io_imports("services.intake.order_search") == []


def test_a_cursor_decodes_to_the_position_it_was_made_from() -> None:
    cursor = encode_cursor(Position(AT, ORDER_ID))
    assert CURSOR_PATTERN.fullmatch(cursor)
    assert decode_cursor(cursor) == Position(AT, ORDER_ID)


# Hypothesis takes naive bounds; timezones= makes every value drawn UTC.
EARLIEST, LATEST = datetime(1970, 1, 1), datetime(2286, 1, 1)  # noqa: DTZ001


@given(st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(UTC)), st.uuids())
def test_every_position_survives_the_round_trip(at: datetime, key: Any) -> None:
    position = Position(at, f"ord_{key.hex}")
    assert decode_cursor(encode_cursor(position)) == position


@given(st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_every_string_of_the_documented_pattern_is_a_position(cursor: str) -> None:
    # The OpenAPI document promises exactly these: a fuzzer's cursor of the pattern must be taken.
    position = decode_cursor(cursor)
    assert position.received_at.tzinfo is UTC and position.order_id.startswith("ord_")


@pytest.mark.parametrize(
    "tampered",
    [
        "",
        "garbage",
        f"{encode_cursor(Position(AT, ORDER_ID))}0",  # an id one digit longer
        encode_cursor(Position(AT, ORDER_ID)).replace("-ord_", "_ord_"),
        encode_cursor(Position(AT, ORDER_ID)).upper(),
        f"-{encode_cursor(Position(AT, ORDER_ID))}",  # a negative time
        "12345678901234567-" + ORDER_ID,  # seventeen digits: past what the pattern reaches
        encode_cursor(Position(AT, ORDER_ID)) + "\n",
        "1772368245123456-ord_" + "g" * 32,
    ],
)
def test_a_tampered_cursor_is_refused(tampered: str) -> None:
    with pytest.raises(InvalidSearch) as refused:
        decode_cursor(tampered)
    assert refused.value.code == "invalid_cursor"


def test_the_document_states_the_cursor_pattern_the_service_checks() -> None:
    [cursor] = [parameter for parameter in LIST_PARAMETERS if parameter.name == "cursor"]
    assert re.compile(cursor.schema["pattern"]).pattern == CURSOR_PATTERN.pattern


def test_parameters_are_read_with_their_defaults() -> None:
    assert parse_search({}) == OrderSearch(limit=DEFAULT_LIMIT)
    cursor = encode_cursor(Position(AT, ORDER_ID))
    search = parse_search({"status": "held", "channel": "shop-1", "q": "  Müller ", "limit": "200", "cursor": cursor})
    assert search == OrderSearch("held", "shop-1", "Müller", 200, Position(AT, ORDER_ID))
    assert parse_search({"q": "   "}).q is None


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"status": "lost"}, "invalid_status"),
        ({"status": ""}, "invalid_status"),
        ({"channel": "Shop"}, "invalid_channel"),
        ({"channel": "shop\n"}, "invalid_channel"),
        ({"q": "x" * 101}, "invalid_query"),
        ({"q": "nul\x00"}, "invalid_query"),
        ({"q": "\udcff"}, "invalid_query"),
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "201"}, "invalid_limit"),
        ({"limit": "-1"}, "invalid_limit"),
        ({"limit": "1.5"}, "invalid_limit"),
        ({"limit": "٣"}, "invalid_limit"),  # a digit, but not an ASCII one
        ({"limit": ""}, "invalid_limit"),
        ({"cursor": ""}, "invalid_cursor"),
    ],
)
def test_a_bad_parameter_names_its_error(query: dict[str, str], code: str) -> None:
    with pytest.raises(InvalidSearch) as refused:
        parse_search(query)
    assert refused.value.code == code


def _stored(n: int, **payload: Any) -> dict[str, Any]:
    return {
        "id": f"ord_{n:032x}",
        "channel": "shop",
        "external_id": f"E{n}",
        "order_number": f"#{n}",
        "status": "held",
        "channel_status": "paid",
        "holds": [{"code": "no_stock", "detail": "…", "line_id": None, "since": AT.isoformat()}],
        "payload": {
            "currency": "EUR",
            "customer": {"name": "Jo", "email": "jo@example.com"},
            "ship_to": {"name": "Recipient", "email": "r@example.com", "country": "DE"},
            "lines": [{"unit_price": "9.99", "quantity": 3}, {"unit_price": "0.01", "quantity": 1}],
            "discounts": [{"amount": "5.00"}],
            "tax_amount": "1.10",
            "shipping_amount": "4.90",
            **payload,
        },
        "received_at": AT - timedelta(minutes=n),
        "updated_at": AT,
    }


def test_a_row_sums_the_order_up_with_its_total() -> None:
    row = order_row(_stored(1))
    assert row["total"] == Decimal("30.98")  # 29.97 + 0.01 - 5.00 + 1.10 + 4.90
    assert (row["customer_name"], row["customer_email"]) == ("Jo", "jo@example.com")
    assert (row["ship_to_country"], row["line_count"], row["currency"]) == ("DE", 2, "EUR")
    assert row["hold_codes"] == ["no_stock"]
    assert "payload" not in row


def test_without_a_customer_the_ship_to_is_shown() -> None:
    row = order_row(_stored(1, customer=None))
    assert (row["customer_name"], row["customer_email"]) == ("Recipient", "r@example.com")
    assert order_row(_stored(1, customer={"name": "Jo", "email": ""}))["customer_email"] == "r@example.com"


def test_a_total_without_discounts_tax_or_shipping_is_the_lines() -> None:
    assert order_total({"lines": [{"unit_price": "2.50", "quantity": 2}]}) == Decimal("5.00")


def test_one_row_more_than_the_limit_makes_the_cursor_of_the_last_shown() -> None:
    rows = [_stored(n) for n in range(4)]
    page = page_of(rows, 3)
    assert [order["id"] for order in page["orders"]] == [row["id"] for row in rows[:3]]
    assert decode_cursor(page["next_cursor"]) == Position(rows[2]["received_at"], rows[2]["id"])
    assert page_of(rows, 4)["next_cursor"] is None
    assert page_of([], 4) == {"orders": [], "next_cursor": None}


def test_the_timeline_puts_status_changes_and_webhooks_in_time_order() -> None:
    history = [
        {"status": "received", "cause": "intake", "changed_at": AT},
        {"status": "held", "cause": "msg_1", "changed_at": AT + timedelta(seconds=2)},
        {"status": "routed", "cause": "msg_2", "changed_at": AT + timedelta(seconds=9)},
    ]
    deliveries = [
        {
            "delivery_id": "whd_1",
            "event_type": "order.status_changed",
            "created_at": AT + timedelta(seconds=2),  # written with the held status, in one statement
            "attempts": 2,
            "delivered_at": AT + timedelta(seconds=5),
            "last_status": 204,
            "last_error": None,
            "next_attempt_at": AT + timedelta(seconds=30),
        },
        {
            "delivery_id": "whd_2",
            "event_type": "order.status_changed",
            "created_at": AT + timedelta(seconds=9),
            "attempts": 1,
            "delivered_at": None,
            "last_status": 503,
            "last_error": "HTTP 503",
            "next_attempt_at": AT + timedelta(seconds=11),
        },
    ]
    events = timeline(history, deliveries)
    assert [(event["kind"], event.get("status") or event["delivery_id"]) for event in events] == [
        ("status", "received"),
        ("status", "held"),
        ("webhook", "whd_1"),
        ("status", "routed"),
        ("webhook", "whd_2"),
    ]
    # Delivered: never tried again. Undelivered: when it is.
    assert events[2]["next_attempt_at"] is None and events[2]["delivered_at"] == AT + timedelta(seconds=5)
    assert events[4]["next_attempt_at"] == AT + timedelta(seconds=11) and events[4]["last_error"] == "HTTP 503"
