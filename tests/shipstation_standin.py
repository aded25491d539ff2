"""A stand-in for ShipStation, the client side of the Custom Store protocol, for the tests.

It behaves as ShipStation is documented to (ShipStation's Custom Store developer guide),
written from that documentation and not from the adapter's code:

- it keeps a *refresh date* per store and asks for the window ``[last refresh, now]``, both written
  as ``MM/dd/yyyy HH:mm`` wall times in *its own* configured zone (the store's "server time zone"
  setting, UTC by default), and reads ``OrderDate``/``LastModified`` back in that zone;
- it walks every page the root's ``pages`` attribute announces, with the same window;
- it validates every page against the strict export schema (the project's own
  ``services/shipstation/schema/custom-store.xsd``; the reference tier checks exports against
  ShipStation's published schema too): an invalid page fails;
- it upserts orders by ``OrderID`` and maps ``OrderStatus`` through the five status boxes of the
  store's settings (comma-separated, case-sensitive); an order whose status is in none of them is
  ignored, as ShipStation ignores it;
- it sends ``shipnotify`` notices (one per package, so partial shipments send several; duplicates
  on request) with HTTP Basic auth, and optionally ``SS-UserName``/``SS-Password`` in the query.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp
from lxml import etree

from tests.support import basic_auth
from tests.unit.shipstation.support import export_schema

SHIPSTATION_DATETIME = "%m/%d/%Y %H:%M"


@dataclass(frozen=True)
class StatusBoxes:
    """The five text boxes of ShipStation's Custom Store form: our status strings for each of its statuses."""

    awaiting_payment: str = "unpaid"
    awaiting_shipment: str = "paid"
    shipped: str = "shipped"
    cancelled: str = "cancelled"
    on_hold: str = "on_hold"

    def shipstation_status(self, order_status: str) -> str | None:
        """ShipStation's status for an ``OrderStatus`` value; ``None`` when no box lists it (exact match)."""
        for shipstation_name in ("awaiting_payment", "awaiting_shipment", "shipped", "cancelled", "on_hold"):
            listed = [name.strip() for name in getattr(self, shipstation_name).split(",")]
            if order_status in listed:
                return shipstation_name
        return None

    @classmethod
    def from_status_names(cls, names: Mapping[str, str]) -> StatusBoxes:
        """What a merchant pastes from the adapter's credentials answer."""
        return cls(names["unpaid"], names["paid"], names["shipped"], names["cancelled"], names["on_hold"])


@dataclass
class ImportedOrder:
    order_id: str
    order_number: str
    status: str
    """ShipStation's own status: awaiting_payment, awaiting_shipment, shipped, cancelled, on_hold."""
    order_date: datetime
    """The instant ShipStation understood ``OrderDate`` to be (read in its zone), aware."""
    last_modified: datetime
    element: etree._Element
    """The ``<Order>`` as last imported."""
    imports: int = 1


@dataclass(frozen=True)
class ExportCall:
    start_date: str
    end_date: str
    page: int
    pages: int
    order_ids: tuple[str, ...]


@dataclass
class RefreshResult:
    pages: int
    order_ids: list[str] = field(default_factory=list)
    """Every OrderID the walk received, in order, repeats kept (so tests can see duplicates)."""
    calls: list[ExportCall] = field(default_factory=list)


@dataclass(frozen=True)
class ShippedItem:
    sku: str
    quantity: int
    line_item_id: str | None = None
    name: str | None = None


_export_schema = functools.cache(export_schema)


def assert_valid_export(document: bytes) -> etree._Element:
    """Parse an export page and check it against the strict export schema, as ShipStation's import would."""
    assert document.startswith(b"<?xml"), "an export page starts with an XML declaration"
    root = etree.fromstring(document)
    strict = _export_schema()
    if not strict.validate(root):
        raise AssertionError(f"export page fails custom-store.xsd:\n{strict.error_log}\n{document[:2000]!r}")
    return root


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ShipStationStandIn:
    session: aiohttp.ClientSession
    url: str
    username: str
    password: str
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    statuses: StatusBoxes = field(default_factory=StatusBoxes)
    credentials_in_query: bool = False
    """Also append SS-UserName/SS-Password to the query, as ShipStation does."""
    now: Callable[[], datetime] = _utc_now
    last_refresh: datetime | None = None
    """The store's refresh date; the first refresh starts ``first_window`` before now."""
    first_window: timedelta = timedelta(hours=6)
    between_pages: Callable[[int], Awaitable[None]] | None = None
    """Called with the page just received, before the next is asked for (tests change data there)."""
    orders: dict[str, ImportedOrder] = field(default_factory=dict)
    ignored: dict[str, str] = field(default_factory=dict)
    """OrderID → the OrderStatus no status box lists (the order was not imported or updated)."""

    @classmethod
    def connected(
        cls, session: aiohttp.ClientSession, credentials: Mapping[str, Any], url: str | None = None, **options: Any
    ) -> ShipStationStandIn:
        """A store set up from the adapter's credentials answer, the status boxes pasted as printed."""
        # The boxes are pasted from the credentials answer unless the test fills them in itself.
        options.setdefault("statuses", StatusBoxes.from_status_names(credentials["status_names"]))
        return cls(
            session=session,
            url=url or credentials["url"],
            username=credentials["username"],
            password=credentials["password"],
            **options,
        )

    # --- what ShipStation sends -------------------------------------------------------------------

    def wall_time(self, instant: datetime) -> str:
        return instant.astimezone(self.zone).strftime(SHIPSTATION_DATETIME)

    def read_wall_time(self, text: str) -> datetime:
        return datetime.strptime(text, SHIPSTATION_DATETIME).replace(tzinfo=self.zone).astimezone(UTC)

    def with_credentials(self, query: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """The query and headers of a request: Basic auth, plus SS-UserName/SS-Password if so configured."""
        if self.credentials_in_query:
            query = {**query, "SS-UserName": self.username, "SS-Password": self.password}
        return query, basic_auth(self.username, self.password)

    async def export_page(self, start_date: str, end_date: str, page: int) -> tuple[int, bytes]:
        query, headers = self.with_credentials(
            {"action": "export", "start_date": start_date, "end_date": end_date, "page": str(page)}
        )
        async with self.session.get(f"{self.url}?{urlencode(query)}", headers=headers) as response:
            body = await response.read()
            if response.status == 200:
                assert response.content_type == "text/xml", response.content_type
                assert response.charset == "utf-8", response.charset
            return response.status, body

    async def refresh(self) -> RefreshResult:
        """One store refresh: ask for ``[last refresh, now]``, walk every page, import, move the refresh date."""
        now = self.now()
        start = self.last_refresh if self.last_refresh is not None else now - self.first_window
        start_date, end_date = self.wall_time(start), self.wall_time(now)
        result = RefreshResult(pages=0)
        page = 1
        while True:
            status, body = await self.export_page(start_date, end_date, page)
            if status != 200:
                raise AssertionError(f"export page {page} answered {status}: {body[:500]!r}")
            root = assert_valid_export(body)
            pages = int(root.get("pages") or "0")
            if page == 1:
                result.pages = pages
            received = [self._import(order) for order in root.iterfind("Order")]
            result.order_ids += received
            result.calls.append(ExportCall(start_date, end_date, page, pages, tuple(received)))
            # ShipStation asks for the pages announced by the first answer.
            if page >= result.pages:
                break
            if self.between_pages is not None:
                await self.between_pages(page)
            page += 1
        self.last_refresh = now
        return result

    def _import(self, element: etree._Element) -> str:
        order_id = element.findtext("OrderID") or ""
        order_status = element.findtext("OrderStatus") or ""
        status = self.statuses.shipstation_status(order_status)
        if status is None:
            self.ignored[order_id] = order_status
            return order_id
        self.ignored.pop(order_id, None)
        previous = self.orders.get(order_id)
        self.orders[order_id] = ImportedOrder(
            order_id=order_id,
            order_number=element.findtext("OrderNumber") or "",
            status=status,
            order_date=self.read_wall_time(element.findtext("OrderDate") or ""),
            last_modified=self.read_wall_time(element.findtext("LastModified") or ""),
            element=element,
            imports=previous.imports + 1 if previous else 1,
        )
        return order_id

    def by_number(self, order_number: str) -> ImportedOrder | None:
        return next((order for order in self.orders.values() if order.order_number == order_number), None)

    # --- shipment notices ------------------------------------------------------------------------

    def ship_notice(
        self,
        order: ImportedOrder,
        *,
        items: Sequence[ShippedItem] | None,
        carrier: str,
        service: str,
        tracking_number: str,
        ship_date: date,
        label_created_at: datetime | None,
        shipping_cost: Decimal,
        notes_to_customer: str | None,
        notify_customer: bool,
    ) -> bytes:
        """The ``<ShipNotice>`` ShipStation posts for one package of ``order``."""
        root = etree.Element("ShipNotice")

        def add(parent: etree._Element, tag: str, text: str | None) -> None:
            etree.SubElement(parent, tag).text = text

        add(root, "OrderNumber", order.order_number)
        add(root, "OrderID", order.order_id)
        add(root, "CustomerCode", order.element.findtext("Customer/CustomerCode"))
        add(root, "CustomerNotes", order.element.findtext("CustomerNotes"))
        add(root, "InternalNotes", order.element.findtext("InternalNotes"))
        add(root, "NotesToCustomer", notes_to_customer)
        add(root, "NotifyCustomer", "true" if notify_customer else "false")
        add(root, "LabelCreateDate", self.wall_time(label_created_at) if label_created_at else None)
        add(root, "ShipDate", ship_date.strftime("%m/%d/%Y"))
        add(root, "Carrier", carrier)
        add(root, "Service", service)
        add(root, "TrackingNumber", tracking_number)
        add(root, "ShippingCost", f"{shipping_cost:.2f}")
        for index in (1, 2, 3):
            add(root, f"CustomField{index}", order.element.findtext(f"CustomField{index}"))
        recipient = etree.SubElement(root, "Recipient")
        for tag in ("Name", "Company", "Address1", "Address2", "City", "State", "PostalCode", "Country"):
            add(recipient, tag, order.element.findtext(f"Customer/ShipTo/{tag}"))
        if items:
            items_element = etree.SubElement(root, "Items")
            for item in items:
                item_element = etree.SubElement(items_element, "Item")
                add(item_element, "SKU", item.sku)
                add(item_element, "Name", item.name or item.sku)
                add(item_element, "Quantity", str(item.quantity))
                if item.line_item_id is not None:
                    add(item_element, "LineItemID", item.line_item_id)
        return etree.tostring(root, xml_declaration=True, encoding="utf-8")

    async def post_notice(self, body: bytes, query: dict[str, str]) -> tuple[int, str]:
        query, headers = self.with_credentials({"action": "shipnotify", **query})
        headers = {**headers, "Content-Type": "application/xml; charset=utf-8"}
        async with self.session.post(f"{self.url}?{urlencode(query)}", data=body, headers=headers) as response:
            return response.status, await response.text()

    async def ship(
        self,
        order_id: str,
        *,
        items: Sequence[ShippedItem] | None = None,
        carrier: str = "UPS",
        service: str = "UPS® Ground",
        tracking_number: str = "1Z999AA10123456784",
        ship_date: date | None = None,
        label_created_at: datetime | None = None,
        shipping_cost: Decimal = Decimal("7.42"),
        notes_to_customer: str | None = None,
        notify_customer: bool = True,
        times: int = 1,
    ) -> list[int]:
        """Mark (part of) an imported order shipped: one notice per package, sent ``times`` times
        (ShipStation sends duplicates). The query's ``service`` is empty, as ShipStation often sends it."""
        order = self.orders[order_id]
        label_time = label_created_at or self.now()
        body = self.ship_notice(
            order,
            items=items,
            carrier=carrier,
            service=service,
            tracking_number=tracking_number,
            ship_date=ship_date or label_time.astimezone(self.zone).date(),
            label_created_at=label_time,
            shipping_cost=shipping_cost,
            notes_to_customer=notes_to_customer,
            notify_customer=notify_customer,
        )
        query = {
            "order_number": order.order_number,
            "carrier": carrier,
            "service": "",
            "tracking_number": tracking_number,
        }
        statuses = []
        for _ in range(times):
            status, text = await self.post_notice(body, query)
            assert status == 200, f"shipnotify answered {status}: {text}"
            statuses.append(status)
        return statuses
