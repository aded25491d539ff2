"""A partner's ``x12`` settings as the connection gives them, what they refuse, and how a caller
acknowledges a whole file (a 997 per group but never for 997s, a TA1 only when asked)."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from pydantic import ValidationError

from services.gateway.x12 import (
    AcknowledgementRefused,
    ControlNumbers,
    PartnerSettings,
    read_file,
    render_functional_ack,
)
from services.gateway.x12.values import parse_date, parse_decimal, parse_quantity, parse_time
from tests.unit.gateway.x12 import NOW, fixture, partner

CONNECTION_EXAMPLE: dict[str, Any] = {
    "version": "004010", "sender_qualifier": "ZZ", "sender_id": "MERCHANT", "receiver_qualifier": "ZZ",
    "receiver_id": "ACMEDIST", "usage": "P", "acknowledgement_requested": True, "cancel_as": "850",
    "ack_997_within_hours": 24, "ack_dir": "/orders",
    "ack_codes": {"accepted": ["IA", "AC"], "backordered": ["IB", "BP"], "rejected": ["IR", "R2"]},
}  # fmt: skip


def test_the_documented_connection_example_is_valid() -> None:
    settings = PartnerSettings.model_validate(CONNECTION_EXAMPLE)
    assert settings.ack_dir == "/orders" and settings.ack_codes.status_of("BP") == "backordered"
    assert settings.delimiters.repetition is None
    assert partner(version="005010").delimiters.repetition == "^"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": "blue"}, "Extra inputs"),
        ({"sender_id": "A" * 16}, "at most 15"),
        ({"receiver_id": ""}, "at least 1"),
        ({"sender_qualifier": "Z"}, "at least 2"),
        ({"element_separator": "A"}, "cannot be a delimiter"),
        ({"segment_terminator": "-"}, "cannot be a delimiter"),
        ({"component_separator": "**"}, "one printable ASCII"),
        ({"segment_terminator": "\n"}, "one printable ASCII"),
        ({"component_separator": "*"}, "must differ"),
        ({"version": "005010", "repetition_separator": ">"}, "must differ"),
        ({"sender_id": "MER*CHANT"}, "contains a delimiter"),
        ({"sender_id": " MERCHANT"}, "leading or trailing"),
        ({"version": "003040"}, "004010"),
        ({"ack_997_within_hours": 0}, "greater than or equal to 1"),
    ],
)
def test_settings_that_would_break_an_interchange_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PartnerSettings.model_validate({**CONNECTION_EXAMPLE, **changes})


def test_a_4010_partner_may_reuse_the_unused_repetition_character() -> None:
    assert partner(component_separator="^").component_separator == "^"


def test_acknowledging_a_file_skips_997_groups_and_gives_a_ta1_only_when_asked() -> None:
    content = fixture("po_ack_855.x12") + fixture("functional_ack_997.x12") + fixture("ship_notice_856.x12")
    result = read_file(content)
    answered: list[tuple[int, str]] = []
    number = 40
    for interchange in result.interchanges:
        for group in interchange.groups:
            if group.functional_id == "FA":
                with pytest.raises(AcknowledgementRefused):
                    render_functional_ack(interchange, group, partner(), ControlNumbers(number, number, 1), NOW)
                continue
            render_functional_ack(interchange, group, partner(), ControlNumbers(number, number, 1), NOW)
            answered.append((interchange.control_number, group.functional_id))
            number += 1
    assert answered == [(501, "PR"), (502, "SH")]
    assert [interchange.ack_requested for interchange in result.interchanges] == [True, False, False]


def test_element_values_that_are_not_what_they_claim() -> None:
    assert (
        parse_date("20261301") is None
        and parse_date("2026-12-01") is None
        and parse_date("261201") == date(2026, 12, 1)
    )
    assert parse_time("0830") == time(8, 30) and parse_time("083015") == time(8, 30, 15) and parse_time("2561") is None
    assert parse_decimal("1e5") is None and parse_decimal(".5") is not None and parse_decimal("") is None
    assert parse_quantity("3.0") == 3 and parse_quantity("3.5") is None and parse_quantity("NaN") is None
