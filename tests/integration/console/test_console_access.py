"""Who gets in: every route refuses without a session (a browser GET is sent to sign in, a POST or a
live-region fetch gets 401), sign-in with a wrong token is 401 and throttled to 429, a POST without the
session's CSRF token is 403 and does nothing, a session works on every console instance (one database)
and ends when idle or signed out."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import pytest

from services.console.sessions import COOKIE_NAME
from tests.integration.console.conftest import Console
from tests.support import unique

PAGES = [
    "/",
    "/orders",
    "/orders/ord_x",
    "/holds",
    "/parked",
    "/vendors",
    "/vendors/east",
    "/channels",
    "/audit",
]
ACTIONS = [
    "/signout",
    "/holds/ord_x/release",
    "/holds/ord_x/cancel",
    "/parked/splitter.orders/replay",
    "/parked/splitter.orders/discard",
    "/vendors/east/feeds/f1/accept",
    "/vendors/east/orders/vo1/acknowledgement",
    "/vendors/east/orders/vo1/shipment",
]


@pytest.mark.parametrize("path", PAGES)
async def test_a_page_without_a_session_sends_the_browser_to_sign_in(console: Console, path: str) -> None:
    browser = console.browser()
    status, _, response = await browser.get(path + "?status=held" if path == "/orders" else path)
    assert status == 303
    wanted = path + "?status=held" if path == "/orders" else path
    assert response.headers["Location"] == f"/signin?next={quote(wanted, safe='')}"
    status, text, _ = await browser.get(f"{path}?fragment=1")
    assert status == 401 and 'id="refused"' in text
    # A cookie that opens no session is no better.
    browser.cookie = "not-a-session"
    status, _, response = await browser.get(path)
    assert status == 303 and response.headers["Location"].startswith("/signin?next=")


@pytest.mark.parametrize("path", ACTIONS)
async def test_an_action_without_a_session_is_refused(console: Console, path: str) -> None:
    status, text, _ = await console.browser().post(path, {"csrf": "anything", "confirm": "yes"})
    assert status == 401 and "sign in again" in text


async def test_signing_in_sets_a_strict_http_only_cookie_and_goes_back(console: Console) -> None:
    browser = console.browser()
    status, text, _ = await browser.get("/signin?next=%2Fholds")
    assert status == 200 and 'name="next" value="/holds"' in text
    status, _, response = await browser.request(
        "POST", "/signin", {"token": console.system.env.admin_token, "who": "Sam Ops", "next": "/holds"}
    )
    assert status == 303 and response.headers["Location"] == "/holds"
    morsel = response.cookies[COOKIE_NAME]
    assert morsel["httponly"] and morsel["samesite"] == "Strict" and morsel["path"] == "/"
    assert not morsel["secure"]  # plain http on loopback
    assert len(morsel.value) >= 43  # 32 random bytes, URL-safe
    browser.cookie = morsel.value
    status, text, _ = await browser.get("/holds")
    assert status == 200 and 'id="who"' in text and "Sam Ops" in text
    # Behind a TLS-terminating proxy the cookie is Secure; a next pointing elsewhere goes home instead.
    async with console.http.post(
        console.url + "/signin",
        data={"token": console.system.env.admin_token, "who": "Sam", "next": "//evil.example/"},
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
    ) as proxied:
        assert proxied.status == 303 and proxied.headers["Location"] == "/"
        assert proxied.cookies[COOKIE_NAME]["secure"]


async def test_a_wrong_token_is_401_and_repeated_failures_are_throttled(console: Console) -> None:
    # An instance of its own: the throttle counts per address, and every test comes from 127.0.0.1.
    async with console.another(auth_failure_limit=3, auth_failure_window_seconds=60) as url:
        browser = console.browser().on(url)
        for _ in range(3):
            status, text, _ = await browser.request("POST", "/signin", {"token": "wrong", "who": "Mallory"})
            assert status == 401 and "Wrong token." in text
        status, text, response = await browser.request(
            "POST", "/signin", {"token": console.system.env.admin_token, "who": "Mallory"}
        )
        # Blocked even with the right token: a guesser learns nothing from the answer.
        assert status == 429 and int(response.headers["Retry-After"]) >= 1
        assert COOKIE_NAME not in response.cookies
    # No name, right token: refused, and no session.
    status, text, response = await console.browser().request(
        "POST", "/signin", {"token": console.system.env.admin_token, "who": "  "}
    )
    assert status == 400 and COOKIE_NAME not in response.cookies


async def test_a_post_without_the_sessions_csrf_token_is_403_and_does_nothing(console: Console) -> None:
    browser = await console.signed_in()
    order_id = unique("ord_csrf_")
    status, text, _ = await browser.post(f"/holds/{order_id}/cancel", {"reason": "x"}, csrf=False)
    assert status == 403 and "CSRF" in text
    status, _, _ = await browser.post(f"/holds/{order_id}/cancel", {"reason": "x", "csrf": "forged"})
    assert status == 403
    other = await console.signed_in("Someone Else")
    status, _, _ = await browser.post(f"/holds/{order_id}/cancel", {"csrf": other.csrf or ""})
    assert status == 403, "another session's token is not this one's"
    status, _, _ = await browser.post("/signout", csrf=False)
    assert status == 403
    _, audit, _ = await browser.get("/audit")
    assert order_id not in audit, "a refused POST writes no audit row: nothing was done"
    assert (await browser.get("/"))[0] == 200, "and the session is still there"


async def test_a_session_is_valid_on_another_instance_and_ends_when_idle(console: Console) -> None:
    browser = await console.signed_in("Idle Ida")
    async with console.another(console_session_idle_seconds=1.5, console_refresh_seconds=3600) as url:
        elsewhere = browser.on(url)
        status, text, _ = await elsewhere.get("/audit")
        assert status == 200 and "Idle Ida" in text
        await asyncio.sleep(2.0)
        status, _, response = await elsewhere.get("/audit")
        assert status == 303 and response.headers["Location"] == "/signin?next=%2Faudit"
        status, _, _ = await elsewhere.post("/signout")
        assert status == 401
    # The first instance keeps its own 8 h idle time: the same session still works there.
    assert (await browser.get("/"))[0] == 200


async def test_signing_out_ends_the_session_everywhere(console: Console) -> None:
    browser = await console.signed_in("Leaving Lee")
    status, _, response = await browser.post("/signout")
    assert status == 303 and response.headers["Location"] == "/signin"
    assert response.cookies[COOKIE_NAME].value == ""
    status, _, _ = await browser.get("/")
    assert status == 303
    status, _, _ = await browser.get("/?fragment=1")
    assert status == 401
    reader = await console.signed_in()
    _, audit, _ = await reader.get("/audit")
    assert 'data-action="signout"' in audit and "Leaving Lee" in audit


async def test_static_files_and_health_need_no_session(console: Console) -> None:
    for path, kind in (("/static/console.css", "text/css"), ("/static/console.js", "javascript"), ("/healthz", "json")):
        async with console.http.get(console.url + path) as response:
            assert response.status == 200 and kind in response.content_type, path
