"""Who gets in: every route refuses without a session (a browser GET is sent to sign in, a POST or a
live-region fetch gets 401), sign-in with a wrong token is 401 and throttled to 429, a POST without the
session's CSRF token is 403 and does nothing, a session works on every console instance (one database)
and ends when idle or signed out."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import pytest

from services.console.sessions import COOKIE_NAME
from tests.console_routes import ACTIONS as ACTION_ROUTES
from tests.console_routes import PAGES as PAGE_ROUTES
from tests.integration.console.conftest import Console
from tests.support import unique

PAGES = list(PAGE_ROUTES.values())
ACTIONS = list(ACTION_ROUTES.values())


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


async def _audit_rows(console: Console, who: str) -> int:
    return int(await console.runtime.pool.fetchval("SELECT count(*) FROM audit_log WHERE who = $1", who))


@pytest.mark.parametrize("path", ACTIONS)
async def test_a_post_without_the_sessions_csrf_token_is_403_and_does_nothing(console: Console, path: str) -> None:
    who = unique("Csrf Casey ")
    browser = await console.signed_in(who)
    other = await console.signed_in("Someone Else")
    assert other.csrf and other.csrf != browser.csrf
    form = {"reason": "x", "confirm": "yes", "message_id": "m1", "line_ids": "L1", "carrier": "UPS"}
    rows = await _audit_rows(console, who)
    for given, why in ((None, "no token"), ("forged", "a forged token"), (other.csrf, "another session's token")):
        fields = dict(form) if given is None else {**form, "csrf": given}
        status, text, _ = await browser.post(path, fields, csrf=False)
        assert status == 403 and "CSRF" in text, (path, why, status)
    assert await _audit_rows(console, who) == rows, "a refused POST writes no audit row: nothing was done"
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


async def test_an_open_tab_refreshing_its_live_region_still_ends_when_idle(console: Console) -> None:
    browser = await console.signed_in("Away Avery")
    async with console.another(console_session_idle_seconds=2.0, console_refresh_seconds=3600) as url:
        tab = browser.on(url)
        assert (await tab.get("/"))[0] == 200  # a person looked: the idle time starts again
        # Nobody at the page, only its live refresh (every 0.25 s here, every few seconds in a browser).
        statuses = []
        for _ in range(12):
            statuses.append((await tab.get("/?fragment=1"))[0])
            await asyncio.sleep(0.25)
        assert statuses[0] == 200, "the session was valid when the refresh started"
        assert statuses[-1] == 401, f"the refresh kept the session alive past its idle time: {statuses}"
        status, _, response = await tab.get("/")
        assert status == 303 and response.headers["Location"].startswith("/signin?next=")


async def test_an_instance_with_a_shorter_idle_time_does_not_purge_the_others_sessions(console: Console) -> None:
    browser = await console.signed_in("Long Lou")
    async with console.another(console_session_idle_seconds=0.5, console_refresh_seconds=0.2) as url:
        await asyncio.sleep(1.5)  # several purges past the short instance's idle time
        status, _, _ = await browser.on(url).get("/audit")
        assert status == 303, "over on the short instance"
    assert (await browser.get("/audit"))[0] == 200, "still a session on the instance with the 8 h idle time"


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
    rows = await console.runtime.pool.fetch(
        "SELECT action, outcome, detail FROM audit_log WHERE who = 'Leaving Lee' ORDER BY id"
    )
    assert [(row["action"], row["outcome"]) for row in rows] == [("signin", "ok"), ("signout", "ok")]
    assert rows[0]["detail"] == {"address": "127.0.0.1"}


async def test_a_refused_sign_in_is_audited_with_the_name_given_and_never_the_token(console: Console) -> None:
    who = unique("Guessing Gus ")
    tried = unique("not-the-token-")
    status, _, _ = await console.browser().request("POST", "/signin", {"token": tried, "who": who})
    assert status == 401
    rows = await console.runtime.pool.fetch("SELECT action, outcome, detail FROM audit_log WHERE who = $1", who)
    assert [(row["action"], row["outcome"]) for row in rows] == [("signin", "wrong token")]
    assert tried not in str(rows[0]["detail"])
    _, audit, _ = await (await console.signed_in()).get("/audit")
    assert 'data-action="signin" data-target="" data-outcome="wrong token"' in audit and who in audit


async def test_static_files_and_health_need_no_session(console: Console) -> None:
    for path, kind in (("/static/console.css", "text/css"), ("/static/console.js", "javascript"), ("/healthz", "json")):
        async with console.http.get(console.url + path) as response:
            assert response.status == 200 and kind in response.content_type, path
