"""Generated input against the shipment notice parser (``parse_ship_notice``): arbitrary bytes and XML-ish
documents only ever give a notice or a ShipNoticeError (answered as 400), entities are never expanded,
and a valid notice reads back exactly the values it was written with."""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ElementTree
from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from services.shipstation.shipnotice import (
    MAX_NOTICE_BYTES,
    NoticeItem,
    ShipNotice,
    ShipNoticeError,
    parse_ship_notice,
)

ZONES = st.sampled_from(["UTC", "America/Chicago", "Europe/Berlin", "Asia/Kolkata", "Pacific/Kiritimati"]).map(ZoneInfo)
SENTINEL = "EXPANDED-ENTITY-SENTINEL"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_refuse(body: bytes, query: dict[str, str], zone: ZoneInfo) -> ShipNotice | ShipNoticeError:
    """The parser's verdict; any exception but ShipNoticeError propagates and fails the test."""
    try:
        return parse_ship_notice(body, query, zone)
    except ShipNoticeError as refusal:
        assert refusal.reason, "a refusal must say why"
        return refusal


QUERY = st.dictionaries(
    st.sampled_from(["order_number", "carrier", "service", "tracking_number", "action", "x"]), st.text(max_size=20)
)


@FUZZ
@given(body=st.binary(max_size=2048), query=QUERY, zone=ZONES)
def test_arbitrary_bytes_give_a_notice_or_a_refusal(body: bytes, query: dict[str, str], zone: ZoneInfo) -> None:
    parse_or_refuse(body, query, zone)


@FUZZ
@given(
    prefix=st.binary(max_size=16),
    document=st.sampled_from([b"<ShipNotice><OrderID>1</OrderID></ShipNotice>", b"<ShipNotice/>", b""]),
    suffix=st.binary(max_size=16),
)
def test_valid_documents_with_garbage_around_them_give_a_notice_or_a_refusal(
    prefix: bytes, document: bytes, suffix: bytes
) -> None:
    parse_or_refuse(prefix + document + suffix, {}, ZoneInfo("UTC"))


def test_a_body_over_the_limit_is_refused_before_parsing() -> None:
    body = b"<ShipNotice><OrderID>1</OrderID>" + b" " * MAX_NOTICE_BYTES + b"</ShipNotice>"
    result = parse_or_refuse(body, {}, ZoneInfo("UTC"))
    assert isinstance(result, ShipNoticeError) and "limit" in result.reason


# --- XML-ish documents --------------------------------------------------------------------------------

KNOWN_ELEMENTS = [
    "OrderID",
    "OrderNumber",
    "CustomerCode",
    "NotesToCustomer",
    "NotifyCustomer",
    "LabelCreateDate",
    "ShipDate",
    "Carrier",
    "Service",
    "TrackingNumber",
    "ShippingCost",
    "Recipient",
    "Items",
    "Item",
    "Quantity",
    "SKU",
    "LineItemID",
    "Name",
]
TAG = st.one_of(
    st.sampled_from(KNOWN_ELEMENTS),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True),
    st.sampled_from(["ns:OrderID", "{urn:x}OrderID", "1bad", "", "a b", "Ship<Notice"]),
)
RAW_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("<>&;\"']]>\r\n\t\x00\x0b"),
    max_size=30,
)
ENTITY_REFERENCE = st.sampled_from(
    ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#65;", "&#x41;", "&#0;", "&#xD800;", "&#x110000;", "&e;", "&lol;"]
)
TEXT_PIECE = st.one_of(
    RAW_TEXT,
    ENTITY_REFERENCE,
    st.builds(lambda t: f"<![CDATA[{t}]]>", RAW_TEXT),
    st.builds(lambda t: f"<!--{t}-->", RAW_TEXT),
    st.builds(lambda t: f"<?pi {t}?>", RAW_TEXT),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    st.sampled_from(["12/31/9999 23:59", "02/30/2026", "01/01/0001 00:00", "1e999999", "-0.00", "NaN", "true", "2"]),
    st.just("9" * 5000),  # more digits than int() converts
)
TEXT = st.lists(TEXT_PIECE, max_size=4).map("".join)
DOCTYPE = st.one_of(
    st.just(""),
    st.sampled_from(
        [
            "<!DOCTYPE ShipNotice>",
            f'<!DOCTYPE ShipNotice [<!ENTITY e "{SENTINEL}">]>',
            '<!DOCTYPE ShipNotice [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
            '<!DOCTYPE ShipNotice [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
            '<!DOCTYPE ShipNotice SYSTEM "http://127.0.0.1:9/notice.dtd">',
            f'<!DOCTYPE ShipNotice [<!ENTITY lol "{SENTINEL}"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
            '<!DOCTYPE ShipNotice [<!ELEMENT ShipNotice ANY><!ATTLIST ShipNotice a CDATA "x">]>',
        ]
    ),
)
DECLARATION = st.sampled_from(
    [
        "",
        '<?xml version="1.0"?>',
        '<?xml version="1.0" encoding="utf-8"?>',
        '<?xml version="1.0" encoding="ISO-8859-1"?>',
        '<?xml version="1.0" encoding="utf-16"?>',
        '<?xml version="1.1"?>',
        "<?xml?>",
    ]
)


@st.composite
def element(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(TAG)
    attributes = draw(st.lists(st.sampled_from([' a="1"', " xmlns='urn:x'", ' b="&e;"', " c='<'", " d"]), max_size=2))
    if draw(st.booleans()) and depth < 3:
        children = draw(st.lists(element(depth + 1), max_size=4))
        inner = draw(TEXT) + "".join(children) + draw(TEXT)
    else:
        inner = draw(TEXT)
    if not inner and draw(st.booleans()):
        return f"<{tag}{''.join(attributes)}/>"
    closing = tag if draw(st.integers(0, 9)) else draw(TAG)  # now and then a mismatched end tag
    return f"<{tag}{''.join(attributes)}>{inner}</{closing}>"


@st.composite
def xmlish_document(draw: st.DrawFn) -> str:
    root = draw(st.sampled_from(["ShipNotice", "ShipNotice", "Order"]))
    children = "".join(draw(st.lists(element(), max_size=8)))
    body = f"<{root}>{children}</{root}>" if draw(st.integers(0, 9)) else children
    bom = "\ufeff" if draw(st.integers(0, 9)) == 0 else ""
    return bom + draw(DECLARATION) + draw(DOCTYPE) + body + draw(st.sampled_from(["", "\n", "<!-- end -->", "<x/>"]))


def _all_text(notice: ShipNotice) -> str:
    return repr([getattr(notice, f.name) for f in fields(notice)])


@FUZZ
@given(document=xmlish_document(), query=QUERY, zone=ZONES, encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
@example(
    document="<ShipNotice><OrderID>1</OrderID><Items><Item><Quantity>" + "9" * 5000 + "</Quantity></Item></Items>"
    "</ShipNotice>",
    query={},
    zone=ZoneInfo("UTC"),
    encoding="utf-8",
)
@example(
    document="<ShipNotice><OrderID>1</OrderID><LabelCreateDate>12/31/9999 23:59</LabelCreateDate></ShipNotice>",
    query={},
    zone=ZoneInfo("America/Chicago"),
    encoding="utf-8",
)
def test_xmlish_documents_give_a_notice_or_a_refusal_and_entities_are_never_expanded(
    document: str, query: dict[str, str], zone: ZoneInfo, encoding: str
) -> None:
    body = document.encode(encoding, "replace")
    result = parse_or_refuse(body, query, zone)
    if "<!DOCTYPE" in document:
        assert isinstance(result, ShipNoticeError), "a DOCTYPE must be refused"
    if isinstance(result, ShipNotice):
        assert SENTINEL not in _all_text(result)
        assert "root:" not in _all_text(result)


# --- valid notices read back as written ---------------------------------------------------------------

# Text as XML 1.0 can carry it (no C0 controls; carriage returns become line feeds in any XML parser).
XML_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Cn"]) | st.sampled_from(" \t\n"),
    max_size=40,
)
NAMED = XML_TEXT.filter(lambda text: unicodedata.normalize("NFC", text).strip() != "")
# Naive on purpose: wall times, which the parser reads in the vendor's zone.
MINUTE_INSTANTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31)).map(  # noqa: DTZ001
    lambda moment: moment.replace(second=0, microsecond=0)
)


def as_read(text: str | None) -> str | None:
    """What the parser reads from a text written as ``text``: NFC, stripped, empty as absent."""
    if text is None:
        return None
    normalised = unicodedata.normalize("NFC", text).strip()
    return normalised or None


@st.composite
def written_notice(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]]:
    values: dict[str, Any] = {
        "OrderID": draw(NAMED),
        "OrderNumber": draw(st.none() | NAMED),
        "Carrier": draw(st.none() | XML_TEXT),
        "Service": draw(st.none() | XML_TEXT),
        "TrackingNumber": draw(st.none() | XML_TEXT),
        "NotesToCustomer": draw(st.none() | XML_TEXT),
        "CustomerCode": draw(st.none() | XML_TEXT),
        "NotifyCustomer": draw(st.none() | st.booleans()),
        "ShipDate": draw(st.none() | st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31))),
        "LabelCreateDate": draw(st.none() | MINUTE_INSTANTS),
        "ShippingCost": draw(
            st.none() | st.decimals(min_value=0, max_value=Decimal("99999.99"), places=2, allow_nan=False)
        ),
    }
    items = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "LineItemID": st.none() | NAMED,
                    "SKU": st.none() | NAMED,
                    "Quantity": st.integers(min_value=1, max_value=999_999_999),
                    "Name": st.none() | XML_TEXT,
                }
            ),
            max_size=5,
        )
    )
    recipient = draw(
        st.dictionaries(st.sampled_from(["Name", "Company", "Address1", "City", "PostalCode", "Country"]), NAMED)
    )
    return values, items, recipient


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value.month:02d}/{value.day:02d}/{value.year:04d}"
    if isinstance(value, datetime):
        return f"{value.month:02d}/{value.day:02d}/{value.year:04d} {value.hour:02d}:{value.minute:02d}"
    return str(value)


def render_notice(values: dict[str, Any], items: list[dict[str, Any]], recipient: dict[str, str]) -> bytes:
    root = ElementTree.Element("ShipNotice")
    for name, value in values.items():
        if value is not None:
            ElementTree.SubElement(root, name).text = _text_of(value)
    if recipient:
        recipient_element = ElementTree.SubElement(root, "Recipient")
        for name, value in recipient.items():
            ElementTree.SubElement(recipient_element, name).text = value
    if items:
        items_element = ElementTree.SubElement(root, "Items")
        for item in items:
            item_element = ElementTree.SubElement(items_element, "Item")
            for name, value in item.items():
                if value is not None:
                    ElementTree.SubElement(item_element, name).text = _text_of(value)
    document: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


@settings(max_examples=300, deadline=None)
@given(notice=written_notice(), zone=ZONES)
def test_a_valid_notice_reads_back_the_values_it_was_written_with(
    notice: tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]], zone: ZoneInfo
) -> None:
    values, items, recipient = notice
    parsed = parse_ship_notice(render_notice(values, items, recipient), {}, zone)

    assert parsed.order_id == as_read(values["OrderID"])
    assert parsed.order_number == as_read(values["OrderNumber"])
    assert parsed.carrier == as_read(values["Carrier"])
    assert parsed.service == as_read(values["Service"])
    assert parsed.tracking_number == as_read(values["TrackingNumber"])
    assert parsed.notes_to_customer == as_read(values["NotesToCustomer"])
    assert parsed.customer_code == as_read(values["CustomerCode"])
    assert parsed.notify_customer == values["NotifyCustomer"]
    assert parsed.ship_date == values["ShipDate"]
    label_created = values["LabelCreateDate"]
    expected_label = label_created.replace(tzinfo=zone).astimezone(UTC) if label_created else None
    assert parsed.label_created_at == expected_label
    assert parsed.shipping_cost == values["ShippingCost"]
    assert parsed.items == tuple(
        NoticeItem(
            line_item_id=as_read(item["LineItemID"]),
            sku=as_read(item["SKU"]),
            quantity=item["Quantity"],
            name=as_read(item["Name"]),
        )
        for item in items
    )
    snake = {"Name": "name", "Company": "company", "Address1": "address1", "City": "city", "PostalCode": "postal_code"}
    snake["Country"] = "country"
    assert parsed.recipient == {snake[key]: as_read(value) for key, value in recipient.items()}


@settings(max_examples=100, deadline=None)
@given(notice=written_notice(), carrier=NAMED, tracking=NAMED)
def test_the_query_fills_in_only_what_the_xml_leaves_empty(
    notice: tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]], carrier: str, tracking: str
) -> None:
    values, items, recipient = notice
    query = {"carrier": carrier, "tracking_number": tracking}
    parsed = parse_ship_notice(render_notice(values, items, recipient), query, ZoneInfo("UTC"))
    assert parsed.carrier == (as_read(values["Carrier"]) or as_read(carrier))
    assert parsed.tracking_number == (as_read(values["TrackingNumber"]) or as_read(tracking))
