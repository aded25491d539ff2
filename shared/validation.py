"""Request field types that read JSON the way the OpenAPI documents (JSON Schema) say it."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from pydantic import BeforeValidator

LARGEST_WHOLE_NUMBER = 2**63 - 1
"""Beyond what any field of ours takes; a larger number is refused before it is converted."""


def whole_number(value: Any) -> Any:
    """``value`` as an int when it is a number without a fraction; anything else is left to pydantic or refused."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    if isinstance(value, Decimal | float):
        # Checked before converting: int() of 1E+999999999 would build a billion-digit number.
        # (abs() would round a Decimal in its context and overflow; a comparison does not.)
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if not finite or not -LARGEST_WHOLE_NUMBER <= value <= LARGEST_WHOLE_NUMBER or value != int(value):
            raise ValueError("must be a whole number")
        return int(value)
    return value


WHOLE_NUMBER = BeforeValidator(whole_number)
"""Put last on an ``integer`` field, after its bounds and ``strict=True``, so that the OpenAPI document
keeps the bounds: ``Annotated[int, Field(ge=1, le=500, strict=True), WHOLE_NUMBER]``. JSON Schema's
integer is any number without a fraction, so ``2.0`` is 2; booleans, strings and fractions are
refused. (Numbers with a fraction arrive as ``Decimal``, see ``shared.http.read_json``, or as
``float``.)"""
