"""Whole numbers read as JSON Schema's ``integer`` does: 2 and 2.0 are 2; nothing else is."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from shared.validation import WHOLE_NUMBER

PAGE_SIZE = TypeAdapter(Annotated[int, Field(ge=1, le=500, strict=True), WHOLE_NUMBER])


@pytest.mark.parametrize(("given", "read"), [(2, 2), (2.0, 2), (Decimal("3"), 3), (Decimal("5.000"), 5), (500, 500)])
def test_integral_numbers_are_accepted_as_integers(given: Any, read: int) -> None:
    value = PAGE_SIZE.validate_python(given)
    assert value == read and type(value) is int


@pytest.mark.parametrize(
    "given",
    [True, False, "2", 2.5, Decimal("0.1"), Decimal("1E+999999999"), float("inf"), float("nan"), 0, 501, None],
)
def test_anything_else_is_refused(given: Any) -> None:
    with pytest.raises(ValidationError):
        PAGE_SIZE.validate_python(given)


def test_the_json_schema_says_integer_with_its_bounds() -> None:
    assert PAGE_SIZE.json_schema() == {"type": "integer", "minimum": 1, "maximum": 500}
