"""The console's view models: queue warnings, order figures, poll state, the timeline merged by time,
and formatting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from services.console.use_cases.overview import oldest_undelivered
from services.console.views import (
    ORDER_STATUSES,
    TimelineEntry,
    delivery_entries,
    format_age,
    format_time,
    intake_entries,
    merge_timeline,
    order_figures,
    parse_time,
    poll_state,
    queue_names,
    queue_rows,
    queue_warnings,
    routing_entries,
    start_of_day,
    tracking_entries,
)

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@dataclass
class Figures:
    queue: str
    messages: int | None
    consumers: int | None
    parked: int | None


def test_queue_warnings_name_what_needs_a_look() -> None:
    assert queue_warnings(3, 1, 0) == ()
    assert queue_warnings(0, 0, 0) == ("no consumer",)
    assert queue_warnings(0, 2, 4) == ("4 parked",)
    assert queue_warnings(None, None, None) == ("missing",)
    assert queue_warnings(None, None, 2) == ("missing", "2 parked")
    rows = queue_rows([Figures("a", 1, 1, None), Figures("b", None, None, None)])
    assert [(r.queue, r.warnings, r.missing) for r in rows] == [("a", (), False), ("b", ("missing",), True)]


def test_queue_names_are_the_service_queues_then_each_vendor_once() -> None:
    assert queue_names(["splitter.orders", "intake.status"], ["west", "east", "west"]) == [
        "splitter.orders",
        "intake.status",
        "vendor.east",
        "vendor.west",
    ]


def test_the_order_figures_are_intakes_counts_with_the_rate_over_its_minutes() -> None:
    counts = {"by_status": {"received": 1500, "held": 3}, "minutes": 10, "orders_in_minutes": 437, "total": 1503}
    figures = order_figures(counts)
    assert figures is not None
    rate, today = figures
    assert rate.value == Decimal("43.7") and str(rate) == "43.7", "no cap: 437 orders in 10 minutes"
    assert list(today) == list(ORDER_STATUSES), "every status, in the page's order"
    assert (today["received"].value, today["held"].value, today["shipped"].value) == (1500, 3, 0)
    assert str(today["received"]) == "1500"
    for unreadable in (
        None,
        "text",
        {},
        {"by_status": {}, "minutes": 0, "orders_in_minutes": 1},
        {**counts, "minutes": "10"},
    ):
        assert order_figures(unreadable) is None, unreadable


def test_today_starts_at_midnight_utc() -> None:
    assert start_of_day(datetime(2026, 5, 4, 1, 30, tzinfo=timezone(timedelta(hours=5)))) == datetime(
        2026, 5, 3, tzinfo=UTC
    )


def test_poll_state_warns_about_zones_and_vendors_never_polled() -> None:
    polls = [{"at": (NOW - timedelta(minutes=3)).isoformat(), "outcome": "ok"}, {"at": "2020-01-01T00:00:00+00:00"}]
    state = poll_state("east", polls, {"zone_warning": "clock is 5 h off"}, [{}, {}], NOW)
    assert state.last_poll_age == 180 and state.last_outcome == "ok" and state.problems == 2
    assert state.warnings == ("time zone: clock is 5 h off",)
    assert poll_state("west", [], {}, [], NOW).warnings == ("never polled",)
    down = poll_state("west", None, None, None, NOW, "shipstation does not answer (ClientConnectorError)")
    assert down.warnings == ("shipstation does not answer (ClientConnectorError)",)


def test_the_timeline_is_ordered_by_time_then_by_the_flow_and_untimed_last() -> None:
    t = NOW
    merged = merge_timeline(
        [TimelineEntry(t + timedelta(seconds=5), "tracking", "shipment", "shipped")],
        [TimelineEntry(None, "splitter", "failed", "failed"), TimelineEntry(t, "splitter", "routed", "routed")],
        [TimelineEntry(t, "intake", "received", "received"), TimelineEntry(t, "intake", "status", "status")],
        [TimelineEntry(t + timedelta(seconds=1), "gateway", "delivery", "sent")],
    )
    assert [e.summary for e in merged] == ["received", "status", "routed", "sent", "shipped", "failed"]


def test_timeline_entries_from_each_service() -> None:
    order = {
        "received_at": "2026-05-04T10:00:00+00:00",
        "channel": "web",
        "status_history": [{"status": "routed", "cause": "order.received", "changed_at": "2026-05-04T10:00:01Z"}],
        "upstream_deliveries": [
            {
                "event_type": "order.status_changed",
                "created_at": "2026-05-04T10:00:02Z",
                "attempts": 2,
                "delivered_at": None,
                "last_error": "502 from the channel",
                "delivery_id": "d1",
            }
        ],
    }
    entries = intake_entries(order)
    assert [e.kind for e in entries] == ["received", "status", "webhook"]
    assert "not delivered yet after 2 attempt(s); last error: 502 from the channel" in entries[2].summary
    # intake's history route, when it answers, is what the timeline reads.
    history = {"status_history": [{"status": "shipped", "cause": "shipment", "at": "2026-05-04T11:00:00Z"}]}
    assert [e.summary for e in intake_entries(order, history)][1] == "status shipped (shipment)"

    routing = {
        "history": [
            {
                "kind": "routed",
                "line_id": "L1",
                "vendor": "east",
                "reason": "priority 1, in stock",
                "decided_at": "2026-05-04T10:00:01Z",
            }
        ],
        "vendor_orders": [
            {
                "vendor_order_id": "vo1",
                "vendor_order_number": "1001-1",
                "vendor": "east",
                "created_at": "2026-05-04T10:00:01Z",
                "acknowledged_at": "2026-05-04T10:05:00Z",
                "cancelled_at": None,
                "failed_reason": None,
            }
        ],
    }
    summaries = [e.summary for e in routing_entries(routing)]
    assert summaries == [
        "routed L1 → east: priority 1, in stock",
        "vendor order 1001-1 (east) created",
        "vendor order 1001-1 (east) acknowledged",
    ]
    shipments = {
        "shipments": [
            {"carrier": "UPS", "tracking_number": "1Z9", "vendor": "east", "reported_at": "2026-05-04T12:00Z"}
        ],
        "acknowledgements": [
            {
                "vendor": "east",
                "status": "accepted",
                "quantity": 1,
                "sku": "A",
                "line_id": "L1",
                "acknowledged_at": "2026-05-04T10:05:00Z",
            }
        ],
    }
    assert [e.kind for e in tracking_entries(shipments)] == ["shipment", "acknowledgement"]
    [delivery] = delivery_entries(
        [
            {
                "event": "vendor_order.created",
                "vendor": "east",
                "state": "failed",
                "attempts": 3,
                "last_error": "timeout",
                "failed_at": "2026-05-04T10:09:00Z",
            }
        ]
    )
    assert delivery.summary == "vendor_order.created to east: failed after 3 attempt(s); timeout"
    assert delivery.at == datetime(2026, 5, 4, 10, 9, tzinfo=UTC)


def test_times_and_ages_for_people() -> None:
    assert parse_time("2026-05-04T07:00:00-05:00") == datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    assert parse_time("2026-05-04T12:00:00") == NOW, "a time without offset is UTC"
    assert parse_time("yesterday") is None and parse_time(None) is None
    assert format_time(datetime(2026, 5, 4, 14, 0, tzinfo=timezone(timedelta(hours=2)))) == "2026-05-04 12:00:00 UTC"
    assert format_time(None) == "—"
    assert [format_age(s) for s in (None, 5, 125, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == [
        "—",
        "5 s",
        "2 min",
        "3 h 5 min",
        "2 d 4 h",
    ]


def test_the_oldest_undelivered_webhook_is_read_from_intakes_metrics() -> None:
    text = (
        "# HELP webhook_oldest_undelivered_age_seconds Age\n# TYPE webhook_oldest_undelivered_age_seconds gauge\n"
        "webhook_oldest_undelivered_age_seconds 42.5\n"
    )
    assert oldest_undelivered(text) == 42.5
    assert oldest_undelivered("# TYPE other gauge\nother 1\n") is None
