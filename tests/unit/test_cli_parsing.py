"""The ``dropship`` CLI's pure helpers, free of I/O: parsing what people type (``--source``,
``--status``) and turning the services' answers into one readable line (shared/cli)."""

from __future__ import annotations

import json

import click
import pytest

from shared.cli.catalog import parse_source
from shared.cli.client import decode_body, describe_error, describe_unreachable, one_line, segment
from shared.cli.output import as_text
from shared.cli.shipstation import parse_statuses, print_paste_block, settings_body
from shared.contracts.vendors import SHIPSTATION_STATUSES

# --- --source VENDOR:PRIORITY:STOCK:COST[:VENDOR_SKU] ------------------------------------------------


def test_a_source_can_be_just_the_vendor() -> None:
    assert parse_source("east") == {"vendor": "east"}


def test_every_part_of_a_source() -> None:
    assert parse_source("east:1:40:7.10:TS-R-M") == {
        "vendor": "east",
        "priority": 1,
        "stock": 40,
        "cost": "7.10",
        "vendor_sku": "TS-R-M",
    }


def test_empty_parts_are_left_out_and_spaces_ignored() -> None:
    assert parse_source("west::5") == {"vendor": "west", "stock": 5}
    assert parse_source(" west : 2 : : 3.10 ") == {"vendor": "west", "priority": 2, "cost": "3.10"}
    assert parse_source("west:::") == {"vendor": "west"}


def test_the_vendor_sku_keeps_its_colons() -> None:
    assert parse_source("west::::A:B:C") == {"vendor": "west", "vendor_sku": "A:B:C"}


def test_the_cost_is_kept_as_the_decimal_text_given() -> None:
    assert parse_source("east:1:1:7.100")["cost"] == "7.100"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "the vendor is missing"),
        (" :1", "the vendor is missing"),
        ("east:first", "priority must be a whole number, not 'first'"),
        ("east:-1", "priority must be a whole number, not '-1'"),
        ("east:1:2.5", "stock must be a whole number, not '2.5'"),
        ("east:²", "priority must be a whole number, not '²'"),
        ("east:1:40:cheap", "cost must be a decimal amount such as 7.10"),
    ],
)
def test_a_bad_source_names_the_part(text: str, complaint: str) -> None:
    with pytest.raises(click.BadParameter) as raised:
        parse_source(text)
    assert raised.value.message == f"{text!r}: {complaint}"


# --- --status NAME=VALUE ---------------------------------------------------------------------------


def test_statuses_by_key_in_any_case_and_with_dashes() -> None:
    assert parse_statuses(["paid=awaiting_shipment", "On-Hold = on_hold ", "SHIPPED=shipped"]) == {
        "paid": "awaiting_shipment",
        "on_hold": "on_hold",
        "shipped": "shipped",
    }


def test_no_statuses_and_the_last_of_a_repeated_one() -> None:
    assert parse_statuses([]) == {}
    assert parse_statuses(["paid=a", "paid=b"]) == {"paid": "b"}


def test_a_value_may_contain_an_equals_sign() -> None:
    assert parse_statuses(["paid=a=b"]) == {"paid": "a=b"}


@pytest.mark.parametrize("item", ["paid", "paid=", "paid=  "])
def test_a_status_without_a_value(item: str) -> None:
    with pytest.raises(click.BadParameter) as raised:
        parse_statuses([item])
    assert raised.value.message == f"{item!r} is not NAME=VALUE"


def test_an_unknown_status_lists_the_keys_in_the_forms_order() -> None:
    with pytest.raises(click.BadParameter) as raised:
        parse_statuses(["refunded=x"])
    assert raised.value.message == "unknown status 'refunded'; one of unpaid, paid, shipped, cancelled, on_hold"


def test_settings_body_holds_only_what_was_given() -> None:
    assert settings_body(None, None, None, {}) == {}
    assert settings_body("UTC", 0, 50, {"paid": "p"}) == {
        "timezone": "UTC",
        "lookback_minutes": 0,
        "page_size": 50,
        "status_names": {"paid": "p"},
    }


def test_the_paste_block_shows_the_statuses_as_shipstations_form_does(capsys: pytest.CaptureFixture[str]) -> None:
    print_paste_block("east", {"status_names": {"paid": "awaiting"}}, None)
    printed = capsys.readouterr().out.splitlines()
    first = printed.index("  Order statuses (one per box):") + 1
    assert printed[first : first + len(SHIPSTATION_STATUSES)] == [
        "    Unpaid:     unpaid",
        "    Paid:       awaiting",
        "    Shipped:    shipped",
        "    Cancelled:  cancelled",
        "    On-Hold:    on_hold",
    ]
    assert "  Time zone: UTC (the zone of the dates we exchange)" in printed


# --- the services' answers -------------------------------------------------------------------------


def test_a_json_error_with_detail_and_fields() -> None:
    raw = json.dumps(
        {"error": "invalid", "detail": "2 fields", "fields": {"ship_to.address1": "required", "lines": "empty"}}
    ).encode()
    assert describe_error("intake", "POST", "/v1/orders", 422, raw) == (
        "intake answered 422 to POST /v1/orders: invalid: 2 fields (ship_to.address1: required; lines: empty)"
    )


def test_a_json_error_without_detail_or_fields() -> None:
    for body in ({"error": "not_found"}, {"error": "not_found", "detail": "", "fields": {}}):
        assert describe_error("splitter", "GET", "/v1/vendors/x", 404, json.dumps(body).encode()) == (
            "splitter answered 404 to GET /v1/vendors/x: not_found"
        )


def test_an_error_that_is_not_ours_is_still_one_line() -> None:
    html = b"<html>\n  <body>Bad   gateway</body>\n</html>\n"
    assert describe_error("intake", "GET", "/v1/orders/o", 502, html) == (
        "intake answered 502 to GET /v1/orders/o: <html> <body>Bad gateway</body> </html>"
    )
    assert describe_error("intake", "GET", "/x", 500, json.dumps({"message": "boom"}).encode()) == (
        'intake answered 500 to GET /x: {"message": "boom"}'
    )
    assert describe_error("intake", "GET", "/x", 503, b"  \n") == "intake answered 503 to GET /x"


def test_long_details_and_field_problems_are_cut() -> None:
    raw = json.dumps({"error": "invalid", "detail": "d" * 400, "fields": {"f": "p" * 200}}).encode()
    text = describe_error("intake", "PUT", "/x", 422, raw)
    assert f": {'d' * 299}… (" in text
    assert text.endswith(f"(f: {'p' * 119}…)")


def test_why_a_service_could_not_be_reached() -> None:
    base = "http://127.0.0.1:8001"
    hint = ": is the service running? (make run)"
    assert describe_unreachable("intake", base, ConnectionRefusedError(111, "refused")) == (
        f"cannot reach intake at {base} (connection refused){hint}"
    )
    assert describe_unreachable("intake", base, TimeoutError()) == f"cannot reach intake at {base} (timed out){hint}"
    assert describe_unreachable("intake", base, "Name or service\n not known") == (
        f"cannot reach intake at {base} (Name or service not known){hint}"
    )
    assert describe_unreachable("intake", base, ConnectionResetError()) == (
        f"cannot reach intake at {base} (ConnectionResetError){hint}"
    )


def test_decode_body() -> None:
    assert decode_body(b"") is None
    assert decode_body(b" \n") is None
    assert decode_body(b'{"a": [1]}') == {"a": [1]}
    assert decode_body(b"not json") == "not json"
    assert decode_body(b"\xff oops") == "\ufffd oops"


def test_one_line() -> None:
    assert one_line("a\n b\t c") == "a b c"
    assert one_line({"ä": 1}) == '{"ä": 1}'
    assert one_line("abcdef", limit=4) == "abc…"
    assert one_line("abcd", limit=4) == "abcd"


def test_a_path_segment_cannot_change_the_route() -> None:
    assert segment("TS R/M") == "TS%20R%2FM"
    assert segment("../x?y#z") == "..%2Fx%3Fy%23z"


def test_as_text() -> None:
    assert as_text(None) == "-"
    assert as_text(True) == "yes"
    assert as_text(False) == "no"
    assert as_text(0) == "0"
    assert as_text({"a": "é"}) == '{"a": "é"}'
    assert as_text([1, 2]) == "[1, 2]"
