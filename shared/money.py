"""Money as it crosses our HTTP edge: a decimal string with at most two places, never a float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

_MONEY = re.compile(r"^-?[0-9]{1,9}(\.[0-9]{1,2})?$")  # [0-9], not \d: \d takes any script's digits
CENT = Decimal("0.01")


def parse_money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError('money must be a decimal string such as "19.99", not a number')
    # Exactly the documented pattern: no surrounding spaces, ASCII digits only.
    text = value
    if not _MONEY.fullmatch(text):
        raise ValueError('money must be a decimal string with at most two decimal places, such as "19.99"')
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise ValueError("not a decimal amount") from None


def parse_non_negative_money(value: Any) -> Decimal:
    amount = parse_money(value)
    if amount < 0 or value.startswith("-"):  # "-0.00" too: the document's pattern has no sign
        raise ValueError("must not be negative")
    return amount


# The JSON schema says what the validators accept (a string), not what the Python type is (a Decimal
# would be documented as "number or string"): the OpenAPI documents are generated from it.
_MONEY_DESCRIPTION = 'A decimal string with at most two decimal places, such as "19.99"; never a JSON number.'
Money = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?[0-9]{1,9}(\.[0-9]{1,2})?$", "description": _MONEY_DESCRIPTION},
        mode="validation",
    ),
]
NonNegativeMoney = Annotated[
    Decimal,
    BeforeValidator(parse_non_negative_money),
    WithJsonSchema(
        {"type": "string", "pattern": r"^[0-9]{1,9}(\.[0-9]{1,2})?$", "description": _MONEY_DESCRIPTION},
        mode="validation",
    ),
]


def two_places(amount: Decimal) -> str:
    return str(amount.quantize(CENT))
