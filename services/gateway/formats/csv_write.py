"""The order files a CSV vendor receives: a vendor order (or its cancellation) as rows, one per line.

Which columns a file has is the vendor's profile (``order_columns``: header → field path); this module
owns the field paths (:func:`check_order_columns` is what ``PUT /v1/connections`` validates with), how
each value is written (dates in the profile's format, decimals as plain strings, text cleaned and made
safe from spreadsheet formulas), and the encoding, which never refuses an order: a character the
vendor's encoding cannot hold is transliterated or replaced. It also renders the plain-text order an
e-mail vendor reads. Pure: standard library and pydantic only.
"""

from __future__ import annotations

import csv
import io
import types
import typing
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from pydantic import BaseModel

from services.gateway.formats.csv_profile import CsvProfile
from services.gateway.ports import ChangeNotExpressible, DeliveryEvent, OutboundDocument
from shared.contracts.orders import Address, LineOption
from shared.contracts.vendor_orders import VendorOrderCreatedData, VendorOrderLine, WithdrawnLine
from shared.text import clean_text

MEDIA_TYPE = "text/csv"
LINE_PREFIX = "line."
CELL_LIMIT = 10_000
"""Characters kept of one text cell: far beyond any real field, short of a runaway value."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet runs a cell starting with one of these as a formula; OWASP advises a leading quote."""

_PYTHON_ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "windows-1252": "cp1252", "latin-1": "latin-1"}

_NOT_FOR_VENDORS = {"lines", "discounts", "internal_notes"}
"""Lines are the rows; discounts have no cell of their own; internal notes are the merchant's, not the vendor's."""

CellValue = str | int | Decimal | bool | date | datetime | list[LineOption] | None


def _nested_model(annotation: object) -> type[BaseModel] | None:
    """The model behind ``Address`` or ``Customer | None``; ``None`` for scalars and lists."""
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    candidates = typing.get_args(annotation) if is_union else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _field_paths() -> tuple[frozenset[str], frozenset[str]]:
    """Every header path (``currency``, ``ship_to.city``) and every line path (``line.sku``)."""
    header: set[str] = {"order_total"}
    for name, field in VendorOrderCreatedData.model_fields.items():
        if name in _NOT_FOR_VENDORS:
            continue
        nested = _nested_model(field.annotation)
        if nested is None:
            header.add(name)
        else:
            header.update(f"{name}.{sub}" for sub in nested.model_fields)
    line = {f"{LINE_PREFIX}{name}" for name in VendorOrderLine.model_fields}
    return frozenset(header), frozenset(line)


HEADER_PATHS, LINE_PATHS = _field_paths()
FIELD_PATHS = HEADER_PATHS | LINE_PATHS


def check_order_columns(columns: Iterable[tuple[str, str]]) -> list[str]:
    """What is wrong with ``order_columns``, one sentence per problem; empty when the columns are usable."""
    problems: list[str] = []
    seen: set[str] = set()
    count = 0
    for header, path in columns:
        count += 1
        if not header.strip():
            problems.append(f"column {count} has no header")
        elif header.strip().casefold() in seen:
            problems.append(f"header {header!r} appears twice")
        seen.add(header.strip().casefold())
        if path not in FIELD_PATHS:
            problems.append(f"unknown field path {path!r} (column {header!r})")
    if count == 0:
        problems.append("an order file needs at least one column")
    return problems


def _line_value(line: VendorOrderLine, field: str) -> CellValue:
    if field == "vendor_sku":
        return line.vendor_sku or line.sku
    value: CellValue = getattr(line, field)
    return value


def _header_value(order: VendorOrderCreatedData, path: str) -> CellValue:
    if path == "order_total":
        return order.order_total
    first, _, rest = path.partition(".")
    value: object = getattr(order, first)
    if rest:
        value = None if value is None else getattr(value, rest)
    return typing.cast(CellValue, value)


def options_text(options: Sequence[LineOption]) -> str:
    """``Size: M; Colour: Red``."""
    return "; ".join(f"{option.name}: {option.value}" for option in options)


def _escape_formula(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def format_cell(value: CellValue, date_format: str) -> str:
    """One cell as written: numbers as they are, text cleaned and escaped from spreadsheet formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(date_format)
    if isinstance(value, date):
        return value.strftime(date_format)
    text = options_text(value) if isinstance(value, list) else str(value)
    return _escape_formula(clean_text(text, CELL_LIMIT) or "")


def encode_text(text: str, encoding: str) -> bytes:
    """``text`` in the profile's encoding; what it cannot hold becomes its ASCII letter (NFKD) or ``?``."""
    codec = _PYTHON_ENCODINGS.get(encoding, encoding)
    try:
        return text.encode(codec)
    except UnicodeEncodeError:
        pass
    kept: list[str] = []
    for char in text:
        try:
            char.encode(codec)
            kept.append(char)
        except UnicodeEncodeError:
            ascii_form = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
            kept.append(ascii_form or "?")
    return "".join(kept).encode(codec)


def _rows(order: VendorOrderCreatedData, lines: Sequence[VendorOrderLine], profile: CsvProfile) -> list[list[str]]:
    problems = check_order_columns(profile.order_columns)
    if problems:
        raise ValueError("; ".join(problems))
    header_cells = {
        path: format_cell(_header_value(order, path), profile.date_format)
        for _, path in profile.order_columns
        if not path.startswith(LINE_PREFIX)
    }
    rows = [[header for header, _ in profile.order_columns]]
    for line in lines:
        rows.append(
            [
                format_cell(_line_value(line, path.removeprefix(LINE_PREFIX)), profile.date_format)
                if path.startswith(LINE_PREFIX)
                else header_cells[path]
                for _, path in profile.order_columns
            ]
        )
    return rows


def render_csv(rows: Iterable[Sequence[str]], profile: CsvProfile) -> bytes:
    """Rows in the profile's dialect: its delimiter, minimal quoting, CRLF, its encoding."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=profile.delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerows(rows)
    return encode_text(buffer.getvalue(), profile.encoding)


def _item_lines(lines: Sequence[VendorOrderLine]) -> list[str]:
    items = []
    for line in lines:
        options = options_text(line.options)
        suffix = f" ({options})" if options else ""
        items.append(f"  {line.quantity} x {line.vendor_sku or line.sku}  {line.name}{suffix}")
    return items


def order_text(order: VendorOrderCreatedData, lines: Sequence[VendorOrderLine], opening: str) -> str:
    """The order in plain words: what it asks, where it goes and what is in it (an e-mail's body)."""
    ship_to = order.ship_to
    place = " ".join(part for part in (ship_to.city + ",", ship_to.state, ship_to.postal_code) if part)
    address = [ship_to.name, ship_to.company, ship_to.address1, ship_to.address2, place, ship_to.country]
    parts = [
        opening,
        "",
        f"PO number: {order.vendor_order_number}",
        f"Ordered: {order.ordered_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
    ]
    if order.shipping_method:
        parts.append(f"Shipping: {order.shipping_method}")
    parts += ["", "Ship to:", *(f"  {part}" for part in address if part)]
    if ship_to.phone:
        parts.append(f"  Phone: {ship_to.phone}")
    parts += ["", "Items (quantity, SKU, description):", *_item_lines(lines)]
    if order.gift_message:
        parts += ["", f"Gift message: {order.gift_message}"]
    if order.customer_notes:
        parts += ["", f"Customer notes: {order.customer_notes}"]
    return "\n".join(parts) + "\n"


def _document(
    delivery_id: str,
    event_type: DeliveryEvent,
    order: VendorOrderCreatedData,
    lines: Sequence[VendorOrderLine],
    profile: CsvProfile,
    *,
    file_name: str,
    subject: str,
    opening: str,
) -> OutboundDocument:
    return OutboundDocument(
        delivery_id=delivery_id,
        event_type=event_type,
        vendor_order_number=order.vendor_order_number,
        file_name=file_name,
        content=render_csv(_rows(order, lines, profile), profile),
        media_type=MEDIA_TYPE,
        subject=subject,
        text=order_text(order, lines, opening),
    )


def order_document(delivery_id: str, order: VendorOrderCreatedData, profile: CsvProfile) -> OutboundDocument:
    """The vendor order as ``<vendor_order_number>.csv``: a header row, then one row per line."""
    number = order.vendor_order_number
    return _document(
        delivery_id,
        "vendor_order.created",
        order,
        order.lines,
        profile,
        file_name=f"{number}.csv",
        subject=f"Order {number}",
        opening=f"Please ship order {number}.",
    )


def _withdrawn(order: VendorOrderCreatedData, withdrawn: Sequence[WithdrawnLine]) -> list[VendorOrderLine]:
    """The order's withdrawn lines, each with the withdrawn quantity in place of the ordered one."""
    by_id = {line.line_id: line for line in order.lines}
    unknown = [line.line_id for line in withdrawn if line.line_id not in by_id]
    if unknown:
        raise ValueError(f"lines not in vendor order {order.vendor_order_number}: {', '.join(unknown)}")
    return [by_id[line.line_id].model_copy(update={"quantity": line.quantity}) for line in withdrawn]


def cancel_document(
    delivery_id: str,
    order: VendorOrderCreatedData,
    profile: CsvProfile,
    *,
    lines: list[WithdrawnLine] | None = None,
    sequence: int | None = None,
) -> OutboundDocument:
    """A cancellation in the order's own columns.

    Without ``lines``: the whole vendor order, every line, as ``<number>-cancel.csv``. With ``lines``:
    only the withdrawn lines, their quantity column showing the units withdrawn, as
    ``<number>-cancel-<sequence>.csv`` (``sequence`` tells one change to the same order from the next).
    """
    number = order.vendor_order_number
    if lines is None:
        return _document(
            delivery_id,
            "vendor_order.cancelled",
            order,
            order.lines,
            profile,
            file_name=f"{number}-cancel.csv",
            subject=f"Cancellation of order {number}",
            opening=f"Please cancel order {number}: do not ship any of it.",
        )
    if sequence is None or sequence < 1:
        raise ValueError("withdrawing lines needs a sequence number of 1 or more")
    if not lines:
        raise ValueError("withdrawing lines needs at least one line")
    return _document(
        delivery_id,
        "vendor_order.lines_cancelled",
        order,
        _withdrawn(order, lines),
        profile,
        file_name=f"{number}-cancel-{sequence}.csv",
        subject=f"Change to order {number}: lines withdrawn",
        opening=f"Please withdraw these units from order {number}; ship the rest of it as ordered.",
    )


def ship_to_document(
    delivery_id: str, order: VendorOrderCreatedData, ship_to: Address, profile: CsvProfile, *, sequence: int
) -> OutboundDocument:
    """A new ship-to in the order's own columns, every line as ordered, as ``<number>-ship-to-<sequence>.csv``
    (``sequence`` tells one change of the same order from the next). A profile without a ``ship_to.``
    column cannot say it: :class:`ChangeNotExpressible`."""
    if sequence < 1:
        raise ValueError("a ship-to change needs a sequence number of 1 or more")
    if not any(path.startswith("ship_to.") for _, path in profile.order_columns):
        raise ChangeNotExpressible(
            "the vendor's CSV profile has no ship_to column, so its files cannot carry a new ship-to: tell the vendor"
        )
    number = order.vendor_order_number
    return _document(
        delivery_id,
        "vendor_order.ship_to_changed",
        order.model_copy(update={"ship_to": ship_to}),
        order.lines,
        profile,
        file_name=f"{number}-ship-to-{sequence}.csv",
        subject=f"Change to order {number}: new ship-to address",
        opening=f"Order {number} ships to a new address: send what has not shipped to the address below.",
    )
