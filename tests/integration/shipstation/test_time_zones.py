"""The seed's two known time-zone problems, reproduced with the ShipStation stand-in, and what fixes
or catches them: the right ``timezone`` setting, ``lookback_minutes`` and the mismatch warning.

The story (Chicago is UTC-6 in November): the merchant's store runs on Chicago time and the vendor's
``timezone`` says so, but ShipStation's store setting was left at its default, UTC. ShipStation
refreshes the store once a day at 17:00 Chicago (23:00 UTC), asking for ``[last refresh, now]`` in
*its* zone; the adapter reads those wall times as Chicago time, six hours later than meant. So every
window lies six hours in the future of the orders it should hold, and ShipStation writes the dates
it imports six hours early.

Orders are placed in time directly through the adapter's consumer path (their ``last_modified`` set
to the virtual moment); the stand-in runs on a virtual clock. The warning test runs on the real clock,
since the adapter compares ShipStation's ``end_date`` with its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.contracts.vendor_orders import VendorOrderCreatedData
from tests.conftest import RunningSystem
from tests.integration.shipstation.support import deliver_vendor_orders, new_merchant, standin, vendor_order_data
from tests.shipstation_standin import ShipStationStandIn

SIX_HOURS = timedelta(hours=6)
PREVIOUS_REFRESH = datetime(2025, 11, 25, 23, 0, tzinfo=UTC)  # 17:00 in Chicago
PLACED_IN_THE_AFTERNOON = datetime(2025, 11, 26, 21, 0, tzinfo=UTC)  # 15:00 in Chicago
DAILY_REFRESH = datetime(2025, 11, 26, 23, 0, tzinfo=UTC)  # 17:00 in Chicago
PLACED_LATE_IN_THE_DAY = datetime(2025, 11, 27, 1, 30, tzinfo=UTC)  # 19:30 on the 26th in Chicago
NEXT_REFRESHES = (datetime(2025, 11, 27, 23, 0, tzinfo=UTC), datetime(2025, 11, 28, 23, 0, tzinfo=UTC))


@dataclass
class VirtualClock:
    current: datetime

    def __call__(self) -> datetime:
        return self.current


@dataclass
class MerchantDays:
    shipstation: ShipStationStandIn
    afternoon_order: VendorOrderCreatedData
    late_order: VendorOrderCreatedData

    def imported(self, order: VendorOrderCreatedData) -> bool:
        return order.vendor_order_id in self.shipstation.orders

    def shown_order_date(self, order: VendorOrderCreatedData) -> datetime:
        return self.shipstation.orders[order.vendor_order_id].order_date


async def three_days_of_refreshes(
    system: RunningSystem, *, adapter_zone: str, shipstation_zone: str, lookback_minutes: int = 0
) -> MerchantDays:
    """An order placed in the afternoon, the daily refresh, an order placed in the evening, two more
    daily refreshes."""
    merchant = await new_merchant(system, settings={"timezone": adapter_zone, "lookback_minutes": lookback_minutes})
    clock = VirtualClock(PREVIOUS_REFRESH)
    shipstation = standin(system, merchant, zone=ZoneInfo(shipstation_zone), now=clock, last_refresh=PREVIOUS_REFRESH)

    afternoon = vendor_order_data(merchant, "A100-1", ordered_at=PLACED_IN_THE_AFTERNOON.isoformat())
    await deliver_vendor_orders(system, [afternoon], last_modified=PLACED_IN_THE_AFTERNOON)
    clock.current = DAILY_REFRESH
    await shipstation.refresh()

    late = vendor_order_data(merchant, "A101-1", ordered_at=PLACED_LATE_IN_THE_DAY.isoformat())
    await deliver_vendor_orders(system, [late], last_modified=PLACED_LATE_IN_THE_DAY)
    for refresh_at in NEXT_REFRESHES:
        clock.current = refresh_at
        await shipstation.refresh()
    return MerchantDays(shipstation, afternoon, late)


async def test_seed_problem_order_date_differs_when_the_zone_is_mis_set(system: RunningSystem) -> None:
    days = await three_days_of_refreshes(system, adapter_zone="America/Chicago", shipstation_zone="UTC")

    assert days.imported(days.afternoon_order)
    # Written as 15:00 (Chicago), read by ShipStation as 15:00 UTC: six hours early.
    assert days.shown_order_date(days.afternoon_order) == PLACED_IN_THE_AFTERNOON - SIX_HOURS


async def test_seed_problem_an_order_placed_late_in_the_day_is_never_imported(system: RunningSystem) -> None:
    days = await three_days_of_refreshes(system, adapter_zone="America/Chicago", shipstation_zone="UTC")

    assert days.imported(days.afternoon_order)
    # Placed after the day's refresh; the next windows start six hours after it: never asked for again.
    assert not days.imported(days.late_order)


@pytest.mark.parametrize(
    ("adapter_zone", "shipstation_zone"),
    [("UTC", "UTC"), ("America/Chicago", "America/Chicago")],
    ids=["both-utc", "both-chicago"],
)
async def test_the_right_setting_fixes_both(system: RunningSystem, adapter_zone: str, shipstation_zone: str) -> None:
    days = await three_days_of_refreshes(system, adapter_zone=adapter_zone, shipstation_zone=shipstation_zone)

    assert days.imported(days.late_order)
    assert days.shown_order_date(days.afternoon_order) == PLACED_IN_THE_AFTERNOON
    assert days.shown_order_date(days.late_order) == PLACED_LATE_IN_THE_DAY


async def test_lookback_imports_the_late_order_even_with_the_zone_wrong(system: RunningSystem) -> None:
    days = await three_days_of_refreshes(
        system, adapter_zone="America/Chicago", shipstation_zone="UTC", lookback_minutes=6 * 60
    )

    assert days.imported(days.late_order)
    # Lookback rescues the import, not the dates: that is what the warning below is for.
    assert days.shown_order_date(days.late_order) == PLACED_LATE_IN_THE_DAY - SIX_HOURS


async def test_warning_names_the_zone_that_fits_until_the_zones_agree(system: RunningSystem) -> None:
    merchant = await new_merchant(system, settings={"timezone": "America/Chicago"})
    shipstation = standin(system, merchant, zone=ZoneInfo("UTC"))  # the real clock
    settings_path = f"/v1/shipstation/{merchant.vendor}/settings"

    await shipstation.refresh()

    settings = await system.api.ok("GET", "shipstation", settings_path)
    warning = settings["zone_warning"]
    assert warning is not None and settings["zone_warning_at"] is not None
    assert "ahead of America/Chicago" in warning
    assert "the zone that fits is UTC+00:00" in warning

    # The merchant corrects ShipStation's store setting instead: its next refresh clears the warning.
    shipstation.zone = ZoneInfo("America/Chicago")
    await shipstation.refresh()
    assert (await system.api.ok("GET", "shipstation", settings_path))["zone_warning"] is None


async def test_changing_the_setting_clears_the_warning_and_no_warning_when_zones_match(system: RunningSystem) -> None:
    merchant = await new_merchant(system, settings={"timezone": "America/Chicago"})
    shipstation = standin(system, merchant, zone=ZoneInfo("UTC"))
    settings_path = f"/v1/shipstation/{merchant.vendor}/settings"
    await shipstation.refresh()
    assert (await system.api.ok("GET", "shipstation", settings_path))["zone_warning"] is not None

    changed = await system.api.ok("PUT", "shipstation", settings_path, {"timezone": "UTC"})
    assert changed["zone_warning"] is None
    await shipstation.refresh()

    assert (await system.api.ok("GET", "shipstation", settings_path))["zone_warning"] is None


async def test_zone_setting_is_validated(system: RunningSystem) -> None:
    merchant = await new_merchant(system)
    status, body = await system.api.call(
        "PUT", "shipstation", f"/v1/shipstation/{merchant.vendor}/settings", {"timezone": "Mars/Olympus_Mons"}
    )

    assert status == 422
    assert "timezone" in body["fields"]
