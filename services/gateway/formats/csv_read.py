"""The files a CSV vendor sends us: shipments, stock levels and acknowledgements, read into rows.

The vendor's profile names the columns and the dialect. A file is refused as a whole
(:class:`UnreadableFile`) only when nothing in it can be trusted: not decodable, empty, a required
column missing, absurdly long. Otherwise every good row is kept and every bad one answered as a
:class:`RowError` with its line number, so one typo does not hold back a day's tracking numbers.

What spreadsheets do to files is the reason for most rules here: cells padded with spaces, a
leading ``'`` kept from a text cell, SKUs rewritten as numbers (``1.23457E+11``) or stripped of the
leading zero of a 12-digit UPC (11 digits left). Such SKUs are refused with advice, never guessed.
Pure: standard library only.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from services.gateway.formats.csv_profile import CsvProfile
from shared.contracts.vendor_orders import AckLineStatus

MAX_ROWS = 100_000
"""More data rows than this is not a vendor's daily file: the whole file is refused."""

_UTF8_BOM = b"\xef\xbb\xbf"
_SCIENTIFIC = re.compile(r"^[+-]?[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+$")
_WHOLE_NUMBER = re.compile(r"^[0-9]+(?:\.0*)?$")
_AMOUNT = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
_LOST_UPC_ZERO = re.compile(r"^[0-9]{11}$")
"""A 12-digit UPC-A starting with 0 that a spreadsheet turned into a number. The one length checked:
no other common code has 11 digits, and a lost zero of any other length cannot be told from one cell."""
_EXPORT_AS_TEXT = "export the column as text"


@dataclass(frozen=True)
class RowError:
    row: int
    """1-based line number in the file where the row starts; the header is row 1."""
    message: str


@dataclass(frozen=True)
class ShipmentRow:
    row: int
    po: str
    sku: str | None
    quantity: int | None
    carrier: str | None
    service: str | None
    tracking_numbers: tuple[str, ...]
    ship_date: date | None
    shipping_cost: Decimal | None


@dataclass(frozen=True)
class InventoryRow:
    row: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class AcknowledgementRow:
    row: int
    po: str
    sku: str | None
    status: AckLineStatus
    quantity: int | None
    reason: str | None
    expected_ship_date: date | None


RowT = TypeVar("RowT")


@dataclass(frozen=True)
class ParsedFile(Generic[RowT]):
    rows: tuple[RowT, ...]
    errors: tuple[RowError, ...]


class UnreadableFile(ValueError):
    """The whole file is refused; the message says why."""


def decode(content: bytes, profile: CsvProfile) -> str:
    """The file's text. A UTF-8 byte-order mark wins over the profile (it says what the file is)."""
    if not content.strip():
        raise UnreadableFile("empty file")
    if profile.encoding in {"utf-8", "utf-8-sig"} or content.startswith(_UTF8_BOM):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise UnreadableFile(f"not valid UTF-8: byte {error.start} (0x{content[error.start]:02x})") from None
    else:
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError:
            # The five bytes Windows-1252 leaves undefined are C1 controls in Latin-1.
            text = content.decode("latin-1")
    if not text.strip():
        raise UnreadableFile("empty file")
    return text


@dataclass(frozen=True)
class _Record:
    row: int
    cells: dict[str, str]
    """By the profile's column role (``po``, ``sku``…), stripped; absent when the file lacks the column."""


def _raw_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """Each CSV record with the line it starts on (a quoted cell may span lines), blank ones left out."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous_line = 0
    while True:
        try:
            cells: list[str] | csv.Error = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            cells = error
        row, previous_line = previous_line + 1, reader.line_num
        if isinstance(cells, csv.Error) or any(cell.strip() for cell in cells):
            yield row, cells


def _records(
    content: bytes, profile: CsvProfile, columns: dict[str, str | None], required: set[str], max_rows: int
) -> Iterator[_Record | RowError]:
    """Each data row by column role, or the row's error; raises :class:`UnreadableFile`."""
    raw = _raw_records(decode(content, profile), profile.delimiter)
    first = next(raw, None)
    if first is None:
        raise UnreadableFile("empty file")
    if isinstance(first[1], csv.Error):
        raise UnreadableFile(f"the header row is not valid CSV: {first[1]}")
    header = [cell.strip().casefold() for cell in first[1]]
    positions = _positions(header, columns, required)
    # Read to the end before answering: only then is it known which row is the last one.
    records = list(itertools.islice(raw, max_rows + 1))
    if len(records) > max_rows:
        raise UnreadableFile(f"more than {max_rows} rows")
    for index, (row, cells) in enumerate(records):
        last = index == len(records) - 1
        if isinstance(cells, csv.Error):
            if "unexpected end of data" in str(cells):
                yield RowError(row, f"row {row} is cut short: a quoted cell is not closed at the end of the file")
            else:
                yield RowError(row, f"row {row} is not valid CSV: {cells}")
        elif len(cells) < len(header):
            what = "is cut short" if last else "has only"
            yield RowError(row, f"row {row} {what}: {len(cells)} of {len(header)} columns")
        elif any(cell.strip() for cell in cells[len(header) :]):
            yield RowError(row, f"row {row} has {len(cells)} columns, the header {len(header)}")
        else:
            yield _Record(row, {role: cells[index].strip() for role, index in positions.items()})


def _positions(header: list[str], columns: dict[str, str | None], required: set[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for role, name in columns.items():
        if name is None:
            continue
        wanted = name.strip().casefold()
        if wanted in header:
            positions[role] = header.index(wanted)
        elif role in required:
            raise UnreadableFile(f"no column {name!r}")
    return positions


class _BadCell(ValueError):
    """One cell's problem, answered as the row's error."""


def _text(cells: dict[str, str], role: str) -> str | None:
    return cells.get(role) or None


def _identifier(cells: dict[str, str], role: str, label: str) -> str | None:
    """A PO number or SKU: a spreadsheet's leading ``'`` removed, numbers a spreadsheet rewrote refused."""
    value = cells.get(role, "").removeprefix("'").strip()
    if not value:
        return None
    if _SCIENTIFIC.match(value):
        raise _BadCell(f"{label} {value!r} looks like a number a spreadsheet rewrote; {_EXPORT_AS_TEXT}")
    if role == "sku" and _LOST_UPC_ZERO.match(value):
        raise _BadCell(f"{label} {value!r} looks like a UPC that lost its leading zero; {_EXPORT_AS_TEXT}")
    return value


def _required_identifier(cells: dict[str, str], role: str, label: str) -> str:
    value = _identifier(cells, role, label)
    if value is None:
        raise _BadCell(f"no {label}")
    return value


def _quantity(cells: dict[str, str], *, minimum: int) -> int | None:
    value = cells.get("quantity", "")
    if not value:
        return None
    if not _WHOLE_NUMBER.match(value):
        raise _BadCell(f"quantity {value!r} is not a whole number")
    quantity = int(value.split(".")[0])
    if quantity < minimum:
        raise _BadCell(f"quantity {value!r} is below {minimum}")
    return quantity


def _date(cells: dict[str, str], role: str, date_format: str) -> date | None:
    value = cells.get(role, "")
    if not value:
        return None
    for accepted in (date_format, "%Y-%m-%d"):
        try:
            # A calendar date as the vendor wrote it; the zone only satisfies the aware-time rule.
            return datetime.strptime(value, accepted).replace(tzinfo=UTC).date()
        except ValueError:
            continue
    example = date(2026, 12, 31).strftime(date_format)
    raise _BadCell(f"date {value!r} is not like {example} (or 2026-12-31)")


def _amount(cells: dict[str, str], role: str) -> Decimal | None:
    value = cells.get(role, "")
    if not value:
        return None
    if not _AMOUNT.match(value):
        raise _BadCell(f"amount {value!r} is not like 12.50")
    return Decimal(value)


def _tracking_numbers(cells: dict[str, str], separator: str) -> tuple[str, ...]:
    value = cells.get("tracking_number", "")
    for line_break in ("\r\n", "\r", "\n"):
        value = value.replace(line_break, separator)
    pieces = [piece.strip() for piece in value.split(separator)]
    numbers = tuple(dict.fromkeys(piece for piece in pieces if piece))
    if not numbers:
        raise _BadCell("no tracking number")
    return numbers


def _parse(
    content: bytes,
    profile: CsvProfile,
    columns: dict[str, str | None],
    required: set[str],
    parse_row: Callable[[_Record], RowT],
    max_rows: int,
) -> ParsedFile[RowT]:
    rows: list[RowT] = []
    errors: list[RowError] = []
    for record in _records(content, profile, columns, required, max_rows):
        if isinstance(record, RowError):
            errors.append(record)
            continue
        try:
            rows.append(parse_row(record))
        except _BadCell as problem:
            errors.append(RowError(record.row, str(problem)))
    return ParsedFile(tuple(rows), tuple(errors))


def read_shipments(content: bytes, profile: CsvProfile, *, max_rows: int = MAX_ROWS) -> ParsedFile[ShipmentRow]:
    """A shipment file: per row a PO, optionally its SKU and quantity, and one or more tracking numbers."""
    columns = profile.shipment_columns.model_dump()

    def parse_row(record: _Record) -> ShipmentRow:
        cells = record.cells
        return ShipmentRow(
            row=record.row,
            po=_required_identifier(cells, "po", "PO number"),
            sku=_identifier(cells, "sku", "SKU"),
            quantity=_quantity(cells, minimum=1),
            carrier=_text(cells, "carrier"),
            service=_text(cells, "service"),
            tracking_numbers=_tracking_numbers(cells, profile.tracking_separator),
            ship_date=_date(cells, "ship_date", profile.date_format),
            shipping_cost=_amount(cells, "shipping_cost"),
        )

    return _parse(content, profile, columns, {"po", "tracking_number"}, parse_row, max_rows)


def read_inventory(content: bytes, profile: CsvProfile, *, max_rows: int = MAX_ROWS) -> ParsedFile[InventoryRow]:
    """A stock file: per row a SKU and the units on hand (0 or more)."""
    columns = profile.inventory_columns.model_dump()

    def parse_row(record: _Record) -> InventoryRow:
        sku = _required_identifier(record.cells, "sku", "SKU")
        quantity = _quantity(record.cells, minimum=0)
        if quantity is None:
            raise _BadCell(f"no quantity for SKU {sku!r}")
        return InventoryRow(row=record.row, sku=sku, quantity=quantity)

    return _parse(content, profile, columns, {"sku", "quantity"}, parse_row, max_rows)


def _status_words(profile: CsvProfile) -> dict[str, AckLineStatus]:
    values = profile.status_values
    statuses: list[tuple[AckLineStatus, list[str]]] = [
        ("accepted", values.accepted),
        ("backordered", values.backordered),
        ("rejected", values.rejected),
    ]
    return {word.strip().casefold(): status for status, words in statuses for word in words}


def read_acknowledgements(
    content: bytes, profile: CsvProfile, *, max_rows: int = MAX_ROWS
) -> ParsedFile[AcknowledgementRow]:
    """An acknowledgement file: per row a PO, optionally its SKU, and the vendor's status word."""
    columns = profile.acknowledgement_columns.model_dump()
    words = _status_words(profile)
    accepted_words = ", ".join(
        [*profile.status_values.accepted, *profile.status_values.backordered, *profile.status_values.rejected]
    )

    def parse_row(record: _Record) -> AcknowledgementRow:
        cells = record.cells
        word = cells.get("status", "")
        status = words.get(word.casefold())
        if status is None:
            raise _BadCell(f"status {word!r} is not one of {accepted_words}")
        return AcknowledgementRow(
            row=record.row,
            po=_required_identifier(cells, "po", "PO number"),
            sku=_identifier(cells, "sku", "SKU"),
            status=status,
            quantity=_quantity(cells, minimum=0),
            reason=_text(cells, "reason"),
            expected_ship_date=_date(cells, "expected_ship_date", profile.date_format),
        )

    return _parse(content, profile, columns, {"po", "status"}, parse_row, max_rows)
