"""Writing X12: segments with the partner's delimiters, and the envelopes around them.

One interchange per file, one functional group per interchange: ISA (fixed width, 106 characters with
its terminator) and GS open it, each transaction set is ST … SE with SE01 counting ST to SE inclusive,
GE01 counts the sets and IEA01 the groups; ISA13 = IEA02, GS06 = GE02, ST02 = SE02. The control
numbers come from the caller, reserved before writing. Pure: standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from services.gateway.x12.settings import ControlNumbers, PartnerSettings

Element = str | Sequence[str]
"""A simple element, or a composite one given as its components."""

FUNCTIONAL_IDS = {
    "810": "IN", "846": "IB", "850": "PO", "855": "PR", "856": "SH", "860": "PC", "864": "TX", "997": "FA",
}  # fmt: skip
"""GS01 for each transaction set."""

ISA_LENGTH = 106


def render_segment(partner: PartnerSettings, segment_id: str, *elements: Element) -> str:
    """One segment with its terminator (and newline); trailing empty elements are left out."""
    separator = partner.element_separator
    parts = [part if isinstance(part, str) else partner.component_separator.join(part) for part in elements]
    while parts and parts[-1] == "":
        parts.pop()
    terminator = partner.segment_terminator + ("\n" if partner.segment_newline else "")
    return separator.join([segment_id, *parts]) + terminator


def interchange_header(partner: PartnerSettings, control_number: int, now: datetime, *, ack_requested: bool) -> str:
    """The ISA segment, fixed width."""
    version_4010 = partner.version == "004010"
    elements = [
        "00", " " * 10, "00", " " * 10,
        partner.sender_qualifier, partner.sender_id.ljust(15),
        partner.receiver_qualifier, partner.receiver_id.ljust(15),
        now.strftime("%y%m%d"), now.strftime("%H%M"),
        "U" if version_4010 else partner.repetition_separator,
        "00401" if version_4010 else "00501",
        f"{control_number:09d}", "1" if ack_requested else "0", partner.usage, partner.component_separator,
    ]  # fmt: skip
    header = partner.element_separator.join(["ISA", *elements]) + partner.segment_terminator
    if len(header) != ISA_LENGTH:  # pragma: no cover - the settings bound every width
        raise AssertionError(f"ISA is {len(header)} characters")
    return header + ("\n" if partner.segment_newline else "")


def interchange_trailer(partner: PartnerSettings, control_number: int, groups: int) -> str:
    return render_segment(partner, "IEA", str(groups), f"{control_number:09d}")


def transaction_control(number: int) -> str:
    """ST02: at least four digits."""
    return f"{number:04d}"


def render_interchange(
    partner: PartnerSettings,
    numbers: ControlNumbers,
    now: datetime,
    set_id: str,
    body: Sequence[tuple[str, Sequence[Element]]],
    *,
    ack_requested: bool | None = None,
) -> bytes:
    """An interchange with one group holding one transaction set ``set_id`` made of ``body`` (segment
    id and elements, without ST and SE). ``now`` dates the envelope (ISA09/10, GS04/05)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    moment = now.astimezone(UTC)
    requested = partner.acknowledgement_requested if ack_requested is None else ack_requested
    control = transaction_control(numbers.transaction)
    group_version = partner.version
    set_header: list[Element] = [set_id, control]
    if partner.version == "005010":
        set_header.append(group_version)
    segments = [render_segment(partner, "ST", *set_header)]
    segments.extend(render_segment(partner, segment_id, *elements) for segment_id, elements in body)
    segments.append(render_segment(partner, "SE", str(len(segments) + 1), control))
    text = "".join(
        [
            interchange_header(partner, numbers.interchange, moment, ack_requested=requested),
            render_segment(
                partner,
                "GS",
                FUNCTIONAL_IDS[set_id],
                partner.sender_id,
                partner.receiver_id,
                moment.strftime("%Y%m%d"),
                moment.strftime("%H%M"),
                str(numbers.group),
                "X",
                group_version,
            ),
            *segments,
            render_segment(partner, "GE", "1", str(numbers.group)),
            interchange_trailer(partner, numbers.interchange, 1),
        ]
    )
    return text.encode("ascii")
