"""Session and CSRF helpers, the override form, the page templates (escaped, with the ids browser tests
find) and the OpenAPI document's session security."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from multidict import MultiDict
from pydantic import ValidationError

from services.console import sessions
from services.console.http import overrides_of
from services.console.openapi import document
from services.console.rendering import Renderer
from services.console.settings import ConsoleSettings
from services.console.use_cases.overview import Overview
from services.console.views import Figure, QueueRow


def test_tokens_are_random_and_only_their_digest_is_kept() -> None:
    first, second = sessions.new_token(), sessions.new_token()
    assert first != second and len(first) >= 43
    assert sessions.token_digest(first) == sessions.token_digest(first) != sessions.token_digest(second)
    assert len(sessions.token_digest(first)) == 64 and first not in sessions.token_digest(first)


def test_csrf_tokens_compare_exactly() -> None:
    assert sessions.same_secret("abc", "abc")
    assert not sessions.same_secret("abd", "abc")
    assert not sessions.same_secret(None, "abc") and not sessions.same_secret("", "abc")
    assert not sessions.same_secret("\udcff", "abc")


def test_a_session_is_over_after_8_idle_hours_unless_set_otherwise_within_the_purges_limit() -> None:
    assert ConsoleSettings().console_session_idle_seconds == 28800 == sessions.DEFAULT_IDLE_SECONDS
    assert ConsoleSettings(console_session_idle_seconds=60).console_session_idle_seconds == 60
    # The purge forgets sessions idle for the longest time an instance may have: no setting outlasts it.
    assert sessions.MAX_IDLE_SECONDS >= sessions.DEFAULT_IDLE_SECONDS
    for beyond in (sessions.MAX_IDLE_SECONDS + 1, 0):
        with pytest.raises(ValidationError):
            ConsoleSettings(console_session_idle_seconds=beyond)


def test_the_cookie_is_secure_behind_https() -> None:
    assert sessions.cookie_is_secure("https", None)
    assert sessions.cookie_is_secure("http", "https")
    assert sessions.cookie_is_secure("http", "HTTPS, http")
    assert not sessions.cookie_is_secure("http", None) and not sessions.cookie_is_secure("http", "http")


def test_after_sign_in_only_a_path_of_this_console() -> None:
    assert sessions.safe_next("/holds?x=1") == "/holds?x=1"
    for bad in (None, "", "holds", "//evil.example/", "https://evil.example/", "/\\evil", "/signin?next=/"):
        assert sessions.safe_next(bad) == "/", bad


def test_the_name_given_at_sign_in() -> None:
    assert sessions.clean_who("  Sam   Ops ") == "Sam Ops"
    assert sessions.clean_who("") is None and sessions.clean_who(None) is None
    assert sessions.clean_who("x" * 101) is None and sessions.clean_who("a\x07b") is None


def test_overrides_from_per_line_fields_and_the_free_field() -> None:
    form = MultiDict({"override.L1": " east ", "override.L2": "", "overrides": "L3=west, bad, L4 = north", "csrf": "t"})
    assert overrides_of(form) == {"L1": "east", "L3": "west", "L4": "north"}


def _overview(problem: str | None = None) -> Overview:
    return Overview(
        now=datetime(2026, 1, 1, tzinfo=UTC),
        queues=[
            QueueRow("vendor.east", 2, 0, 3, ("no consumer", "3 parked")),
            QueueRow("vendor.gone", None, None, None, ("missing",)),
        ],
        queues_problem=None,
        rate=Figure(1),
        today={"held": Figure(4)},
        orders_problem=problem,
        holds=[],
        holds_problem=None,
        oldest_webhook_seconds=None,
        webhook_problem=None,
        polls=[],
        polls_problem=None,
        failed_deliveries=[],
        deliveries_problem=None,
    )


def test_the_overview_template_escapes_and_marks_rows_for_browser_tests() -> None:
    renderer = Renderer(
        {"management_url": None, "refresh_ms": 5000, "session": None, "csrf": "", "outcome": None, "problems": []}
    )
    page = renderer.html("overview.html", {"view": _overview("intake answered 500 <script>alert(1)</script>")})
    html = page.text or ""
    assert 'data-queue="vendor.east" data-messages="2" data-consumers="0" data-parked="3"' in html
    assert 'data-queue="vendor.gone" data-messages="" data-consumers="" data-parked=""' in html
    assert 'data-warning="3 parked"' in html and 'data-status="held" data-count="4"' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (
        page.headers["Cache-Control"] == "no-store"
        and "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    )
    fragment = renderer.html("overview.html", {"view": _overview()}, fragment=True).text or ""
    assert 'data-queue="vendor.east"' in fragment and "<html" not in fragment and "<nav" not in fragment


def test_every_page_and_action_needs_the_session_in_the_openapi_document() -> None:
    built = document()
    assert built["components"]["securitySchemes"]["consoleSession"]["in"] == "cookie"
    for path, methods in built["paths"].items():
        for method, operation in methods.items():
            public = path in ("/signin", "/healthz", "/readyz", "/metrics", "/openapi.json")
            assert (operation["security"] == []) == public, (method, path)
