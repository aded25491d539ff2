"""What the console's integration tests share: the console running in-process beside the four services
of the session's ``system`` (module scope), with the gateway and channels services not running (their
URLs point at closed ports, so their panels must say so), more console instances on request, and a
browser stand-in that keeps the session cookie and the page's CSRF token.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from services.console.app import SERVICE as CONSOLE
from services.console.sessions import COOKIE_NAME
from services.console.settings import ConsoleSettings
from shared.processes import free_port
from shared.service import Runtime, running_service
from tests.conftest import RunningSystem

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Browser:
    """Requests as a browser makes them: no redirects followed, the session cookie sent by hand (so one
    cookie can be shown to another console instance)."""

    http: aiohttp.ClientSession
    url: str
    cookie: str | None = None
    csrf: str | None = None

    async def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, Any]:
        headers = {"Cookie": f"{COOKIE_NAME}={self.cookie}"} if self.cookie else {}
        async with self.http.request(
            method, self.url + path, data=form, headers=headers, allow_redirects=False
        ) as response:
            text = await response.text()
            found = CSRF.search(text)
            if found:
                self.csrf = found.group(1)
            return response.status, text, response

    async def get(self, path: str) -> tuple[int, str, Any]:
        return await self.request("GET", path)

    async def post(self, path: str, form: dict[str, str] | None = None, *, csrf: bool = True) -> tuple[int, str, Any]:
        fields = dict(form or {})
        if csrf and self.csrf:
            fields.setdefault("csrf", self.csrf)
        return await self.request("POST", path, fields)

    async def sign_in(self, token: str, who: str = "Ops Person", next_path: str = "/") -> int:
        status, _, response = await self.request("POST", "/signin", {"token": token, "who": who, "next": next_path})
        morsel = response.cookies.get(COOKIE_NAME)
        if status == 303 and morsel is not None:
            self.cookie = morsel.value
            await self.get("/")  # the CSRF token of the session, as a page carries it
        return int(status)

    def on(self, url: str) -> Browser:
        """The same session, shown to another console instance."""
        return Browser(self.http, url, self.cookie, self.csrf)


@dataclass
class Console:
    runtime: Runtime
    url: str
    system: RunningSystem
    http: aiohttp.ClientSession

    def browser(self) -> Browser:
        return Browser(self.http, self.url)

    async def signed_in(self, who: str = "Ops Person") -> Browser:
        browser = self.browser()
        assert await browser.sign_in(self.system.env.admin_token, who) == 303
        assert browser.cookie and browser.csrf
        return browser

    @contextlib.asynccontextmanager
    async def another(self, **overrides: Any) -> AsyncIterator[str]:
        """Another console instance on the same database and broker; answers its URL."""
        port = free_port()
        settings = console_settings(self.system, port, **overrides)
        async with running_service(CONSOLE, settings):
            yield f"http://127.0.0.1:{port}"


def console_settings(system: RunningSystem, port: int, **overrides: Any) -> ConsoleSettings:
    closed = f"http://127.0.0.1:{free_port()}"
    values: dict[str, Any] = {
        "console_port": port,
        "intake_port": system.intake.port,
        "splitter_port": system.splitter.port,
        "shipstation_port": system.shipstation.port,
        "tracking_port": system.tracking.port,
        "gateway_url": closed,
        "channels_url": closed,
        "console_refresh_seconds": 0.5,
        "console_call_timeout_seconds": 2.0,
        "console_rabbitmq_management_url": "http://127.0.0.1:15672/",
        # Every test comes from 127.0.0.1, and unknown cookies count as failures: the throttle is tested
        # on an instance of its own.
        "auth_failure_limit": 200,
        **overrides,
    }
    settings = system.env.settings(ConsoleSettings, **values)
    assert isinstance(settings, ConsoleSettings)
    return settings


@pytest.fixture(scope="module")
async def console(system: RunningSystem) -> AsyncIterator[Console]:
    port = free_port()
    async with (
        running_service(CONSOLE, console_settings(system, port)) as runtime,
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
    ):
        yield Console(runtime, f"http://127.0.0.1:{port}", system, http)
