"""Reading partners' files: delimiters from each ISA, line breaks of every kind, two interchanges in a
file, and the hostile ones (wrong counts and control numbers, a cut-off interchange, stray text)."""

from __future__ import annotations

from services.gateway.x12 import Delimiters, read_file
from tests.unit.gateway.x12 import fixture


def test_delimiters_come_from_the_isa() -> None:
    (interchange,) = read_file(fixture("ship_notice_856_no_packs.x12")).interchanges
    assert interchange.delimiters == Delimiters(element="|", segment="}", component="^", repetition=None)
    (group,) = interchange.groups
    assert [s.id for s in group.sets[0].segments][:3] == ["BSN", "HL", "TD5"]


def test_the_header_of_an_interchange() -> None:
    (interchange,) = read_file(fixture("po_ack_855.x12")).interchanges
    assert (interchange.sender_qualifier, interchange.sender_id) == ("ZZ", "ACMEDIST")
    assert (interchange.receiver_qualifier, interchange.receiver_id) == ("ZZ", "MERCHANT")
    assert interchange.control_number == 501 and interchange.version == "00401" and interchange.usage == "P"
    assert interchange.ack_requested is True
    assert interchange.sent_at is not None and interchange.sent_at.isoformat() == "2026-12-01T08:30:00+00:00"
    (group,) = interchange.groups
    assert (group.functional_id, group.control_number, group.version) == ("PR", "9001", "004010")
    assert [(s.set_id, s.control_number) for s in group.sets] == [("855", "0001")]
    assert interchange.errors == group.errors == group.sets[0].errors == []


def test_crlf_after_each_terminator_is_tolerated() -> None:
    content = fixture("po_ack_855.x12")
    assert b"~\r\n" in content
    (interchange,) = read_file(content).interchanges
    assert interchange.groups[0].sets[0].segments[0].id == "BAK"


def test_a_newline_as_the_segment_terminator() -> None:
    result = read_file(fixture("inventory_846.x12"))
    (interchange,) = result.interchanges
    assert interchange.delimiters.segment == "\n"
    assert interchange.errors == [] and interchange.groups[0].sets[0].errors == []
    assert sum(1 for s in interchange.groups[0].sets[0].segments if s.id == "LIN") == 5


def test_segments_broken_across_lines_at_a_fixed_width() -> None:
    content = fixture("crlf_wrapped_846.x12")
    assert max(len(line) for line in content.split(b"\r\n")) == 80
    result = read_file(content)
    assert result.errors == []
    (interchange,) = result.interchanges
    assert interchange.errors == [] and interchange.groups[0].errors == []
    (transaction,) = interchange.groups[0].sets
    assert transaction.errors == []
    lins = [s for s in transaction.segments if s.id == "LIN"]
    assert lins[0].elements == ("1", "VN", "AC-MUG", "UP", "012345678905")


def test_two_interchanges_with_different_delimiters_in_one_file() -> None:
    result = read_file(fixture("two_interchanges.x12"))
    assert result.errors == []
    first, second = result.interchanges
    assert (first.control_number, first.delimiters.element, first.delimiters.segment) == (511, "*", "~")
    assert (second.control_number, second.delimiters.element, second.delimiters.segment) == (512, "|", "^")
    assert second.delimiters.component == "}"
    assert first.groups[0].sets[0].set_id == "855" and second.groups[0].sets[0].set_id == "856"
    assert second.groups[0].sets[0].errors == []


def test_a_truncated_interchange_is_an_error_and_the_next_one_is_still_read() -> None:
    result = read_file(fixture("truncated_then_whole.x12"))
    assert len(result.errors) == 1 and "000000511" in result.errors[0] and "IEA" in result.errors[0]
    (whole,) = result.interchanges
    assert whole.control_number == 512 and whole.errors == []


def test_a_file_cut_off_at_the_end() -> None:
    content = fixture("po_ack_855.x12")
    result = read_file(content[: content.index(b"GE*")])
    assert result.interchanges == [] and "ends before its IEA" in result.errors[0]
    assert read_file(content[:60]).errors == ["at offset 0: the ISA segment is incomplete"]


def test_wrong_counts_and_control_numbers_are_errors_of_their_envelope() -> None:
    (interchange,) = read_file(fixture("wrong_counts.x12")).interchanges
    assert interchange.note_codes == ["001", "021"]
    assert any("IEA02" in error for error in interchange.errors)
    (group,) = interchange.groups
    assert group.syntax_codes == ["5"] and group.declared_set_count == 3
    first, second = group.sets
    assert first.syntax_codes == ["4"] and "SE01 says '5'" in first.errors[0]
    assert second.syntax_codes == [] and second.errors == []


def test_se02_differing_from_st02_and_a_missing_se() -> None:
    content = fixture("po_ack_855.x12").replace(b"SE*13*0001~", b"SE*13*0002~")
    (transaction,) = read_file(content).interchanges[0].groups[0].sets
    assert transaction.syntax_codes == ["3"]
    content = fixture("po_ack_855.x12").replace(b"SE*13*0001~\r\n", b"")
    (interchange,) = read_file(content).interchanges
    assert interchange.groups[0].sets[0].syntax_codes == ["2"]


def test_gs06_differing_from_ge02_and_a_missing_ge() -> None:
    content = fixture("po_ack_855.x12").replace(b"GE*1*9001~", b"GE*1*9999~")
    (group,) = read_file(content).interchanges[0].groups
    assert group.syntax_codes == ["4"]
    content = fixture("po_ack_855.x12").replace(b"GE*1*9001~\r\n", b"")
    (interchange,) = read_file(content).interchanges
    assert interchange.groups[0].syntax_codes == ["3"] and "024" in interchange.note_codes


def test_unknown_segments_are_kept() -> None:
    (transaction,) = read_file(fixture("unknown_segments_856.x12")).interchanges[0].groups[0].sets
    assert transaction.errors == []
    assert [s.id for s in transaction.segments if s.id in ("ZZZ", "YNQ", "QQQ")] == ["ZZZ", "YNQ", "QQQ"]


def test_text_around_interchanges_is_reported_not_fatal() -> None:
    content = b"\xef\xbb\xbfhello\r\n" + fixture("po_ack_855.x12") + b"\r\n\r\n"
    result = read_file(content)
    assert len(result.interchanges) == 1 and len(result.errors) == 1 and "hello" in result.errors[0]


def test_a_latin1_file_is_read() -> None:
    content = fixture("po_ack_855.x12").replace(b"ZOE MULLER", "ZOË MÜLLER".encode("latin-1"))
    segments = read_file(content).interchanges[0].groups[0].sets[0].segments
    assert next(s for s in segments if s.id == "N1").element(2) == "ZOË MÜLLER"


def test_an_isa_that_is_not_fixed_width_is_still_read_with_an_error() -> None:
    content = fixture("po_ack_855.x12").replace(b"ACMEDIST       ", b"ACMEDIST", 1)
    (interchange,) = read_file(content).interchanges
    assert interchange.sender_id == "ACMEDIST" and "not the fixed 106" in interchange.errors[0]
    assert interchange.groups[0].sets[0].segments[0].id == "BAK"


def test_a_non_numeric_isa13_makes_the_interchange_unreadable() -> None:
    content = fixture("po_ack_855.x12").replace(b"*000000501*", b"*00000050X*", 1)
    result = read_file(content + fixture("ship_notice_856.x12"))
    assert "ISA13" in result.errors[0]
    assert [interchange.control_number for interchange in result.interchanges] == [502]
