"""The HTTP contracts of intake and the splitter: access, validation, idempotency, clear 4xx answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import RunningSystem
from tests.support import order_payload, unique


@pytest.fixture
async def channel(system: RunningSystem) -> dict[str, Any]:
    code = unique("shop-")
    created = await system.api.ok("PUT", "intake", f"/v1/channels/{code}", {"name": "Shop"})
    return {"code": code, "key": created["api_key"], "secret": created["webhook_secret"]}


async def test_channel_is_created_once_and_its_key_and_secret_shown_once(system: RunningSystem) -> None:
    code = unique("shop-")
    status, created = await system.api.call("PUT", "intake", f"/v1/channels/{code}", {"name": "Shop"})
    assert status == 201
    assert created["api_key"].startswith("dsk_") and created["webhook_secret"].startswith("whsec_")
    status, updated = await system.api.call("PUT", "intake", f"/v1/channels/{code}", {"name": "Shop 2"})
    assert status == 200 and "api_key" not in updated and "webhook_secret" not in updated
    # The key in use (intake remembers a key it has found for a few seconds)...
    status, _ = await system.api.call("POST", "intake", "/v1/orders", order_payload(code, []), token=created["api_key"])
    assert status == 422  # an order without lines: the key was taken
    rotated = await system.api.ok("POST", "intake", f"/v1/channels/{code}/key")
    assert rotated["api_key"] != created["api_key"]
    # ...stops working at once when rotated, and the new one works.
    status, _ = await system.api.call("POST", "intake", "/v1/orders", order_payload(code, []), token=created["api_key"])
    assert status == 401
    status, _ = await system.api.call("POST", "intake", "/v1/orders", order_payload(code, []), token=rotated["api_key"])
    assert status == 422


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({}, 401), ({"Authorization": "Bearer nope"}, 401), ({"Authorization": "Basic abc"}, 401)],
)
async def test_channel_api_refuses_missing_or_wrong_keys(
    system: RunningSystem, channel: dict[str, Any], headers: dict[str, str], expected: int
) -> None:
    payload = order_payload(channel["code"], [("SKU", 1, "1.00")], discounts=[])
    async with system.api.session.post(system.url("intake") + "/v1/orders", json=payload, headers=headers) as response:
        assert response.status == expected
        body = await response.json()
        assert body["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("method", "service", "path"),
    [
        ("PUT", "intake", "/v1/channels/x"),
        ("PUT", "splitter", "/v1/vendors/x"),
        ("PUT", "splitter", "/v1/catalog/x"),
        ("GET", "splitter", "/v1/orders/x/routing"),
        ("POST", "shipstation", "/v1/shipstation/x/credentials"),
        ("GET", "tracking", "/v1/orders/x/shipments"),
    ],
)
async def test_admin_api_needs_the_admin_token(
    system: RunningSystem, channel: dict[str, Any], method: str, service: str, path: str
) -> None:
    for token in ("wrong", channel["key"]):
        status, body = await system.api.call(method, service, path, {"name": "x"}, token=token)
        assert status == 401, (path, body)


async def test_a_channel_key_acts_only_for_its_own_channel(system: RunningSystem, channel: dict[str, Any]) -> None:
    other = unique("other-")
    other_key = (await system.api.ok("PUT", "intake", f"/v1/channels/{other}", {"name": "Other"}))["api_key"]
    payload = order_payload(channel["code"], [("SKU", 1, "1.00")], discounts=[])
    status, body = await system.api.call("POST", "intake", "/v1/orders", payload, token=other_key)
    assert (status, body["error"]) == (403, "forbidden")
    order = await system.api.ok("POST", "intake", "/v1/orders", payload, token=channel["key"])
    for method, path in (("GET", f"/v1/orders/{order['id']}"), ("POST", f"/v1/orders/{order['id']}/cancel")):
        status, _ = await system.api.call(method, "intake", path, token=other_key)
        assert status == 403
    # The admin may act for any channel.
    status, _ = await system.api.call("GET", "intake", f"/v1/orders/{order['id']}")
    assert status == 200


async def test_same_channel_order_twice_answers_the_stored_order_and_publishes_nothing_new(
    system: RunningSystem, channel: dict[str, Any]
) -> None:
    payload = order_payload(channel["code"], [("SKU-A", 1, "1.00")], discounts=[])
    status, first = await system.api.call("POST", "intake", "/v1/orders", payload, token=channel["key"])
    assert status == 201
    for _ in range(3):
        status, again = await system.api.call("POST", "intake", "/v1/orders", payload, token=channel["key"])
        assert (status, again["id"]) == (200, first["id"])
    events = await system.intake.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE correlation_id = $1 AND message_type = 'order.received'", first["id"]
    )
    assert events == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.pop("ship_to"), "ship_to"),
        (lambda p: p["ship_to"].pop("address1"), "ship_to.address1"),
        (lambda p: p["ship_to"].pop("postal_code"), "ship_to.postal_code"),
        (lambda p: p["ship_to"].update(city="  "), "ship_to.city"),
        (lambda p: p["ship_to"].update(country="XX"), "ship_to.country"),
        (lambda p: p.update(ordered_at="2026-11-26T23:41:00"), "ordered_at"),
        (lambda p: p.update(ordered_at="yesterday"), "ordered_at"),
        (lambda p: p["lines"][0].update(quantity=0), "lines.0.quantity"),
        (lambda p: p["lines"][0].update(quantity=1.5), "lines.0.quantity"),
        (lambda p: p["lines"][0].update(unit_price=19.75), "lines.0.unit_price"),
        (lambda p: p["lines"][0].update(unit_price="19.999"), "lines.0.unit_price"),
        (lambda p: p.update(lines=[]), "lines"),
        (lambda p: p.update(currency="dollars"), "currency"),
    ],
)
async def test_invalid_orders_get_422_naming_the_field(
    system: RunningSystem, channel: dict[str, Any], change: Any, field: str
) -> None:
    payload = order_payload(channel["code"], [("SKU", 2, "19.75")], discounts=[])
    change(payload)
    status, body = await system.api.call("POST", "intake", "/v1/orders", payload, token=channel["key"])
    assert status == 422, body
    assert field in body["fields"], body


async def test_unknown_channel_in_an_admin_posted_order_is_422(system: RunningSystem) -> None:
    payload = order_payload(unique("ghost-"), [("SKU", 1, "1.00")], discounts=[])
    status, body = await system.api.call("POST", "intake", "/v1/orders", payload)
    assert status == 422 and "channel" in body["fields"]


async def test_malformed_and_oversized_bodies(system: RunningSystem, channel: dict[str, Any]) -> None:
    url = system.url("intake") + "/v1/orders"
    headers = {"Authorization": f"Bearer {channel['key']}", "Content-Type": "application/json"}
    for body in (b"{not json", b"[1, 2]", b"", "\udcff".encode("utf-8", "surrogatepass")):
        async with system.api.session.post(url, data=body, headers=headers) as response:
            assert response.status == 400, body
            assert (await response.json())["error"] in {"malformed_json", "empty_body"}
    huge = b'{"channel": "' + b"x" * (system.intake.settings.max_body_bytes + 10) + b'"}'
    async with system.api.session.post(url, data=huge, headers=headers) as response:
        assert response.status == 413
        assert (await response.json())["error"] == "body_too_large"


RTL_NAME = "\u200fמשה כהן / محمد الأحمد\u200f"
CHANNEL_TEXT = {
    "line_name": "Organic Cotton Crew-Neck T-Shirt \u2013 Heather Grey / XL / Long " * 9 + "👕",
    "note": "Ring the bell\x07 twice 🔔🐶 — gate code \x1b#42\t(back door)",
}


async def test_text_is_stored_as_the_channel_sent_it(system: RunningSystem, channel: dict[str, Any]) -> None:
    line_name = CHANNEL_TEXT["line_name"][:499] + "!"
    payload = order_payload(channel["code"], [("SKU", 1, "1.00")], discounts=[], customer_notes=CHANNEL_TEXT["note"])
    payload["lines"][0]["name"] = line_name
    payload["ship_to"]["name"] = RTL_NAME
    assert len(line_name) == 500

    status, created = await system.api.call("POST", "intake", "/v1/orders", payload, token=channel["key"])

    assert status == 201, created
    stored = await system.api.ok("GET", "intake", f"/v1/orders/{created['id']}", token=channel["key"])
    for answer in (created, stored):
        assert answer["lines"][0]["name"] == line_name
        assert answer["customer_notes"] == CHANNEL_TEXT["note"]
        assert answer["ship_to"]["name"] == RTL_NAME


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lines.0.name", "n" * 10_001),
        ("customer_notes", "n" * 10_001),
        ("ship_to.address1", "n" * 10_001),
        ("lines.0.sku", "S" * 101),
        ("external_id", "E" * 101),
        ("order_number", "1" * 41),
    ],
)
async def test_text_over_its_limit_is_422_naming_the_field(
    system: RunningSystem, channel: dict[str, Any], field: str, value: str
) -> None:
    payload = order_payload(channel["code"], [("SKU", 1, "1.00")], discounts=[])
    *path, last = [int(part) if part.isdigit() else part for part in field.split(".")]
    target: Any = payload
    for part in path:
        target = target[part]
    target[last] = value

    status, body = await system.api.call("POST", "intake", "/v1/orders", payload, token=channel["key"])

    assert status == 422, body
    assert list(body["fields"]) == [field], body


async def test_a_quantity_written_as_2_0_is_two(system: RunningSystem, channel: dict[str, Any]) -> None:
    url = system.url("intake") + "/v1/orders"
    payload = order_payload(channel["code"], [("SKU", 7, "1.00")], discounts=[])
    raw = json.dumps(payload).replace('"quantity": 7', '"quantity": 2.0')
    headers = {"Authorization": f"Bearer {channel['key']}", "Content-Type": "application/json"}

    async with system.api.session.post(url, data=raw, headers=headers) as response:
        body = await response.json()

    assert response.status == 201, body
    assert body["lines"][0]["quantity"] == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 202),
        (b"  \n", 202),
        (b'{"reason": "customer changed their mind"}', 202),
        (b"{}", 202),
        (b'{"reason": 5}', 422),
        (b'{"reason": "' + b"r" * 501 + b'"}', 422),
        (b'{"reason": "ok", "refund": true}', 422),
        (b'["reason"]', 400),
        (b"null", 400),
        (b"{not json", 400),
    ],
    ids=["none", "whitespace", "reason", "empty-object", "number", "too-long", "extra-field", "array", "null", "bad"],
)
async def test_a_cancel_body_is_nothing_or_an_object_with_a_reason(
    system: RunningSystem, channel: dict[str, Any], body: bytes, status: int
) -> None:
    order = await system.api.ok(
        "POST", "intake", "/v1/orders", order_payload(channel["code"], [("SKU", 1, "1.00")], discounts=[])
    )
    url = system.url("intake") + f"/v1/orders/{order['id']}/cancel"
    headers = {"Authorization": f"Bearer {channel['key']}", "Content-Type": "application/json"}

    async with system.api.session.post(url, data=body, headers=headers) as response:
        answer = await response.json()

    assert response.status == status, answer
    if status == 202:
        assert answer["status"] == "cancelled"
    else:
        current = await system.api.ok("GET", "intake", f"/v1/orders/{order['id']}")
        assert current["status"] != "cancelled"


async def test_unknown_order_is_404_and_unknown_route_is_json_404(
    system: RunningSystem, channel: dict[str, Any]
) -> None:
    status, body = await system.api.call("GET", "intake", "/v1/orders/ord_missing", token=channel["key"])
    assert (status, body["error"]) == (404, "not_found")
    status, body = await system.api.call("GET", "intake", "/v1/nothing-here")
    assert status == 404 and body["error"] == "not_found"


async def test_vendor_and_catalog_validation(system: RunningSystem) -> None:
    api = system.api
    status, _ = await api.call("PUT", "splitter", "/v1/vendors/Bad.Code", {"name": "x", "kind": "webhook"})
    assert status == 400
    status, body = await api.call("PUT", "splitter", f"/v1/vendors/{unique('v-')}", {"name": "x", "kind": "fax"})
    assert status == 422 and "kind" in body["fields"]
    status, body = await api.call("PUT", "splitter", "/v1/catalog/SKU-1", {"sources": [{"vendor": "nobody-here"}]})
    assert status == 422 and "sources.0.vendor" in body["fields"]
    vendor = unique("v-")
    await api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", {"name": "V", "kind": "webhook"})
    status, body = await api.call(
        "PUT", "splitter", "/v1/catalog/SKU-1", {"sources": [{"vendor": vendor, "cost": 3.5}]}
    )
    assert status == 422 and "sources.0.cost" in body["fields"]
    entry = await api.ok("PUT", "splitter", "/v1/catalog/SKU-1", {"sources": [{"vendor": vendor, "cost": "3.50"}]})
    assert entry["sources"][0]["cost"] == "3.50"


async def test_shipstation_credentials_only_for_known_shipstation_vendors(system: RunningSystem) -> None:
    api = system.api
    status, body = await api.call("POST", "shipstation", f"/v1/shipstation/{unique('nobody-')}/credentials")
    assert (status, body["error"]) == (404, "unknown_vendor")
    webhook_vendor = unique("wh-")
    await api.ok("PUT", "splitter", f"/v1/vendors/{webhook_vendor}", {"name": "W", "kind": "webhook"})
    status, body = await api.call("POST", "shipstation", f"/v1/shipstation/{webhook_vendor}/credentials")
    assert (status, body["error"]) == (409, "wrong_kind")
