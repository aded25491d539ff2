"""A trading partner's side of X12 for the gateway's tests: the 997, 855, 856, 846 and 810 a distributor
sends back, written here as bytes with envelopes of their own (not with the gateway's codec), and a
plain reader of what the gateway writes (segments split by the delimiters its ISA declares).

The partner writes with delimiters of its choosing, so the gateway cannot get by assuming ``*`` and
``~``::

    partner = TradingPartner(element="|", terminator="^")
    sent = partner.interchange("PR", [("855", po_acknowledgement("1001-1", [AckedLine(1, "VN-A", 2, "IA")]))])
    drop(folder, "ack.x12", sent.content)          # sent.control_number is its ISA13

``pyx12_errors(content)`` is the independent envelope check (pyx12's reader, a test-only dependency).
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyx12.x12file  # type: ignore[import-untyped]  # pyx12 ships no type information

Segment = list[str]
"""A segment as its id and elements: ``["PO1", "1", "2", "EA"]``."""

_control_numbers = itertools.count(700_000_001)
"""The partner's ISA13s and GS06s, one count for every partner of a test run (each vendor sees its own)."""


@dataclass(frozen=True)
class PartnerFile:
    content: bytes
    control_number: int
    """ISA13."""
    group_numbers: list[int]
    """GS06 of each group, in order."""


@dataclass
class TradingPartner:
    """Writes interchanges from ``sender_id`` to ``receiver_id`` with its own delimiters."""

    sender_id: str = "ACMEDIST"
    receiver_id: str = "MERCHANT"
    element: str = "*"
    terminator: str = "~"
    component: str = ">"
    newline: bool = True
    sent_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def interchange(
        self,
        functional_id: str,
        sets: list[tuple[str, list[Segment]]],
        *,
        ack_requested: bool = False,
        control_number: int | None = None,
    ) -> PartnerFile:
        """One interchange holding one group of ``sets`` (set id, body segments between ST and SE)."""
        return self.groups([(functional_id, sets)], ack_requested=ack_requested, control_number=control_number)

    def groups(
        self,
        groups: list[tuple[str, list[tuple[str, list[Segment]]]]],
        *,
        ack_requested: bool = False,
        control_number: int | None = None,
    ) -> PartnerFile:
        number = control_number if control_number is not None else next(_control_numbers)
        segments: list[Segment] = []
        group_numbers: list[int] = []
        for functional_id, sets in groups:
            group_number = next(_control_numbers) % 1_000_000
            group_numbers.append(group_number)
            segments.append(
                [
                    "GS",
                    functional_id,
                    self.sender_id,
                    self.receiver_id,
                    self.sent_at.strftime("%Y%m%d"),
                    self.sent_at.strftime("%H%M"),
                    str(group_number),
                    "X",
                    "004010",
                ]
            )
            for index, (set_id, body) in enumerate(sets, 1):
                set_number = f"{index:04d}"
                segments += [["ST", set_id, set_number], *body, ["SE", str(len(body) + 2), set_number]]
            segments.append(["GE", str(len(sets)), str(group_number)])
        segments.append(["IEA", str(len(groups)), f"{number:09d}"])
        end = self.terminator + ("\n" if self.newline else "")
        text = self.isa(number, ack_requested) + end + "".join(self.element.join(s) + end for s in segments)
        return PartnerFile(text.encode("ascii"), number, group_numbers)

    def isa(self, control_number: int, ack_requested: bool) -> str:
        """The fixed-width ISA (105 characters before its terminator)."""
        elements = [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            self.sender_id.ljust(15),
            "ZZ",
            self.receiver_id.ljust(15),
            self.sent_at.strftime("%y%m%d"),
            self.sent_at.strftime("%H%M"),
            "U",
            "00401",
            f"{control_number:09d}",
            "1" if ack_requested else "0",
            "P",
            self.component,
        ]
        written = self.element.join(elements)
        assert len(written) == 105, written
        return written


# --- the partner's documents (the segments between ST and SE) -----------------------------------------


def functional_ack(
    group_number: str | int, set_numbers: list[str], *, accepted: bool = True, functional_id: str = "PO"
) -> list[Segment]:
    """A 997 answering our group ``group_number`` (its GS06): every set accepted, or every set rejected."""
    code = "A" if accepted else "R"
    body: list[Segment] = [["AK1", functional_id, str(int(group_number))]]
    for set_number in set_numbers:
        body.append(["AK2", "850", set_number])
        if accepted:
            body.append(["AK5", "A"])
        else:
            body += [["AK3", "BEG", "2", "", "8"], ["AK4", "3", "324", "1"], ["AK5", "R", "5"]]
    count = str(len(set_numbers))
    body.append(["AK9", code, count, count, count if accepted else "0"])
    return body


@dataclass(frozen=True)
class AckedLine:
    line_number: int
    """PO101: the position of the line in our 850."""
    vendor_sku: str
    quantity: int
    code: str
    """ACK01: ``IA`` accepted, ``IB`` backordered, ``IR`` rejected."""
    ship_date: str = "20261215"


def po_acknowledgement(po_number: str, lines: list[AckedLine], *, date: str = "20261201") -> list[Segment]:
    """An 855: BAK, then per line PO1 and its ACK."""
    body: list[Segment] = [["BAK", "00", "AC", po_number, date]]
    for line in lines:
        body.append(["PO1", str(line.line_number), str(line.quantity), "EA", "", "", "VN", line.vendor_sku])
        body.append(["ACK", line.code, str(line.quantity), "EA", "068", line.ship_date])
    body.append(["CTT", str(len(lines))])
    return body


@dataclass(frozen=True)
class ShippedItem:
    line_number: int
    vendor_sku: str
    quantity: int


@dataclass(frozen=True)
class Package:
    tracking_number: str
    items: list[ShippedItem]


def ship_notice(
    shipment_number: str, po_number: str, packages: list[Package], *, carrier: str = "UPSN", ship_date: str = "20261202"
) -> list[Segment]:
    """An 856 with the HL tree shipment → order → pack (``MAN*CP`` tracking) → item."""
    body: list[Segment] = [
        ["BSN", "00", shipment_number, ship_date, "1015", "0001"],
        ["HL", "1", "", "S"],
        ["TD5", "B", "2", carrier, "M", "UPS GROUND"],
        ["DTM", "011", ship_date],
        ["HL", "2", "1", "O"],
        ["PRF", po_number],
    ]
    level = 2
    for package in packages:
        level += 1
        pack = level
        body += [["HL", str(pack), "2", "P"], ["MAN", "CP", package.tracking_number]]
        for item in package.items:
            level += 1
            body += [
                ["HL", str(level), str(pack), "I"],
                ["LIN", str(item.line_number), "VN", item.vendor_sku],
                ["SN1", "", str(item.quantity), "EA"],
            ]
    body.append(["CTT", str(level)])
    return body


def inventory_advice(rows: list[tuple[str, str, int]], *, reference: str = "INV-1") -> list[Segment]:
    """An 846: per row (qualifier ``VN``/``SK``/``UP``, product id, quantity) a LIN and its QTY*33."""
    body: list[Segment] = [["BIA", "00", "MM", reference, "20261201", "0800"]]
    for position, (qualifier, product, quantity) in enumerate(rows, 1):
        body += [["LIN", str(position), qualifier, product], ["QTY", "33", str(quantity), "EA"]]
    body.append(["CTT", str(len(rows))])
    return body


def invoice(
    invoice_number: str, po_number: str, lines: list[tuple[int, int, str, str]], total_cents: int
) -> list[Segment]:
    """An 810: BIG, per line (line number, quantity, unit price, vendor SKU) an IT1, and TDS in cents."""
    body: list[Segment] = [["BIG", "20261205", invoice_number, "20261127", po_number]]
    body += [["IT1", str(n), str(quantity), "EA", price, "", "VN", sku] for n, quantity, price, sku in lines]
    body += [["TDS", str(total_cents)], ["CTT", str(len(lines))]]
    return body


# --- reading what the gateway wrote -------------------------------------------------------------------


def segments(content: bytes) -> list[Segment]:
    """Every segment of one interchange, split by the delimiters its own ISA declares."""
    text = content.decode("ascii")
    assert text.startswith("ISA"), text[:20]
    element, terminator = text[3], text[105]
    return [raw.strip().split(element) for raw in text.split(terminator) if raw.strip()]


def first(found: list[Segment], segment_id: str, **where: str) -> Segment:
    """The first segment ``segment_id`` whose elements match ``where`` (``e1="PO"``: element 01 is PO)."""
    for segment in found:
        if segment[0] == segment_id and all(
            len(segment) > int(key[1:]) and segment[int(key[1:])] == value for key, value in where.items()
        ):
            return segment
    raise AssertionError(f"no {segment_id} {where} in {found}")


def pyx12_errors(content: bytes) -> list[Any]:
    """What pyx12's reader, which checks envelopes, counts and control numbers, finds wrong."""
    reader = pyx12.x12file.X12Reader(io.StringIO(content.decode("ascii")))
    read = [segment.get_seg_id() for segment in reader]
    assert read, "pyx12 read no segment"
    return list(reader.pop_errors())
