"""The gateway's ``dropship`` commands against the real gateway (in this process, beside the other four
services) and real vendor endpoints on loopback: a webhook receiver that verifies signatures and an SFTP
server. The CLI runs as its own process, as a person runs it, with the gateway's URL and the admin token
in its environment.

Checked: connecting a vendor by webhook (secret from a file, or generated and shown once), by SFTP
(password from stdin) and by e-mail; the once-only API key works and a new one replaces it; the check
reaches the vendor; deliveries list and retry; ops' stock feed reaches the splitter; secrets never
appear in what the commands print; mistakes are refused before any call, or in one readable line."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from services.gateway.app import SERVICE as GATEWAY
from services.gateway.settings import GatewaySettings
from shared.processes import free_port
from shared.service import running_service
from tests.conftest import RunningSystem, remove_vendor_queues
from tests.gateway_servers import SftpServer, WebhookReceiver
from tests.support import order_payload, unique, wait_until

ROOT = Path(__file__).resolve().parents[2]
DELIVERY_ATTEMPTS = 2
API_KEY = re.compile(r"Vendor API key[^:]*: (dsv_\S+)")


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


@dataclass
class Cli:
    system: RunningSystem
    gateway_url: str
    vendors: list[str] = field(default_factory=list)

    async def run(self, *args: str, stdin: str = "") -> Ran:
        env = {key: value for key, value in os.environ.items() if not key.startswith("DROPSHIP_")}
        env |= {
            "DROPSHIP_GATEWAY_URL": self.gateway_url,
            "DROPSHIP_SPLITTER_URL": self.system.url("splitter"),
            "DROPSHIP_ADMIN_TOKEN": self.system.api.admin_token,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "shared.cli",
            *args,
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
        assert process.returncode is not None
        return Ran(process.returncode, out.decode(), err.decode())

    async def ok(self, *args: str, stdin: str = "") -> str:
        ran = await self.run(*args, stdin=stdin)
        assert ran.code == 0, f"dropship {' '.join(args)} exited {ran.code}: {ran.stdout}{ran.stderr}"
        return ran.stdout

    async def vendor(self, kind: str, **fields: Any) -> str:
        code = unique("cli-")
        await self.system.api.ok("PUT", "splitter", f"/v1/vendors/{code}", {"name": code, "kind": kind, **fields})
        self.vendors.append(code)
        return code


@pytest.fixture(scope="module")
async def cli(system: RunningSystem) -> AsyncIterator[Cli]:
    """The gateway in this process (only for this module: it consumes every non-ShipStation vendor's queue)."""
    port = free_port()
    settings = system.env.settings(
        GatewaySettings,
        gateway_port=port,
        splitter_port=system.splitter.port,
        intake_port=system.intake.port,
        delivery_attempts=DELIVERY_ATTEMPTS,
        delivery_first_retry_seconds=0.2,
        delivery_max_backoff_seconds=0.5,
        delivery_timeout_seconds=3.0,
        vendor_discovery_seconds=0.3,
    )
    url = f"http://127.0.0.1:{port}"
    system.api.urls["gateway"] = url
    made: list[str] = []
    try:
        async with running_service(GATEWAY, settings):
            cli = Cli(system, url)
            yield cli
            made = cli.vendors
    finally:
        system.api.urls.pop("gateway", None)
    await remove_vendor_queues(system, made)  # once the gateway no longer consumes them


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    endpoint = WebhookReceiver("whsec_" + "c2VjcmV0LWZyb20tYS1maWxlLTEyMzQ1Njc4OTA=")
    await endpoint.start()
    try:
        yield endpoint
    finally:
        await endpoint.stop()


async def vendor_api_status(cli: Cli, api_key: str) -> int:
    """What the gateway's vendor API answers this key for a vendor order nobody has (404 once it is let in)."""
    status, _ = await cli.system.api.call(
        "POST", "gateway", f"/v1/vendor/orders/{unique('vo_')}/acknowledgement", {"lines": []}, token=api_key
    )
    return int(status)


async def test_webhook_connection_key_rotation_and_check(cli: Cli, receiver: WebhookReceiver, tmp_path: Path) -> None:
    vendor = await cli.vendor("webhook")
    secret_file = tmp_path / "webhook-secret"
    secret = "whsec_c2VjcmV0LWZyb20tYS1maWxlLTEyMzQ1Njc4OTA="
    secret_file.write_text(secret + "\n")

    out = await cli.ok(
        "vendor", "connect", vendor, "--transport", "webhook", "--url", receiver.url, "--secret-file", str(secret_file)
    )
    assert f"Vendor {vendor}: webhook / json" in out
    assert "shown once" in out
    assert "Webhook signing secret" not in out and secret not in out  # given by us, so not echoed
    [api_key] = API_KEY.findall(out)
    assert await vendor_api_status(cli, api_key) == 404

    shown = json.loads(await cli.ok("--json", "vendor", "connection", vendor))
    assert (shown["transport"], shown["format"], shown["webhook"]["url"]) == ("webhook", "json", receiver.url)
    assert shown["webhook"]["has_secret"] is True
    text = await cli.ok("vendor", "connection", vendor)
    assert receiver.url in text and secret not in text and api_key not in text

    checked = await cli.ok("vendor", "check", vendor)
    assert checked.startswith(f"Connection of vendor {vendor}: works")
    # The check's request is signed with the secret from the file.
    assert receiver.received and all(request.verified for request in receiver.received)

    rotated = await cli.ok("vendor", "new-key", vendor)
    [new_key] = API_KEY.findall(rotated)
    assert new_key != api_key and "shown once" in rotated
    assert await vendor_api_status(cli, api_key) == 401
    assert await vendor_api_status(cli, new_key) == 404


async def test_a_generated_webhook_secret_is_shown_once(cli: Cli, receiver: WebhookReceiver) -> None:
    vendor = await cli.vendor("webhook")
    answer = json.loads(
        await cli.ok("--json", "vendor", "connect", vendor, "--transport", "webhook", "--url", receiver.url)
    )
    assert answer["webhook_secret"].startswith("whsec_") and answer["api_key"].startswith("dsv_")
    again = await cli.ok("vendor", "connection", vendor)
    assert answer["webhook_secret"] not in again and answer["api_key"] not in again


async def test_a_failing_check_exits_1_and_says_which_step(cli: Cli, receiver: WebhookReceiver) -> None:
    vendor = await cli.vendor("webhook")
    await cli.ok("vendor", "connect", vendor, "--transport", "webhook", "--url", receiver.url)
    receiver.fail_next(1, 500)
    ran = await cli.run("vendor", "check", vendor)
    assert ran.code == 1
    assert f"Connection of vendor {vendor}: FAILS" in ran.stdout
    assert "FAIL " in ran.stdout


async def test_sftp_connection_with_the_password_from_stdin(cli: Cli, tmp_path: Path) -> None:
    server = SftpServer(tmp_path)
    await server.start()
    try:
        vendor = await cli.vendor("csv_sftp")
        password = "s3cret-from-stdin"
        server.add_user("acme", password=password)
        for folder in ("orders", "tracking", "inventory", "acks"):
            (tmp_path / "acme" / folder).mkdir()
        out = await cli.ok(
            "vendor", "connect", vendor, "--transport", "sftp", "--host", "127.0.0.1", "--port", str(server.port),
            "--username", "acme", "--password-stdin", "--host-key", server.host_key_line, "--outbound-dir", "/orders",
            "--shipments-dir", "/tracking", "--inventory-dir", "/inventory", "--acks-dir", "/acks",
            "--poll-seconds", "300", "--after-pickup", "archive",
            stdin=password + "\n",
        )  # fmt: skip
        assert f"Vendor {vendor}: sftp / csv" in out and password not in out
        shown = json.loads(await cli.ok("--json", "vendor", "connection", vendor))
        sftp = shown["sftp"]
        assert (sftp["host"], sftp["port"], sftp["username"], sftp["login"]) == (
            "127.0.0.1",
            server.port,
            "acme",
            "password",
        )
        assert sftp["inbound"] == {"shipments": "/tracking", "inventory": "/inventory", "acknowledgements": "/acks"}
        assert password not in json.dumps(shown)
        checked = await cli.ok("vendor", "check", vendor)  # logs in with the password it was given
        assert "works" in checked.splitlines()[0], checked
    finally:
        await server.stop()


async def test_email_connection(cli: Cli) -> None:
    vendor = await cli.vendor("email")
    args = ["--transport", "email", "--to", "orders@vendor.example", "--to", "ops@vendor.example"]
    await cli.ok(
        "vendor", "connect", vendor, *args, "--cc", "me@merchant.example", "--reply-to", "ops@merchant.example"
    )
    shown = json.loads(await cli.ok("--json", "vendor", "connection", vendor))
    assert (shown["transport"], shown["format"]) == ("email", "csv")
    assert shown["email"] == {
        "to": ["orders@vendor.example", "ops@vendor.example"],
        "cc": ["me@merchant.example"],
        "reply_to": "ops@merchant.example",
    }


async def test_mistakes_are_refused_before_any_call_or_in_one_line(cli: Cli, receiver: WebhookReceiver) -> None:
    vendor = await cli.vendor("webhook")
    no_host_key = await cli.run("vendor", "connect", vendor, "--transport", "sftp", "--host", "h", "--username", "u")
    assert no_host_key.code == 2 and "--host-key" in no_host_key.stderr
    stray = await cli.run("vendor", "connect", vendor, "--transport", "sftp", "--url", receiver.url)
    assert stray.code == 2 and "--url: not for --transport sftp" in stray.stderr
    plain = await cli.run("vendor", "connect", vendor, "--transport", "sftp", "--password", "hunter2")
    assert plain.code == 2 and "No such option" in plain.stderr

    wrong_kind = await cli.run("vendor", "connect", vendor, "--transport", "email", "--to", "a@b.example")
    assert wrong_kind.code == 1
    assert "gateway answered 409" in wrong_kind.stderr and "wrong_kind" in wrong_kind.stderr
    assert len(wrong_kind.stderr.strip().splitlines()) == 1
    unknown = await cli.run("vendor", "connection", unique("nobody-"))
    assert unknown.code == 1 and "404" in unknown.stderr
    status, answer = await cli.system.api.call("GET", "gateway", f"/v1/connections/{vendor}")
    assert status == 200 and answer["state"] == "unconnected", answer  # nothing was stored by the refused calls


async def test_deliveries_list_and_retry(cli: Cli, receiver: WebhookReceiver) -> None:
    api = cli.system.api
    vendor = await cli.vendor("webhook")
    await cli.ok("vendor", "connect", vendor, "--transport", "webhook", "--url", receiver.url)
    sku, channel = unique("CLI-"), unique("shop-")
    await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": vendor, "stock": 10}]})
    key = (await api.ok("PUT", "intake", f"/v1/channels/{channel}", {"name": "Shop"}))["api_key"]
    receiver.fail_next(DELIVERY_ATTEMPTS, 503)  # every attempt fails: the delivery ends failed
    order = await api.ok("POST", "intake", "/v1/orders", order_payload(channel, [(sku, 1, "14.00")]), token=key)

    async def failed() -> list[dict[str, Any]] | None:
        found = json.loads(await cli.ok("--json", "deliveries", "--vendor", vendor, "--state", "failed"))["deliveries"]
        return list(found) or None

    [delivery] = await wait_until(failed, timeout=30)
    assert delivery["vendor"] == vendor
    table = await cli.ok("deliveries", "--vendor", vendor)
    header, row = table.splitlines()[:2]
    assert header.split() == [
        "vendor_order_number",
        "vendor",
        "event",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    assert delivery["vendor_order_number"] in row and "failed" in row
    assert "503" in table  # the last error, under the table
    assert "No deliveries (vendor " in await cli.ok("deliveries", "--vendor", vendor, "--state", "sent")

    retried = await cli.ok("deliveries", "retry", delivery["vendor_order_id"])
    assert retried.startswith(f"Vendor order {delivery['vendor_order_id']}: sent again")

    async def sent() -> bool:
        found = json.loads(await cli.ok("--json", "deliveries", "--vendor", vendor, "--state", "sent"))["deliveries"]
        return bool(found)

    await wait_until(sent, timeout=30)
    assert order["id"]


async def test_stock_post_reaches_the_splitter(cli: Cli, tmp_path: Path) -> None:
    api = cli.system.api
    vendor = await cli.vendor("webhook")
    sku = unique("STK-")
    await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": vendor, "vendor_sku": f"V-{sku}"}]})
    feed = tmp_path / "feed.json"
    feed.write_text(
        json.dumps(
            {"mode": "delta", "as_of": "2026-12-01T08:00:00Z", "items": [{"vendor_sku": f"V-{sku}", "quantity": 40}]}
        )
    )
    out = await cli.ok("stock", "post", vendor, str(feed))
    assert f"Stock feed of {vendor} with 1 items received." in out

    async def counted() -> bool:
        stock = await api.ok("GET", "splitter", f"/v1/stock/{sku}")
        return bool(stock["sources"][0]["feed_quantity"] == 40)

    await wait_until(counted)
    again = await cli.ok("stock", "post", vendor, str(feed))
    assert "already received" in again
    broken = tmp_path / "broken.json"
    broken.write_text('{"items": ')
    refused = await cli.run("stock", "post", vendor, str(broken))
    assert refused.code == 2 and "is not JSON" in refused.stderr
