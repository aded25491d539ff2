"""What a 997 says about an inbound functional group: per transaction set accepted (``A``), accepted
with errors (``E``) or rejected (``R``), with AK3 segment and AK4 element findings, and for the group
accepted, accepted with errors, partially accepted (``P``) or rejected.

A set is rejected for a broken envelope (no SE, SE02 ≠ ST02, a wrong SE01: the reader's syntax codes),
for a set we do not take, or for a missing mandatory segment (no BAK in an 855); element findings (a
mandatory element empty, a quantity that is not a number, a date that is not one) leave it accepted
with errors: the document's reader still takes what it can and reports the rest. Segments we do not
know are not findings: partners add their own and we ignore them. Pure: standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.gateway.x12.model import FunctionalGroup, TransactionSet
from services.gateway.x12.values import parse_date, parse_decimal


@dataclass(frozen=True)
class SetRules:
    """What a set needs: its mandatory segments, and per segment the positions of its mandatory,
    numeric and date elements."""

    mandatory_segments: tuple[str, ...]
    mandatory: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    numeric: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    dates: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


RULES: dict[str, SetRules] = {
    "850": SetRules(("BEG",), {"BEG": (1, 2, 3, 5), "PO1": (2,)}, {"PO1": (2, 4), "CTT": (1,)}, {"BEG": (5,)}),
    "860": SetRules(("BCH",), {"BCH": (1, 2, 3, 6)}, {"POC": (3, 4)}, {"BCH": (6,)}),
    "855": SetRules(("BAK",), {"BAK": (1, 2, 3, 4), "ACK": (1,)}, {"PO1": (2, 4), "ACK": (2,)}, {"BAK": (4,)}),
    "856": SetRules(("BSN", "HL"), {"BSN": (1, 2, 3), "HL": (1, 3), "SN1": (2,)}, {"SN1": (2,)}, {"BSN": (3,)}),
    "846": SetRules(("BIA",), {"BIA": (1, 2, 3, 4), "QTY": (1, 2)}, {"QTY": (2,)}, {"BIA": (4,)}),
    "810": SetRules(("BIG", "TDS"), {"BIG": (1, 2), "TDS": (1,)}, {"TDS": (1,), "IT1": (2, 4)}, {"BIG": (1,)}),
    "997": SetRules(("AK1", "AK9"), {"AK1": (1, 2), "AK2": (1, 2), "AK9": (1, 2, 3, 4)}, {"AK9": (2, 3, 4)}),
}
"""The sets we take in (and our own, should a partner echo them back)."""

MISSING = "1"
INVALID_CHARACTER = "6"
INVALID_DATE = "8"
MANDATORY_SEGMENT_MISSING = "3"
SEGMENT_HAS_ELEMENT_ERRORS = "8"
SET_NOT_SUPPORTED = "1"
SEGMENTS_IN_ERROR = "5"


@dataclass(frozen=True)
class ElementFinding:
    """AK4: element ``position`` of the segment, what is wrong (AK403), and the bad value (AK404)."""

    position: int
    code: str
    bad_value: str = ""


@dataclass(frozen=True)
class SegmentFinding:
    """AK3: the segment, its position in the set (ST is 1), what is wrong (AK304), its elements' findings."""

    segment_id: str
    position: int
    code: str
    elements: tuple[ElementFinding, ...] = ()


@dataclass(frozen=True)
class SetCheck:
    set_id: str
    control_number: str
    implementation_reference: str
    status: str
    """AK501: ``A``, ``E`` or ``R``."""
    codes: tuple[str, ...]
    """AK502…: why not plainly accepted."""
    segments: tuple[SegmentFinding, ...]


@dataclass(frozen=True)
class GroupCheck:
    functional_id: str
    control_number: str
    version: str
    status: str
    """AK901: ``A``, ``E``, ``P`` or ``R``."""
    declared_sets: int
    received_sets: int
    accepted_sets: int
    codes: tuple[str, ...]
    """AK905…: what is wrong with the group's envelope."""
    sets: tuple[SetCheck, ...]


def check_group(group: FunctionalGroup) -> GroupCheck:
    """The findings of a 997 for ``group``."""
    sets = tuple(check_set(transaction) for transaction in group.sets)
    accepted = sum(1 for transaction in sets if transaction.status in ("A", "E"))
    if group.syntax_codes or not sets or accepted == 0:
        status = "R"
    elif all(transaction.status == "A" for transaction in sets):
        status = "A"
    elif accepted == len(sets):
        status = "E"
    else:
        status = "P"
    return GroupCheck(
        functional_id=group.functional_id,
        control_number=group.control_number,
        version=group.version,
        status=status,
        declared_sets=group.declared_set_count if group.declared_set_count is not None else len(sets),
        received_sets=len(sets),
        accepted_sets=accepted if status != "R" else 0,
        codes=tuple(group.syntax_codes),
        sets=sets,
    )


def check_set(transaction: TransactionSet) -> SetCheck:
    rules = RULES.get(transaction.set_id)
    codes = list(transaction.syntax_codes)
    findings: list[SegmentFinding] = []
    if rules is None:
        codes.insert(0, SET_NOT_SUPPORTED)
    else:
        findings = _segment_findings(transaction, rules)
    missing_segment = any(finding.code == MANDATORY_SEGMENT_MISSING for finding in findings)
    if findings:
        codes.append(SEGMENTS_IN_ERROR)
    status = "R" if transaction.syntax_codes or rules is None or missing_segment else ("E" if findings else "A")
    return SetCheck(
        set_id=transaction.set_id,
        control_number=transaction.control_number,
        implementation_reference=transaction.implementation_reference,
        status=status,
        codes=tuple(codes),
        segments=tuple(findings),
    )


def _segment_findings(transaction: TransactionSet, rules: SetRules) -> list[SegmentFinding]:
    findings: list[SegmentFinding] = []
    present = {segment.id for segment in transaction.segments}
    trailer_position = len(transaction.segments) + 2
    for segment_id in rules.mandatory_segments:
        if segment_id not in present:
            findings.append(SegmentFinding(segment_id, trailer_position, MANDATORY_SEGMENT_MISSING))
    for index, segment in enumerate(transaction.segments, start=2):
        elements: list[ElementFinding] = []
        for position in rules.mandatory.get(segment.id, ()):
            if not segment.element(position):
                elements.append(ElementFinding(position, MISSING))
        for position in rules.numeric.get(segment.id, ()):
            value = segment.element(position)
            if value and parse_decimal(value) is None:
                elements.append(ElementFinding(position, INVALID_CHARACTER, value))
        for position in rules.dates.get(segment.id, ()):
            value = segment.element(position)
            if value and parse_date(value) is None:
                elements.append(ElementFinding(position, INVALID_DATE, value))
        if elements:
            ordered = tuple(sorted(elements, key=lambda finding: finding.position))
            findings.append(SegmentFinding(segment.id, index, SEGMENT_HAS_ELEMENT_ERRORS, ordered))
    return findings
