"""A trading partner's X12 settings (the connection's ``x12`` object) and the envelope numbers of one
outbound interchange.

The settings are validated here, once, so the writers can trust them: identifiers fit the fixed-width
ISA, the four delimiters are single, distinct characters that cannot occur in our own identifiers, and
the partner's acknowledgement codes say unambiguously what each ACK01 code means. Pure: pydantic only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AckLineStatus = Literal["accepted", "backordered", "rejected"]

FORBIDDEN_DELIMITER_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ._-")
"""Letters, digits, the space and what vendor order numbers are made of: a delimiter among them would
cut our own identifiers apart."""

MAX_CONTROL_NUMBER = 999_999_999
"""ISA13, GS06 and ST02 are at most nine digits."""


class PoNumberTooLong(ValueError):
    """BEG03 / BCH03 holds at most 22 characters; a longer vendor order number is never cut silently."""

    def __init__(self, po_number: str) -> None:
        super().__init__(f"purchase order number {po_number!r} has {len(po_number)} characters; X12 allows 22")
        self.po_number = po_number


class AckCodes(BaseModel):
    """Which ACK01 line status codes of an 855 mean accepted, backordered or rejected for this partner."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accepted: list[str] = Field(default_factory=lambda: ["IA", "AC"])
    backordered: list[str] = Field(default_factory=lambda: ["IB", "BP"])
    rejected: list[str] = Field(default_factory=lambda: ["IR", "R2"])

    @model_validator(mode="after")
    def _each_code_means_one_thing(self) -> AckCodes:
        seen: dict[str, str] = {}
        listed = (("accepted", self.accepted), ("backordered", self.backordered), ("rejected", self.rejected))
        for status, codes in listed:
            for code in codes:
                if code in seen:
                    raise ValueError(f"ACK code {code!r} is listed as both {seen[code]} and {status}")
                seen[code] = status
        return self

    def status_of(self, code: str) -> AckLineStatus | None:
        """The status ``code`` stands for, or ``None`` when the partner did not name it."""
        if code in self.accepted:
            return "accepted"
        if code in self.backordered:
            return "backordered"
        if code in self.rejected:
            return "rejected"
        return None


@dataclass(frozen=True)
class Delimiters:
    """The separators of one interchange: ours from the settings, a partner's read from its ISA."""

    element: str = "*"
    segment: str = "~"
    component: str = ">"
    repetition: str | None = None
    """ISA11 in 5010; 4010 has none (ISA11 is the standards identifier ``U``)."""


class PartnerSettings(BaseModel):
    """One trading partner: who we are to it, who it is, and how its interchanges are written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal["004010", "005010"] = "004010"
    sender_qualifier: str = Field(default="ZZ", min_length=2, max_length=2)
    sender_id: str = Field(min_length=1, max_length=15, description="Ours: ISA06 and GS02.")
    receiver_qualifier: str = Field(default="ZZ", min_length=2, max_length=2)
    receiver_id: str = Field(min_length=1, max_length=15, description="The partner's: ISA08 and GS03.")
    usage: Literal["P", "T"] = "P"
    acknowledgement_requested: bool = True
    cancel_as: Literal["850", "860"] = "850"
    ack_997_within_hours: int | None = Field(default=24, ge=1)
    ack_dir: str | None = None
    ack_codes: AckCodes = Field(default_factory=AckCodes)
    element_separator: str = "*"
    segment_terminator: str = "~"
    component_separator: str = ">"
    repetition_separator: str = "^"
    segment_newline: bool = True
    charset: Literal["basic", "extended"] = "extended"

    @field_validator("sender_id", "receiver_id", "sender_qualifier", "receiver_qualifier")
    @classmethod
    def _printable_identifier(cls, value: str) -> str:
        if value != value.strip() or not value.isascii() or not value.isprintable():
            raise ValueError("an X12 identifier is printable ASCII without leading or trailing spaces")
        return value

    @field_validator("element_separator", "segment_terminator", "component_separator", "repetition_separator")
    @classmethod
    def _usable_delimiter(cls, value: str) -> str:
        if len(value) != 1 or not value.isascii() or not value.isprintable():
            raise ValueError("a delimiter is one printable ASCII character")
        if value in FORBIDDEN_DELIMITER_CHARACTERS:
            raise ValueError(f"{value!r} cannot be a delimiter: it occurs in identifiers and text")
        return value

    @model_validator(mode="after")
    def _distinct_delimiters(self) -> PartnerSettings:
        used = [self.element_separator, self.segment_terminator, self.component_separator]
        if self.version == "005010":
            used.append(self.repetition_separator)
        if len(set(used)) != len(used):
            raise ValueError("the element, segment, component (and in 5010 repetition) separators must differ")
        for identifier in (self.sender_id, self.receiver_id, self.sender_qualifier, self.receiver_qualifier):
            if any(delimiter in identifier for delimiter in used):
                raise ValueError(f"identifier {identifier!r} contains a delimiter")
        return self

    @property
    def delimiters(self) -> Delimiters:
        return Delimiters(
            element=self.element_separator,
            segment=self.segment_terminator,
            component=self.component_separator,
            repetition=self.repetition_separator if self.version == "005010" else None,
        )


@dataclass(frozen=True)
class ControlNumbers:
    """ISA13, GS06 and ST02 of one outbound interchange, reserved by the caller before writing: the same
    numbers give the same bytes, so a retry is recognisably a repeat."""

    interchange: int
    group: int
    transaction: int

    def __post_init__(self) -> None:
        for name in ("interchange", "group", "transaction"):
            value = getattr(self, name)
            if not 1 <= value <= MAX_CONTROL_NUMBER:
                raise ValueError(f"{name} control number {value} is outside 1..{MAX_CONTROL_NUMBER}")
