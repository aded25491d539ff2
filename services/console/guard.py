"""Who may see a page or act: the session cookie looked up in PostgreSQL (any console instance's), idle
expiry, and the session's CSRF token on every POST.

Every request a person makes moves the session's last use to now; a live region's refresh
(``?fragment=1``) only looks the session up, so an open tab left alone still ends after the idle time.

Without a session a browser's GET is sent to sign in (303, coming back afterwards); a POST or a live
region's fetch gets 401, since neither can follow a sign-in page. A POST without the right CSRF token
gets 403 and does nothing. A cookie that opens no session counts against the address as a wrong token
does (and is cleared), so the same throttle that guards sign-in (429) also guards guessing cookies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from services.console import store
from services.console.rendering import Renderer
from services.console.sessions import COOKIE_NAME, cookie_is_secure, same_secret, token_digest
from services.console.store import Session
from shared.db import Queryable
from shared.throttle import record_auth_failure, throttled_for

SessionHandler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def is_fragment(request: web.Request) -> bool:
    return request.query.get("fragment") == "1"


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    secure = cookie_is_secure(request.scheme, request.headers.get("X-Forwarded-Proto"))
    response.set_cookie(COOKIE_NAME, token, httponly=True, samesite="Strict", secure=secure, path="/")


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE_NAME, path="/")


class Guard:
    def __init__(self, db: Queryable, renderer: Renderer, idle_seconds: float) -> None:
        self._db = db
        self._renderer = renderer
        self._idle = idle_seconds

    async def session_of(self, request: web.Request) -> Session | None:
        token = request.cookies.get(COOKIE_NAME)
        if not token or len(token) > 200:
            return None
        try:
            digest = token_digest(token)
        except UnicodeEncodeError:
            return None
        if is_fragment(request):
            # The page's live refresh runs for as long as a tab is open: it must not keep the session alive.
            return await store.find_session(self._db, digest, self._idle)
        return await store.touch_session(self._db, digest, self._idle)

    def _refused(self, request: web.Request, status: int, message: str) -> web.Response:
        response = self._renderer.html("refused.html", {"message": message, "signed_in": False}, status=status)
        if status == 401:
            clear_session_cookie(response)
        return response

    async def _checked(self, request: web.Request) -> Session | web.Response:
        """The request's session, or the answer when it may not have one now (429)."""
        wait = throttled_for(request)
        if wait is not None:
            response = self._refused(request, 429, f"Too many failed attempts from here: try again in {wait} s.")
            response.headers["Retry-After"] = str(wait)
            return response
        session = await self.session_of(request)
        if session is None and COOKIE_NAME in request.cookies:
            record_auth_failure(request)
        return session if session is not None else self._refused(request, 401, "Your session is over: sign in again.")

    def page(self, handler: SessionHandler) -> Handler:
        """A GET page: needs a session."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            checked = await self._checked(request)
            if isinstance(checked, Session):
                return await handler(request, checked)
            if checked.status == 401 and not is_fragment(request):
                response = see_other(f"/signin?next={quote(request.path_qs, safe='')}")
                if COOKIE_NAME in request.cookies:
                    clear_session_cookie(response)
                return response
            return checked

        return guarded

    def action(self, handler: SessionHandler) -> Handler:
        """A POST: needs a session and its CSRF token in the form's ``csrf`` field."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            session = await self._checked(request)
            if not isinstance(session, Session):
                return session
            form = await request.post()
            given = form.get("csrf")
            if not isinstance(given, str) or not same_secret(given, session.csrf):
                return self._refused(request, 403, "This form is out of date (CSRF check failed): reload the page.")
            return await handler(request, session)

        return guarded
