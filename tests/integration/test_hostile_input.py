"""Hostile and broken input against the running services: every bad request gets a clear 4xx with a body
saying what is wrong (JSON; text for ShipStation), nothing is expanded or executed, and nothing
crashes a service: the last test checks that every service is still ready and an order still flows.

Failed authentications count against 127.0.0.1 in each service's failure limiter (20 in 60 s by
default), and the rest of the suite fails some on purpose too: the tests here that fail credentials
on the shared services stay well below that, and the tests that need the limiter to trip, or many
failures (the timing test), start their own service instance.
"""

from __future__ import annotations

import asyncio
import base64
import statistics
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
from lxml import etree

from services.intake.app import SERVICE as INTAKE
from services.shipstation.app import SERVICE as SHIPSTATION
from services.shipstation.shipnotice import MAX_NOTICE_BYTES
from shared.service import Runtime, ServiceDefinition, running_service
from tests.conftest import RunningSystem
from tests.support import basic_auth, order_payload, unique, wait_until

WIDE_WINDOW = {"start_date": "01/01/2000 00:00", "end_date": "12/31/2099 23:59"}


@pytest.fixture(scope="module")
async def merchant(system: RunningSystem) -> dict[str, Any]:
    """A channel, a ShipStation vendor with credentials, and a SKU that vendor ships."""
    api = system.api
    channel, vendor, sku = unique("hostile-"), unique("ss-"), unique("SKU-")
    created = await api.ok("PUT", "intake", f"/v1/channels/{channel}", {"name": "Hostile shop"})
    await api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", {"name": "East", "kind": "shipstation"})
    credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{vendor}/credentials")
    await api.ok("PUT", "splitter", f"/v1/catalog/{sku}", {"sources": [{"vendor": vendor, "priority": 1}]})
    return {
        "channel": channel,
        "key": created["api_key"],
        "vendor": vendor,
        "sku": sku,
        "username": credentials["username"],
        "password": credentials["password"],
        "endpoint": system.url("shipstation") + f"/shipstation/{vendor}",
    }


def valid_order(merchant: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return order_payload(merchant["channel"], [(merchant["sku"], 2, "19.75")], discounts=[], **extra)


async def send(
    system: RunningSystem,
    method: str,
    url: str,
    *,
    data: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, Any, dict[str, str]]:
    """One request; answers the status, the content type, the body (parsed when JSON) and the headers."""
    async with system.api.session.request(method, url, data=data, headers=headers or {}) as response:
        raw = await response.read()
        body: Any = raw.decode("utf-8", "replace")
        if response.content_type == "application/json":
            body = await response.json()
        return response.status, response.content_type, body, dict(response.headers)


async def post_order(system: RunningSystem, merchant: dict[str, Any], body: bytes) -> tuple[int, str, Any]:
    headers = {"Authorization": f"Bearer {merchant['key']}", "Content-Type": "application/json"}
    status, content_type, answer, _ = await send(
        system, "POST", system.url("intake") + "/v1/orders", data=body, headers=headers
    )
    return status, content_type, answer


async def post_order_json(system: RunningSystem, merchant: dict[str, Any], payload: Any) -> tuple[int, Any]:
    status, body = await system.api.call("POST", "intake", "/v1/orders", payload, token=merchant["key"])
    return status, body


def assert_json_error(status: int, content_type: str, body: Any, expected_status: int, error: str) -> None:
    assert status == expected_status, body
    assert content_type == "application/json"
    assert body["error"] == error, body
    assert body["detail"], body


# --- intake: bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"channel": "shop", "lines": [', id="truncated"),
        pytest.param(b'{"channel": "shop"} trailing', id="trailing-garbage"),
        pytest.param(b"{'channel': 'shop'}", id="single-quotes"),
        pytest.param(b'{"channel": "shop",}', id="trailing-comma"),
        pytest.param(b'{"total_weight": NaN}', id="nan"),
        pytest.param(b'{"total_weight": Infinity}', id="infinity"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-100000-deep"),
        pytest.param(b'{"lines": [{"quantity": 1' + b"0" * 5000 + b"}]}", id="5000-digit-integer"),
        pytest.param(b'{"channel": "\xff\xfe"}', id="invalid-utf8"),
        pytest.param("\ufeff".encode() * 3 + b"{}", id="byte-order-marks"),
        pytest.param(b"[1, 2, 3]", id="array-not-object"),
        pytest.param(b'"just a string"', id="string-not-object"),
        pytest.param(b"null", id="null"),
        pytest.param(b"   \n\t ", id="whitespace-only"),
    ],
)
async def test_malformed_json_is_400_saying_why(system: RunningSystem, merchant: dict[str, Any], body: bytes) -> None:
    status, content_type, answer = await post_order(system, merchant, body)
    assert status == 400, answer
    assert content_type == "application/json"
    assert answer["error"] in {"malformed_json", "empty_body"}
    assert answer["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(channel=5), "channel"),
        (lambda p: p.update(external_id=["5521"]), "external_id"),
        (lambda p: p.update(ordered_at={"date": "2026-11-26"}), "ordered_at"),
        (lambda p: p.update(currency={"code": "USD"}), "currency"),
        (lambda p: p.update(ship_to="1 Main St, Springfield"), "ship_to"),
        (lambda p: p.update(lines={"sku": "A", "quantity": 1}), "lines"),
        (lambda p: p.update(lines=["SKU-1"]), "lines.0"),
        (lambda p: p.update(discounts="WELCOME5"), "discounts"),
        (lambda p: p.update(gift=[]), "gift"),
        (lambda p: p.update(gift=0), "gift"),
        (lambda p: p.update(gift="yes"), "gift"),
        (lambda p: p.update(status="shipped"), "status"),
        (lambda p: p["lines"][0].update(sku=None), "lines.0.sku"),
        (lambda p: p["lines"][0].update(options=[{"name": "Color"}]), "lines.0.options.0.value"),
        (lambda p: p["ship_to"].update(postal_code=62701), "ship_to.postal_code"),
    ],
)
async def test_wrong_types_are_422_naming_the_field(
    system: RunningSystem, merchant: dict[str, Any], change: Callable[[dict[str, Any]], None], field: str
) -> None:
    payload = valid_order(merchant)
    change(payload)
    status, body = await post_order_json(system, merchant, payload)
    assert status == 422, body
    assert field in body["fields"], body


@pytest.mark.parametrize(
    "quantity",
    [0, -1, -99999, 1.5, 2.5, 0.0, 100_000.0, "2", True, None, 100_000, 10**12, 10**30],
    ids=lambda q: repr(q),
)
async def test_quantities_that_are_not_whole_numbers_from_1_to_99999_are_422(
    system: RunningSystem, merchant: dict[str, Any], quantity: Any
) -> None:
    payload = valid_order(merchant)
    payload["lines"][0]["quantity"] = quantity
    status, body = await post_order_json(system, merchant, payload)
    assert status == 422, body
    assert "lines.0.quantity" in body["fields"], body


@pytest.mark.parametrize(
    "amount",
    ["19.999", "0.001", 19.75, 19, "1e3", "-1.00", "NaN", "Infinity", "1,000.00", "", "USD 5", "9999999999.00"],
    ids=lambda a: repr(a),
)
async def test_money_must_be_a_decimal_string_with_at_most_two_places(
    system: RunningSystem, merchant: dict[str, Any], amount: Any
) -> None:
    payload = valid_order(merchant, tax_amount=amount)
    payload["lines"][0]["unit_price"] = amount
    status, body = await post_order_json(system, merchant, payload)
    assert status == 422, body
    assert {"lines.0.unit_price", "tax_amount"} <= set(body["fields"]), body


async def test_a_10_mb_body_is_413(system: RunningSystem, merchant: dict[str, Any]) -> None:
    body = b'{"customer_notes": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    status, content_type, answer = await post_order(system, merchant, body)
    assert_json_error(status, content_type, answer, 413, "body_too_large")


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        (lambda p: p.pop("ship_to"), {"ship_to"}),
        (lambda p: p.update(ship_to=None), {"ship_to"}),
        (lambda p: p.update(ship_to={}), {f"ship_to.{f}" for f in ("name", "address1", "city", "postal_code")}),
        (
            lambda p: p["ship_to"].update(address1="", city=" ", postal_code="x" * 21),
            {"ship_to.address1", "ship_to.city", "ship_to.postal_code"},
        ),
        (lambda p: p["ship_to"].update(name="n" * 10_001), {"ship_to.name"}),
    ],
)
async def test_missing_or_invalid_ship_to_is_422_naming_every_field(
    system: RunningSystem, merchant: dict[str, Any], change: Callable[[dict[str, Any]], None], fields: set[str]
) -> None:
    payload = valid_order(merchant)
    change(payload)
    status, body = await post_order_json(system, merchant, payload)
    assert status == 422, body
    assert fields <= set(body["fields"]), body


async def test_a_us_address_without_state_is_422_saying_state_is_required(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    payload = valid_order(merchant)
    payload["ship_to"].pop("state")
    status, body = await post_order_json(system, merchant, payload)
    assert status == 422, body
    assert "state is required" in body["fields"]["ship_to"], body


@pytest.mark.parametrize("country", ["XX", "USA", "", "12", "ÜS", "U", None, 840])
async def test_invalid_country_is_422(system: RunningSystem, merchant: dict[str, Any], country: Any) -> None:
    payload = valid_order(merchant)
    payload["ship_to"]["country"] = country
    status, body = await post_order_json(system, merchant, payload)
    assert status == 422, body
    assert "ship_to.country" in body["fields"], body


@pytest.mark.parametrize(
    "text",
    ["bad\u0000byte", "\u0000"],
    ids=["nul-inside", "nul-alone"],
)
async def test_a_nul_character_in_any_string_is_422_not_a_database_error(
    system: RunningSystem, merchant: dict[str, Any], text: str
) -> None:
    # PostgreSQL's text and jsonb cannot hold U+0000.
    payload = valid_order(merchant, customer_notes=text)
    payload["lines"][0]["name"] = text
    payload["unknown"] = {"nested": [text]}
    status, body = await post_order_json(system, merchant, payload)
    assert status == 422, body
    assert set(body["fields"]) == {"customer_notes", "lines.0.name"}, body  # an unknown field is ignored, NUL or not


# Right-to-left scripts look like Latin letters to ruff (RUF001): that they are not is the point.
UNICODE = {
    "name": "Zoë Ångström 🚀",
    "company": "\u200fשלום בע״מ\u200f",  # noqa: RUF001
    "address1": "شارع الملك فهد ١٢",
    "city": "תל אביב-יפו",
    "postal_code": "6473921",
    "country": "IL",
    "line_name": "T-Shirt “Ünïcödé” 👕 ✓",
    "option_value": "🔴 Rot / أحمر",
    "customer_notes": "Bitte als Geschenk 🎁 verpacken — 谢谢! 👨‍👩‍👧‍👦",
}


async def test_unicode_emoji_and_right_to_left_text_survive_to_the_order_and_the_shipstation_export(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    payload = valid_order(merchant, customer_notes=UNICODE["customer_notes"])
    payload["ship_to"] = {
        key: UNICODE[key] for key in ("name", "company", "address1", "city", "postal_code", "country")
    }
    payload["lines"][0]["name"] = UNICODE["line_name"]
    payload["lines"][0]["options"] = [{"name": "Farbe", "value": UNICODE["option_value"]}]
    status, created = await post_order_json(system, merchant, payload)
    assert status == 201, created
    order = await system.api.ok("GET", "intake", f"/v1/orders/{created['id']}", token=merchant["key"])
    assert order["ship_to"] == payload["ship_to"] | {"address2": None, "state": None, "phone": None, "email": None}
    assert order["lines"][0]["name"] == UNICODE["line_name"]
    assert order["lines"][0]["options"] == [{"name": "Farbe", "value": UNICODE["option_value"]}]
    assert order["customer_notes"] == UNICODE["customer_notes"]

    exported = await wait_until(lambda: _exported_order(system, merchant, payload["order_number"]), timeout=20)
    ship_to = exported.find("Customer/ShipTo")
    assert ship_to is not None
    for key, tag in (("name", "Name"), ("company", "Company"), ("address1", "Address1"), ("city", "City")):
        assert ship_to.findtext(tag) == UNICODE[key], tag
    assert exported.findtext("CustomerNotes") == UNICODE["customer_notes"]
    assert exported.findtext("Items/Item/Name") == UNICODE["line_name"]
    assert exported.findtext("Items/Item/Options/Option/Value") == UNICODE["option_value"]


async def _exported_order(system: RunningSystem, merchant: dict[str, Any], order_number: str) -> Any:
    query = urlencode({"action": "export", **WIDE_WINDOW})
    auth = basic_auth(merchant["username"], merchant["password"])
    status, _, body, _ = await send(system, "GET", f"{merchant['endpoint']}?{query}", headers=auth)
    assert status == 200, body
    for order in etree.fromstring(body.encode()).iter("Order"):
        if (order.findtext("OrderNumber") or "").startswith(f"{order_number}-"):
            return order
    return None


SQL_LOOKING = [
    "Robert'); DROP TABLE orders;--",
    "' OR '1'='1",
    "1; DELETE FROM channels WHERE true; --",
    "$1 $$ ; SELECT pg_sleep(10) $$",
    "%s %(name)s {0} \\x27",
]


async def test_strings_that_look_like_sql_are_stored_verbatim(system: RunningSystem, merchant: dict[str, Any]) -> None:
    external_id = "x' OR 1=1 --" + unique("")
    payload = valid_order(merchant, external_id=external_id, customer_notes=SQL_LOOKING[0])
    payload["ship_to"]["name"] = SQL_LOOKING[1]
    payload["ship_to"]["address2"] = SQL_LOOKING[2]
    payload["internal_notes"] = SQL_LOOKING[3]
    payload["lines"][0]["name"] = SQL_LOOKING[4]
    started = time.perf_counter()
    status, created = await post_order_json(system, merchant, payload)
    assert status == 201, created
    assert time.perf_counter() - started < 5, "pg_sleep ran?"
    order = await system.api.ok("GET", "intake", f"/v1/orders/{created['id']}", token=merchant["key"])
    assert order["external_id"] == external_id
    assert order["customer_notes"] == SQL_LOOKING[0]
    assert order["ship_to"]["name"] == SQL_LOOKING[1]
    assert order["ship_to"]["address2"] == SQL_LOOKING[2]
    assert order["internal_notes"] == SQL_LOOKING[3]
    assert order["lines"][0]["name"] == SQL_LOOKING[4]
    # The tables are all still there and the same order is found by its (odd) external id.
    status, again = await post_order_json(system, merchant, payload)
    assert (status, again["id"]) == (200, created["id"])
    assert await system.intake.pool.fetchval("SELECT count(*) FROM channels") > 0


async def test_unknown_fields_are_ignored_and_not_stored(system: RunningSystem, merchant: dict[str, Any]) -> None:
    payload = valid_order(merchant, loyalty_points=120, __proto__={"admin": True}, id="ord_chosen_by_caller")
    payload["ship_to"]["geo"] = {"lat": 39.78, "lng": -89.65}
    payload["lines"][0]["vendor_hint"] = "west"
    status, created = await post_order_json(system, merchant, payload)
    assert status == 201, created
    assert created["id"] != "ord_chosen_by_caller"
    order = await system.api.ok("GET", "intake", f"/v1/orders/{created['id']}", token=merchant["key"])
    assert "loyalty_points" not in order and "__proto__" not in order
    assert "geo" not in order["ship_to"] and "vendor_hint" not in order["lines"][0]


# --- ShipStation: shipment notices ------------------------------------------------------------------


async def post_notice(
    system: RunningSystem, merchant: dict[str, Any], body: Any, query: dict[str, str] | None = None
) -> tuple[int, str, str]:
    params = urlencode({"action": "shipnotify", **(query or {})})
    headers = basic_auth(merchant["username"], merchant["password"]) | {"Content-Type": "application/xml"}
    status, content_type, answer, _ = await send(
        system, "POST", f"{merchant['endpoint']}?{params}", data=body, headers=headers
    )
    return status, content_type, answer


def assert_text_400(status: int, content_type: str, body: str, *reasons: str) -> None:
    assert (status, content_type) == (400, "text/plain"), body
    assert body.startswith("Bad request: "), body
    for reason in reasons:
        assert reason in body, body


@pytest.mark.parametrize(
    "body",
    [
        b"<ShipNotice><OrderID>1</OrderID>",
        b"<ShipNotice><OrderID>1</ShipNotice>",
        b"this is not XML at all",
        b"<<ShipNotice/>>",
        b"<ShipNotice><OrderID>a & b</OrderID></ShipNotice>",
        b"<ShipNotice></ShipNotice><ShipNotice></ShipNotice>",
    ],
    ids=["unclosed", "mismatched", "plain-text", "double-brackets", "bare-ampersand", "two-roots"],
)
async def test_malformed_xml_notice_is_400(system: RunningSystem, merchant: dict[str, Any], body: bytes) -> None:
    assert_text_400(*await post_notice(system, merchant, body), "malformed XML")


async def test_a_doctype_is_refused(system: RunningSystem, merchant: dict[str, Any]) -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE ShipNotice><ShipNotice><OrderID>1</OrderID></ShipNotice>'
    assert_text_400(*await post_notice(system, merchant, body), "DOCTYPE")


async def test_an_internal_entity_is_refused_and_never_expanded(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE ShipNotice [<!ENTITY secret "EXPANDED-ENTITY">]>'
        b"<ShipNotice><OrderNumber>&secret;</OrderNumber></ShipNotice>"
    )
    status, content_type, answer = await post_notice(system, merchant, body)
    assert_text_400(status, content_type, answer)
    assert "EXPANDED-ENTITY" not in answer
    assert not await _problems_mention(system, merchant, "EXPANDED-ENTITY")


async def test_an_external_entity_is_refused_and_never_fetched(system: RunningSystem, merchant: dict[str, Any]) -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE ShipNotice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<ShipNotice><OrderNumber>&xxe;</OrderNumber></ShipNotice>"
    )
    status, content_type, answer = await post_notice(system, merchant, body)
    assert_text_400(status, content_type, answer)
    assert "root:" not in answer
    assert not await _problems_mention(system, merchant, "root:")


async def test_the_billion_laughs_document_is_refused_quickly_without_expansion(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10))}">' for i in range(1, 10)
    ]
    body = (
        '<?xml version="1.0"?><!DOCTYPE ShipNotice [' + "".join(entities) + "]>"
        "<ShipNotice><OrderNumber>&lol9;</OrderNumber></ShipNotice>"
    ).encode()
    started = time.perf_counter()
    status, content_type, answer = await post_notice(system, merchant, body)
    assert time.perf_counter() - started < 2
    assert_text_400(status, content_type, answer)
    assert "lollol" not in answer


@pytest.mark.parametrize(
    "body",
    [b"<ShipNotice><OrderNumber>\xff\xfe</OrderNumber></ShipNotice>", b"\xc3\x28<ShipNotice/>", b"\x80" * 10],
    ids=["invalid-bytes-in-text", "broken-sequence", "lone-continuation-bytes"],
)
async def test_a_notice_that_is_not_utf8_is_400(system: RunningSystem, merchant: dict[str, Any], body: bytes) -> None:
    assert_text_400(*await post_notice(system, merchant, body), "not valid UTF-8")


async def test_an_oversized_notice_is_413_with_or_without_a_length(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    padding = b"<!--" + b"x" * MAX_NOTICE_BYTES + b"-->"
    body = b"<ShipNotice><OrderNumber>1</OrderNumber>" + padding + b"</ShipNotice>"
    status, content_type, answer = await post_notice(system, merchant, body)
    assert (status, content_type) == (413, "text/plain"), answer
    assert "Payload too large" in answer

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while reading
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    status, content_type, answer = await post_notice(system, merchant, chunked())
    assert (status, content_type) == (413, "text/plain"), answer


@pytest.mark.parametrize(
    ("body", "query", "reason"),
    [
        (b"<ShipNotice/>", {}, "neither OrderID nor an order number"),
        (b"", {}, "nothing names the order"),
        (b"<ShipNotice><Carrier>UPS</Carrier></ShipNotice>", {}, "neither OrderID nor an order number"),
        (b"<Order><OrderID>1</OrderID></Order>", {}, "expected <ShipNotice>"),
        (
            b"<ShipNotice><OrderID>1</OrderID><Items><Item><SKU>A</SKU></Item></Items></ShipNotice>",
            {},
            "no quantity",
        ),
        (
            b"<ShipNotice><OrderID>1</OrderID><Items><Item><SKU>A</SKU><Quantity>"
            + b"9" * 5000
            + b"</Quantity></Item></Items></ShipNotice>",
            {},
            "quantity",
        ),
        (b"<ShipNotice><OrderID>1</OrderID><ShipDate>02/30/2026</ShipDate></ShipNotice>", {}, "02/30/2026"),
        (b"<ShipNotice><OrderID>1</OrderID><ShippingCost>cheap</ShippingCost></ShipNotice>", {}, "ShippingCost"),
    ],
    ids=[
        "empty-root",
        "empty-body",
        "no-order",
        "wrong-root",
        "no-quantity",
        "5000-digit-quantity",
        "bad-date",
        "cost",
    ],
)
async def test_a_notice_missing_what_it_needs_is_400_saying_what(
    system: RunningSystem, merchant: dict[str, Any], body: bytes, query: dict[str, str], reason: str
) -> None:
    assert_text_400(*await post_notice(system, merchant, body, query), reason)


async def _problems_mention(system: RunningSystem, merchant: dict[str, Any], text: str) -> bool:
    problems = await system.api.ok("GET", "shipstation", f"/v1/shipstation/{merchant['vendor']}/problems")
    polls = await system.api.ok("GET", "shipstation", f"/v1/shipstation/{merchant['vendor']}/polls")
    return text in repr(problems) or text in repr(polls)


# --- ShipStation: export ----------------------------------------------------------------------------


async def get_export(system: RunningSystem, merchant: dict[str, Any], **query: str) -> tuple[int, str, str]:
    params = urlencode({"action": "export", **query})
    auth = basic_auth(merchant["username"], merchant["password"])
    status, content_type, body, _ = await send(system, "GET", f"{merchant['endpoint']}?{params}", headers=auth)
    return status, content_type, body


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("13/45/2026 10:00", "01/01/2027 00:00", "13/45/2026"),
        ("02/30/2026 10:00", "01/01/2027 00:00", "02/30/2026"),
        ("yesterday", "01/01/2027 00:00", "MM/dd/yyyy HH:mm"),
        ("2026-01-01T00:00:00Z", "01/01/2027 00:00", "MM/dd/yyyy HH:mm"),
        ("01/01/2026 24:00", "01/01/2027 00:00", "01/01/2026 24:00"),
        ("01/01/2026 00:00", "", "MM/dd/yyyy HH:mm"),
    ],
    ids=["month-13", "february-30", "words", "iso", "hour-24", "empty-end"],
)
async def test_invalid_export_dates_are_400_with_the_reason(
    system: RunningSystem, merchant: dict[str, Any], start: str, end: str, reason: str
) -> None:
    assert_text_400(*await get_export(system, merchant, start_date=start, end_date=end), reason)


async def test_an_export_from_the_first_to_the_last_minute_of_the_calendar_is_answered(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    # With a lookback, the window would start before 01/01/0001 and end after 12/31/9999 23:59.
    await system.api.ok(
        "PUT", "shipstation", f"/v1/shipstation/{merchant['vendor']}/settings", {"lookback_minutes": 60}
    )
    status, content_type, body = await get_export(
        system, merchant, start_date="01/01/0001 00:00", end_date="12/31/9999 23:59"
    )
    assert (status, content_type) == (200, "text/xml"), body
    assert etree.fromstring(body.encode()).tag == "Orders"


async def test_an_export_without_dates_is_400_naming_the_missing_one(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    assert_text_400(*await get_export(system, merchant, end_date="01/01/2027 00:00"), "start_date")
    assert_text_400(*await get_export(system, merchant, start_date="01/01/2027 00:00"), "end_date")


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "1e3", "²", "٣", "99999999", "9" * 5000, " "])
async def test_an_invalid_page_is_400(system: RunningSystem, merchant: dict[str, Any], page: str) -> None:
    status, content_type, body = await get_export(system, merchant, **WIDE_WINDOW, page=page)
    if page.strip():
        assert_text_400(status, content_type, body, "page")
    else:
        assert status == 200, body  # a blank page number means the first page, as ShipStation omits it


async def test_start_date_after_end_date_is_400(system: RunningSystem, merchant: dict[str, Any]) -> None:
    status, content_type, body = await get_export(
        system, merchant, start_date="01/02/2026 00:00", end_date="01/01/2026 00:00"
    )
    assert_text_400(status, content_type, body, "start_date is after end_date")


# --- access -----------------------------------------------------------------------------------------


def _basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, {}),
        ("wrong-password", {}),
        ("wrong-user", {}),
        ({"Authorization": "Basic !!!not-base64!!!"}, {}),
        (_basic(b"no-colon-here"), {}),
        ({"Authorization": "Bearer something"}, {}),
        ({}, "ss-wrong-password"),
        ({}, "ss-wrong-user"),
        ({}, "ss-only-username"),
    ],
    ids=[
        "none",
        "basic-wrong-password",
        "basic-wrong-user",
        "basic-not-base64",
        "basic-no-colon",
        "bearer",
        "query-wrong-password",
        "query-wrong-user",
        "query-username-only",
    ],
)
async def test_shipstation_endpoint_refuses_wrong_missing_and_malformed_credentials(
    system: RunningSystem, merchant: dict[str, Any], headers: Any, query: Any
) -> None:
    user, password = merchant["username"], merchant["password"]
    if headers == "wrong-password":
        headers = basic_auth(user, password + "x")
    elif headers == "wrong-user":
        headers = basic_auth(user + "x", password)
    if query == "ss-wrong-password":
        query = {"SS-UserName": user, "SS-Password": password[:-1]}
    elif query == "ss-wrong-user":
        query = {"SS-UserName": "nobody", "SS-Password": password}
    elif query == "ss-only-username":
        query = {"SS-UserName": user}
    params = urlencode({"action": "export", **WIDE_WINDOW, **query})
    status, content_type, body, answer_headers = await send(
        system, "GET", f"{merchant['endpoint']}?{params}", headers=headers
    )
    assert (status, content_type) == (401, "text/plain"), body
    assert "Unauthorized" in body
    assert answer_headers["WWW-Authenticate"].startswith("Basic realm=")
    assert password not in body


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "Bearer", "Bearer    ", "Basic YWRtaW46YWRtaW4=", "admin-token-without-scheme"],
    ids=["missing", "wrong", "scheme-only", "blank-token", "basic", "no-scheme"],
)
async def test_admin_api_refuses_wrong_missing_and_malformed_tokens(
    system: RunningSystem, authorization: str | None
) -> None:
    if authorization == "admin-token-without-scheme":
        authorization = system.env.admin_token
    headers = {"Authorization": authorization} if authorization is not None else {}
    status, content_type, body, _ = await send(system, "GET", system.url("splitter") + "/v1/vendors", headers=headers)
    assert_json_error(status, content_type, body, 401, "unauthorized")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer dsk_not-a-key", "Bearer", "dsk_key-without-scheme", "Basic c2hvcDprZXk="],
    ids=["missing", "unknown-key", "scheme-only", "no-scheme", "basic"],
)
async def test_channel_api_refuses_wrong_missing_and_malformed_keys(
    system: RunningSystem, merchant: dict[str, Any], authorization: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    status, content_type, body, _ = await send(
        system, "POST", system.url("intake") + "/v1/orders", data=b"{}", headers=headers
    )
    assert_json_error(status, content_type, body, 401, "unauthorized")


@pytest.mark.parametrize(
    ("service", "request_head", "content_type"),
    [
        ("splitter", b"GET /v1/vendors HTTP/1.1\r\nAuthorization: Bearer \xff\xfe\xfd", b"application/json"),
        ("intake", b"GET /v1/orders/ord_x HTTP/1.1\r\nAuthorization: Bearer \xed\xa0\x80", b"application/json"),
        ("shipstation", b"GET /shipstation/east?action=export HTTP/1.1\r\nAuthorization: Basic \xff", b"text/plain"),
        ("shipstation", b"GET /shipstation/east?action=export&SS-UserName=%FF&SS-Password=%FE HTTP/1.1", b"text/plain"),
    ],
    ids=["admin", "channel", "shipstation-basic", "shipstation-query"],
)
async def test_credentials_that_are_not_utf8_are_refused_not_a_crash(
    system: RunningSystem, service: str, request_head: bytes, content_type: bytes
) -> None:
    port = getattr(system, service).port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_head + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"401", answer
    assert b"Content-Type: " + content_type in rest, answer


async def test_a_channel_key_used_on_another_channels_order_is_403(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    status, order = await post_order_json(system, merchant, valid_order(merchant))
    assert status == 201, order
    other = unique("other-")
    other_key = (await system.api.ok("PUT", "intake", f"/v1/channels/{other}", {"name": "Other"}))["api_key"]
    for method, path in (("GET", f"/v1/orders/{order['id']}"), ("POST", f"/v1/orders/{order['id']}/cancel")):
        status, content_type, body, _ = await send(
            system, method, system.url("intake") + path, headers={"Authorization": f"Bearer {other_key}"}
        )
        assert_json_error(status, content_type, body, 403, "forbidden")
    # Posting an order in the other channel's name is refused the same way.
    status, body = await post_order_json(system, merchant | {"key": other_key}, valid_order(merchant))
    assert (status, body["error"]) == (403, "forbidden")


# --- the failure limiter and timing, on services of their own ----------------------------------------


@asynccontextmanager
async def own_service(
    system: RunningSystem, definition: ServiceDefinition[Any], **overrides: Any
) -> AsyncIterator[tuple[Runtime, str]]:
    """Another instance of ``definition`` beside the shared ones (same database and namespace), so its
    failure counts are its own."""
    settings = system.env.settings(
        splitter_port=system.splitter.port,
        tracking_port=system.tracking.port,
        shipstation_port=system.shipstation.port,
        intake_port=system.intake.port,
        **overrides,
    )
    async with running_service(definition, settings, port=0) as runtime:
        yield runtime, f"http://127.0.0.1:{runtime.port}"


async def test_repeated_failures_from_one_address_get_429_for_a_while_on_the_channel_and_admin_api(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    async with own_service(system, INTAKE, auth_failure_limit=3, auth_failure_window_seconds=2) as (_, base):
        good = {"Authorization": f"Bearer {merchant['key']}"}
        wrong = {"Authorization": "Bearer dsk_guess"}
        orders = base + "/v1/orders/ord_none"
        for _ in range(2):
            status, *_ = await send(system, "GET", orders, headers=wrong)
            assert status == 401
        for _ in range(10):  # successes neither count nor reset the count
            status, *_ = await send(system, "GET", orders, headers=good)
            assert status == 404
        # The third failure, on the admin API this time: the same address, the same count.
        status, *_ = await send(system, "PUT", base + "/v1/channels/x", headers=wrong)
        assert status == 401
        for headers in (wrong, good, {"Authorization": f"Bearer {system.env.admin_token}"}):
            status, content_type, body, answer_headers = await send(system, "GET", orders, headers=headers)
            assert_json_error(status, content_type, body, 429, "too_many_failures")
            assert 1 <= int(answer_headers["Retry-After"]) <= 2
        status, content_type, body, _ = await send(system, "PUT", base + "/v1/channels/x", headers=good)
        assert_json_error(status, content_type, body, 429, "too_many_failures")
        # Unauthenticated routes are not affected.
        status, *_ = await send(system, "GET", base + "/healthz")
        assert status == 200
        await asyncio.sleep(2.1)
        status, *_ = await send(system, "GET", orders, headers=good)
        assert status == 404


async def test_repeated_failures_get_429_with_a_text_answer_on_the_shipstation_endpoint(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    async with own_service(system, SHIPSTATION, auth_failure_limit=3, auth_failure_window_seconds=30) as (_, base):
        url = f"{base}/shipstation/{merchant['vendor']}?{urlencode({'action': 'export', **WIDE_WINDOW})}"
        wrong = basic_auth(merchant["username"], "guess")
        for _ in range(3):
            status, *_ = await send(system, "GET", url, headers=wrong)
            assert status == 401
        good = basic_auth(merchant["username"], merchant["password"])
        status, content_type, body, headers = await send(system, "GET", url, headers=good)
        assert (status, content_type) == (429, "text/plain"), body
        assert "Too many failed logins" in body
        assert 1 <= int(headers["Retry-After"]) <= 30


async def test_a_wrong_user_and_a_wrong_password_take_the_same_time(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    async with own_service(system, SHIPSTATION, auth_failure_limit=0) as (_, base):
        url = f"{base}/shipstation/{merchant['vendor']}?{urlencode({'action': 'export', **WIDE_WINDOW})}"
        variants = {
            "wrong_user": basic_auth(merchant["username"] + "x", merchant["password"]),
            "wrong_password": basic_auth(merchant["username"], merchant["password"] + "x"),
        }
        timings: dict[str, list[float]] = {name: [] for name in variants}
        await send(system, "GET", url, headers=variants["wrong_user"])  # warm up the connection
        for _ in range(30):
            for name, headers in variants.items():  # interleaved, so drift hits both alike
                started = time.perf_counter()
                status, *_ = await send(system, "GET", url, headers=headers)
                timings[name].append(time.perf_counter() - started)
                assert status == 401
    ratio = statistics.median(timings["wrong_user"]) / statistics.median(timings["wrong_password"])
    assert 0.5 <= ratio <= 2, timings


# --- and afterwards ---------------------------------------------------------------------------------


async def test_after_the_barrage_every_service_is_ready_and_an_order_still_flows(
    system: RunningSystem, merchant: dict[str, Any]
) -> None:
    for service in ("intake", "splitter", "shipstation", "tracking"):
        status, _, body, _ = await send(system, "GET", system.url(service) + "/readyz")
        assert status == 200, (service, body)
    payload = valid_order(merchant)
    status, created = await post_order_json(system, merchant, payload)
    assert status == 201, created
    exported = await wait_until(lambda: _exported_order(system, merchant, payload["order_number"]), timeout=20)
    assert exported.findtext("Items/Item/SKU") == merchant["sku"]
