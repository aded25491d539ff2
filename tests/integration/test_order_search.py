"""Intake's listings for ops on the real broker, database and HTTP: ``GET /v1/orders`` (filters, ``q`` on
every field it matches, keyset pages that neither miss nor repeat an order while new ones arrive, the
admin's alone, bad parameters refused), ``GET /v1/orders/{id}/history`` (status changes and the
channel's webhooks in time order) and ``GET /v1/channels``.

The last test seeds 100,000 orders by COPY into a database of its own and EXPLAIN ANALYZEs every kind of
page: it asserts each is answered through the indexes (no sequential scan of the orders) and what the
search finds, never how long it took; the times are printed (``-s``) for the record.
"""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import asyncpg
import pytest

from services.intake.app import SERVICE as INTAKE
from services.intake.listing import MINUTES_AGO, STATUS_COUNTS, PostgresListing, matches_query, page_query, window_query
from services.intake.order_search import ORDER_STATUSES, OrderSearch, Position, decode_cursor
from shared.db import drop_database, ensure_database, migrate, migration_files
from tests.conftest import RunningSystem, SuiteEnvironment
from tests.support import ChannelReceiver, order_payload, unique, wait_until


@dataclass
class Shop:
    code: str
    key: str


async def _shop(system: RunningSystem, webhook_url: str | None = None) -> Shop:
    code = unique("os-")
    body: dict[str, Any] = {"name": f"Shop {code}"}
    if webhook_url is not None:
        body["webhook_url"] = webhook_url
    created = await system.api.ok("PUT", "intake", f"/v1/channels/{code}", body)
    return Shop(code, created["api_key"])


async def _order(system: RunningSystem, shop: Shop, sku: str = "OS-SKU", **extra: Any) -> dict[str, Any]:
    payload = order_payload(shop.code, [(sku, 2, "10.00")], **extra)
    order: dict[str, Any] = await system.api.ok("POST", "intake", "/v1/orders", payload, token=shop.key)
    return order


async def _list(system: RunningSystem, token: str | None = None, **query: str) -> tuple[int, Any]:
    return await system.api.call("GET", "intake", f"/v1/orders?{urlencode(query)}", token=token)


async def _ids(system: RunningSystem, **query: str) -> list[str]:
    status, body = await _list(system, **query)
    assert status == 200, body
    return [order["id"] for order in body["orders"]]


# ---------------------------------------------------------------------------------------------- listing


async def test_a_channels_orders_are_listed_newest_first_with_their_summary(system: RunningSystem) -> None:
    shop, other = await _shop(system), await _shop(system)
    discount = [{"code": "X", "amount": "2"}]
    money: dict[str, Any] = {"tax_amount": "1.50", "shipping_amount": "4.00", "discounts": discount}
    first = await _order(system, shop, **money)
    second = await _order(system, shop)
    await _order(system, other)

    status, page = await _list(system, channel=shop.code)
    assert status == 200
    assert [order["id"] for order in page["orders"]] == [second["id"], first["id"]]
    assert page["next_cursor"] is None
    row = page["orders"][1]
    assert row["channel"] == shop.code and row["external_id"] == first["external_id"]
    assert row["order_number"] == first["order_number"] and row["channel_status"] == "paid"
    assert row["customer_name"] == "Jo Müller" and row["customer_email"] == first["customer"]["email"]
    assert row["ship_to_country"] == "US" and row["line_count"] == 1 and row["currency"] == "USD"
    assert row["total"] == "23.50"  # 2 x 10.00, less 2, plus 1.50 and 4.00
    assert row["status"] in {"received", "held", "routed"}
    assert "payload" not in row and "lines" not in row


async def test_the_status_filter_finds_held_and_cancelled_orders(system: RunningSystem) -> None:
    shop = await _shop(system)
    held = await _order(system, shop, sku=unique("UNMAPPED-"))  # the splitter holds it: no source
    cancelled = await _order(system, shop, sku=unique("UNMAPPED-"))
    await system.api.ok("POST", "intake", f"/v1/orders/{cancelled['id']}/cancel", token=shop.key)

    async def held_listed() -> list[str] | None:
        found = await _ids(system, channel=shop.code, status="held")
        return found or None

    assert await wait_until(held_listed) == [held["id"]]
    assert await _ids(system, channel=shop.code, status="cancelled") == [cancelled["id"]]
    assert await _ids(system, channel=shop.code, status="shipped") == []
    _, page = await _list(system, channel=shop.code, status="held")
    assert page["orders"][0]["hold_codes"] == ["unmapped_sku"]


async def test_q_matches_each_field_it_searches(system: RunningSystem) -> None:
    shop = await _shop(system)
    token = uuid.uuid4().hex[:10]
    by_number = await _order(system, shop, order_number=f"N{token}-7")
    by_external = await _order(system, shop, external_id=f"EXT-{token}-42")
    by_name = await _order(system, shop, customer={"name": f"Zoë Quartermain {token}", "email": "zq@example.com"})
    by_email = await _order(system, shop, customer={"name": "Al", "email": f"Sales+{token}@Example.COM"})
    ship_to = {**order_payload(shop.code, [])["ship_to"], "name": f"Recipient{token}", "email": f"r{token}@example.org"}
    no_customer = await _order(system, shop, customer=None, ship_to=ship_to)

    async def found(q: str) -> list[str]:
        return await _ids(system, q=q)

    # Order number and external id: exactly, or by their start, in any letter case.
    assert await found(f"N{token}-7") == [by_number["id"]]
    assert await found(f"n{token}") == [by_number["id"]]
    assert await found(f"ext-{token}-42") == [by_external["id"]]
    assert await found(f"EXT-{token}") == [by_external["id"]]
    assert await found(f"{token}-7") == []  # the middle of an id is not a match
    # Name and e-mail: any part of them, in any letter case (ü and ë folded too).
    assert await found(f"QUARTERMAIN {token}") == [by_name["id"]]
    assert await found(f"ZOË QUARTERMAIN {token[:4]}") == [by_name["id"]]
    assert await found(f"sales+{token}@example.com") == [by_email["id"]]
    assert await found(f"+{token}@") == [by_email["id"]]
    # The order's id itself.
    assert await found(by_email["id"]) == [by_email["id"]]
    # Without a customer the ship-to's name and e-mail are the ones searched and shown.
    _, page = await _list(system, channel=shop.code, q=f"recipient{token}")
    assert [order["id"] for order in page["orders"]] == [no_customer["id"]]
    assert page["orders"][0]["customer_name"] == f"Recipient{token}"
    assert page["orders"][0]["customer_email"] == f"r{token}@example.org"
    assert await found(f"r{token}@example") == [no_customer["id"]]
    # % and _ are literal, not wildcards; q combines with the other filters.
    assert await found(f"N{token}%") == []
    assert await _ids(system, q=f"N{token}", channel=unique("nobody-")) == []
    # A blank q is no search.
    assert len(await _ids(system, channel=shop.code, q="   ")) == 5


async def test_pages_follow_each_other_without_gaps_or_repeats_while_orders_arrive(system: RunningSystem) -> None:
    shop = await _shop(system)
    token = uuid.uuid4().hex[:8]
    for n in range(7):
        await _order(system, shop, order_number=f"P{token}-{n}")

    for query in ({"channel": shop.code}, {"q": f"P{token}"}):
        before = await _ids(system, **query, limit="200")
        seen: list[str] = []
        arrived: list[str] = []
        cursor: str | None = None
        while True:
            status, page = await _list(system, **query, limit="3", **({"cursor": cursor} if cursor else {}))
            assert status == 200, page
            seen += [order["id"] for order in page["orders"]]
            # A new order arrives between two pages: it is newer than every cursor, so no later page shows it.
            arrived.append((await _order(system, shop, order_number=f"P{token}-new{len(arrived)}"))["id"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(before) >= 7 and seen == before
        # A first page asked again starts with what arrived, newest first.
        assert await _ids(system, **query, limit="2") == arrived[::-1][:2]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"status": "lost"}, "invalid_status"),
        ({"status": ""}, "invalid_status"),
        ({"channel": "Not A Code"}, "invalid_channel"),
        ({"q": "x" * 101}, "invalid_query"),
        ({"q": "a\x00b"}, "invalid_query"),
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "201"}, "invalid_limit"),
        ({"limit": "ten"}, "invalid_limit"),
        ({"limit": ""}, "invalid_limit"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"cursor": "1767225600000000-ord_0123"}, "invalid_cursor"),
        ({"cursor": ""}, "invalid_cursor"),
    ],
)
async def test_a_bad_parameter_is_400_with_its_code(system: RunningSystem, query: dict[str, str], error: str) -> None:
    status, body = await _list(system, **query)
    assert (status, body["error"]) == (400, error), body


async def test_a_cursor_edited_out_of_shape_is_refused_and_one_from_a_page_is_taken(system: RunningSystem) -> None:
    shop = await _shop(system)
    for _ in range(3):
        await _order(system, shop)
    status, page = await _list(system, channel=shop.code, limit="2")
    cursor = page["next_cursor"]
    assert isinstance(decode_cursor(cursor), Position)
    status, rest = await _list(system, channel=shop.code, cursor=cursor)
    assert status == 200 and len(rest["orders"]) == 1
    for tampered in (cursor + "0", cursor.replace("-ord_", "-ord-"), "x" + cursor, cursor[:-1] + "G"):
        status, body = await _list(system, channel=shop.code, cursor=tampered)
        assert (status, body["error"]) == (400, "invalid_cursor"), tampered


async def test_the_listing_is_the_admins_alone(system: RunningSystem) -> None:
    shop = await _shop(system)
    status, body = await _list(system, token=shop.key, channel=shop.code)
    assert (status, body["error"]) == (403, "forbidden")
    status, body = await _list(system, token="not-a-key")
    assert (status, body["error"]) == (401, "unauthorized")


# ----------------------------------------------------------------------------------------------- counts


async def _counts(system: RunningSystem, token: str | None = None, **query: str) -> tuple[int, Any]:
    return await system.api.call("GET", "intake", f"/v1/orders/counts?{urlencode(query)}", token=token)


async def test_the_counts_are_exact_by_status_since_a_moment_and_per_minute(system: RunningSystem) -> None:
    shop = await _shop(system)
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    status, before = await _counts(system, since=since, minutes="5")
    assert status == 200, before
    orders = [await _order(system, shop) for _ in range(3)]
    status, after = await _counts(system, since=since, minutes="5")
    assert status == 200
    assert set(after["by_status"]) == set(ORDER_STATUSES), "every status, zeros included"
    assert after["total"] - before["total"] == 3 == sum(after["by_status"].values()) - sum(before["by_status"].values())
    assert after["orders_in_minutes"] - before["orders_in_minutes"] == 3
    assert len(after["per_minute"]) == 5 and after["per_minute"][-1]["orders"] >= 3, "the newest minute is last"
    assert datetime.fromisoformat(after["since"]) == datetime.fromisoformat(since)
    # Since after they came: none of them (a moment in another offset is the same moment).
    later = datetime.now(UTC).astimezone(timezone(timedelta(hours=-5))).isoformat()
    status, none = await _counts(system, since=later)
    assert status == 200 and none["total"] <= after["total"] - 3 and none["minutes"] == 10
    # Without since: from midnight UTC, so these are among them.
    status, today = await _counts(system)
    assert status == 200 and today["total"] >= 3 and datetime.fromisoformat(today["since"]).hour == 0
    assert len(orders) == 3


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"since": "yesterday"}, "invalid_since"),
        ({"since": "2026-03-04T00:00:00"}, "invalid_since"),
        ({"since": ""}, "invalid_since"),
        ({"minutes": "0"}, "invalid_minutes"),
        ({"minutes": "61"}, "invalid_minutes"),
    ],
)
async def test_a_bad_since_or_minutes_is_400_with_its_code(
    system: RunningSystem, query: dict[str, str], error: str
) -> None:
    status, body = await _counts(system, **query)
    assert (status, body["error"]) == (400, error), body


async def test_the_counts_are_the_admins_alone(system: RunningSystem) -> None:
    shop = await _shop(system)
    status, body = await _counts(system, token=shop.key)
    assert (status, body["error"]) == (403, "forbidden")
    status, body = await _counts(system, token="not-a-key")
    assert (status, body["error"]) == (401, "unauthorized")


# ---------------------------------------------------------------------------------------------- history


async def test_the_history_shows_received_a_status_change_and_the_webhook_in_time_order(
    system: RunningSystem,
) -> None:
    receiver = await ChannelReceiver().start()
    try:
        shop = await _shop(system, webhook_url=receiver.url)
        order = await _order(system, shop, sku=unique("UNMAPPED-"))  # held by the splitter: one webhook
        path = f"/v1/orders/{order['id']}/history"

        async def told() -> dict[str, Any] | None:
            history: dict[str, Any] = await system.api.ok("GET", "intake", path)
            webhooks = [event for event in history["events"] if event["kind"] == "webhook"]
            return history if webhooks and webhooks[0]["delivered_at"] else None

        history = await wait_until(told)
        assert (history["order_id"], history["channel"], history["status"]) == (order["id"], shop.code, "held")
        kinds = [(event["kind"], event.get("status") or event.get("event_type")) for event in history["events"]]
        assert kinds == [("status", "received"), ("status", "held"), ("webhook", "order.status_changed")]
        received, held, webhook = history["events"]
        assert received["cause"] == "intake" and held["cause"].startswith("msg_")
        assert [event["at"] for event in history["events"]] == sorted(event["at"] for event in history["events"])
        assert webhook["delivery_id"] == receiver.deliveries[0].headers["webhook-id"]
        assert webhook["attempts"] == 1 and webhook["last_status"] == 204 and webhook["last_error"] is None
        assert webhook["next_attempt_at"] is None

        # The order's own channel may read it; another channel's key may not; an unknown order is 404.
        assert (await system.api.ok("GET", "intake", path, token=shop.key))["events"] == history["events"]
        other = await _shop(system)
        status, body = await system.api.call("GET", "intake", path, token=other.key)
        assert (status, body["error"]) == (403, "forbidden")
        status, body = await system.api.call("GET", "intake", "/v1/orders/ord_nope/history")
        assert (status, body["error"]) == (404, "not_found")
    finally:
        await receiver.stop()


async def test_a_webhook_the_channel_refuses_shows_its_error_and_next_attempt(system: RunningSystem) -> None:
    receiver = await ChannelReceiver(fail_next=1_000).start()
    try:
        shop = await _shop(system, webhook_url=receiver.url)
        order = await _order(system, shop, sku=unique("UNMAPPED-"))

        async def failed_once() -> dict[str, Any] | None:
            history = await system.api.ok("GET", "intake", f"/v1/orders/{order['id']}/history")
            webhooks = [event for event in history["events"] if event["kind"] == "webhook"]
            return webhooks[0] if webhooks and webhooks[0]["attempts"] >= 1 else None

        webhook = await wait_until(failed_once)
        assert webhook["delivered_at"] is None and webhook["last_status"] == 503
        assert webhook["last_error"] == "HTTP 503"
        assert datetime.fromisoformat(webhook["next_attempt_at"]) > datetime.fromisoformat(webhook["at"])

        # Once the channel answers, it is delivered and never tried again (nor left failing for later tests).
        receiver.fail_next = 0

        async def delivered() -> dict[str, Any] | None:
            history = await system.api.ok("GET", "intake", f"/v1/orders/{order['id']}/history")
            [webhook] = [event for event in history["events"] if event["kind"] == "webhook"]
            return webhook if webhook["delivered_at"] else None

        webhook = await wait_until(delivered)
        assert webhook["next_attempt_at"] is None and webhook["last_status"] == 204 and webhook["last_error"] is None
    finally:
        await receiver.stop()


# ---------------------------------------------------------------------------------------------- channels


async def test_the_channels_are_listed_by_code_without_keys_or_secrets(system: RunningSystem) -> None:
    later, earlier = await _shop(system, webhook_url="https://shop.example/hooks"), await _shop(system)
    status, body = await system.api.call("GET", "intake", "/v1/channels")
    assert status == 200
    codes = [channel["code"] for channel in body["channels"]]
    assert codes == sorted(codes)
    listed = {channel["code"]: channel for channel in body["channels"]}
    assert listed[later.code] == {
        "code": later.code,
        "name": f"Shop {later.code}",
        "webhook_url": "https://shop.example/hooks",
    }
    assert listed[earlier.code]["webhook_url"] is None
    assert later.key not in json.dumps(body)
    assert all(set(channel) == {"code", "name", "webhook_url"} for channel in body["channels"])
    status, body = await system.api.call("GET", "intake", "/v1/channels", token=later.key)
    assert status == 401


# ---------------------------------------------------------------------------------------------- 100,000 orders

SEEDED_ORDERS = 100_000
FIRST_NAMES = ("Jo", "Ana", "Li", "Sam", "Noor", "Kai", "Mia", "Omar", "Eva", "Ravi")
LAST_NAMES = ("Müller", "Smith", "Garcia", "Nguyen", "Okafor", "Kowalski", "Rossi", "Tanaka", "Silva", "Haddad")
STATUS_MIX = (
    ("shipped",) * 80
    + ("routed",) * 6
    + ("received",) * 5
    + ("partially_shipped",) * 4
    + ("cancelled",) * 3
    + ("held", "partially_cancelled")
)
COLUMNS = ("id", "channel", "external_id", "order_number", "status", "payload", "received_at", "updated_at",
           "channel_status", "holds")  # fmt: skip


def _seed_csv(count: int, channels: list[str]) -> bytes:
    """``count`` orders, one every five minutes, with sequential order numbers and external ids (as
    channels number them: a prefix finds one stretch of time) and names from a small set."""
    chance = random.Random(14)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    out = io.StringIO()
    writer = csv.writer(out)
    for n in range(count):
        order_id = f"ord_{uuid.UUID(int=chance.getrandbits(128)).hex}"
        name = f"{chance.choice(FIRST_NAMES)} {chance.choice(LAST_NAMES)}"
        channel = channels[n % len(channels)]
        payload = {
            "order_id": order_id, "channel": channel, "external_id": f"ext-{n:07d}", "order_number": f"#{100000 + n}",
            "currency": "USD", "customer": {"name": name, "email": f"{name.split()[0].lower()}.{n}@example.com"},
            "ship_to": {"name": name, "address1": "1 Main St", "city": "Springfield", "state": "IL",
                        "postal_code": "62701", "country": "US"},
            "tax_amount": "1.00", "shipping_amount": "5.00", "discounts": [],
            "lines": [{"line_id": "L1", "sku": f"SKU-{n % 500}", "name": "Thing", "quantity": 1, "unit_price": "9.99"}],
        }  # fmt: skip
        at = (start + timedelta(minutes=5 * n)).isoformat()
        status = chance.choice(STATUS_MIX)
        writer.writerow([order_id, channel, f"ext-{n:07d}", f"#{100000 + n}", status, json.dumps(payload), at, at,
                         "paid", "[]"])  # fmt: skip
    return out.getvalue().encode()


@pytest.fixture(scope="module")
async def seeded(test_env: SuiteEnvironment) -> AsyncIterator[asyncpg.Pool]:
    """Intake's schema in a database of its own with :data:`SEEDED_ORDERS` orders copied in."""
    dsn = test_env.database_url + "s"
    await ensure_database(dsn)
    try:
        await migrate(dsn, "intake", migration_files(INTAKE.package_dir))
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2, server_settings={"search_path": "intake"})
        assert pool is not None
        channels = [f"seed-{n}" for n in range(5)]
        async with pool.acquire() as connection:
            await connection.executemany(
                "INSERT INTO channels (code, name, webhook_secret, api_key_hash) VALUES ($1, $1, 'sealed', $1)",
                [(code,) for code in channels],
            )
            await connection.copy_to_table(
                "orders", source=io.BytesIO(_seed_csv(SEEDED_ORDERS, channels)), columns=COLUMNS, format="csv"
            )
            await connection.execute("VACUUM ANALYZE orders")
        try:
            yield pool
        finally:
            await pool.close()
    finally:
        await drop_database(dsn)


def _scans(plan: dict[str, Any]) -> list[str]:
    found = [f"{plan['Node Type']} {plan.get('Relation Name', '')}".strip()]
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


async def _explained(pool: asyncpg.Pool, search: OrderSearch) -> tuple[float, list[str], int]:
    """The statements :class:`PostgresListing` runs for ``search``, EXPLAIN ANALYZEd: the milliseconds
    they took in the database, the plan nodes, and the rows of the last one."""
    took, nodes, rows = 0.0, list[str](), 0
    for sql, arguments in [page_query(search)] if search.q is None else [window_query(search, search.q)]:
        took, nodes, rows = await _explain(pool, sql, arguments)
    if search.q is not None and rows <= search.limit:  # not a page among the newest: the listing asks the indexes
        more, more_nodes, rows = await _explain(pool, *matches_query(search, search.q))
        took, nodes = took + more, nodes + more_nodes
    return took, nodes, rows


async def _explain(pool: asyncpg.Pool, sql: str, arguments: list[Any]) -> tuple[float, list[str], int]:
    [explained] = json.loads(await pool.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *arguments))
    return explained["Execution Time"], _scans(explained["Plan"]), explained["Plan"]["Actual Rows"]


async def test_every_kind_of_page_is_answered_through_the_indexes_among_100000_orders(seeded: asyncpg.Pool) -> None:
    middle = await seeded.fetchrow(
        "SELECT received_at, id FROM orders ORDER BY received_at DESC, id DESC OFFSET $1 LIMIT 1", SEEDED_ORDERS // 2
    )
    assert middle is not None
    deep = Position(middle["received_at"], middle["id"])
    email = await seeded.fetchval("SELECT payload #>> '{customer,email}' FROM orders WHERE order_number = '#104242'")
    searches = {
        "newest": OrderSearch(),
        "one channel": OrderSearch(channel="seed-2"),
        "held (1 in 100)": OrderSearch(status="held"),
        "channel and status": OrderSearch(channel="seed-2", status="held"),
        "order number": OrderSearch(q="#150017"),
        "order number prefix, 1,000 older orders": OrderSearch(q="#1500"),
        "order number prefix, 10,000 older orders": OrderSearch(q="#15"),
        "external id": OrderSearch(q="ext-0042001"),
        "common surname": OrderSearch(q="müller"),
        "one e-mail": OrderSearch(q=email),
        "nothing found": OrderSearch(q="zzqqxx"),
        "order id": OrderSearch(q=middle["id"]),
        "surname and status": OrderSearch(q="müller", status="held"),
    }
    report = []
    for label, search in searches.items():
        for where, after in (("first page", None), ("middle page", deep)):
            paged = OrderSearch(search.status, search.channel, search.q, search.limit, after)
            took, nodes, _ = await _explained(seeded, paged)
            assert not [node for node in nodes if node == "Seq Scan orders"], (label, where, nodes)
            report.append(f"{label:42} {where:12} {took:7.2f} ms")

    # The order figures: counts by status since a day back, and the last hour minute by minute.
    newest = await seeded.fetchval("SELECT max(received_at) FROM orders")
    for label, (sql, arguments) in {
        "counts by status since a day back": (STATUS_COUNTS, [newest - timedelta(days=1)]),
        "per minute, last hour": (MINUTES_AGO, [newest, 60]),
    }.items():
        took, nodes, _ = await _explain(seeded, sql, arguments)
        assert not [node for node in nodes if node == "Seq Scan orders"], (label, nodes)
        assert any(node.endswith("Scan orders") for node in nodes), (label, nodes)
        report.append(f"{label:42} {'':12} {took:7.2f} ms")
    print("\nOrder listing pages and figures among 100,000 orders (database time):\n" + "\n".join(report))
    listing = PostgresListing(seeded)
    day = await listing.status_counts(newest - timedelta(days=1))
    assert sum(day.values()) == 24 * 12 + 1, "one order every five minutes, both ends of the day included"
    assert await listing.minutes_ago(newest, 60) == {ago: 1 for ago in range(0, 60, 5)}

    # What the searches find, through the listing itself (both of its statements).
    assert [row["order_number"] for row in await listing.orders_page(OrderSearch(q="#150017"))] == ["#150017"]
    prefix = await listing.orders_page(OrderSearch(q="#1500", limit=200))
    assert [row["order_number"] for row in prefix] == [f"#1500{n:02d}" for n in range(99, -1, -1)]
    assert len(await listing.orders_page(OrderSearch(q="müller"))) == 51
    assert await listing.orders_page(OrderSearch(q="zzqqxx")) == []
    [one] = await listing.orders_page(OrderSearch(q=email.upper()))
    assert one["order_number"] == "#104242"
