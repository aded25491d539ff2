"""The console in a real browser: Debian's Chromium driven by Selenium (``tests/browser.py``) against the
console running in-process beside every service (gateway and channels included) on the real broker and
database. Each test proves something a person sees: signing in through the form gives an HttpOnly,
SameSite=Strict cookie; a parked message shows on the overview, is replayed by a click and the count
drops by the live refresh without a reload; a held order is released with a vendor override and shows
routed; a discard asks first and signing out ends the session; the overview fits a phone's width; the
order search finds an order by its number and its timeline shows intake's history; the overview's
screenshot is saved (and, for ``make console-screenshot``, written to ``docs/console.png``).

Selenium blocks: every browser step runs in a worker thread (``asyncio.to_thread``) while the services
keep answering on this test's event loop; a step that needs the services' state asks for it back on the
loop (:meth:`Page.call`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import struct
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from services.channels.app import SERVICE as CHANNELS
from services.channels.settings import ChannelsSettings
from services.console.app import SERVICE as CONSOLE
from services.console.broker import queue_figures
from services.console.sessions import COOKIE_NAME
from services.gateway.app import SERVICE as GATEWAY
from services.gateway.settings import GatewaySettings
from shared.processes import free_port
from shared.service import running_service
from tests.browser import SCREENSHOT_ENV, WINDOW, chromium, require_chromium
from tests.conftest import RunningSystem, remove_vendor_queues
from tests.integration.console.conftest import Console, console_settings
from tests.integration.console.test_console_pages import park
from tests.support import ChannelReceiver, order_payload, unique, wait_until

T = TypeVar("T")
WAIT_SECONDS = 20.0
PHONE = {"width": 375, "height": 740, "deviceScaleFactor": 2, "mobile": True}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------------------------- the system


@pytest.fixture(scope="module")
async def vendors(system: RunningSystem) -> AsyncIterator[list[str]]:
    made: list[str] = []
    yield made
    await remove_vendor_queues(system, made)


@pytest.fixture(scope="module")
async def live(system: RunningSystem, vendors: list[str]) -> AsyncIterator[Console]:
    """The console with every service it reads answering: the session's four, and the gateway and the
    channels service started here (so no panel of the overview says a service is down)."""
    gateway_port, channels_port, console_port = free_port(), free_port(), free_port()
    gateway_url, channels_url = f"http://127.0.0.1:{gateway_port}", f"http://127.0.0.1:{channels_port}"
    common = {"intake_port": system.intake.port, "splitter_port": system.splitter.port}
    gateway = system.env.settings(GatewaySettings, gateway_port=gateway_port, vendor_discovery_seconds=0.5, **common)
    channels = system.env.settings(
        ChannelsSettings, channels_port=channels_port, channels_public_url=channels_url, **common
    )
    settings = console_settings(system, console_port, gateway_url=gateway_url, channels_url=channels_url)
    async with (
        running_service(GATEWAY, gateway),
        running_service(CHANNELS, channels),
        running_service(CONSOLE, settings) as runtime,
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
    ):
        yield Console(runtime, f"http://127.0.0.1:{console_port}", system, http)


async def own_vendor(system: RunningSystem, made: list[str]) -> str:
    """A vendor left to its own adapter: nothing here consumes ``vendor.<code>``, so what is parked or
    replayed there stays put for the test to watch."""
    code = unique("bv").lower()
    body = {"name": f"Vendor {code}", "kind": "webhook", "settings": {"adapter": "own"}}
    await system.api.ok("put", "splitter", f"/v1/vendors/{code}", body)
    made.append(code)
    return code


async def new_channel(system: RunningSystem, webhook_url: str | None = None) -> tuple[str, str]:
    code = unique("bc").lower()
    body: dict[str, Any] = {"name": f"Shop {code}"}
    if webhook_url:
        body["webhook_url"] = webhook_url
    channel = await system.api.ok("put", "intake", f"/v1/channels/{code}", body)
    return code, str(channel["api_key"])


async def place(system: RunningSystem, channel: tuple[str, str], sku: str, **extra: Any) -> str:
    body = order_payload(channel[0], [(sku, 1, "24.00")], **extra)
    answer = await system.api.ok("post", "intake", "/v1/orders", body, token=channel[1])
    return str(answer["order_id"])


async def stocked_sku(system: RunningSystem, *vendor_codes: str) -> str:
    sku = unique("BSKU-")
    sources = [{"vendor": code, "priority": rank, "stock": 50} for rank, code in enumerate(vendor_codes, start=1)]
    await system.api.ok("put", "splitter", f"/v1/catalog/{sku}", {"sources": sources})
    return sku


async def parked_count(console: Console, queue: str) -> int | None:
    (figures,) = await queue_figures(console.runtime.amqp, console.runtime.topology, [queue])
    return figures.parked


# --------------------------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
async def driver() -> AsyncIterator[webdriver.Chrome]:
    require_chromium()
    with contextlib.ExitStack() as stack:
        yield await asyncio.to_thread(stack.enter_context, chromium())
        await asyncio.to_thread(stack.close)


@dataclass
class Page:
    """One browser, used from a worker thread: its steps, and a way back to the services' loop."""

    driver: webdriver.Chrome
    console: Console
    loop: asyncio.AbstractEventLoop

    @property
    def url(self) -> str:
        return self.console.url

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the test's event loop (where the services run) and wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def go(self, path: str) -> None:
        self.driver.get(self.url + path)

    def until(self, check: Callable[[webdriver.Chrome], T], what: str, timeout: float = WAIT_SECONDS) -> T:
        """Wait for ``check`` to answer something true; a live refresh may swap elements meanwhile."""
        waiting = WebDriverWait(
            self.driver, timeout, 0.1, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
        )
        return waiting.until(check, f"waited {timeout:.0f} s for {what}; page at {self.driver.current_url}")

    def element(self, selector: str, timeout: float = WAIT_SECONDS) -> WebElement:
        return self.until(lambda d: d.find_element(By.CSS_SELECTOR, selector), selector, timeout)

    def present(self, selector: str) -> bool:
        return bool(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def attribute(self, selector: str, name: str) -> str | None:
        return self.driver.find_element(By.CSS_SELECTOR, selector).get_attribute(name)

    def click(self, selector: str) -> None:
        """Click what ``selector`` finds, again if a live refresh replaced it under the pointer."""

        def clicked(d: webdriver.Chrome) -> bool:
            d.find_element(By.CSS_SELECTOR, selector).click()
            return True

        self.until(clicked, f"a click on {selector}")

    def fill(self, selector: str, text: str) -> None:
        def typed(d: webdriver.Chrome) -> bool:
            field = d.find_element(By.CSS_SELECTOR, selector)
            field.clear()
            field.send_keys(text)
            # Focus in the live region holds its refresh back: what was typed stays.
            return field.get_attribute("value") == text

        self.until(typed, f"{text!r} typed into {selector}")

    def sign_in(self, who: str, next_path: str = "/") -> None:
        self.go(next_path)
        self.until(lambda d: "/signin" in d.current_url, "the sign-in page")
        self.fill("#who-field", who)
        self.fill("#token-field", self.console.system.env.admin_token)
        self.click("#signin button[type=submit]")
        self.until(lambda d: "/signin" not in d.current_url, "the page after signing in")
        assert self.element("#who").text == who


@pytest.fixture
async def page(driver: webdriver.Chrome, live: Console) -> AsyncIterator[Page]:
    """The module's browser, as a fresh visitor: one tab, no cookie, a laptop's window."""

    def reset() -> None:
        for handle in driver.window_handles[1:]:
            driver.switch_to.window(handle)
            driver.close()
        driver.switch_to.window(driver.window_handles[0])
        driver.get("about:blank")
        # Every site's cookies: delete_all_cookies would clear only about:blank's.
        driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.set_window_size(*WINDOW)

    await asyncio.to_thread(reset)
    yield Page(driver, live, asyncio.get_running_loop())
    await asyncio.to_thread(reset)


def by_id(element_id: str) -> str:
    """A CSS selector for an id with dots in it (``parked-vendor.east``), which ``#…`` would read as classes."""
    return f"[id='{element_id}']"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


# ---------------------------------------------------------------------------------------------- the tests


async def test_signing_in_through_the_form_lands_on_the_overview_with_a_strict_http_only_cookie(page: Page) -> None:
    def scenario() -> None:
        page.go("/holds")
        page.until(lambda d: "/signin?next=%2Fholds" in d.current_url, "the way to sign in, back to /holds")
        page.sign_in("Brie Browser", "/")
        assert page.driver.current_url == page.url + "/"
        assert page.element("h1").text == "Overview"
        assert page.present("#queues tr[data-queue='splitter.orders']"), "the overview's queue table"
        cookies = {cookie["name"]: cookie for cookie in page.driver.get_cookies()}
        session = cookies[COOKIE_NAME]
        assert session["httpOnly"] is True
        assert session["sameSite"] == "Strict"
        assert session["path"] == "/"
        assert session["secure"] is False, "plain http on loopback"
        # HttpOnly as the page's own scripts see it: the session cookie is not theirs to read.
        assert COOKIE_NAME not in page.driver.execute_script("return document.cookie")

    await asyncio.to_thread(scenario)


async def test_a_parked_message_is_replayed_by_a_click_and_the_overview_count_drops_without_a_reload(
    page: Page, live: Console, vendors: list[str]
) -> None:
    vendor = await own_vendor(live.system, vendors)
    queue = f"vendor.{vendor}"
    message_id = await park(live, vendor, "poison: no lines")
    row = f"#queues tr[data-queue='{queue}']"

    def scenario() -> None:
        page.sign_in("Petra Parked")
        assert page.attribute(row, "data-parked") == "1"
        assert "1 parked" in page.element(row).text and "no consumer" in page.element(row).text
        overview = page.driver.current_window_handle
        # Marks this document: a full reload would lose it.
        page.driver.execute_script("window.dropshipSameDocument = 'kept'")

        page.driver.switch_to.new_window("tab")
        page.go("/parked")
        panel = page.element(by_id(f"parked-{queue}"))
        assert panel.get_attribute("data-parked") == "1"
        assert "poison: no lines" in panel.text, "the error the message was parked with"
        page.click(by_id(f"replay-{queue}-{message_id}") + " button")
        outcome = page.element("#outcome")
        assert outcome.get_attribute("data-ok") == "true" and "1 message(s) replayed" in outcome.text
        page.driver.close()

        page.driver.switch_to.window(overview)

        # The two counts come from two queues read one after the other by the live refresh: the
        # replayed message can be off the parking queue a refresh before the vendor's queue counts it.
        def replayed(driver: webdriver.Chrome) -> bool:
            counts = driver.find_element(By.CSS_SELECTOR, row)
            return counts.get_attribute("data-parked") == "0" and counts.get_attribute("data-messages") == "1"

        page.until(replayed, "parked 0 and the message back on the vendor's queue")
        assert page.driver.execute_script("return window.dropshipSameDocument") == "kept", "no reload"
        assert page.attribute("[data-live]", "data-refreshed"), "the live region was refreshed"

    await asyncio.to_thread(scenario)
    assert await parked_count(live, queue) == 0


async def test_a_held_order_is_released_from_the_page_with_a_vendor_override_and_shows_routed(
    page: Page, live: Console, vendors: list[str]
) -> None:
    system = live.system
    usual, other = await own_vendor(system, vendors), await own_vendor(system, vendors)
    sku = await stocked_sku(system, usual, other)
    order_id = await place(system, await new_channel(system), sku, status="unpaid")
    hold = f"#hold-{order_id}"

    def scenario() -> None:
        page.sign_in("Hana Holds", "/holds")
        # The splitter holds it moments after intake took it: the live refresh brings it in.
        page.element(f"{hold} [data-code='unpaid']")
        override = f"#release-{order_id} input[name='override.L1']"
        if page.present(override):
            page.fill(override, other)
        else:
            page.fill(f"#release-{order_id} input[name='overrides']", f"L1={other}")
        page.click(f"#release-{order_id} button[type=submit]")
        outcome = page.element("#outcome")
        assert outcome.get_attribute("data-ok") == "true", outcome.text
        assert f"order {order_id} released" in outcome.text
        page.until(lambda d: not d.find_elements(By.CSS_SELECTOR, hold), "the order gone from the held list")

        page.go(f"/orders/{order_id}")
        vendor_order = page.element(f"#vendor-orders tr[data-vendor='{other}']")
        assert sku in vendor_order.text, "the line went to the vendor chosen on the page"
        assert not page.present(f"#vendor-orders tr[data-vendor='{usual}']")
        assert page.present("#timeline li[data-source='splitter'][data-kind='released']")

    await asyncio.to_thread(scenario)
    routing = await system.api.ok("get", "splitter", f"/v1/orders/{order_id}/routing")
    assert {vo["vendor"] for vo in routing["vendor_orders"]} == {other}


async def test_a_discard_asks_first_and_signing_out_ends_the_session(
    page: Page, live: Console, vendors: list[str]
) -> None:
    vendor = await own_vendor(live.system, vendors)
    queue = f"vendor.{vendor}"
    message_id = await park(live, vendor, "cannot be applied")

    def scenario() -> None:
        page.sign_in("Dora Discard", "/parked")
        page.click(by_id(f"discard-{queue}-{message_id}") + " button")
        question = page.element("#confirm-question")
        assert message_id in question.text and "cannot be replayed" in question.text
        assert page.call(parked_count(live, queue)) == 1, "nothing discarded by asking"
        page.click(by_id(f"confirm-discard-{queue}") + " a")  # "Keep them"
        page.until(lambda d: d.current_url == page.url + "/parked", "back on /parked")
        assert page.call(parked_count(live, queue)) == 1

        page.click(by_id(f"discard-{queue}-{message_id}") + " button")
        page.click(by_id(f"confirm-discard-{queue}") + " button[type=submit]")
        outcome = page.element("#outcome")
        assert "1 message(s) discarded" in outcome.text
        assert page.call(parked_count(live, queue)) == 0

        cookie = page.driver.get_cookie(COOKIE_NAME)
        assert cookie is not None
        page.click("#signout button[type=submit]")
        page.until(lambda d: d.current_url.endswith("/signin"), "the sign-in page after signing out")
        assert page.driver.get_cookie(COOKIE_NAME) is None, "the cookie is cleared"
        page.go("/holds")
        page.until(lambda d: "/signin?next=%2Fholds" in d.current_url, "sign-in for a page afterwards")
        # The session itself is over, not only the cookie: the old one opens nothing either.
        page.driver.add_cookie({"name": COOKIE_NAME, "value": cookie["value"], "path": "/"})
        page.go("/")
        page.until(lambda d: "/signin" in d.current_url, "sign-in with the old cookie")

    await asyncio.to_thread(scenario)


async def test_the_overview_fits_a_phone_without_sideways_scrolling(
    page: Page, live: Console, vendors: list[str]
) -> None:
    vendor = await own_vendor(live.system, vendors)
    await park(live, vendor, "a long error that a narrow screen has to wrap somewhere " * 3)

    def scenario() -> None:
        page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        page.sign_in("Phil Phone")
        page.element(f"#queues tr[data-queue='vendor.{vendor}']")
        widths = page.driver.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth, document.body.scrollWidth,"
            " document.querySelector('#queues').closest('.scroll').scrollWidth]"
        )
        inner, document_width, body_width, table_width = (int(w) for w in widths)
        assert inner == PHONE["width"]
        assert document_width <= inner and body_width <= inner, f"the page scrolls sideways: {widths}"
        assert table_width > inner, "the wide queue table scrolls inside its own box instead"
        for path in ("/parked", "/holds", "/orders"):
            page.go(path)
            width = page.driver.execute_script("return document.documentElement.scrollWidth")
            assert int(width) <= inner, f"{path} scrolls sideways: {width} > {inner}"

    await asyncio.to_thread(scenario)


async def test_the_order_search_finds_an_order_by_number_and_opens_its_timeline(
    page: Page, live: Console, vendors: list[str]
) -> None:
    system = live.system
    receiver = await ChannelReceiver().start()
    try:
        vendor = await own_vendor(system, vendors)
        sku = await stocked_sku(system, vendor)
        channel = await new_channel(system, receiver.url)
        number = unique("N").upper()
        order_id = await place(system, channel, sku, order_number=number, status="unpaid")

        async def history_with_webhook() -> dict[str, Any] | None:
            history = await system.api.ok("get", "intake", f"/v1/orders/{order_id}/history")
            kinds = {event["kind"] for event in history["events"]}
            return history if {"status", "webhook"} <= kinds else None

        history = await wait_until(history_with_webhook, timeout=WAIT_SECONDS)
        statuses = [event for event in history["events"] if event["kind"] == "status"]

        def scenario() -> None:
            page.sign_in("Olga Orders", "/orders")
            page.fill("#order-search input[name='q']", number.lower())  # any letter case
            page.click("#order-search button[type=submit]")
            page.until(lambda d: "q=" in d.current_url, "the search's page")
            found = page.driver.find_elements(By.CSS_SELECTOR, "#orders tbody tr")
            assert [row.get_attribute("data-order") for row in found] == [order_id]
            assert channel[0] in found[0].text and "Jo Müller" in found[0].text, "the row's channel and customer"
            page.click(f"#orders tr[data-order='{order_id}'] a")
            page.until(lambda d: d.current_url == f"{page.url}/orders/{order_id}", "the order's page")
            assert page.attribute("#order-facts", "data-status") == history["status"]
            entries = page.driver.find_elements(By.CSS_SELECTOR, "#timeline li[data-source='intake']")
            kinds = [entry.get_attribute("data-kind") for entry in entries]
            assert kinds.count("status") == len(statuses), (kinds, statuses)
            text = page.element("#timeline").text
            for change in statuses:
                assert f"status {change['status']} ({change['cause']})" in text
            assert "webhook order." in text and "delivered after 1 attempt(s)" in text, text
            assert page.present("#timeline li[data-source='splitter'][data-kind='held']")

        await asyncio.to_thread(scenario)
        assert receiver.deliveries, "the channel received the webhook the timeline shows"
    finally:
        await receiver.stop()


async def test_the_overview_is_captured_as_a_screenshot(
    page: Page, live: Console, vendors: list[str], tmp_path: Path
) -> None:
    """Some routed orders, a held one and a parked message: the overview as ops see it."""
    system = live.system
    vendor, spare = await own_vendor(system, vendors), await own_vendor(system, vendors)
    sku = await stocked_sku(system, vendor, spare)
    channel = await new_channel(system)
    for _ in range(6):
        await place(system, channel, sku)
    held = await place(system, channel, sku, status="unpaid")
    await park(live, vendor, "vendor_order.created: lines missing")
    shot = tmp_path / "console.png"

    async def hold_listed() -> bool:
        holds = await system.api.ok("get", "splitter", "/v1/holds")
        return any(entry["order_id"] == held for entry in holds["holds"])

    await wait_until(hold_listed, timeout=WAIT_SECONDS)

    def scenario() -> None:
        page.sign_in("Ops Person")
        # The overview lists the first 20 holds; the tile counts them all (other tests' too).
        assert int(page.attribute("#held-count .value", "data-value") or 0) >= 1
        assert page.present("#overview-holds tr[data-order]")
        assert page.attribute(f"#queues tr[data-queue='vendor.{vendor}']", "data-parked") == "1"
        assert not page.present("[data-problem]"), "every service answers: no panel says otherwise"
        height = page.driver.execute_script("return document.documentElement.scrollHeight")
        page.driver.set_window_size(WINDOW[0], min(int(height) + 140, 4000))
        assert page.driver.save_screenshot(str(shot))

    await asyncio.to_thread(scenario)
    data = shot.read_bytes()
    width, height = png_size(data)
    assert width >= WINDOW[0] - 20 and height >= 600, (width, height)
    assert len(data) > 20_000, "a page with content, not a blank one"
    target = os.environ.get(SCREENSHOT_ENV)
    if target:
        shutil.copyfile(shot, target)
