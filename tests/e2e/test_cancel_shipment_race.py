"""A cancellation and a shipment arriving together, in both orders, with the services as processes.

For each of several orders the channel cancels (intake's ``POST /v1/orders/{id}/cancel``) while its
vendor reports the shipment, both sent at once with ``asyncio.gather``; which one is sent first
alternates. The shipment comes two ways: a ShipStation ship notice on the Custom Store endpoint (the
adapter stores it and publishes through its outbox, as intake does the cancel: a close race), and a
third-party adapter (the test, on the vendor's queue) publishing ``shipment.reported`` straight to
the broker. Whichever the splitter sees first, the outcome is one of two consistent ones:

- cancel first: ``vendor_order.cancelled`` went to the vendor, and the shipment that came anyway is
  still recorded (``shipped_after_cancel``), the channel told ``shipped``;
- shipment first: no cancellation is sent for the shipped vendor order (the splitter records that it
  was not sent), the channel told ``shipped``; when the shipment is far enough ahead that intake
  already knows the order shipped, intake refuses the cancel (409 ``not_cancellable``) and nothing
  is cancelled anywhere.

Either way ShipStation's export ends showing the vendor order shipped. Never a cancellation for a
vendor order that had shipped when the cancel was decided, never a lost shipment, never a duplicate.
The counts of each outcome are printed at the end of each run.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from shared.contracts.shipments import ShipmentLine, ShipmentReported, ShipmentReportedData
from tests.conftest import SuiteEnvironment
from tests.e2e.harness import BrokerTap, ProcessSystem, VendorAdapterStandIn
from tests.shipstation_standin import ShipStationStandIn
from tests.support import AMQP_URL, Api, ChannelReceiver, order_payload, unique, wait_until

RACES = 20
QUIET_SECONDS = 1.5
"""After every order settled: long enough for a stray late message (a cancellation) to show up."""


@dataclass(frozen=True)
class Race:
    order_id: str
    created: dict[str, Any]
    """The ``vendor_order.created`` message of the order's one vendor order."""
    cancel_sent_first: bool

    @property
    def vendor_order_id(self) -> str:
        return str(self.created["data"]["vendor_order_id"])


Winner = Literal["cancel", "shipment", "shipment, cancel refused"]
"""Which the splitter saw first; or the shipment so far ahead that intake already knew the order
shipped and refused the cancel (409 ``not_cancellable``), so no cancellation went anywhere."""


@dataclass(frozen=True)
class Outcome:
    """What one race ended as, read from the splitter's routing view, the broker and the channel."""

    winner: Winner
    channel_heard_cancelled: bool
    """Tracking applied the cancellation before the shipment, so the channel heard ``cancelled`` first."""


Shipper = Callable[[Race], Awaitable[None]]


@pytest.mark.parametrize("transport", ["shipstation", "adapter"])
async def test_a_cancel_and_a_shipment_together_end_consistently_whichever_wins(
    transport: str,
    process_api: Api,
    processes: ProcessSystem,
    test_env: SuiteEnvironment,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = process_api
    receiver = await ChannelReceiver().start()
    vendor, sku = unique("racer-"), unique("RACE-")
    tap: BrokerTap | None = None
    adapter: VendorAdapterStandIn | None = None
    shipstation: ShipStationStandIn | None = None
    try:
        channel = unique("shop-")
        created = await api.ok(
            "PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop", "webhook_url": receiver.url}
        )
        receiver.secret, key = created["webhook_secret"], created["api_key"]
        # A webhook vendor is played by the test's own adapter, so the gateway leaves its queue alone.
        racer: dict[str, Any] = {"name": "Racer", "kind": "shipstation"}
        if transport != "shipstation":
            racer = {"name": "Racer", "kind": "webhook", "settings": {"adapter": "own"}}
        await api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", racer)
        await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": vendor}]})
        tap = await BrokerTap.open(AMQP_URL, test_env.namespace, [f"vendor_order.*.{vendor}"])
        if transport == "shipstation":
            credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{vendor}/credentials")
            shipstation = ShipStationStandIn.connected(
                api.session, credentials, url=f"{processes.urls['shipstation']}/shipstation/{vendor}"
            )
        else:
            adapter = await VendorAdapterStandIn.connect(AMQP_URL, test_env.namespace, vendor)

        placed = await asyncio.gather(
            *(
                api.ok("POST", "intake", "/v1/orders", order_payload(channel, [(sku, 1, "10.00")]), token=key)
                for _ in range(RACES)
            )
        )
        races: list[Race] = []
        for index, order in enumerate(placed):
            sent = await wait_until(functools.partial(_created, tap, order["id"]))
            races.append(Race(order["id"], sent, cancel_sent_first=index % 2 == 0))

        cancel_answers: dict[str, str] = {}
        cancel = _cancel(api, key, cancel_answers)
        ship: Shipper
        if shipstation is not None:
            standin = shipstation

            async def imported_all() -> bool:
                await standin.refresh()
                return all(race.vendor_order_id in standin.orders for race in races)

            await wait_until(imported_all)
            ship = _ship_notice(standin)
        else:
            assert adapter is not None
            ship = _adapter_shipment(adapter, sku)

        for race in races:
            first, second = (cancel, ship) if race.cancel_sent_first else (ship, cancel)
            await asyncio.gather(first(race), second(race))

        for race in races:
            await wait_until(functools.partial(_settled, api, receiver, race, cancel_answers), timeout=30)
        await asyncio.sleep(QUIET_SECONDS)
        if shipstation is not None:
            await shipstation.refresh()
        outcomes = [await _outcome(api, tap, receiver, shipstation, race, cancel_answers) for race in races]
    finally:
        for closing in (tap, adapter):
            if closing is not None:
                await closing.close()
        await receiver.stop()

    by_sent = Counter(
        (
            "cancel sent first" if race.cancel_sent_first else "shipment sent first",
            outcome.winner,
        )
        for race, outcome in zip(races, outcomes, strict=True)
    )
    with capsys.disabled():
        print(
            f"\ncancel/shipment race ({transport}): {len(races)} runs;"
            f" splitter saw {sum(o.winner == 'cancel' for o in outcomes)} cancel-first,"
            f" {sum(o.winner == 'shipment' for o in outcomes)} ship-first;"
            f" cancel refused as already shipped: {sum(o.winner == 'shipment, cancel refused' for o in outcomes)};"
            f" channel heard cancelled before shipped: {sum(o.channel_heard_cancelled for o in outcomes)};"
            f" by what was sent first: {dict(sorted(by_sent.items()))}"
        )
    assert len(outcomes) == RACES


def _cancel(api: Api, key: str, answers: dict[str, str]) -> Shipper:
    """The channel cancelling the order (the same signature as a shipper, to swap which goes first);
    ``answers`` gets intake's answer per order: accepted, or refused because the order already shipped."""

    async def cancel(race: Race) -> None:
        status, body = await api.call("POST", "intake", f"/v1/orders/{race.order_id}/cancel", token=key)
        if status == 409:
            assert body["error"] == "not_cancellable", body
            answers[race.order_id] = "refused"
        else:
            assert status == 202, body
            answers[race.order_id] = "accepted"

    return cancel


def _ship_notice(shipstation: ShipStationStandIn) -> Shipper:
    async def ship(race: Race) -> None:
        await shipstation.ship(race.vendor_order_id, tracking_number=f"1Z{uuid.uuid4().hex[:12].upper()}")

    return ship


def _adapter_shipment(adapter: VendorAdapterStandIn, sku: str) -> Shipper:
    async def ship(race: Race) -> None:
        data = race.created["data"]
        await adapter.publish(
            ShipmentReported(
                correlation_id=race.order_id,
                data=ShipmentReportedData(
                    shipment_id=f"shp_{uuid.uuid4().hex}",
                    vendor=data["vendor"],
                    vendor_order_id=data["vendor_order_id"],
                    vendor_order_number=data["vendor_order_number"],
                    order_id=race.order_id,
                    carrier="UPS",
                    tracking_number=f"1Z{uuid.uuid4().hex[:12].upper()}",
                    lines=[ShipmentLine(line_id="L1", sku=sku, quantity=1)],
                ),
            )
        )

    return ship


async def _created(tap: BrokerTap, order_id: str) -> dict[str, Any] | None:
    return next((m for m in tap.messages("vendor_order.created") if m["data"]["order_id"] == order_id), None)


async def _settled(api: Api, receiver: ChannelReceiver, race: Race, cancel_answers: dict[str, str]) -> bool:
    """The splitter decided both events (only the shipment when intake refused the cancel) and the
    channel heard ``shipped``."""
    routing = await api.ok("GET", "splitter", f"/v1/orders/{race.order_id}/routing")
    kinds = {entry["kind"] for entry in routing["history"]}
    refused = cancel_answers[race.order_id] == "refused"
    decided = "shipped" in kinds and (refused or bool(kinds & {"cancelled", "cancel_not_sent"}))
    return decided and "shipped" in _statuses(receiver, race.order_id)


def _statuses(receiver: ChannelReceiver, order_id: str) -> list[str]:
    return [d.json["status"] for d in receiver.deliveries if d.json["order_id"] == order_id]


async def _outcome(
    api: Api,
    tap: BrokerTap,
    receiver: ChannelReceiver,
    shipstation: ShipStationStandIn | None,
    race: Race,
    cancel_answers: dict[str, str],
) -> Outcome:
    """Check that ``race`` ended in one of the consistent outcomes, and answer which."""
    routing = await api.ok("GET", "splitter", f"/v1/orders/{race.order_id}/routing")
    kinds = [entry["kind"] for entry in routing["history"]]
    (vendor_order,) = routing["vendor_orders"]
    cancellations = tap.messages("vendor_order.cancelled", race.vendor_order_id)
    context = f"order {race.order_id}: history {kinds}, vendor order {vendor_order}, cancellations {cancellations}"

    # Never a lost shipment, never a duplicate: one shipment everywhere, the units counted once.
    assert kinds.count("shipped") == 1, context
    assert vendor_order["status"] == "shipped", context
    assert [(line["line_id"], line["shipped"]) for line in vendor_order["lines"]] == [("L1", 1)], context
    shipments = await api.ok("GET", "tracking", f"/v1/orders/{race.order_id}/shipments")
    assert len(shipments["shipments"]) == 1, (context, shipments)
    statuses = _statuses(receiver, race.order_id)
    assert statuses in (["shipped"], ["cancelled", "shipped"]), (context, statuses)
    shown = await api.ok("GET", "intake", f"/v1/orders/{race.order_id}")
    assert shown["status"] == "shipped", (context, shown["status"])  # what the channel reads in the end
    assert all(receiver.verify(d) for d in receiver.deliveries if d.json["order_id"] == race.order_id)
    assert tap.messages("vendor_order.lines_cancelled", race.vendor_order_id) == [], context
    if shipstation is not None:
        # ShipStation's export, read after everything settled, shows the parcel shipped whoever won.
        assert shipstation.orders[race.vendor_order_id].status == "shipped", context

    winner: Winner
    if cancel_answers[race.order_id] == "refused":
        # Intake already knew the order shipped: the cancel went nowhere.
        winner = "shipment, cancel refused"
        assert cancellations == [] and statuses == ["shipped"], context
        assert not {"cancelled", "cancel_not_sent"} & set(kinds) and routing["state"] != "cancelled", context
        assert (shipments["status"], shipments["cancelled"]) == ("shipped", False), (context, shipments)
        assert vendor_order["shipped_after_cancel"] is False, context
        return Outcome(winner, channel_heard_cancelled=False)

    assert routing["state"] == "cancelled", context
    # Tracking decides its own race the same way: the shipment wins, a late one is marked for ops.
    assert (shipments["status"], shipments["cancelled"]) == ("shipped", True), (context, shipments)
    if statuses[0] == "cancelled":
        # The channel heard the cancel first only if tracking applied it first. The converse need not
        # hold: a cancellation intake receives after the shipment it was overtaken by is old news.
        assert shipments["shipped_after_cancel"] is True, (context, shipments)
    if "cancelled" in kinds and kinds.index("cancelled") < kinds.index("shipped"):
        # The vendor was told, shipped anyway: the shipment counts and ops can see it.
        winner = "cancel"
        assert len(cancellations) == 1, context
        assert vendor_order["shipped_after_cancel"] is True, context
        assert "shipped_after_cancel" in kinds and "cancel_not_sent" not in kinds, context
    else:
        # The shipment was first: no cancellation is sent for what already shipped.
        winner = "shipment"
        assert cancellations == [], context
        assert vendor_order["shipped_after_cancel"] is False, context
        assert "cancel_not_sent" in kinds and "cancelled" not in kinds, context
        assert kinds.index("shipped") < kinds.index("cancel_not_sent"), context
    return Outcome(winner, channel_heard_cancelled=statuses[0] == "cancelled")
