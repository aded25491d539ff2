"""The console's routes: sign-in and sign-out, the pages, and the actions. Thin: each route checks the
session (:mod:`services.console.guard`), calls one use case and renders its template."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from services.console import store
from services.console.guard import Guard, clear_session_cookie, is_fragment, see_other, set_session_cookie
from services.console.ports import ConsolePorts
from services.console.rendering import STATIC, Renderer
from services.console.sessions import clean_who, new_token, safe_next, same_secret, token_digest
from services.console.store import Session
from services.console.use_cases import actions, pages
from services.console.use_cases.actions import Outcome
from services.console.use_cases.overview import overview
from services.console.views import ORDER_STATUSES
from shared.http import ADMIN_TOKEN_KEY
from shared.throttle import client_address, record_auth_failure, throttled_for

Form = MultiDictProxy[Any]


def _text(form: Form, name: str, limit: int = 500) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def overrides_of(form: Mapping[str, Any]) -> dict[str, str]:
    """Per-line vendors from ``override.<line_id>`` fields and a free ``overrides`` field (``L1=east, L2=west``)."""
    chosen: dict[str, str] = {}
    for key, value in form.items():
        if key.startswith("override.") and isinstance(value, str) and value.strip():
            chosen[key.removeprefix("override.")] = value.strip()
    free = form.get("overrides")
    for pair in (free or "").replace("\n", ",").split(",") if isinstance(free, str) else ():
        line, sep, vendor = pair.partition("=")
        if sep and line.strip() and vendor.strip():
            chosen[line.strip()] = vendor.strip()
    return chosen


class ConsoleApi:
    def __init__(self, ports: ConsolePorts, renderer: Renderer) -> None:
        self.ports = ports
        self.renderer = renderer
        self.guard = Guard(ports.pool, renderer, ports.settings.console_session_idle_seconds)

    def routes(self) -> list[web.AbstractRouteDef]:
        page, action = self.guard.page, self.guard.action
        return [
            web.get("/signin", self.signin_form),
            web.post("/signin", self.signin),
            web.post("/signout", action(self.signout)),
            web.get("/", page(self.overview)),
            web.get("/orders", page(self.orders)),
            web.get("/orders/{order_id}", page(self.order)),
            web.get("/holds", page(self.holds)),
            web.post("/holds/{order_id}/release", action(self.release)),
            web.post("/holds/{order_id}/cancel", action(self.cancel)),
            web.get("/parked", page(self.parked)),
            web.post("/parked/{queue}/replay", action(self.replay)),
            web.post("/parked/{queue}/discard", action(self.discard)),
            web.get("/vendors", page(self.vendors)),
            web.get("/vendors/{code}", page(self.vendor)),
            web.post("/vendors/{code}/feeds/{feed_id}/accept", action(self.accept_feed)),
            web.post("/vendors/{code}/orders/{vendor_order_id}/acknowledgement", action(self.acknowledge)),
            web.post("/vendors/{code}/orders/{vendor_order_id}/shipment", action(self.ship)),
            web.get("/channels", page(self.channels)),
            web.get("/audit", page(self.audit)),
            web.static("/static", STATIC),
        ]

    def _render(
        self,
        request: web.Request,
        session: Session,
        template: str,
        context: dict[str, Any],
        outcome: Outcome | None = None,
    ) -> web.Response:
        values = {"session": session, "csrf": session.csrf, "outcome": outcome, **context}
        status = outcome.status if outcome is not None else 200
        return self.renderer.html(template, values, fragment=is_fragment(request), status=status)

    def _page(
        self, request: web.Request, session: Session, template: str, page: pages.Page, outcome: Outcome | None = None
    ) -> web.Response:
        return self._render(request, session, template, {**page.data, "problems": page.problems}, outcome)

    # -- signing in and out

    async def signin_form(self, request: web.Request) -> web.Response:
        return self._signin_page(request, None, 200)

    def _signin_page(self, request: web.Request, message: str | None, status: int) -> web.Response:
        target = safe_next(request.query.get("next"))
        response = self.renderer.html("signin.html", {"message": message, "next": target}, status=status)
        if status == 429:
            response.headers["Retry-After"] = str(throttled_for(request) or 1)
        return response

    async def signin(self, request: web.Request) -> web.StreamResponse:
        wait = throttled_for(request)
        if wait is not None:
            return self._signin_page(request, f"Too many failed sign-ins from here: try again in {wait} s.", 429)
        form = await request.post()
        who = clean_who(_text(form, "who", 200))
        if not same_secret(_text(form, "token", 1000), request.app[ADMIN_TOKEN_KEY]):
            record_auth_failure(request)
            await actions.signin_refused(self.ports, who, client_address(request), "wrong token")
            return self._signin_page(request, "Wrong token.", 401)
        if who is None:
            return self._signin_page(request, "Say who you are (a name of up to 100 characters).", 400)
        token, csrf = new_token(), new_token()
        await store.create_session(self.ports.pool, token_digest(token), who, csrf, client_address(request))
        await actions.signed_in(self.ports, who, client_address(request))
        response = see_other(safe_next(_text(form, "next", 2000) or None))
        set_session_cookie(request, response, token)
        return response

    async def signout(self, request: web.Request, session: Session) -> web.StreamResponse:
        await store.delete_session(self.ports.pool, session.token_sha256)
        await actions.audit(self.ports, session.who, "signout", "", {}, Outcome(True, ""))
        response = see_other("/signin")
        clear_session_cookie(response)
        return response

    # -- pages

    async def overview(self, request: web.Request, session: Session) -> web.Response:
        return self._render(request, session, "overview.html", {"view": await overview(self.ports)})

    async def orders(self, request: web.Request, session: Session) -> web.Response:
        query = {name: request.query.get(name, "").strip()[:200] for name in ("status", "channel", "q", "cursor")}
        page = await pages.search_orders(self.ports, **query)
        page.data.update(query=query, statuses=ORDER_STATUSES)
        return self._page(request, session, "orders.html", page)

    async def order(self, request: web.Request, session: Session) -> web.Response:
        order_id = request.match_info["order_id"]
        page = await pages.order_detail(self.ports, order_id)
        page.data["order_id"] = order_id
        return self._page(request, session, "order.html", page)

    async def holds(self, request: web.Request, session: Session, outcome: Outcome | None = None) -> web.Response:
        return self._page(request, session, "holds.html", await pages.holds(self.ports), outcome)

    async def parked(self, request: web.Request, session: Session, outcome: Outcome | None = None) -> web.Response:
        return self._page(request, session, "parked.html", await pages.parked(self.ports), outcome)

    async def vendors(self, request: web.Request, session: Session) -> web.Response:
        return self._page(request, session, "vendors.html", await pages.vendors(self.ports))

    async def vendor(self, request: web.Request, session: Session, outcome: Outcome | None = None) -> web.Response:
        code = request.match_info["code"]
        page = await pages.vendor_detail(self.ports, code)
        page.data["code"] = code
        return self._page(request, session, "vendor.html", page, outcome)

    async def channels(self, request: web.Request, session: Session) -> web.Response:
        return self._page(request, session, "channels.html", await pages.channels(self.ports))

    async def audit(self, request: web.Request, session: Session) -> web.Response:
        entries = await store.latest_audit(self.ports.pool)
        return self._render(request, session, "audit.html", {"entries": entries})

    # -- actions: each renders the page it was taken from, with its outcome

    async def release(self, request: web.Request, session: Session) -> web.Response:
        overrides = overrides_of(await request.post())
        done = await actions.release(self.ports, session.who, request.match_info["order_id"], overrides)
        return await self.holds(request, session, done)

    async def cancel(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        done = await actions.cancel(self.ports, session.who, request.match_info["order_id"], _text(form, "reason"))
        return await self.holds(request, session, done)

    async def replay(self, request: web.Request, session: Session) -> web.Response:
        message_id = _text(await request.post(), "message_id", 200) or None
        done = await actions.replay(self.ports, session.who, request.match_info["queue"], message_id)
        return await self.parked(request, session, done)

    async def discard(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        queue, message_id = request.match_info["queue"], _text(form, "message_id", 200) or None
        if form.get("confirm") != "yes":
            # A discard is for good: it asks first, and only the confirming form carries confirm=yes.
            context = {"queue": queue, "message_id": message_id}
            return self._render(request, session, "confirm_discard.html", context)
        done = await actions.discard(self.ports, session.who, queue, message_id)
        return await self.parked(request, session, done)

    async def accept_feed(self, request: web.Request, session: Session) -> web.Response:
        done = await actions.accept_feed(self.ports, session.who, request.match_info["feed_id"])
        return await self.vendor(request, session, done)

    async def acknowledge(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        lines = []
        for line_id in _text(form, "line_ids", 2000).replace(",", " ").split():
            status = _text(form, f"status.{line_id}", 20) or _text(form, "status", 20) or "accepted"
            lines.append({"line_id": line_id, "status": status})
        done = await actions.acknowledge(self.ports, session.who, request.match_info["vendor_order_id"], lines)
        return await self.vendor(request, session, done)

    async def ship(self, request: web.Request, session: Session) -> web.Response:
        form = await request.post()
        shipment = {
            name: value
            for name in ("carrier", "service", "tracking_number", "ship_date")
            if (value := _text(form, name))
        }
        done = await actions.ship(self.ports, session.who, request.match_info["vendor_order_id"], shipment)
        return await self.vendor(request, session, done)
