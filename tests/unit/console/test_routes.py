"""The console's routes are exactly those its access tests cover (tests/console_routes.py): a route added
to the router without being listed there fails here, before it can go unguarded."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import cast

from aiohttp import web

from services.console.http import ConsoleApi
from services.console.ports import ConsolePorts
from services.console.rendering import Renderer
from services.console.settings import ConsoleSettings
from tests.console_routes import ACTIONS, PAGES, PUBLIC, STATIC_PREFIX


def _registered() -> tuple[set[tuple[str, str]], set[str]]:
    ports = cast(ConsolePorts, SimpleNamespace(pool=None, settings=ConsoleSettings()))
    routes, static = set(), set()
    for route in ConsoleApi(ports, Renderer({})).routes():
        if isinstance(route, web.RouteDef):
            routes.add((route.method, route.path))
        elif isinstance(route, web.StaticDef):
            static.add(route.prefix)
        else:  # pragma: no cover - a kind of route this test does not know: it must learn it first
            raise AssertionError(route)
    return routes, static


def test_every_registered_route_is_a_covered_page_action_or_public_route() -> None:
    routes, static = _registered()
    covered = {("GET", path) for path in PAGES} | {("POST", path) for path in ACTIONS} | PUBLIC
    assert routes == covered, {"not covered": routes - covered, "not registered": covered - routes}
    assert static == {STATIC_PREFIX}


def test_each_covered_path_is_requested_through_its_own_route() -> None:
    for pattern, example in {**PAGES, **ACTIONS}.items():
        expression = re.sub(r"\{[a-z_]+\}", "[^/]+", pattern)
        assert re.fullmatch(expression, example), (pattern, example)
        # …and no other route of the same method takes it first.
        for other in PAGES if pattern in PAGES else ACTIONS:
            if other != pattern and "{" not in other:
                assert other != example, (pattern, example)
