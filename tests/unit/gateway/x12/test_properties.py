"""Round trips under random delimiters and random text: what we render reads back as the same
document, separators inside the data come out replaced, and the structure (counts, control numbers,
pyx12's envelope check) stays intact."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.gateway.x12 import (
    AckCodes,
    ControlNumbers,
    PartnerSettings,
    check_group,
    read_file,
    read_functional_ack,
    read_po_acknowledgement,
    render_functional_ack,
    render_purchase_order,
)
from services.gateway.x12.values import clean_text, format_decimal, parse_decimal
from services.gateway.x12.writer import render_interchange
from tests.unit.gateway.x12 import NOW, envelope_errors, make_order, order_fields, partner

SAFE_DELIMITERS = "*|^~}>{!:;#@$%&+<=?`\\"
"""Characters partners use as delimiters, none of them a letter, a digit, a space or in our numbers."""

delimiter_sets = st.lists(st.sampled_from(SAFE_DELIMITERS), min_size=4, max_size=4, unique=True)
texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40) | st.text(
    st.sampled_from(SAFE_DELIMITERS + "abc Z9\r\n\t"), max_size=30
)
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def partner_with(delimiters: list[str], **changes: Any) -> PartnerSettings:
    element, segment, component, repetition = delimiters
    return partner(
        element_separator=element,
        segment_terminator=segment,
        component_separator=component,
        repetition_separator=repetition,
        **changes,
    )


@PROPERTY_SETTINGS
@given(
    delimiters=delimiter_sets,
    version=st.sampled_from(["004010", "005010"]),
    newline=st.booleans(),
    name=texts,
    city=texts,
    vendor_skus=st.lists(texts, min_size=1, max_size=4),
    quantities=st.lists(st.integers(min_value=1, max_value=10_000), min_size=4, max_size=4),
    number=st.integers(min_value=1, max_value=999_999_999),
)
def test_an_850_reads_back_as_the_same_order(
    delimiters: list[str],
    version: str,
    newline: bool,
    name: str,
    city: str,
    vendor_skus: list[str],
    quantities: list[int],
    number: int,
) -> None:
    settings_ = partner_with(delimiters, version=version, segment_newline=newline)
    lines = [
        {"line_id": f"L{i}", "sku": f"SKU-{i}", "name": sku or "x", "quantity": quantities[i], "unit_price": "9.99",
         "vendor_sku": sku}
        for i, sku in enumerate(vendor_skus)
    ]  # fmt: skip
    ship_to = {**order_fields()["ship_to"], "name": name, "company": None, "city": city}
    order = make_order(lines=lines, ship_to=ship_to, bill_to=None)
    content = render_purchase_order(order, settings_, ControlNumbers(number, number, number), NOW)
    assert envelope_errors(content) == []
    result = read_file(content)
    assert result.errors == []
    (interchange,) = result.interchanges
    assert interchange.control_number == number and interchange.errors == []
    (group,) = interchange.groups
    (transaction,) = group.sets
    assert group.errors == [] and transaction.errors == []
    assert check_group(group).status == "A"
    segments = {segment.id: segment for segment in transaction.segments}
    assert segments["BEG"].element(3) == "1001-2"
    assert segments["N1"].element(2) == (clean_text(name, settings_.delimiters, limit=60) or "RECIPIENT")
    assert segments["N4"].element(1) == (clean_text(city, settings_.delimiters, limit=30) or "-")
    po1 = [segment for segment in transaction.segments if segment.id == "PO1"]
    assert [int(segment.element(2)) for segment in po1] == quantities[: len(lines)]
    expected_skus = [clean_text(sku, settings_.delimiters, limit=48) or None for sku in vendor_skus]
    assert [dict(segment.pairs(6)).get("VN") for segment in po1] == expected_skus
    used = set(delimiters[:3]) | ({delimiters[3]} if version == "005010" else set())
    for segment in transaction.segments:
        for element in segment.elements:
            assert not used & set(element), "a delimiter inside data came out unreplaced"


@PROPERTY_SETTINGS
@given(
    delimiters=delimiter_sets,
    acks=st.lists(
        st.tuples(
            st.sampled_from(["IA", "IB", "IR", "AC", "BP", "R2"]), st.integers(0, 500), st.dates(date(2000, 1, 1))
        ),
        min_size=1,
        max_size=6,
    ),
    po_number=st.text(st.sampled_from("ABC123-._"), min_size=1, max_size=22),
)
def test_a_partners_855_written_with_any_delimiters_reads_back(
    delimiters: list[str], acks: list[tuple[str, int, date]], po_number: str
) -> None:
    settings_ = partner_with(delimiters, segment_newline=False)
    body: list[tuple[str, list[Any]]] = [("BAK", ["00", "AC", po_number, "20261201"])]
    for line_number, (code, quantity, ship_date) in enumerate(acks, start=1):
        body.append(("PO1", [str(line_number), str(quantity), "EA", "1", "", "VN", f"V{line_number}"]))
        body.append(("ACK", [code, str(quantity), "EA", "068", ship_date.strftime("%Y%m%d")]))
    content = render_interchange(settings_, ControlNumbers(5, 5, 5), NOW, "855", body)
    (interchange,) = read_file(content).interchanges
    ack = read_po_acknowledgement(interchange.groups[0].sets[0], AckCodes())
    assert ack.po_number == po_number and ack.errors == []
    codes = AckCodes()
    assert [
        (line.line_number, line.code, line.quantity, line.expected_ship_date, line.vendor_sku) for line in ack.lines
    ] == [(n, code, quantity, ship_date, f"V{n}") for n, (code, quantity, ship_date) in enumerate(acks, start=1)]
    assert [line.status for line in ack.lines] == [codes.status_of(code) for code, _, _ in acks]


@PROPERTY_SETTINGS
@given(delimiters=delimiter_sets, broken=st.lists(st.booleans(), min_size=1, max_size=5))
def test_our_997_reads_back_with_the_statuses_we_gave(delimiters: list[str], broken: list[bool]) -> None:
    settings_ = partner_with(delimiters)
    body: list[tuple[str, list[Any]]] = [("BAK", ["00", "AC", "1001-2", "20261201"]), ("PO1", ["1", "2", "EA"])]
    files = [
        render_interchange(settings_, ControlNumbers(9, 9, n + 1), NOW, "855", body[1:] if bad else body)
        for n, bad in enumerate(broken)
    ]
    received = read_file(files[0]).interchanges[0]
    group = received.groups[0]
    group.sets = [read_file(content).interchanges[0].groups[0].sets[0] for content in files]
    ours = render_functional_ack(received, group, partner_with(delimiters[::-1]), ControlNumbers(3, 3, 3), NOW)
    assert envelope_errors(ours) == []
    ack = read_functional_ack(read_file(ours).interchanges[0].groups[0].sets[0])
    assert [set_ack.status for set_ack in ack.sets] == ["R" if bad else "A" for bad in broken]
    assert [set_ack.control_number for set_ack in ack.sets] == list(range(1, len(broken) + 1))
    assert ack.group_status == ("A" if not any(broken) else "R" if all(broken) else "P")


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9))
def test_decimals_are_written_plain_and_read_back_equal(value: Decimal) -> None:
    written = format_decimal(value)
    assert "E" not in written and parse_decimal(written) == value


@given(texts, delimiter_sets, st.sampled_from(["basic", "extended"]))
def test_cleaned_text_is_printable_ascii_without_delimiters_and_stable(
    text: str, delimiters: list[str], charset: str
) -> None:
    settings_ = partner_with(delimiters)
    cleaned = clean_text(text, settings_.delimiters, charset=charset, limit=40)
    assert cleaned.isascii() and (cleaned.isprintable() or cleaned == "") and len(cleaned) <= 40
    assert not set(delimiters[:3]) & set(cleaned)
    assert clean_text(cleaned, settings_.delimiters, charset=charset, limit=40) == cleaned
    if charset == "basic":
        assert cleaned == cleaned.upper()
