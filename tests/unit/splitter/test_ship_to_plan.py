"""Which of an order's vendor orders hear of a new ship-to."""

from __future__ import annotations

from services.splitter.routing.lifecycle import VendorLine, VendorOrderState
from services.splitter.routing.ship_to import address_summary, ship_to_plan


def state(vo_id: str, status: str, *lines: VendorLine, cancel_sent: bool = False) -> VendorOrderState:
    return VendorOrderState(vo_id, f"1001-{vo_id[-1]}", "acme", status, lines, cancel_sent)  # type: ignore[arg-type]


def test_vendor_orders_with_units_left_to_ship_are_told() -> None:
    open_one = state("vo_1", "open", VendorLine("L1", "A", 2))
    acknowledged = state("vo_2", "acknowledged", VendorLine("L2", "B", 1, accepted=1))
    partly = state(
        "vo_3", "partially_shipped", VendorLine("L3", "C", 3, shipped=1), VendorLine("L4", "D", 1, shipped=1)
    )

    plan = ship_to_plan([open_one, acknowledged, partly])

    assert [s.id for s in plan.tell] == ["vo_1", "vo_2", "vo_3"]
    assert plan.already_shipped == () and plan.settled == ()


def test_shipped_cancelled_failed_and_withdrawn_ones_are_not() -> None:
    shipped = state("vo_1", "shipped", VendorLine("L1", "A", 2, shipped=2))
    rest_withdrawn = state("vo_2", "partially_shipped", VendorLine("L2", "B", 3, shipped=1, withdrawn=2))
    cancelled = state("vo_3", "cancelled", VendorLine("L3", "C", 1, withdrawn=1))
    cancel_sent = state("vo_4", "open", VendorLine("L4", "D", 1), cancel_sent=True)
    failed = state("vo_5", "failed", VendorLine("L5", "E", 1, withdrawn=1))
    all_rerouted = state("vo_6", "acknowledged", VendorLine("L6", "F", 2, rejected=2, withdrawn=2))

    plan = ship_to_plan([shipped, rest_withdrawn, cancelled, cancel_sent, failed, all_rerouted])

    assert plan.tell == ()
    assert [s.id for s in plan.already_shipped] == ["vo_1", "vo_2"]
    assert [s.id for s in plan.settled] == ["vo_3", "vo_4", "vo_5", "vo_6"]


def test_the_history_names_the_town_not_the_street() -> None:
    assert address_summary("Springfield", "IL", "62704", "US") == "Springfield, IL, 62704, US"
    assert address_summary("Köln", None, "50667", "DE") == "Köln, 50667, DE"
