"""The ``dropship`` CLI against stand-in services: real HTTP servers on 127.0.0.1 that record what they
receive and answer like the documented API. The CLI is synchronous, so the servers run on their own
event loop in a background thread."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from click.testing import CliRunner, Result

from shared.cli import cli
from shared.cli.catalog import parse_source
from shared.processes import free_port

TOKEN = "test-admin-token"
SERVICES = ("intake", "splitter", "shipstation", "channels")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Received:
    service: str
    method: str
    path: str  # as sent, still percent-encoded
    authorization: str | None
    content_type: str | None
    body: Any


@dataclass
class FakeServices:
    """Stand-in services. ``answer`` sets what a route replies; anything else is a JSON 404."""

    urls: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    answers: dict[tuple[str, str, str], tuple[int, Any]] = field(default_factory=dict)

    def answer(self, service: str, method: str, path: str, status: int, body: Any) -> None:
        self.answers[(service, method, path)] = (status, body)

    def app(self, service: str) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            raw = await request.read()
            body = json.loads(raw) if raw else None
            self.received.append(
                Received(
                    service,
                    request.method,
                    request.raw_path,
                    request.headers.get("Authorization"),
                    request.headers.get("Content-Type"),
                    body,
                )
            )
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return web.json_response({"error": "unauthorized", "detail": "wrong token"}, status=401)
            status, answer = self.answers.get(
                (service, request.method, request.path), (404, {"error": "not_found", "detail": "no such route"})
            )
            if isinstance(answer, str):
                return web.Response(status=status, text=answer, content_type="text/html")
            return web.json_response(answer, status=status)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app

    def env(self, **extra: str | None) -> dict[str, str | None]:
        return {
            "DROPSHIP_INTAKE_URL": self.urls["intake"],
            "DROPSHIP_SPLITTER_URL": self.urls["splitter"],
            "DROPSHIP_SHIPSTATION_URL": self.urls["shipstation"],
            "DROPSHIP_CHANNELS_URL": self.urls["channels"],
            "DROPSHIP_ADMIN_TOKEN": TOKEN,
            **extra,
        }

    def run(self, *args: str, **env: str | None) -> Result:
        return CliRunner().invoke(cli, list(args), env=self.env(**env), catch_exceptions=False)


@pytest.fixture(scope="module")
def servers() -> Iterator[FakeServices]:
    fake = FakeServices()
    loop = asyncio.new_event_loop()
    runners: list[web.AppRunner] = []
    started = threading.Event()

    async def start() -> None:
        for service in SERVICES:
            runner = web.AppRunner(fake.app(service), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            fake.urls[service] = f"http://127.0.0.1:{port}"
            runners.append(runner)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="fake-services", daemon=True)
    thread.start()
    assert started.wait(10), "the stand-in services did not start"
    yield fake

    async def stop() -> None:
        for runner in runners:
            await runner.cleanup()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def fake(servers: FakeServices) -> FakeServices:
    servers.received.clear()
    servers.answers.clear()
    return servers


def only(fake: FakeServices) -> Received:
    assert len(fake.received) == 1, fake.received
    return fake.received[0]


CREDENTIALS = {
    "url": "http://localhost:8003/shipstation/east",
    "username": "east-4f2a",
    "password": "pw-very-secret-0001",
    "status_names": {
        "unpaid": "awaiting-payment",
        "paid": "ready",
        "shipped": "sent",
        "cancelled": "void",
        "on_hold": "parked",
    },
    "timezone": "America/Chicago",
}


# --- shops ------------------------------------------------------------------------------------------


def test_shop_add_reads_secrets_from_files_and_sends_the_shop(fake: FakeServices, tmp_path: Path) -> None:
    token, secret = tmp_path / "token", tmp_path / "whsec"
    token.write_text("shpat_from_file\n")
    secret.write_text("hush\n")
    fake.answer(
        "channels",
        "PUT",
        "/v1/shops/acme",
        201,
        {
            "code": "acme",
            "platform": "shopify",
            "channel": "acme-shopify",
            "base_url": "https://acme.myshopify.com",
            "api_version": "2026-10",
            "push_stock": True,
            "webhooks": {"topics": ["orders/create", "orders/paid"], "error": None},
        },
    )
    result = fake.run(
        "shop",
        "add",
        "acme",
        "--platform",
        "shopify",
        "--channel",
        "acme-shopify",
        "--base-url",
        "https://acme.myshopify.com",
        "--access-token-file",
        str(token),
        "--webhook-secret-file",
        str(secret),
        "--tracking-url",
        "Acme Freight=https://acme.example/t/{number}",
    )
    assert result.exit_code == 0, result.output
    request = only(fake)
    assert (request.service, request.method, request.path) == ("channels", "PUT", "/v1/shops/acme")
    assert request.body == {
        "platform": "shopify",
        "channel": "acme-shopify",
        "base_url": "https://acme.myshopify.com",
        "push_stock": True,
        "access_token": "shpat_from_file",
        "webhook_secret": "hush",
        "options": {"tracking_url_templates": {"Acme Freight": "https://acme.example/t/{number}"}},
    }
    assert "Shop acme created" in result.stdout and "orders/create" in result.stdout
    assert "shpat_from_file" not in result.stdout and "hush" not in result.stdout


def test_shop_add_refuses_a_tracking_url_without_a_carrier(fake: FakeServices) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "shop",
            "add",
            "acme",
            "--platform",
            "shopify",
            "--channel",
            "c",
            "--base-url",
            "https://a.example",
            "--tracking-url",
            "https://acme.example/{number}",
        ],
        env=fake.env(),
    )
    assert result.exit_code != 0 and "CARRIER=URL" in result.output
    assert fake.received == []


def test_shop_tasks_and_retry(fake: FakeServices) -> None:
    fake.answer(
        "channels",
        "GET",
        "/v1/shops/acme/tasks",
        200,
        {
            "tasks": [
                {
                    "seq": 7,
                    "kind": "shipment",
                    "topic": "shipment",
                    "state": "failed",
                    "attempts": 40,
                    "outcome": "gave up",
                    "last_error": "HTTP 503",
                }
            ]
        },
    )
    fake.answer("channels", "POST", "/v1/shops/acme/tasks/7/retry", 202, {"seq": 7, "state": "pending"})
    listed = fake.run("shop", "tasks", "acme", "--state", "failed")
    assert listed.exit_code == 0, listed.output
    assert "HTTP 503" in listed.stdout and fake.received[0].path == "/v1/shops/acme/tasks?state=failed"
    retried = fake.run("shop", "retry", "acme", "7")
    assert retried.exit_code == 0 and "due again" in retried.stdout
    assert fake.received[-1].path == "/v1/shops/acme/tasks/7/retry"


# --- channels ---------------------------------------------------------------------------------------


def test_channel_put_sends_the_body_and_prints_the_secrets_once(fake: FakeServices) -> None:
    fake.answer(
        "intake",
        "PUT",
        "/v1/channels/shop-main",
        201,
        {
            "code": "shop-main",
            "name": "Main shop",
            "webhook_url": "https://shop.example.com/hooks",
            "api_key": "dsk_live_abc",
            "webhook_secret": "whsec_xyz",
        },
    )
    result = fake.run(
        "channel", "put", "shop-main", "--name", "Main shop", "--webhook-url", "https://shop.example.com/hooks"
    )
    assert result.exit_code == 0, result.output
    request = only(fake)
    assert (request.service, request.method, request.path) == ("intake", "PUT", "/v1/channels/shop-main")
    assert request.authorization == f"Bearer {TOKEN}"
    assert request.content_type == "application/json"
    assert request.body == {"name": "Main shop", "webhook_url": "https://shop.example.com/hooks"}
    assert "Channel shop-main created" in result.stdout
    assert "dsk_live_abc" in result.stdout
    assert "whsec_xyz" in result.stdout
    assert "shown once" in result.stdout.lower()


def test_channel_put_update_without_secrets_prints_no_secret_note(fake: FakeServices) -> None:
    fake.answer(
        "intake", "PUT", "/v1/channels/shop-main", 200, {"code": "shop-main", "name": "Main", "webhook_url": None}
    )
    result = fake.run("channel", "put", "shop-main", "--name", "Main", "--webhook-secret", "s" * 20)
    assert result.exit_code == 0, result.output
    assert only(fake).body == {"name": "Main", "webhook_secret": "s" * 20}
    assert "updated" in result.stdout
    assert "shown once" not in result.stdout.lower()


def test_channel_rotate_key(fake: FakeServices) -> None:
    fake.answer("intake", "POST", "/v1/channels/shop-main/key", 200, {"code": "shop-main", "api_key": "dsk_new"})
    result = fake.run("channel", "rotate-key", "shop-main")
    assert result.exit_code == 0, result.output
    request = only(fake)
    assert (request.service, request.method, request.path, request.body) == (
        "intake",
        "POST",
        "/v1/channels/shop-main/key",
        None,
    )
    assert "dsk_new" in result.stdout


# --- vendors and ShipStation ---------------------------------------------------------------------------


def test_vendor_put(fake: FakeServices) -> None:
    fake.answer(
        "splitter",
        "PUT",
        "/v1/vendors/acme",
        201,
        {"code": "acme", "name": "Acme", "kind": "webhook", "settings": {}, "queue": "vendor.acme"},
    )
    result = fake.run("vendor", "put", "acme", "--name", "Acme", "--kind", "webhook")
    assert result.exit_code == 0, result.output
    request = only(fake)
    assert (request.service, request.method, request.path) == ("splitter", "PUT", "/v1/vendors/acme")
    assert request.body == {"name": "Acme", "kind": "webhook"}
    assert "Vendor acme (webhook) created" in result.stdout
    assert "vendor.acme" in result.stdout


def test_vendor_put_refuses_an_unknown_kind_before_calling(fake: FakeServices) -> None:
    result = fake.run("vendor", "put", "acme", "--name", "Acme", "--kind", "fax")
    assert result.exit_code == 2
    assert fake.received == []


def _answer_shipstation_vendor(fake: FakeServices, name: str = "east") -> None:
    fake.answer(
        "splitter",
        "PUT",
        "/v1/vendors/east",
        201,
        {"code": "east", "name": name, "kind": "shipstation", "settings": {}, "queue": "vendor.east"},
    )
    fake.answer("shipstation", "POST", "/v1/shipstation/east/credentials", 201, CREDENTIALS)


def test_add_shipstation_creates_configures_and_prints_what_to_paste(fake: FakeServices) -> None:
    _answer_shipstation_vendor(fake, "East warehouse")
    fake.answer(
        "shipstation",
        "PUT",
        "/v1/shipstation/east/settings",
        200,
        {"vendor": "east", "timezone": "America/Chicago", "lookback_minutes": 30, "page_size": 100},
    )
    result = fake.run(
        "vendor",
        "add-shipstation",
        "east",
        "--name",
        "East warehouse",
        "--timezone",
        "America/Chicago",
        "--lookback-minutes",
        "30",
    )
    assert result.exit_code == 0, result.output
    calls = [(r.service, r.method, r.path, r.body) for r in fake.received]
    assert calls == [
        ("splitter", "PUT", "/v1/vendors/east", {"name": "East warehouse", "kind": "shipstation"}),
        (
            "shipstation",
            "PUT",
            "/v1/shipstation/east/settings",
            {"timezone": "America/Chicago", "lookback_minutes": 30},
        ),
        ("shipstation", "POST", "/v1/shipstation/east/credentials", None),
    ]
    assert all(r.authorization == f"Bearer {TOKEN}" for r in fake.received)
    out = result.stdout
    assert "URL:       http://localhost:8003/shipstation/east" in out
    assert "Username:  east-4f2a" in out
    assert "Password:  pw-very-secret-0001" in out
    for label, value in [
        ("Unpaid:", "awaiting-payment"),
        ("Paid:", "ready"),
        ("Shipped:", "sent"),
        ("Cancelled:", "void"),
        ("On-Hold:", "parked"),
    ]:
        assert any(line.strip().startswith(label) and line.strip().endswith(value) for line in out.splitlines()), label
    assert "America/Chicago" in out
    assert "shown once" in out.lower()


def test_add_shipstation_without_settings_skips_the_settings_call_and_names_after_the_code(
    fake: FakeServices,
) -> None:
    _answer_shipstation_vendor(fake)
    result = fake.run("vendor", "add-shipstation", "east")
    assert result.exit_code == 0, result.output
    calls = [(r.service, r.method, r.path, r.body) for r in fake.received]
    assert calls == [
        ("splitter", "PUT", "/v1/vendors/east", {"name": "east", "kind": "shipstation"}),
        ("shipstation", "POST", "/v1/shipstation/east/credentials", None),
    ]


def test_add_shipstation_as_json(fake: FakeServices) -> None:
    _answer_shipstation_vendor(fake)
    result = fake.run("--json", "vendor", "add-shipstation", "east")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["credentials"] == CREDENTIALS
    assert printed["vendor"]["kind"] == "shipstation"
    assert printed["settings"] is None


def test_add_shipstation_stops_at_the_first_error(fake: FakeServices) -> None:
    fake.answer(
        "splitter",
        "PUT",
        "/v1/vendors/east",
        400,
        {"error": "invalid_code", "detail": "a vendor code is 1-50 of a-z, 0-9, '-' and '_'"},
    )
    result = fake.run("vendor", "add-shipstation", "east")
    assert result.exit_code == 1
    assert len(fake.received) == 1
    assert "invalid_code" in result.stderr


def test_rotate_credentials(fake: FakeServices) -> None:
    fake.answer("shipstation", "POST", "/v1/shipstation/east/credentials", 201, CREDENTIALS)
    result = fake.run("vendor", "rotate-credentials", "east")
    assert result.exit_code == 0, result.output
    assert only(fake).path == "/v1/shipstation/east/credentials"
    assert "pw-very-secret-0001" in result.stdout
    assert "On-Hold:" in result.stdout


SETTINGS = {
    "vendor": "east",
    "username": "east-4f2a",
    "timezone": "UTC",
    "status_names": {"unpaid": "unpaid", "paid": "paid", "shipped": "shipped", "cancelled": "cancelled"},
    "page_size": 100,
    "lookback_minutes": 0,
    "zone_warning": "ShipStation seems to use UTC-6",
    "zone_warning_at": "2026-11-27T05:41:00+00:00",
}


def test_shipstation_settings_without_options_reads(fake: FakeServices) -> None:
    fake.answer("shipstation", "GET", "/v1/shipstation/east/settings", 200, SETTINGS)
    result = fake.run("shipstation", "settings", "east")
    assert result.exit_code == 0, result.output
    request = only(fake)
    assert (request.method, request.path, request.body) == ("GET", "/v1/shipstation/east/settings", None)
    assert "UTC" in result.stdout
    assert "On-Hold status:" in result.stdout
    assert "ShipStation seems to use UTC-6" in result.stdout


def test_shipstation_settings_with_options_writes(fake: FakeServices) -> None:
    fake.answer("shipstation", "PUT", "/v1/shipstation/east/settings", 200, SETTINGS)
    result = fake.run(
        "shipstation",
        "settings",
        "east",
        "--page-size",
        "50",
        "--status",
        "On-Hold=Hold",
        "--status",
        "paid=Ready to ship",
    )
    assert result.exit_code == 0, result.output
    request = only(fake)
    assert (request.method, request.path) == ("PUT", "/v1/shipstation/east/settings")
    assert request.body == {"page_size": 50, "status_names": {"on_hold": "Hold", "paid": "Ready to ship"}}


def test_shipstation_settings_refuses_an_unknown_status(fake: FakeServices) -> None:
    result = fake.run("shipstation", "settings", "east", "--status", "lost=Gone")
    assert result.exit_code == 2
    assert "unknown status" in result.output
    assert fake.received == []


def test_shipstation_problems_and_polls(fake: FakeServices) -> None:
    fake.answer(
        "shipstation",
        "GET",
        "/v1/shipstation/east/problems",
        200,
        {
            "vendor": "east",
            "problems": [
                {
                    "id": 1,
                    "kind": "unknown_order",
                    "vendor_order_id": "99",
                    "detail": "ship notice for unknown order",
                    "occurred_at": "2026-11-27T05:41:00+00:00",
                }
            ],
        },
    )
    fake.answer("shipstation", "GET", "/v1/shipstation/east/polls", 200, {"vendor": "east", "polls": []})
    problems = fake.run("shipstation", "problems", "east")
    assert problems.exit_code == 0, problems.output
    assert "unknown_order" in problems.stdout
    assert "ship notice for unknown order" in problems.stdout
    polls = fake.run("shipstation", "polls", "east")
    assert polls.exit_code == 0, polls.output
    assert "has not called" in polls.stdout
    assert [r.path for r in fake.received] == ["/v1/shipstation/east/problems", "/v1/shipstation/east/polls"]


# --- catalog ---------------------------------------------------------------------------------------


def test_parse_source() -> None:
    assert parse_source("east") == {"vendor": "east"}
    assert parse_source("east:1:40:7.10:TS-R-M") == {
        "vendor": "east",
        "priority": 1,
        "stock": 40,
        "cost": "7.10",
        "vendor_sku": "TS-R-M",
    }
    assert parse_source("west::5") == {"vendor": "west", "stock": 5}
    assert parse_source("west::::A:B") == {"vendor": "west", "vendor_sku": "A:B"}


def test_catalog_put(fake: FakeServices) -> None:
    entry = {
        "sku": "TS R/M",
        "name": "T-shirt",
        "updated_at": "2026-11-27T05:41:00+00:00",
        "sources": [
            {"vendor": "east", "vendor_sku": "TS-R-M", "cost": "7.10", "stock": 40, "priority": 1},
            {"vendor": "west", "vendor_sku": None, "cost": None, "stock": None, "priority": 100},
        ],
        "released_vendor_orders": 2,
    }
    fake.answer("splitter", "PUT", "/v1/catalog/TS R/M", 200, entry)
    result = fake.run(
        "catalog", "put", "TS R/M", "--name", "T-shirt", "--source", "east:1:40:7.10:TS-R-M", "--source", "west"
    )
    assert result.exit_code == 0, result.output
    request = only(fake)
    assert (request.service, request.method) == ("splitter", "PUT")
    assert request.path == "/v1/catalog/TS%20R%2FM"  # a slash in a SKU cannot change the route
    assert request.body == {
        "name": "T-shirt",
        "sources": [
            {"vendor": "east", "priority": 1, "stock": 40, "cost": "7.10", "vendor_sku": "TS-R-M"},
            {"vendor": "west"},
        ],
    }
    assert "TS-R-M" in result.stdout
    assert "Released 2" in result.stdout


def test_catalog_put_needs_a_source_and_a_valid_one(fake: FakeServices) -> None:
    assert fake.run("catalog", "put", "SKU1").exit_code == 2
    bad = fake.run("catalog", "put", "SKU1", "--source", "east:1:2:cheap")
    assert bad.exit_code == 2
    assert "cost" in bad.output
    assert fake.received == []


def test_catalog_get(fake: FakeServices) -> None:
    fake.answer("splitter", "GET", "/v1/catalog/SKU1", 200, {"sku": "SKU1", "name": None, "sources": []})
    result = fake.run("catalog", "get", "SKU1")
    assert result.exit_code == 0, result.output
    assert only(fake).path == "/v1/catalog/SKU1"
    assert "no source" in result.stdout


# --- orders ----------------------------------------------------------------------------------------


ORDER = {
    "id": "ord_1",
    "channel": "shop-main",
    "external_id": "5521",
    "order_number": "1001",
    "status": "partially_shipped",
    "hold_reason": None,
    "lines": [{"line_id": "L1", "sku": "TSHIRT-RED-M", "name": "T-shirt", "quantity": 2, "unit_price": "19.75"}],
    "split": {
        "state": "routed",
        "vendor_orders": [{"vendor_order_number": "1001-1", "vendor": "east", "status": "partially_shipped"}],
    },
    "shipments": [
        {"vendor": "east", "carrier": "UPS", "service": "Ground", "tracking_number": "1Z999", "ship_date": "2026-11-28"}
    ],
}


def test_order_get(fake: FakeServices) -> None:
    fake.answer("intake", "GET", "/v1/orders/ord_1", 200, ORDER)
    result = fake.run("order", "get", "ord_1")
    assert result.exit_code == 0, result.output
    request = only(fake)
    assert (request.service, request.method, request.authorization) == ("intake", "GET", f"Bearer {TOKEN}")
    for text in ("partially_shipped", "TSHIRT-RED-M", "1001-1", "1Z999"):
        assert text in result.stdout


def test_order_get_as_json_prints_the_answer(fake: FakeServices) -> None:
    fake.answer("intake", "GET", "/v1/orders/ord_1", 200, ORDER)
    result = fake.run("--json", "order", "get", "ord_1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == ORDER


def test_order_cancel_with_and_without_reason(fake: FakeServices) -> None:
    fake.answer("intake", "POST", "/v1/orders/ord_1/cancel", 202, {**ORDER, "status": "cancelled"})
    result = fake.run("order", "cancel", "ord_1", "--reason", "customer asked")
    assert result.exit_code == 0, result.output
    assert "cancelled" in result.stdout
    assert fake.run("order", "cancel", "ord_1").exit_code == 0
    assert [(r.method, r.path, r.body) for r in fake.received] == [
        ("POST", "/v1/orders/ord_1/cancel", {"reason": "customer asked"}),
        ("POST", "/v1/orders/ord_1/cancel", None),
    ]


def test_order_routing(fake: FakeServices) -> None:
    fake.answer(
        "splitter",
        "GET",
        "/v1/orders/ord_1/routing",
        200,
        {
            "order_id": "ord_1",
            "order_number": "1001",
            "state": "routed",
            "hold_reason": None,
            "decisions": [
                {"line_id": "L1", "sku": "TSHIRT-RED-M", "quantity": 2, "vendor": "east", "reason": "priority 1"}
            ],
            "vendor_orders": [{"vendor_order_number": "1001-1", "vendor": "east", "status": "open"}],
        },
    )
    result = fake.run("order", "routing", "ord_1")
    assert result.exit_code == 0, result.output
    assert only(fake).service == "splitter"
    assert "priority 1" in result.stdout


# --- errors ----------------------------------------------------------------------------------------


def test_a_422_prints_error_detail_and_fields_on_one_stderr_line(fake: FakeServices) -> None:
    fake.answer(
        "splitter",
        "PUT",
        "/v1/catalog/SKU1",
        422,
        {
            "error": "invalid",
            "detail": "unknown vendor(s): nowhere",
            "fields": {"sources.0.vendor": "unknown vendor", "name": "String should have at most 200 characters"},
        },
    )
    result = fake.run("catalog", "put", "SKU1", "--source", "nowhere")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    for text in (
        "422",
        "invalid",
        "unknown vendor(s): nowhere",
        "sources.0.vendor: unknown vendor",
        "name: String should have at most 200 characters",
    ):
        assert text in line, line


def test_a_non_json_error_is_still_one_line(fake: FakeServices) -> None:
    fake.answer("intake", "GET", "/v1/orders/ord_1", 502, "<html>\n<body>Bad Gateway</body>\n</html>")
    result = fake.run("order", "get", "ord_1")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "502" in result.stderr
    assert "Bad Gateway" in result.stderr


def test_a_wrong_token_shows_the_401(fake: FakeServices) -> None:
    result = fake.run("order", "get", "ord_1", DROPSHIP_ADMIN_TOKEN="wrong")
    assert result.exit_code == 1
    assert "401" in result.stderr
    assert "unauthorized" in result.stderr


def test_the_token_comes_from_the_file_when_the_environment_has_none(fake: FakeServices, tmp_path: Path) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN + "\n")
    fake.answer("intake", "GET", "/v1/orders/ord_1", 200, ORDER)
    result = fake.run("order", "get", "ord_1", DROPSHIP_ADMIN_TOKEN=None, DROPSHIP_ADMIN_TOKEN_FILE=str(token_file))
    assert result.exit_code == 0, result.output
    assert only(fake).authorization == f"Bearer {TOKEN}"


def test_no_token_anywhere_is_a_clear_error(fake: FakeServices, tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    result = fake.run("order", "get", "ord_1", DROPSHIP_ADMIN_TOKEN=None, DROPSHIP_ADMIN_TOKEN_FILE=str(missing))
    assert result.exit_code == 1
    assert "DROPSHIP_ADMIN_TOKEN" in result.stderr
    assert str(missing) in result.stderr
    assert fake.received == []


def test_connection_refused_names_the_url_and_says_how_to_start(fake: FakeServices) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = fake.run("vendor", "put", "acme", "--name", "Acme", "--kind", "webhook", DROPSHIP_SPLITTER_URL=url)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert url in lines[0]
    assert "is the service running? (make run)" in lines[0]


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for group in ("channel", "vendor", "shipstation", "catalog", "order"):
        assert group in done.stdout


def test_bad_settings_are_one_line_not_a_traceback(fake: FakeServices) -> None:
    result = fake.run("order", "get", "ord_1", DROPSHIP_INTAKE_PORT="eighty")
    assert result.exit_code == 1
    assert "DROPSHIP_INTAKE_PORT" in result.stderr
    assert "Traceback" not in result.output
