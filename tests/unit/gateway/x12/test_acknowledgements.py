"""997s both ways and the TA1: what our 997 says about a partner's group (AK2 per set, AK3/AK4 per
finding, AK5, AK9), that we never acknowledge a 997, and reading a partner's 997 with errors."""

from __future__ import annotations

import pytest

from services.gateway.x12 import (
    AcknowledgementRefused,
    ControlNumbers,
    FunctionalGroup,
    Interchange,
    check_group,
    read_file,
    read_functional_ack,
    render_functional_ack,
    render_ta1,
    ta1_note_code,
)
from tests.unit.gateway.x12 import NOW, envelope_errors, fixture, partner

ACK_NUMBERS = ControlNumbers(interchange=30, group=30, transaction=1)


def first_interchange(name: str) -> Interchange:
    return read_file(fixture(name)).interchanges[0]


def body_of(content: bytes) -> list[str]:
    text = content.decode()
    return [line.rstrip("~") for line in text.split("\n") if line][3:-3]


def only_group(name: str) -> tuple[Interchange, FunctionalGroup]:
    interchange = first_interchange(name)
    return interchange, interchange.groups[0]


def test_a_clean_group_is_accepted() -> None:
    received, group = only_group("po_ack_855.x12")
    content = render_functional_ack(received, group, partner(), ACK_NUMBERS, NOW)
    assert body_of(content) == ["AK1*PR*9001", "AK2*855*0001", "AK5*A", "AK9*A*1*1*1"]
    assert b"GS*FA*MERCHANT*ACMEDIST*" in content
    assert content.split(b"*")[14] == b"0", "our 997 asks for no TA1"
    assert envelope_errors(content) == []


def test_a_missing_segment_rejects_the_set_and_element_errors_accept_it_with_errors() -> None:
    received, group = only_group("missing_bak_and_bad_quantity.x12")
    check = check_group(group)
    assert [(s.status, s.codes) for s in check.sets] == [("R", ("5",)), ("E", ("5",))]
    assert check.status == "P" and check.accepted_sets == 1
    content = render_functional_ack(received, group, partner(), ACK_NUMBERS, NOW)
    assert body_of(content) == [
        "AK1*PR*9009",
        "AK2*855*0001",
        "AK3*BAK*12**3",
        "AK5*R*5",
        "AK2*855*0002",
        "AK3*ACK*6**8",
        "AK4*2**6*TWO",
        "AK5*E*5",
        "AK9*P*2*2*1",
    ]
    assert envelope_errors(content) == []


def test_wrong_counts_reject_sets_and_the_group() -> None:
    received, group = only_group("wrong_counts.x12")
    content = render_functional_ack(received, group, partner(), ACK_NUMBERS, NOW)
    assert body_of(content) == ["AK1*PR*9007", "AK2*855*0001", "AK5*R*4", "AK2*855*0002", "AK5*A", "AK9*R*3*2*0*5"]


def test_a_set_we_do_not_take_is_rejected_as_not_supported() -> None:
    received, group = only_group("po_ack_855.x12")
    group.sets[0].set_id = "204"
    assert body_of(render_functional_ack(received, group, partner(), ACK_NUMBERS, NOW))[1:3] == [
        "AK2*204*0001",
        "AK5*R*1",
    ]


def test_unknown_segments_are_no_finding() -> None:
    _received, group = only_group("unknown_segments_856.x12")
    assert check_group(group).status == "A"


def test_a_997_is_never_acknowledged() -> None:
    received, group = only_group("functional_ack_997.x12")
    with pytest.raises(AcknowledgementRefused):
        render_functional_ack(received, group, partner(), ACK_NUMBERS, NOW)


def test_a_5010_997_names_the_group_version_and_echoes_values_safely() -> None:
    received, group = only_group("missing_bak_and_bad_quantity.x12")
    group.sets[1].segments[4] = type(group.sets[1].segments[4])("ACK", ("IA", "T^W*O", "EA"))
    content = render_functional_ack(received, group, partner(version="005010"), ACK_NUMBERS, NOW)
    body = body_of(content)
    assert body[0] == "AK1*PR*9009*004010"
    assert "AK4*2**6*T W O" in body
    assert envelope_errors(content) == []


def test_reading_a_partners_997_with_errors() -> None:
    (transaction,) = first_interchange("functional_ack_997.x12").groups[0].sets
    ack = read_functional_ack(transaction)
    assert (ack.functional_id, ack.group_control_number, ack.group_status) == ("PO", 17, "P")
    assert [(s.set_id, s.control_number, s.status) for s in ack.sets] == [("850", 1, "E"), ("850", 2, "R")]
    assert ack.sets[0].errors == ["segment PO1 at position 12: error 8", "element 2: error 6 ('TWO')", "set error 5"]
    assert ack.sets[1].errors[1] == "element 3: error 1"
    assert ack.errors == [] and not ack.rejected


def test_our_997_read_back_gives_the_same_statuses() -> None:
    received, group = only_group("missing_bak_and_bad_quantity.x12")
    ours = read_file(render_functional_ack(received, group, partner(), ACK_NUMBERS, NOW)).interchanges[0]
    ack = read_functional_ack(ours.groups[0].sets[0])
    assert (ack.functional_id, ack.group_control_number, ack.group_status) == ("PR", 9009, "P")
    assert [(s.control_number, s.status) for s in ack.sets] == [(1, "R"), (2, "E")]


def test_a_997_without_ak1_or_ak9_is_reported() -> None:
    (transaction,) = first_interchange("functional_ack_997.x12").groups[0].sets
    transaction.segments = [s for s in transaction.segments if s.id not in ("AK1", "AK9")]
    assert len(read_functional_ack(transaction).errors) == 2


def test_ta1_for_an_interchange() -> None:
    received = first_interchange("po_ack_855.x12")
    content = render_ta1(received, partner(), NOW, control_number=31, accepted=True, note_code=ta1_note_code(received))
    lines = content.decode().split("\n")
    assert len(lines[0]) == 106 and lines[1] == "TA1*000000501*261201*0830*A*000~" and lines[2] == "IEA*0*000000031~"
    assert envelope_errors(content) == []


def test_ta1_rejecting_an_interchange_with_a_wrong_iea() -> None:
    received = first_interchange("wrong_counts.x12")
    assert ta1_note_code(received) == "001"
    content = render_ta1(received, partner(), NOW, control_number=32, accepted=False, note_code="001")
    assert b"TA1*000000507*261201*0830*R*001~" in content
    assert envelope_errors(content) == []
    with pytest.raises(ValueError, match="three-digit"):
        render_ta1(received, partner(), NOW, control_number=32, accepted=False, note_code="1")
