"""The bodies of the splitter's admin commands, validated: what its use cases take and what its
OpenAPI document describes (field descriptions say what the validation does beyond the schema)."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from typing_extensions import TypeAliasType

from services.splitter.routing.model import STRATEGIES, HoldRules, RoutingSettings, Strategy
from services.splitter.store.catalog import SourceEntry
from services.splitter.store.vendors import Vendor
from shared.contracts.envelope import utc_now
from shared.contracts.inventory import FeedMode, InventoryUpdatedData, StockLevel
from shared.contracts.orders import ChannelOrderStatus, Discount, OrderLine, OrderReceivedData
from shared.contracts.vendors import VendorKind
from shared.countries import ISO_COUNTRY_CODES
from shared.money import NonNegativeMoney
from shared.validation import WHOLE_NUMBER

_JSON_INTEGER = 'A whole JSON number: 5 (or 5.0), not 5.5 or "5".'
MAX_STOCK = 1_000_000_000


Hours = Annotated[int, Field(ge=1, le=24 * 365, strict=True), WHOLE_NUMBER]
Ratio = Annotated[
    Decimal,
    Field(ge=0, le=1),
    AfterValidator(lambda ratio: ratio.quantize(Decimal("0.001"))),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 1},
                {"type": "string", "pattern": "^(0(\\.[0-9]+)?|1(\\.0+)?|\\.[0-9]+)$"},
            ]
        }
    ),
]
"""A share from 0 to 1, kept to three places."""
CountryCode = Annotated[
    str,
    StringConstraints(min_length=2, max_length=2),
    Field(json_schema_extra={"enum": sorted(ISO_COUNTRY_CODES)}),
]

JsonSetting = TypeAliasType(
    "JsonSetting", "str | int | float | bool | list[JsonSetting] | dict[str, JsonSetting] | None"
)
"""Any JSON value: named, so the document describes it once (its strings, at any depth, without U+0000)."""


class VendorRequest(BaseModel):
    """``PUT /v1/vendors/{code}``: kind-specific settings go in ``settings``; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="Leading and trailing whitespace is removed first; 1-200 characters must remain."
    )
    kind: VendorKind = Field(description="How the vendor receives its orders.")
    settings: dict[str, JsonSetting] = Field(default_factory=dict, description="Stored and answered as given.")
    active: bool = Field(default=True, description="false: the vendor gets no new vendor orders.")
    countries: list[CountryCode] = Field(
        default_factory=list, max_length=250, description="ISO 3166-1 alpha-2 codes it ships to; empty: everywhere."
    )
    accepts_backorders: bool = False
    handling_fee: NonNegativeMoney = Field(
        default=Decimal("0"), description="Per vendor order; shared by the order's lines the vendor can take."
    )
    stock_buffer: Annotated[int, Field(ge=0, le=MAX_STOCK, strict=True), WHOLE_NUMBER] = Field(
        default=0, description=f"Units held back from every SKU's stock. {_JSON_INTEGER}"
    )
    feed_stale_after_hours: Hours | None = Field(
        default=None, description="Stock older than this counts as unknown (not in stock); null: never stale."
    )
    ack_deadline_hours: Hours | None = Field(
        default=None, description="No acknowledgement by then: the vendor order is rerouted (or held); null: none."
    )
    min_inventory_rows: Annotated[int, Field(ge=0, le=MAX_STOCK, strict=True), WHOLE_NUMBER] | None = Field(
        default=None, description="A snapshot feed with fewer rows is quarantined."
    )
    feed_max_drop_ratio: Ratio = Field(
        default=Decimal("0.5"), description="A snapshot whose total stock falls by more than this is quarantined."
    )
    feed_max_zeroed_ratio: Ratio = Field(
        default=Decimal("0.5"),
        description="A snapshot that zeroes more than this share of stocked SKUs is quarantined.",
    )

    @field_validator("countries")
    @classmethod
    def _known_countries(cls, countries: list[str]) -> list[str]:
        upper = [code.upper() for code in countries]
        unknown = [code for code in upper if code not in ISO_COUNTRY_CODES]
        if unknown:
            raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(unknown)}")
        return sorted(set(upper))

    def to_vendor(self, code: str) -> Vendor:
        return Vendor(
            code=code,
            name=self.name,
            kind=self.kind,
            settings=self.settings,
            active=self.active,
            countries=tuple(self.countries),
            accepts_backorders=self.accepts_backorders,
            handling_fee=self.handling_fee,
            stock_buffer=self.stock_buffer,
            feed_stale_after_hours=self.feed_stale_after_hours,
            ack_deadline_hours=self.ack_deadline_hours,
            min_inventory_rows=self.min_inventory_rows,
            feed_max_drop_ratio=self.feed_max_drop_ratio,
            feed_max_zeroed_ratio=self.feed_max_zeroed_ratio,
        )


class SourceRequest(BaseModel):
    """A vendor that ships the SKU; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")
    vendor: str = Field(
        description="The code of a vendor that exists (else 422, naming this field); each vendor once per SKU."
    )
    vendor_sku: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        default=None, description="The vendor's own SKU, when it differs from ours."
    )
    cost: NonNegativeMoney | None = None
    stock: Annotated[int, Field(ge=0, le=MAX_STOCK, strict=True), WHOLE_NUMBER] | None = Field(
        default=None, description=f"Units in stock; null: not tracked (counts as in stock). {_JSON_INTEGER}"
    )
    priority: Annotated[int, Field(ge=0, le=1_000_000, strict=True), WHOLE_NUMBER] = Field(
        default=100, description=f"The lowest number with the stock wins. {_JSON_INTEGER}"
    )

    def to_entry(self) -> SourceEntry:
        return SourceEntry(self.vendor, self.vendor_sku, self.cost, self.stock, self.priority)


class CatalogRequest(BaseModel):
    """``PUT /v1/catalog/{sku}``; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")
    name: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Null or left out: the name stored before is kept."
    )
    sources: list[SourceRequest] = Field(
        default_factory=list,
        max_length=50,
        description="Replace every source the SKU had; none: orders for it are held until it has one. "
        "A vendor twice is refused (422, `fields.sources`).",
    )


class HoldRulesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unpaid: bool = Field(default=True, description="Hold orders the channel marks unpaid until they are paid.")
    max_order_value: NonNegativeMoney | None = Field(
        default=None, description="Hold orders worth more (in the order's currency); null: no limit."
    )
    po_box: bool = Field(default=False, description="Hold orders shipping to a PO box.")
    duplicate_window_minutes: Annotated[int, Field(ge=0, le=60 * 24 * 30, strict=True), WHOLE_NUMBER] = Field(
        default=60, description="Hold an order with the same customer, ship-to and lines as one this recent; 0: off."
    )


class RoutingSettingsRequest(BaseModel):
    """``PUT /v1/routing/settings``."""

    model_config = ConfigDict(extra="forbid")
    strategy: Strategy = Field(default="priority", description=f"One of {', '.join(STRATEGIES)}.")
    prefer_single_vendor: bool = False
    split_quantities: bool = False
    holds: HoldRulesRequest = Field(default_factory=HoldRulesRequest)

    def to_settings(self) -> RoutingSettings:
        rules = self.holds
        return RoutingSettings(
            self.strategy,
            self.prefer_single_vendor,
            self.split_quantities,
            HoldRules(rules.unpaid, rules.max_order_value, rules.po_box, rules.duplicate_window_minutes),
        )


class ReleaseRequest(BaseModel):
    """``POST /v1/orders/{order_id}/release``."""

    model_config = ConfigDict(extra="forbid")
    overrides: dict[Annotated[str, StringConstraints(min_length=1, max_length=50)], str] = Field(
        default_factory=dict, max_length=500, description="line_id → the vendor to send it to (it must carry the SKU)."
    )


Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class DraftLine(BaseModel):
    model_config = ConfigDict(extra="ignore")
    line_id: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    sku: Identifier
    name: str = ""
    quantity: Annotated[int, Field(ge=1, le=MAX_STOCK, strict=True), WHOLE_NUMBER]
    unit_price: NonNegativeMoney = Decimal("0")


class DraftShipTo(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = ""
    address1: str = ""
    address2: str | None = None
    city: str = ""
    state: str | None = None
    postal_code: str = ""
    country: CountryCode

    @field_validator("country")
    @classmethod
    def _country(cls, country: str) -> str:
        if country.upper() not in ISO_COUNTRY_CODES:
            raise ValueError("not an ISO 3166-1 alpha-2 country code")
        return country.upper()


class DraftDiscount(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: Annotated[str, StringConstraints(max_length=100)] = ""
    amount: NonNegativeMoney


class PreviewRequest(BaseModel):
    """``POST /v1/routing/preview``: an order as intake takes it (the fields routing reads; others ignored)."""

    model_config = ConfigDict(extra="ignore")
    channel: str = "preview"
    external_id: str = "preview"
    order_number: str = "PREVIEW"
    status: ChannelOrderStatus = "paid"
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] = "USD"
    lines: list[DraftLine] = Field(min_length=1, max_length=500)
    ship_to: DraftShipTo
    tax_amount: NonNegativeMoney = Decimal("0")
    shipping_amount: NonNegativeMoney = Decimal("0")
    discounts: list[DraftDiscount] = Field(default_factory=list, max_length=50)

    def to_order(self) -> OrderReceivedData:
        return OrderReceivedData(
            order_id="preview",
            channel=self.channel,
            external_id=self.external_id,
            order_number=self.order_number,
            ordered_at=utc_now(),
            status=self.status,
            currency=self.currency.upper(),
            ship_to=self.ship_to.model_dump(),
            tax_amount=self.tax_amount,
            shipping_amount=self.shipping_amount,
            discounts=[Discount(code=d.code, amount=d.amount) for d in self.discounts],
            lines=[
                OrderLine(
                    line_id=line.line_id or str(index),
                    sku=line.sku,
                    name=line.name or line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for index, line in enumerate(self.lines, start=1)
            ],
        )


class InventoryItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vendor_sku: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    sku: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    quantity: Annotated[int, Field(ge=0, le=MAX_STOCK, strict=True), WHOLE_NUMBER]

    @model_validator(mode="after")
    def _names_a_product(self) -> InventoryItem:
        if not self.sku and not self.vendor_sku:
            raise ValueError("an item names a vendor_sku (or our sku)")
        return self


class InventoryRequest(BaseModel):
    """``PUT /v1/stock/{vendor}``: a stock feed posted by ops, the body of the vendor API's inventory route."""

    model_config = ConfigDict(extra="forbid")
    mode: FeedMode = Field(description="snapshot: every SKU of the vendor (one left out has 0); delta: only these.")
    as_of: AwareDatetime | None = Field(default=None, description="When the vendor counted; default: now.")
    items: list[InventoryItem] = Field(max_length=200_000)

    def to_feed(self, vendor: str) -> InventoryUpdatedData:
        levels = [StockLevel(sku=i.sku, vendor_sku=i.vendor_sku, stock=i.quantity) for i in self.items]
        digest = hashlib.sha256(
            f"{vendor}|{self.mode}|{self.as_of}|".encode() + self.model_dump_json(include={"items"}).encode()
        ).hexdigest()[:32]
        # The same feed posted twice is one feed (idempotent by content); without as_of, each post is new.
        feed_id = f"ops_{digest}" if self.as_of is not None else None
        return InventoryUpdatedData(
            vendor=vendor,
            mode=self.mode,
            as_of=self.as_of,
            source="ops",
            levels=levels,
            **({"feed_id": feed_id} if feed_id else {}),
        )
