"""What an inbound X12 file is made of once read: interchanges (ISA/IEA) holding functional groups
(GS/GE) holding transaction sets (ST/SE) of segments.

Each level keeps the errors found in its own envelope (a count that does not match, a trailer whose
control number differs, a trailer missing) so a 997 or TA1 can say exactly what was wrong, while the
content stays readable. Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.gateway.x12.settings import Delimiters
from services.gateway.x12.values import parse_datetime


@dataclass(frozen=True)
class Segment:
    """One segment: its id (``PO1``) and its elements, ``elements[0]`` being element 01."""

    id: str
    elements: tuple[str, ...]

    def element(self, position: int) -> str:
        """Element ``position`` (1-based, as ``PO102`` is 2), or ``""`` when absent."""
        return self.elements[position - 1] if 0 < position <= len(self.elements) else ""

    def pairs(self, first: int) -> list[tuple[str, str]]:
        """Qualifier/value pairs starting at element ``first`` (``PO106``/``PO107``, ``PO108``/…),
        leaving out pairs with an empty value."""
        found: list[tuple[str, str]] = []
        for position in range(first, len(self.elements) + 1, 2):
            qualifier, value = self.element(position), self.element(position + 1)
            if qualifier and value:
                found.append((qualifier, value))
        return found


@dataclass
class TransactionSet:
    """ST … SE. ``segments`` are those between ST and SE: the first of them is at position 2 of the
    set (ST is 1), which is how a 997's AK3 counts."""

    set_id: str
    control_number: str
    segments: list[Segment] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    syntax_codes: list[str] = field(default_factory=list)
    """AK5 syntax error codes for what is wrong with the set's envelope (``2`` no SE, ``3`` control
    numbers differ, ``4`` segment count wrong)."""
    implementation_reference: str = ""
    """ST03 (5010)."""


@dataclass
class FunctionalGroup:
    """GS … GE."""

    functional_id: str
    sender_id: str
    receiver_id: str
    control_number: str
    version: str
    date: str
    time: str
    sets: list[TransactionSet] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    syntax_codes: list[str] = field(default_factory=list)
    """AK9 syntax error codes for the group's envelope (``3`` no GE, ``4`` control numbers differ,
    ``5`` set count wrong)."""
    declared_set_count: int | None = None
    """GE01 as the partner wrote it (``None`` without a readable GE)."""


@dataclass
class Interchange:
    """ISA … IEA."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_number: int
    date: str
    """ISA09, YYMMDD as written (a TA1 echoes it)."""
    time: str
    """ISA10, HHMM as written."""
    usage: str
    version: str
    """ISA12: ``00401`` or ``00501``."""
    ack_requested: bool
    delimiters: Delimiters
    groups: list[FunctionalGroup] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    note_codes: list[str] = field(default_factory=list)
    """TA1 note codes for what is wrong with the interchange's envelope (``001`` control numbers
    differ, ``021`` group count wrong, ``024`` unexpected end or segment)."""

    @property
    def sent_at(self) -> datetime | None:
        return parse_datetime(self.date, self.time)


@dataclass
class ReadResult:
    """Every interchange of a file that could be read, and what could not: an unreadable or truncated
    interchange is an error here and the ones after it are still read."""

    interchanges: list[Interchange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
