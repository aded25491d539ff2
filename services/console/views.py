"""What the pages show, computed without I/O from what the services answered: queue rows with their
warnings, orders per minute and today's counts (from intake's counts), ShipStation vendors' poll state, and one order's
timeline across services merged by time. Formatting for the templates too."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ORDER_STATUSES = ("received", "held", "routed", "partially_shipped", "shipped", "partially_cancelled", "cancelled")
"""The statuses intake's order search filters by (the order's derived status)."""
RATE_WINDOW_MINUTES = 10


# ------------------------------------------------------------------------------------------ formatting


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time from a JSON answer (or a datetime) as an aware UTC datetime; ``None`` if not one."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_time(value: Any) -> str:
    moment = parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def format_age(seconds: float | Decimal | None) -> str:
    """``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    if seconds is None:
        return "—"
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if whole < 3600:
        return f"{minutes} min"
    if whole < 86400:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"


def age_since(value: Any, now: datetime) -> float | None:
    moment = parse_time(value)
    return (now - moment).total_seconds() if moment else None


# ----------------------------------------------------------------------------------------------- queues


@dataclass(frozen=True)
class QueueRow:
    queue: str
    messages: int | None
    consumers: int | None
    parked: int | None
    warnings: tuple[str, ...]

    @property
    def missing(self) -> bool:
        return self.messages is None


def queue_warnings(messages: int | None, consumers: int | None, parked: int | None) -> tuple[str, ...]:
    """What ops should look at: a queue that is missing, one nobody consumes, messages parked."""
    warnings: list[str] = []
    if messages is None:
        warnings.append("missing")
    elif not consumers:
        warnings.append("no consumer")
    if parked:
        warnings.append(f"{parked} parked")
    return tuple(warnings)


def queue_rows(figures: Iterable[Any]) -> list[QueueRow]:
    """Rows from :class:`services.console.broker.QueueFigures` (anything with those four attributes)."""
    return [
        QueueRow(f.queue, f.messages, f.consumers, f.parked, queue_warnings(f.messages, f.consumers, f.parked))
        for f in figures
    ]


def queue_names(service_queues: Iterable[str], vendor_codes: Iterable[str]) -> list[str]:
    """The services' queues, then ``vendor.<code>`` of every vendor, each once."""
    names = list(dict.fromkeys(service_queues))
    return names + [f"vendor.{code}" for code in sorted(set(vendor_codes)) if f"vendor.{code}" not in names]


# ------------------------------------------------------------------------------------------------ orders


@dataclass(frozen=True)
class Figure:
    value: Decimal | int

    def __str__(self) -> str:
        return str(self.value)


def start_of_day(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def order_figures(counts: Any) -> tuple[Figure, dict[str, Figure]] | None:
    """Orders per minute over the counted minutes and today's counts by status, from intake's
    ``GET /v1/orders/counts`` answer (exact figures, counted by intake); ``None`` for anything else."""
    if not isinstance(counts, Mapping):
        return None
    by_status, minutes, in_minutes = counts.get("by_status"), counts.get("minutes"), counts.get("orders_in_minutes")
    if (
        not isinstance(by_status, Mapping)
        or not isinstance(minutes, int)
        or minutes < 1
        or not isinstance(in_minutes, int)
    ):
        return None
    rate = (Decimal(in_minutes) / minutes).quantize(Decimal("0.1"), ROUND_HALF_UP)
    today = {status: Figure(int(by_status.get(status, 0))) for status in ORDER_STATUSES}
    return Figure(rate), today


# ---------------------------------------------------------------------------------------------- vendors


@dataclass(frozen=True)
class PollState:
    vendor: str
    last_poll_at: datetime | None
    last_poll_age: float | None
    last_outcome: str | None
    zone_warning: str | None
    problems: int
    error: str | None = None
    """Why the figures are missing (the adapter did not answer)."""

    @property
    def warnings(self) -> tuple[str, ...]:
        found = []
        if self.error:
            found.append(self.error)
        if self.zone_warning:
            found.append(f"time zone: {self.zone_warning}")
        if self.last_poll_at is None and not self.error:
            found.append("never polled")
        return tuple(found)


def poll_state(
    vendor: str,
    polls: Sequence[Mapping[str, Any]] | None,
    settings: Mapping[str, Any] | None,
    problems: Sequence[Any] | None,
    now: datetime,
    error: str | None = None,
) -> PollState:
    """A ShipStation vendor's last poll (polls come newest first), its time-zone warning and problems."""
    last = polls[0] if polls else None
    at = parse_time(last.get("at")) if last else None
    return PollState(
        vendor,
        at,
        (now - at).total_seconds() if at else None,
        str(last.get("outcome")) if last and last.get("outcome") is not None else None,
        (settings or {}).get("zone_warning") or None,
        len(problems or ()),
        error,
    )


# --------------------------------------------------------------------------------------------- timeline


SOURCES = ("intake", "splitter", "gateway", "tracking")
"""Which comes first when two entries have the same time: the order of the flow."""


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime | None
    source: str
    kind: str
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)


def merge_timeline(*groups: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """Every entry by time; at equal times in the flow's order, then as given; untimed ones last."""
    entries = [entry for group in groups for entry in group]
    indexed = list(enumerate(entries))
    far = datetime.max.replace(tzinfo=UTC)

    def key(item: tuple[int, TimelineEntry]) -> tuple[datetime, int, int]:
        index, entry = item
        rank = SOURCES.index(entry.source) if entry.source in SOURCES else len(SOURCES)
        return (entry.at or far, rank, index)

    return [entry for _, entry in sorted(indexed, key=key)]


def _list(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _history_lists(history: Any) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]] | None:
    """Status changes and webhooks to the channel from intake's ``GET /v1/orders/{id}/history``
    (``events``, each of ``kind`` ``status`` or ``webhook``, oldest first); ``None`` when it gave none."""
    if not isinstance(history, Mapping):
        return None
    events = _list(history.get("events"))
    if events:
        return [e for e in events if e.get("kind") == "status"], [e for e in events if e.get("kind") == "webhook"]
    # The same two lists under the names the order itself carries them (``GET /v1/orders/{id}``).
    statuses, webhooks = _list(history.get("status_history")), _list(history.get("upstream_deliveries"))
    return (statuses, webhooks) if statuses or webhooks else None


def _webhook_summary(delivery: Mapping[str, Any]) -> str:
    attempts = f"after {delivery.get('attempts', 0)} attempt(s)"
    if delivery.get("delivered_at"):
        return f"webhook {delivery.get('event_type')} delivered {attempts}"
    answered = f"; last answer {delivery['last_status']}" if delivery.get("last_status") else ""
    error = f"; last error: {delivery['last_error']}" if delivery.get("last_error") else ""
    due = parse_time(delivery.get("next_attempt_at"))
    upcoming = f"; next attempt {format_time(due)}" if due else ""
    return f"webhook {delivery.get('event_type')} not delivered yet {attempts}{answered}{error}{upcoming}"


def intake_entries(order: Mapping[str, Any], history: Any = None) -> list[TimelineEntry]:
    """Received, every status change and every webhook to the channel (from ``/history`` when it answers,
    else from the order itself)."""
    entries = [
        TimelineEntry(
            parse_time(order.get("received_at")), "intake", "received", f"received from {order.get('channel')}"
        )
    ]
    lists = _history_lists(history) or (_list(order.get("status_history")), _list(order.get("upstream_deliveries")))
    for change in lists[0]:
        cause = f" ({change['cause']})" if change.get("cause") else ""
        at = change.get("changed_at") or change.get("at")
        entries.append(TimelineEntry(parse_time(at), "intake", "status", f"status {change.get('status')}{cause}"))
    for delivery in lists[1]:
        # Placed when it was delivered, or (still owed) when it was first owed: intake's ``at``.
        at = delivery.get("delivered_at") or delivery.get("at") or delivery.get("created_at")
        entries.append(
            TimelineEntry(
                parse_time(at),
                "intake",
                "webhook",
                _webhook_summary(delivery),
                {"delivery_id": delivery.get("delivery_id")},
            )
        )
    for hold in _list(order.get("holds")):
        entries.append(TimelineEntry(parse_time(hold.get("since")), "intake", "hold", f"held: {hold.get('detail')}"))
    return entries


def routing_entries(routing: Mapping[str, Any]) -> list[TimelineEntry]:
    """The splitter's decisions with their reasons, and what became of each vendor order."""
    entries: list[TimelineEntry] = []
    for decision in _list(routing.get("history")):
        what = decision.get("kind")
        line = f" {decision['line_id']}" if decision.get("line_id") else ""
        vendor = f" → {decision['vendor']}" if decision.get("vendor") else ""
        reason = f": {decision['reason']}" if decision.get("reason") else ""
        entries.append(
            TimelineEntry(
                parse_time(decision.get("decided_at")), "splitter", str(what), f"{what}{line}{vendor}{reason}"
            )
        )
    for vendor_order in _list(routing.get("vendor_orders")):
        name = f"vendor order {vendor_order.get('vendor_order_number')} ({vendor_order.get('vendor')})"
        ident = {"vendor_order_id": vendor_order.get("vendor_order_id")}
        entries.append(
            TimelineEntry(
                parse_time(vendor_order.get("created_at")), "splitter", "vendor_order", f"{name} created", ident
            )
        )
        for stamp, kind, words in (
            ("acknowledged_at", "acknowledged", "acknowledged"),
            ("cancelled_at", "cancelled", "cancelled"),
        ):
            if vendor_order.get(stamp):
                entries.append(
                    TimelineEntry(parse_time(vendor_order[stamp]), "splitter", kind, f"{name} {words}", ident)
                )
        if vendor_order.get("failed_reason"):
            entries.append(
                TimelineEntry(None, "splitter", "failed", f"{name} failed: {vendor_order['failed_reason']}", ident)
            )
    return entries


def tracking_entries(shipments: Mapping[str, Any]) -> list[TimelineEntry]:
    """Shipments reported and the vendors' acknowledgements per line."""
    entries: list[TimelineEntry] = []
    for shipment in _list(shipments.get("shipments")):
        carrier = shipment.get("carrier") or "a carrier"
        entries.append(
            TimelineEntry(
                parse_time(shipment.get("reported_at")),
                "tracking",
                "shipment",
                f"shipped with {carrier}, tracking {shipment.get('tracking_number') or '—'}"
                f" ({shipment.get('vendor') or 'vendor'})",
            )
        )
    for ack in _list(shipments.get("acknowledgements")):
        reason = f": {ack['reason']}" if ack.get("reason") else ""
        entries.append(
            TimelineEntry(
                parse_time(ack.get("acknowledged_at")),
                "tracking",
                "acknowledgement",
                f"{ack.get('vendor')} {ack.get('status')} {ack.get('quantity')} of {ack.get('sku')}"
                f" ({ack.get('line_id')}){reason}",
            )
        )
    return entries


def delivery_entries(deliveries: Iterable[Mapping[str, Any]]) -> list[TimelineEntry]:
    """The gateway's deliveries of the order's vendor orders: sent, failed or still pending."""
    entries: list[TimelineEntry] = []
    for delivery in deliveries:
        state = delivery.get("state")
        at = (
            delivery.get("failed_at")
            or delivery.get("acknowledged_at")
            or delivery.get("sent_at")
            or delivery.get("created_at")
        )
        error = f"; {delivery['last_error']}" if delivery.get("last_error") and state != "sent" else ""
        entries.append(
            TimelineEntry(
                parse_time(at),
                "gateway",
                "delivery",
                f"{delivery.get('event')} to {delivery.get('vendor')}: {state} after {delivery.get('attempts', 0)}"
                f" attempt(s){error}",
                {"delivery_id": delivery.get("delivery_id")},
            )
        )
    return entries
