"""ShipStation's shipment notices (``POST ?action=shipnotify``): parsing them safely, and what they ship.

Pure functions. :func:`parse_ship_notice` reads the body (XML, possibly empty) together with the query
string ShipStation appends; it refuses anything an attacker could use against an XML parser (DTDs,
entities, huge bodies). :func:`allocate_shipment` turns the notice's items into shipped quantities per
vendor order line, and :func:`notice_fingerprint` gives a duplicate notice the same identity so that
it maps to the same shipment.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol
from zoneinfo import ZoneInfo

import defusedxml
import defusedxml.ElementTree as DefusedElementTree

from services.shipstation.timezones import parse_export_datetime, parse_ship_date
from shared.contracts.shipments import ShipmentLine

MAX_NOTICE_BYTES = 256 * 1024

# Nine digits at most: no real package holds more, and int() refuses strings over 4300 digits.
_POSITIVE_INTEGER = re.compile(r"[0-9]{1,9}")
_CAMEL_CASE_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class ShipNoticeError(ValueError):
    """The notice cannot be accepted as sent (answered with HTTP 400); ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NoticeItem:
    line_item_id: str | None
    sku: str | None
    quantity: int
    name: str | None


@dataclass(frozen=True)
class ShipNotice:
    order_id: str | None
    order_number: str | None
    carrier: str | None
    service: str | None
    tracking_number: str | None
    ship_date: date | None
    label_created_at: datetime | None
    """Aware, UTC."""
    shipping_cost: Decimal | None
    """What the label cost: the carrier's fee, for cost reporting."""
    notes_to_customer: str | None
    notify_customer: bool | None
    items: tuple[NoticeItem, ...]
    """Empty when the notice lists no items: then the whole vendor order shipped."""
    customer_code: str | None
    recipient: dict[str, str] = field(default_factory=dict)
    """Ship-to as ShipStation has it, keys in snake_case (``name``, ``address1``, ``postal_code``…)."""


def _local_name(tag: object) -> str:
    # ShipStation sends no namespace, but a namespaced copy of the same document is still a notice.
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def _snake_case(name: str) -> str:
    return _CAMEL_CASE_BOUNDARY.sub("_", name).lower()


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = unicodedata.normalize("NFC", value).strip()
    return stripped or None


def _child_texts(element: ElementTree.Element) -> dict[str, str]:
    """Non-empty texts of ``element``'s direct children, by local name (the first one wins)."""
    texts: dict[str, str] = {}
    for child in element:
        name = _local_name(child.tag)
        value = _text(child.text)
        if name and value is not None and name not in texts:
            texts[name] = value
    return texts


def _find_child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    for child in element:
        if _local_name(child.tag) == name:
            return child
    return None


def _query_value(query: Mapping[str, str], key: str) -> str | None:
    value = query.get(key)
    return _text(value) if isinstance(value, str) else None


def _parse_quantity(text: str | None, position: int) -> int:
    if text is None:
        raise ShipNoticeError(f"item {position} has no quantity")
    if not _POSITIVE_INTEGER.fullmatch(text) or int(text) == 0:
        raise ShipNoticeError(f"item {position}: quantity {text[:20]!r} is not a positive whole number")
    return int(text)


def _parse_items(root: ElementTree.Element) -> tuple[NoticeItem, ...]:
    items_element = _find_child(root, "Items")
    if items_element is None:
        return ()
    items: list[NoticeItem] = []
    for position, item_element in enumerate(
        (child for child in items_element if _local_name(child.tag) == "Item"), start=1
    ):
        fields = _child_texts(item_element)
        items.append(
            NoticeItem(
                line_item_id=fields.get("LineItemID"),
                sku=fields.get("SKU"),
                quantity=_parse_quantity(fields.get("Quantity"), position),
                name=fields.get("Name"),
            )
        )
    return tuple(items)


def _parse_shipping_cost(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        cost = Decimal(text)
    except InvalidOperation as error:
        raise ShipNoticeError(f"ShippingCost {text!r} is not a number") from error
    if not cost.is_finite() or cost < 0:
        raise ShipNoticeError(f"ShippingCost {text!r} is not a non-negative amount")
    return cost


def _parse_bool(text: str | None, element_name: str) -> bool | None:
    if text is None:
        return None
    lowered = text.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ShipNoticeError(f"{element_name} {text!r} is neither true nor false")


def _parse_xml(body: bytes) -> ElementTree.Element:
    try:
        # utf-8-sig: a leading byte-order mark is legal XML and some HTTP stacks add one.
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ShipNoticeError(f"body is not valid UTF-8 (byte {error.start})") from error
    try:
        root: ElementTree.Element = DefusedElementTree.fromstring(
            text, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden as error:
        raise ShipNoticeError("DOCTYPE declarations are not accepted") from error
    except defusedxml.EntitiesForbidden as error:
        raise ShipNoticeError("entity declarations are not accepted") from error
    except defusedxml.ExternalReferenceForbidden as error:
        raise ShipNoticeError("external references are not accepted") from error
    except defusedxml.DefusedXmlException as error:
        raise ShipNoticeError("the XML uses a construct that is not accepted") from error
    except ElementTree.ParseError as error:
        raise ShipNoticeError(f"malformed XML: {error}") from error
    return root


def _notice_from_query(query: Mapping[str, str]) -> ShipNotice:
    order_number = _query_value(query, "order_number")
    if order_number is None:
        raise ShipNoticeError("empty body and no order_number in the query: nothing names the order")
    return ShipNotice(
        order_id=None,
        order_number=order_number,
        carrier=_query_value(query, "carrier"),
        service=_query_value(query, "service"),
        tracking_number=_query_value(query, "tracking_number"),
        ship_date=None,
        label_created_at=None,
        shipping_cost=None,
        notes_to_customer=None,
        notify_customer=None,
        items=(),
        customer_code=None,
        recipient={},
    )


def parse_ship_notice(body: bytes, query: Mapping[str, str], zone: ZoneInfo) -> ShipNotice:
    """Read a ship notice from the raw body (whatever the Content-Type) and the query parameters.

    The XML's values win over the query's (ShipStation's query ``service`` is often empty), except where
    the XML leaves them empty. An empty body yields a notice from the query alone. ``LabelCreateDate``
    is read in the vendor's ``zone``. Raises :class:`ShipNoticeError` for anything not acceptable.
    """
    if len(body) > MAX_NOTICE_BYTES:
        raise ShipNoticeError(f"body is {len(body)} bytes, over the {MAX_NOTICE_BYTES}-byte limit")
    if not body.strip():
        return _notice_from_query(query)

    root = _parse_xml(body)
    if _local_name(root.tag) != "ShipNotice":
        raise ShipNoticeError(f"root element is <{_local_name(root.tag)}>, expected <ShipNotice>")
    fields = _child_texts(root)

    label_created_text = fields.get("LabelCreateDate")
    ship_date_text = fields.get("ShipDate")
    try:
        label_created_at = parse_export_datetime(label_created_text, zone) if label_created_text else None
        ship_date = parse_ship_date(ship_date_text) if ship_date_text else None
    except ValueError as error:
        raise ShipNoticeError(str(error)) from error

    recipient_element = _find_child(root, "Recipient")
    recipient = (
        {_snake_case(name): value for name, value in _child_texts(recipient_element).items()}
        if recipient_element is not None
        else {}
    )
    order_id = fields.get("OrderID")
    order_number = fields.get("OrderNumber") or _query_value(query, "order_number")
    if order_id is None and order_number is None:
        raise ShipNoticeError("neither OrderID nor an order number names the order")
    return ShipNotice(
        order_id=order_id,
        order_number=order_number,
        carrier=fields.get("Carrier") or _query_value(query, "carrier"),
        service=fields.get("Service") or _query_value(query, "service"),
        tracking_number=fields.get("TrackingNumber") or _query_value(query, "tracking_number"),
        ship_date=ship_date,
        label_created_at=label_created_at,
        shipping_cost=_parse_shipping_cost(fields.get("ShippingCost")),
        notes_to_customer=fields.get("NotesToCustomer"),
        notify_customer=_parse_bool(fields.get("NotifyCustomer"), "NotifyCustomer"),
        items=_parse_items(root),
        customer_code=fields.get("CustomerCode"),
        recipient=recipient,
    )


class ShippableLine(Protocol):
    """What :func:`allocate_shipment` needs of a vendor order line (``VendorOrderLine`` fits)."""

    @property
    def line_id(self) -> str: ...

    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...


def allocate_shipment(
    lines: Sequence[ShippableLine],
    already_shipped: Mapping[str, int],
    items: Sequence[NoticeItem],
) -> list[ShipmentLine]:
    """Which lines, and how many of each, a notice ships; in the order of ``lines``.

    Each item is matched by ``LineItemID``, else by SKU, spread in order over the lines with that SKU
    that still have something to ship. No items means everything not yet shipped. Nothing is shipped
    beyond what was ordered (the excess is dropped) and items matching no line are ignored.
    """
    remaining: dict[str, int] = {}
    for line in lines:
        remaining[line.line_id] = remaining.get(line.line_id, 0) + max(
            0, line.quantity - max(0, already_shipped.get(line.line_id, 0))
        )
    shipped: dict[str, int] = {line.line_id: 0 for line in lines}

    def take(line: ShippableLine, wanted: int) -> int:
        taken = min(wanted, remaining[line.line_id])
        remaining[line.line_id] -= taken
        shipped[line.line_id] += taken
        return taken

    if not items:
        for line in lines:
            take(line, remaining[line.line_id])
    for item in items:
        wanted = item.quantity
        matched_line = next((line for line in lines if line.line_id == item.line_item_id), None)
        if matched_line is not None:
            wanted -= take(matched_line, wanted)
        # ShipStation merges lines with the same SKU into one item carrying the first line's id, so
        # what the id-matched line cannot take goes to its SKU siblings.
        sku = item.sku if item.sku is not None else (matched_line.sku if matched_line else None)
        if sku is not None:
            for line in lines:
                if wanted == 0:
                    break
                if line.sku == sku:
                    wanted -= take(line, wanted)

    shipped_lines: list[ShipmentLine] = []
    seen: set[str] = set()
    for line in lines:
        if line.line_id in seen:
            continue
        seen.add(line.line_id)
        if shipped[line.line_id] > 0:
            quantity = shipped[line.line_id]
            shipped_lines.append(ShipmentLine(line_id=line.line_id, sku=line.sku, quantity=quantity))
    return shipped_lines


def notice_fingerprint(vendor_order_id: str, notice: ShipNotice) -> str:
    """A stable hash naming this package: same vendor order, tracking number and items → same value.

    Items are compared as a multiset (order does not matter); names, dates and costs are left out
    because ShipStation may resend the same package with those edited.
    """
    tracking_number = "".join((notice.tracking_number or "").split()).upper()
    items = sorted([item.line_item_id or "", item.sku or "", item.quantity] for item in notice.items)
    canonical = json.dumps(
        {"vendor_order_id": vendor_order_id, "tracking_number": tracking_number, "items": items},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
