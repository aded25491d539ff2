"""The bodies of the splitter's admin commands, validated: what its use cases take and what its
OpenAPI document describes (field descriptions say what the validation does beyond the schema)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

from services.splitter.routing import Source
from shared.contracts.vendors import VendorKind
from shared.money import NonNegativeMoney
from shared.validation import WHOLE_NUMBER

_JSON_INTEGER = 'A whole JSON number: 5 (or 5.0), not 5.5 or "5".'
MAX_STOCK = 1_000_000_000


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

    def to_source(self) -> Source:
        return Source(self.vendor, self.vendor_sku, self.cost, self.stock, self.priority)


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
