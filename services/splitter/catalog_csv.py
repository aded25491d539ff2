"""The catalog import file, ``sku,name,vendor,vendor_sku,cost,priority``: parsed and validated, no I/O.

The rules a merchant's spreadsheet meets:

- **Encoding: UTF-8 only** (a byte order mark, as Excel's "CSV UTF-8" writes, is dropped). Windows-1252
  is deliberately not guessed: every byte string decodes as something in it, so a file in another
  encoding would be imported with wrong SKUs, and a SKU that differs from the channel's by one
  character never routes. A body that is not UTF-8 is refused, naming the line, with the fix.
- **Header row** first (row 1); ``sku`` and ``vendor`` are required, ``name``, ``vendor_sku``, ``cost``
  and ``priority`` optional, in any order and any letter case. An unknown or repeated column refuses
  the whole file. A column left out of the header is left alone on sources that exist already.
- **Rows** are CSV records (a quoted field may span lines), numbered from 1 for the header, as a
  spreadsheet numbers them; blank rows are skipped. Each row either passes or gets one error per
  failing column: ``sku`` 1-100 characters once trimmed; ``vendor`` a vendor code; ``name`` at most
  200 characters (empty: the stored name is kept); ``vendor_sku`` at most 100 (empty: none); ``cost`` a
  non-negative amount with at most 2 decimal places (empty: none); ``priority`` a whole number from 0
  to 1,000,000 (empty: 100). The same (sku, vendor) again is an error on the later row.
- **The file as a whole** is refused (:class:`InvalidCsv`, answered 400) when it is not UTF-8, holds a
  NUL byte, has no header or broken quoting; :class:`CsvTooLarge` (413) when it has more than
  :data:`MAX_ROWS` rows. The HTTP route refuses more than :data:`MAX_IMPORT_BYTES` before parsing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from shared.messaging.subscriptions import VENDOR_CODE_PATTERN

MAX_ROWS = 200_000
MAX_IMPORT_BYTES = 32 * 1024 * 1024
"""200,000 rows of ~80 bytes is 16 MB: twice that leaves room for long names."""
REQUIRED_COLUMNS = ("sku", "vendor")
OPTIONAL_COLUMNS = ("name", "vendor_sku", "cost", "priority")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
DEFAULT_PRIORITY = 100
MAX_PRIORITY = 1_000_000
MAX_COST = Decimal("9999999999.99")  # sources.cost is numeric(12, 2)
_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]*)?$|^\.[0-9]+$")
_WHOLE_NUMBER = re.compile(r"^[0-9]+$")
_HEADER_ROW = 1
Fail = Callable[[str, str], None]
"""Records the problem of one column of the row being checked."""


class InvalidCsv(ValueError):
    """The body cannot be read as a catalog file at all; the message says why, for people."""


class CsvTooLarge(InvalidCsv):
    """More rows (or bytes) than one import takes."""


@dataclass(frozen=True)
class CatalogRow:
    """One valid row: ``None`` is an empty optional cell."""

    row: int
    sku: str
    vendor: str
    name: str | None
    vendor_sku: str | None
    cost: Decimal | None
    priority: int


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    """The column at fault; ``None``: the row as a whole (a wrong number of fields)."""
    error: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "error": self.error}


@dataclass(frozen=True)
class ParsedCatalog:
    rows: list[CatalogRow]
    errors: list[RowError]
    rows_read: int
    """Data rows in the file (blank rows not counted), valid or not."""
    columns: frozenset[str]
    """The columns the header named: only those are written to sources that exist already."""


def decode(body: bytes) -> str:
    """``body`` as text: UTF-8, with or without a byte order mark; refused otherwise or with a NUL."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = body.count(b"\n", 0, error.start) + 1
        raise InvalidCsv(
            f"the file is not UTF-8 (byte 0x{body[error.start]:02X} on line {line}); save it as 'CSV UTF-8'"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise InvalidCsv(f"the file contains a NUL byte (line {text.count(chr(10), 0, nul) + 1}): is it a CSV file?")
    return text


def parse_catalog(body: bytes) -> ParsedCatalog:
    """Every row of the file checked: the valid ones and one error per failing cell."""
    records = _records(decode(body))
    header = _header(next(records, None))
    rows: list[CatalogRow] = []
    errors: list[RowError] = []
    first_row_of: dict[tuple[str, str], int] = {}
    rows_read = 0
    for number, record in enumerate(records, start=_HEADER_ROW + 1):
        if not any(cell.strip() for cell in record):
            continue
        rows_read += 1
        if rows_read > MAX_ROWS:
            raise CsvTooLarge(f"the file has more than {MAX_ROWS:,} rows; split it")
        if len(record) != len(header):
            errors.append(RowError(number, None, f"{len(record)} fields where the header has {len(header)}"))
            continue
        row, row_errors = _check_row(number, dict(zip(header, record, strict=True)))
        if row is not None:
            key = (row.sku, row.vendor)
            first = first_row_of.setdefault(key, number)
            if first != number:
                row, row_errors = None, [RowError(number, "sku", f"duplicate of row {first} (same sku and vendor)")]
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    return ParsedCatalog(rows, errors, rows_read, frozenset(header))


def _records(text: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = _HEADER_ROW
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # Broken quoting leaves every later field in doubt: the file is refused, not guessed at.
            raise InvalidCsv(f"row {number} is not valid CSV ({error}); check its quotes") from None
        number += 1
        yield record


def _header(record: Sequence[str] | None) -> list[str]:
    if record is None or not any(cell.strip() for cell in record):
        raise InvalidCsv(f"the file has no header row; the first row names the columns: {','.join(COLUMNS)}")
    header = [cell.strip().lower() for cell in record]
    if len(header) == 1 and any(separator in header[0] for separator in ";\t|"):
        raise InvalidCsv(f"the columns must be separated by commas, not as in {record[0]!r}")
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise InvalidCsv(f"unknown column(s) {', '.join(map(repr, unknown))}; the columns are {','.join(COLUMNS)}")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InvalidCsv(f"column(s) named twice in the header: {', '.join(repeated)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InvalidCsv(f"the header has no {' or '.join(missing)} column; both sku and vendor are required")
    return header


def _check_row(number: int, cells: dict[str, str]) -> tuple[CatalogRow | None, list[RowError]]:
    errors: list[RowError] = []

    def fail(column: str, problem: str) -> None:
        errors.append(RowError(number, column, problem))

    sku = cells["sku"].strip()
    if not sku:
        fail("sku", "required")
    elif len(sku) > 100:
        fail("sku", f"at most 100 characters ({len(sku)} given)")
    vendor = cells["vendor"].strip()
    if not vendor:
        fail("vendor", "required")
    elif not VENDOR_CODE_PATTERN.match(vendor):
        fail("vendor", "not a vendor code (1-50 of a-z, 0-9, '-' and '_', starting with a letter or digit)")
    name = _optional_text(cells.get("name", ""), 200, "name", fail)
    vendor_sku = _optional_text(cells.get("vendor_sku", ""), 100, "vendor_sku", fail)
    cost, cost_problem = parse_cost(cells.get("cost", ""))
    if cost_problem:
        fail("cost", cost_problem)
    priority, priority_problem = parse_priority(cells.get("priority", ""))
    if priority_problem:
        fail("priority", priority_problem)
    if errors:
        return None, errors
    return CatalogRow(number, sku, vendor, name, vendor_sku, cost, priority), []


def _optional_text(cell: str, limit: int, column: str, fail: Fail) -> str | None:
    text = cell.strip()
    if len(text) > limit:
        fail(column, f"at most {limit} characters ({len(text)} given)")
    return text or None


def parse_cost(cell: str) -> tuple[Decimal | None, str | None]:
    """The cost, or why the cell is not one; empty is no cost. Never a float."""
    text = cell.strip()
    if not text:
        return None, None
    if text.startswith("-"):
        return None, "must not be negative"
    if not _AMOUNT.match(text):
        return None, f"{text[:20]!r} is not an amount such as 7.10"
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
        return None, f"{text[:20]!r} is not an amount such as 7.10"
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        return None, "at most 2 decimal places"
    if amount > MAX_COST:
        return None, f"at most {MAX_COST}"
    return amount.quantize(Decimal("0.01")), None


def parse_priority(cell: str) -> tuple[int, str | None]:
    """The priority, or why the cell is not one; empty is the default, 100."""
    text = cell.strip()
    if not text:
        return DEFAULT_PRIORITY, None
    # str.isdigit alone also accepts digits such as '²' that int() refuses.
    if not _WHOLE_NUMBER.match(text) or int(text) > MAX_PRIORITY:
        return DEFAULT_PRIORITY, f"a whole number from 0 to {MAX_PRIORITY:,} ({text[:20]!r} given)"
    return int(text), None
