"""Acknowledgements both ways: the 997 and TA1 we send for what a partner sent us, and the 997s a
partner sends for our 850s and 860s.

One 997 acknowledges one inbound functional group (an AK2 per set, AK3/AK4 for what is wrong, AK5 per
set, AK9 for the group). Never a 997 for a 997: :func:`render_functional_ack` refuses a group of
997s (``FA``), and the caller skips those groups (and TA1s) when it acknowledges a file. A TA1 answers
an interchange's envelope, only when its ISA14 asks for one. A 997 of ours asks for no TA1 in return.
Values echoed from the partner are cleaned for our own delimiters. Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.gateway.x12.checks import GroupCheck, check_group
from services.gateway.x12.model import FunctionalGroup, Interchange, TransactionSet
from services.gateway.x12.settings import ControlNumbers, PartnerSettings
from services.gateway.x12.values import clean_text
from services.gateway.x12.writer import (
    Element,
    interchange_header,
    interchange_trailer,
    render_interchange,
    render_segment,
)

ACKNOWLEDGEMENT_FUNCTIONAL_ID = "FA"
NO_ERROR = "000"


class AcknowledgementRefused(ValueError):
    """A 997 for a group of 997s: acknowledgements are never acknowledged."""


def render_functional_ack(
    received: Interchange,
    group: FunctionalGroup,
    partner: PartnerSettings,
    numbers: ControlNumbers,
    now: datetime,
    *,
    check: GroupCheck | None = None,
) -> bytes:
    """The 997 for ``group`` of ``received``, from :func:`check_group` (or the ``check`` given)."""
    if group.functional_id == ACKNOWLEDGEMENT_FUNCTIONAL_ID:
        raise AcknowledgementRefused(f"group {group.control_number} holds 997s: a 997 is never acknowledged")
    findings = check if check is not None else check_group(group)

    def echo(value: str, limit: int = 30) -> str:
        return clean_text(value, partner.delimiters, limit=limit)

    fifty = partner.version == "005010"
    group_version = [echo(findings.version, 12)] if fifty and findings.version else []
    body: list[tuple[str, list[Element]]] = [
        ("AK1", [echo(findings.functional_id, 2), echo(findings.control_number, 9), *group_version])
    ]
    for transaction in findings.sets:
        reference = [echo(transaction.implementation_reference, 35)] if fifty else []
        body.append(("AK2", [echo(transaction.set_id, 3), echo(transaction.control_number, 9), *reference]))
        for segment in transaction.segments:
            body.append(("AK3", [echo(segment.segment_id, 3), str(segment.position), "", segment.code]))
            for element in segment.elements:
                body.append(("AK4", [str(element.position), "", element.code, echo(element.bad_value, 99)]))
        body.append(("AK5", [transaction.status, *transaction.codes[:5]]))
    counts = [str(findings.declared_sets), str(findings.received_sets), str(findings.accepted_sets)]
    body.append(("AK9", [findings.status, *counts, *findings.codes[:5]]))
    return render_interchange(partner, numbers, now, "997", body, ack_requested=False)


def ta1_note_code(received: Interchange) -> str:
    """TA105 for ``received``: its first envelope finding, or ``000`` when there is none."""
    return received.note_codes[0] if received.note_codes else NO_ERROR


def render_ta1(
    received: Interchange,
    partner: PartnerSettings,
    now: datetime,
    *,
    control_number: int,
    accepted: bool,
    note_code: str,
) -> bytes:
    """An interchange of ours holding only a TA1 for ``received`` (``A``, ``E`` when accepted with a
    note, ``R``); ``control_number`` is its own ISA13, reserved like any other."""
    if len(note_code) != 3 or not note_code.isdigit():
        raise ValueError(f"TA105 is a three-digit note code, not {note_code!r}")
    status = "R" if not accepted else ("A" if note_code == NO_ERROR else "E")
    moment = now.astimezone(UTC)
    echoed_date = clean_text(received.date, partner.delimiters, limit=6)
    echoed_time = clean_text(received.time, partner.delimiters, limit=4)
    ta1 = render_segment(partner, "TA1", f"{received.control_number:09d}", echoed_date, echoed_time, status, note_code)
    text = interchange_header(partner, control_number, moment, ack_requested=False) + ta1
    return (text + interchange_trailer(partner, control_number, 0)).encode("ascii")


@dataclass
class SetAck:
    set_id: str
    control_number: int | None
    status: str
    """AK501: ``A`` accepted, ``E`` accepted with errors, ``R`` rejected (``M``/``W``/``X`` as sent)."""
    errors: list[str] = field(default_factory=list)


@dataclass
class FunctionalAck:
    """A partner's 997 for one of our groups."""

    functional_id: str
    group_control_number: int | None
    group_status: str
    """AK901: ``A``, ``E``, ``P`` or ``R``."""
    sets: list[SetAck] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return self.group_status == "R"


def read_functional_ack(transaction: TransactionSet) -> FunctionalAck:
    """The 997 ``transaction``: which group it acknowledges and how each set fared."""
    ack = FunctionalAck(functional_id="", group_control_number=None, group_status="")
    current: SetAck | None = None
    for segment in transaction.segments:
        if segment.id == "AK1":
            ack.functional_id = segment.element(1)
            ack.group_control_number = _number(segment.element(2), "AK102", ack.errors)
        elif segment.id == "AK2":
            current = SetAck(segment.element(1), _number(segment.element(2), "AK202", ack.errors), status="")
            ack.sets.append(current)
        elif segment.id == "AK3" and current is not None:
            current.errors.append(
                f"segment {segment.element(1)} at position {segment.element(2)}: error {segment.element(4)}"
            )
        elif segment.id == "AK4" and current is not None:
            bad = f" ({segment.element(4)!r})" if segment.element(4) else ""
            current.errors.append(f"element {segment.element(1)}: error {segment.element(3)}{bad}")
        elif segment.id == "AK5" and current is not None:
            current.status = segment.element(1)
            current.errors.extend(f"set error {code}" for code in segment.elements[1:] if code)
            current = None
        elif segment.id == "AK9":
            ack.group_status = segment.element(1)
            ack.errors.extend(f"group error {code}" for code in segment.elements[4:] if code)
    if ack.group_control_number is None and not any("AK102" in error for error in ack.errors):
        ack.errors.append("no AK1: the 997 does not say which group it acknowledges")
    if not ack.group_status:
        ack.errors.append("no AK9: the 997 gives no status for the group")
    for set_ack in ack.sets:
        if not set_ack.status:
            ack.errors.append(f"set {set_ack.set_id} {set_ack.control_number}: no AK5")
            set_ack.status = ack.group_status
    return ack


def _number(value: str, name: str, errors: list[str]) -> int | None:
    if value.isdigit():
        return int(value)
    errors.append(f"{name} {value!r} is not a control number")
    return None
