"""The 850 and its cancellations as a partner receives them: the golden document, the envelope rules
(fixed-width ISA, counts, control numbers), text made safe, the 22-character PO number, and pyx12's
independent envelope check of everything we write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.gateway.x12 import (
    ControlNumbers,
    PoNumberTooLong,
    Segment,
    read_file,
    render_cancellation,
    render_purchase_order,
)
from tests.unit.gateway.x12 import NOW, NUMBERS, envelope_errors, fixture, make_order, partner


def segments_of(content: bytes) -> list[Segment]:
    result = read_file(content)
    assert result.errors == []
    (interchange,) = result.interchanges
    assert interchange.errors == []
    (group,) = interchange.groups
    assert group.errors == []
    (transaction,) = group.sets
    assert transaction.errors == []
    return transaction.segments


def test_the_850_matches_the_golden_document() -> None:
    assert render_purchase_order(make_order(), partner(), NUMBERS, NOW) == fixture("purchase_order_850.x12")


def test_the_isa_is_fixed_width_with_padded_ids_and_a_nine_digit_control_number() -> None:
    content = render_purchase_order(make_order(), partner(), ControlNumbers(42, 7, 3), NOW).decode()
    isa = content.split("\n")[0]
    assert len(isa) == 106
    elements = isa[:-1].split("*")
    assert elements[6] == "MERCHANT       " and elements[8] == "ACMEDIST       "
    assert elements[13] == "000000042"
    assert elements[11] == "U" and elements[12] == "00401"
    assert elements[14] == "1" and elements[15] == "P" and elements[16] == ">"
    assert content.rstrip("\n").endswith("IEA*1*000000042~")
    assert "GE*1*7~" in content and "GS*PO*MERCHANT*ACMEDIST*20261128*0905*7*X*004010~" in content
    assert "ST*850*0003~" in content and "SE*20*0003~" in content


def test_se01_counts_st_to_se_and_ctt_counts_the_lines() -> None:
    content = render_purchase_order(make_order(), partner(), NUMBERS, NOW).decode()
    body = content.split("ST*850")[1].split("GE*")[0]
    assert body.count("~") == 20
    assert "CTT*3*6~" in content


def test_5010_carries_the_repetition_separator_in_isa11() -> None:
    content = render_purchase_order(make_order(), partner(version="005010"), NUMBERS, NOW).decode()
    isa = content.split("\n")[0]
    assert len(isa) == 106 and isa.split("*")[11] == "^" and isa.split("*")[12] == "00501"
    assert "ST*850*0001*005010~" in content
    assert envelope_errors(content.encode()) == []


def test_po1_numbers_lines_in_order_with_only_the_known_ids() -> None:
    po1 = [
        segment
        for segment in segments_of(render_purchase_order(make_order(), partner(), NUMBERS, NOW))
        if segment.id == "PO1"
    ]
    assert [segment.element(1) for segment in po1] == ["1", "2", "3"]
    assert po1[0].pairs(6) == [("VN", "AC-MUG"), ("SK", "MUG-1"), ("UP", "012345678905")]
    assert po1[1].pairs(6) == [("VN", "AC-TEE"), ("SK", "TEE")]
    assert po1[2].pairs(6) == [("SK", "CAP")]
    assert [segment.element(4) for segment in po1] == ["6.1", "20", "8"], "the vendor's cost when known, else the price"


def test_a_upc_of_the_wrong_shape_is_left_out_rather_than_sent() -> None:
    lines = [{"line_id": "L1", "sku": "A", "name": "A", "quantity": 1, "unit_price": "1", "upc": "12-34"}]
    (po1,) = [
        s for s in segments_of(render_purchase_order(make_order(lines=lines), partner(), NUMBERS, NOW)) if s.id == "PO1"
    ]
    assert po1.pairs(6) == [("SK", "A")]


def test_optional_parts_appear_only_when_known() -> None:
    ship_to = {"name": "Ann", "address1": "2 Elm", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB"}
    order = make_order(customer=None, bill_to=None, shipping_method=None, ship_to={**ship_to, "state": "West Yorks"})
    ids = [segment.id for segment in segments_of(render_purchase_order(order, partner(), NUMBERS, NOW))]
    assert "PER" not in ids and "TD5" not in ids and ids.count("N1") == 1 and "N2" not in ids
    n4 = next(s for s in segments_of(render_purchase_order(order, partner(), NUMBERS, NOW)) if s.id == "N4")
    assert n4.elements == ("Leeds", "", "LS1 1AA", "GB"), "N402 holds a two-letter code only"


def test_gift_message_and_notes_travel_as_n9_msg() -> None:
    order = make_order(gift=True, gift_message="Happy birthday*Ann~", customer_notes="Leave at door")
    segments = segments_of(render_purchase_order(order, partner(), NUMBERS, NOW))
    messages = [s.element(1) for s in segments if s.id == "MSG"]
    assert messages == ["Happy birthday Ann", "Leave at door"]


def test_text_is_transliterated_and_separators_inside_data_are_replaced() -> None:
    order = make_order(ship_to={"name": "Zoë*Ü~ß>Łódź^", "address1": "Straße 1\r\nHof", "city": "Köln",
                                "postal_code": "50667", "country": "DE"})  # fmt: skip
    content = render_purchase_order(order, partner(version="005010"), NUMBERS, NOW)
    segments = segments_of(content)
    assert next(s for s in segments if s.id == "N1" and s.element(1) == "ST").element(2) == "Zoe U ss Lodz"
    assert next(s for s in segments if s.id == "N3").element(1) == "Strasse 1 Hof"
    content.decode("ascii")
    assert envelope_errors(content) == []


def test_the_basic_charset_is_uppercase_without_extended_characters() -> None:
    order = make_order(ship_to={"name": "zoë [müller] @home", "address1": "1 Main", "city": "Köln",
                                "postal_code": "50667", "country": "DE"})  # fmt: skip
    segments = segments_of(render_purchase_order(order, partner(charset="basic"), NUMBERS, NOW))
    assert next(s for s in segments if s.id == "N1").element(2) == "ZOE MULLER HOME"


def test_text_that_cleans_to_nothing_never_refuses_the_order() -> None:
    order = make_order(ship_to={"name": "🎁🎁", "address1": "🏠", "city": "x", "postal_code": "1", "country": "US"})
    segments = segments_of(render_purchase_order(order, partner(), NUMBERS, NOW))
    assert next(s for s in segments if s.id == "N1").element(2) == "RECIPIENT"


def test_a_po_number_over_22_characters_is_refused_never_cut() -> None:
    number = "A" * 20 + "-12"
    with pytest.raises(PoNumberTooLong) as raised:
        render_purchase_order(make_order(vendor_order_number=number), partner(), NUMBERS, NOW)
    assert raised.value.po_number == number
    with pytest.raises(PoNumberTooLong):
        render_cancellation(make_order(vendor_order_number=number), partner(cancel_as="860"), NUMBERS, NOW)
    exactly = "B" * 19 + "-12"
    assert f"BEG*00*DS*{exactly}**".encode() in render_purchase_order(
        make_order(vendor_order_number=exactly), partner(), NUMBERS, NOW
    )


def test_the_same_numbers_and_time_give_the_same_bytes() -> None:
    first = render_purchase_order(make_order(), partner(), NUMBERS, NOW)
    assert render_purchase_order(make_order(), partner(), NUMBERS, NOW) == first
    assert (
        render_purchase_order(make_order(), partner(), NUMBERS, NOW.astimezone(timezone(timedelta(hours=-5)))) == first
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        render_purchase_order(make_order(), partner(), NUMBERS, datetime(2026, 11, 28, 9, 5))  # noqa: DTZ001


def test_a_cancellation_as_850_repeats_the_order_with_beg01_01() -> None:
    segments = segments_of(render_cancellation(make_order(), partner(), NUMBERS, NOW))
    assert segments[0] == Segment("BEG", ("01", "DS", "1001-2", "", "20261127"))
    assert sum(1 for s in segments if s.id == "PO1") == 3


def test_a_cancellation_as_860_deletes_every_line() -> None:
    content = render_cancellation(make_order(), partner(cancel_as="860"), NUMBERS, NOW)
    assert b"GS*PC*" in content and b"ST*860*0001~" in content
    segments = segments_of(content)
    assert segments[0] == Segment("BCH", ("01", "DS", "1001-2", "", "", "20261127"))
    pocs = [s for s in segments if s.id == "POC"]
    assert [(s.element(1), s.element(2), s.element(3), s.element(4)) for s in pocs] == [
        ("1", "DI", "2", "0"), ("2", "DI", "3", "0"), ("3", "DI", "1", "0")]  # fmt: skip
    assert envelope_errors(content) == []


@pytest.mark.parametrize("version", ["004010", "005010"])
@pytest.mark.parametrize("cancel_as", ["850", "860"])
def test_pyx12_reads_every_order_document_we_write_without_an_envelope_error(version: str, cancel_as: str) -> None:
    settings = partner(version=version, cancel_as=cancel_as)
    assert envelope_errors(render_purchase_order(make_order(), settings, NUMBERS, NOW)) == []
    assert envelope_errors(render_cancellation(make_order(), settings, ControlNumbers(18, 18, 1), NOW)) == []


def test_other_delimiters_and_no_newlines() -> None:
    settings = partner(element_separator="|", segment_terminator="}", component_separator="^", segment_newline=False)
    content = render_purchase_order(make_order(), settings, NUMBERS, NOW)
    assert b"\n" not in content and content.startswith(b"ISA|00|") and content[105:106] == b"}"
    assert content[104:105] == b"^"
    assert envelope_errors(content) == []
    assert [s.id for s in segments_of(content)][:2] == ["BEG", "CUR"]


def test_decimal_prices_are_plain() -> None:
    lines = [{"line_id": "L1", "sku": "A", "name": "A", "quantity": 1, "unit_price": "1E+2", "cost": None}]
    (po1,) = [
        s for s in segments_of(render_purchase_order(make_order(lines=lines), partner(), NUMBERS, NOW)) if s.id == "PO1"
    ]
    assert po1.element(4) == "100" and Decimal(po1.element(4)) == Decimal("1E+2")


def test_control_numbers_are_at_most_nine_digits() -> None:
    with pytest.raises(ValueError, match="interchange"):
        ControlNumbers(1_000_000_000, 1, 1)
    with pytest.raises(ValueError, match="transaction"):
        ControlNumbers(1, 1, 0)
    assert ControlNumbers(999_999_999, 1, 1).interchange == 999_999_999
    assert UTC  # the envelope is dated in UTC, as the golden document shows
