"""In what order tracking's status changes are applied: one that overtook the change it follows
waits for it, and one older than the order's shipped status is dropped. Pure."""

from __future__ import annotations

FULFILMENT_STATUSES = frozenset({"partially_shipped", "shipped", "cancelled", "partially_cancelled"})
"""The statuses only tracking announces (the others come from intake itself and the splitter's holds)."""


def status_change_overtook(stored_status: str, previous_status: str | None) -> bool:
    """Whether a status change arrived before the one it follows: tracking says the order was
    ``previous_status`` (one of its own statuses) before, but intake has not recorded that yet. It is
    applied after the one it overtook, so the channel hears them in the order they happened.

    Only an order still open in intake's records waits: once intake itself recorded it cancelled or
    shipped, a change that names another previous status is applied as it comes, never held back."""
    return (
        stored_status in OPEN_STATUSES and previous_status in FULFILMENT_STATUSES and stored_status != previous_status
    )


OPEN_STATUSES = frozenset({"received", "held", "routed", "partially_shipped"})


def status_change_is_stale(stored_status: str, previous_status: str | None, carries_shipment: bool) -> bool:
    """Whether a status change came after the one that followed it: tracking never leaves ``shipped``,
    so a change without a shipment that does not start from ``shipped`` while intake already shows
    ``shipped`` is older news (a cancellation the shipment overtook once intake had cancelled itself)."""
    return stored_status == "shipped" and previous_status != "shipped" and not carries_shipment
