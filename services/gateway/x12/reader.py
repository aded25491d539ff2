"""Reading X12 files: every interchange of a file, each with the delimiters of its own ISA.

Nothing is assumed about a partner's delimiters: the element separator is ISA's fourth character, the
component separator ISA16 and the segment terminator the character after it; in 5010 ISA11 is the
repetition separator. Files come as partners write them: a newline (or CRLF) after each terminator, a
newline as the terminator, segments broken across lines at a fixed width, two interchanges one after
the other. Segments the codec does not know are kept, and the readers of each document skip them.
An interchange that cannot be read (no usable ISA, or cut off before its IEA) is an error of the file,
and the interchanges after it are still read; wrong counts and control numbers are errors of the
envelope they belong to, for the 997 or TA1 to report. Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.x12.model import FunctionalGroup, Interchange, ReadResult, Segment, TransactionSet
from services.gateway.x12.settings import Delimiters

ISA_ELEMENTS = 16
FIXED_ISA_LENGTH = 105
"""The ISA up to and including ISA16, without its terminator."""
_LINE_BREAKS = "\r\n"


def read_file(content: bytes) -> ReadResult:
    """Every interchange in ``content``; what cannot be read is in ``errors``."""
    text = _decode(content)
    result = ReadResult()
    position = 0
    after_unreadable = False
    while True:
        start = _next_isa(text, position)
        skipped = text[position : len(text) if start == -1 else start].strip()
        if skipped and not after_unreadable:
            result.errors.append(f"at offset {position}: text outside an interchange ({skipped[:30]!r}) ignored")
        if start == -1:
            return result
        header = _read_isa(text, start)
        if isinstance(header, str):
            result.errors.append(f"at offset {start}: {header}")
            position, after_unreadable = start + 3, True
            continue
        after_unreadable = False
        interchange, body_start, newline_terminated = header
        outcome = _InterchangeReader(interchange, newline_terminated).read(text, body_start)
        if outcome.error is not None:
            result.errors.append(f"interchange {interchange.control_number:09d}: {outcome.error}")
        else:
            result.interchanges.append(interchange)
        position = outcome.next_position


def _decode(content: bytes) -> str:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    return text.removeprefix("\ufeff")


def _next_isa(text: str, position: int) -> int:
    """Where the next ISA starts: ``ISA`` followed by a character that can be a separator."""
    while True:
        start = text.find("ISA", position)
        if start == -1 or (start + 3 < len(text) and not text[start + 3].isalnum() and text[start + 3] not in " \r\n"):
            return start
        position = start + 1


def _read_isa(text: str, start: int) -> tuple[Interchange, int, bool] | str:
    separator = text[start + 3]
    chars: list[str] = []
    separators = 0
    index = start
    while index < len(text) and (separators < ISA_ELEMENTS or len(chars) == 0 or chars[-1] == separator):
        char = text[index]
        index += 1
        if char in _LINE_BREAKS:
            continue  # an ISA broken across lines at a fixed width
        chars.append(char)
        if char == separator:
            separators += 1
    if separators < ISA_ELEMENTS or index >= len(text):
        return "the ISA segment is incomplete"
    isa = "".join(chars)
    terminator, index, newline_terminated = _terminator(text, index)
    if terminator is None:
        return "the ISA segment has no terminator"
    elements = isa.split(separator)[1:]
    control = elements[12]
    if not control.isdigit():
        return f"ISA13 {control!r} is not a control number"
    version = elements[11]
    repetition = elements[10] if version >= "00501" and not elements[10].isalnum() else None
    interchange = Interchange(
        sender_qualifier=elements[4].strip(),
        sender_id=elements[5].strip(),
        receiver_qualifier=elements[6].strip(),
        receiver_id=elements[7].strip(),
        control_number=int(control),
        date=elements[8],
        time=elements[9],
        usage=elements[14],
        version=version,
        ack_requested=elements[13] == "1",
        delimiters=Delimiters(element=separator, segment=terminator, component=elements[15], repetition=repetition),
    )
    if len(isa) != FIXED_ISA_LENGTH:
        interchange.errors.append(f"the ISA is {len(isa) + 1} characters, not the fixed 106")
    return interchange, index, newline_terminated


def _terminator(text: str, index: int) -> tuple[str | None, int, bool]:
    """The segment terminator after ISA16, the position after it, and whether it is a line break."""
    if index >= len(text):
        return None, index, False
    if text[index] not in _LINE_BREAKS:
        return text[index], index + 1, False
    after = index
    while after < len(text) and text[after] in _LINE_BREAKS:
        after += 1
    if after < len(text) and not text[after].isalnum() and not text[after].isspace():
        return text[after], after + 1, False  # the line was broken just before the terminator
    return "\n", index, True


@dataclass
class _Outcome:
    next_position: int
    error: str | None = None


class _InterchangeReader:
    """The segments after one ISA, up to its IEA, into groups and sets."""

    def __init__(self, interchange: Interchange, newline_terminated: bool) -> None:
        self.interchange = interchange
        self.newline_terminated = newline_terminated
        self.group: FunctionalGroup | None = None
        self.current: TransactionSet | None = None

    def read(self, text: str, start: int) -> _Outcome:
        for offset, end, raw in self._raw_segments(text, start):
            if _looks_like_isa(raw):
                return _Outcome(offset + len(raw) - len(raw.lstrip()), "cut off: the next ISA begins before its IEA")
            segment = self._split(raw)
            if segment.id == "IEA":
                self._close_interchange(segment)
                return _Outcome(end)
            self._take(segment)
        return _Outcome(len(text), "cut off: the file ends before its IEA")

    def _raw_segments(self, text: str, start: int) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = []
        terminator = self.interchange.delimiters.segment
        position = start
        while position < len(text):
            if self.newline_terminated:
                end = min((i for i in (text.find("\r", position), text.find("\n", position)) if i != -1), default=-1)
            else:
                end = text.find(terminator, position)
            stop = len(text) if end == -1 else end
            raw = text[position:stop]
            if not self.newline_terminated:
                raw = raw.replace("\r", "").replace("\n", "")
            if raw.strip():
                if end == -1 and not _looks_like_isa(raw) and not raw.strip().startswith("IEA"):
                    break  # an unterminated tail: the interchange is cut off
                found.append((position, stop + 1, raw))
            position = stop + 1
            if _looks_like_isa(raw) or raw.strip().startswith("IEA"):
                break
        return found

    def _split(self, raw: str) -> Segment:
        parts = raw.strip().split(self.interchange.delimiters.element)
        return Segment(parts[0].strip().upper(), tuple(parts[1:]))

    def _take(self, segment: Segment) -> None:
        if segment.id == "GS":
            self._close_group(None)
            self.group = FunctionalGroup(
                functional_id=segment.element(1),
                sender_id=segment.element(2),
                receiver_id=segment.element(3),
                date=segment.element(4),
                time=segment.element(5),
                control_number=segment.element(6),
                version=segment.element(8),
            )
        elif segment.id == "GE":
            self._close_group(segment)
        elif segment.id == "ST":
            self._close_set(None)
            if self.group is None:
                self.interchange.errors.append(f"ST {segment.element(2)} outside a functional group")
                self._note("024")
            self.current = TransactionSet(segment.element(1), segment.element(2))
            self.current.implementation_reference = segment.element(3)
        elif segment.id == "SE":
            self._close_set(segment)
        elif self.current is not None:
            self.current.segments.append(segment)
        elif segment.id != "TA1":
            self.interchange.errors.append(f"segment {segment.id} outside a transaction set ignored")

    def _close_set(self, trailer: Segment | None) -> None:
        transaction = self.current
        if transaction is None:
            if trailer is not None:
                self.interchange.errors.append(f"SE {trailer.element(2)} without an ST")
                self._note("024")
            return
        self.current = None
        label = f"set {transaction.set_id} {transaction.control_number}"
        if trailer is None:
            transaction.errors.append(f"{label} has no SE")
            transaction.syntax_codes.append("2")
        else:
            if trailer.element(2) != transaction.control_number:
                transaction.errors.append(f"{label}: SE02 {trailer.element(2)!r} differs from ST02")
                transaction.syntax_codes.append("3")
            counted = len(transaction.segments) + 2
            if trailer.element(1) != str(counted):
                transaction.errors.append(f"{label}: SE01 says {trailer.element(1)!r} segments, it has {counted}")
                transaction.syntax_codes.append("4")
        if self.group is not None:
            self.group.sets.append(transaction)

    def _close_group(self, trailer: Segment | None) -> None:
        if self.current is not None:
            self._close_set(None)
        group = self.group
        if group is None:
            if trailer is not None:
                self.interchange.errors.append(f"GE {trailer.element(2)} without a GS")
                self._note("024")
            return
        self.group = None
        label = f"group {group.functional_id} {group.control_number}"
        if trailer is None:
            group.errors.append(f"{label} has no GE")
            group.syntax_codes.append("3")
            self._note("024")
        else:
            declared = trailer.element(1)
            group.declared_set_count = int(declared) if declared.isdigit() else None
            if trailer.element(2) != group.control_number:
                group.errors.append(f"{label}: GE02 {trailer.element(2)!r} differs from GS06")
                group.syntax_codes.append("4")
            if group.declared_set_count != len(group.sets):
                group.errors.append(f"{label}: GE01 says {declared!r} sets, it has {len(group.sets)}")
                group.syntax_codes.append("5")
        self.interchange.groups.append(group)

    def _close_interchange(self, trailer: Segment) -> None:
        if self.group is not None:
            self._close_group(None)
        interchange = self.interchange
        declared, control = trailer.element(1), trailer.element(2)
        if not control.isdigit() or int(control) != interchange.control_number:
            interchange.errors.append(f"IEA02 {control!r} differs from ISA13 {interchange.control_number:09d}")
            self._note("001")
        if declared != str(len(interchange.groups)):
            interchange.errors.append(f"IEA01 says {declared!r} groups, it has {len(interchange.groups)}")
            self._note("021")

    def _note(self, code: str) -> None:
        if code not in self.interchange.note_codes:
            self.interchange.note_codes.append(code)


def _looks_like_isa(raw: str) -> bool:
    stripped = raw.lstrip()
    return stripped.startswith("ISA") and len(stripped) > 3 and not stripped[3].isalnum()
