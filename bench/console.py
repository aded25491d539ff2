"""The ops console with 100,000 orders stored: intake's ``orders`` and ``order_status_history`` seeded
by COPY (in the bench's own database) with payloads made by intake's own code from realistic orders,
then every console page loaded many times by a signed-in session over HTTP, beside two baselines
measured in the same run: the console's ``/healthz`` (the HTTP round trip and nothing else) and one
page of intake's ``GET /v1/orders`` called directly (what most pages build on)."""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp

from bench.environment import connect_database
from bench.scenario import Merchant, call
from bench.stats import summary
from bench.system import BenchSystem
from services.console.sessions import COOKIE_NAME
from services.intake.domain import OrderRequest, new_order_id, to_order_received

TEMPLATES = 256
SEED_DAYS = 100
"""The orders' received times spread evenly over this many days before now (about 1,000 a day today)."""
STATUSES = (
    # (intake's stored status, share, the cause of the change that led there)
    ("received", 0.60, None),
    ("shipped", 0.25, "tracking: shipment"),
    ("partially_shipped", 0.05, "tracking: shipment"),
    ("held", 0.04, "splitter: unpaid"),
    ("cancelled", 0.04, "cancel request"),
    ("partially_cancelled", 0.02, "splitter: lines cancelled"),
)
PROBLEM = re.compile(rb"data-problem")


def _templates(merchant: Merchant) -> list[dict[str, Any]]:
    """Stored order payloads as intake writes them (``order.received`` data), from the bench's orders."""
    rng = random.Random(11)  # noqa: S311 - test data
    made = []
    for index in range(TEMPLATES):
        order, _ = merchant.order_dict(f"C{index}", rng)
        request = OrderRequest.model_validate(json.loads(json.dumps(order), parse_float=Decimal))
        made.append(to_order_received(new_order_id(), request).model_dump(mode="json"))
    return made


def _status_of(rng: random.Random) -> tuple[str, str | None]:
    pick, total = rng.random(), 0.0
    for status, share, cause in STATUSES:
        total += share
        if pick < total:
            return status, cause
    return STATUSES[0][0], None


def channel_codes(merchant: Merchant) -> list[str]:
    """The merchant's channel and two more, as a merchant with a web shop and marketplaces has."""
    return [merchant.channel, f"bench-web-{merchant.run_id}", f"bench-market-{merchant.run_id}"]


async def seed(session: aiohttp.ClientSession, system: BenchSystem, merchant: Merchant, total: int) -> dict[str, Any]:
    """COPY ``total`` orders (and their status history) into intake's tables, newest received now."""
    started = time.perf_counter()
    channels = channel_codes(merchant)
    intake, token = system.urls["intake"], system.environment.admin_token
    for code in channels[1:]:
        await call(session, "PUT", f"{intake}/v1/channels/{code}", token, {"name": code})
    templates = _templates(merchant)
    rng = random.Random(13)  # noqa: S311 - test data
    now = datetime.now(UTC)
    step = timedelta(days=SEED_DAYS) / max(total, 1)
    orders, history = [], []
    for index in range(total):
        payload = dict(templates[index % len(templates)])
        order_id = f"ord_{uuid.uuid4().hex}"
        number = f"B{merchant.run_id}-{index:06d}"
        channel = channels[index % len(channels)]
        external_id = str(5_000_000_000 + index)
        customer = dict(payload.get("customer") or {})
        customer["email"] = f"{str(customer.get('name', 'jo')).split()[0].lower()}.{index}@example.com"
        payload.update(order_id=order_id, order_number=number, external_id=external_id, channel=channel)
        payload["customer"] = customer
        received = now - step * (total - index)
        status, cause = _status_of(rng)
        holds = "[]"
        channel_status = "paid"
        if status == "held":
            channel_status = "unpaid"
            holds = json.dumps(
                [
                    {
                        "code": "unpaid",
                        "detail": "the channel says unpaid",
                        "line_id": None,
                        "since": received.isoformat(),
                    }
                ]
            )
        changed = received + timedelta(seconds=rng.randint(5, 86_400)) if cause else received
        orders.append(
            (
                order_id,
                channel,
                external_id,
                number,
                status,
                json.dumps(payload),
                received,
                changed,
                channel_status,
                holds,
            )
        )
        history.append((order_id, "received", "intake", received))
        if cause:
            history.append((order_id, status, cause, changed))
    built = time.perf_counter()
    connection = await connect_database(system.environment.database_url, "bench-seed")
    try:
        await connection.copy_records_to_table(
            "orders",
            schema_name="intake",
            columns=[
                "id",
                "channel",
                "external_id",
                "order_number",
                "status",
                "payload",
                "received_at",
                "updated_at",
                "channel_status",
                "holds",
            ],
            records=orders,
        )
        await connection.copy_records_to_table(
            "order_status_history",
            schema_name="intake",
            columns=["order_id", "status", "cause", "changed_at"],
            records=history,
        )
        copied = time.perf_counter()
        # A table that grew to this size would have been analysed by autovacuum long since.
        await connection.execute("ANALYZE intake.orders")
        await connection.execute("ANALYZE intake.order_status_history")
        size = await connection.fetchval("SELECT pg_total_relation_size('intake.orders')")
        trigram = await connection.fetchval(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'intake' AND indexname = 'orders_search_text'"
        )
    finally:
        await connection.close()
    return {
        "rows": total,
        "history_rows": len(history),
        "payload_bytes_avg": round(sum(len(r[5]) for r in orders) / max(total, 1)),
        "build_seconds": round(built - started, 2),
        "copy_seconds": round(copied - built, 2),
        "table_mb": round(int(size) / 1_048_576, 1),
        "trigram_index": bool(trigram),
        "sample": {"order_id": orders[-1][0], "order_number": orders[-1][3], "channel": channels[1]},
    }


def pages(merchant: Merchant, sample: dict[str, Any]) -> list[tuple[str, str]]:
    """Every page of the console (name, path), the orders page with each kind of search."""
    number = str(sample["order_number"])
    return [
        ("overview", "/"),
        ("overview, live region", "/?fragment=1"),
        ("orders", "/orders"),
        ("orders, status held", "/orders?status=held"),
        ("orders, one channel", f"/orders?channel={sample['channel']}"),
        ("orders, by number", f"/orders?q={number}"),
        ("orders, by number prefix", f"/orders?q={number[:-3]}"),
        ("orders, by customer name", "/orders?q=garc%C3%ADa"),
        ("orders, by e-mail", f"/orders?q={number.rsplit('-', 1)[-1].lstrip('0') or '0'}%40example"),
        ("order timeline", f"/orders/{sample['order_id']}"),
        ("holds", "/holds"),
        ("parked", "/parked"),
        ("vendors", "/vendors"),
        ("vendor", f"/vendors/{merchant.vendor_a}"),
        ("channels", "/channels"),
        ("audit", "/audit"),
    ]


async def sign_in(session: aiohttp.ClientSession, console: str, admin_token: str) -> dict[str, str]:
    """A session as the sign-in form makes one: the cookie to send with every page."""
    form = {"token": admin_token, "who": "Bench", "next": "/"}
    async with session.post(f"{console}/signin", data=form, allow_redirects=False) as response:
        morsel = response.cookies.get(COOKIE_NAME)
        if response.status != 303 or morsel is None:
            raise RuntimeError(f"console sign-in answered {response.status}: {(await response.text())[:300]}")
    return {"Cookie": f"{COOKIE_NAME}={morsel.value}"}


async def _timed(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], loads: int
) -> tuple[list[float], int, bytes]:
    """``loads`` GETs one after another (after one not counted, which warms caches and connections)."""
    samples: list[float] = []
    body = b""
    status = 0
    for attempt in range(loads + 1):
        started = time.perf_counter()
        async with session.get(url, headers=headers, allow_redirects=False) as response:
            body = await response.read()
            status = response.status
        if status != 200:
            raise RuntimeError(f"GET {url} answered {status}: {body[:300]!r}")
        if attempt:
            samples.append(time.perf_counter() - started)
    return samples, status, body


async def measure(
    session: aiohttp.ClientSession, system: BenchSystem, merchant: Merchant, sample: dict[str, Any], loads: int
) -> dict[str, Any]:
    console, token = system.urls["console"], system.environment.admin_token
    cookie = await sign_in(session, console, token)
    healthz, _, _ = await _timed(session, f"{console}/healthz", {}, loads)
    bearer = {"Authorization": f"Bearer {token}"}
    listing, _, _ = await _timed(session, f"{system.urls['intake']}/v1/orders?limit=50", bearer, loads)
    measured = []
    for name, path in pages(merchant, sample):
        samples, status, body = await _timed(session, console + path, cookie, loads)
        measured.append(
            {
                "name": name,
                "path": path,
                "status": status,
                "bytes": len(body),
                "problems": len(PROBLEM.findall(body)),
                "s": summary(samples),
            }
        )
    return {
        "loads_per_page": loads,
        "baselines": {"console_healthz_s": summary(healthz), "intake_orders_page_s": summary(listing)},
        "pages": measured,
    }


def summary_line(results: dict[str, Any]) -> str:
    worst = max(results["pages"], key=lambda page: page["s"]["p95"] or 0)
    return (
        f"console: {results['seed']['rows']:,} orders; worst page p95 {worst['s']['p95'] * 1000:.1f} ms"
        f" ({worst['name']}); /healthz p95 {results['baselines']['console_healthz_s']['p95'] * 1000:.1f} ms"
    )
