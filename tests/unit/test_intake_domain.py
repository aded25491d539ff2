"""Intake's rules, free of I/O (services/intake/domain.py): what a valid channel order is, how it becomes
``order.received``, which text and identifiers it takes, who may act on an order, when it can be
cancelled and which status its view shows. (Webhook signing: test_webhooks.py; backoff: test_backoff.py.)

Bodies are parsed exactly as the HTTP layer does (shared/http.py ``read_json``):
``json.loads(raw, parse_float=Decimal)``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from services.intake.domain import (
    ADMIN,
    CANCELLABLE_STATUSES,
    Caller,
    CancelRequest,
    NotCancellable,
    OrderRequest,
    cancel_decision,
    hash_api_key,
    new_api_key,
    shown_status,
    to_order_received,
    webhook_event_type,
)
from services.intake.fields import FREE_TEXT_MAX_CHARS
from services.intake.status_order import status_change_is_stale, status_change_overtook

Payload = dict[str, Any]


def base_payload() -> Payload:
    """The example order of the README walkthrough and docs/architecture.md."""
    return {
        "channel": "shop-main",
        "external_id": "5521",
        "order_number": "1001",
        "ordered_at": "2026-11-26T23:41:00-06:00",
        "status": "paid",
        "currency": "USD",
        "customer": {"name": "Jo Müller", "email": "jo@example.com", "phone": "+1 555 0100"},
        "bill_to": {"name": "Jo Müller", "company": None, "phone": "+1 555 0100", "email": "jo@example.com"},
        "ship_to": {
            "name": "Jo Müller",
            "company": "Acme & Sons",
            "address1": "1 Main St",
            "address2": "Apt 4",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "country": "US",
            "phone": "+1 555 0100",
        },
        "shipping_method": "UPS Ground",
        "payment_method": "Credit Card",
        "tax_amount": "3.99",
        "shipping_amount": "5.99",
        "discounts": [{"code": "WELCOME5", "amount": "5.00"}],
        "gift": True,
        "gift_message": "Happy birthday, Jo!",
        "customer_notes": "Leave at the back door",
        "internal_notes": "Fraud check passed",
        "total_weight": "13.00",
        "weight_unit": "ounces",
        "lines": [
            {
                "line_id": "L1",
                "sku": "TSHIRT-RED-M",
                "name": "T-shirt, red",
                "quantity": 2,
                "unit_price": "19.75",
                "weight": "6.50",
                "weight_unit": "ounces",
                "image_url": "https://cdn.example.com/t.jpg",
                "options": [{"name": "Color", "value": "Red"}, {"name": "Size", "value": "M"}],
                "location": "A-12-3",
                "upc": "012345678905",
            }
        ],
    }


def minimal_payload() -> Payload:
    return {
        "channel": "shop-main",
        "external_id": "77",
        "order_number": "2002",
        "ordered_at": "2026-11-26T12:00:00Z",
        "currency": "EUR",
        "ship_to": {
            "name": "Ana",
            "address1": "Hauptstr. 1",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
        "lines": [{"sku": "MUG", "name": "Mug", "quantity": 1, "unit_price": "8.00"}],
    }


def parse(raw: str | bytes) -> OrderRequest:
    return OrderRequest.model_validate(json.loads(raw, parse_float=Decimal))


def parse_payload(payload: Payload) -> OrderRequest:
    return parse(json.dumps(payload))


def error_locations(error: ValidationError) -> list[tuple[int | str, ...]]:
    return [tuple(e["loc"]) for e in error.errors()]


# ---------------------------------------------------------------------------------------------- bad inputs


@dataclass(frozen=True)
class Bad:
    name: str
    change: Callable[[Payload], None]
    location: tuple[int | str, ...]
    message: str | None = None


def drop(*path: str | int) -> Callable[[Payload], None]:
    def change(payload: Payload) -> None:
        target: Any = payload
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def put(value: Any, *path: str | int) -> Callable[[Payload], None]:
    def change(payload: Payload) -> None:
        target: Any = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def duplicate_line_ids(payload: Payload) -> None:
    second = copy.deepcopy(payload["lines"][0])
    second["sku"] = "OTHER"
    payload["lines"].append(second)


LINE = ("lines", 0)
# "012345678905" in other scripts' digits, which ``\d`` would accept.
ARABIC_INDIC_UPC = "".join(chr(0x0660 + int(d)) for d in "012345678905")
FULL_WIDTH_UPC = "".join(chr(0xFF10 + int(d)) for d in "012345678905")
BAD_CASES = [
    Bad("missing ship_to", drop("ship_to"), ("ship_to",)),
    Bad("ship_to null", put(None, "ship_to"), ("ship_to",)),
    Bad("missing ship_to.address1", drop("ship_to", "address1"), ("ship_to", "address1")),
    Bad("blank ship_to.address1", put("   ", "ship_to", "address1"), ("ship_to", "address1")),
    Bad("missing ship_to.city", drop("ship_to", "city"), ("ship_to", "city")),
    Bad("missing ship_to.postal_code", drop("ship_to", "postal_code"), ("ship_to", "postal_code")),
    Bad("missing ship_to.name", drop("ship_to", "name"), ("ship_to", "name")),
    Bad("missing ship_to.country", drop("ship_to", "country"), ("ship_to", "country")),
    Bad("country XX", put("XX", "ship_to", "country"), ("ship_to", "country"), "ISO 3166"),
    Bad("country USA", put("USA", "ship_to", "country"), ("ship_to", "country"), "ISO 3166"),
    Bad("US address without state", drop("ship_to", "state"), ("ship_to",), "state is required"),
    Bad("US address with blank state", put("  ", "ship_to", "state"), ("ship_to", "state")),
    Bad("US address with null state", put(None, "ship_to", "state"), ("ship_to",), "state is required"),
    Bad("quantity 0", put(0, *LINE, "quantity"), (*LINE, "quantity")),
    Bad("quantity -1", put(-1, *LINE, "quantity"), (*LINE, "quantity")),
    Bad("quantity 1.5", put(1.5, *LINE, "quantity"), (*LINE, "quantity")),
    Bad("quantity 2.5", put(2.5, *LINE, "quantity"), (*LINE, "quantity")),
    Bad("quantity 100000.0", put(100_000.0, *LINE, "quantity"), (*LINE, "quantity")),
    Bad('quantity "2"', put("2", *LINE, "quantity"), (*LINE, "quantity")),
    Bad("quantity 10**9", put(10**9, *LINE, "quantity"), (*LINE, "quantity")),
    Bad("quantity true", put(True, *LINE, "quantity"), (*LINE, "quantity")),
    Bad("quantity missing", drop(*LINE, "quantity"), (*LINE, "quantity")),
    Bad("unit_price as a JSON number", put(19.99, *LINE, "unit_price"), (*LINE, "unit_price"), "not a number"),
    Bad("unit_price as a JSON integer", put(20, *LINE, "unit_price"), (*LINE, "unit_price"), "not a number"),
    Bad('unit_price "1.999"', put("1.999", *LINE, "unit_price"), (*LINE, "unit_price")),
    Bad('unit_price "-1.00"', put("-1.00", *LINE, "unit_price"), (*LINE, "unit_price"), "negative"),
    Bad('unit_price "abc"', put("abc", *LINE, "unit_price"), (*LINE, "unit_price")),
    Bad("unit_price null", put(None, *LINE, "unit_price"), (*LINE, "unit_price")),
    Bad("tax_amount as a JSON number", put(3.99, "tax_amount"), ("tax_amount",), "not a number"),
    Bad("shipping_amount negative", put("-5.99", "shipping_amount"), ("shipping_amount",), "negative"),
    Bad("discount amount as a JSON number", put(5.0, "discounts", 0, "amount"), ("discounts", 0, "amount")),
    Bad("naive ordered_at", put("2026-11-26T23:41:00", "ordered_at"), ("ordered_at",), "timezone"),
    Bad("invalid date", put("2026-02-30T10:00:00Z", "ordered_at"), ("ordered_at",)),
    Bad("not a date", put("yesterday", "ordered_at"), ("ordered_at",)),
    Bad("missing ordered_at", drop("ordered_at"), ("ordered_at",)),
    Bad('currency "usd"', put("usd", "currency"), ("currency",)),
    Bad('currency "US"', put("US", "currency"), ("currency",)),
    Bad("empty lines", put([], "lines"), ("lines",)),
    Bad("missing lines", drop("lines"), ("lines",)),
    Bad("duplicate line_id", duplicate_line_ids, (), "line_id values must be unique"),
    Bad("discounts exceeding subtotal", put([{"code": "BIG", "amount": "39.51"}], "discounts"), (), "exceed"),
    Bad(
        "several discounts exceeding subtotal together",
        put([{"code": "A", "amount": "20.00"}, {"code": "B", "amount": "19.51"}], "discounts"),
        (),
        "exceed",
    ),
    Bad("upc too short", put("12345", *LINE, "upc"), (*LINE, "upc")),
    Bad("upc too long", put("012345678905123", *LINE, "upc"), (*LINE, "upc")),
    Bad("upc with a letter", put("01234567890A", *LINE, "upc"), (*LINE, "upc")),
    Bad("upc in scientific notation", put("1.23457E+11", *LINE, "upc"), (*LINE, "upc")),
    Bad("upc with Arabic-Indic digits", put(ARABIC_INDIC_UPC, *LINE, "upc"), (*LINE, "upc")),
    Bad("upc with full-width digits", put(FULL_WIDTH_UPC, *LINE, "upc"), (*LINE, "upc")),
    Bad("unknown status", put("shipped", "status"), ("status",)),
    Bad("channel with capitals and a space", put("Shop Main", "channel"), ("channel",)),
    Bad("blank external_id", put(" ", "external_id"), ("external_id",)),
    Bad("line weight unit kg", put("kg", *LINE, "weight_unit"), (*LINE, "weight_unit")),
    Bad("negative line weight", put("-1", *LINE, "weight"), (*LINE, "weight")),
    Bad("line without a sku", drop(*LINE, "sku"), (*LINE, "sku")),
    Bad("option without a value", put([{"name": "Color"}], *LINE, "options"), (*LINE, "options", 0, "value")),
    Bad("gift 0", put(0, "gift"), ("gift",)),
    Bad('gift "true"', put("true", "gift"), ("gift",)),
    Bad("ordered_at as Unix time", put(1_700_000_000, "ordered_at"), ("ordered_at",)),
    Bad('ordered_at "1700000000"', put("1700000000", "ordered_at"), ("ordered_at",)),
]


@pytest.mark.parametrize("case", BAD_CASES, ids=[c.name for c in BAD_CASES])
def test_order_request_refuses(case: Bad) -> None:
    payload = base_payload()
    case.change(payload)

    with pytest.raises(ValidationError) as error:
        parse_payload(payload)

    assert case.location in error_locations(error.value)
    if case.message is not None:
        messages = [e["msg"] for e in error.value.errors() if tuple(e["loc"]) == case.location]
        assert any(case.message in message for message in messages), messages


def test_the_base_payload_itself_is_valid() -> None:
    # The table above changes one thing at a time: without this, a broken base would make it pass.
    request = parse_payload(base_payload())

    assert request.order_number == "1001"


@pytest.mark.parametrize(
    ("raw_price", "location"),
    [("19.99", ("lines", 0, "unit_price")), ("1e1", ("lines", 0, "unit_price"))],
)
def test_money_as_a_raw_json_number_is_refused(raw_price: str, location: tuple[int | str, ...]) -> None:
    raw = json.dumps(minimal_payload()).replace('"unit_price": "8.00"', f'"unit_price": {raw_price}')
    assert raw_price in raw

    with pytest.raises(ValidationError) as error:
        parse(raw)

    assert location in error_locations(error.value)


@pytest.mark.parametrize("country", ["CA", "AU"])
def test_other_countries_that_need_a_state(country: str) -> None:
    payload = minimal_payload()
    payload["ship_to"]["country"] = country

    with pytest.raises(ValidationError) as error:
        parse_payload(payload)

    assert ("ship_to",) in error_locations(error.value)
    assert "state" in str(error.value)


def test_every_missing_address_field_is_named_at_once() -> None:
    payload = base_payload()
    for field in ["name", "address1", "city", "postal_code"]:
        del payload["ship_to"][field]

    with pytest.raises(ValidationError) as error:
        parse_payload(payload)

    assert {("ship_to", f) for f in ["name", "address1", "city", "postal_code"]} <= set(error_locations(error.value))


# ---------------------------------------------------------------------------------------------- good inputs

NAMES = [
    "Jo Müller",
    "Zoë O'Brien-Łukasiewicz",
    "山田 太郎",
    "🎉 Party Person 🦄",
    "👩‍👩‍👧‍👦 Family",  # a zero-width-joiner sequence: must not be split or normalised
    "שרה כהן",  # Hebrew, right to left
    "محمد الأحمد",  # Arabic, right to left
    "\u202eevil\u202c Name",  # explicit bidi override characters are kept as sent
    "Åsa Ñúñez",
]


@pytest.mark.parametrize("name", NAMES)
def test_unicode_names_are_kept_intact(name: str) -> None:
    payload = base_payload()
    payload["ship_to"]["name"] = name
    payload["customer"]["name"] = name
    payload["lines"][0]["name"] = name
    payload["gift_message"] = f"Für {name} ❤️"

    for raw in (json.dumps(payload), json.dumps(payload, ensure_ascii=False).encode()):
        request = parse(raw)
        order = to_order_received("ord_1", request)

        assert request.ship_to.name == name
        assert order.ship_to.name == name
        assert order.customer is not None and order.customer.name == name
        assert order.lines[0].name == name
        assert order.gift_message == f"Für {name} ❤️"


SQL_LOOKING = [
    "Robert'); DROP TABLE orders;--",
    "1' OR '1'='1",
    '"; DELETE FROM vendor_orders WHERE ""="',
    "%s %s %(x)s $1 \\x00",
]


@pytest.mark.parametrize("text", SQL_LOOKING)
def test_sql_looking_strings_are_kept_verbatim(text: str) -> None:
    payload = base_payload()
    payload["ship_to"]["address1"] = text
    payload["customer_notes"] = text
    payload["internal_notes"] = text
    payload["lines"][0]["sku"] = text
    payload["lines"][0]["options"][0]["value"] = text

    order = to_order_received("ord_1", parse_payload(payload))

    assert order.ship_to.address1 == text
    assert order.customer_notes == text
    assert order.internal_notes == text
    assert order.lines[0].sku == text
    assert order.lines[0].options[0].value == text


def test_unknown_fields_are_ignored_at_every_level() -> None:
    payload = base_payload()
    payload["x_channel_extra"] = {"anything": [1, 2, 3]}
    payload["ship_to"]["geo"] = {"lat": 1.5, "lng": 2.5}
    payload["lines"][0]["x_taxable"] = True
    payload["discounts"][0]["kind"] = "percent"
    payload["customer"]["loyalty_tier"] = "gold"

    request = parse_payload(payload)

    assert "x_channel_extra" not in request.model_dump()
    assert "geo" not in request.ship_to.model_dump()
    assert "x_taxable" not in request.lines[0].model_dump()
    assert "kind" not in request.discounts[0].model_dump()
    order = to_order_received("ord_1", request)
    dumped = order.model_dump_json()
    for unknown in ["x_channel_extra", "geo", "x_taxable", "percent", "loyalty_tier"]:
        assert unknown not in dumped


def test_defaults_of_a_minimal_order() -> None:
    request = parse_payload(minimal_payload())

    assert request.status == "paid"
    assert request.tax_amount == Decimal("0")
    assert request.shipping_amount == Decimal("0")
    assert request.discounts == []
    assert request.gift is False
    assert request.customer is None
    assert request.bill_to is None
    assert request.total_weight is None
    assert request.lines[0].line_id is None
    assert request.lines[0].options == []
    assert request.ship_to.state is None  # Germany needs no state


@pytest.mark.parametrize("status", ["paid", "unpaid", "on_hold"])
def test_every_channel_status_is_accepted(status: str) -> None:
    payload = minimal_payload()
    payload["status"] = status

    assert parse_payload(payload).status == status


def test_country_is_upper_cased_and_text_is_trimmed() -> None:
    payload = minimal_payload()
    payload["ship_to"]["country"] = " de "
    payload["ship_to"]["city"] = "  Berlin  "
    payload["lines"][0]["sku"] = " MUG "

    request = parse_payload(payload)

    assert request.ship_to.country == "DE"
    assert request.ship_to.city == "Berlin"
    assert request.lines[0].sku == "MUG"


@pytest.mark.parametrize("quantity", [1, 99_999])
def test_quantity_bounds_are_accepted(quantity: int) -> None:
    payload = minimal_payload()
    payload["lines"][0]["quantity"] = quantity

    assert parse_payload(payload).lines[0].quantity == quantity


@pytest.mark.parametrize(("raw", "quantity"), [("2.0", 2), ("1.00", 1), ("1e2", 100), ("99999.0", 99_999)])
def test_a_quantity_written_with_a_zero_fraction_is_that_whole_number(raw: str, quantity: int) -> None:
    # JSON Schema's "integer" is any number whose fraction is zero; the OpenAPI document says "integer".
    body = json.dumps(minimal_payload()).replace('"quantity": 1', f'"quantity": {raw}')

    line = parse(body).lines[0]

    assert line.quantity == quantity
    assert type(line.quantity) is int


@pytest.mark.parametrize("raw", ["1e999999999", "-1e999999999", "1.0000000000000000000001"])
def test_a_quantity_with_a_huge_exponent_or_a_tiny_fraction_is_refused_at_once(raw: str) -> None:
    body = json.dumps(minimal_payload()).replace('"quantity": 1', f'"quantity": {raw}')

    with pytest.raises(ValidationError) as error:
        parse(body)

    assert error_locations(error.value) == [("lines", 0, "quantity")]


def test_free_lines_and_a_discount_equal_to_the_subtotal_are_accepted() -> None:
    payload = minimal_payload()
    payload["lines"].append({"sku": "GIFT", "name": "Free gift", "quantity": 1, "unit_price": "0"})
    payload["discounts"] = [{"code": "ALLFREE", "amount": "8.00"}]

    request = parse_payload(payload)

    assert sum((d.amount for d in request.discounts), Decimal("0")) == Decimal("8.00")


# ---------------------------------------------------------------------------------------------- to_order_received


@pytest.mark.parametrize(
    ("given_ids", "expected"),
    [
        ([None], ["L1"]),
        ([None, None, None], ["L1", "L2", "L3"]),
        ([None, "X-9", None], ["L1", "X-9", "L3"]),
        (["a", "b"], ["a", "b"]),
        # The channel named its second line "L1": numbering the first "L1" too would collide.
        ([None, "L1"], ["L1", "L2"]),
    ],
)
def test_to_order_received_fills_in_line_ids(given_ids: list[str | None], expected: list[str]) -> None:
    payload = minimal_payload()
    payload["lines"] = [
        {"sku": f"S{i}", "name": f"N{i}", "quantity": 1, "unit_price": "1.00"}
        | ({"line_id": line_id} if line_id is not None else {})
        for i, line_id in enumerate(given_ids)
    ]

    order = to_order_received("ord_1", parse_payload(payload))

    assert [line.line_id for line in order.lines] == expected
    assert [line.sku for line in order.lines] == [f"S{i}" for i in range(len(given_ids))]


@pytest.mark.parametrize(
    ("ordered_at", "utc"),
    [
        ("2026-11-26T23:41:00-06:00", datetime(2026, 11, 27, 5, 41, tzinfo=UTC)),
        ("2026-11-27T05:41:00Z", datetime(2026, 11, 27, 5, 41, tzinfo=UTC)),
        ("2026-11-27T10:41:00+05:00", datetime(2026, 11, 27, 5, 41, tzinfo=UTC)),
        ("2026-12-31T23:30:00-01:00", datetime(2027, 1, 1, 0, 30, tzinfo=UTC)),
    ],
)
def test_to_order_received_converts_ordered_at_to_utc(ordered_at: str, utc: datetime) -> None:
    payload = minimal_payload()
    payload["ordered_at"] = ordered_at

    order = to_order_received("ord_1", parse_payload(payload))

    assert order.ordered_at == utc
    assert order.ordered_at.utcoffset() == timedelta(0)
    assert order.ordered_at.hour == utc.hour


def test_to_order_received_keeps_money_decimal_and_copies_every_field() -> None:
    order = to_order_received("ord_42", parse_payload(base_payload()))

    assert order.order_id == "ord_42"
    assert (order.channel, order.external_id, order.order_number) == ("shop-main", "5521", "1001")
    money = [order.tax_amount, order.shipping_amount, order.lines[0].unit_price, order.discounts[0].amount]
    assert all(type(amount) is Decimal for amount in money)
    assert money == [Decimal("3.99"), Decimal("5.99"), Decimal("19.75"), Decimal("5.00")]
    assert [str(amount) for amount in money] == ["3.99", "5.99", "19.75", "5.00"]
    assert order.currency == "USD"
    assert order.status == "paid"
    assert order.customer is not None and order.customer.email == "jo@example.com"
    assert order.bill_to is not None and order.bill_to.name == "Jo Müller"
    assert order.ship_to.company == "Acme & Sons"
    assert order.ship_to.address2 == "Apt 4"
    assert order.ship_to.state == "IL"
    assert (order.shipping_method, order.payment_method) == ("UPS Ground", "Credit Card")
    assert (order.gift, order.gift_message) == (True, "Happy birthday, Jo!")
    assert (order.customer_notes, order.internal_notes) == ("Leave at the back door", "Fraud check passed")
    assert (order.total_weight, order.weight_unit) == (Decimal("13.00"), "ounces")
    line = order.lines[0]
    assert (line.line_id, line.sku, line.name, line.quantity) == ("L1", "TSHIRT-RED-M", "T-shirt, red", 2)
    assert (line.weight, line.weight_unit) == (Decimal("6.50"), "ounces")
    assert line.image_url == "https://cdn.example.com/t.jpg"
    assert [(o.name, o.value) for o in line.options] == [("Color", "Red"), ("Size", "M")]
    assert (line.location, line.upc) == ("A-12-3", "012345678905")
    # On the wire money stays an exact decimal string, never a float.
    wire = json.loads(order.model_dump_json())
    assert wire["lines"][0]["unit_price"] == "19.75"
    assert wire["tax_amount"] == "3.99"


def test_a_weighed_line_without_a_unit_takes_the_orders_unit() -> None:
    payload = base_payload()
    del payload["lines"][0]["weight_unit"]
    payload["lines"].append({"sku": "NOWEIGHT", "name": "No weight", "quantity": 1, "unit_price": "1.00"})

    order = to_order_received("ord_1", parse_payload(payload))

    assert order.lines[0].weight_unit == "ounces"
    assert order.lines[1].weight is None
    assert order.lines[1].weight_unit is None


# ---------------------------------------------------------------------------------------------- keys and webhooks


def test_hash_api_key_is_stable_and_reveals_nothing() -> None:
    keys = [new_api_key() for _ in range(20)]

    hashes = [hash_api_key(key) for key in keys]

    assert len(set(keys)) == 20
    assert len(set(hashes)) == 20
    for key, digest in zip(keys, hashes, strict=True):
        assert key.startswith("dsk_")
        assert hash_api_key(key) == digest
        assert digest != key
        assert key not in digest
        assert key.removeprefix("dsk_") not in digest
        assert len(digest) == 64
        int(digest, 16)  # hexadecimal
    assert hash_api_key("dsk_a") != hash_api_key("dsk_b")


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"status": "shipped", "shipment": {"vendor": "east"}}, "order.shipment_created"),
        ({"status": "cancelled", "shipment": None}, "order.status_changed"),
        ({"status": "cancelled"}, "order.status_changed"),
    ],
)
def test_webhook_event_type(event: dict[str, Any], expected: str) -> None:
    assert webhook_event_type(event) == expected


# ---------------------------------------------------------------------------------------------- text limits

FREE_TEXT_FIELDS: list[tuple[str | int, ...]] = [
    ("ship_to", "name"),
    ("ship_to", "company"),
    ("ship_to", "address1"),
    ("ship_to", "address2"),
    ("ship_to", "city"),
    ("bill_to", "name"),
    ("bill_to", "company"),
    ("customer", "name"),
    (*LINE, "name"),
    (*LINE, "options", 0, "name"),
    (*LINE, "options", 0, "value"),
    ("customer_notes",),
    ("internal_notes",),
    ("gift_message",),
    ("shipping_method",),
    ("payment_method",),
]
IDENTIFIER_LIMITS: list[tuple[tuple[str | int, ...], int]] = [
    ((*LINE, "sku"), 100),
    (("external_id",), 100),
    (("order_number",), 40),
    ((*LINE, "line_id"), 50),
    (("ship_to", "postal_code"), 20),
]


def _field_id(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


def _value_at(request: OrderRequest, path: tuple[str | int, ...]) -> Any:
    target: Any = request
    for part in path:
        target = target[part] if isinstance(part, int) else getattr(target, part)
    return target


@pytest.mark.parametrize("path", FREE_TEXT_FIELDS, ids=_field_id)
def test_free_text_up_to_ten_thousand_characters_is_kept_as_sent(path: tuple[str | int, ...]) -> None:
    # Shopify titles with their variant names run past 255 characters.
    text = ("Größe XL 👕 שלום " * 700)[: FREE_TEXT_MAX_CHARS - 1] + "!"
    payload = base_payload()
    put(text, *path)(payload)

    request = parse_payload(payload)

    assert len(text) == FREE_TEXT_MAX_CHARS
    assert _value_at(request, path) == text


@pytest.mark.parametrize("path", FREE_TEXT_FIELDS, ids=_field_id)
def test_free_text_over_ten_thousand_characters_is_refused_naming_the_field(path: tuple[str | int, ...]) -> None:
    payload = base_payload()
    put("x" * (FREE_TEXT_MAX_CHARS + 1), *path)(payload)

    with pytest.raises(ValidationError) as error:
        parse_payload(payload)

    assert error_locations(error.value) == [path]


@pytest.mark.parametrize(("path", "limit"), IDENTIFIER_LIMITS, ids=[_field_id(p) for p, _ in IDENTIFIER_LIMITS])
def test_identifiers_keep_their_limits(path: tuple[str | int, ...], limit: int) -> None:
    at_the_limit, over = base_payload(), base_payload()
    put("7" * limit, *path)(at_the_limit)
    put("7" * (limit + 1), *path)(over)

    assert _value_at(parse_payload(at_the_limit), path) == "7" * limit
    with pytest.raises(ValidationError) as error:
        parse_payload(over)
    assert error_locations(error.value) == [path]


@pytest.mark.parametrize(
    "note",
    [
        "Ring twice\x07, then wait\x1b[0m",  # BEL and an escape sequence, as some point-of-sale systems send
        "line one\r\nline two\ttabbed\x0b\x0c",
        "Geschenk 🎁 für Oma 👵🏽 \u200d",
        "\u202bשלום, נא להשאיר ליד הדלת\u202c",  # noqa: RUF001 - right to left, with explicit embedding marks
        "\x7f\x80\x9f control characters of Latin-1",
    ],
    ids=["bell-escape", "line-breaks", "emoji", "rtl", "c1-controls"],
)
def test_notes_with_control_characters_emoji_and_rtl_text_are_kept(note: str) -> None:
    payload = base_payload()
    payload["customer_notes"] = note
    payload["lines"][0]["name"] = f"T-shirt {note}"

    order = to_order_received("ord_1", parse_payload(payload))

    # Only the ends are trimmed (whitespace a channel pads fields with); everything inside is as sent.
    assert order.customer_notes == note.strip()
    assert order.lines[0].name == f"T-shirt {note}".strip()


# ---------------------------------------------------------------------------------------------- access


def test_the_admin_acts_for_every_channel_and_a_channel_only_for_itself() -> None:
    assert ADMIN.may_act_for("shop") and ADMIN.may_act_for("other")
    assert Caller("shop").may_act_for("shop")
    assert not Caller("shop").may_act_for("other")


# ---------------------------------------------------------------------------------------------- cancel


@pytest.mark.parametrize("status", sorted(CANCELLABLE_STATUSES))
def test_an_order_not_shipped_in_full_can_be_cancelled(status: str) -> None:
    assert cancel_decision(status) == "cancel"


def test_cancelling_a_cancelled_order_again_changes_nothing() -> None:
    assert cancel_decision("cancelled") == "already_cancelled"


@pytest.mark.parametrize("status", ["shipped", "partially_cancelled", "delivered"])
def test_a_shipped_order_cannot_be_cancelled(status: str) -> None:
    with pytest.raises(NotCancellable) as refused:
        cancel_decision(status)

    assert refused.value.status == status


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, None),
        ({"reason": None}, None),
        ({"reason": "  changed my mind "}, "changed my mind"),
        ({"reason": "r" * 500}, "r" * 500),
    ],
)
def test_a_cancel_request_is_at_most_a_reason(body: dict[str, Any], reason: str | None) -> None:
    assert CancelRequest.model_validate(body).reason == reason


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "r" * 501},
        {"reason": 5},
        {"reason": ["why"]},
        {"why": "no reason field"},
        {"reason": "x", "extra": 1},
    ],
)
def test_a_cancel_request_with_anything_else_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CancelRequest.model_validate(body)


# ---------------------------------------------------------------------------------------------- shown status


@pytest.mark.parametrize(
    ("stored", "routing", "status", "hold_reason"),
    [
        ("received", None, "received", None),  # the splitter has not seen it yet
        ("received", {"unavailable": "HTTP 503"}, "received", None),
        ("received", {"state": "routed", "vendor_orders": []}, "routed", None),
        ("received", {"state": "held", "hold_reason": "unmapped_sku"}, "held", "unmapped_sku"),
        ("received", {"state": "held"}, "held", None),
        # Tracking's status is news the splitter's routing state does not override...
        ("partially_shipped", {"state": "routed"}, "partially_shipped", None),
        ("cancelled", {"state": "routed"}, "cancelled", None),
        # ...but a hold is still reported alongside it.
        ("partially_shipped", {"state": "held", "hold_reason": "no_stock"}, "partially_shipped", "no_stock"),
        ("received", ["not", "an", "object"], "received", None),
    ],
)
def test_the_status_an_order_view_shows(stored: str, routing: Any, status: str, hold_reason: str | None) -> None:
    shown = shown_status(stored, routing)

    assert (shown.status, shown.hold_reason) == (status, hold_reason)


@pytest.mark.parametrize(
    ("stored", "previous", "overtook"),
    [
        ("received", None, False),
        ("received", "received", False),
        ("routed", "received", False),
        ("routed", "cancelled", True),  # the cancellation is not recorded yet: the late shipment waits
        ("held", "partially_shipped", True),
        ("partially_shipped", "partially_shipped", False),
        ("partially_shipped", "partially_cancelled", True),
        ("cancelled", "partially_shipped", False),  # intake recorded the cancel itself: never held back
        ("shipped", "cancelled", False),
    ],
)
def test_a_status_change_waits_for_the_one_it_overtook(stored: str, previous: str | None, overtook: bool) -> None:
    assert status_change_overtook(stored, previous) is overtook


@pytest.mark.parametrize(
    ("stored", "previous", "shipment", "stale"),
    [
        ("shipped", "received", False, True),  # a cancellation the shipment overtook
        ("shipped", "shipped", False, False),
        ("shipped", "received", True, False),  # a shipment's news is always passed on
        ("cancelled", "received", False, False),
        ("partially_shipped", "received", False, False),
    ],
)
def test_a_status_change_older_than_shipped_is_stale(stored: str, previous: str, shipment: bool, stale: bool) -> None:
    assert status_change_is_stale(stored, previous, shipment) is stale
