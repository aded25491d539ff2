"""The field types of a channel order as intake validates it: free text taken as channels send it,
identifiers with tight limits, weights, quantities and the order's date, each read exactly as the
OpenAPI document says."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints, WithJsonSchema

from shared.validation import WHOLE_NUMBER

FREE_TEXT_MAX_CHARS = 10_000
"""Shopify titles with variant names run past 255 characters; only absurd sizes are refused."""


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=FREE_TEXT_MAX_CHARS)]
"""Free text that must say something: a person's or product's name, an address line, a city."""
Note = Annotated[str, StringConstraints(max_length=FREE_TEXT_MAX_CHARS)]
"""Free text that may be empty: notes, a gift message, a shipping or payment method label."""
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
OrderNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
LineId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")]
WeightUnit = Literal["pounds", "ounces", "grams"]
WEIGHT_STEP = Decimal("0.01")


def _to_weight_step(value: Decimal) -> Decimal:
    # Channels send weights with whatever precision their scale gave (0.1234 lb); vendor formats
    # carry two decimals, so a finer weight is rounded rather than costing the merchant the order.
    return value.quantize(WEIGHT_STEP, rounding=ROUND_HALF_UP)


WEIGHT_TEXT = re.compile(r"^[0-9]{1,7}(\.[0-9]+)?$")


def _weight_value(value: Any) -> Any:
    # A JSON number (a fraction arrives as Decimal, see shared.http.read_json) or a decimal string
    # such as "6.50", exactly as the document's pattern says; pydantic alone would take more ("1e3", " 6").
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError('must be a number or a decimal string such as "6.50"')
    if isinstance(value, str) and not WEIGHT_TEXT.fullmatch(value):
        raise ValueError('must be a number or a decimal string such as "6.50"')
    return value


Weight = Annotated[
    Decimal,
    Field(ge=0, lt=Decimal("10000000")),  # below 10^7: what the string pattern's seven digits allow
    AfterValidator(_to_weight_step),
    BeforeValidator(_weight_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 10000000},
                {"type": "string", "pattern": WEIGHT_TEXT.pattern},
            ]
        }
    ),
]
CHANNEL_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
MAX_QUANTITY = 99_999


Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY, strict=True), WHOLE_NUMBER]

_ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$")


def _date_time_text(value: Any) -> Any:
    # pydantic alone also takes a number, or a string of digits, as Unix time: not what the schema says.
    if not isinstance(value, str) or not _ISO_DATE_TIME.match(value.strip()):
        raise ValueError("must be an ISO 8601 date and time with its timezone offset, e.g. 2026-11-26T23:41:00-06:00")
    return value


OrderedAt = Annotated[AwareDatetime, BeforeValidator(_date_time_text)]
