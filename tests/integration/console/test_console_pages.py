"""The pages over the real services and broker: a parked message shows on the overview and /parked with
its error, and replaying it from the page empties the parked queue; a discard asks first; a held order
shows on /holds and a release with a vendor override routes it there; a cancel goes through intake;
every action leaves an audit row; the queue gauges are on /metrics; and every page still renders when
a service does not answer."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aio_pika
import pytest

from services.console.use_cases import actions
from shared.messaging.headers import ERROR, ERROR_TYPE, ORIGINAL_QUEUE, ORIGINAL_ROUTING_KEY, PARKED_AT
from shared.messaging.topology import vendor_queue
from shared.processes import free_port
from tests.conftest import RunningSystem, remove_vendor_queues
from tests.integration.console.conftest import Browser, Console
from tests.integration.console.test_console_access import PAGES
from tests.support import order_payload, unique, wait_until


def queue_row(html: str, queue: str) -> dict[str, str]:
    """The data attributes of the overview's row for ``queue``."""
    found = re.search(rf'<tr data-queue="{re.escape(queue)}"([^>]*)>(.*?)</tr>', html, re.S)
    assert found, f"no row for {queue}"
    attributes = dict(re.findall(r'data-([a-z]+)="([^"]*)"', found.group(1)))
    attributes["warnings"] = " ".join(re.findall(r'data-warning="([^"]*)"', found.group(2)))
    return attributes


async def audit_rows(browser: Browser, action: str, target: str) -> list[str]:
    _, html, _ = await browser.get("/audit")
    return re.findall(rf'data-action="{action}" data-target="{re.escape(target)}" data-outcome="([^"]*)"', html)


@pytest.fixture(scope="module")
async def vendors(system: RunningSystem) -> AsyncIterator[list[str]]:
    """Vendors made by this module: their queues are removed when it is done."""
    made: list[str] = []
    yield made
    await remove_vendor_queues(system, made)


async def new_vendor(system: RunningSystem, made: list[str]) -> str:
    code = unique("cv").lower()
    await system.api.ok("put", "splitter", f"/v1/vendors/{code}", {"name": code, "kind": "webhook"})
    made.append(code)
    return code


async def park(console: Console, vendor: str, error: str) -> str:
    """A message parked from ``vendor.<vendor>`` as the consumer guard parks one, with its error."""
    runtime = console.runtime
    spec = vendor_queue(vendor)
    message_id = str(uuid.uuid4())
    channel = await runtime.amqp.channel(publisher_confirms=True, on_return_raises=True)
    try:
        exchange = await channel.get_exchange(runtime.topology.parked_exchange)
        message = aio_pika.Message(
            b'{"type": "vendor_order.created", "data": {}}',
            message_id=message_id,
            type="vendor_order.created",
            correlation_id="ord_parked",
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers={
                ERROR: error,
                ERROR_TYPE: "ValidationError",
                ORIGINAL_ROUTING_KEY: f"vendor_order.created.{vendor}",
                ORIGINAL_QUEUE: runtime.topology.queue(spec),
                PARKED_AT: "2026-01-02T03:04:05+00:00",
            },
        )
        await exchange.publish(message, routing_key=runtime.topology.parked_queue(spec), mandatory=True)
    finally:
        await channel.close()
    return message_id


async def test_a_parked_message_shows_and_replaying_it_from_the_page_empties_the_parked_queue(
    console: Console, vendors: list[str]
) -> None:
    vendor = await new_vendor(console.system, vendors)
    queue = f"vendor.{vendor}"
    browser = await console.signed_in("Parker")
    message_id = await park(console, vendor, "poison <b>not bold</b>: lines missing")

    status, html, _ = await browser.get("/")
    assert status == 200
    row = queue_row(html, queue)
    assert (row["parked"], row["messages"], row["consumers"]) == ("1", "0", "0")
    assert "1 parked" in row["warnings"] and "no consumer" in row["warnings"]
    assert 'id="rabbitmq-management"' in html
    assert queue_row(html, "splitter.orders")["consumers"] != "0", "the splitter consumes its queue"
    # The live region alone, for the page's refresh.
    status, fragment, _ = await browser.get("/?fragment=1")
    assert status == 200 and "<html" not in fragment and f'data-queue="{queue}"' in fragment

    async with console.http.get(console.url + "/metrics") as response:
        metrics = await response.text()
    assert f'dropship_parked_messages{{queue="{queue}"}} 1.0' in metrics
    assert 'dropship_queue_consumers{queue="splitter.orders"}' in metrics

    status, html, _ = await browser.get("/parked")
    assert status == 200
    assert f'id="parked-{queue}" data-queue="{queue}" data-parked="1"' in html
    assert message_id in html and f'id="replay-{queue}"' in html
    assert "poison &lt;b&gt;not bold&lt;/b&gt;: lines missing" in html, "the error, escaped"

    status, html, _ = await browser.post(f"/parked/{queue}/replay")
    assert status == 200 and 'data-ok="true"' in html and "1 message(s) replayed" in html
    status, html, _ = await browser.get("/")
    row = queue_row(html, queue)
    assert (row["parked"], row["messages"]) == ("0", "1"), "back on the vendor's queue, with its routing key"
    assert await audit_rows(browser, "replay", queue) == ["ok"]

    async def gauge_dropped() -> bool:
        async with console.http.get(console.url + "/metrics") as response:
            return f'dropship_parked_messages{{queue="{queue}"}} 0.0' in await response.text()

    await wait_until(gauge_dropped, timeout=5)


def today_counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'<li data-status="([a-z_]+)" data-count="([^"]*)">', html))


async def test_the_overview_shows_exact_order_figures_and_each_queues_message_rate(console: Console) -> None:
    system = console.system
    browser = await console.signed_in("Rate Reader")
    code = unique("cr").lower()
    channel = await system.api.ok("put", "intake", f"/v1/channels/{code}", {"name": code})

    async def place_orders() -> None:
        for _ in range(8):
            body = order_payload(code, [(unique("RATE-"), 1, "10.00")])
            await system.api.ok("post", "intake", "/v1/orders", body, token=channel["api_key"])
            await asyncio.sleep(0.25)

    placing = asyncio.create_task(place_orders())

    async def a_rate_seen() -> str | None:
        rate = queue_row((await browser.get("/?fragment=1"))[1], "splitter.orders")["rate"]
        return rate if rate and Decimal(rate) > 0 else None

    try:
        rate = await wait_until(a_rate_seen, timeout=15, every=0.3)
    finally:
        await placing
    assert Decimal(rate) > 0, "the splitter handled the orders: splitter.orders has a rate from its own metrics"
    status, html, _ = await browser.get("/")
    assert status == 200 and "<th>msg/s</th>" in html
    for row in ("splitter.orders", "tracking.orders"):
        assert re.fullmatch(r"\d+\.\d\d", queue_row(html, row)["rate"]), (row, queue_row(html, row))
    # Today's counts are intake's exact figures (no "≥" from a page of the listing), every status shown.
    status, counts = await system.api.call("GET", "intake", "/v1/orders/counts")
    assert status == 200
    shown = today_counts(html)
    assert set(shown) == set(counts["by_status"]) and "≥" not in html
    assert sum(int(value) for value in shown.values()) == counts["total"] >= 8
    per_minute = re.search(r'id="orders-per-minute".*?data-value="([^"]+)"', html, re.S)
    assert per_minute and Decimal(per_minute.group(1)) >= Decimal("0.8"), "8 orders in the last 10 minutes"


async def test_a_discard_asks_first_and_then_drops_the_message(console: Console, vendors: list[str]) -> None:
    vendor = await new_vendor(console.system, vendors)
    queue = f"vendor.{vendor}"
    browser = await console.signed_in("Dana Discard")
    message_id = await park(console, vendor, "cannot be applied")
    status, html, _ = await browser.post(f"/parked/{queue}/discard", {"message_id": message_id})
    assert status == 200 and f'id="confirm-discard-{queue}"' in html and 'name="confirm" value="yes"' in html
    assert queue_row((await browser.get("/"))[1], queue)["parked"] == "1", "nothing discarded before confirming"
    assert await audit_rows(browser, "discard", queue) == []

    status, html, _ = await browser.post(f"/parked/{queue}/discard", {"message_id": message_id, "confirm": "yes"})
    assert status == 200 and "1 message(s) discarded" in html
    row = queue_row((await browser.get("/"))[1], queue)
    assert (row["parked"], row["messages"]) == ("0", "0")
    assert await audit_rows(browser, "discard", queue) == ["ok"]
    # Replaying a queue that has no parked queue: the broker's answer, shown and audited.
    status, html, _ = await browser.post("/parked/vendor.nobody-here/replay")
    assert status == 409 and "there is no parked queue" in html
    assert await audit_rows(browser, "replay", "vendor.nobody-here") == [
        f"there is no parked queue {console.runtime.topology.name('vendor.nobody-here.parked')}"
    ]


async def test_a_broker_failure_during_an_action_still_leaves_its_audit_row(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def channel_lost(*_: Any) -> list[Any]:
        raise aio_pika.exceptions.ChannelInvalidStateError("the broker closed the channel")

    queue = f"vendor.{unique('broken')}"
    browser = await console.signed_in("Failing Fran")
    monkeypatch.setattr(actions, "discard_parked", channel_lost)
    status, html, _ = await browser.post(f"/parked/{queue}/discard", {"confirm": "yes"})
    assert status == 502 and "ChannelInvalidStateError" in html
    [outcome] = await audit_rows(browser, "discard", queue)
    assert outcome.startswith("failed: ChannelInvalidStateError") and "the broker closed the channel" in outcome
    # The owning service not answering is audited as well (the gateway is not running for this console).
    vendor_order = unique("vo_")
    status, html, _ = await browser.post(f"/vendors/east/orders/{vendor_order}/shipment", {"carrier": "UPS"})
    assert status == 502 and "gateway does not answer" in html
    assert await audit_rows(browser, "ship", vendor_order) == ["gateway does not answer (ClientConnectorError)"]


async def _unpaid_order(system: RunningSystem, sku: str) -> str:
    code = unique("cc").lower()
    channel = await system.api.ok("put", "intake", f"/v1/channels/{code}", {"name": code})
    body = order_payload(code, [(sku, 1, "10.00")], status="unpaid")
    answer = await system.api.ok("post", "intake", "/v1/orders", body, token=channel["api_key"])
    return str(answer["order_id"])


async def _routing(system: RunningSystem, order_id: str) -> dict[str, Any]:
    status, body = await system.api.call("get", "splitter", f"/v1/orders/{order_id}/routing")
    return body if status == 200 else {}


async def test_a_held_order_is_released_with_a_vendor_override_and_another_cancelled(
    console: Console, vendors: list[str]
) -> None:
    system = console.system
    usual, other = await new_vendor(system, vendors), await new_vendor(system, vendors)
    sku = unique("CSKU-")
    sources = [{"vendor": usual, "priority": 1, "stock": 10}, {"vendor": other, "priority": 2, "stock": 10}]
    await system.api.ok("put", "splitter", f"/v1/catalog/{sku}", {"sources": sources})
    order_id = await _unpaid_order(system, sku)
    browser = await console.signed_in("Hal Holds")

    async def listed() -> str | None:
        html = (await browser.get("/holds"))[1]
        return html if f'id="release-{order_id}"' in html else None

    html = await wait_until(listed, timeout=20)
    assert re.search(rf'id="hold-{order_id}".*?data-code="unpaid"', html, re.S)
    status, html, _ = await browser.post(f"/holds/{order_id}/release", {"overrides": f"L1={other}"})
    assert status == 200 and 'data-ok="true"' in html, html[:2000]

    async def routed() -> dict[str, Any] | None:
        view = await _routing(system, order_id)
        return view if view.get("vendor_orders") else None

    view = await wait_until(routed, timeout=20)
    assert {vo["vendor"] for vo in view["vendor_orders"]} == {other}
    assert await audit_rows(browser, "release", order_id) == ["ok"]
    _, audit, _ = await browser.get("/audit")
    assert f"&#34;L1&#34;: &#34;{other}&#34;" in audit or f'"L1": "{other}"' in audit

    status, html, _ = await browser.get(f"/orders/{order_id}")
    assert status == 200
    assert 'data-source="intake" data-kind="received"' in html
    assert 'data-source="splitter" data-kind="released"' in html
    assert f'data-vendor="{other}"' in html
    assert "gateway does not answer" in html, "the gateway is down here: its part says so"

    second = await _unpaid_order(system, sku)
    await wait_until(listed_order(browser, second), timeout=20)
    status, html, _ = await browser.post(f"/holds/{second}/cancel", {"reason": "customer asked"})
    assert status == 200 and 'data-ok="true"' in html
    assert await audit_rows(browser, "cancel", second) == ["ok"]
    status, order = await system.api.call("get", "intake", f"/v1/orders/{second}")
    assert order["status"] in ("cancelled", "cancelling") or order["cancelled_at"], order
    # Releasing an order that is not held: the splitter's refusal, on the page and in the audit log.
    status, html, _ = await browser.post(f"/holds/{order_id}/release")
    assert status == 409 and "not_held" in html
    assert await audit_rows(browser, "release", order_id) == [
        "splitter answered 409 not_held: the order is not held",
        "ok",
    ]


def listed_order(browser: Browser, order_id: str) -> Any:
    async def check() -> bool:
        return f'id="release-{order_id}"' in (await browser.get("/holds"))[1]

    return check


async def test_every_page_renders_when_a_service_does_not_answer(console: Console) -> None:
    # Intake is down for this instance (its URL a closed port); the gateway and channels are for every one.
    async with console.another(intake_url=f"http://127.0.0.1:{free_port()}") as url:
        browser = (await console.signed_in("Down Dan")).on(url)
        for path in PAGES:
            status, html, _ = await browser.get(path)
            assert status == 200, (path, html[:500])
            status, _, _ = await browser.get(f"{path}?fragment=1")
            assert status == 200, path
        overview = (await browser.get("/"))[1]
        assert "intake does not answer" in overview and "gateway does not answer" in overview
        assert 'data-queue="splitter.orders"' in overview, "the broker's figures are still there"
        assert "intake does not answer" in (await browser.get("/orders"))[1]
        assert "channels does not answer" in (await browser.get("/channels"))[1]
